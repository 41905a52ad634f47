//! The log look-up of attribution: the content's generation record found by the payload
//! its watermark carries, by its hash, or by similarity, and proved against the log's
//! latest signed checkpoint. A look-up only reads: it never signs a checkpoint, never
//! appends and never takes the log's write lock.

use std::sync::Mutex;

use tracemark_core::{
    ContentHash, Fact, KeyId, Payload,
    fact::{
        Claim, CredentialState, LogFinding, MarkHistoryFinding, MarkKind, ModelReleaseFinding,
        Topic,
    },
};
use tracemark_ledger::{
    Fingerprint, GenerationRecord, LogRecord, Lookup, ModelRef, ReleaseRef, SignedCheckpoint,
    TextSketch,
};

use super::{Disclosure, LOG_SIMILARITY, PAYLOAD_SIMILARITY, fact, searched, unestablished};
use crate::{
    Config, Result,
    log::{LogReader, LogSite},
};

/// The configured log, read through a pool of read-only handles (one per concurrent
/// query; a handle is not shared between threads).
#[derive(Debug)]
pub struct LogLookup {
    /// `Err` when the configuration names no log that could be read.
    readers: std::result::Result<Readers, String>,
    /// Why no handle could be opened at load, if none could (a log not yet created by
    /// its writer, say): each query tries again.
    problem: Option<String>,
    disclosure: Disclosure,
}

/// Read handles kept open between queries.
const MAX_IDLE_READERS: usize = 16;

struct Readers {
    site: LogSite,
    idle: Mutex<Vec<LogReader>>,
}

/// What is looked up: the text, its hashes, and the payloads its watermarks decoded;
/// and what marks the content carries now, to compare with those the record names.
pub(super) struct Query<'a> {
    pub text: &'a str,
    pub hashes: &'a [ContentHash],
    pub payloads: &'a [(Payload, KeyId)],
    pub carries: Carries,
}

/// The marks the content was found to carry.
#[derive(Debug, Default)]
pub(super) struct Carries {
    /// The state of its credential, when it was checked.
    pub credential: Option<CredentialState>,
    /// Each watermark key tried, and whether it detected a mark.
    pub watermarks: Vec<(KeyId, bool)>,
}

impl LogLookup {
    /// Opens one read handle to the configured log now, so that a log that cannot be
    /// read is known at once.
    pub fn load(config: &Config, disclosure: Disclosure) -> Self {
        let site = match LogSite::configured(config) {
            Ok(site) => site,
            Err(e) => {
                let why = disclosure.reason("no log", e);
                return Self {
                    readers: Err(why.clone()),
                    problem: Some(why),
                    disclosure,
                };
            }
        };
        let (idle, problem) = match site.open_reader() {
            Ok(reader) => (vec![reader], None),
            Err(e) => (
                Vec::new(),
                Some(disclosure.reason("cannot read the log", e)),
            ),
        };
        Self {
            readers: Ok(Readers {
                site,
                idle: Mutex::new(idle),
            }),
            problem,
            disclosure,
        }
    }

    /// Why the log could not be read when it was loaded, if it could not.
    pub fn problem(&self) -> Option<&str> {
        self.problem.as_deref()
    }

    /// The generation record of the content, with a checked proof, or that the log holds
    /// none, or why it could not be searched; and the model the record names.
    pub(super) fn facts(&self, query: &Query<'_>) -> (Vec<Fact>, Option<RecordedModel>) {
        let readers = match &self.readers {
            Ok(r) => r,
            Err(why) => return (vec![unestablished(Topic::Log, why)], None),
        };
        let found = readers.with(|reader| Ok((find(reader, query)?, reader.origin().to_owned())));
        match found {
            Ok((Some((facts, model)), _)) => (facts, Some(model)),
            Ok((None, origin)) => (vec![searched(Topic::Log, origin, 0)], None),
            Err(e) => (
                vec![unestablished(
                    Topic::Log,
                    self.disclosure.reason("the log look-up failed", e),
                )],
                None,
            ),
        }
    }

    /// The model-release record the log holds for the model whose identity is `digest`
    /// (the one at `hint` when it is that model's), with its inclusion proved against the
    /// latest signed checkpoint; `None` when the log holds none or cannot be read.
    pub(super) fn release(
        &self,
        digest: &ContentHash,
        hint: Option<&ReleaseRef>,
    ) -> Option<ModelReleaseFinding> {
        let readers = self.readers.as_ref().ok()?;
        readers
            .with(|reader| release_of(reader, digest, hint))
            .unwrap_or_else(|e| {
                // The release is a further fact; the look-up's failure is not the report's.
                if self.disclosure == Disclosure::Private {
                    eprintln!("tracemark: the model-release look-up failed: {e}");
                }
                None
            })
    }
}

/// The model a generation record names, and which record names it.
#[derive(Debug, Clone)]
pub(super) struct RecordedModel {
    pub model: ModelRef,
    /// "generation record N of log ORIGIN".
    pub shown_by: String,
}

fn release_of(
    reader: &LogReader,
    digest: &ContentHash,
    hint: Option<&ReleaseRef>,
) -> Result<Option<ModelReleaseFinding>> {
    // The record's own reference first, when it is a release of this model.
    let hinted = match hint {
        Some(r) if r.index < reader.size()? => {
            let entry = reader.entry(r.index)?;
            match LogRecord::parse(&entry) {
                Ok(LogRecord::ModelRelease(record))
                    if record.model_digest == *digest
                        && tracemark_ledger::merkle::leaf_hash(&entry).to_hex() == r.leaf_hash =>
                {
                    Some((r.clone(), record))
                }
                _ => None,
            }
        }
        _ => None,
    };
    let Some((at, record)) = (match hinted {
        Some(found) => Some(found),
        None => crate::release::find_release(reader, digest)?,
    }) else {
        return Ok(None);
    };
    let receipt = reader.prove_latest(at.index)?;
    let verified = receipt.verify(&reader.policy(), None)?;
    Ok(Some(ModelReleaseFinding {
        origin: verified.checkpoint.checkpoint.origin.clone(),
        index: at.index,
        leaf_hash: at.leaf_hash,
        name: record.name,
        version: record.version,
        signer: record.signer,
        released_at: record.released_at,
        inclusion_verified: true,
    }))
}

impl std::fmt::Debug for Readers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readers")
            .field("storage", &self.site.storage.to_string())
            .finish_non_exhaustive()
    }
}

impl LogLookup {
    fn readers(&self) -> Result<&Readers> {
        self.readers
            .as_ref()
            .map_err(|why| crate::Error::usage(why.clone(), None))
    }

    /// The log's latest signed checkpoint (`None` before the first), as kept: a read
    /// never signs one.
    pub fn latest_checkpoint(&self) -> Result<Option<SignedCheckpoint>> {
        self.readers()?.with(|r| Ok(r.latest_checkpoint()?))
    }

    /// A C2SP tlog-tiles resource (`tile/...`) of the latest checkpoint's tree.
    pub fn tile(&self, path: &str) -> Result<Vec<u8>> {
        self.readers()?.with(|r| Ok(r.tile(path)?))
    }
}

impl Readers {
    /// Runs `work` on an idle handle (opening another when all are busy), then returns
    /// the handle to the pool.
    fn with<T>(&self, work: impl FnOnce(&LogReader) -> Result<T>) -> Result<T> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let reader = match idle {
            Some(r) => r,
            None => self.site.open_reader()?,
        };
        let out = work(&reader);
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        // A burst may open many handles; keep a few (each holds a page cache).
        if idle.len() < MAX_IDLE_READERS {
            idle.push(reader);
        }
        out
    }
}

/// The generation record of the content, with its proof checked, and what it shows of
/// the marks the generation carried against those the content carries now; and the model
/// it names.
fn find(reader: &LogReader, query: &Query<'_>) -> Result<Option<(Vec<Fact>, RecordedModel)>> {
    // The payload survives edits and stripped metadata; the hash only exact copies; the
    // sketch, edited ones. A short payload names a share of a provider's generations,
    // not one (and a misdecoded digit names others): the sketch must agree with it.
    let mut found = None;
    for (payload, key_id) in query.payloads {
        let hits = reader.lookup(&Lookup::Payload {
            payload: *payload,
            key_id: Some(key_id.clone()),
        })?;
        if let Some((similarity, i)) = closest(reader, query.text, &hits)?
            && similarity >= PAYLOAD_SIMILARITY
        {
            found = Some((i, "payload"));
            break;
        }
    }
    for hash in query.hashes {
        if found.is_none() {
            found = reader
                .lookup(&Lookup::ContentHash(*hash))?
                .last()
                .map(|&i| (i, "content-hash"));
        }
    }
    if found.is_none() {
        found = reader
            .similar_to_text(query.text, LOG_SIMILARITY, 1)?
            .first()
            .map(|e| (e.index, "minhash-similarity"));
    }
    let Some((index, how)) = found else {
        return Ok(None);
    };
    prove_record(reader, index, how, &query.carries).map(Some)
}

/// The facts of the generation record at `index` (found `how`), its inclusion proved
/// against the latest checkpoint, and what it shows of the marks the content carries.
fn prove_record(
    reader: &LogReader,
    index: u64,
    how: &str,
    carries: &Carries,
) -> Result<(Vec<Fact>, RecordedModel)> {
    let receipt = reader.prove_latest(index)?;
    let verified = receipt.verify(&reader.policy(), None)?;
    let record: GenerationRecord = verified
        .record()
        .expect("the receipt carries its entry")
        .map_err(tracemark_ledger::LedgerError::from)?;
    let head = &verified.checkpoint.checkpoint;
    let shown_by = format!("generation record {index} of log {}", head.origin);
    let mut facts = vec![fact(
        Claim::LogEntry(LogFinding {
            origin: head.origin.clone(),
            index,
            tree_size: head.size,
            leaf_hash: verified.leaf_hash.to_hex(),
            provider: Some(record.provider.clone()),
            model: Some(format!("{} {}", record.model.id, record.model.version)),
            generation_id: Some(record.generation_id.clone()),
            inclusion_verified: true,
            logged_at: Some(record.time),
        }),
        "rfc6962-inclusion",
        serde_json::json!({ "found_by": how, "receipt": receipt.to_text() }),
    )];
    facts.extend(mark_history(&record, &shown_by, carries));
    let model = RecordedModel {
        model: record.model,
        shown_by,
    };
    Ok((facts, model))
}

/// What is looked up for a picture or a sound: its hash, the payloads its marks carry,
/// and its perceptual fingerprint.
pub(super) struct MediaQuery<'a> {
    pub hash: ContentHash,
    pub payloads: &'a [(Payload, KeyId)],
    pub fingerprint: Option<Fingerprint>,
    pub carries: Carries,
}

/// A record a payload named whose content is not this content.
struct Mismatch {
    index: u64,
    payload: Payload,
    record: GenerationRecord,
    distance: Option<u32>,
}

impl LogLookup {
    /// The generation record of a picture or a sound: the exact file by its hash, else
    /// the record a payload names, when that record's fingerprint is this content's. A
    /// payload whose record describes other content (a mark copied onto it) attributes
    /// nothing, and the fact says so.
    pub(super) fn media_facts(&self, query: &MediaQuery<'_>) -> (Vec<Fact>, Option<RecordedModel>) {
        let readers = match &self.readers {
            Ok(r) => r,
            Err(why) => return (vec![unestablished(Topic::Log, why)], None),
        };
        let found =
            readers.with(|reader| Ok((find_media(reader, query)?, reader.origin().to_owned())));
        match found {
            Ok((Ok((facts, model)), _)) => (facts, Some(model)),
            Ok((Err(Some(m)), origin)) => {
                let media = m
                    .record
                    .media
                    .as_ref()
                    .map_or("text", |r| r.media_type.as_str());
                let distance = match m.distance {
                    Some(d) => format!(
                        "its perceptual fingerprint differs in {d} of 64 bits (at most {} is the same content)",
                        tracemark_media::fingerprint::MATCH_DISTANCE
                    ),
                    None => "its record describes no comparable fingerprint".to_owned(),
                };
                (
                    vec![unestablished(
                        Topic::Log,
                        format!(
                            "the watermark's payload {} names generation record {} of log {origin} \
                             ({}, generation {}, {media}), but that record describes other \
                             content: {distance}. The mark may have been copied from that \
                             generation onto this content, so the generation is not \
                             attributed to it",
                            m.payload, m.index, m.record.provider, m.record.generation_id
                        ),
                    )],
                    None,
                )
            }
            Ok((Err(None), origin)) => (vec![searched(Topic::Log, origin, 0)], None),
            Err(e) => (
                vec![unestablished(
                    Topic::Log,
                    self.disclosure.reason("the log look-up failed", e),
                )],
                None,
            ),
        }
    }
}

/// The proved record of the content, or else the first record a payload named whose
/// content is another (`None`: no record at all).
type MediaFound = std::result::Result<(Vec<Fact>, RecordedModel), Option<Mismatch>>;

fn find_media(reader: &LogReader, query: &MediaQuery<'_>) -> Result<MediaFound> {
    if let Some(&i) = reader.lookup(&Lookup::ContentHash(query.hash))?.last() {
        return Ok(Ok(prove_record(reader, i, "content-hash", &query.carries)?));
    }
    let mut mismatch = None;
    for (payload, key_id) in query.payloads {
        let hits = reader.lookup(&Lookup::Payload {
            payload: *payload,
            key_id: Some(key_id.clone()),
        })?;
        for &i in hits.iter().rev().take(crate::log::MAX_FOUND) {
            let record = reader.record(i)?;
            let stored = record.media.as_ref().map(|m| &m.fingerprint);
            let distance = match (stored, &query.fingerprint) {
                (Some(a), Some(b)) if a.scheme == b.scheme => a
                    .bits()
                    .zip(b.bits())
                    .map(|(a, b)| tracemark_media::fingerprint::distance(a, b)),
                _ => None,
            };
            if distance.is_some_and(|d| d <= tracemark_media::fingerprint::MATCH_DISTANCE) {
                return Ok(Ok(prove_record(
                    reader,
                    i,
                    "payload-and-fingerprint",
                    &query.carries,
                )?));
            }
            if mismatch.is_none() {
                mismatch = Some(Mismatch {
                    index: i,
                    payload: *payload,
                    record,
                    distance,
                });
            }
        }
    }
    Ok(Err(mismatch))
}

/// One fact per mark the record says the generation carried that the content was
/// checked for: still there, or gone (removed, or altered so that it no longer
/// verifies). Who removed it no instrument tells, so that stays unstated.
fn mark_history(record: &GenerationRecord, shown_by: &str, carries: &Carries) -> Vec<Fact> {
    let mut out = Vec::new();
    let history = |mark, shown_by: String, still_present| {
        fact(
            Claim::MarkHistory(MarkHistoryFinding {
                mark,
                shown_by,
                present_at: Some(record.time),
                still_present,
                removed_by: None,
            }),
            "generation-record-comparison",
            serde_json::Value::Null,
        )
    };
    if let (Some(hash), Some(state)) = (&record.credential_hash, carries.credential) {
        let now = match state {
            CredentialState::Trusted | CredentialState::Untrusted => true,
            CredentialState::None => false,
            // Altered: the credential no longer verifies.
            CredentialState::Tampered => false,
        };
        out.push(history(
            MarkKind::Credential,
            format!("{shown_by} names the content credential {hash}"),
            now,
        ));
    }
    if let Some((_, detected)) = carries.watermarks.iter().find(|(k, _)| *k == record.key_id) {
        out.push(history(
            MarkKind::Watermark,
            format!(
                "{shown_by} names a {} watermark of key {}",
                record.watermark_scheme, record.key_id
            ),
            *detected,
        ));
    }
    out
}

/// Of several records, the one whose sketch is closest to the text's (the latest on a
/// tie), with its estimated similarity. The text is sketched once per scheme the records
/// use (records of an older scheme compare in their own), never once per record.
fn closest(reader: &LogReader, text: &str, indexes: &[u64]) -> Result<Option<(f64, u64)>> {
    let mut sketches: Vec<TextSketch> = Vec::new();
    let mut best: Option<(f64, u64)> = None;
    for &i in indexes.iter().rev().take(crate::log::MAX_FOUND) {
        let stored = reader.record(i)?.sketch;
        let query = match sketches.iter().find(|s| s.scheme() == stored.scheme()) {
            Some(query) => query,
            None => {
                sketches.push(stored.scheme().sketch(text));
                sketches.last().expect("just pushed")
            }
        };
        let similarity = query.similarity(&stored);
        if best.is_none_or(|(s, _)| similarity > s) {
            best = Some((similarity, i));
        }
    }
    Ok(best)
}

#[cfg(test)]
mod tests {
    use tracemark_core::{KeyKind, Payload};
    use tracemark_ledger::{ModelRef, TextSketch, registry::GENERATION_RECORD_V1};

    use super::*;

    fn record(credential: bool) -> GenerationRecord {
        GenerationRecord {
            format: GENERATION_RECORD_V1.into(),
            content_hash: ContentHash::of_bytes(b"text"),
            watermark_scheme: "kgw-selfhash-v1".into(),
            key_id: KeyId::derive(KeyKind::Watermark, b"k"),
            payload: Payload::new(0xbeef, 16).unwrap(),
            model: ModelRef {
                id: "m".into(),
                version: "1".into(),
                digest: None,
                release: None,
            },
            provider: "provider.example".into(),
            credential_hash: credential.then(|| ContentHash::of_bytes(b"manifest")),
            time: "2026-08-02T00:00:00Z".parse().unwrap(),
            generation_id: "gen-1".into(),
            sketch: TextSketch::of_text("text"),
            media: None,
        }
    }

    fn histories(facts: &[Fact]) -> Vec<(MarkKind, bool)> {
        facts
            .iter()
            .filter_map(|f| match &f.claim {
                Claim::MarkHistory(h) => Some((h.mark, h.still_present)),
                _ => None,
            })
            .collect()
    }

    /// A record names a credential and a key; the content has lost the credential and
    /// still carries the watermark: the credential was removed, by someone not stated.
    #[test]
    fn a_record_shows_which_marks_the_content_lost() {
        let key = KeyId::derive(KeyKind::Watermark, b"k");
        let carries = Carries {
            credential: Some(CredentialState::None),
            watermarks: vec![(key.clone(), true)],
        };
        let facts = mark_history(&record(true), "record 1", &carries);
        assert_eq!(
            histories(&facts),
            [(MarkKind::Credential, false), (MarkKind::Watermark, true)]
        );
        assert!(facts.iter().all(|f| matches!(&f.claim,
            Claim::MarkHistory(h) if h.removed_by.is_none())));
        // A tampered credential no longer verifies: altered, so no longer the mark made.
        let tampered = Carries {
            credential: Some(CredentialState::Tampered),
            watermarks: vec![(key, false)],
        };
        assert_eq!(
            histories(&mark_history(&record(true), "record 1", &tampered)),
            [(MarkKind::Credential, false), (MarkKind::Watermark, false)]
        );
        // What the record does not name, or what was not checked, has no history.
        let unchecked = Carries::default();
        assert!(mark_history(&record(false), "record 1", &unchecked).is_empty());
        assert!(mark_history(&record(true), "record 1", &unchecked).is_empty());
    }
}
