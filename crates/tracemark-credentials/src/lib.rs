//! Content credentials: C2PA manifests for text (the A.8 invisible wrapper and sidecars)
//! and media, the signing keys and certificate chains that sign them, and trust lists.
//!
//! A verifier's answer is one of four states (`tracemark_core::fact::CredentialState`):
//! trusted, untrusted signer, tampered (with the failing check named), or no credential.
//! See the crate README for the API a front end calls, the formats and measured figures.

pub mod error;
pub mod identity;
mod jumbf_guard;
pub mod manifest;
pub mod media;
pub mod signer;
pub mod text;
mod tsa;
pub mod verify;
pub mod wrapper;

use std::path::Path;

pub use error::CredentialError;
pub use identity::{SigningAlgorithm, SigningIdentity, SigningIdentityFiles};
pub use manifest::{
    AigcLabel, CredentialSpec, Generator, LatentDisclosure, LogCheckpoint, MODEL_DIGEST_FIELD,
    WatermarkDeclaration,
};
pub use media::{MediaFormat, SignedMedia, sign_media, sign_media_file};
pub use signer::SigningKey;
pub use text::{EmbeddedText, SignOptions, sign_sidecar, sign_text_embedded, strip_wrappers};
pub use verify::{
    AssertionReport, Carrier, Failure, SignerInfo, TrustAnchors, VerificationReport, Verifier,
    sidecar_for,
};

/// How to carry a text file's credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextCarrier {
    /// Inside the text (A.8 wrapper): `output` is the signed text.
    Embedded,
    /// In a manifest store beside it: `output` is the `.c2pa` file; the input is untouched
    /// (any file, media included).
    Sidecar,
}

/// What [`sign_file`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedFile {
    pub output: std::path::PathBuf,
    /// The media format of the input, `None` for text.
    pub media: Option<MediaFormat>,
    pub manifest_len: usize,
}

/// Signs any file. With [`TextCarrier::Sidecar`], any file (text, media, PDF) gets a
/// sidecar manifest store at `output` binding its raw bytes. With
/// [`TextCarrier::Embedded`], media formats (by content, then extension) get an embedded
/// manifest in `output`, and anything else must be UTF-8 text and gets the A.8 wrapper.
/// Every output is written to a temporary file and renamed into place; the input is
/// never modified.
pub fn sign_file(
    input: &Path,
    output: &Path,
    key: &SigningKey,
    spec: &CredentialSpec,
    options: &SignOptions,
    text_carrier: TextCarrier,
) -> Result<SignedFile, CredentialError> {
    let bytes = std::fs::read(input).map_err(|e| CredentialError::io(input, e))?;
    let media = MediaFormat::detect(input, &bytes);
    if let (Some(format), TextCarrier::Embedded) = (media, text_carrier) {
        let signed = sign_media_file(input, output, key, spec, options)?;
        return Ok(SignedFile {
            output: signed.output,
            media: Some(format),
            manifest_len: signed.manifest_len,
        });
    }
    if input.canonicalize().ok() == output.canonicalize().ok() && output.exists() {
        return Err(CredentialError::OutputIsInput(output.to_owned()));
    }
    let (written, manifest_len) = match text_carrier {
        TextCarrier::Sidecar => {
            let store = sign_sidecar(&bytes, key, spec, options)?;
            let len = store.len();
            (store, len)
        }
        TextCarrier::Embedded => {
            let text = std::str::from_utf8(&bytes).map_err(|e| CredentialError::NotUtf8 {
                valid_up_to: e.valid_up_to(),
            })?;
            let signed = sign_text_embedded(text, key, spec, options)?;
            (signed.text.into_bytes(), signed.manifest_len)
        }
    };
    write_atomically(output, &written)?;
    Ok(SignedFile {
        output: output.to_owned(),
        media,
        manifest_len,
    })
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), CredentialError> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| CredentialError::io(dir, e))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| CredentialError::io(tmp.path(), e))?;
    tmp.persist(path)
        .map_err(|e| CredentialError::io(path, e.error))?;
    Ok(())
}
