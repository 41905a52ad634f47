//! Corpus indexes as a user runs them: built with progress, opened with the tokenizer
//! they were built with, counted and traced.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, RwLock, RwLockReadGuard},
    time::SystemTime,
};

use serde::Serialize;
use tracemark_trace::{
    BuildOptions, BuildSummary, ByteTokenizer, Index, IndexBuilder, IndexTokenizer,
    corpus::{self, IngestStats},
    shard::TokenizerInfo,
    sharded::{self, ShardedBuild},
    tokenizer::LmTokenizer,
};

use crate::{Error, Result};

/// The tokenizer to index with: a model's (its tokenizer file or directory), or the
/// byte-level default, whose ids match infini-gram's byte corpora.
pub fn index_tokenizer(model: Option<&Path>) -> Result<Arc<dyn IndexTokenizer>> {
    Ok(match model {
        None => Arc::new(ByteTokenizer),
        Some(path) => Arc::new(LmTokenizer(tracemark_lm::load_tokenizer(path)?)),
    })
}

/// How far a build has come, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildStage {
    /// Documents read and tokenised so far.
    Reading { documents: u64 },
    /// Sorting suffixes and writing the last shard.
    Finishing,
}

/// Builds an index at `out` (which must not exist) from JSON Lines files, Parquet files
/// and text folders. A failed build leaves no index behind that looks valid.
///
/// With `exclude_reserved`, a document whose reservations in force when it was collected
/// bar generative training for that actor is left out, its metadata listed in the
/// index's `excluded.jsonl` (what `rights prove --excluded` proves).
pub fn build(
    out: &Path,
    corpora: &[PathBuf],
    tokenizer: &dyn IndexTokenizer,
    exclude_reserved: Option<&tracemark_rights::Actor>,
    progress: &mut dyn FnMut(BuildStage),
) -> Result<BuildSummary> {
    check_corpora(corpora)?;
    let mut builder = IndexBuilder::create(out, tokenizer, BuildOptions::default())?;
    let mut stats = IngestStats::default();
    let mut documents = 0;
    for path in corpora {
        corpus::read_corpus(path, &mut stats, &mut |doc| {
            match exclude_reserved {
                Some(actor) if crate::collection::reserved_at_collection(&doc.meta, actor) => {
                    builder.exclude(&doc.meta)?
                }
                _ => builder.add(doc)?,
            }
            documents += 1;
            if documents % 256 == 0 {
                progress(BuildStage::Reading { documents });
            }
            Ok(())
        })?;
    }
    progress(BuildStage::Finishing);
    Ok(builder.finish(stats)?)
}

/// Builds a sharded index of `shards` parts at `out` (see [`tracemark_trace::sharded`]):
/// every part, or with `only` the one part a machine builds (reading the same corpus as
/// the others); the manifest is written when the last part is there.
pub fn build_sharded(
    out: &Path,
    corpora: &[PathBuf],
    tokenizer: &dyn IndexTokenizer,
    shards: usize,
    only: Option<usize>,
    progress: &mut dyn FnMut(BuildStage),
) -> Result<ShardedBuild> {
    check_corpora(corpora)?;
    Ok(sharded::build(
        out,
        corpora,
        tokenizer,
        shards,
        only,
        BuildOptions::default(),
        &mut |documents| progress(BuildStage::Reading { documents }),
    )?)
}

fn check_corpora(corpora: &[PathBuf]) -> Result<()> {
    for path in corpora {
        if !path.exists() {
            return Err(Error::usage(
                format!("corpus {} does not exist", path.display()),
                Some("give JSON Lines files, Parquet files or folders of text files".into()),
            ));
        }
    }
    Ok(())
}

/// Opens an index. An index built with the byte tokenizer opens as it is; one built with
/// a model's tokenizer needs that tokenizer (`model`), and another is refused.
pub fn open(dir: &Path, model: Option<&Path>) -> Result<Index> {
    let tokenizer = index_tokenizer(model)?;
    Index::open(dir, tokenizer).map_err(|e| match (e, model) {
        (tracemark_trace::TraceError::TokenizerMismatch { built_with, .. }, None) => Error::usage(
            format!("the index at {} was built with {built_with}", dir.display()),
            Some("pass --tokenizer with the model (or tokenizer) it was built with".into()),
        ),
        (e, _) => e.into(),
    })
}

/// An open index whose withdrawals are read again when their files change: what a
/// long-running reader (the service, a shard server) holds, so that an `index withdraw`
/// applies to the next query.
#[derive(Debug)]
pub struct WatchedIndex {
    index: RwLock<Index>,
    withdrawn: RwLock<Vec<Stamp>>,
}

/// The length and modification time of a file (`None` when it does not exist).
type Stamp = Option<(u64, SystemTime)>;

fn stamp(path: &Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.len(), meta.modified().ok()?))
}

fn stamps(index: &Index) -> Vec<Stamp> {
    index.withdrawn_files().iter().map(|p| stamp(p)).collect()
}

impl WatchedIndex {
    pub fn open(dir: &Path, model: Option<&Path>) -> Result<Self> {
        let index = open(dir, model)?;
        Ok(Self {
            withdrawn: RwLock::new(stamps(&index)),
            index: RwLock::new(index),
        })
    }

    /// The index, its withdrawals re-read first if their files changed since they were
    /// read: a `stat` per file a query, and a write lock only when something changed.
    pub fn read(&self) -> Result<RwLockReadGuard<'_, Index>> {
        let now = stamps(&read(&self.index));
        if *read(&self.withdrawn) != now {
            let mut index = self.index.write().unwrap_or_else(|e| e.into_inner());
            index.reload_withdrawn()?;
            *self.withdrawn.write().unwrap_or_else(|e| e.into_inner()) = now;
        }
        Ok(read(&self.index))
    }
}

/// A read lock that survives a panicking holder (what it guards is replaced whole).
fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

/// What an index holds.
#[derive(Debug, Clone, Serialize)]
pub struct IndexInfo {
    pub path: PathBuf,
    pub format: String,
    pub tokenizer: TokenizerInfo,
    pub shards: usize,
    pub documents: u64,
    pub tokens: u64,
    pub bytes_on_disk: u64,
    pub bytes_per_token: f64,
    /// Documents withdrawn since the build (applied at query time).
    pub withdrawn: usize,
}

pub fn info(index: &Index) -> IndexInfo {
    let manifest = index.manifest();
    let bytes_on_disk = dir_size(index.dir());
    let tokens = index.total_tokens();
    IndexInfo {
        path: index.dir().to_owned(),
        format: manifest.format.clone(),
        tokenizer: manifest.tokenizer.clone(),
        shards: index.shards().len(),
        documents: index.total_documents(),
        tokens,
        bytes_on_disk,
        bytes_per_token: bytes_on_disk as f64 / tokens.max(1) as f64,
        withdrawn: index.withdrawn().count(),
    }
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}
