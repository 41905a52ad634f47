//! The transparency log of generations.
//!
//! Mirrors the standards it implements, one module per document: RFC 6962 Merkle
//! hashing and proofs ([`merkle`]), C2SP `signed-note` ([`note`]), `tlog-checkpoint`
//! ([`checkpoint`]), `tlog-cosignature` ([`cosignature`]), `tlog-tiles` ([`tiles`]) and
//! `tlog-proof` ([`receipt`], the offline receipt a verifier checks with only the log's
//! public key). Records ([`record`]; every kind of record a log holds is named in
//! [`registry`]) are canonicalised with RFC 8785 ([`jcs`]) and kept behind the
//! [`store::LogStore`] trait: SQLite ([`sqlite`], with its look-up index in sorted run
//! files, [`runs`]) by default, PostgreSQL ([`postgres_store`]) for logs shared by
//! several servers.
//!
//! The writer uses [`Ledger`]: `Ledger::open_sqlite(path, log_key.signer()?)`, then
//! `append_records`, `checkpoint`, `prove`, and every read operation. A reader (an
//! anonymous query) uses [`LogReader`], which needs only the verifier key and writes
//! nothing: `LogReader::open_sqlite(path, verifier)` (the store opened read-only), then
//! `prove_latest` (against the latest checkpoint the writer signed),
//! `consistency_proof`, `lookup`, `similar`, `tile` and `verify`. A verifier uses
//! [`Receipt::parse`] and [`Receipt::verify`] with a [`TrustPolicy`] built from the
//! `key.pub` text.

pub mod checkpoint;
pub mod cosignature;
pub mod database_url;
pub use tracemark_core::jcs;
pub mod key;
pub mod ledger;
pub mod merkle;
pub mod note;
pub mod postgres_store;
pub mod postgres_tls;
pub mod receipt;
pub mod record;
pub mod registry;
pub mod runs;
pub mod sqlite;
pub mod store;
pub mod tiles;
pub mod witness;

pub use checkpoint::{
    Checkpoint, CheckpointError, SignedCheckpoint, TrustPolicy, VerifiedCheckpoint,
};
pub use cosignature::{CosignatureVerifier, Cosigner};
pub use database_url::mask_password;
pub use key::{LogKey, NoteKey, NoteKeyError, ServiceKey};
pub use ledger::{Appended, Ledger, LedgerError, LogReader, SimilarEntry, VerifyReport};
pub use merkle::{Hash, ProofError};
pub use note::{Note, NoteError, NoteSigner, NoteVerifier};
pub use postgres_store::PostgresStore;
pub use receipt::{Receipt, ReceiptError, VerifiedReceipt};
pub use record::{GenerationRecord, ModelRef, RecordError, ReleaseRef, TextSketch};
pub use registry::{
    CollectionEvent, CollectionRecord, LogRecord, LogRecordError, ModelReleaseRecord, RecordKind,
    ReportRecord, SignalSeen, UseDecision, url_key,
};
pub use sqlite::{ReadStats, SqliteStore};
pub use store::{LogStore, Lookup, StoreError};
pub use tiles::{Tile, TileError, TileKind};
pub use witness::{AddCheckpoint, Cosigned, WitnessError, WitnessState, WitnessStateFile};

// What a generation record of media (v3) names: its type and perceptual fingerprint.
pub use record::{Fingerprint, MediaRef};
