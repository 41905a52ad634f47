//! The log look-up of attribution: the content's generation record found by the payload
//! its watermark carries, by its hash, or by similarity, and proved against the log's
//! latest signed checkpoint. A look-up only reads: it never signs a checkpoint, never
//! appends and never takes the log's write lock.

use std::sync::Mutex;

use tracemark_core::{
    ContentHash, Fact, KeyId, Payload,
    fact::{Claim, LogFinding, Topic},
};
use tracemark_ledger::{GenerationRecord, Lookup, SignedCheckpoint, TextSketch};

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

/// What is looked up: the text, its hashes, and the payloads its watermarks decoded.
pub(super) struct Query<'a> {
    pub text: &'a str,
    pub hashes: &'a [ContentHash],
    pub payloads: &'a [(Payload, KeyId)],
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
    /// none, or why it could not be searched.
    pub(super) fn facts(&self, query: &Query<'_>) -> Vec<Fact> {
        let readers = match &self.readers {
            Ok(r) => r,
            Err(why) => return vec![unestablished(Topic::Log, why)],
        };
        let found = readers.with(|reader| Ok((find(reader, query)?, reader.origin().to_owned())));
        match found {
            Ok((Some(f), _)) => vec![f],
            Ok((None, origin)) => vec![searched(Topic::Log, origin, 0)],
            Err(e) => vec![unestablished(
                Topic::Log,
                self.disclosure.reason("the log look-up failed", e),
            )],
        }
    }
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

fn find(reader: &LogReader, query: &Query<'_>) -> Result<Option<Fact>> {
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
    let receipt = reader.prove_latest(index)?;
    let verified = receipt.verify(&reader.policy(), None)?;
    let record: GenerationRecord = verified
        .record()
        .expect("the receipt carries its entry")
        .map_err(tracemark_ledger::LedgerError::from)?;
    let head = &verified.checkpoint.checkpoint;
    Ok(Some(fact(
        Claim::LogEntry(LogFinding {
            origin: head.origin.clone(),
            index,
            tree_size: head.size,
            leaf_hash: verified.leaf_hash.to_hex(),
            provider: Some(record.provider),
            model: Some(format!("{} {}", record.model.id, record.model.version)),
            generation_id: Some(record.generation_id),
            inclusion_verified: true,
            logged_at: Some(record.time),
        }),
        "rfc6962-inclusion",
        serde_json::json!({ "found_by": how, "receipt": receipt.to_text() }),
    )))
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
