//! `tracemark rights check`: the rights signals of a saved file, decided per use.

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
};

use clap::Subcommand;
use tracemark::{Error, Result, core::Timestamp};

use super::print::json_name;
use crate::Output;

#[derive(Debug, Subcommand)]
pub enum RightsCommand {
    /// Read one saved signal file (robots.txt, tdmrep.json, ai.txt, an RSL licence, an
    /// HTML page, or an HTTP response with headers) and print the decision per use.
    Check {
        /// The file to read.
        file: PathBuf,
        /// The asset the question is about (site-wide rules are evaluated for its path).
        #[arg(long, value_name = "URL")]
        asset: Option<String>,
        /// When the file was fetched (RFC 3339) [default: the file's modification time].
        #[arg(long, value_name = "TIME")]
        seen_at: Option<String>,
        /// The file's format when its name does not say (robots-txt, tdmrep-json, ai-txt, rsl,
        /// html, http-response, training-mining).
        #[arg(long)]
        format: Option<String>,
    },
}

pub(super) fn run(cmd: RightsCommand) -> Result<Output> {
    let RightsCommand::Check {
        file,
        asset,
        seen_at,
        format,
    } = cmd;
    check(
        &file,
        asset.as_deref(),
        seen_at.as_deref(),
        format.as_deref(),
    )
}

fn check(
    file: &Path,
    asset: Option<&str>,
    seen_at: Option<&str>,
    format: Option<&str>,
) -> Result<Output> {
    use tracemark::rights::Format;
    let text = file.to_string_lossy();
    if text.starts_with("http://") || text.starts_with("https://") {
        return Err(Error::usage(
            format!("{text}: this build reads saved files, it does not fetch URLs"),
            Some(
                "save the response (e.g. `curl -si URL > robots.http`) and pass the file"
                    .to_owned(),
            ),
        ));
    }
    let seen_at = match seen_at {
        Some(t) => t
            .parse::<Timestamp>()
            .map_err(|e| Error::usage(e.to_string(), None))?,
        None => std::fs::metadata(file)
            .and_then(|m| m.modified())
            .ok()
            .map(Timestamp::from)
            .unwrap_or_else(Timestamp::now),
    };
    let format = format
        .map(str::parse::<Format>)
        .transpose()
        .map_err(|e| Error::usage(e.to_string(), None))?;
    let report = tracemark::rights::check_file(file, asset, seen_at, format)?;
    let mut human = format!(
        "{} ({:?}), seen {}\n",
        report.source, report.format, report.seen_at
    );
    for d in &report.decisions {
        let _ = writeln!(
            human,
            "  {:<12} {}",
            json_name(&d.usage),
            json_name(&d.permission)
        );
        for s in &d.signals {
            // A signal about a wider use (ai-train) also decides a narrower one.
            let via = if s.usage == d.usage {
                String::new()
            } else {
                format!(" via {}", json_name(&s.usage))
            };
            let _ = writeln!(
                human,
                "      {} {}{via}: {} ({})",
                json_name(&s.kind),
                json_name(&s.permission),
                s.raw.trim(),
                s.source
            );
        }
    }
    for a in &report.agents {
        let reserved: Vec<_> = a
            .decisions
            .iter()
            .filter(|d| d.permission == tracemark::core::rights::Permission::Disallowed)
            .collect();
        if !reserved.is_empty() {
            let uses: Vec<_> = reserved.iter().map(|d| json_name(&d.usage)).collect();
            let _ = writeln!(
                human,
                "  agent {}: reserved for {}",
                a.agent,
                uses.join(", ")
            );
        }
    }
    for note in &report.notes {
        let _ = writeln!(human, "  note: {note}");
    }
    Ok(Output::new(&report, human))
}
