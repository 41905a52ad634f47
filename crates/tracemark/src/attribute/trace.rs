//! The trace of attribution: every configured corpus index, opened once (or, for an
//! index whose shards other machines serve, asked through them), with the rights of
//! each source found. Withdrawals made while the indexes are held apply to the next
//! query (the withdrawal files are watched).

use std::{sync::Arc, time::Duration};

use tracemark_core::{
    Fact,
    fact::{Claim, RightsFinding, Topic},
    rights::AiUse,
};
use tracemark_policy::Input;
use tracemark_trace::{ByteTokenizer, TraceOptions, TraceReport};

use super::{Disclosure, fact, label, searched, unestablished};
use crate::{Config, Error, Result, corpus::WatchedIndex, shards::RemoteShards};

/// How long a router waits for every shard's answer, unless `[index] shard_deadline_ms`
/// says otherwise.
pub const SHARD_DEADLINE: Duration = Duration::from_secs(5);

/// What reports call an index whose shards are served by other machines.
const SHARDS_LABEL: &str = "shards";

/// The configured indexes, each opened or with the reason it could not be.
#[derive(Debug)]
pub struct Indexes {
    configured: Vec<Configured>,
    disclosure: Disclosure,
}

#[derive(Debug)]
struct Configured {
    /// The index's folder name (never its path: reports and responses leave the machine).
    label: String,
    index: std::result::Result<Held, String>,
}

/// An index as attribution reads it.
#[derive(Debug)]
enum Held {
    /// On this machine, with its manifest's fingerprint for the report's inputs.
    Local {
        index: Box<WatchedIndex>,
        input: Input,
    },
    /// Served in shards by other machines.
    Remote(RemoteShards),
}

impl Indexes {
    /// Opens every index of `[index] paths`, and the shard servers of `[index] shards`.
    pub fn load(config: &Config, disclosure: Disclosure) -> Self {
        let mut configured: Vec<Configured> = config
            .index
            .paths
            .iter()
            .map(|dir| Configured {
                label: label(dir),
                index: Held::open(dir)
                    .map_err(|e| disclosure.reason(format!("index {}", label(dir)), e)),
            })
            .collect();
        if !config.index.shards.is_empty() {
            let deadline = config
                .index
                .shard_deadline_ms
                .map_or(SHARD_DEADLINE, Duration::from_millis);
            configured.push(Configured {
                label: SHARDS_LABEL.to_owned(),
                index: Ok(Held::Remote(RemoteShards::new(
                    config.index.shards.clone(),
                    Arc::new(ByteTokenizer),
                    deadline,
                ))),
            });
        }
        Self {
            configured,
            disclosure,
        }
    }

    /// Why each index that did not open failed.
    pub fn problems(&self) -> Vec<&str> {
        self.configured
            .iter()
            .filter_map(|c| c.index.as_ref().err().map(String::as_str))
            .collect()
    }

    /// The sources found in every index, with their rights, or why none could be
    /// searched; the indexes' inputs go to `inputs`.
    pub fn facts(&self, text: &str, inputs: &mut Vec<Input>) -> Vec<Fact> {
        if self.configured.is_empty() {
            return vec![unestablished(
                Topic::Trace,
                "no corpus index is configured ([index] paths or shards)",
            )];
        }
        let mut facts = Vec::new();
        for configured in &self.configured {
            let held = match &configured.index {
                Ok(held) => held,
                Err(why) => {
                    facts.push(unestablished(Topic::Trace, why));
                    continue;
                }
            };
            match held.trace(&configured.label, text) {
                Ok((found, input)) => {
                    inputs.push(input);
                    if found.is_empty() {
                        facts.push(searched(Topic::Trace, configured.label.clone(), 0));
                    }
                    facts.extend(found);
                }
                Err(e) => facts.push(unestablished(Topic::Trace, self.why(&configured.label, e))),
            }
        }
        facts
    }

    /// The count of `text` in each configured index, by label.
    pub fn counts(&self, text: &str) -> Result<Vec<(String, u64)>> {
        if self.configured.is_empty() {
            return Err(Error::usage(
                "no corpus index is configured",
                Some("configure [index] paths or shards".into()),
            ));
        }
        let mut counts = Vec::new();
        for configured in &self.configured {
            let held = configured
                .index
                .as_ref()
                .map_err(|why| Error::input(why.clone(), None))?;
            let count = match held {
                Held::Local { index, .. } => index.read()?.count(text)?,
                Held::Remote(shards) => shards.count(text)?,
            };
            counts.push((configured.label.clone(), count));
        }
        Ok(counts)
    }

    /// Why an index could not be searched, as much of it as may be told: an incomplete
    /// answer always names the shards that did not answer (by position).
    fn why(&self, label: &str, e: Error) -> String {
        let public = match &e {
            Error::Trace(t) => t.incomplete_public(),
            _ => None,
        };
        match (public, self.disclosure) {
            (Some((said, _)), Disclosure::Private) => {
                eprintln!("tracemark: index {label}: {e}");
                format!("index {label}: {said}")
            }
            _ => self.disclosure.reason(format!("index {label}"), e),
        }
    }
}

impl Held {
    fn open(dir: &std::path::Path) -> Result<Self> {
        let index = Box::new(WatchedIndex::open(dir, None)?);
        let manifest = std::fs::read(index.read()?.manifest_file()).unwrap_or_default();
        Ok(Held::Local {
            index,
            input: Input::of_bytes("index", &label(dir), &manifest),
        })
    }

    /// The trace report, and the input that identifies what was searched.
    fn report(
        &self,
        label: &str,
        text: &str,
        options: &TraceOptions,
    ) -> Result<(TraceReport, Input)> {
        Ok(match self {
            Held::Local { index, input } => (
                tracemark_trace::trace(&*index.read()?, text, options)?,
                input.clone(),
            ),
            Held::Remote(shards) => {
                let report = tracemark_trace::trace(shards, text, options)?;
                let digests = shards.digests()?.join("\n");
                (report, Input::of_bytes("index", label, digests.as_bytes()))
            }
        })
    }

    fn trace(&self, label: &str, text: &str) -> Result<(Vec<Fact>, Input)> {
        let options = TraceOptions {
            keep_fraction: None,
            usage: AiUse::GenaiTrain,
            ..TraceOptions::default()
        };
        let (report, input) = self.report(label, text, &options)?;
        let parameters = serde_json::json!({
            "index": label,
            "min_tokens": options.min_tokens,
            "tokenizer": report.tokenizer,
            "coverage": report.coverage,
        });
        let mut facts: Vec<Fact> = report
            .span_findings()
            .into_iter()
            .map(|s| {
                fact(
                    Claim::SourceSpan(s),
                    "olmotrace-maximal-spans",
                    parameters.clone(),
                )
            })
            .collect();
        // The rights of each source as they stood when it was collected.
        let mut seen = std::collections::BTreeSet::new();
        for d in report.spans.iter().flat_map(|s| &s.documents) {
            if seen.insert(d.id.clone()) {
                facts.push(fact(
                    Claim::Rights(RightsFinding {
                        document_id: d.id.clone(),
                        usage: options.usage,
                        permission: d.opt_out_at_fetch,
                        signals: d.signals_at_fetch.clone(),
                        seen_at: d.fetched_at,
                    }),
                    "tracemark-rights-at-fetch",
                    serde_json::json!({ "latest": d.latest }),
                ));
            }
        }
        Ok((facts, input))
    }
}
