//! Sharded indexes: a corpus cut into partitions of whole documents, each built into an
//! index of its own (on this machine or another), and a manifest that names them.
//!
//! Layout: `DIR/sharded.json` and `DIR/part-NNNNN/`, each part an ordinary index whose
//! `index.json` records which documents of the corpus it holds ([`Partition`]). Every
//! part is built with the one tokenizer fixed before the build, no document spans two
//! parts, and document ids are unique across parts: [`assemble`] checks all three and
//! records each part's digest, which [`crate::Index::open`] checks again. Counts over the
//! parts add up and documents merge in corpus order, so a sharded index answers exactly
//! as the same corpus indexed whole.

use std::{
    collections::HashSet,
    fs,
    ops::Range,
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{
    BuildOptions, BuildSummary, IndexBuilder, TraceError,
    corpus::{self, IngestStats},
    index::{INDEX_FILE, INDEX_FORMAT, IndexManifest, Partition},
    shard::{Shard, TokenizerInfo},
    tokenizer::IndexTokenizer,
};

/// The format of `sharded.json`.
pub const SHARDED_FORMAT: &str = "tracemark.sharded-index/v1";

/// A sharded index's manifest file, in its directory.
pub const SHARDED_FILE: &str = "sharded.json";

/// `sharded.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardedManifest {
    pub format: String,
    pub tokenizer: TokenizerInfo,
    /// The parts in corpus order.
    pub shards: Vec<IndexShard>,
}

/// One part of a sharded index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexShard {
    /// Its directory, relative to the sharded index's.
    pub path: String,
    /// SHA-256 of its `index.json` and of each of its shards' `manifest.json` (which hold
    /// every file's checksum), in order: [`part_digest`].
    pub digest: String,
    /// The documents of the corpus it holds, in reading order.
    pub first_document: u64,
    pub documents: u64,
    /// Tokens, separators included.
    pub tokens: u64,
}

/// The directory name of part `k`.
pub fn part_name(k: usize) -> String {
    format!("part-{k:05}")
}

/// Cuts documents of the given sizes into `n` contiguous ranges of about equal bytes,
/// none empty. The cut depends only on the sizes, so separate machines building one part
/// each from the same corpus agree on it.
pub fn plan(sizes: &[u64], n: usize) -> Result<Vec<Range<u64>>, TraceError> {
    let docs = sizes.len();
    if n == 0 || n > docs {
        return Err(TraceError::Parameter(format!(
            "cannot cut {docs} documents into {n} shards (each shard holds at least one)"
        )));
    }
    let total: u128 = sizes.iter().map(|&s| u128::from(s)).sum();
    let mut cuts = vec![0usize];
    let mut before = 0u128;
    let mut next = 1;
    for (i, &size) in sizes.iter().enumerate() {
        // Cut k goes before the first document that starts at or after k/n of the bytes,
        // kept far enough from both ends that every part has a document.
        while next < n && before * n as u128 >= total * next as u128 {
            let lowest = cuts[next - 1] + 1;
            let highest = docs - (n - next);
            cuts.push(i.clamp(lowest, highest));
            next += 1;
        }
        before += u128::from(size);
    }
    while next < n {
        let lowest = cuts[next - 1] + 1;
        cuts.push(lowest.min(docs - (n - next)));
        next += 1;
    }
    cuts.push(docs);
    Ok(cuts.windows(2).map(|w| w[0] as u64..w[1] as u64).collect())
}

/// The digest of the index at `dir` (see [`IndexShard::digest`]).
pub fn part_digest(dir: &Path) -> Result<String, TraceError> {
    let manifest = read_index_manifest(dir)?;
    let mut hash = Sha256::new();
    hash.update(read(&dir.join(INDEX_FILE))?);
    for name in &manifest.shards {
        hash.update(read(&dir.join(name).join("manifest.json"))?);
    }
    Ok(hex::encode(hash.finalize()))
}

/// The digest of any index: [`part_digest`] for an index, the SHA-256 of `sharded.json`
/// (which holds its parts' digests) for a sharded one.
pub fn index_digest(dir: &Path) -> Result<String, TraceError> {
    let manifest = dir.join(SHARDED_FILE);
    if manifest.exists() {
        return Ok(hex::encode(Sha256::digest(read(&manifest)?)));
    }
    part_digest(dir)
}

/// Refuses a part that changed since the sharded index was assembled.
pub(crate) fn check_digest(dir: &Path, expected: &str) -> Result<(), TraceError> {
    let found = part_digest(dir)?;
    if found == expected {
        return Ok(());
    }
    Err(TraceError::corrupt(
        dir,
        format!(
            "its digest is {found}, not the {expected} recorded when the sharded index was \
             assembled (the part was rebuilt or altered)"
        ),
    ))
}

/// Reads `sharded.json` in `dir`.
pub fn read_manifest(dir: &Path) -> Result<ShardedManifest, TraceError> {
    let path = dir.join(SHARDED_FILE);
    let manifest: ShardedManifest = serde_json::from_slice(&read(&path)?)
        .map_err(|e| TraceError::corrupt(&path, e.to_string()))?;
    if manifest.format != SHARDED_FORMAT {
        return Err(TraceError::ShardVersion {
            path,
            found: manifest.format,
            expected: SHARDED_FORMAT,
        });
    }
    for part in &manifest.shards {
        // A part is a directory beside the manifest, never a path out of it.
        let plain = Path::new(&part.path)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
        if !plain || part.path.is_empty() {
            return Err(TraceError::corrupt(
                &path,
                format!("shard path `{}` leaves the index's directory", part.path),
            ));
        }
    }
    Ok(manifest)
}

/// Writes `sharded.json` for the parts `part-NNNNN` in `dir`, after checking that they
/// are every partition of one cut of one corpus (each index once, contiguous document
/// ranges from the first), built with one tokenizer, with no document id twice. Returns
/// the manifest; an existing one is replaced only by a valid one (written beside it,
/// then renamed).
pub fn assemble(dir: &Path) -> Result<ShardedManifest, TraceError> {
    let mut parts: Vec<(Partition, PathBuf, IndexManifest)> = Vec::new();
    for entry in fs::read_dir(dir).map_err(TraceError::io("read", dir))? {
        let entry = entry.map_err(TraceError::io("read", dir))?;
        let name = entry.file_name();
        // A part still being built (or left by a build that died) is `part-K.partial`:
        // not a part yet, so the set is judged without it.
        let Some(name) = name
            .to_str()
            .filter(|n| n.starts_with("part-") && !n.ends_with(".partial"))
        else {
            continue;
        };
        let path = dir.join(name);
        let manifest = read_index_manifest(&path)?;
        let partition = manifest.partition.ok_or_else(|| {
            TraceError::corrupt(&path, "it is a whole index, not a partition of one")
        })?;
        parts.push((partition, path, manifest));
    }
    if parts.is_empty() {
        return Err(TraceError::NoShards {
            path: dir.to_owned(),
        });
    }
    parts.sort_by_key(|(p, ..)| p.index);
    let of = parts[0].0.of;
    let tokenizer = parts[0].2.tokenizer.clone();
    let mut next_document = 0;
    let mut shards = Vec::new();
    let mut ids = HashSet::new();
    for (k, (partition, path, manifest)) in parts.iter().enumerate() {
        let problem = |reason: String| Err(TraceError::corrupt(path, reason));
        if partition.of != of || partition.index != k {
            return problem(format!(
                "it is partition {} of {}, but the parts found are {} of {of}",
                partition.index,
                partition.of,
                parts.len()
            ));
        }
        if partition.first_document != next_document {
            return problem(format!(
                "its documents start at {}, where the previous part's end at {next_document}",
                partition.first_document
            ));
        }
        if manifest.tokenizer.identity != tokenizer.identity {
            return problem(format!(
                "it was built with tokenizer {}, the first part with {}",
                manifest.tokenizer.identity, tokenizer.identity
            ));
        }
        let mut tokens = 0;
        for name in &manifest.shards {
            let shard = Shard::open(&path.join(name))?;
            tokens += shard.len() as u64;
            for doc in 0..shard.documents() {
                let id = shard.doc_id(doc)?;
                if !ids.insert(id.clone()) {
                    return Err(TraceError::DuplicateId { id });
                }
            }
        }
        next_document += partition.documents;
        shards.push(IndexShard {
            path: part_name(k),
            digest: part_digest(path)?,
            first_document: partition.first_document,
            documents: partition.documents,
            tokens,
        });
    }
    if parts.len() != of {
        return Err(TraceError::corrupt(
            dir,
            format!("{} of the {of} parts are there", parts.len()),
        ));
    }
    let manifest = ShardedManifest {
        format: SHARDED_FORMAT.to_owned(),
        tokenizer,
        shards,
    };
    let json =
        serde_json::to_vec_pretty(&manifest).map_err(|e| TraceError::Parameter(e.to_string()))?;
    let path = dir.join(SHARDED_FILE);
    let temp = dir.join(format!("{SHARDED_FILE}.partial"));
    fs::write(&temp, json).map_err(TraceError::io("write", &temp))?;
    fs::rename(&temp, &path).map_err(TraceError::io("rename into place", &path))?;
    Ok(manifest)
}

/// What a sharded build did.
#[derive(Debug, Clone, Serialize)]
pub struct ShardedBuild {
    pub path: PathBuf,
    /// The partitions of the corpus, in corpus order.
    pub plan: Vec<Range<u64>>,
    /// The parts built by this call (each with the whole corpus's ingest counts).
    pub built: Vec<BuildSummary>,
    /// The manifest, once every part is there.
    pub manifest: Option<ShardedManifest>,
}

/// Builds a sharded index of `n` parts at `out` from corpus paths: one reading pass
/// measures the documents and cuts the corpus ([`plan`]), a second builds each part.
/// With `only`, builds that part alone (for a build spread over machines, each reading
/// the same corpus; `out` may then exist), and assembles the manifest when it completes
/// the set. `progress` hears the documents read by the second pass.
pub fn build(
    out: &Path,
    corpora: &[PathBuf],
    tokenizer: &dyn IndexTokenizer,
    n: usize,
    only: Option<usize>,
    options: BuildOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<ShardedBuild, TraceError> {
    if let Some(k) = only {
        if k >= n {
            return Err(TraceError::Parameter(format!(
                "shard {k} does not exist: shards are numbered 0 to {}",
                n.saturating_sub(1)
            )));
        }
        return build_parts(out, corpora, tokenizer, n, only, options, progress);
    }
    // A whole build happens in `OUT.partial`, renamed into place when complete: a failed
    // one leaves nothing that looks like an index.
    if out.exists() {
        return Err(TraceError::Exists {
            path: out.to_owned(),
        });
    }
    let partial = PathBuf::from(format!("{}.partial", out.display()));
    if partial.exists() {
        fs::remove_dir_all(&partial).map_err(TraceError::io("remove stale", &partial))?;
    }
    let result = build_parts(&partial, corpora, tokenizer, n, None, options, progress);
    let mut done = match result {
        Ok(done) => done,
        Err(e) => {
            let _ = fs::remove_dir_all(&partial);
            return Err(e);
        }
    };
    fs::rename(&partial, out).map_err(TraceError::io("rename into place", out))?;
    done.path = out.to_owned();
    for (k, part) in done.built.iter_mut().enumerate() {
        part.path = out.join(part_name(k));
    }
    Ok(done)
}

fn build_parts(
    out: &Path,
    corpora: &[PathBuf],
    tokenizer: &dyn IndexTokenizer,
    n: usize,
    only: Option<usize>,
    options: BuildOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<ShardedBuild, TraceError> {
    let mut sizes = Vec::new();
    let mut stats = IngestStats::default();
    for path in corpora {
        corpus::read_corpus(path, &mut stats, &mut |doc| {
            sizes.push(doc.text.len() as u64);
            Ok(())
        })?;
    }
    if sizes.is_empty() {
        return Err(TraceError::EmptyCorpus {
            skipped: stats.skipped(),
        });
    }
    let plan = plan(&sizes, n)?;
    fs::create_dir_all(out).map_err(TraceError::io("create", out))?;
    let wanted = |k: usize| only.is_none_or(|o| o == k);
    let mut built = Vec::new();
    let mut current: Option<IndexBuilder> = None;
    let (mut part, mut read) = (0usize, 0u64);
    let mut pass = IngestStats::default();
    for path in corpora {
        corpus::read_corpus(path, &mut pass, &mut |doc| {
            while part < plan.len() && read == plan[part].end {
                if let Some(builder) = current.take() {
                    built.push(builder.finish(stats.clone())?);
                }
                part += 1;
            }
            if part == plan.len() {
                return Err(changed());
            }
            if read == plan[part].start && wanted(part) {
                let mut builder =
                    IndexBuilder::create(&out.join(part_name(part)), tokenizer, options.clone())?;
                builder.partition(part, n, read);
                current = Some(builder);
            }
            read += 1;
            progress(read);
            match current.as_mut() {
                Some(builder) => builder.add(doc),
                None => Ok(()),
            }
        })?;
    }
    if read != sizes.len() as u64 {
        return Err(changed());
    }
    if let Some(builder) = current.take() {
        built.push(builder.finish(stats)?);
    }
    let complete = (0..n).all(|k| out.join(part_name(k)).join(INDEX_FILE).exists());
    let manifest = if complete { Some(assemble(out)?) } else { None };
    Ok(ShardedBuild {
        path: out.to_owned(),
        plan,
        built,
        manifest,
    })
}

fn changed() -> TraceError {
    TraceError::Parameter("the corpus changed between the two reading passes".into())
}

fn read_index_manifest(dir: &Path) -> Result<IndexManifest, TraceError> {
    let path = dir.join(INDEX_FILE);
    if !path.exists() {
        return Err(TraceError::NoShards {
            path: dir.to_owned(),
        });
    }
    let manifest: IndexManifest = serde_json::from_slice(&read(&path)?)
        .map_err(|e| TraceError::corrupt(&path, e.to_string()))?;
    if manifest.format != INDEX_FORMAT {
        return Err(TraceError::ShardVersion {
            path,
            found: manifest.format,
            expected: INDEX_FORMAT,
        });
    }
    Ok(manifest)
}

fn read(path: &Path) -> Result<Vec<u8>, TraceError> {
    fs::read(path).map_err(TraceError::io("read", path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes_of(ranges: &[Range<u64>], sizes: &[u64]) -> Vec<u64> {
        ranges
            .iter()
            .map(|r| sizes[r.start as usize..r.end as usize].iter().sum())
            .collect()
    }

    #[test]
    fn a_plan_cuts_contiguous_non_empty_ranges_of_about_equal_bytes() {
        let sizes = vec![10; 100];
        let ranges = plan(&sizes, 4).unwrap();
        assert_eq!(ranges, [0..25, 25..50, 50..75, 75..100]);
        // Uneven documents: every range non-empty, covering all, in order.
        let sizes: Vec<u64> = (0..57).map(|i| (i * 37 % 101) + 1).collect();
        for n in 1..=57 {
            let ranges = plan(&sizes, n).unwrap();
            assert_eq!(ranges.len(), n);
            assert_eq!(ranges[0].start, 0);
            assert_eq!(ranges[n - 1].end, 57);
            assert!(ranges.windows(2).all(|w| w[0].end == w[1].start));
            assert!(ranges.iter().all(|r| !r.is_empty()));
        }
        let bytes = sizes_of(&plan(&sizes, 3).unwrap(), &sizes);
        let total: u64 = sizes.iter().sum();
        assert!(
            bytes.iter().all(|&b| b.abs_diff(total / 3) <= 101),
            "{bytes:?}"
        );
    }

    #[test]
    fn a_giant_document_cannot_leave_a_part_empty() {
        let sizes = [1, 1_000_000, 1, 1];
        let ranges = plan(&sizes, 4).unwrap();
        assert_eq!(ranges, [0..1, 1..2, 2..3, 3..4]);
        assert_eq!(plan(&[5, 1_000], 2).unwrap(), [0..1, 1..2]);
        assert!(plan(&[1, 2], 3).is_err());
        assert!(plan(&[1, 2], 0).is_err());
    }
}
