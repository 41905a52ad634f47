//! `tracemark index ...`, `tracemark count` and `tracemark trace`: corpus indexes.

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
    time::Duration,
};

use clap::{Args, Subcommand};
use tracemark::{
    Error, Result, collection,
    core::{Timestamp, rights::AiUse},
    corpus::{self, BuildStage},
    log::LogSite,
    trace::{Tombstone, TraceOptions, TraceReport, sharded, withdraw},
};

use super::{input::read_text, print::json_name};
use crate::Output;

#[derive(Debug, Subcommand)]
pub enum IndexCommand {
    /// Index corpora (JSON Lines files, Parquet files with the same columns, folders of
    /// text files with `NAME.meta.json`).
    Build {
        /// The index directory to create (never written over).
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        tokenizer: TokenizerArg,
        /// Cut the corpus into this many partitions of whole documents (about equal
        /// bytes), each indexed apart, with a manifest naming them: a sharded index,
        /// whose parts shard servers can serve on separate machines.
        #[arg(long, value_name = "N")]
        shards: Option<usize>,
        /// Build only partition K (from 0) of the `--shards` cut, for a build spread over
        /// machines that read the same corpus; the last part built writes the manifest.
        #[arg(long, value_name = "K", requires = "shards")]
        only: Option<usize>,
        #[command(flatten)]
        collection: CollectionArgs,
        /// Record each document's rights decision at collection in the configured log
        /// (a collection record a document: included, excluded, withdrawn), so that
        /// `rights prove` can show per URL that reservations were honoured.
        #[arg(long, conflicts_with = "shards")]
        log: bool,
        /// Leave out the documents whose reservations in force when they were collected
        /// bar generative training (for `--crawler`); they are listed in the index's
        /// `excluded.jsonl` and, with `--log`, logged as excluded.
        #[arg(long, conflicts_with = "shards")]
        exclude_reserved: bool,
        #[arg(required = true)]
        corpora: Vec<PathBuf>,
    },
    /// Record the collection of an index in the configured log (what `build --log`
    /// does): a record for each document, each one excluded, each withdrawal. Records the
    /// log already holds are not appended again, so an interrupted run is finished by
    /// running it again.
    Log {
        dir: PathBuf,
        #[command(flatten)]
        collection: CollectionArgs,
    },
    /// Write the manifest of a sharded index from its parts (`DIR/part-NNNNN`, built
    /// apart), after checking that they are one corpus's partitions.
    Assemble { dir: PathBuf },
    /// What an index holds.
    Info {
        dir: PathBuf,
        #[command(flatten)]
        tokenizer: TokenizerArg,
        /// Also check every file's SHA-256 against the shard manifests.
        #[arg(long)]
        verify: bool,
    },
    /// Withdraw a document whose owner opted out after indexing: queries stop citing it
    /// as a live source and report it as withdrawn, with when.
    Withdraw {
        dir: PathBuf,
        /// The document id.
        #[arg(long)]
        id: String,
        #[arg(long, default_value = "withdrawn by its rights holder")]
        reason: String,
        /// When it was withdrawn (RFC 3339) [default: now].
        #[arg(long)]
        at: Option<Timestamp>,
    },
}

/// Whose reservations count, and how collection records name URLs.
#[derive(Debug, Args)]
pub struct CollectionArgs {
    /// The crawler whose reservations count (a robots.txt product token)
    /// [default: `*`, any AI agent].
    #[arg(long, value_name = "AGENT", default_value = "*")]
    crawler: String,
    /// Name URLs in the open in the log's collection records, instead of salted
    /// commitments (which keep the crawl list out of the public log).
    #[arg(long)]
    publish_urls: bool,
}

/// The tokenizer an index was built with, when it is not the byte-level default.
#[derive(Debug, Args)]
pub struct TokenizerArg {
    /// A model directory or tokenizer file whose tokenizer the index uses
    /// [default: bytes, as infini-gram's byte-level corpora].
    #[arg(long, value_name = "PATH")]
    pub tokenizer: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CountArgs {
    #[arg(long)]
    index: PathBuf,
    #[command(flatten)]
    tokenizer: TokenizerArg,
    /// The n-gram to count, as text.
    text: String,
}

#[derive(Debug, Args)]
pub struct TraceArgs {
    #[arg(long)]
    index: PathBuf,
    #[command(flatten)]
    tokenizer: TokenizerArg,
    /// Shortest span reported, in index tokens [default: 32, about six words of bytes].
    #[arg(long)]
    min_tokens: Option<usize>,
    /// Report every maximal span, not only the rarest 5% (OLMoTrace's filter).
    #[arg(long)]
    all_spans: bool,
    /// The use whose opt-outs are reported (tdm, ai-train, genai-train, ai-input,
    /// ai-index, search).
    #[arg(long, default_value = "genai-train", value_parser = parse_use)]
    usage: AiUse,
    /// The output to trace (`-` for standard input).
    file: PathBuf,
}

pub fn index(cmd: IndexCommand, config: Option<&Path>) -> Result<Output> {
    match cmd {
        IndexCommand::Build {
            out,
            tokenizer,
            shards: Some(shards),
            only,
            corpora,
            ..
        } => {
            let tokenizer = corpus::index_tokenizer(tokenizer.tokenizer.as_deref())?;
            let bar = spinner();
            let done = corpus::build_sharded(
                &out,
                &corpora,
                tokenizer.as_ref(),
                shards,
                only,
                &mut |stage| bar.set_message(progress(stage)),
            );
            bar.finish_and_clear();
            let done = done?;
            let mut human = String::new();
            for part in &done.built {
                let _ = writeln!(
                    human,
                    "Indexed {} documents, {} tokens at {}",
                    part.documents,
                    part.tokens,
                    part.path.display()
                );
            }
            let _ = match &done.manifest {
                Some(m) => write!(
                    human,
                    "Sharded index of {} parts at {}",
                    m.shards.len(),
                    done.path.display()
                ),
                None => write!(
                    human,
                    "{} part(s) of {shards} still to build: the last one built writes the manifest",
                    (0..shards)
                        .filter(|k| !done.path.join(sharded::part_name(*k)).exists())
                        .count()
                ),
            };
            Ok(Output::new(&done, human))
        }
        IndexCommand::Assemble { dir } => {
            let manifest = sharded::assemble(&dir)?;
            let human = format!(
                "Sharded index of {} parts, {} documents, at {}",
                manifest.shards.len(),
                manifest.shards.iter().map(|s| s.documents).sum::<u64>(),
                dir.display()
            );
            Ok(Output::new(&manifest, human))
        }
        IndexCommand::Build {
            out,
            tokenizer,
            shards: None,
            only: _,
            collection: how,
            log,
            exclude_reserved,
            corpora,
        } => {
            // The log is checked before the build, so that a bad configuration costs
            // nothing.
            let site = log.then(|| LogSite::locate(None, config)).transpose()?;
            let tokenizer = corpus::index_tokenizer(tokenizer.tokenizer.as_deref())?;
            let actor = exclude_reserved.then(|| collection::actor(&how.crawler));
            let bar = spinner();
            let summary = corpus::build(
                &out,
                &corpora,
                tokenizer.as_ref(),
                actor.as_ref(),
                &mut |stage| bar.set_message(progress(stage)),
            );
            bar.finish_and_clear();
            let summary = summary?;
            let mut human = format!(
                "Indexed {} documents, {} tokens, in {} shard(s) at {}\n  {:.2} bytes per token on disk",
                summary.documents,
                summary.tokens,
                summary.shards,
                summary.path.display(),
                summary.bytes_on_disk as f64 / summary.tokens.max(1) as f64
            );
            if summary.ingest.skipped() > 0 {
                let _ = write!(
                    human,
                    "\n  skipped {} empty and {} non-UTF-8 documents (e.g. {})",
                    summary.ingest.skipped_empty,
                    summary.ingest.skipped_invalid_utf8,
                    summary.ingest.skipped_examples.join(", ")
                );
            }
            if exclude_reserved {
                let _ = write!(
                    human,
                    "\n  left out {} documents reserved at collection (excluded.jsonl)",
                    summary.excluded
                );
            }
            let mut json = serde_json::to_value(&summary).expect("the summary serialises");
            if let Some(site) = site {
                let logged = collection::log_index(&site, &out, &how.crawler, how.publish_urls)?;
                human.push('\n');
                human.push_str(&logged_line(&logged));
                json["collection"] = serde_json::to_value(&logged).expect("serialises");
            }
            Ok(Output::new(json, human))
        }
        IndexCommand::Log {
            dir,
            collection: how,
        } => {
            let site = LogSite::locate(None, config)?;
            let logged = collection::log_index(&site, &dir, &how.crawler, how.publish_urls)?;
            let human = logged_line(&logged);
            Ok(Output::new(&logged, human))
        }
        IndexCommand::Info {
            dir,
            tokenizer,
            verify,
        } => {
            let index = corpus::open(&dir, tokenizer.tokenizer.as_deref())?;
            if verify {
                index.verify()?;
            }
            let info = corpus::info(&index);
            let human = format!(
                "{}\n  {} documents, {} tokens, {} shard(s), {:.2} bytes per token\n  tokenizer {} ({}, {} ids)\n  withdrawn documents: {}{}",
                info.path.display(),
                info.documents,
                info.tokens,
                info.shards,
                info.bytes_per_token,
                info.tokenizer.name,
                info.tokenizer.identity,
                info.tokenizer.vocab_size,
                info.withdrawn,
                if verify {
                    "\n  every file's checksum verified"
                } else {
                    ""
                }
            );
            Ok(Output::new(&info, human))
        }
        IndexCommand::Withdraw {
            dir,
            id,
            reason,
            at,
        } => {
            let tombstone = Tombstone {
                id,
                withdrawn_at: at.unwrap_or_else(Timestamp::now),
                reason: Some(reason),
            };
            withdraw(&dir, &tombstone)?;
            let mut human = format!(
                "{} withdrawn at {}: queries now report it as withdrawn",
                tombstone.id, tombstone.withdrawn_at
            );
            let mut json = serde_json::to_value(&tombstone).expect("serialises");
            // An index whose collection is logged logs its withdrawals too. The
            // withdrawal is in force first; logging it again later appends nothing twice.
            if collection::CollectionLog::of_index(&dir)?.is_some() {
                let site = LogSite::locate(None, config)?;
                let logged = collection::log_withdrawal(&site, &dir, &tombstone).map_err(|e| {
                    Error::usage(
                        format!("the withdrawal is in force but not logged: {e}"),
                        Some("run the same `index withdraw` again to log it".into()),
                    )
                })?;
                if let Some(index) = logged {
                    let _ = write!(human, "\n  logged as a collection record at index {index}");
                }
                json["logged_at_index"] = logged.into();
            }
            Ok(Output::new(json, human))
        }
    }
}

fn logged_line(l: &collection::LoggedCollection) -> String {
    format!(
        "Collection records in log {}: {} included, {} excluded, {} withdrawn appended; {} already there; {} documents without a URL",
        l.origin, l.included, l.excluded, l.withdrawn, l.already_logged, l.without_url
    )
}

fn spinner() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

fn progress(stage: BuildStage) -> String {
    match stage {
        BuildStage::Reading { documents } => format!("{documents} documents read"),
        BuildStage::Finishing => "sorting suffixes, writing shards".to_owned(),
    }
}

pub fn count(args: CountArgs) -> Result<Output> {
    let index = corpus::open(&args.index, args.tokenizer.tokenizer.as_deref())?;
    let count = index.count(&args.text)?;
    Ok(Output::new(
        serde_json::json!({ "count": count, "query": args.text }),
        count.to_string(),
    ))
}

pub fn trace(args: TraceArgs) -> Result<Output> {
    let index = corpus::open(&args.index, args.tokenizer.tokenizer.as_deref())?;
    let text = read_text(&args.file)?;
    let defaults = TraceOptions::default();
    let options = TraceOptions {
        min_tokens: args.min_tokens.unwrap_or(defaults.min_tokens),
        keep_fraction: if args.all_spans {
            None
        } else {
            defaults.keep_fraction
        },
        usage: args.usage,
        ..defaults
    };
    let report = tracemark::trace::trace(&index, &text, &options)?;
    let human = describe(&report, &args.file);
    Ok(Output::new(&report, human))
}

/// The human form of a trace: coverage, then each span with its sources and their rights.
fn describe(report: &TraceReport, file: &Path) -> String {
    let mut out = format!(
        "{}: {:.1}% of {} bytes found verbatim in the corpus ({} maximal spans, {} shown)\n",
        file.display(),
        100.0 * report.coverage,
        report.output_bytes,
        report.spans_total,
        report.spans.len()
    );
    for span in &report.spans {
        let excerpt: String = span.text.chars().take(72).collect();
        let more = if excerpt.len() < span.text.len() {
            "…"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "\nbytes {}..{} ({} tokens, {} occurrence(s)): \"{excerpt}{more}\"",
            span.range.start(),
            span.range.end(),
            span.tokens,
            span.occurrences
        );
        for d in &span.documents {
            let _ = writeln!(
                out,
                "  {}  owner {}  licence {}  opt-out at fetch: {}  latest: {}",
                d.id,
                d.owner.as_deref().unwrap_or("unknown"),
                d.licence.as_deref().unwrap_or("unknown"),
                json_name(&d.opt_out_at_fetch),
                json_name(&d.latest)
            );
        }
        for w in &span.withdrawn {
            let reason = w.reason.as_deref().unwrap_or("no reason given");
            let _ = writeln!(
                out,
                "  {}  withdrawn at {} ({reason})",
                w.id, w.withdrawn_at
            );
        }
    }
    out
}

fn parse_use(name: &str) -> std::result::Result<AiUse, String> {
    serde_json::from_value(name.into()).map_err(|_| {
        format!(
            "`{name}` is not a use; one of tdm, ai-train, genai-train, ai-input, ai-index, search"
        )
    })
}
