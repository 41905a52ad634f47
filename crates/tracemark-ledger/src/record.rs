//! Generation records (`tracemark.generation-record/v1` and `/v2`) and the MinHash
//! sketch that lets an edited copy of a text find its record without the log storing
//! the text.
//!
//! # Versions
//!
//! A v2 record is a v1 record whose `model` also names the model by its identity:
//! `model.digest`, its OMS root digest (`files`, SHA-256, the default exclusions), and
//! optionally `model.release`, the log entry of the model's release record
//! (`tracemark.model-release-record/v1`) as `{index, leaf_hash}`. A provider whose model
//! is signed writes v2; one whose model is not (or the corpus model) writes v1, byte for
//! byte as before. Both are read; a v1 record carrying a digest, or a v2 record without
//! one, is refused.
//!
//! The log entry of a record is its RFC 8785 canonical JSON ([`crate::jcs`]); the leaf is
//! `SHA-256(0x00 ‖ those bytes)`.
//!
//! # The sketch
//!
//! A record's `sketch` is a [`TextSketch`] (`tracemark_core::minhash::Sketch`, defined
//! exactly there): `{"scheme": "<id>", "values": "<base64>"}`. New records carry the
//! current scheme, `minhash-sha256-w5x128-v2`; records written before it carry
//! `minhash-sha256-w5x128-v1` and still read, with the same canonical bytes (so the same
//! leaf hash) and the same look-up keys. A sketch is compared only with sketches of its
//! own scheme: to compare a text with a record, sketch the text in the record's scheme
//! ([`TextSketch::similarity_to_text`]); to search the log by text, use
//! [`crate::store::LogStore::similar_to_text`], which sketches it in every scheme.

use serde::{Deserialize, Serialize};
use tracemark_core::{ContentHash, Diagnose, Fault, KeyId, Payload, Timestamp};

use crate::{
    jcs::{self, JcsError},
    merkle::{Hash, leaf_hash},
};

pub use tracemark_core::minhash::{Scheme as SketchScheme, Sketch as TextSketch};

/// The `format` of a version 1 generation record.
pub const GENERATION_RECORD_V1: &str = "tracemark.generation-record/v1";

/// The `format` of a version 2 generation record: v1, with the model named by its
/// identity (`model.digest`) and, optionally, its release record (`model.release`).
pub const GENERATION_RECORD_V2: &str = "tracemark.generation-record/v2";

/// The `format` of a version 3 generation record: a generation of media (an image or a
/// sound). It names the media type and the content's perceptual fingerprint (`media`);
/// its `sketch` is the empty text sketch (media has no words); the model is named as in
/// v1 or v2 (its digest optional).
pub const GENERATION_RECORD_V3: &str = "tracemark.generation-record/v3";

/// The generation-record formats this build reads.
pub const GENERATION_RECORD_FORMATS: [&str; 3] = [
    GENERATION_RECORD_V1,
    GENERATION_RECORD_V2,
    GENERATION_RECORD_V3,
];

/// The scheme id of the sketches new records carry.
pub const MINHASH_SCHEME: &str = SketchScheme::CURRENT.id();

/// The model that generated the text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelRef {
    pub id: String,
    pub version: String,
    /// v2: `sha256:HEX`, the model's identity (its OMS root digest under `files`,
    /// SHA-256 and the default exclusions). Absent in v1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<ContentHash>,
    /// v2, optional: the log entry of the model's release record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<ReleaseRef>,
}

impl ModelRef {
    /// A model named only by its name and version (a v1 record's model).
    pub fn named(id: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            version: version.into(),
            digest: None,
            release: None,
        }
    }
}

/// A model-release record in the log, as a generation record refers to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseRef {
    /// Its leaf index.
    pub index: u64,
    /// Its RFC 6962 leaf hash, hex.
    pub leaf_hash: String,
}

/// What a v3 record says of generated media: its type, and the perceptual fingerprint
/// of the content as published, which tells the same picture or sound re-encoded from
/// other content carrying a copied watermark.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaRef {
    /// `image/png`, `image/jpeg`, `audio/wav`.
    pub media_type: String,
    pub fingerprint: Fingerprint,
}

/// A perceptual fingerprint: its scheme id (`phash-dct-32x8-v1`,
/// `audio-band-energy-9x9-v1`) and 64 bits as 16 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fingerprint {
    pub scheme: String,
    pub value: String,
}

impl Fingerprint {
    pub fn new(scheme: impl Into<String>, bits: u64) -> Self {
        Self {
            scheme: scheme.into(),
            value: format!("{bits:016x}"),
        }
    }

    /// The 64 bits, when `value` is 16 hex digits.
    pub fn bits(&self) -> Option<u64> {
        (self.value.len() == 16)
            .then(|| u64::from_str_radix(&self.value, 16).ok())
            .flatten()
    }
}

/// What a provider logs about one generation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerationRecord {
    /// [`GENERATION_RECORD_V1`], or [`GENERATION_RECORD_V2`] when `model.digest` is set.
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
    /// v3: the generated media's type and fingerprint. Absent in v1 and v2 (text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<MediaRef>,
}

/// A record that is not a valid generation record.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("not a generation record: {0}")]
    Json(#[from] serde_json::Error),
    #[error(
        "unsupported record format `{0}` (this build reads {GENERATION_RECORD_V1}, {GENERATION_RECORD_V2} and {GENERATION_RECORD_V3})"
    )]
    Format(String),
    /// A known format whose fields belong to the other version.
    #[error("not a valid {format} record: {reason}")]
    Version {
        format: &'static str,
        reason: &'static str,
    },
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
    /// The format a record naming `model` is written in: v2 when the model is named by
    /// its digest, else v1.
    pub fn format_for(model: &ModelRef) -> &'static str {
        match model.digest {
            Some(_) => GENERATION_RECORD_V2,
            None => GENERATION_RECORD_V1,
        }
    }

    /// Checks that the format is one this build reads and that the fields fit it.
    pub fn check_format(&self) -> Result<(), RecordError> {
        let v1 = match self.format.as_str() {
            GENERATION_RECORD_V1 => true,
            GENERATION_RECORD_V2 => false,
            GENERATION_RECORD_V3 => {
                return match (&self.media, &self.model.digest, &self.model.release) {
                    (None, _, _) => Err(RecordError::Version {
                        format: GENERATION_RECORD_V3,
                        reason: "it names no media (the field of v3)",
                    }),
                    (Some(_), None, Some(_)) => Err(RecordError::Version {
                        format: GENERATION_RECORD_V3,
                        reason: "its model names a release but no digest",
                    }),
                    _ => Ok(()),
                };
            }
            _ => return Err(RecordError::Format(self.format.clone())),
        };
        if self.media.is_some() {
            return Err(RecordError::Version {
                format: if v1 {
                    GENERATION_RECORD_V1
                } else {
                    GENERATION_RECORD_V2
                },
                reason: "it names media (a field of v3)",
            });
        }
        match (v1, &self.model.digest, &self.model.release) {
            (true, Some(_), _) | (true, _, Some(_)) => Err(RecordError::Version {
                format: GENERATION_RECORD_V1,
                reason: "its model carries a digest or a release (fields of v2)",
            }),
            (false, None, _) => Err(RecordError::Version {
                format: GENERATION_RECORD_V2,
                reason: "its model has no digest",
            }),
            _ => Ok(()),
        }
    }

    /// The format constant of this record's version (after [`Self::check_format`]).
    pub fn format_id(&self) -> &'static str {
        match self.format.as_str() {
            GENERATION_RECORD_V2 => GENERATION_RECORD_V2,
            GENERATION_RECORD_V3 => GENERATION_RECORD_V3,
            _ => GENERATION_RECORD_V1,
        }
    }

    /// Whether the record is of generated media (v3).
    pub fn is_media(&self) -> bool {
        self.media.is_some()
    }

    /// Reads a record from JSON, checking its format.
    pub fn from_json(bytes: &[u8]) -> Result<Self, RecordError> {
        let record: Self = serde_json::from_slice(bytes)?;
        record.check_format()?;
        Ok(record)
    }

    /// The RFC 8785 canonical JSON: the log entry.
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, RecordError> {
        self.check_format()?;
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
            model: ModelRef::named("tinystories-260k", "1"),
            provider: "provider.example".into(),
            credential_hash: None,
            time: "2026-08-02T00:00:00Z".parse().unwrap(),
            generation_id: generation_id.into(),
            sketch: TextSketch::of_text(text),
            media: None,
        }
    }

    /// A v3 record (an image) reads back with its bytes; v3 without media, and v1 or v2
    /// with media, are refused.
    #[test]
    fn a_v3_record_names_its_media() {
        let mut r = record("", "g-3");
        r.format = GENERATION_RECORD_V3.into();
        assert!(matches!(
            r.canonical_bytes(),
            Err(RecordError::Version {
                format: GENERATION_RECORD_V3,
                ..
            })
        ));
        r.media = Some(MediaRef {
            media_type: "image/png".into(),
            fingerprint: Fingerprint::new("phash-dct-32x8-v1", 0x0123_4567_89ab_cdef),
        });
        let bytes = r.canonical_bytes().unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains("\"value\":\"0123456789abcdef\""), "{text}");
        let back = GenerationRecord::from_json(&bytes).unwrap();
        assert_eq!(back, r);
        assert_eq!(back.format_id(), GENERATION_RECORD_V3);
        assert_eq!(
            back.media.unwrap().fingerprint.bits(),
            Some(0x0123_4567_89ab_cdef)
        );
        r.format = GENERATION_RECORD_V1.into();
        assert!(r.canonical_bytes().is_err());
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
        let v3 = json.replace("generation-record/v1", "generation-record/v9");
        assert!(matches!(
            GenerationRecord::from_json(v3.as_bytes()),
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
        assert!(TextSketch::of_text("").is_empty());
        assert!(!TextSketch::of_text("two words").is_empty());
    }

    /// A record written before the current sketch scheme (a committed fixture, made by
    /// the code of the time) still reads, keeps its canonical bytes and leaf hash, and
    /// its sketch compares with a text sketched in its scheme, never with one of another.
    #[test]
    fn a_record_with_a_v1_sketch_still_reads() {
        let bytes = include_bytes!("../tests/fixtures/record-minhash-v1.json");
        let r = GenerationRecord::from_json(bytes).unwrap();
        assert_eq!(r.sketch.scheme(), SketchScheme::LedgerV1);
        assert_eq!(r.canonical_bytes().unwrap(), bytes);
        let text = "Once upon a time, a little fox called Pip found a shiny red ball in \
            the tall grass near the river. Pip rolled the ball to his friend the owl, and \
            they played until the sun went down.";
        assert_eq!(r.content_hash, ContentHash::of_bytes(text.as_bytes()));
        assert_eq!(r.sketch, SketchScheme::LedgerV1.sketch(text));
        assert_eq!(r.sketch.similarity_to_text(text), 1.0);
        assert_eq!(r.sketch.similarity(&TextSketch::of_text(text)), 0.0);
        // A record made now carries the current scheme.
        let now = record(text, "g");
        assert_eq!(now.sketch.scheme(), SketchScheme::CURRENT);
        let json = String::from_utf8(now.canonical_bytes().unwrap()).unwrap();
        assert!(
            json.contains("\"scheme\":\"minhash-sha256-w5x128-v2\""),
            "{json}"
        );
        assert_eq!(GenerationRecord::from_json(json.as_bytes()).unwrap(), now);
    }

    /// A v2 record names the model by its digest (and its release record); v1 records
    /// keep their bytes; a record whose fields belong to the other version is refused.
    #[test]
    fn a_v2_record_names_the_model_by_its_digest() {
        let mut r = record("once upon a time", "g-2");
        let v1_bytes = r.canonical_bytes().unwrap();
        r.model.digest = Some(ContentHash::of_bytes(b"root"));
        assert!(matches!(
            r.canonical_bytes(),
            Err(RecordError::Version {
                format: GENERATION_RECORD_V1,
                ..
            })
        ));
        r.format = GenerationRecord::format_for(&r.model).into();
        assert_eq!(r.format, GENERATION_RECORD_V2);
        r.model.release = Some(ReleaseRef {
            index: 3,
            leaf_hash: "00".repeat(32),
        });
        let bytes = r.canonical_bytes().unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains("\"digest\":\"sha256:"), "{text}");
        assert!(text.contains("\"release\":{\"index\":3,"), "{text}");
        assert_eq!(GenerationRecord::from_json(&bytes).unwrap(), r);
        assert_eq!(r.format_id(), GENERATION_RECORD_V2);
        // Without a digest, v2 is refused; the v1 bytes are unchanged by the new fields.
        let no_digest = text.replace(
            &format!("\"digest\":\"{}\",", ContentHash::of_bytes(b"root")),
            "",
        );
        assert!(matches!(
            GenerationRecord::from_json(no_digest.as_bytes()),
            Err(RecordError::Version {
                format: GENERATION_RECORD_V2,
                ..
            })
        ));
        let v1 = GenerationRecord::from_json(&v1_bytes).unwrap();
        assert_eq!(v1.model.digest, None);
        assert_eq!(v1.canonical_bytes().unwrap(), v1_bytes);
        assert!(!String::from_utf8(v1_bytes).unwrap().contains("digest"));
    }
}
