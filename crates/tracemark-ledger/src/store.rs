//! Where the log keeps its entries, tree hashes and checkpoints.
//!
//! [`LogStore`] is the contract every backend meets (SQLite, PostgreSQL): an append of a batch is one transaction that is durable when it
//! returns, and the stored hashes of complete subtrees are written in that same
//! transaction, so a crash leaves either the whole batch with its hashes or none of it.

use tracemark_core::{ContentHash, Diagnose, Fault, KeyId, Payload};

use crate::{
    merkle::{Hash, ProofError},
    record::{SketchScheme, TextSketch},
};

/// The lookup columns of an entry (absent for entries that are not generation records).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntryKeys {
    pub content_hash: Option<ContentHash>,
    pub key_id: Option<KeyId>,
    pub payload: Option<Payload>,
    pub generation_id: Option<String>,
    pub sketch: Option<TextSketch>,
}

/// An entry to append: its bytes (what the leaf hash covers) and its lookup keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    pub data: Vec<u8>,
    pub keys: EntryKeys,
}

/// An exact look-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    ContentHash(ContentHash),
    /// A payload, optionally only among records marked with one watermark key.
    Payload {
        payload: Payload,
        key_id: Option<KeyId>,
    },
    GenerationId(String),
}

/// The storage text of a payload: its width and hex digits (`16:beef`), so payloads of
/// different widths never collide.
pub fn payload_key(p: &Payload) -> String {
    format!("{}:{}", p.bits(), p)
}

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the log database is corrupt: {0}")]
    Corrupt(String),
    #[error("the log database could not be used: {0}")]
    Backend(String),
    /// Another connection held a lock longer than the wait allowed (or in a way SQLite
    /// does not wait for: a WAL recovery or clean-up).
    #[error("the log database is busy: {0}")]
    Busy(String),
    #[error("the log database has schema version {found}; this build reads version {expected}")]
    Schema { found: String, expected: String },
    #[error("entry {index} is {size} bytes; a log entry holds at most 65535")]
    EntryTooLarge { index: u64, size: usize },
    #[error(transparent)]
    Proof(#[from] ProofError),
    /// A database URL that cannot be used as given (shown with its password masked).
    #[error("the database URL {url}: {reason}")]
    Url { url: String, reason: String },
    /// A TLS check failed (or TLS was refused) while connecting.
    #[error("cannot connect to {url} with sslmode={mode}: {reason}")]
    Tls {
        url: String,
        mode: &'static str,
        reason: String,
    },
    /// The database server could not be reached or refused the connection.
    #[error("cannot connect to {url}: {reason}")]
    Connect { url: String, reason: String },
    /// A write through a store opened read-only (`SqliteStore::open_read_only`,
    /// `PostgresStore::connect_read_only`): only the log's writer appends and signs.
    #[error("the log is open read-only: cannot {0}")]
    ReadOnly(&'static str),
    /// A reader found no log where it was told to look (a reader never creates one).
    #[error("there is no log to read: {0}")]
    NoLog(String),
    /// A reader found a log that only a writer can bring up to date (an older schema
    /// version, which a writer upgrades in place when it opens the log).
    #[error("the log cannot be read before a writer opens it: {0}")]
    NeedsWriter(String),
}

impl Diagnose for StoreError {
    fn fault(&self) -> Fault {
        match self {
            StoreError::Backend(_) | StoreError::Busy(_) => Fault::Internal,
            StoreError::Proof(e) => e.fault(),
            StoreError::Url { .. } | StoreError::NoLog(_) | StoreError::NeedsWriter(_) => {
                Fault::Usage
            }
            // A front end that writes through a reader has a bug.
            StoreError::ReadOnly(_) => Fault::Internal,
            _ => Fault::Input,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            StoreError::Busy(_) => Some(
                "another process holds the log's lock: try again in a moment".into(),
            ),
            StoreError::Corrupt(_) => Some(
                "restore the log database from a backup; a log that cannot prove its history cannot be repaired in place"
                    .into(),
            ),
            StoreError::Schema { .. } => Some(
                "open it with the Tracemark version that wrote it (this build upgrades version 1 logs in place when it opens them)"
                    .into(),
            ),
            StoreError::Url { .. } => Some(
                "TLS is set in the URL's query: sslmode=disable|prefer|require|verify-ca|verify-full and sslrootcert=CA.pem"
                    .into(),
            ),
            StoreError::Tls { .. } => Some(
                "sslrootcert must name the CA that issued the server's certificate; verify-full also needs the URL's host to be a name in that certificate (verify-ca does not check it)"
                    .into(),
            ),
            StoreError::Connect { reason, .. } if reason.contains("no encryption") => Some(
                "the server accepts only TLS connections from here: use sslmode=prefer or stronger".into(),
            ),
            StoreError::Connect { .. } => Some(
                "check the URL's host, port, user, password and database, and that the server accepts connections from this client (pg_hba.conf)"
                    .into(),
            ),
            StoreError::ReadOnly(_) => Some(
                "append and sign through the log's writer (a Ledger, opened with the log key), not through a reader".into(),
            ),
            StoreError::NoLog(_) => Some(
                "check the path or URL (and schema); a reader never creates a log: make one with `tracemark log init`, or open it once with a writer".into(),
            ),
            StoreError::NeedsWriter(_) => Some(
                "open the log once with a writer (a command that appends, or `tracemark serve` with the log key), which upgrades it in place; then readers can open it".into(),
            ),
            _ => None,
        }
    }
}

/// A log storage backend.
pub trait LogStore {
    /// The number of entries.
    fn size(&self) -> Result<u64, StoreError>;

    /// Appends the entries at the end, with their leaf hashes and the hashes of the
    /// subtrees they complete, in one durable transaction; returns the first new index.
    fn append(&mut self, entries: &[NewEntry]) -> Result<u64, StoreError>;

    /// The hash of a complete subtree (see [`crate::merkle::HashReader`]).
    fn stored_hash(&self, level: u8, index: u64) -> Result<Hash, StoreError>;

    /// The bytes of entries `start..end` (fewer if the log is shorter).
    fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, StoreError>;

    /// The indexes of entries matching an exact look-up, in log order.
    fn lookup(&self, query: &Lookup) -> Result<Vec<u64>, StoreError>;

    /// Entries whose sketches share at least one LSH band with `sketch`, with their
    /// sketches, for the caller to rank.
    fn similar_candidates(&self, sketch: &TextSketch)
    -> Result<Vec<(u64, TextSketch)>, StoreError>;

    /// Entries whose sketches overlap `text` by at least `min_similarity` (estimated
    /// Jaccard), best first (then in log order), at most `limit`: `text` is sketched in
    /// every scheme this build reads, so records written with an older sketch scheme
    /// are found too (a sketch is compared only with sketches of its own scheme).
    fn similar_to_text(
        &self,
        text: &str,
        min_similarity: f64,
        limit: usize,
    ) -> Result<Vec<(u64, f64)>, StoreError> {
        let mut found: Vec<(u64, f64)> = Vec::new();
        for scheme in SketchScheme::ALL {
            let query = scheme.sketch(text);
            if query.is_empty() {
                continue; // no shingles in this scheme: nothing is similar
            }
            for (index, stored) in self.similar_candidates(&query)? {
                // A bucket shared by chance with a sketch of another scheme is no match.
                if stored.scheme() != scheme {
                    continue;
                }
                let similarity = query.similarity(&stored);
                if similarity >= min_similarity {
                    found.push((index, similarity));
                }
            }
        }
        found.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        // An entry has one sketch, so one scheme finds it; keep the first all the same.
        let mut seen = std::collections::HashSet::new();
        found.retain(|(index, _)| seen.insert(*index));
        found.truncate(limit);
        Ok(found)
    }

    /// Keeps a signed checkpoint of `size` entries, unless one of that size is kept
    /// already: then the kept note stays as it is, with the witness cosignatures added to
    /// it since, whatever `note` is.
    ///
    /// Why keep rather than replace or merge: for one log key and size the tree head is
    /// the same (a log never signs two trees of one size, and Ed25519 signs one body the
    /// same way every time), so a second save of a size comes from another writer that
    /// signed the same tree at the same moment, or from a stale one, and its note can only
    /// lack cosignatures that the kept one gained; replacing would drop them (receipts
    /// made with `prove_cosigned` would lose them), and merging would store signature
    /// lines that nobody verified (cosignatures get in only through
    /// [`LogStore::replace_checkpoint`], after [`crate::Ledger::add_cosignatures`] has
    /// verified them). A note with another body for a kept size (a fork under the log's
    /// key) is not stored either; [`crate::Ledger::checkpoint`] reads the kept note back
    /// and refuses the difference.
    fn save_checkpoint(&mut self, size: u64, note: &str) -> Result<(), StoreError>;

    /// The latest saved checkpoint note.
    fn latest_checkpoint(&self) -> Result<Option<String>, StoreError>;

    /// The saved checkpoint note of `size` entries.
    fn checkpoint_at(&self, size: u64) -> Result<Option<String>, StoreError>;

    /// Replaces the note of the checkpoint of `size` entries by `new` (the same
    /// checkpoint with `cosignatures` witness cosignatures), if it is still `old`;
    /// returns whether it was replaced (another writer may have changed it first).
    fn replace_checkpoint(
        &mut self,
        size: u64,
        old: &str,
        new: &str,
        cosignatures: usize,
    ) -> Result<bool, StoreError>;

    /// The largest saved checkpoint with at least `min` witness cosignatures.
    fn latest_cosigned_checkpoint(&self, min: usize) -> Result<Option<String>, StoreError>;
}

/// A boxed store is a store, so that a front end can choose the backend at run time.
impl<S: LogStore + ?Sized> LogStore for Box<S> {
    fn size(&self) -> Result<u64, StoreError> {
        (**self).size()
    }

    fn append(&mut self, entries: &[NewEntry]) -> Result<u64, StoreError> {
        (**self).append(entries)
    }

    fn stored_hash(&self, level: u8, index: u64) -> Result<Hash, StoreError> {
        (**self).stored_hash(level, index)
    }

    fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        (**self).entries(start, end)
    }

    fn lookup(&self, query: &Lookup) -> Result<Vec<u64>, StoreError> {
        (**self).lookup(query)
    }

    fn similar_candidates(
        &self,
        sketch: &TextSketch,
    ) -> Result<Vec<(u64, TextSketch)>, StoreError> {
        (**self).similar_candidates(sketch)
    }

    fn save_checkpoint(&mut self, size: u64, note: &str) -> Result<(), StoreError> {
        (**self).save_checkpoint(size, note)
    }

    fn latest_checkpoint(&self) -> Result<Option<String>, StoreError> {
        (**self).latest_checkpoint()
    }

    fn checkpoint_at(&self, size: u64) -> Result<Option<String>, StoreError> {
        (**self).checkpoint_at(size)
    }

    fn replace_checkpoint(
        &mut self,
        size: u64,
        old: &str,
        new: &str,
        cosignatures: usize,
    ) -> Result<bool, StoreError> {
        (**self).replace_checkpoint(size, old, new, cosignatures)
    }

    fn latest_cosigned_checkpoint(&self, min: usize) -> Result<Option<String>, StoreError> {
        (**self).latest_cosigned_checkpoint(min)
    }
}

/// LSH bands over the 128 sketch values: 32 bands of 4 values
/// ([`tracemark_core::minhash`]). Two texts with estimated Jaccard J become candidates
/// with probability 1 − (1 − J⁴)³², about 0.87 at J = 0.5 and 0.9999 at J = 0.8.
pub const LSH_BANDS: usize = tracemark_core::minhash::BANDS;

/// The bucket of each band of a sketch: its band key in the sketch's scheme
/// ([`TextSketch::band_keys`]), as the look-up index's signed 64-bit key. Sketches of
/// different schemes do not share buckets, but for a chance collision, which the
/// comparison of the sketches (0 across schemes) then drops.
pub fn lsh_buckets(sketch: &TextSketch) -> [i64; LSH_BANDS] {
    sketch.band_keys().map(|k| k as i64)
}

// The look-up index (both backends; where the runs live differs).
//
// Every look-up key of an entry is one row `(kind, key, idx)`: `kind` 0–31 is an LSH
// band (`key` = the band's bucket), 32 the content hash, 33 the payload, 34 the
// generation id (`key` = the first 8 bytes of a domain-separated SHA-256 of the value;
// the entry's own columns are compared on look-up, so a collision of keys never returns
// a wrong entry). The rows of one append are one *run*, sorted, under a run number
// larger than every earlier one, so an append never touches the pages of older rows
// (random-key inserts dirtied nearly every leaf of the old `lsh` table in each batch).
// SQLite keeps each run as an immutable sorted file ([`crate::runs`]), PostgreSQL as
// rows `(run, kind, key, idx)` of one table. Runs are merged LSM-style, always the
// newest ones ([`plan_merge`]), so each run covers a contiguous range of entries and
// can be rebuilt from their key columns. A look-up seeks once per run, and there are at
// most `MERGE_FANOUT − 1` runs per level (level = ⌊log₈ records⌋), so at most a few
// dozen runs at a million records.

/// The look-up kind of the content hash (kinds below it are LSH bands).
pub const KIND_CONTENT_HASH: i16 = 32;
/// The look-up kind of the payload (its width and hex, see [`payload_key`]).
pub const KIND_PAYLOAD: i16 = 33;
/// The look-up kind of the generation id.
pub const KIND_GENERATION_ID: i16 = 34;

/// Runs of one level are merged when there are this many.
pub const MERGE_FANOUT: u64 = 8;

/// A row of the look-up index: `(kind, key, idx)`.
pub type KeyRow = (i16, i64, i64);

/// The 64-bit look-up key of an exact value of `kind`.
pub fn exact_key(kind: i16, value: &[u8]) -> i64 {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"tracemark-lookup-key/v1\0");
    h.update(kind.to_be_bytes());
    h.update(value);
    let digest = h.finalize();
    i64::from_be_bytes(digest[..8].try_into().expect("8 bytes"))
}

/// Appends the look-up rows of an entry at `idx` to `out`; returns whether it has any.
pub fn key_rows(keys: &EntryKeys, idx: i64, out: &mut Vec<KeyRow>) -> bool {
    stored_key_rows(
        keys.content_hash.as_ref().map(|h| h.as_bytes().as_slice()),
        keys.payload.as_ref().map(payload_key).as_deref(),
        keys.generation_id.as_deref(),
        keys.sketch.as_ref(),
        idx,
        out,
    )
}

/// [`key_rows`] from the key columns as stored (content hash bytes, [`payload_key`]).
pub fn stored_key_rows(
    content_hash: Option<&[u8]>,
    payload_key: Option<&str>,
    generation_id: Option<&str>,
    sketch: Option<&TextSketch>,
    idx: i64,
    out: &mut Vec<KeyRow>,
) -> bool {
    let before = out.len();
    if let Some(h) = content_hash {
        out.push((KIND_CONTENT_HASH, exact_key(KIND_CONTENT_HASH, h), idx));
    }
    if let Some(p) = payload_key {
        out.push((KIND_PAYLOAD, exact_key(KIND_PAYLOAD, p.as_bytes()), idx));
    }
    if let Some(g) = generation_id {
        out.push((
            KIND_GENERATION_ID,
            exact_key(KIND_GENERATION_ID, g.as_bytes()),
            idx,
        ));
    }
    if let Some(sketch) = sketch {
        out.extend(
            lsh_buckets(sketch)
                .into_iter()
                .enumerate()
                .map(|(band, bucket)| (band as i16, bucket, idx)),
        );
    }
    out.len() > before
}

/// The kind and key an exact look-up seeks.
pub fn lookup_key(query: &Lookup) -> (i16, i64) {
    match query {
        Lookup::ContentHash(h) => (
            KIND_CONTENT_HASH,
            exact_key(KIND_CONTENT_HASH, h.as_bytes()),
        ),
        Lookup::Payload { payload, .. } => (
            KIND_PAYLOAD,
            exact_key(KIND_PAYLOAD, payload_key(payload).as_bytes()),
        ),
        Lookup::GenerationId(g) => (
            KIND_GENERATION_ID,
            exact_key(KIND_GENERATION_ID, g.as_bytes()),
        ),
    }
}

/// The level of a run of `records` entries: ⌊log₈ records⌋.
pub fn run_level(records: u64) -> i64 {
    let mut level = 0;
    let mut n = records.max(1);
    while n >= MERGE_FANOUT {
        n /= MERGE_FANOUT;
        level += 1;
    }
    level
}

/// A run of the look-up index, as the `lookup_runs` table lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    pub run: i64,
    pub level: i64,
    pub records: i64,
}

/// How many of the newest runs to merge into one next, given the levels of all runs
/// from the oldest to the newest; `None` when nothing needs merging.
///
/// Merges take the newest runs only, so every run covers a contiguous range of entries
/// (and can be rebuilt from it) and the runs stay in log order. A new run larger than
/// the newest ones before it absorbs them, so levels never grow toward the newest run;
/// then `MERGE_FANOUT` runs of the newest level are merged into one of a higher level.
/// That keeps at most `MERGE_FANOUT − 1` runs per level, and a row is rewritten about
/// once per level it climbs (plus once when its own run absorbs smaller ones).
pub fn plan_merge(levels: &[i64]) -> Option<usize> {
    let (&newest, older) = levels.split_last()?;
    let smaller = older.iter().rev().take_while(|&&l| l < newest).count();
    if smaller > 0 {
        return Some(smaller + 1);
    }
    let same = levels.iter().rev().take_while(|&&l| l == newest).count();
    (same as u64 >= MERGE_FANOUT).then_some(same)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_grow_by_powers_of_the_fanout() {
        assert_eq!(run_level(0), 0);
        assert_eq!(run_level(7), 0);
        assert_eq!(run_level(8), 1);
        assert_eq!(run_level(1000), 3);
        assert_eq!(run_level(4096), 4);
    }

    #[test]
    fn merges_take_the_newest_runs_and_bound_them() {
        // Simulate appends of varying sizes: levels never grow toward the newest run, at
        // most FANOUT − 1 runs share a level, and every record is in one run.
        let mut runs: Vec<Run> = Vec::new();
        let mut next = 1;
        let mut total = 0;
        for i in 0..20_000u64 {
            let records = [1000, 1, 3, 9000, 2, 64][(i % 6) as usize] + i % 5;
            total += records as i64;
            runs.push(Run {
                run: next,
                level: run_level(records),
                records: records as i64,
            });
            next += 1;
            loop {
                let levels: Vec<i64> = runs.iter().map(|r| r.level).collect();
                let Some(n) = plan_merge(&levels) else { break };
                let merged: i64 = runs.drain(runs.len() - n..).map(|r| r.records).sum();
                runs.push(Run {
                    run: next,
                    level: run_level(merged as u64),
                    records: merged,
                });
                next += 1;
            }
            assert!(
                runs.windows(2).all(|w| w[0].level >= w[1].level),
                "{runs:?}"
            );
            for level in 0..=run_level(total as u64) {
                let n = runs.iter().filter(|r| r.level == level).count();
                assert!(n < MERGE_FANOUT as usize, "{runs:?}");
            }
            assert_eq!(runs.iter().map(|r| r.records).sum::<i64>(), total);
        }
    }

    #[test]
    fn exact_keys_separate_kinds() {
        assert_ne!(
            exact_key(KIND_GENERATION_ID, b"x"),
            exact_key(KIND_PAYLOAD, b"x")
        );
    }
}
