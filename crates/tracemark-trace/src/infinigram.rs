//! Export of an index in infini-gram's on-disk format, so that infini-gram's own engine
//! (PyPI `infini-gram`, its C++ `Engine`) answers queries over the very same tokens and
//! suffix array that this crate built.
//!
//! infini-gram's index directory holds, per shard `S` (version 4, forward):
//!
//! | file | content |
//! |---|---|
//! | `tokenized.S` | the token file: per document `0xFFFF` then its tokens, u16 LE. Byte for byte a shard's `tokens.u16` |
//! | `table.S` | the suffix array: for each rank, the suffix's **byte** offset in `tokenized.S`, little-endian, `ptr` bytes each; the engine takes `ptr = size(table) / tokens`. infini-gram's indexer uses `ceil(log2(bytes of tokenized.S) / 8)` bytes, and so does this export |
//! | `offset.S` | the byte offset in `tokenized.S` of every document's separator, u64 LE |
//! | `metadata.S` / `metaoff.S` | optional: one metadata line per document, and the u64 LE byte offset of each line (one per document). The export writes the shard's `meta.jsonl` lines |
//!
//! infini-gram orders suffixes by `memcmp` of their little-endian bytes, this crate by
//! token id. The two orders agree when every token id other than the separator is below
//! 256 (the byte-level tokenizer's ids are 1..=256, and 256 never occurs in UTF-8 text);
//! for any other shard the export builds the byte-order suffix array with libsais over
//! the byte-swapped tokens (whose numeric order is the little-endian byte order).
//!
//! The engine finds files by substring of their full path (`tokenized`, `table`,
//! `offset`, `metadata`, `metaoff`, `unigram`), so the export refuses an output path that
//! contains one of those words anywhere but in the file names it writes.

use std::{
    fs,
    io::{BufWriter, Write},
    path::Path,
};

use crate::{Index, TraceError, shard::Shard, tokenizer::SEP};

/// Words infini-gram's engine looks for in every path of an index directory.
pub const ENGINE_PATH_WORDS: [&str; 6] = [
    "tokenized",
    "table",
    "offset",
    "metadata",
    "metaoff",
    "unigram",
];

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ExportSummary {
    pub shards: usize,
    /// Bytes per suffix-array pointer, per shard.
    pub pointer_bytes: Vec<u8>,
    /// Shards whose byte-order suffix array had to be built (ids above 255).
    pub resorted: Vec<usize>,
}

/// infini-gram's pointer width for a token file of `bytes` bytes:
/// `ceil(log2(bytes) / 8)` (its indexer's `ratio`), at least 1.
pub fn pointer_bytes(bytes: u64) -> u8 {
    let bits = u64::BITS - bytes.saturating_sub(1).leading_zeros();
    bits.div_ceil(8).max(1) as u8
}

/// Writes `index` in infini-gram's format into the new directory `out` (shard `k` of the
/// index becomes `tokenized.k`, `table.k`, `offset.k`, `metadata.k`, `metaoff.k`).
pub fn export(index: &Index, out: &Path) -> Result<ExportSummary, TraceError> {
    let full = std::path::absolute(out).map_err(TraceError::io("resolve", out))?;
    let lower = full.to_string_lossy().to_lowercase();
    if let Some(word) = ENGINE_PATH_WORDS.iter().find(|w| lower.contains(*w)) {
        return Err(TraceError::Parameter(format!(
            "{} contains `{word}`: infini-gram's engine classifies index files by substrings \
             of their full path, so it would misread this directory; choose another path",
            out.display()
        )));
    }
    if out.exists() {
        return Err(TraceError::Exists {
            path: out.to_owned(),
        });
    }
    let partial = std::path::PathBuf::from(format!("{}.partial", out.display()));
    if partial.exists() {
        fs::remove_dir_all(&partial).map_err(TraceError::io("remove stale", &partial))?;
    }
    fs::create_dir_all(&partial).map_err(TraceError::io("create", &partial))?;
    let mut summary = ExportSummary {
        shards: 0,
        pointer_bytes: Vec::new(),
        resorted: Vec::new(),
    };
    for (k, shard) in index.shards().iter().enumerate() {
        let (ptr, resorted) = export_shard(shard, k, &partial)?;
        summary.shards += 1;
        summary.pointer_bytes.push(ptr);
        if resorted {
            summary.resorted.push(k);
        }
    }
    fs::rename(&partial, out).map_err(TraceError::io("rename into place", out))?;
    Ok(summary)
}

fn write_all(
    path: &Path,
    chunks: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), TraceError> {
    let file = fs::File::create(path).map_err(TraceError::io("create", path))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    chunks(&mut w).map_err(TraceError::io("write", path))?;
    let file = w
        .into_inner()
        .map_err(|e| TraceError::io("write", path)(e.into_error()))?;
    file.sync_all().map_err(TraceError::io("sync", path))
}

fn export_shard(shard: &Shard, k: usize, dir: &Path) -> Result<(u8, bool), TraceError> {
    let tokens = shard.tokens();
    let bytes = 2 * tokens.len() as u64;
    let ptr = pointer_bytes(bytes);
    // tokenized.k: the token file itself (a hard link when the file system allows it).
    let src = shard.dir().join("tokens.u16");
    let dst = dir.join(format!("tokenized.{k}"));
    if fs::hard_link(&src, &dst).is_err() {
        fs::copy(&src, &dst).map_err(TraceError::io("copy", &src))?;
    }
    // table.k: byte offsets in infini-gram's (byte) order.
    let numeric_is_byte_order = shard
        .manifest()
        .unigram
        .iter()
        .all(|&(t, _)| t < 256 || t == SEP);
    let width = ptr as usize;
    let table = dir.join(format!("table.{k}"));
    if numeric_is_byte_order {
        write_all(&table, |w| {
            for r in 0..tokens.len() {
                let p = 2 * shard.sa(r) as u64;
                w.write_all(&p.to_le_bytes()[..width])?;
            }
            Ok(())
        })?;
    } else {
        let swapped: Vec<u16> = tokens.iter().map(|t| t.swap_bytes()).collect();
        let sa = crate::shard::suffix_array(&swapped)?;
        drop(swapped);
        write_all(&table, |w| {
            for &pos in &sa {
                let p = 2 * pos as u64;
                w.write_all(&p.to_le_bytes()[..width])?;
            }
            Ok(())
        })?;
    }
    // offset.k: byte offsets of the separators.
    write_all(&dir.join(format!("offset.{k}")), |w| {
        for d in 0..shard.documents() {
            w.write_all(&(2 * shard.doc_start(d)).to_le_bytes())?;
        }
        Ok(())
    })?;
    // metadata.k / metaoff.k: the metadata lines and where each starts.
    let (meta, offsets) = shard.meta_lines();
    write_all(&dir.join(format!("metadata.{k}")), |w| w.write_all(meta))?;
    write_all(&dir.join(format!("metaoff.{k}")), |w| {
        for &o in &offsets[..shard.documents()] {
            w.write_all(&o.to_le_bytes())?;
        }
        Ok(())
    })?;
    Ok((ptr, !numeric_is_byte_order))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_width_is_the_indexers_ratio() {
        // int(np.ceil(np.log2(size) / 8)) for the sizes infini-gram sees
        assert_eq!(pointer_bytes(2), 1);
        assert_eq!(pointer_bytes(256), 1);
        assert_eq!(pointer_bytes(257), 2);
        assert_eq!(pointer_bytes(65_536), 2);
        assert_eq!(pointer_bytes(65_537), 3);
        assert_eq!(pointer_bytes(199_199_150), 4);
        assert_eq!(pointer_bytes(1 << 32), 4);
        assert_eq!(pointer_bytes((1 << 32) + 1), 5);
    }
}
