//! The registry of log record types: every kind of entry a Tracemark log holds, named
//! by its versioned `format` field, in one place.
//!
//! An entry is the RFC 8785 canonical JSON ([`crate::jcs`]) of one record, and every
//! record says what it is in its `format` field (`tracemark.<kind>-record/v<N>`). A new
//! kind of record, or a new version of one, is added here: its format constant in
//! [`RECORD_FORMATS`], a [`RecordKind`] and a [`LogRecord`] variant, so that whatever
//! reads entries back (`log verify`, receipts, look-ups) can say what each one is, and
//! refuses, naming it, a format this build does not know.
//!
//! | format | type | look-up keys |
//! |---|---|---|
//! | `tracemark.generation-record/v1` | [`GenerationRecord`] (in [`crate::record`]) | content hash, payload and key, generation id, MinHash sketch |
//! | `tracemark.generation-record/v2` | [`GenerationRecord`]: v1 with the model's identity (`model.digest`) and optionally its release record (`model.release`) | as v1 |
//! | `tracemark.generation-record/v3` | [`GenerationRecord`] of generated media: `media` (type and perceptual fingerprint), an empty text sketch, the model as v1 or v2 | content hash, payload and key, generation id |
//! | `tracemark.report-record/v1` | [`ReportRecord`] | none |
//! | `tracemark.model-release-record/v1` | [`ModelReleaseRecord`] | content hash (the model's identity) |
//! | `tracemark.collection-record/v1` | [`CollectionRecord`] | content hash (the URL's key: [`url_key`]) |
//!
//! A kind may have several versions ([`RecordKind::formats`]): every one is read, the
//! writer chooses (a generation record is v2 only when it names the model's digest).

use serde::{Deserialize, Serialize};
use tracemark_core::{
    ContentHash, Diagnose, Fault, Timestamp, jcs,
    rights::{AiUse, Permission},
};

pub use crate::record::GENERATION_RECORD_V3;
pub use crate::record::{GENERATION_RECORD_V1, GENERATION_RECORD_V2};
use crate::{
    ledger::record_entry,
    record::{GenerationRecord, MAX_ENTRY_BYTES, RecordError},
    store::{EntryKeys, NewEntry},
};

/// The `format` of the log entry that records a sealed evidence report (its chain of
/// custody).
pub const REPORT_RECORD_V1: &str = "tracemark.report-record/v1";

/// The `format` of the log entry that records a signed model release: the model's
/// identity (its OMS root digest), who signed it, and the signature's hash.
pub const MODEL_RELEASE_RECORD_V1: &str = "tracemark.model-release-record/v1";

/// The `format` of the log entry that records a document's rights decision at
/// collection: included in a corpus, excluded because of a reservation, or withdrawn.
pub const COLLECTION_RECORD_V1: &str = "tracemark.collection-record/v1";

/// Every record format this build reads and writes.
pub const RECORD_FORMATS: &[&str] = &[
    GENERATION_RECORD_V1,
    GENERATION_RECORD_V2,
    GENERATION_RECORD_V3,
    REPORT_RECORD_V1,
    MODEL_RELEASE_RECORD_V1,
    COLLECTION_RECORD_V1,
];

/// A kind of log record, with one or more formats of [`RECORD_FORMATS`] (its versions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordKind {
    /// `tracemark.generation-record/v1` and `/v2`: what a provider logs about one
    /// generation.
    Generation,
    /// `tracemark.report-record/v1`: that a sealed evidence report existed, unaltered.
    Report,
    /// `tracemark.model-release-record/v1`: a signed model release.
    ModelRelease,
    /// `tracemark.collection-record/v1`: a document's rights decision at collection.
    Collection,
}

impl RecordKind {
    /// Every kind, in the order of [`RECORD_FORMATS`].
    pub const ALL: [RecordKind; 4] = [
        RecordKind::Generation,
        RecordKind::Report,
        RecordKind::ModelRelease,
        RecordKind::Collection,
    ];

    /// The `format` of its latest version.
    pub const fn format(self) -> &'static str {
        let formats = self.formats();
        formats[formats.len() - 1]
    }

    /// The `format`s of its versions, oldest first: every one is read.
    pub const fn formats(self) -> &'static [&'static str] {
        match self {
            RecordKind::Generation => &crate::record::GENERATION_RECORD_FORMATS,
            RecordKind::Report => &[REPORT_RECORD_V1],
            RecordKind::ModelRelease => &[MODEL_RELEASE_RECORD_V1],
            RecordKind::Collection => &[COLLECTION_RECORD_V1],
        }
    }

    /// The kind of a `format`, if this build knows it.
    pub fn of_format(format: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.formats().contains(&format))
    }

    /// What a person calls it ("generation record").
    pub const fn name(self) -> &'static str {
        match self {
            RecordKind::Generation => "generation record",
            RecordKind::Report => "evidence-report record",
            RecordKind::ModelRelease => "model-release record",
            RecordKind::Collection => "collection record",
        }
    }
}

impl std::fmt::Display for RecordKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What the log records of a sealed evidence report: enough to show it existed,
/// unaltered, by then. Its entry has no look-up keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportRecord {
    /// Always [`REPORT_RECORD_V1`].
    pub format: String,
    /// The seal's hash of the report.
    pub report_hash: String,
    /// The content the report is about.
    pub subject_hash: ContentHash,
    pub generated_at: Timestamp,
}

impl ReportRecord {
    /// The record of the report whose seal hash is `report_hash`.
    pub fn new(report_hash: impl Into<String>, subject_hash: ContentHash, at: Timestamp) -> Self {
        Self {
            format: REPORT_RECORD_V1.into(),
            report_hash: report_hash.into(),
            subject_hash,
            generated_at: at,
        }
    }

    /// Reads a record from JSON, checking its format.
    pub fn from_json(bytes: &[u8]) -> Result<Self, LogRecordError> {
        let record: Self = parse(REPORT_RECORD_V1, bytes)?;
        check_format(REPORT_RECORD_V1, &record.format)?;
        Ok(record)
    }

    /// The RFC 8785 canonical JSON: the log entry.
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, LogRecordError> {
        check_format(REPORT_RECORD_V1, &self.format)?;
        canonical(self)
    }

    /// The entry to append (no look-up keys).
    pub fn entry(&self) -> Result<NewEntry, LogRecordError> {
        Ok(NewEntry {
            data: self.canonical_bytes()?,
            keys: EntryKeys::default(),
        })
    }
}

/// What the log records of a signed model release: the model's identity (its OMS root
/// digest under `files`, SHA-256 and the default exclusions), the signature's own root
/// digest and serialisation, who signed it (and how), the signature file's hash, and the
/// name and version the publisher gives it. Its entry is found by the identity
/// (the content-hash key), so a generation record naming the model's digest leads to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelReleaseRecord {
    /// Always [`MODEL_RELEASE_RECORD_V1`].
    pub format: String,
    /// `sha256:HEX`: the model's identity.
    pub model_digest: ContentHash,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `sha256:HEX`: the root digest the signature states (the identity when it was
    /// made with `files` and SHA-256).
    pub signed_root: String,
    /// How the signature hashed the model (`files, sha256`, `shards of N bytes, sha256`).
    pub serialization: String,
    /// The signing method (`key`, `certificate`).
    pub signing_method: String,
    /// The key's hint, or the signing certificate's subject.
    pub signer: String,
    /// The hash of the signature file (`model.sig`) as released.
    pub signature_hash: ContentHash,
    pub released_at: Timestamp,
}

impl ModelReleaseRecord {
    /// Reads a record from JSON, checking its format.
    pub fn from_json(bytes: &[u8]) -> Result<Self, LogRecordError> {
        let record: Self = parse(MODEL_RELEASE_RECORD_V1, bytes)?;
        check_format(MODEL_RELEASE_RECORD_V1, &record.format)?;
        Ok(record)
    }

    /// The RFC 8785 canonical JSON: the log entry.
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, LogRecordError> {
        check_format(MODEL_RELEASE_RECORD_V1, &self.format)?;
        canonical(self)
    }

    /// The entry to append, found by the model's identity.
    pub fn entry(&self) -> Result<NewEntry, LogRecordError> {
        Ok(NewEntry {
            data: self.canonical_bytes()?,
            keys: EntryKeys {
                content_hash: Some(self.model_digest),
                ..EntryKeys::default()
            },
        })
    }
}

/// What happened to a document, as a collection record states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CollectionEvent {
    /// Collected into the corpus.
    Included,
    /// Collected, and left out of the corpus because of a reservation.
    Excluded,
    /// Withdrawn from the corpus after it was built.
    Withdrawn,
}

impl CollectionEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            CollectionEvent::Included => "included",
            CollectionEvent::Excluded => "excluded",
            CollectionEvent::Withdrawn => "withdrawn",
        }
    }
}

/// A rights signal as a collection record keeps it: what it said, when, and the hash of
/// the file or header it was read from; not where (its source would tell the URL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignalSeen {
    /// The signal's kind (`robots-txt`, `tdmrep`, ...).
    pub kind: String,
    #[serde(rename = "use")]
    pub usage: AiUse,
    pub permission: Permission,
    pub seen_at: Timestamp,
    pub sha256: ContentHash,
}

/// The decision for one use, most restrictive signal first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UseDecision {
    #[serde(rename = "use")]
    pub usage: AiUse,
    pub permission: Permission,
}

/// What the log records of one document's rights at collection: the URL (or, so that
/// the log does not publish the crawl list, a salted commitment to it that the provider
/// opens for one URL at a time: [`url_key`]), when it was collected, the signals then in
/// force with their hashes, the decision per use for whom they were read, and the event.
/// Found by the URL's key (the content-hash key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectionRecord {
    /// Always [`COLLECTION_RECORD_V1`].
    pub format: String,
    pub event: CollectionEvent,
    /// The document's URL, when the provider publishes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Else the commitment to it: [`url_key`] with the URL's salt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_commitment: Option<ContentHash>,
    /// When the document was collected, as the provider states it (the log's evidence
    /// of time is a witness's cosignature of a checkpoint that includes the record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collected_at: Option<Timestamp>,
    /// Whose reservations the decisions answer: a crawler's product token, or `*` for
    /// any AI agent.
    pub agent: String,
    pub signals: Vec<SignalSeen>,
    pub decisions: Vec<UseDecision>,
    /// For a withdrawal: when, and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Prefix of the URL keys, so that they hash nothing else's bytes.
const URL_KEY_DOMAIN: &[u8] = b"tracemark.collection-url/v1\n";

/// The look-up key of a URL's collection records: SHA-256 of the URL (under a domain
/// prefix), or with its `salt` (32 secret bytes a URL) the commitment that opens only
/// with that salt: a reader of the log learns no URL, and whoever is given one URL and
/// its salt can check that URL's records and no other.
pub fn url_key(url: &str, salt: Option<&[u8; 32]>) -> ContentHash {
    let mut bytes = URL_KEY_DOMAIN.to_vec();
    if let Some(salt) = salt {
        bytes.extend_from_slice(salt);
    }
    bytes.extend_from_slice(url.as_bytes());
    ContentHash::of_bytes(&bytes)
}

impl CollectionRecord {
    /// Reads a record from JSON, checking its format and that it names its URL one way.
    pub fn from_json(bytes: &[u8]) -> Result<Self, LogRecordError> {
        let record: Self = parse(COLLECTION_RECORD_V1, bytes)?;
        record.check()?;
        Ok(record)
    }

    fn check(&self) -> Result<(), LogRecordError> {
        check_format(COLLECTION_RECORD_V1, &self.format)?;
        let invalid = |reason: &str| LogRecordError::Invalid {
            format: COLLECTION_RECORD_V1,
            reason: reason.into(),
        };
        if self.url.is_some() == self.url_commitment.is_some() {
            return Err(invalid(
                "exactly one of `url` and `url_commitment` is given",
            ));
        }
        if (self.event == CollectionEvent::Withdrawn) != self.withdrawn_at.is_some() {
            return Err(invalid(
                "`withdrawn_at` is given for a withdrawal, and only then",
            ));
        }
        Ok(())
    }

    /// The key it is found by: its commitment, or its URL's key.
    pub fn key(&self) -> ContentHash {
        match (&self.url_commitment, &self.url) {
            (Some(c), _) => *c,
            (None, url) => url_key(url.as_deref().unwrap_or_default(), None),
        }
    }

    /// Whether the record is about `url` (with the URL's `salt` when it commits to it).
    pub fn names(&self, url: &str, salt: Option<&[u8; 32]>) -> bool {
        match (&self.url, &self.url_commitment, salt) {
            (Some(u), None, _) => u == url,
            (None, Some(c), Some(salt)) => *c == url_key(url, Some(salt)),
            _ => false,
        }
    }

    /// The RFC 8785 canonical JSON: the log entry.
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, LogRecordError> {
        self.check()?;
        canonical(self)
    }

    /// The entry to append, found by its URL's key.
    pub fn entry(&self) -> Result<NewEntry, LogRecordError> {
        Ok(NewEntry {
            data: self.canonical_bytes()?,
            keys: EntryKeys {
                content_hash: Some(self.key()),
                ..EntryKeys::default()
            },
        })
    }
}

/// A log entry read as the record its `format` names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum LogRecord {
    Generation(GenerationRecord),
    Report(ReportRecord),
    ModelRelease(ModelReleaseRecord),
    Collection(CollectionRecord),
}

impl LogRecord {
    /// Reads an entry (or any record's JSON) by its `format` field; a format this build
    /// does not know is [`LogRecordError::UnknownFormat`], naming it.
    pub fn parse(entry: &[u8]) -> Result<Self, LogRecordError> {
        #[derive(Deserialize)]
        struct Head {
            format: String,
        }
        let head: Head =
            serde_json::from_slice(entry).map_err(|e| LogRecordError::NotARecord(e.to_string()))?;
        match RecordKind::of_format(&head.format) {
            Some(RecordKind::Generation) => Ok(LogRecord::Generation(
                GenerationRecord::from_json(entry).map_err(generation_error)?,
            )),
            Some(RecordKind::Report) => Ok(LogRecord::Report(ReportRecord::from_json(entry)?)),
            Some(RecordKind::ModelRelease) => Ok(LogRecord::ModelRelease(
                ModelReleaseRecord::from_json(entry)?,
            )),
            Some(RecordKind::Collection) => {
                Ok(LogRecord::Collection(CollectionRecord::from_json(entry)?))
            }
            None => Err(LogRecordError::UnknownFormat(head.format)),
        }
    }

    pub fn kind(&self) -> RecordKind {
        match self {
            LogRecord::Generation(_) => RecordKind::Generation,
            LogRecord::Report(_) => RecordKind::Report,
            LogRecord::ModelRelease(_) => RecordKind::ModelRelease,
            LogRecord::Collection(_) => RecordKind::Collection,
        }
    }

    /// The `format` of this record (its kind's version it was written in).
    pub fn format(&self) -> &'static str {
        match self {
            LogRecord::Generation(r) => r.format_id(),
            other => other.kind().format(),
        }
    }

    /// The RFC 8785 canonical JSON: the log entry.
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, LogRecordError> {
        match self {
            LogRecord::Generation(r) => r.canonical_bytes().map_err(generation_error),
            LogRecord::Report(r) => r.canonical_bytes(),
            LogRecord::ModelRelease(r) => r.canonical_bytes(),
            LogRecord::Collection(r) => r.canonical_bytes(),
        }
    }

    /// The entry to append, with the look-up keys of its kind.
    pub fn entry(&self) -> Result<NewEntry, LogRecordError> {
        match self {
            LogRecord::Generation(r) => record_entry(r).map_err(generation_error),
            LogRecord::Report(r) => r.entry(),
            LogRecord::ModelRelease(r) => r.entry(),
            LogRecord::Collection(r) => r.entry(),
        }
    }
}

impl From<GenerationRecord> for LogRecord {
    fn from(r: GenerationRecord) -> Self {
        LogRecord::Generation(r)
    }
}

impl From<ModelReleaseRecord> for LogRecord {
    fn from(r: ModelReleaseRecord) -> Self {
        LogRecord::ModelRelease(r)
    }
}

impl From<CollectionRecord> for LogRecord {
    fn from(r: CollectionRecord) -> Self {
        LogRecord::Collection(r)
    }
}

impl From<ReportRecord> for LogRecord {
    fn from(r: ReportRecord) -> Self {
        LogRecord::Report(r)
    }
}

/// A log entry that is not a record this build reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogRecordError {
    /// Not a JSON object with a string `format`.
    #[error("the log entry is not a record (a JSON object with a `format`): {0}")]
    NotARecord(String),
    #[error("unknown log record format `{0}` (this build reads {known})", known = RECORD_FORMATS.join(", "))]
    UnknownFormat(String),
    /// A known format whose fields do not fit it.
    #[error("not a valid {format} record: {reason}")]
    Invalid {
        format: &'static str,
        reason: String,
    },
    /// A record of one type that carries another type's `format`.
    #[error("a {expected} record carries the format `{found}`")]
    WrongFormat {
        expected: &'static str,
        found: String,
    },
    #[error("the record has no canonical form: {0}")]
    Canonical(String),
    #[error("the record's canonical form is {0} bytes; a log entry holds at most 65535")]
    TooLarge(usize),
}

impl Diagnose for LogRecordError {
    fn fault(&self) -> Fault {
        Fault::Input
    }

    fn hint(&self) -> Option<String> {
        match self {
            LogRecordError::UnknownFormat(_) => Some(
                "the entry was written by another (newer?) Tracemark version, or by another program sharing the log"
                    .into(),
            ),
            _ => None,
        }
    }
}

/// A record of `format` read from JSON (its `format` field checked by the caller).
fn parse<T: serde::de::DeserializeOwned>(
    format: &'static str,
    bytes: &[u8],
) -> Result<T, LogRecordError> {
    serde_json::from_slice(bytes).map_err(|e| LogRecordError::Invalid {
        format,
        reason: e.to_string(),
    })
}

/// A record's RFC 8785 canonical JSON, refused above the log's entry size.
fn canonical(record: &impl Serialize) -> Result<Vec<u8>, LogRecordError> {
    let bytes =
        jcs::to_canonical_bytes(record).map_err(|e| LogRecordError::Canonical(e.to_string()))?;
    if bytes.len() > MAX_ENTRY_BYTES {
        return Err(LogRecordError::TooLarge(bytes.len()));
    }
    Ok(bytes)
}

fn check_format(expected: &'static str, found: &str) -> Result<(), LogRecordError> {
    match found == expected {
        true => Ok(()),
        false => Err(LogRecordError::WrongFormat {
            expected,
            found: found.to_owned(),
        }),
    }
}

fn generation_error(e: RecordError) -> LogRecordError {
    match e {
        RecordError::Version { format, reason } => LogRecordError::Invalid {
            format,
            reason: reason.into(),
        },
        RecordError::Json(e) => LogRecordError::Invalid {
            format: GENERATION_RECORD_V1,
            reason: e.to_string(),
        },
        RecordError::Format(found) => LogRecordError::WrongFormat {
            expected: GENERATION_RECORD_V1,
            found,
        },
        RecordError::Canonical(e) => LogRecordError::Canonical(e.to_string()),
        RecordError::TooLarge(n) => LogRecordError::TooLarge(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> ReportRecord {
        ReportRecord::new(
            "sha256:00ff",
            ContentHash::of_bytes(b"subject"),
            "2026-11-29T12:00:00Z".parse().unwrap(),
        )
    }

    #[test]
    fn every_format_has_one_kind() {
        let formats: Vec<&str> = RecordKind::ALL
            .iter()
            .flat_map(|k| k.formats().iter().copied())
            .collect();
        assert_eq!(formats, RECORD_FORMATS);
        for k in RecordKind::ALL {
            assert_eq!(k.format(), *k.formats().last().unwrap());
            for f in k.formats() {
                assert_eq!(RecordKind::of_format(f), Some(k));
                assert!(f.starts_with("tracemark.") && f.contains("-record/v"));
            }
        }
        assert_eq!(
            RecordKind::of_format(GENERATION_RECORD_V1),
            Some(RecordKind::Generation)
        );
    }

    /// Both generation-record versions read through the registry, each keeping its
    /// format; a v2 record without the model's digest is named invalid.
    #[test]
    fn generation_records_of_both_versions_read() {
        let mut r = crate::record::tests::record("some text", "g-1");
        let v1 = r.canonical_bytes().unwrap();
        let parsed = LogRecord::parse(&v1).unwrap();
        assert_eq!(parsed.format(), GENERATION_RECORD_V1);
        r.model.digest = Some(ContentHash::of_bytes(b"weights"));
        r.format = GENERATION_RECORD_V2.into();
        let v2 = r.canonical_bytes().unwrap();
        let parsed = LogRecord::parse(&v2).unwrap();
        assert_eq!(parsed.format(), GENERATION_RECORD_V2);
        assert_eq!(parsed.kind(), RecordKind::Generation);
        assert_eq!(parsed.canonical_bytes().unwrap(), v2);
        let stripped = String::from_utf8(v1)
            .unwrap()
            .replace(GENERATION_RECORD_V1, GENERATION_RECORD_V2);
        assert!(matches!(
            LogRecord::parse(stripped.as_bytes()),
            Err(LogRecordError::Invalid {
                format: GENERATION_RECORD_V2,
                ..
            })
        ));
    }

    #[test]
    fn a_report_record_keeps_its_json_and_canonical_bytes() {
        let r = report();
        let bytes = r.canonical_bytes().unwrap();
        // The facade's struct (same fields, same order of declaration) gave these bytes:
        // RFC 8785 sorts the keys.
        let expected = format!(
            r#"{{"format":"tracemark.report-record/v1","generated_at":"2026-11-29T12:00:00Z","report_hash":"sha256:00ff","subject_hash":"{}"}}"#,
            serde_json::to_value(ContentHash::of_bytes(b"subject"))
                .unwrap()
                .as_str()
                .unwrap()
        );
        assert_eq!(String::from_utf8(bytes.clone()).unwrap(), expected);
        assert_eq!(ReportRecord::from_json(&bytes).unwrap(), r);
        let parsed = LogRecord::parse(&bytes).unwrap();
        assert_eq!(parsed, LogRecord::Report(r.clone()));
        assert_eq!(parsed.kind(), RecordKind::Report);
        assert_eq!(parsed.canonical_bytes().unwrap(), bytes);
        assert_eq!(parsed.entry().unwrap().keys, EntryKeys::default());
        // Serialised untagged, a log record is its record's JSON.
        assert_eq!(jcs::to_canonical_bytes(&parsed).unwrap(), bytes);
    }

    #[test]
    fn a_model_release_record_is_found_by_the_model_identity() {
        let model = ContentHash::of_bytes(b"root digests");
        let r = ModelReleaseRecord {
            format: MODEL_RELEASE_RECORD_V1.into(),
            model_digest: model,
            name: "tinystories-260k".into(),
            version: Some("1".into()),
            signed_root: model.to_string(),
            serialization: "files, sha256".into(),
            signing_method: "key".into(),
            signer: "key 00ff".into(),
            signature_hash: ContentHash::of_bytes(b"model.sig"),
            released_at: "2026-12-07T12:00:00Z".parse().unwrap(),
        };
        let bytes = r.canonical_bytes().unwrap();
        let parsed = LogRecord::parse(&bytes).unwrap();
        assert_eq!(parsed, LogRecord::ModelRelease(r.clone()));
        assert_eq!(parsed.kind(), RecordKind::ModelRelease);
        assert_eq!(parsed.entry().unwrap().keys.content_hash, Some(model));
        let mut extra = serde_json::to_value(&r).unwrap();
        extra["weights_url"] = "https://example.com".into();
        assert!(matches!(
            LogRecord::parse(extra.to_string().as_bytes()),
            Err(LogRecordError::Invalid {
                format: MODEL_RELEASE_RECORD_V1,
                ..
            })
        ));
    }

    fn collection(url: Option<&str>, commitment: Option<ContentHash>) -> CollectionRecord {
        CollectionRecord {
            format: COLLECTION_RECORD_V1.into(),
            event: CollectionEvent::Excluded,
            url: url.map(str::to_owned),
            url_commitment: commitment,
            collected_at: Some("2026-03-01T00:00:00Z".parse().unwrap()),
            agent: "*".into(),
            signals: vec![SignalSeen {
                kind: "robots-txt".into(),
                usage: AiUse::GenaiTrain,
                permission: Permission::Disallowed,
                seen_at: "2026-03-01T00:00:00Z".parse().unwrap(),
                sha256: ContentHash::of_bytes(b"User-agent: *\nDisallow: /\n"),
            }],
            decisions: vec![UseDecision {
                usage: AiUse::GenaiTrain,
                permission: Permission::Disallowed,
            }],
            withdrawn_at: None,
            reason: None,
        }
    }

    /// A committed record opens with its URL and salt only, is found by its commitment,
    /// and names its URL exactly one way.
    #[test]
    fn a_collection_record_commits_to_its_url() {
        let url = "https://example.com/essay";
        let salt = [7u8; 32];
        let r = collection(None, Some(url_key(url, Some(&salt))));
        let bytes = r.canonical_bytes().unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains("example.com"));
        let parsed = LogRecord::parse(&bytes).unwrap();
        assert_eq!(parsed.kind(), RecordKind::Collection);
        let LogRecord::Collection(c) = &parsed else {
            panic!()
        };
        assert!(c.names(url, Some(&salt)));
        assert!(
            !c.names(url, Some(&[8u8; 32])) && !c.names("https://example.com/other", Some(&salt))
        );
        assert!(!c.names(url, None));
        assert_eq!(
            parsed.entry().unwrap().keys.content_hash,
            Some(url_key(url, Some(&salt)))
        );
        // In the open, it is found by its URL's key, unsalted.
        let open = collection(Some(url), None);
        assert!(open.names(url, None));
        assert_eq!(
            open.entry().unwrap().keys.content_hash,
            Some(url_key(url, None))
        );
        assert_ne!(url_key(url, None), url_key(url, Some(&salt)));
        for bad in [
            collection(None, None),
            collection(Some(url), Some(url_key(url, None))),
        ] {
            assert!(matches!(
                bad.canonical_bytes(),
                Err(LogRecordError::Invalid { .. })
            ));
        }
        let mut withdrawn = collection(Some(url), None);
        withdrawn.event = CollectionEvent::Withdrawn;
        assert!(withdrawn.canonical_bytes().is_err());
        withdrawn.withdrawn_at = Some("2026-05-01T00:00:00Z".parse().unwrap());
        assert!(withdrawn.canonical_bytes().is_ok());
    }

    #[test]
    fn unknown_and_malformed_entries_are_named() {
        let err = LogRecord::parse(br#"{"format":"tracemark.licence-record/v1"}"#).unwrap_err();
        assert_eq!(
            err,
            LogRecordError::UnknownFormat("tracemark.licence-record/v1".into())
        );
        let text = err.to_string();
        assert!(
            text.contains("tracemark.licence-record/v1")
                && text.contains(GENERATION_RECORD_V1)
                && text.contains(REPORT_RECORD_V1),
            "{text}"
        );
        assert!(matches!(
            LogRecord::parse(b"\x00\x01 raw bytes"),
            Err(LogRecordError::NotARecord(_))
        ));
        assert!(matches!(
            LogRecord::parse(br#"{"no_format":1}"#),
            Err(LogRecordError::NotARecord(_))
        ));
        assert!(matches!(
            LogRecord::parse(br#"{"format":"tracemark.report-record/v1","report_hash":"x"}"#),
            Err(LogRecordError::Invalid {
                format: REPORT_RECORD_V1,
                ..
            })
        ));
        let mut extra = serde_json::to_value(report()).unwrap();
        extra["note"] = "unexpected".into();
        assert!(matches!(
            LogRecord::parse(extra.to_string().as_bytes()),
            Err(LogRecordError::Invalid { .. })
        ));
        let mut wrong = report();
        wrong.format = GENERATION_RECORD_V1.into();
        assert!(matches!(
            wrong.canonical_bytes(),
            Err(LogRecordError::WrongFormat { .. })
        ));
    }
}
