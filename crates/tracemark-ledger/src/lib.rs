//! The transparency log of generations.
//!
//! Mirrors the standards it implements, one module per document: RFC 6962 Merkle
//! hashing and proofs, C2SP `signed-note` ([`note`]), `tlog-checkpoint`, `tlog-tiles` and
//! `tlog-proof` (the offline receipt a verifier checks with only the log's public key).
//! Records are stored in SQLite by default and in PostgreSQL for shared deployments.

pub mod key;
pub mod note;

pub use key::{LogKey, NoteKey, NoteKeyError, ServiceKey};
pub use note::{NoteError, NoteSigner, NoteVerifier};
