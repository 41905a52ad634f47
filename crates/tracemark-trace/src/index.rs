//! An index: a directory of independent shards, a tombstone list, and the queries that
//! sum over shards (counts, ranges and continuations add up, so no global suffix array
//! is ever needed, and shards can live on different disks or machines).
//!
//! Layout: `DIR/index.json` (format, tokenizer, shard names), `DIR/shard-NNNNN/`, and
//! `DIR/withdrawn.jsonl`. A build writes `DIR.partial/` and renames it to `DIR` only
//! when every shard is complete. A sharded index ([`crate::sharded`]) is a directory of
//! such indexes, each built apart from one partition of the corpus; it opens as one
//! [`Index`] over all their shards.

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
    sharded::{self, SHARDED_FILE},
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
    /// Set when the index holds one partition of a corpus cut for a sharded index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<Partition>,
}

/// Which part of a corpus an index holds: documents `first_document..first_document +
/// documents` of the corpus in reading order, partition `index` of `of`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partition {
    pub index: usize,
    pub of: usize,
    pub first_document: u64,
    pub documents: u64,
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
    /// Documents left out (`IndexBuilder::exclude`), listed in `excluded.jsonl`.
    pub excluded: u64,
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
    partition: Option<Partition>,
    pending: Vec<Document>,
    pending_ids: Vec<(DocMeta, Vec<u16>)>,
    timings: BuildTimings,
    current: ShardData,
    shards: Vec<String>,
    ids: HashSet<String>,
    documents: u64,
    tokens: u64,
    /// `excluded.jsonl` in the partial directory, opened at the first exclusion.
    excluded: Option<std::io::BufWriter<fs::File>>,
    excluded_count: u64,
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
            partition: None,
            pending: Vec::new(),
            pending_ids: Vec::new(),
            timings: BuildTimings::default(),
            current: ShardData::default(),
            shards: Vec::new(),
            ids: HashSet::new(),
            documents: 0,
            tokens: 0,
            excluded: None,
            excluded_count: 0,
        })
    }

    /// Leaves a collected document out of the index, keeping its metadata (never its
    /// text) in `excluded.jsonl`: what a provider shows it collected and did not train
    /// on, because of a reservation. Its id stays taken.
    pub fn exclude(&mut self, meta: &DocMeta) -> Result<(), TraceError> {
        if !self.ids.insert(meta.id.clone()) {
            return Err(TraceError::DuplicateId {
                id: meta.id.clone(),
            });
        }
        let path = self.partial.join(EXCLUDED_FILE);
        if self.excluded.is_none() {
            let file = fs::File::create(&path).map_err(TraceError::io("create", &path))?;
            self.excluded = Some(std::io::BufWriter::new(file));
        }
        let mut line =
            serde_json::to_vec(meta).map_err(|e| TraceError::Parameter(e.to_string()))?;
        line.push(b'\n');
        let out = self.excluded.as_mut().expect("opened above");
        std::io::Write::write_all(out, &line).map_err(TraceError::io("write", &path))?;
        self.excluded_count += 1;
        Ok(())
    }

    fn info(&self) -> TokenizerInfo {
        TokenizerInfo {
            name: self.tokenizer.name(),
            identity: self.tokenizer.identity(),
            vocab_size: self.tokenizer.vocab_size(),
        }
    }

    /// Builds partition `index` of `of` (documents `first_document..` of the corpus), one
    /// index of a sharded index; its document count is checked when the build finishes.
    pub fn partition(&mut self, index: usize, of: usize, first_document: u64) {
        self.partition = Some(Partition {
            index,
            of,
            first_document,
            documents: 0,
        });
    }

    /// Adds a document (ids must be unique across the index).
    pub fn add(&mut self, mut doc: Document) -> Result<(), TraceError> {
        if !self.ids.insert(doc.meta.id.clone()) {
            return Err(TraceError::DuplicateId { id: doc.meta.id });
        }
        doc.meta.bytes = Some(doc.text.len() as u64);
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
        if let Some(out) = self.excluded.take() {
            let path = self.partial.join(EXCLUDED_FILE);
            out.into_inner()
                .map_err(|e| e.into_error())
                .and_then(|f| f.sync_all())
                .map_err(TraceError::io("write", &path))?;
        }
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
            partition: self.partition.map(|p| Partition {
                documents: self.documents,
                ..p
            }),
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
            excluded: self.excluded_count,
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DocAddress {
    pub shard: usize,
    pub doc: usize,
}

/// A document that contains a query, with how often.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocHit {
    pub address: DocAddress,
    pub meta: DocMeta,
    pub occurrences: u64,
    /// Set when the document was withdrawn: it is then reported apart, never as a source.
    pub withdrawn: Option<Tombstone>,
}

/// The documents containing a query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// Live documents first by occurrences, then in index order (the order of shards, so of
/// the corpus): one order whether the index is whole or in shards.
fn rank(hits: &mut [DocHit]) {
    hits.sort_by(|a, b| {
        b.occurrences
            .cmp(&a.occurrences)
            .then(a.address.cmp(&b.address))
    });
}

impl DocumentsResult {
    /// The result of an index made of several, from each one's result for the same
    /// query and `limit`, in index order, with `first_shard` the number of shards of the
    /// indexes before it. Each part's best `limit` live documents include its share of
    /// the whole's best `limit`, so the merge equals the whole's answer (unless a part
    /// stopped scanning: `complete` then says so).
    pub fn merge(parts: impl IntoIterator<Item = (usize, DocumentsResult)>, limit: usize) -> Self {
        let mut merged = DocumentsResult {
            occurrences: 0,
            documents: Vec::new(),
            withdrawn: Vec::new(),
            complete: true,
        };
        for (first_shard, part) in parts {
            let shift = |mut hit: DocHit| {
                hit.address.shard += first_shard;
                hit
            };
            merged.occurrences += part.occurrences;
            merged.complete &= part.complete;
            merged
                .documents
                .extend(part.documents.into_iter().map(shift));
            merged
                .withdrawn
                .extend(part.withdrawn.into_iter().map(shift));
        }
        rank(&mut merged.documents);
        rank(&mut merged.withdrawn);
        merged.documents.truncate(limit);
        merged
    }
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
    /// The index directories whose withdrawals apply: `dir` itself, or a sharded
    /// index's parts.
    parts: Vec<PathBuf>,
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
    /// was built with. A sharded index opens as one index over every part's shards, in
    /// the parts' order (so documents keep the corpus's order).
    pub fn open(dir: &Path, tokenizer: Arc<dyn IndexTokenizer>) -> Result<Index, TraceError> {
        if dir.join(SHARDED_FILE).exists() {
            return Self::open_sharded(dir, tokenizer);
        }
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
            check_tokenizer(shard.dir(), &shard.manifest().tokenizer, &*tokenizer)?;
            shards.push(shard);
        }
        Self::over(dir, manifest, vec![dir.to_owned()], shards, tokenizer)
    }

    /// Opens every part of a sharded index, each checked against its digest.
    fn open_sharded(dir: &Path, tokenizer: Arc<dyn IndexTokenizer>) -> Result<Index, TraceError> {
        let sharded = sharded::read_manifest(dir)?;
        check_tokenizer(dir, &sharded.tokenizer, &*tokenizer)?;
        let (mut parts, mut shards, mut names) = (Vec::new(), Vec::new(), Vec::new());
        for part in &sharded.shards {
            let path = dir.join(&part.path);
            sharded::check_digest(&path, &part.digest)?;
            let index = Index::open(&path, tokenizer.clone())?;
            names.extend(
                index
                    .manifest
                    .shards
                    .iter()
                    .map(|s| format!("{}/{s}", part.path)),
            );
            parts.push(path);
            shards.extend(index.shards);
        }
        let manifest = IndexManifest {
            format: sharded.format,
            tokenizer: sharded.tokenizer,
            shards: names,
            partition: None,
        };
        Self::over(dir, manifest, parts, shards, tokenizer)
    }

    fn over(
        dir: &Path,
        manifest: IndexManifest,
        parts: Vec<PathBuf>,
        shards: Vec<Shard>,
        tokenizer: Arc<dyn IndexTokenizer>,
    ) -> Result<Index, TraceError> {
        let mut unigram = vec![0u64; 1 << 16];
        for s in &shards {
            for &(t, c) in &s.manifest().unigram {
                unigram[t as usize] += c;
            }
        }
        Ok(Index {
            tombstones: read_tombstones(&parts)?,
            dir: dir.to_owned(),
            manifest,
            parts,
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
        self.tombstones = read_tombstones(&self.parts)?;
        Ok(())
    }

    /// The files of withdrawals (one per part of a sharded index): a reader that holds
    /// the index watches them for changes.
    pub fn withdrawn_files(&self) -> Vec<PathBuf> {
        self.parts.iter().map(|p| p.join(WITHDRAWN_FILE)).collect()
    }

    /// The file that names what the index holds (`index.json`, or `sharded.json` for a
    /// sharded index): its hash identifies the index in reports.
    pub fn manifest_file(&self) -> PathBuf {
        manifest_file(&self.dir)
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

/// The documents a build left out: one [`DocMeta`] a line ([`IndexBuilder::exclude`]).
const EXCLUDED_FILE: &str = "excluded.jsonl";

/// The documents the build of the index at `dir` left out, in the order it met them
/// (none when it left none out).
pub fn excluded_documents(dir: &Path) -> Result<Vec<DocMeta>, TraceError> {
    let path = dir.join(EXCLUDED_FILE);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(TraceError::io("read", &path)(e)),
    };
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, line)| {
            serde_json::from_str(line).map_err(|e| TraceError::BadCorpusLine {
                path: path.clone(),
                line: i as u64 + 1,
                reason: e.to_string(),
            })
        })
        .collect()
}

/// Calls `f` with every document's metadata of the index at `dir` (a sharded index's
/// parts in order), without its tokenizer: what reads the collection, not the text.
pub fn for_each_document<E: From<TraceError>>(
    dir: &Path,
    f: &mut dyn FnMut(DocMeta) -> Result<(), E>,
) -> Result<(), E> {
    if dir.join(SHARDED_FILE).exists() {
        for part in sharded::read_manifest(dir)?.shards {
            for_each_document(&dir.join(&part.path), f)?;
        }
        return Ok(());
    }
    let mpath = dir.join(INDEX_FILE);
    let bytes = fs::read(&mpath).map_err(TraceError::io("read", &mpath))?;
    let manifest: IndexManifest =
        serde_json::from_slice(&bytes).map_err(|e| TraceError::corrupt(&mpath, e.to_string()))?;
    for name in &manifest.shards {
        let shard = Shard::open(&dir.join(name))?;
        for doc in 0..shard.documents() {
            f(shard.doc_meta(doc)?)?;
        }
    }
    Ok(())
}

/// Where `index withdraw` writes into the index at `dir`, relative to it, `/`-separated
/// (one list a part of a sharded index): the files that change after an index is built,
/// which a signature over the index (its corpus model's identity) leaves out.
pub fn withdrawal_lists(dir: &Path) -> Result<Vec<String>, TraceError> {
    if !dir.join(SHARDED_FILE).exists() {
        return Ok(vec![WITHDRAWN_FILE.to_owned()]);
    }
    Ok(sharded::read_manifest(dir)?
        .shards
        .iter()
        .map(|part| format!("{}/{WITHDRAWN_FILE}", part.path))
        .collect())
}

/// The file that names what the index at `dir` holds (see [`Index::manifest_file`]).
pub fn manifest_file(dir: &Path) -> PathBuf {
    match dir.join(SHARDED_FILE) {
        sharded if sharded.exists() => sharded,
        _ => dir.join(INDEX_FILE),
    }
}

/// Refuses shards built with another tokenizer than the query's.
fn check_tokenizer(
    path: &Path,
    built: &TokenizerInfo,
    tokenizer: &dyn IndexTokenizer,
) -> Result<(), TraceError> {
    if built.identity == tokenizer.identity() {
        return Ok(());
    }
    Err(TraceError::TokenizerMismatch {
        path: path.to_owned(),
        built_with: format!("{} ({})", built.name, built.identity),
        query_with: format!("{} ({})", tokenizer.name(), tokenizer.identity()),
    })
}

/// The withdrawals of every part, the first withdrawal of an id being the one that counts.
fn read_tombstones(parts: &[PathBuf]) -> Result<HashMap<String, Tombstone>, TraceError> {
    let mut out = HashMap::new();
    for dir in parts {
        read_withdrawn_file(&dir.join(WITHDRAWN_FILE), &mut out)?;
    }
    Ok(out)
}

fn read_withdrawn_file(
    path: &Path,
    out: &mut HashMap<String, Tombstone>,
) -> Result<(), TraceError> {
    let path = path.to_owned();
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(TraceError::io("read", &path)(e)),
    };
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
    Ok(())
}

/// Withdraws a document from the index at `dir`: appends a tombstone that queries apply
/// (shards stay immutable; the next build leaves the document out). In a sharded index
/// every part records it, so that each part's server applies it wherever the document is.
pub fn withdraw(dir: &Path, tombstone: &Tombstone) -> Result<(), TraceError> {
    if dir.join(SHARDED_FILE).exists() {
        let sharded = sharded::read_manifest(dir)?;
        return sharded
            .shards
            .iter()
            .try_for_each(|part| withdraw(&dir.join(&part.path), tombstone));
    }
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
