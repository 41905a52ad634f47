//! Where the log keeps its entries, tree hashes and checkpoints.
//!
//! [`LogStore`] is the contract every backend meets (SQLite here; PostgreSQL with the
//! same schema later): an append of a batch is one transaction that is durable when it
//! returns, and the stored hashes of complete subtrees are written in that same
//! transaction, so a crash leaves either the whole batch with its hashes or none of it.

use tracemark_core::{ContentHash, Diagnose, Fault, KeyId, Payload};

use crate::{
    merkle::{Hash, ProofError},
    record::TextSketch,
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
    #[error("the log database has schema version {found}; this build reads version {expected}")]
    Schema { found: String, expected: String },
    #[error("entry {index} is {size} bytes; a log entry holds at most 65535")]
    EntryTooLarge { index: u64, size: usize },
    #[error(transparent)]
    Proof(#[from] ProofError),
}

impl Diagnose for StoreError {
    fn fault(&self) -> Fault {
        match self {
            StoreError::Backend(_) => Fault::Internal,
            StoreError::Proof(e) => e.fault(),
            _ => Fault::Input,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            StoreError::Corrupt(_) => Some(
                "restore the log database from a backup; a log that cannot prove its history cannot be repaired in place"
                    .into(),
            ),
            StoreError::Schema { .. } => Some("open it with the Tracemark version that wrote it".into()),
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

    /// Keeps a signed checkpoint of `size` entries.
    fn save_checkpoint(&mut self, size: u64, note: &str) -> Result<(), StoreError>;

    /// The latest saved checkpoint note.
    fn latest_checkpoint(&self) -> Result<Option<String>, StoreError>;
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
}

/// LSH bands over the 128 sketch values: 32 bands of 4 values. Two texts with estimated
/// Jaccard J become candidates with probability 1 − (1 − J⁴)³², about 0.87 at J = 0.5
/// and 0.9999 at J = 0.8.
pub const LSH_BANDS: usize = 32;
const LSH_ROWS: usize = 4;

/// The bucket of each band of a sketch (a 64-bit mix of the band's four values).
pub fn lsh_buckets(sketch: &TextSketch) -> [i64; LSH_BANDS] {
    let mut out = [0i64; LSH_BANDS];
    for (band, bucket) in out.iter_mut().enumerate() {
        let v = &sketch.values[band * LSH_ROWS..(band + 1) * LSH_ROWS];
        let a = (u64::from(v[0]) << 32) | u64::from(v[1]);
        let b = (u64::from(v[2]) << 32) | u64::from(v[3]);
        let mixed = (a ^ b.rotate_left(29).wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .wrapping_mul(0xBF58_476D_1CE4_E5B9);
        *bucket = mixed as i64;
    }
    out
}
