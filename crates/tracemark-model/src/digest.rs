//! Hashing a model (OMS v1.0 §6.3): one digest a file (`files`) or a fixed-size byte
//! range (`shards`), streamed from disk and spread over every core (rayon): many files
//! or shards hash in parallel; one large file hashes in parallel only by shards (SHA-256
//! is sequential) or inside BLAKE3.

use std::{
    fs::File,
    io::{Read, Seek, SeekFrom},
};

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::{
    error::{ModelError, Result},
    walk::Entry,
};

/// The buffer each read fills.
const CHUNK: usize = 1 << 20;
/// BLAKE3 hashes a buffer on every core; larger buffers keep them busy.
#[cfg(feature = "blake3")]
const BLAKE3_CHUNK: usize = 16 << 20;

/// The spec's default shard size (1 000 000 000 bytes).
pub const DEFAULT_SHARD_SIZE: u64 = 1_000_000_000;

/// A file digest's algorithm (`serialization.hash_type`, `resources[].algorithm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashType {
    Sha256,
    #[cfg(feature = "blake3")]
    Blake3,
}

impl HashType {
    pub fn name(self) -> &'static str {
        match self {
            HashType::Sha256 => "sha256",
            #[cfg(feature = "blake3")]
            HashType::Blake3 => "blake3",
        }
    }

    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "sha256" => Ok(HashType::Sha256),
            #[cfg(feature = "blake3")]
            "blake3" => Ok(HashType::Blake3),
            other => Err(ModelError::HashType(other.to_owned())),
        }
    }

    /// Bytes in a digest.
    pub fn digest_len(self) -> usize {
        32
    }
}

/// How a model maps to resources (`serialization.method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Files,
    Shards { shard_size: u64 },
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Files => "files",
            Method::Shards { .. } => "shards",
        }
    }
}

/// One item to hash: a whole file, or a byte range of one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item<'a> {
    pub entry: &'a Entry,
    /// `None` for a whole file; `(start, end)` (end exclusive) for a shard.
    pub range: Option<(u64, u64)>,
}

impl Item<'_> {
    /// The resource name: the file's, or `path:start:end` for a shard.
    pub fn name(&self) -> String {
        match self.range {
            None => self.entry.name.clone(),
            Some((start, end)) => format!("{}:{start}:{end}", self.entry.name),
        }
    }
}

/// The items `entries` hash to under `method`: a file each, or its shards (an empty file
/// has none; a shard size of 0, which [`crate::Manifest`] refuses, counts as 1).
pub fn items(entries: &[Entry], method: Method) -> Vec<Item<'_>> {
    match method {
        Method::Files => entries
            .iter()
            .map(|entry| Item { entry, range: None })
            .collect(),
        Method::Shards { shard_size } => {
            let shard_size = shard_size.max(1);
            entries
                .iter()
                .flat_map(|entry| {
                    let size = entry.size;
                    (0..size.div_ceil(shard_size)).map(move |i| Item {
                        entry,
                        range: Some((i * shard_size, ((i + 1) * shard_size).min(size))),
                    })
                })
                .collect()
        }
    }
}

/// Each item's digest, in the items' order, hashed in parallel.
pub fn hash_items(items: &[Item<'_>], hash: HashType) -> Result<Vec<Vec<u8>>> {
    let digests = items
        .par_iter()
        // BLAKE3 hashes inside a file on every core only when there are fewer items than
        // cores: otherwise the items keep the cores busy, and nesting only costs.
        .map(|item| hash_item(item, hash, items.len() < rayon::current_num_threads()))
        .collect::<Result<Vec<_>>>()?;
    // A file is checked once all its items are hashed: its size and modification time
    // must be those it had when the model was enumerated.
    let mut seen = std::collections::BTreeSet::new();
    for item in items {
        if seen.insert(&item.entry.name) {
            unchanged(item.entry)?;
        }
    }
    Ok(digests)
}

fn unchanged(entry: &Entry) -> Result<()> {
    let meta = std::fs::metadata(&entry.path).map_err(|e| ModelError::Changed {
        detail: format!("{} could not be read again ({e})", entry.name),
    })?;
    if meta.len() != entry.size || meta.modified().ok() != entry.modified {
        return Err(ModelError::Changed {
            detail: format!(
                "{} was written to while it was hashed ({} bytes before, {} after)",
                entry.name,
                entry.size,
                meta.len()
            ),
        });
    }
    Ok(())
}

enum Hasher {
    Sha256(Sha256),
    /// The hasher, and whether it hashes a buffer on every core.
    #[cfg(feature = "blake3")]
    Blake3(Box<blake3::Hasher>, bool),
}

impl Hasher {
    fn new(hash: HashType, parallel: bool) -> Self {
        #[cfg(not(feature = "blake3"))]
        let _ = parallel;
        match hash {
            HashType::Sha256 => Hasher::Sha256(Sha256::new()),
            #[cfg(feature = "blake3")]
            HashType::Blake3 => Hasher::Blake3(Box::new(blake3::Hasher::new()), parallel),
        }
    }

    fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(bytes),
            #[cfg(feature = "blake3")]
            Hasher::Blake3(h, parallel) => {
                if *parallel && bytes.len() >= 1 << 20 {
                    h.update_rayon(bytes);
                } else {
                    h.update(bytes);
                }
            }
        }
    }

    fn finish(self) -> Vec<u8> {
        match self {
            Hasher::Sha256(h) => h.finalize().to_vec(),
            #[cfg(feature = "blake3")]
            Hasher::Blake3(h, _) => h.finalize().as_bytes().to_vec(),
        }
    }

    fn chunk(&self) -> usize {
        match self {
            Hasher::Sha256(_) => CHUNK,
            #[cfg(feature = "blake3")]
            Hasher::Blake3(..) => BLAKE3_CHUNK,
        }
    }
}

/// Streams one item through the hash, checking it read exactly the bytes it expected.
fn hash_item(item: &Item<'_>, hash: HashType, parallel: bool) -> Result<Vec<u8>> {
    let entry = item.entry;
    let io = |e| ModelError::io("read", &entry.path, e);
    let mut file = File::open(&entry.path).map_err(io)?;
    let (start, want) = match item.range {
        None => (0, entry.size),
        Some((start, end)) => (start, end - start),
    };
    if start > 0 {
        file.seek(SeekFrom::Start(start)).map_err(io)?;
    }
    let mut hasher = Hasher::new(hash, parallel);
    let mut buf = vec![
        0u8;
        hasher
            .chunk()
            .min(usize::try_from(want).unwrap_or(usize::MAX))
            .max(1)
    ];
    let mut left = want;
    while left > 0 {
        let n = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
        let got = read_full(&mut file, &mut buf[..n]).map_err(io)?;
        if got < n {
            return Err(ModelError::Changed {
                detail: format!(
                    "{} ended at byte {} while {} were expected",
                    entry.name,
                    start + (want - left) + got as u64,
                    start + want
                ),
            });
        }
        hasher.update(&buf[..n]);
        left -= n as u64;
    }
    if item.range.is_none() || item.range.is_some_and(|(_, end)| end == entry.size) {
        // The file must end where it ended when it was enumerated.
        let mut probe = [0u8; 1];
        if read_full(&mut file, &mut probe).map_err(io)? != 0 {
            return Err(ModelError::Changed {
                detail: format!(
                    "{} grew past its {} bytes while it was hashed",
                    entry.name, entry.size
                ),
            });
        }
    }
    Ok(hasher.finish())
}

fn read_full(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// SHA-256 over the raw digests in order: the root digest (§6.5.1), whatever `hash_type`.
pub fn root_digest<'a>(digests: impl IntoIterator<Item = &'a [u8]>) -> [u8; 32] {
    let mut h = Sha256::new();
    for d in digests {
        h.update(d);
    }
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_the_file_and_skip_empty_ones() {
        let e = |name: &str, size| Entry {
            name: name.into(),
            path: name.into(),
            size,
            modified: None,
        };
        let entries = [e("a", 25), e("empty", 0), e("b", 10)];
        let names: Vec<_> = items(&entries, Method::Shards { shard_size: 10 })
            .iter()
            .map(Item::name)
            .collect();
        assert_eq!(names, ["a:0:10", "a:10:20", "a:20:25", "b:0:10"]);
        assert_eq!(items(&entries, Method::Files).len(), 3);
    }
}
