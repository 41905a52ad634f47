//! `tracemark summary`: the public summary of training content (AI Act Art. 53(1)(d)) of
//! an indexed corpus, on the AI Office's template.

use std::path::PathBuf;

use clap::Args;
use tracemark::{
    Result, corpus,
    policy::{Date, summary::ProviderInfo},
    summary,
};

use super::corpus::TokenizerArg;
use crate::Output;

#[derive(Debug, Args)]
pub struct SummaryArgs {
    /// The training corpus's indexes (repeatable; one summary covers them all).
    #[arg(long = "index", value_name = "DIR", required = true)]
    indexes: Vec<PathBuf>,
    #[command(flatten)]
    tokenizer: TokenizerArg,
    /// The provider's TOML file: the template's fields the corpus cannot know, the
    /// summary's `version`, `sme`, `crawler_agent` and the `previous` version's
    /// summary.json. Without it, those fields are left for the provider to fill.
    #[arg(long, value_name = "FILE")]
    provider_info: Option<PathBuf>,
    /// The summary's date of last update [default: today].
    #[arg(long, value_name = "YYYY-MM-DD")]
    date: Option<Date>,
    /// The folder to write summary.json, summary.html and the domain lists into.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

pub fn run(args: SummaryArgs) -> Result<Output> {
    let info = match &args.provider_info {
        Some(path) => summary::read_provider_info(path)?,
        None => ProviderInfo::default(),
    };
    let tokenizer = args.tokenizer.tokenizer.as_deref();
    let indexes = args
        .indexes
        .iter()
        .map(|dir| corpus::open(dir, tokenizer))
        .collect::<Result<Vec<_>>>()?;
    let census = summary::census(&indexes, info.crawler_agent.as_deref())?;
    let written = summary::write(
        &census,
        &info,
        args.date.unwrap_or_else(Date::today),
        &args.out,
    )?;
    let mut human = format!(
        "the training summary of {} documents ({} domains): {}\n  page: {}\n  domain list: {}\n  sha256 {}",
        census.documents,
        census.domains.len(),
        written.summary.display(),
        written.html.display(),
        written.top_domains.display(),
        written.sha256
    );
    if !written.to_fill.is_empty() {
        human.push_str(&format!(
            "\n  {} fields are left for the provider to fill (--provider-info): {}",
            written.to_fill.len(),
            written.to_fill.join(", ")
        ));
    }
    Ok(Output::new(&written, human))
}
