//! Content credentials: C2PA manifests for text (the A.8 invisible wrapper and sidecars)
//! and media, the signing keys and certificate chains that sign them, and trust lists.
//!
//! A verifier's answer is one of four states (`tracemark_core::fact::CredentialState`):
//! trusted, untrusted signer, tampered (with the failing check named), or no credential.

pub mod identity;

pub use identity::{SigningAlgorithm, SigningIdentity, SigningIdentityFiles};
