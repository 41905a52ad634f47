//! Signed model releases: OpenSSF Model Signing (OMS) v1.0, natively.
//!
//! - [`walk`]: which files a model is (§6.1, §6.2): canonical UTF-8 names, the default
//!   exclusions (`.git`, `.gitattributes`, `.github`, `.gitignore`), exact ignore paths,
//!   links refused.
//! - [`digest`]: `files` and `shards` hashing with SHA-256 (BLAKE3 behind the `blake3`
//!   feature), streamed and spread over every core; the root digest.
//! - [`manifest`]: the in-toto statement (predicate `https://model_signing/signature/v1.0`),
//!   made and read (the deprecated v0.1 predicate is read, never made).
//! - [`keys`]: ECDSA P-256/P-384/P-521 keys (Ed25519 and RSA refused with the reason), the
//!   `key` method's hint.
//! - [`bundle`]: the Sigstore bundle (`model.sig`) with its DSSE envelope, in every form
//!   model_signing wrote since 0.2.0.
//! - [`x509`]: the `certificate` method's chains.
//! - [`sign()`] and [`verify()`]: signing, and verification concluding `trusted`,
//!   `untrusted` or `tampered` with its checks.
//! - [`bom`]: the CycloneDX 1.6 ML-BOM carrying the root digest.
//!
//! A model's identity is its root digest under `files`, SHA-256 and the default
//! exclusions ([`identity`]).

pub mod bom;
pub mod bundle;
pub mod digest;
pub mod error;
pub mod keys;
pub mod manifest;
pub mod sign;
pub mod verify;
pub mod walk;
pub mod x509;

use std::path::Path;

pub use bundle::Bundle;
pub use digest::{HashType, Method};
pub use error::{ModelError, Result};
pub use keys::{SigningKey, VerifyingKey};
pub use manifest::{HashOptions, Manifest};
pub use sign::sign;
pub use verify::{Check, Trust, Verification, VerifyOptions, verify, verify_statement};
pub use x509::Cert;

/// The conventional signature file name.
pub const SIGNATURE_FILE: &str = "model.sig";

/// A model's identity: `sha256:HEX`, its OMS root digest under `files`, SHA-256 and the
/// default exclusions (and `model.sig` left out).
pub fn identity(model: &Path) -> Result<String> {
    let mut options = HashOptions::default();
    options.exclusions.add(SIGNATURE_FILE)?;
    Ok(Manifest::of_model(model, &options)?.root_digest_id())
}
