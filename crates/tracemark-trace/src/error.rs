//! The one error type of the crate, classified for front ends by [`Diagnose`].

use std::path::PathBuf;

use tracemark_core::{Diagnose, Fault};

/// Everything that can go wrong while ingesting, building, opening or querying an index.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}, line {line}: {reason}")]
    BadCorpusLine {
        path: PathBuf,
        line: u64,
        reason: String,
    },
    #[error("{path}: {reason}")]
    BadMetadata { path: PathBuf, reason: String },
    /// A Parquet corpus file that cannot be read (`row` counts from 1 when known).
    #[error("Parquet corpus {path}{}: {reason}", row.map(|r| format!(", row {r}")).unwrap_or_default())]
    BadParquet {
        path: PathBuf,
        row: Option<u64>,
        reason: String,
    },
    #[error("document id `{id}` occurs twice in the corpus")]
    DuplicateId { id: String },
    #[error("the corpus has no usable document ({skipped} skipped)")]
    EmptyCorpus { skipped: u64 },
    #[error("shard {path} is corrupt: {reason}")]
    CorruptShard { path: PathBuf, reason: String },
    #[error("shard {path} has format `{found}`, this build reads `{expected}`")]
    ShardVersion {
        path: PathBuf,
        found: String,
        expected: &'static str,
    },
    #[error("shard {path} was built with tokenizer {built_with}, but the query uses {query_with}")]
    TokenizerMismatch {
        path: PathBuf,
        built_with: String,
        query_with: String,
    },
    #[error("{path} holds no index shard")]
    NoShards { path: PathBuf },
    #[error("{path} already exists; an index is never written over")]
    Exists { path: PathBuf },
    #[error("token id {token} does not fit the index's 16-bit tokens (max 65534)")]
    TokenTooLarge { token: u32 },
    #[error("tokenizer failed: {0}")]
    Tokenizer(String),
    #[error("rights signal {source_name}: {reason}")]
    Signal { source_name: String, reason: String },
    #[error("suffix array construction failed: {0}")]
    SuffixArray(String),
    #[error("invalid parameter: {0}")]
    Parameter(String),
    /// Shards of an index that did not answer (position from 0, and why): the answer
    /// would be partial, so there is none.
    #[error("incomplete: {} of the index's {of} shards did not answer ({})", missing.len(),
        missing.iter().map(|(k, why)| format!("shard {k}: {why}")).collect::<Vec<_>>().join("; "))]
    Incomplete {
        of: usize,
        missing: Vec<(usize, String)>,
    },
    /// Shard servers that do not make one index.
    #[error("the shard servers do not make one index: {reason}")]
    ShardSet { reason: String },
}

impl TraceError {
    /// What an incomplete answer may tell outside the machine: which shards (by
    /// position) did not answer, without their addresses or errors.
    pub fn incomplete_public(&self) -> Option<(String, Vec<usize>)> {
        let TraceError::Incomplete { of, missing } = self else {
            return None;
        };
        let positions: Vec<usize> = missing.iter().map(|(k, _)| *k).collect();
        let list = positions
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let noun = if positions.len() == 1 {
            "shard"
        } else {
            "shards"
        };
        Some((
            format!("incomplete: {noun} {list} of the index's {of} did not answer"),
            positions,
        ))
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| TraceError::Io {
            action,
            path,
            source,
        }
    }

    pub(crate) fn corrupt(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        TraceError::CorruptShard {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

impl Diagnose for TraceError {
    fn fault(&self) -> Fault {
        match self {
            TraceError::SuffixArray(_) | TraceError::Incomplete { .. } => Fault::Internal,
            TraceError::ShardSet { .. } => Fault::Usage,
            TraceError::Exists { .. } | TraceError::Parameter(_) => Fault::Usage,
            _ => Fault::Input,
        }
    }

    fn hint(&self) -> Option<String> {
        Some(
            match self {
                TraceError::Io { .. } => "check that the path exists and is readable",
                TraceError::BadCorpusLine { .. } => {
                    "each line must be one JSON object with at least `id` and `text`"
                }
                TraceError::BadMetadata { .. } => {
                    "fix the sidecar metadata JSON (fields: id, url, owner, licence, fetched_at, signals)"
                }
                TraceError::BadParquet { .. } => {
                    "a Parquet corpus needs columns `id` and `text` (optional: url, owner, licence, \
                     fetched_at, signals); check that the file is complete and undamaged"
                }
                TraceError::DuplicateId { .. } => "give every document a unique `id`",
                TraceError::EmptyCorpus { .. } => "pass at least one non-empty UTF-8 document",
                TraceError::CorruptShard { .. } => {
                    "the shard was damaged or truncated: rebuild it with `tracemark index build`"
                }
                TraceError::ShardVersion { .. } => "rebuild the index with this version",
                TraceError::TokenizerMismatch { .. } => {
                    "query with the tokenizer the index was built with, or rebuild the index"
                }
                TraceError::NoShards { .. } => "build one with `tracemark index build --out DIR`",
                TraceError::Exists { .. } => "choose a new output directory or remove the old one",
                TraceError::TokenTooLarge { .. } => {
                    "use a tokenizer whose vocabulary has at most 65535 ids"
                }
                TraceError::Incomplete { .. } => {
                    "check that the shard servers named are running and reachable, then ask again"
                }
                TraceError::ShardSet { .. } => {
                    "list every shard server of one sharded index, in the order of its parts"
                }
                TraceError::Signal { .. } => {
                    "give each signal a readable `path` or inline `content` in a known format"
                }
                _ => return None,
            }
            .to_owned(),
        )
    }
}
