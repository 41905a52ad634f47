//! Content credentials for text: a sidecar `.c2pa` manifest store, or a manifest
//! embedded in the text by the A.8 wrapper ([`crate::wrapper`]).
//!
//! Both are built by the c2pa crate's data-hash ("embeddable") path, so the claim,
//! assertions, JUMBF and COSE signature are the SDK's own:
//!
//! - **Sidecar**: `c2pa.hash.data` is SHA-256 over the file's raw bytes with no
//!   exclusions, the layout the official SDK (c2pa-python) writes when it signs a
//!   `text/plain` file with `set_no_embed`, so its reader validates ours and back.
//! - **Embedded**: the text is NFC-normalised, and `c2pa.hash.data` covers its UTF-8
//!   bytes with one exclusion: the wrapper's byte range, appended right after. The
//!   manifest's size is fixed before signing (a placeholder with the same assertions,
//!   and a signature box reserved to fit the chain), so the wrapper's length and
//!   therefore the exclusion are known before the hash is signed.

use c2pa::{
    HashRange,
    assertions::{DataHash, labels},
};
use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;

use crate::{CredentialError, CredentialSpec, SigningKey, manifest, signer::C2paSigner, wrapper};

/// Options for signing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignOptions {
    /// An RFC 3161 time-stamp authority (`http://` or `https://`). When set, the
    /// signature carries a token from it (`sigTst2`), and signing fails if it cannot be
    /// had. Unset: no time stamp (the claimed time is in the SB 942 assertion).
    pub tsa_url: Option<String>,
    /// The TLS trust roots for an `https://` authority, instead of Mozilla's (the
    /// `webpki-roots` bundle): for an authority whose certificate a private CA issued.
    pub tsa_roots: Option<crate::TrustAnchors>,
}

/// A text with its manifest embedded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedText {
    /// The NFC-normalised text followed by the wrapper.
    pub text: String,
    /// The manifest store's size in bytes.
    pub manifest_len: usize,
    /// The wrapper's size in UTF-8 bytes.
    pub wrapper_len: usize,
}

fn data_hash(hash: Vec<u8>, exclusion: Option<(u64, u64)>) -> DataHash {
    let mut dh = DataHash::new("jumbf manifest", "sha256");
    if let Some((start, length)) = exclusion {
        dh.add_exclusion(HashRange::new(start, length));
    }
    dh.set_hash(hash);
    dh
}

/// Signs a sidecar manifest store for `content` (any bytes: the hash is over the raw
/// file). Write the result beside the file as `NAME.c2pa`.
pub fn sign_sidecar(
    content: &[u8],
    key: &SigningKey,
    spec: &CredentialSpec,
    options: &SignOptions,
) -> Result<Vec<u8>, CredentialError> {
    let context = manifest::context_with(manifest::base_settings())?;
    let mut builder = spec.builder(context, false)?;
    let dh = data_hash(Sha256::digest(content).to_vec(), None);
    builder
        .add_assertion(labels::DATA_HASH, &dh)
        .map_err(CredentialError::c2pa)?;
    let signer = key.c2pa_signer(options);
    builder
        .sign_data_hashed_embeddable(&signer, &dh, "application/c2pa")
        .map_err(|e| signing_error(e, &signer))
}

/// A time-stamp failure is reported as such (which authority, and why); anything else
/// as the c2pa crate's error.
fn signing_error(e: c2pa::Error, signer: &C2paSigner<'_>) -> CredentialError {
    signer
        .take_time_stamp_error()
        .unwrap_or_else(|| CredentialError::c2pa(e))
}

/// Signs `text` with an embedded manifest: returns the NFC-normalised text followed by
/// the A.8 wrapper. Text that already carries a wrapper (or a broken one) is refused:
/// strip it first with [`strip_wrappers`] if a new credential should replace it.
pub fn sign_text_embedded(
    text: &str,
    key: &SigningKey,
    spec: &CredentialSpec,
    options: &SignOptions,
) -> Result<EmbeddedText, CredentialError> {
    let found = wrapper::scan(text);
    let count = found.wrappers.len() + found.broken.len();
    if count > 0 {
        return Err(CredentialError::AlreadyEmbedded { count });
    }
    let visible: String = text.nfc().collect();
    let context = manifest::context_with(manifest::base_settings())?;
    let mut builder = spec.builder(context, false)?;
    // The placeholder's exclusion holds numbers at least as wide in CBOR as the real
    // ones (any u32 fits in 5 bytes), so the real assertion is padded to its size.
    let placeholder = data_hash(
        vec![0; 32],
        Some((u64::from(u32::MAX), u64::from(u32::MAX))),
    );
    builder
        .add_assertion(labels::DATA_HASH, &placeholder)
        .map_err(CredentialError::c2pa)?;
    let signer = key.c2pa_signer(options);
    let reserve = c2pa::Signer::reserve_size(&signer);
    let manifest_len = builder
        .data_hashed_placeholder(reserve, "application/c2pa")
        .map_err(CredentialError::c2pa)?
        .len();
    let wrapper_len = wrapper::wrapper_len(manifest_len);
    let start = visible.len() as u64;
    let dh = data_hash(
        Sha256::digest(visible.as_bytes()).to_vec(),
        Some((start, wrapper_len as u64)),
    );
    let manifest = builder
        .sign_data_hashed_embeddable(&signer, &dh, "application/c2pa")
        .map_err(|e| signing_error(e, &signer))?;
    if manifest.len() != manifest_len {
        return Err(CredentialError::C2pa(format!(
            "the signed manifest is {} bytes, not the {manifest_len} reserved",
            manifest.len()
        )));
    }
    let wrapped = wrapper::encode(&manifest).map_err(|e| CredentialError::C2pa(e.to_string()))?;
    debug_assert_eq!(wrapped.len(), wrapper_len);
    let mut out = visible;
    out.push_str(&wrapped);
    Ok(EmbeddedText {
        text: out,
        manifest_len,
        wrapper_len,
    })
}

/// `text` without any wrapper (good or broken) and NFC-normalised: the visible text
/// that an embedded manifest binds.
pub fn strip_wrappers(text: &str) -> String {
    let found = wrapper::scan(text);
    let mut ranges: Vec<_> = found
        .wrappers
        .iter()
        .map(|w| w.range.clone())
        .chain(found.broken.iter().map(|b| b.range.clone()))
        .collect();
    ranges.sort_by_key(|r| r.start);
    wrapper::remove_ranges(text, &ranges).nfc().collect()
}
