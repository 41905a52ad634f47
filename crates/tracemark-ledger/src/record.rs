//! Generation records (`tracemark.generation-record/v1`) and the MinHash sketch that
//! lets an edited copy of a text find its record without the log storing the text.
//!
//! The log entry of a record is its RFC 8785 canonical JSON ([`crate::jcs`]); the leaf is
//! `SHA-256(0x00 ‖ those bytes)`.
//!
//! # The sketch (`minhash-sha256-w5x128-v1`), exactly
//!
//! 1. Words: the text split on Unicode white space (`char::is_whitespace`), each word
//!    lower-cased with Unicode `to_lowercase`. No other normalisation.
//! 2. Shingles: every run of 5 consecutive words joined by one space (U+0020), as UTF-8.
//!    A text of 1 to 4 words has one shingle (all its words); a text with no words has
//!    none, and its sketch is 128 × `0xffffffff`.
//! 3. Base hash of a shingle: `x` = the first 8 bytes of `SHA-256(shingle)` as a
//!    big-endian u64, reduced modulo the Mersenne prime `p = 2^61 − 1`.
//! 4. For `i` in 0..128: `d = SHA-256("tracemark.minhash/v1" ‖ u32_be(i))`;
//!    `a_i = (u64_be(d[0..8]) mod (p − 1)) + 1`, `b_i = u64_be(d[8..16]) mod p`;
//!    `h_i(x) = ((a_i · x + b_i) mod p) mod 2^32` (128-bit arithmetic).
//! 5. `sketch[i]` = the minimum of `h_i` over all shingles.
//!
//! The estimated Jaccard similarity of two sketches is the fraction of the 128 positions
//! where they are equal (standard error ≈ 0.044 at J = 0.5).

use std::sync::OnceLock;

use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use tracemark_core::{ContentHash, Diagnose, Fault, KeyId, Payload, Timestamp};

use crate::{
    jcs::{self, JcsError},
    merkle::{Hash, leaf_hash},
};

/// The `format` of a version 1 generation record.
pub const GENERATION_RECORD_V1: &str = "tracemark.generation-record/v1";

/// The sketch scheme id.
pub const MINHASH_SCHEME: &str = "minhash-sha256-w5x128-v1";

/// The number of hash functions in a sketch.
pub const SKETCH_LEN: usize = 128;

/// Words per shingle.
pub const SHINGLE_WORDS: usize = 5;

const MERSENNE_61: u64 = (1 << 61) - 1;

/// The model that generated the text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelRef {
    pub id: String,
    pub version: String,
}

/// What a provider logs about one generation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerationRecord {
    /// Always [`GENERATION_RECORD_V1`].
    pub format: String,
    /// SHA-256 of the generated text's bytes.
    pub content_hash: ContentHash,
    /// The watermark scheme id (`kgw-selfhash-v1`, …).
    pub watermark_scheme: String,
    /// The watermark key that marked the text.
    pub key_id: KeyId,
    /// The payload the watermark carries.
    pub payload: Payload,
    pub model: ModelRef,
    pub provider: String,
    /// The hash of the content credential (C2PA manifest), when one was attached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_hash: Option<ContentHash>,
    pub time: Timestamp,
    pub generation_id: String,
    pub sketch: TextSketch,
}

/// A record that is not a valid v1 generation record.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("not a generation record: {0}")]
    Json(#[from] serde_json::Error),
    #[error("unsupported record format `{0}` (this build reads {GENERATION_RECORD_V1})")]
    Format(String),
    #[error("the record has no canonical form: {0}")]
    Canonical(#[from] JcsError),
    #[error("the record's canonical form is {0} bytes; a log entry holds at most 65535")]
    TooLarge(usize),
}

impl Diagnose for RecordError {
    fn fault(&self) -> Fault {
        Fault::Input
    }
}

/// Entry bundles (tlog-tiles) prefix each entry with a u16 length.
pub const MAX_ENTRY_BYTES: usize = u16::MAX as usize;

impl GenerationRecord {
    /// Reads a record from JSON, checking its format.
    pub fn from_json(bytes: &[u8]) -> Result<Self, RecordError> {
        let record: Self = serde_json::from_slice(bytes)?;
        if record.format != GENERATION_RECORD_V1 {
            return Err(RecordError::Format(record.format));
        }
        Ok(record)
    }

    /// The RFC 8785 canonical JSON: the log entry.
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, RecordError> {
        if self.format != GENERATION_RECORD_V1 {
            return Err(RecordError::Format(self.format.clone()));
        }
        let bytes = jcs::to_canonical_bytes(self)?;
        if bytes.len() > MAX_ENTRY_BYTES {
            return Err(RecordError::TooLarge(bytes.len()));
        }
        Ok(bytes)
    }

    /// The RFC 6962 leaf hash of the canonical bytes.
    pub fn leaf_hash(&self) -> Result<Hash, RecordError> {
        Ok(leaf_hash(&self.canonical_bytes()?))
    }
}

/// A MinHash sketch of a text, serialised as `{"scheme": "...", "values": base64 of the
/// 128 values as big-endian u32}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextSketch {
    pub values: [u32; SKETCH_LEN],
}

impl TextSketch {
    /// The sketch of `text` (see the module documentation for the exact hashing).
    pub fn of_text(text: &str) -> Self {
        let mut values = [u32::MAX; SKETCH_LEN];
        let params = params();
        for shingle in shingles(text) {
            let x = base_hash(&shingle);
            for (v, &(a, b)) in values.iter_mut().zip(params.iter()) {
                let h = ((u128::from(a) * u128::from(x) + u128::from(b)) % u128::from(MERSENNE_61))
                    as u32;
                *v = (*v).min(h);
            }
        }
        Self { values }
    }

    /// The estimated Jaccard similarity: the share of equal positions.
    pub fn similarity(&self, other: &TextSketch) -> f64 {
        let same = self
            .values
            .iter()
            .zip(other.values.iter())
            .filter(|(a, b)| a == b)
            .count();
        same as f64 / SKETCH_LEN as f64
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        self.values.iter().flat_map(|v| v.to_be_bytes()).collect()
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != SKETCH_LEN * 4 {
            return None;
        }
        let mut values = [0u32; SKETCH_LEN];
        for (v, chunk) in values.iter_mut().zip(bytes.chunks_exact(4)) {
            *v = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        }
        Some(Self { values })
    }
}

fn shingles(text: &str) -> Vec<String> {
    let words: Vec<String> = text.split_whitespace().map(str::to_lowercase).collect();
    if words.is_empty() {
        return Vec::new();
    }
    if words.len() < SHINGLE_WORDS {
        return vec![words.join(" ")];
    }
    words.windows(SHINGLE_WORDS).map(|w| w.join(" ")).collect()
}

fn base_hash(shingle: &str) -> u64 {
    let d = Sha256::digest(shingle.as_bytes());
    u64_be(&d[..8]) % MERSENNE_61
}

fn u64_be(bytes: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[..8]);
    u64::from_be_bytes(b)
}

/// The (a_i, b_i) pairs, derived once.
fn params() -> &'static [(u64, u64); SKETCH_LEN] {
    static PARAMS: OnceLock<[(u64, u64); SKETCH_LEN]> = OnceLock::new();
    PARAMS.get_or_init(|| {
        let mut out = [(0, 0); SKETCH_LEN];
        for (i, p) in out.iter_mut().enumerate() {
            let d = Sha256::new()
                .chain_update(b"tracemark.minhash/v1")
                .chain_update((i as u32).to_be_bytes())
                .finalize();
            *p = (
                u64_be(&d[..8]) % (MERSENNE_61 - 1) + 1,
                u64_be(&d[8..16]) % MERSENNE_61,
            );
        }
        out
    })
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SketchJson {
    scheme: String,
    values: String,
}

impl Serialize for TextSketch {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        SketchJson {
            scheme: MINHASH_SCHEME.into(),
            values: BASE64.encode(self.to_bytes()),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for TextSketch {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let json = SketchJson::deserialize(d)?;
        if json.scheme != MINHASH_SCHEME {
            return Err(D::Error::custom(format!(
                "unknown sketch scheme `{}` (expected {MINHASH_SCHEME})",
                json.scheme
            )));
        }
        let bytes = BASE64
            .decode(&json.values)
            .map_err(|_| D::Error::custom("the sketch values are not base64"))?;
        Self::from_bytes(&bytes)
            .ok_or_else(|| D::Error::custom("a sketch has 128 values of 4 bytes"))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn record(text: &str, generation_id: &str) -> GenerationRecord {
        GenerationRecord {
            format: GENERATION_RECORD_V1.into(),
            content_hash: ContentHash::of_bytes(text.as_bytes()),
            watermark_scheme: "kgw-selfhash-v1".into(),
            key_id: KeyId::derive(tracemark_core::KeyKind::Watermark, b"k"),
            payload: Payload::new(0xbeef, 16).unwrap(),
            model: ModelRef {
                id: "tinystories-260k".into(),
                version: "1".into(),
            },
            provider: "provider.example".into(),
            credential_hash: None,
            time: "2026-08-02T00:00:00Z".parse().unwrap(),
            generation_id: generation_id.into(),
            sketch: TextSketch::of_text(text),
        }
    }

    #[test]
    fn canonical_bytes_are_sorted_and_stable() {
        let r = record("once upon a time there was a cat", "g-1");
        let bytes = r.canonical_bytes().unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with("{\"content_hash\":\"sha256:"), "{text}");
        assert!(!text.contains("credential_hash"));
        assert!(text.contains("\"format\":\"tracemark.generation-record/v1\""));
        // Reading the canonical bytes back gives the same record and the same bytes.
        let again = GenerationRecord::from_json(&bytes).unwrap();
        assert_eq!(again, r);
        assert_eq!(again.canonical_bytes().unwrap(), bytes);
        assert_eq!(r.leaf_hash().unwrap(), leaf_hash(&bytes));
    }

    #[test]
    fn wrong_formats_and_fields_are_rejected() {
        let r = record("text", "g");
        let json = serde_json::to_string(&r).unwrap();
        let v2 = json.replace("generation-record/v1", "generation-record/v2");
        assert!(matches!(
            GenerationRecord::from_json(v2.as_bytes()),
            Err(RecordError::Format(_))
        ));
        let extra = json.replacen('{', "{\"surprise\":1,", 1);
        assert!(GenerationRecord::from_json(extra.as_bytes()).is_err());
        assert!(GenerationRecord::from_json(&json.as_bytes()[..json.len() / 2]).is_err());
        let scheme = json.replace(MINHASH_SCHEME, "minhash-other");
        assert!(GenerationRecord::from_json(scheme.as_bytes()).is_err());
    }

    #[test]
    fn sketches_estimate_overlap() {
        let base: String = (0..200).map(|i| format!("w{} ", i * 7 % 61 + i)).collect();
        let a = TextSketch::of_text(&base);
        assert_eq!(a.similarity(&a), 1.0);
        assert_eq!(TextSketch::of_text(&base.to_uppercase()), a);
        // Edit ten words out of 200: about 50 of 196 shingles change, J ≈ 0.6 to 0.8.
        let edited: String = base
            .split_whitespace()
            .enumerate()
            .map(|(i, w)| {
                if i % 20 == 0 {
                    "EDIT ".to_string()
                } else {
                    format!("{w} ")
                }
            })
            .collect();
        let s = a.similarity(&TextSketch::of_text(&edited));
        assert!((0.45..0.95).contains(&s), "{s}");
        let other: String = (0..200).map(|i| format!("z{i} ")).collect();
        assert!(a.similarity(&TextSketch::of_text(&other)) < 0.1);
        assert_eq!(TextSketch::of_text("").values, [u32::MAX; SKETCH_LEN]);
        assert_ne!(
            TextSketch::of_text("two words").values,
            [u32::MAX; SKETCH_LEN]
        );
    }

    /// Pins the exact hashing (module documentation) so that a change cannot pass
    /// unnoticed: another implementation must produce these values for this text.
    #[test]
    fn sketch_values_are_pinned() {
        let s = TextSketch::of_text("The quick brown fox jumps over the lazy dog");
        assert_eq!(s.values[..4], [178667061, 203883604, 52116765, 2087238447]);
        let x = base_hash("the quick brown fox jumps");
        let (a, b) = params()[0];
        let h0 = ((u128::from(a) * u128::from(x) + u128::from(b)) % u128::from(MERSENNE_61)) as u32;
        assert!(s.values[0] <= h0);
        assert_eq!(shingles("A b  c\td e F").len(), 2);
        assert_eq!(shingles("A b")[0], "a b");
    }
}
