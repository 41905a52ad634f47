//! An index: a directory of independent shards, a tombstone list, and the queries that
//! sum over shards (counts, ranges and continuations add up, so no global suffix array
//! is ever needed, and shards can live on different disks or machines).
//!
//! Layout: `DIR/index.json` (format, tokenizer, shard names), `DIR/shard-NNNNN/`, and
//! `DIR/withdrawn.jsonl`. A build writes `DIR.partial/` and renames it to `DIR` only
//! when every shard is complete.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    fs,
    io::Write,
    path::{Path, PathBuf},
    sync::Arc,
};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use tracemark_core::Timestamp;

use crate::{
    TraceError,
    corpus::{self, DocMeta, Document, IngestStats},
    shard::{self, MAX_SHARD_TOKENS, Shard, ShardData, SignSource, TokenizerInfo},
    tokenizer::{IndexTokenizer, SEP},
};

/// The format of `index.json`.
pub const INDEX_FORMAT: &str = "tracemark.trace-index/v1";

/// The index's manifest file, in its directory.
pub const INDEX_FILE: &str = "index.json";

/// `index.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexManifest {
    pub format: String,
    pub tokenizer: TokenizerInfo,
    pub shards: Vec<String>,
}

/// Options of a build.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// Tokens per shard: bounds the build's memory at about 10 bytes per token
    /// (tokens, the 4-byte suffix array, its packed copy). Default 2^28 (≈ 2.7 GiB peak).
    pub max_shard_tokens: usize,
    /// Documents tokenised together (in parallel).
    pub batch: usize,
}

impl Default for BuildOptions {
    fn default() -> Self {
        Self {
            max_shard_tokens: 1 << 28,
            batch: 2048,
        }
    }
}

/// What a build did.
#[derive(Debug, Clone, Serialize)]
pub struct BuildSummary {
    pub path: PathBuf,
    pub shards: usize,
    pub documents: u64,
    pub tokens: u64,
    pub bytes_on_disk: u64,
    pub ingest: IngestStats,
    pub timings: BuildTimings,
}

/// Where a build's time went, in seconds (reading the corpus is not included).
#[derive(Debug, Clone, Default, Serialize)]
pub struct BuildTimings {
    /// Tokenising documents (in parallel) and appending them.
    pub prepare: f64,
    /// Writing shards, wall time: the suffix array and the MinHash signatures are made
    /// at the same time, then the files are written with their checksums.
    pub shards: f64,
    /// Inside `shards`: libsais (OpenMP).
    pub suffix_array: f64,
    /// Inside `shards`: the MinHash signatures (in parallel, alongside libsais).
    pub minhash: f64,
}

/// A document tokenised, ready to append.
type Prepared = (DocMeta, Vec<u16>, SignSource);

/// Builds an index shard by shard, with bounded memory.
pub struct IndexBuilder<'t> {
    out: PathBuf,
    partial: PathBuf,
    tokenizer: &'t dyn IndexTokenizer,
    options: BuildOptions,
    pending: Vec<Document>,
    pending_ids: Vec<(DocMeta, Vec<u16>)>,
    timings: BuildTimings,
    current: ShardData,
    shards: Vec<String>,
    ids: HashSet<String>,
    documents: u64,
    tokens: u64,
}

impl std::fmt::Debug for IndexBuilder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexBuilder")
            .field("out", &self.out)
            .finish_non_exhaustive()
    }
}

impl<'t> IndexBuilder<'t> {
    /// Starts a build of a new index at `out` (which must not exist).
    pub fn create(
        out: &Path,
        tokenizer: &'t dyn IndexTokenizer,
        options: BuildOptions,
    ) -> Result<Self, TraceError> {
        if out.exists() {
            return Err(TraceError::Exists {
                path: out.to_owned(),
            });
        }
        if options.max_shard_tokens == 0 || options.max_shard_tokens > MAX_SHARD_TOKENS {
            return Err(TraceError::Parameter(format!(
                "max_shard_tokens must be in 1..={MAX_SHARD_TOKENS}"
            )));
        }
        let partial = PathBuf::from(format!("{}.partial", out.display()));
        if partial.exists() {
            fs::remove_dir_all(&partial).map_err(TraceError::io("remove stale", &partial))?;
        }
        fs::create_dir_all(&partial).map_err(TraceError::io("create", &partial))?;
        Ok(Self {
            out: out.to_owned(),
            partial,
            tokenizer,
            options,
            pending: Vec::new(),
            pending_ids: Vec::new(),
            timings: BuildTimings::default(),
            current: ShardData::default(),
            shards: Vec::new(),
            ids: HashSet::new(),
            documents: 0,
            tokens: 0,
        })
    }

    fn info(&self) -> TokenizerInfo {
        TokenizerInfo {
            name: self.tokenizer.name(),
            identity: self.tokenizer.identity(),
            vocab_size: self.tokenizer.vocab_size(),
        }
    }

    /// Adds a document (ids must be unique across the index).
    pub fn add(&mut self, doc: Document) -> Result<(), TraceError> {
        if !self.ids.insert(doc.meta.id.clone()) {
            return Err(TraceError::DuplicateId { id: doc.meta.id });
        }
        self.pending.push(doc);
        if self.pending.len() >= self.options.batch {
            self.flush_batch()?;
        }
        Ok(())
    }

    /// Adds a document given as token ids (from a token file made elsewhere); it is
    /// signed for near-duplicate search when the tokenizer can decode it.
    pub fn add_tokens(&mut self, meta: DocMeta, ids: Vec<u16>) -> Result<(), TraceError> {
        if !self.ids.insert(meta.id.clone()) {
            return Err(TraceError::DuplicateId { id: meta.id });
        }
        self.pending_ids.push((meta, ids));
        if self.pending_ids.len() >= self.options.batch {
            self.flush_batch()?;
        }
        Ok(())
    }

    /// Tokenises the pending documents in parallel, then appends them (they are
    /// signed when their shard is written).
    fn flush_batch(&mut self) -> Result<(), TraceError> {
        let started = std::time::Instant::now();
        let shard_time = self.timings.shards;
        let result = self.prepare_batch();
        let shards_written = self.timings.shards - shard_time;
        self.timings.prepare += started.elapsed().as_secs_f64() - shards_written;
        result
    }

    fn prepare_batch(&mut self) -> Result<(), TraceError> {
        let batch = std::mem::take(&mut self.pending);
        let tok = self.tokenizer;
        let mut done: Vec<Result<Prepared, TraceError>> = batch
            .into_par_iter()
            .map(|d| {
                let ids = tok.encode_ids(&d.text)?;
                Ok((d.meta, ids, SignSource::Text(d.text)))
            })
            .collect();
        let given = std::mem::take(&mut self.pending_ids);
        done.extend(
            given
                .into_iter()
                .map(|(meta, ids)| Ok((meta, ids, SignSource::Tokens))),
        );
        for item in done {
            let (meta, ids, sign) = item?;
            if let Some(&t) = ids.iter().find(|&&t| t == SEP) {
                return Err(TraceError::TokenTooLarge { token: t.into() });
            }
            let need = ids.len() + 1;
            if need > MAX_SHARD_TOKENS {
                return Err(TraceError::Parameter(format!(
                    "document {} has too many tokens",
                    meta.id
                )));
            }
            if !self.current.tokens.is_empty()
                && self.current.tokens.len() + need > self.options.max_shard_tokens
            {
                self.write_current()?;
            }
            self.documents += 1;
            self.tokens += need as u64;
            self.current.push(meta, &ids, sign);
        }
        Ok(())
    }

    fn write_current(&mut self) -> Result<(), TraceError> {
        let data = std::mem::take(&mut self.current);
        let name = format!("shard-{:05}", self.shards.len());
        let (_, t) = shard::write_shard(data, self.tokenizer, &self.partial.join(&name))?;
        self.timings.shards += t.total;
        self.timings.suffix_array += t.suffix_array;
        self.timings.minhash += t.minhash;
        self.shards.push(name);
        Ok(())
    }

    /// Writes the last shard and the index manifest, then renames the index into place.
    pub fn finish(mut self, ingest: IngestStats) -> Result<BuildSummary, TraceError> {
        self.flush_batch()?;
        if !self.current.tokens.is_empty() {
            self.write_current()?;
        }
        if self.shards.is_empty() {
            return Err(TraceError::EmptyCorpus {
                skipped: ingest.skipped(),
            });
        }
        let manifest = IndexManifest {
            format: INDEX_FORMAT.to_owned(),
            tokenizer: self.info(),
            shards: self.shards.clone(),
        };
        let path = self.partial.join(INDEX_FILE);
        let json = serde_json::to_vec_pretty(&manifest)
            .map_err(|e| TraceError::Parameter(e.to_string()))?;
        fs::write(&path, json).map_err(TraceError::io("write", &path))?;
        fs::rename(&self.partial, &self.out)
            .map_err(TraceError::io("rename into place", &self.out))?;
        Ok(BuildSummary {
            bytes_on_disk: dir_size(&self.out),
            path: std::mem::take(&mut self.out),
            shards: self.shards.len(),
            documents: self.documents,
            tokens: self.tokens,
            ingest,
            timings: std::mem::take(&mut self.timings),
        })
    }
}

impl Drop for IndexBuilder<'_> {
    /// A build that did not finish (an error, or the builder dropped) removes its
    /// partial directory: nothing of it is left that could be mistaken for an index.
    fn drop(&mut self) {
        if self.partial.exists() {
            let _ = fs::remove_dir_all(&self.partial);
        }
    }
}

fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).into_iter().flatten().flatten() {
            match e.metadata() {
                Ok(m) if m.is_dir() => stack.push(e.path()),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}

/// Builds an index at `out` from corpus paths (JSON Lines files or folders).
pub fn build_index(
    out: &Path,
    corpora: &[PathBuf],
    tokenizer: &dyn IndexTokenizer,
    options: BuildOptions,
) -> Result<BuildSummary, TraceError> {
    let mut builder = IndexBuilder::create(out, tokenizer, options)?;
    let mut stats = IngestStats::default();
    for path in corpora {
        corpus::read_corpus(path, &mut stats, &mut |d| builder.add(d))?;
    }
    builder.finish(stats)
}

/// Builds an index from infini-gram's token file (u16 LE; each document is `0xFFFF`
/// then its tokens; the file starts with `0xFFFF`), naming documents `doc-N`. The ids
/// must be `tokenizer`'s (the anchor script's `make-corpus` writes [`crate::ByteTokenizer`]'s).
pub fn build_from_token_file(
    out: &Path,
    token_file: &Path,
    tokenizer: &dyn IndexTokenizer,
    options: BuildOptions,
) -> Result<BuildSummary, TraceError> {
    let bytes = fs::read(token_file).map_err(TraceError::io("read", token_file))?;
    let bad = |reason: &str| TraceError::BadMetadata {
        path: token_file.to_owned(),
        reason: reason.to_owned(),
    };
    if bytes.len() % 2 != 0 {
        return Err(bad("odd length: not a u16 token file"));
    }
    let tokens: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    drop(bytes);
    if tokens.first() != Some(&SEP) {
        return Err(bad("does not start with the 0xFFFF separator"));
    }
    let mut builder = IndexBuilder::create(out, tokenizer, options)?;
    let mut stats = IngestStats::default();
    for (n, doc) in tokens[1..].split(|&t| t == SEP).enumerate() {
        // Empty documents are kept: the token array must stay the file's, byte for byte.
        stats.documents += 1;
        builder.add_tokens(DocMeta::new(format!("doc-{n}")), doc.to_vec())?;
    }
    builder.finish(stats)
}

/// A document withdrawn after indexing (its owner opted out later).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tombstone {
    pub id: String,
    pub withdrawn_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A document of the index: which shard, which document there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct DocAddress {
    pub shard: usize,
    pub doc: usize,
}

/// A document that contains a query, with how often.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocHit {
    pub address: DocAddress,
    pub meta: DocMeta,
    pub occurrences: u64,
    /// Set when the document was withdrawn: it is then reported apart, never as a source.
    pub withdrawn: Option<Tombstone>,
}

/// The documents containing a query.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocumentsResult {
    /// Occurrences in the whole index (withdrawn documents included, as in the count).
    pub occurrences: u64,
    /// Live documents, most occurrences first, at most the limit asked.
    pub documents: Vec<DocHit>,
    /// Withdrawn documents that contain the query.
    pub withdrawn: Vec<DocHit>,
    /// False when more occurrences exist than were scanned.
    pub complete: bool,
}

/// The ∞-gram next-token distribution (Liu et al. 2024): the longest suffix of the
/// context that occurs, and the counts of the tokens that follow it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InfinigramNtd {
    /// Length (in tokens) of the longest suffix of the context with a continuation.
    pub suffix_len: usize,
    /// How often that suffix is followed by a token.
    pub total: u64,
    /// `(token, count)`, by token id; [`SEP`] means "end of document".
    pub counts: Vec<(u16, u64)>,
}

/// An open index.
pub struct Index {
    dir: PathBuf,
    manifest: IndexManifest,
    shards: Vec<Shard>,
    tombstones: HashMap<String, Tombstone>,
    tokenizer: Arc<dyn IndexTokenizer>,
    unigram: Vec<u64>,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("dir", &self.dir)
            .field("shards", &self.shards.len())
            .finish_non_exhaustive()
    }
}

/// Occurrences scanned at most to list documents.
const MAX_SCAN: usize = 100_000;

impl Index {
    /// Opens the index at `dir` for queries with `tokenizer`, which must be the one it
    /// was built with.
    pub fn open(dir: &Path, tokenizer: Arc<dyn IndexTokenizer>) -> Result<Index, TraceError> {
        let mpath = dir.join(INDEX_FILE);
        if !mpath.exists() {
            return Err(TraceError::NoShards {
                path: dir.to_owned(),
            });
        }
        let bytes = fs::read(&mpath).map_err(TraceError::io("read", &mpath))?;
        let manifest: IndexManifest = serde_json::from_slice(&bytes)
            .map_err(|e| TraceError::corrupt(&mpath, e.to_string()))?;
        if manifest.format != INDEX_FORMAT {
            return Err(TraceError::ShardVersion {
                path: mpath,
                found: manifest.format,
                expected: INDEX_FORMAT,
            });
        }
        let mut shards = Vec::new();
        for name in &manifest.shards {
            let shard = Shard::open(&dir.join(name))?;
            let built = &shard.manifest().tokenizer.identity;
            if *built != tokenizer.identity() {
                return Err(TraceError::TokenizerMismatch {
                    path: shard.dir().to_owned(),
                    built_with: format!("{} ({built})", shard.manifest().tokenizer.name),
                    query_with: format!("{} ({})", tokenizer.name(), tokenizer.identity()),
                });
            }
            shards.push(shard);
        }
        let mut unigram = vec![0u64; 1 << 16];
        for s in &shards {
            for &(t, c) in &s.manifest().unigram {
                unigram[t as usize] += c;
            }
        }
        Ok(Index {
            tombstones: read_tombstones(dir)?,
            dir: dir.to_owned(),
            manifest,
            shards,
            tokenizer,
            unigram,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn manifest(&self) -> &IndexManifest {
        &self.manifest
    }

    pub fn shards(&self) -> &[Shard] {
        &self.shards
    }

    pub fn tokenizer(&self) -> &dyn IndexTokenizer {
        &*self.tokenizer
    }

    /// Tokens in the index, separators included (infini-gram's `count([])`).
    pub fn total_tokens(&self) -> u64 {
        self.shards.iter().map(|s| s.len() as u64).sum()
    }

    pub fn total_documents(&self) -> u64 {
        self.shards.iter().map(|s| s.documents() as u64).sum()
    }

    /// Corpus count of each token id (separators excluded).
    pub fn unigram_counts(&self) -> &[u64] {
        &self.unigram
    }

    /// Checks every shard's checksums (reads every byte).
    pub fn verify(&self) -> Result<(), TraceError> {
        self.shards.iter().try_for_each(Shard::verify)
    }

    /// The number of (overlapping) occurrences of `q`, with infini-gram's semantics:
    /// positions `p` of the token arrays with `tokens[p..p+|q|] == q`; `count([])` is the
    /// number of tokens including separators.
    pub fn count_ids(&self, q: &[u16]) -> u64 {
        self.shards.iter().map(|s| s.find(q).len() as u64).sum()
    }

    /// The count of a text, tokenised with the index's tokenizer.
    pub fn count(&self, text: &str) -> Result<u64, TraceError> {
        Ok(self.count_ids(&self.tokenizer.encode_ids(text)?))
    }

    /// Reads the withdrawals again (`withdrawn.jsonl`), so that a long-running reader
    /// applies an `index withdraw` made since it opened the index.
    pub fn reload_withdrawn(&mut self) -> Result<(), TraceError> {
        self.tombstones = read_tombstones(&self.dir)?;
        Ok(())
    }

    /// The file of withdrawals: a reader that holds the index watches it for changes.
    pub fn withdrawn_file(&self) -> PathBuf {
        self.dir.join(WITHDRAWN_FILE)
    }

    /// The tombstone of a document id, if it was withdrawn.
    pub fn tombstone(&self, id: &str) -> Option<&Tombstone> {
        self.tombstones.get(id)
    }

    /// Every document withdrawn since the build.
    pub fn withdrawn(&self) -> impl Iterator<Item = &Tombstone> {
        self.tombstones.values()
    }

    /// The documents that contain `q`, live ones (at most `limit`) apart from withdrawn ones.
    pub fn documents_ids(&self, q: &[u16], limit: usize) -> Result<DocumentsResult, TraceError> {
        let mut per_doc: BTreeMap<DocAddress, u64> = BTreeMap::new();
        let (mut occurrences, mut scanned) = (0u64, 0usize);
        for (si, s) in self.shards.iter().enumerate() {
            let r = s.find(q);
            occurrences += r.len() as u64;
            for i in r {
                if scanned == MAX_SCAN {
                    break;
                }
                scanned += 1;
                *per_doc
                    .entry(DocAddress {
                        shard: si,
                        doc: s.doc_of(s.sa(i)),
                    })
                    .or_default() += 1;
            }
        }
        let mut ranked: Vec<(DocAddress, u64)> = per_doc.into_iter().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let (mut documents, mut withdrawn) = (Vec::new(), Vec::new());
        for (address, n) in ranked {
            // Full metadata (with its rights record) is parsed only for the documents
            // returned; a common span can sit in thousands of documents.
            let shard = &self.shards[address.shard];
            let tomb = if self.tombstones.is_empty() {
                if documents.len() == limit {
                    break;
                }
                None
            } else {
                self.tombstones.get(&shard.doc_id(address.doc)?).cloned()
            };
            if tomb.is_none() && documents.len() == limit {
                continue;
            }
            let hit = DocHit {
                address,
                meta: shard.doc_meta(address.doc)?,
                occurrences: n,
                withdrawn: tomb,
            };
            if hit.withdrawn.is_some() {
                withdrawn.push(hit);
            } else {
                documents.push(hit);
            }
        }
        Ok(DocumentsResult {
            occurrences,
            documents,
            withdrawn,
            complete: scanned as u64 == occurrences,
        })
    }

    /// The ∞-gram next-token distribution after `context`.
    pub fn infinigram_ntd(&self, context: &[u16]) -> InfinigramNtd {
        // The longest suffix with a continuation: lengths are monotone (a suffix of an
        // occurring suffix occurs), so search the length by bisection.
        let has_next = |k: usize| -> bool {
            let q = &context[context.len() - k..];
            self.shards.iter().any(|s| {
                let r = s.find(q);
                // A range whose only suffix ends the shard has no continuation.
                r.len() > 1 || r.clone().any(|i| s.sa(i) + k < s.len())
            })
        };
        let (mut lo, mut hi) = (0usize, context.len());
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if has_next(mid) {
                lo = mid
            } else {
                hi = mid - 1
            }
        }
        let q = &context[context.len() - lo..];
        let mut counts: BTreeMap<u16, u64> = BTreeMap::new();
        for s in &self.shards {
            for (t, c) in s.continuations(s.find(q), lo) {
                *counts.entry(t).or_default() += c;
            }
        }
        InfinigramNtd {
            suffix_len: lo,
            total: counts.values().sum(),
            counts: counts.into_iter().collect(),
        }
    }

    /// Metadata of a document.
    pub fn doc_meta(&self, address: DocAddress) -> Result<DocMeta, TraceError> {
        self.shards[address.shard].doc_meta(address.doc)
    }

    /// Every document, in index order.
    pub fn addresses(&self) -> impl Iterator<Item = DocAddress> + '_ {
        self.shards
            .iter()
            .enumerate()
            .flat_map(|(shard, s)| (0..s.documents()).map(move |doc| DocAddress { shard, doc }))
    }
}

/// The withdrawals of an index: one JSON tombstone a line, appended by [`withdraw`].
const WITHDRAWN_FILE: &str = "withdrawn.jsonl";

fn read_tombstones(dir: &Path) -> Result<HashMap<String, Tombstone>, TraceError> {
    let path = dir.join(WITHDRAWN_FILE);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashMap::new()),
        Err(e) => return Err(TraceError::io("read", &path)(e)),
    };
    let mut out = HashMap::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let t: Tombstone = serde_json::from_str(line).map_err(|e| TraceError::BadCorpusLine {
            path: path.clone(),
            line: i as u64 + 1,
            reason: e.to_string(),
        })?;
        out.entry(t.id.clone()).or_insert(t); // the first withdrawal is the one that counts
    }
    Ok(out)
}

/// Withdraws a document from the index at `dir`: appends a tombstone that queries apply
/// (shards stay immutable; the next build leaves the document out).
pub fn withdraw(dir: &Path, tombstone: &Tombstone) -> Result<(), TraceError> {
    if !dir.join(INDEX_FILE).exists() {
        return Err(TraceError::NoShards {
            path: dir.to_owned(),
        });
    }
    let path = dir.join(WITHDRAWN_FILE);
    let mut f = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(TraceError::io("open", &path))?;
    let mut line =
        serde_json::to_vec(tombstone).map_err(|e| TraceError::Parameter(e.to_string()))?;
    line.push(b'\n');
    f.write_all(&line)
        .map_err(TraceError::io("append to", &path))?;
    f.sync_all().map_err(TraceError::io("sync", &path))
}
