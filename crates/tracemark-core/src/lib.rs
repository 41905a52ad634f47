//! Tracemark's shared vocabulary.
//!
//! Every capability of Tracemark (watermarks, credentials, the transparency log, tracing,
//! the legal engine) speaks about the same things: the content it examined, the keys it
//! used, the payload a watermark carries, the statistical verdicts it reached, the byte
//! ranges a user sees, the facts the legal engine reads, and the MinHash sketch that
//! tells how similar two texts are ([`minhash`]). They are defined here, once,
//! so that the crates fit together without knowing each other.
//!
//! This crate depends on nothing of Tracemark's and does no IO except in [`keyfile`],
//! which owns the one place secrets touch the disk.

pub mod error;
pub mod fact;
pub mod hash;
pub mod jcs;
pub mod keyfile;
pub mod minhash;
pub mod payload;
pub mod range;
pub mod rights;
pub mod time;
pub mod verdict;

pub use error::{Diagnose, Fault};
pub use fact::{Claim, Fact, Method};
pub use hash::ContentHash;
pub use keyfile::{KeyId, KeyKind, KeyStore};
pub use payload::Payload;
pub use range::{ByteRange, Segment};
pub use time::Timestamp;
pub use verdict::{PValue, Verdict};
