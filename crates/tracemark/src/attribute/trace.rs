//! The trace of attribution: every configured corpus index, opened once, with the
//! rights of each source found. Withdrawals made while the indexes are held apply to the
//! next query (the withdrawal file is watched).

use std::{
    path::{Path, PathBuf},
    sync::RwLock,
    time::SystemTime,
};

use tracemark_core::{
    Fact,
    fact::{Claim, RightsFinding, Topic},
    rights::AiUse,
};
use tracemark_policy::Input;
use tracemark_trace::{Index, TraceOptions};

use super::{Disclosure, fact, label, searched, unestablished};
use crate::{Config, Result};

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

/// An open index, and the state of its withdrawal file when the index last read it.
#[derive(Debug)]
struct Held {
    index: RwLock<Index>,
    withdrawn: RwLock<Stamp>,
    /// The manifest's fingerprint, for the report's inputs.
    input: Input,
}

/// The length and modification time of a file (`None` when it does not exist).
type Stamp = Option<(u64, SystemTime)>;

fn stamp(path: &Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.len(), meta.modified().ok()?))
}

impl Indexes {
    /// Opens every index of `[index] paths`.
    pub fn load(config: &Config, disclosure: Disclosure) -> Self {
        let configured = config
            .index
            .paths
            .iter()
            .map(|dir| Configured {
                label: label(dir),
                index: Held::open(dir)
                    .map_err(|e| disclosure.reason(format!("index {}", label(dir)), e)),
            })
            .collect();
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
                "no corpus index is configured ([index] paths)",
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
                Ok(found) => {
                    inputs.push(held.input.clone());
                    if found.is_empty() {
                        facts.push(searched(Topic::Trace, configured.label.clone(), 0));
                    }
                    facts.extend(found);
                }
                Err(e) => facts.push(unestablished(
                    Topic::Trace,
                    self.disclosure
                        .reason(format!("index {}", configured.label), e),
                )),
            }
        }
        facts
    }
}

impl Held {
    fn open(dir: &Path) -> Result<Self> {
        let index = crate::corpus::open(dir, None)?;
        let withdrawn = stamp(&index.withdrawn_file());
        let manifest_path: PathBuf = dir.join(tracemark_trace::index::INDEX_FILE);
        let manifest = std::fs::read(&manifest_path).unwrap_or_default();
        Ok(Self {
            input: Input::of_bytes("index", &label(dir), &manifest),
            index: RwLock::new(index),
            withdrawn: RwLock::new(withdrawn),
        })
    }

    /// Re-reads the withdrawals if their file changed since they were read: one `stat`
    /// a query, and a write lock only when something was withdrawn.
    fn refresh(&self) -> Result<()> {
        let path = read(&self.index).withdrawn_file();
        let now = stamp(&path);
        if *read(&self.withdrawn) == now {
            return Ok(());
        }
        let mut index = self.index.write().unwrap_or_else(|e| e.into_inner());
        index.reload_withdrawn()?;
        *self.withdrawn.write().unwrap_or_else(|e| e.into_inner()) = now;
        Ok(())
    }

    fn trace(&self, label: &str, text: &str) -> Result<Vec<Fact>> {
        self.refresh()?;
        let index = read(&self.index);
        let options = TraceOptions {
            keep_fraction: None,
            usage: AiUse::GenaiTrain,
            ..TraceOptions::default()
        };
        let report = tracemark_trace::trace(&index, text, &options)?;
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
        Ok(facts)
    }
}

/// A read lock that survives a panicking holder (what it guards is replaced whole).
fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}
