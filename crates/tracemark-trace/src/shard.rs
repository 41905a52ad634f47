//! One immutable index shard: its files, how it is written, and how it is read.
//!
//! A shard is a directory `shard-NNNNN/` holding
//!
//! | file | content |
//! |---|---|
//! | `tokens.u16` | infini-gram's `tokenized` file: per document `0xFFFF` then its tokens, u16 LE |
//! | `table.sa` | the suffix array of `tokens.u16` (token positions, in token order), bit-packed at `sa_bits` bits per entry, LSB first, then 8 zero bytes |
//! | `docs.u64` | the token position of every document's separator, u64 LE |
//! | `meta.jsonl` / `meta.idx` | one [`DocMeta`] JSON line per document; u64 LE byte offsets of the lines (documents + 1 entries) |
//! | `minhash.u64` | every document's MinHash values (128 u64 LE), in the manifest's `minhash_scheme` |
//! | `manifest.json` | [`Manifest`]: format, tokenizer, sizes, unigram counts, MinHash scheme, SHA-256 of every file |
//!
//! The suffix array width is the fewest bits that address the shard (`ceil(log2 n)`), so
//! a 100M-token shard takes 27 bits = 3.4 bytes per entry and 5.4 bytes per token with
//! the tokens. Files are written into a temporary directory and the directory is renamed
//! into place after the manifest (written last) is synced, so a failed build never
//! leaves a shard that looks complete.

use std::{
    collections::BTreeMap,
    fs,
    io::{BufWriter, Write},
    ops::Range,
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{
    TraceError,
    corpus::DocMeta,
    minhash::{NUM_HASHES, Scheme, Signature, Sketch},
    mmap::Mapped,
    tokenizer::{IndexTokenizer, SEP},
};

#[cfg(not(target_endian = "little"))]
compile_error!(
    "shard files are little-endian and read in place: a big-endian target needs byte swapping"
);

/// The shard format this build writes and reads.
pub const SHARD_FORMAT: &str = "tracemark.trace-shard/v1";

/// The MinHash schemes this build reads in a shard.
const READ_MINHASH_SCHEMES: &str = "format tracemark.trace-shard/v1 with MinHash scheme minhash-sha256-w5x128-v2 or minhash-sha256-w5x128-v1";

/// The largest shard: positions must fit libsais' 32-bit output.
pub const MAX_SHARD_TOKENS: usize = i32::MAX as usize;

/// The tokenizer a shard was built with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenizerInfo {
    pub name: String,
    pub identity: String,
    pub vocab_size: usize,
}

/// Size and checksum of one shard file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSum {
    pub bytes: u64,
    pub sha256: String,
}

/// `manifest.json`: what a reader needs to trust the other files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub tokenizer: TokenizerInfo,
    /// Tokens including one separator per document.
    pub tokens: u64,
    pub documents: u64,
    pub sa_bits: u32,
    /// `(token, count)` for every token id that occurs (separators excluded).
    pub unigram: Vec<(u16, u64)>,
    pub minhash_hashes: usize,
    /// The MinHash scheme of `minhash.u64` ([`crate::minhash::Scheme`]'s id). Shards
    /// written before scheme ids existed have none: their values were made by the
    /// definition now called `minhash-sha256-w5x128-v2` (it moved to `tracemark_core`
    /// unchanged), so that is what its absence means.
    #[serde(default = "unversioned_minhash_scheme")]
    pub minhash_scheme: String,
    pub files: BTreeMap<String, FileSum>,
}

/// The MinHash scheme of a shard whose manifest names none.
fn unversioned_minhash_scheme() -> String {
    Scheme::V2.id().to_owned()
}

/// The fewest bits that hold every position `0..n`.
pub fn sa_bits_for(n: usize) -> u32 {
    (usize::BITS - n.saturating_sub(1).leading_zeros()).max(1)
}

/// Bytes of a bit-packed array of `n` entries of `bits` bits, with its 8-byte tail.
fn packed_len(n: usize, bits: u32) -> usize {
    (n * bits as usize).div_ceil(8) + 8
}

/// Packs `values` at `bits` bits each, LSB first.
fn pack(values: &[i32], bits: u32) -> Vec<u8> {
    let mut out = vec![0u8; packed_len(values.len(), bits)];
    let mut acc: u64 = 0;
    let mut filled = 0u32;
    let mut at = 0usize;
    for &v in values {
        acc |= (v as u64) << filled;
        filled += bits;
        while filled >= 8 {
            out[at] = acc as u8;
            at += 1;
            acc >>= 8;
            filled -= 8;
        }
    }
    if filled > 0 {
        out[at] = acc as u8;
    }
    out
}

/// What a document's MinHash signature is made from, when its shard is written.
#[derive(Debug)]
pub(crate) enum SignSource {
    /// The document's text.
    Text(String),
    /// Its tokens, decoded with the index's tokenizer (none when it cannot decode).
    Tokens,
}

/// The in-memory content of a shard before it is written.
///
/// Signatures are made when the shard is written, at the same time as its suffix array
/// (the two are the build's largest costs and need nothing from each other), so the
/// texts of a shard's documents are kept until then.
#[derive(Debug, Default)]
pub(crate) struct ShardData {
    pub tokens: Vec<u16>,
    pub doc_starts: Vec<u64>,
    pub metas: Vec<DocMeta>,
    pub sign: Vec<SignSource>,
}

impl ShardData {
    pub fn push(&mut self, meta: DocMeta, ids: &[u16], sign: SignSource) {
        self.doc_starts.push(self.tokens.len() as u64);
        self.tokens.push(SEP);
        self.tokens.extend_from_slice(ids);
        self.metas.push(meta);
        self.sign.push(sign);
    }

    /// The tokens of document `doc` (without its separator).
    fn doc_tokens(&self, doc: usize) -> &[u16] {
        let begin = self.doc_starts[doc] as usize + 1;
        let end = self
            .doc_starts
            .get(doc + 1)
            .map_or(self.tokens.len(), |&s| s as usize);
        &self.tokens[begin..end]
    }

    /// Every document's MinHash values in the current scheme (in parallel), as
    /// `minhash.u64`'s words.
    fn signatures(&self, tokenizer: &dyn IndexTokenizer) -> Vec<u64> {
        use rayon::prelude::*;
        let scheme = Scheme::CURRENT;
        let sigs: Vec<Signature> = (0..self.metas.len())
            .into_par_iter()
            .with_min_len(8)
            .map(|doc| match &self.sign[doc] {
                SignSource::Text(t) => *scheme.sketch(t).values(),
                SignSource::Tokens => tokenizer
                    .decode(self.doc_tokens(doc))
                    .map_or([scheme.empty_value(); NUM_HASHES], |t| {
                        *scheme.sketch(&t).values()
                    }),
            })
            .collect();
        sigs.iter().flatten().copied().collect()
    }
}

/// Writes `bytes` to `dir/name`, returning its size and checksum.
fn write_file(
    dir: &Path,
    name: &str,
    bytes: &[u8],
    sums: &mut BTreeMap<String, FileSum>,
) -> Result<(), TraceError> {
    let path = dir.join(name);
    let file = fs::File::create(&path).map_err(TraceError::io("create", &path))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    w.write_all(bytes).map_err(TraceError::io("write", &path))?;
    let file = w
        .into_inner()
        .map_err(|e| TraceError::io("write", &path)(e.into_error()))?;
    file.sync_all().map_err(TraceError::io("sync", &path))?;
    sums.insert(
        name.to_owned(),
        FileSum {
            bytes: bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(bytes)),
        },
    );
    Ok(())
}

/// The suffix array of `tokens` (libsais, multi-threaded with OpenMP).
pub(crate) fn suffix_array(tokens: &[u16]) -> Result<Vec<i32>, TraceError> {
    use libsais::{SuffixArrayConstruction, ThreadCount};
    if tokens.is_empty() {
        return Ok(Vec::new());
    }
    SuffixArrayConstruction::for_text(tokens)
        .in_owned_buffer()
        .multi_threaded(ThreadCount::openmp_default())
        .run()
        .map(|sa| sa.into_vec())
        .map_err(|e| TraceError::SuffixArray(format!("{e:?}")))
}

fn unigram(tokens: &[u16]) -> Vec<(u16, u64)> {
    let mut counts = vec![0u64; 1 << 16];
    for &t in tokens {
        counts[t as usize] += 1;
    }
    counts[SEP as usize] = 0;
    counts
        .iter()
        .enumerate()
        .filter(|(_, c)| **c > 0)
        .map(|(t, c)| (t as u16, *c))
        .collect()
}

fn le_bytes_u64(values: &[u64]) -> &[u8] {
    bytemuck::cast_slice(values)
}

/// Seconds spent on the parts of a shard write.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ShardTimes {
    /// Wall time of the whole write.
    pub total: f64,
    /// libsais alone.
    pub suffix_array: f64,
    /// The MinHash signatures (made while libsais runs).
    pub minhash: f64,
}

/// Writes `data` as a complete shard at `dest` (through `dest` + `.tmp`, then rename);
/// returns its manifest and where the time went.
///
/// Two branches run at the same time: the suffix array (libsais, then packed and
/// written), and the other files with the MinHash signatures.
pub(crate) fn write_shard(
    data: ShardData,
    tokenizer: &dyn IndexTokenizer,
    dest: &Path,
) -> Result<(Manifest, ShardTimes), TraceError> {
    let started = std::time::Instant::now();
    let n = data.tokens.len();
    if n > MAX_SHARD_TOKENS {
        return Err(TraceError::Parameter(format!(
            "a shard of {n} tokens exceeds {MAX_SHARD_TOKENS}"
        )));
    }
    let tmp = PathBuf::from(format!("{}.tmp", dest.display()));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(TraceError::io("remove stale", &tmp))?;
    }
    fs::create_dir_all(&tmp).map_err(TraceError::io("create", &tmp))?;
    let bits = sa_bits_for(n);
    let mut times = ShardTimes::default();
    let (sa_branch, rest_branch) = rayon::join(
        || -> Result<(BTreeMap<String, FileSum>, f64), TraceError> {
            let mut files = BTreeMap::new();
            let t = std::time::Instant::now();
            let sa = suffix_array(&data.tokens)?;
            let seconds = t.elapsed().as_secs_f64();
            let packed = pack(&sa, bits);
            drop(sa);
            write_file(&tmp, "table.sa", &packed, &mut files)?;
            Ok((files, seconds))
        },
        || -> Result<(BTreeMap<String, FileSum>, f64), TraceError> {
            let mut files = BTreeMap::new();
            let t = std::time::Instant::now();
            let sigs = data.signatures(tokenizer);
            let seconds = t.elapsed().as_secs_f64();
            write_file(
                &tmp,
                "tokens.u16",
                bytemuck::cast_slice(&data.tokens),
                &mut files,
            )?;
            write_file(&tmp, "docs.u64", le_bytes_u64(&data.doc_starts), &mut files)?;
            let (meta, idx) = metadata_store(&data.metas)?;
            write_file(&tmp, "meta.jsonl", &meta, &mut files)?;
            write_file(&tmp, "meta.idx", le_bytes_u64(&idx), &mut files)?;
            write_file(&tmp, "minhash.u64", le_bytes_u64(&sigs), &mut files)?;
            Ok((files, seconds))
        },
    );
    let (mut files, sa_seconds) = sa_branch?;
    let (rest, minhash_seconds) = rest_branch?;
    files.extend(rest);
    times.suffix_array = sa_seconds;
    times.minhash = minhash_seconds;
    let manifest = Manifest {
        format: SHARD_FORMAT.to_owned(),
        tokenizer: TokenizerInfo {
            name: tokenizer.name(),
            identity: tokenizer.identity(),
            vocab_size: tokenizer.vocab_size(),
        },
        tokens: n as u64,
        documents: data.metas.len() as u64,
        sa_bits: bits,
        unigram: unigram(&data.tokens),
        minhash_hashes: NUM_HASHES,
        minhash_scheme: Scheme::CURRENT.id().to_owned(),
        files,
    };
    let json =
        serde_json::to_vec_pretty(&manifest).map_err(|e| TraceError::Parameter(e.to_string()))?;
    write_file(&tmp, "manifest.json", &json, &mut BTreeMap::new())?;
    fs::rename(&tmp, dest).map_err(TraceError::io("rename into place", dest))?;
    times.total = started.elapsed().as_secs_f64();
    Ok((manifest, times))
}

fn metadata_store(metas: &[DocMeta]) -> Result<(Vec<u8>, Vec<u64>), TraceError> {
    let mut out = Vec::new();
    let mut idx = Vec::with_capacity(metas.len() + 1);
    for m in metas {
        idx.push(out.len() as u64);
        serde_json::to_writer(&mut out, m).map_err(|e| TraceError::Parameter(e.to_string()))?;
        out.push(b'\n');
    }
    idx.push(out.len() as u64);
    Ok((out, idx))
}

/// An open, memory-mapped shard.
#[derive(Debug)]
pub struct Shard {
    dir: PathBuf,
    manifest: Manifest,
    tokens: Mapped,
    sa: Mapped,
    docs: Mapped,
    meta: Mapped,
    meta_idx: Mapped,
    minhash: Mapped,
    minhash_scheme: Scheme,
}

/// The files every shard has, with the size each must have given the manifest.
fn expected_sizes(m: &Manifest) -> [(&'static str, u64); 6] {
    let (n, d) = (m.tokens as usize, m.documents);
    [
        ("tokens.u16", 2 * m.tokens),
        ("table.sa", packed_len(n, m.sa_bits) as u64),
        ("docs.u64", 8 * d),
        ("meta.idx", 8 * (d + 1)),
        ("minhash.u64", 8 * d * m.minhash_hashes as u64),
        (
            "meta.jsonl",
            m.files.get("meta.jsonl").map_or(0, |f| f.bytes),
        ),
    ]
}

impl Shard {
    /// Opens `dir`, checking the manifest, every file's size and the document table
    /// (cheap checks; [`Shard::verify`] compares checksums too).
    pub fn open(dir: &Path) -> Result<Shard, TraceError> {
        let mpath = dir.join("manifest.json");
        let bytes = fs::read(&mpath).map_err(TraceError::io("read", &mpath))?;
        let manifest: Manifest = serde_json::from_slice(&bytes)
            .map_err(|e| TraceError::corrupt(dir, format!("manifest.json: {e}")))?;
        if manifest.format != SHARD_FORMAT {
            return Err(TraceError::ShardVersion {
                path: dir.to_owned(),
                found: manifest.format,
                expected: SHARD_FORMAT,
            });
        }
        let Some(minhash_scheme) = Scheme::from_id(&manifest.minhash_scheme) else {
            return Err(TraceError::ShardVersion {
                path: dir.to_owned(),
                found: format!(
                    "{} with MinHash scheme `{}`",
                    manifest.format, manifest.minhash_scheme
                ),
                expected: READ_MINHASH_SCHEMES,
            });
        };
        if manifest.sa_bits != sa_bits_for(manifest.tokens as usize)
            || manifest.minhash_hashes != NUM_HASHES
        {
            return Err(TraceError::corrupt(
                dir,
                "manifest parameters are inconsistent",
            ));
        }
        for (name, size) in expected_sizes(&manifest) {
            let recorded = manifest.files.get(name).map(|f| f.bytes);
            let actual = fs::metadata(dir.join(name))
                .map_err(TraceError::io("stat", dir.join(name)))?
                .len();
            if recorded != Some(size) || actual != size {
                return Err(TraceError::corrupt(
                    dir,
                    format!(
                        "{name} has {actual} bytes, the manifest says {size} (truncated or damaged)"
                    ),
                ));
            }
        }
        let map = |name: &str| Mapped::open(&dir.join(name));
        let shard = Shard {
            dir: dir.to_owned(),
            tokens: map("tokens.u16")?,
            sa: map("table.sa")?,
            docs: map("docs.u64")?,
            meta: map("meta.jsonl")?,
            meta_idx: map("meta.idx")?,
            minhash: map("minhash.u64")?,
            minhash_scheme,
            manifest,
        };
        shard.check_documents()?;
        Ok(shard)
    }

    /// Every document starts with a separator at the recorded position, in order.
    fn check_documents(&self) -> Result<(), TraceError> {
        let tokens = self.tokens();
        let starts = self.doc_starts();
        let ok = starts.first().is_none_or(|&s| s == 0)
            && starts.windows(2).all(|w| w[0] < w[1])
            && starts.iter().all(|&s| tokens.get(s as usize) == Some(&SEP))
            && self.meta_offsets().windows(2).all(|w| w[0] <= w[1])
            && self
                .meta_offsets()
                .last()
                .is_some_and(|&e| e as usize == self.meta.len());
        if ok {
            Ok(())
        } else {
            Err(TraceError::corrupt(
                &self.dir,
                "document table does not match the tokens",
            ))
        }
    }

    /// Recomputes every file's SHA-256 and compares it with the manifest.
    pub fn verify(&self) -> Result<(), TraceError> {
        let files: [(&str, &[u8]); 6] = [
            ("tokens.u16", &self.tokens),
            ("table.sa", &self.sa),
            ("docs.u64", &self.docs),
            ("meta.jsonl", &self.meta),
            ("meta.idx", &self.meta_idx),
            ("minhash.u64", &self.minhash),
        ];
        for (name, bytes) in files {
            let sum = hex::encode(Sha256::digest(bytes));
            if self.manifest.files.get(name).map(|f| &f.sha256) != Some(&sum) {
                return Err(TraceError::corrupt(
                    &self.dir,
                    format!("{name} does not match its SHA-256"),
                ));
            }
        }
        Ok(())
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The token array (separators included).
    pub fn tokens(&self) -> &[u16] {
        // Page-aligned map of a length checked at open: the cast cannot fail.
        bytemuck::try_cast_slice(&self.tokens).unwrap_or(&[])
    }

    pub fn len(&self) -> usize {
        self.manifest.tokens as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn documents(&self) -> usize {
        self.manifest.documents as usize
    }

    fn doc_starts(&self) -> &[u64] {
        bytemuck::try_cast_slice(&self.docs).unwrap_or(&[])
    }

    fn meta_offsets(&self) -> &[u64] {
        bytemuck::try_cast_slice(&self.meta_idx).unwrap_or(&[])
    }

    /// Suffix array entry `i`.
    #[inline]
    pub fn sa(&self, i: usize) -> usize {
        let bits = self.manifest.sa_bits as usize;
        let bit = i * bits;
        let at = bit / 8;
        let mut word = [0u8; 8];
        word.copy_from_slice(&self.sa[at..at + 8]);
        ((u64::from_le_bytes(word) >> (bit % 8)) & ((1u64 << bits) - 1)) as usize
    }

    /// The document holding token position `pos`.
    pub fn doc_of(&self, pos: usize) -> usize {
        self.doc_starts()
            .partition_point(|&s| s as usize <= pos)
            .saturating_sub(1)
    }

    /// The tokens of document `doc` (without its separator).
    pub fn doc_tokens(&self, doc: usize) -> &[u16] {
        let starts = self.doc_starts();
        let begin = starts[doc] as usize + 1;
        let end = starts.get(doc + 1).map_or(self.len(), |&s| s as usize);
        &self.tokens()[begin..end]
    }

    /// The token position of document `doc`'s separator.
    pub fn doc_start(&self, doc: usize) -> u64 {
        self.doc_starts()[doc]
    }

    /// `meta.jsonl` and the byte offset of each of its lines (documents + 1 entries).
    pub(crate) fn meta_lines(&self) -> (&[u8], &[u64]) {
        (&self.meta, self.meta_offsets())
    }

    /// The id of document `doc` (its metadata line read for `id` alone).
    pub fn doc_id(&self, doc: usize) -> Result<String, TraceError> {
        #[derive(Deserialize)]
        struct IdOnly {
            id: String,
        }
        let offs = self.meta_offsets();
        let line = &self.meta[offs[doc] as usize..offs[doc + 1] as usize];
        serde_json::from_slice::<IdOnly>(line)
            .map(|m| m.id)
            .map_err(|e| TraceError::corrupt(&self.dir, format!("metadata of document {doc}: {e}")))
    }

    /// The metadata of document `doc`.
    pub fn doc_meta(&self, doc: usize) -> Result<DocMeta, TraceError> {
        let offs = self.meta_offsets();
        let line = &self.meta[offs[doc] as usize..offs[doc + 1] as usize];
        serde_json::from_slice(line)
            .map_err(|e| TraceError::corrupt(&self.dir, format!("metadata of document {doc}: {e}")))
    }

    /// The MinHash scheme of this shard's signatures.
    pub fn minhash_scheme(&self) -> Scheme {
        self.minhash_scheme
    }

    /// The MinHash sketch of document `doc`, in the shard's scheme (empty, matching
    /// nothing, when its values are out of the scheme's range: a damaged file, which
    /// [`Shard::verify`] reports).
    pub fn signature(&self, doc: usize) -> Sketch {
        let all: &[u64] = bytemuck::try_cast_slice(&self.minhash).unwrap_or(&[]);
        let scheme = self.minhash_scheme;
        let mut values = [scheme.empty_value(); NUM_HASHES];
        if let Some(s) = all.get(doc * NUM_HASHES..(doc + 1) * NUM_HASHES) {
            values.copy_from_slice(s);
        }
        Sketch::new(scheme, values).unwrap_or_else(|| scheme.sketch(""))
    }

    /// Compares the first `q.len()` tokens of the suffix at `pos` with `q` (a suffix
    /// shorter than `q` that agrees is smaller, as in the suffix array's order).
    #[inline]
    fn cmp_suffix(&self, pos: usize, q: &[u16]) -> std::cmp::Ordering {
        let tokens = self.tokens();
        let end = (pos + q.len()).min(tokens.len());
        tokens[pos..end].cmp(q)
    }

    /// The suffix-array range of suffixes starting with `q` (two binary searches).
    pub fn find(&self, q: &[u16]) -> Range<usize> {
        use std::cmp::Ordering::*;
        let n = self.len();
        if q.is_empty() {
            return 0..n;
        }
        // Find one match first, then the two bounds inside the bracketing range.
        let (mut lo, mut hi) = (0usize, n);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.cmp_suffix(self.sa(mid), q) {
                Less => lo = mid + 1,
                Greater => hi = mid,
                Equal => {
                    let first = self.partition(lo, mid, |p| self.cmp_suffix(p, q) == Less);
                    let last = self.partition(mid, hi, |p| self.cmp_suffix(p, q) != Greater);
                    return first..last;
                }
            }
        }
        lo..lo
    }

    /// The first index in `lo..hi` whose suffix position fails `pred` (`pred` holds on a
    /// prefix of the range).
    #[inline]
    fn partition(&self, mut lo: usize, mut hi: usize, pred: impl Fn(usize) -> bool) -> usize {
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if pred(self.sa(mid)) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// The token at offset `depth` of the suffix at `pos` (`None` past the end).
    #[inline]
    fn token_at(&self, pos: usize, depth: usize) -> Option<u16> {
        self.tokens().get(pos + depth).copied()
    }

    /// Within `range`, whose suffixes share their first `depth` tokens, the subrange
    /// whose next token is `t`.
    pub fn narrow(&self, range: Range<usize>, depth: usize, t: u16) -> Range<usize> {
        let lo = self.partition(range.start, range.end, |p| {
            self.token_at(p, depth) < Some(t)
        });
        let hi = self.partition(lo, range.end, |p| self.token_at(p, depth) <= Some(t));
        lo..hi
    }

    /// The distinct next tokens after `depth` shared tokens in `range`, with counts
    /// (suffixes that end there have none).
    pub fn continuations(&self, range: Range<usize>, depth: usize) -> Vec<(u16, u64)> {
        let mut out = Vec::new();
        let mut i = range.start;
        while i < range.end {
            match self.token_at(self.sa(i), depth) {
                None => i += 1,
                Some(t) => {
                    let end = self.partition(i, range.end, |p| self.token_at(p, depth) <= Some(t));
                    out.push((t, (end - i) as u64));
                    i = end;
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_names_every_scheme_a_shard_may_have() {
        for scheme in Scheme::ALL {
            assert!(READ_MINHASH_SCHEMES.contains(scheme.id()), "{scheme}");
        }
        assert_eq!(unversioned_minhash_scheme(), "minhash-sha256-w5x128-v2");
    }

    #[test]
    fn sa_width_is_the_fewest_bits_that_address_every_position() {
        assert_eq!(sa_bits_for(0), 1);
        assert_eq!(sa_bits_for(2), 1);
        assert_eq!(sa_bits_for(3), 2);
        assert_eq!(sa_bits_for(256), 8);
        assert_eq!(sa_bits_for(257), 9);
        assert_eq!(sa_bits_for(99_600_000), 27);
    }

    #[test]
    fn packing_round_trips_at_every_width() {
        for bits in [1u32, 3, 8, 13, 27, 31] {
            let max = (1u64 << bits) - 1;
            let values: Vec<i32> = (0..100u64)
                .map(|i| ((i * 2_654_435_761) & max) as i32)
                .collect();
            let packed = pack(&values, bits);
            assert_eq!(packed.len(), packed_len(values.len(), bits));
            for (i, &v) in values.iter().enumerate() {
                let bit = i * bits as usize;
                let mut w = [0u8; 8];
                w.copy_from_slice(&packed[bit / 8..bit / 8 + 8]);
                assert_eq!((u64::from_le_bytes(w) >> (bit % 8)) & max, v as u64);
            }
        }
    }
}
