//! The transparency log as a user runs it: where it lives, and the operations of
//! `tracemark log` over either backend.
//!
//! A log is a signing key plus storage. It is found either in a **log directory** (what
//! `tracemark log init --dir DIR` makes: `key.json` + `key.pub`, and `log.json` naming the
//! storage: `log.db` beside it, or a PostgreSQL URL), or through the configuration
//! (`[keys] log` and `[log] sqlite|postgres`, defaulting to the key store's `log` key and
//! `ledger.db`).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tracemark_core::{
    ContentHash, KeyId, KeyKind, Payload,
    keyfile::{self, Replace, Secrecy},
};
use tracemark_ledger::{
    AddCheckpoint, Appended, Cosigner, GenerationRecord, Hash, Ledger, LedgerError, LogKey,
    LogRecord, LogStore, Lookup, PostgresStore, Receipt, SignedCheckpoint, SqliteStore,
    TrustPolicy, VerifiedReceipt,
    cosignature::CosignatureVerifier,
    merkle,
    note::{NoteVerifier, NoteVerify},
    witness::WitnessStateFile,
};

use crate::{
    Config, Error, Result,
    config::{DatabaseUrl, LogLocation},
};

/// The `format` of a log directory's `log.json`.
pub const LOG_DIR_FORMAT: &str = "tracemark.log-dir/v1";
const LOG_DIR_FILE: &str = "log.json";
const SQLITE_FILE: &str = "log.db";
/// The SQLite file of the configured log when none is named.
const DEFAULT_SQLITE_FILE: &str = "ledger.db";

/// A log over whichever backend its site names.
pub type AnyLedger = Ledger<Box<dyn LogStore + Send>>;

/// Where a log's key and entries are.
#[derive(Debug, Clone, PartialEq)]
pub struct LogSite {
    /// The log key: a directory with `key.json`, or the file itself.
    pub key: PathBuf,
    pub storage: Storage,
}

/// A log's storage backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Storage {
    Sqlite(PathBuf),
    Postgres {
        url: DatabaseUrl,
        /// The schema holding the log's tables (one database can hold several logs).
        #[serde(skip_serializing_if = "Option::is_none")]
        schema: Option<String>,
    },
}

impl std::fmt::Display for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Storage::Sqlite(path) => write!(f, "SQLite {}", path.display()),
            Storage::Postgres { url, schema: None } => write!(f, "PostgreSQL {url}"),
            Storage::Postgres {
                url,
                schema: Some(schema),
            } => write!(f, "PostgreSQL {url} (schema {schema})"),
        }
    }
}

/// `log.json`: the storage of a log directory. It may hold a database password, so it
/// is written as a secret (mode 0600).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LogDirDoc {
    format: String,
    #[serde(default)]
    postgres: Option<String>,
    #[serde(default)]
    schema: Option<String>,
}

impl LogSite {
    /// The log of a directory made by [`init`].
    pub fn in_dir(dir: &Path) -> Result<Self> {
        let doc_path = dir.join(LOG_DIR_FILE);
        if !doc_path.exists() {
            return Err(Error::usage(
                format!(
                    "{} is not a log directory (no {LOG_DIR_FILE})",
                    dir.display()
                ),
                Some(format!(
                    "make one with `tracemark log init --dir {}`",
                    dir.display()
                )),
            ));
        }
        let bytes = keyfile::read_file(&doc_path, Secrecy::Secret)?;
        let doc: LogDirDoc =
            serde_json::from_slice(&bytes).map_err(|e| keyfile::KeyFileError::Malformed {
                path: doc_path.clone(),
                reason: e.to_string(),
            })?;
        if doc.format != LOG_DIR_FORMAT {
            return Err(keyfile::KeyFileError::Malformed {
                path: doc_path,
                reason: format!(
                    "format `{}` is not {LOG_DIR_FORMAT}, the one this build reads",
                    doc.format
                ),
            }
            .into());
        }
        let storage = match doc.postgres {
            Some(url) => Storage::Postgres {
                url: DatabaseUrl::parse(url).map_err(|reason| {
                    keyfile::KeyFileError::Malformed {
                        path: doc_path.clone(),
                        reason,
                    }
                })?,
                schema: doc.schema,
            },
            None => Storage::Sqlite(dir.join(SQLITE_FILE)),
        };
        Ok(LogSite {
            key: dir.to_owned(),
            storage,
        })
    }

    /// The configured log: `[keys] log` (else the key store's `log` key) and
    /// `[log] sqlite|postgres` (else `ledger.db` in the key store).
    pub fn configured(config: &Config) -> Result<Self> {
        let store = config.key_store()?;
        let key = match &config.keys.log {
            Some(path) => path.clone(),
            None => store.path_of(KeyKind::Log, tracemark_core::KeyStore::DEFAULT_NAME)?,
        };
        let storage = match config.log.location() {
            LogLocation::Sqlite(path) => Storage::Sqlite(path.to_owned()),
            LogLocation::Postgres(url) => Storage::Postgres {
                url: url.clone(),
                schema: config.log.schema.clone(),
            },
            LogLocation::Default => Storage::Sqlite(store.root().join(DEFAULT_SQLITE_FILE)),
        };
        Ok(LogSite { key, storage })
    }

    /// The directory's log when `dir` is given, else the configured one.
    pub fn locate(dir: Option<&Path>, config: Option<&Path>) -> Result<Self> {
        match dir {
            Some(dir) => Self::in_dir(dir),
            None => Self::configured(&Config::locate(config)?.0),
        }
    }

    /// Opens the log (creating the SQLite file or the PostgreSQL schema if needed).
    pub fn open(&self) -> Result<AnyLedger> {
        let signer = LogKey::load(&self.key)?
            .signer()
            .map_err(tracemark_ledger::LedgerError::from)?;
        let store: Box<dyn LogStore + Send> = match &self.storage {
            Storage::Sqlite(path) => Box::new(SqliteStore::open(path).map_err(ledger_error)?),
            Storage::Postgres { url, schema } => Box::new(
                PostgresStore::connect_in_schema(url.expose(), schema.as_deref())
                    .map_err(ledger_error)?,
            ),
        };
        Ok(Ledger::new(store, signer))
    }
}

/// A handle that only reads a log: it holds the log's verifier key, never its secret,
/// and its store refuses every write (SQLite opened read-only, PostgreSQL sessions
/// read-only), so a query through it never takes the log's write lock.
pub type LogReader = tracemark_ledger::LogReader<Box<dyn LogStore + Send>>;

impl LogSite {
    /// Opens a read-only handle: the log must exist (a reader never creates it).
    pub fn open_reader(&self) -> Result<LogReader> {
        let verifier = self.verifier()?;
        let store: Box<dyn LogStore + Send> = match &self.storage {
            Storage::Sqlite(path) => {
                Box::new(SqliteStore::open_read_only(path).map_err(ledger_error)?)
            }
            Storage::Postgres { url, schema } => Box::new(
                PostgresStore::connect_read_only_in_schema(url.expose(), schema.as_deref())
                    .map_err(ledger_error)?,
            ),
        };
        Ok(LogReader::new(store, verifier))
    }

    /// The log's verifier key (`key.pub` beside its key file).
    fn verifier(&self) -> Result<NoteVerifier> {
        let dir = if self.key.is_dir() {
            self.key.as_path()
        } else {
            self.key.parent().unwrap_or(Path::new("."))
        };
        let path = dir.join(LogKey::PUBLIC_FILE);
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
            action: "read",
            path: path.clone(),
            source,
        })?;
        NoteVerifier::parse(text.trim()).map_err(|e| {
            keyfile::KeyFileError::Malformed {
                path,
                reason: e.to_string(),
            }
            .into()
        })
    }
}

fn ledger_error(e: impl Into<tracemark_ledger::LedgerError>) -> Error {
    Error::Ledger(e.into())
}

/// What [`init`] made.
#[derive(Debug, Clone, Serialize)]
pub struct LogInit {
    pub dir: PathBuf,
    /// The log's origin line (the key's name).
    pub origin: String,
    /// The verifier key (`key.pub`), which verifiers need and nothing else.
    pub vkey: String,
    pub storage: Storage,
}

/// Makes a log directory: a new log key named `origin`, and the storage (created now, so
/// that a wrong URL fails here rather than at the first append): `DIR/log.db`, or the
/// PostgreSQL database given.
pub fn init(dir: &Path, origin: &str, storage: Option<Storage>) -> Result<LogInit> {
    let doc_path = dir.join(LOG_DIR_FILE);
    if doc_path.exists() {
        return Err(Error::usage(
            format!("{} is already a log directory", dir.display()),
            Some("use it as it is, or choose another --dir".into()),
        ));
    }
    let key = LogKey::create(dir, origin, Replace::No)?;
    let mut doc = serde_json::json!({ "format": LOG_DIR_FORMAT });
    let storage = match storage {
        Some(Storage::Postgres { url, schema }) => {
            doc["postgres"] = url.expose().into();
            if let Some(schema) = &schema {
                doc["schema"] = schema.as_str().into();
            }
            Storage::Postgres { url, schema }
        }
        // An SQLite log directory keeps its database beside the key.
        _ => Storage::Sqlite(dir.join(SQLITE_FILE)),
    };
    let site = LogSite {
        key: dir.to_owned(),
        storage,
    };
    site.open()?;
    let text = serde_json::to_string_pretty(&doc).expect("JSON values serialise") + "\n";
    keyfile::write_file(&doc_path, text.as_bytes(), Secrecy::Secret, Replace::No)?;
    Ok(LogInit {
        dir: dir.to_owned(),
        origin: key.name.clone(),
        vkey: std::fs::read_to_string(dir.join(LogKey::PUBLIC_FILE)).map_err(|source| {
            Error::Io {
                action: "read",
                path: dir.join(LogKey::PUBLIC_FILE),
                source,
            }
        })?,
        storage: site.storage,
    })
}

/// Reads generation records from JSON: one object, or several (JSON Lines or
/// concatenated). `origin` names the input in errors.
pub fn parse_records(bytes: &[u8], origin: &str) -> Result<Vec<GenerationRecord>> {
    let mut records = Vec::new();
    for (n, value) in serde_json::Deserializer::from_slice(bytes)
        .into_iter::<serde_json::Value>()
        .enumerate()
    {
        let bad = |reason: String| {
            Error::input(
                format!("{origin}: record {}: {reason}", n + 1),
                Some("a record is a tracemark.generation-record/v1 JSON object".into()),
            )
        };
        let value = value.map_err(|e| bad(e.to_string()))?;
        let bytes = serde_json::to_vec(&value).expect("JSON values serialise");
        records.push(GenerationRecord::from_json(&bytes).map_err(|e| bad(e.to_string()))?);
    }
    if records.is_empty() {
        return Err(Error::input(format!("{origin}: no record"), None));
    }
    Ok(records)
}

/// An appended entry, as scripts read it.
#[derive(Debug, Clone, Serialize)]
pub struct AppendedEntry {
    pub index: u64,
    /// Hex of the RFC 6962 leaf hash.
    pub leaf_hash: String,
}

impl From<Appended> for AppendedEntry {
    fn from(a: Appended) -> Self {
        AppendedEntry {
            index: a.index,
            leaf_hash: a.leaf_hash.to_hex(),
        }
    }
}

/// Appends records in one durable transaction: all or none.
pub fn append(ledger: &mut AnyLedger, records: &[GenerationRecord]) -> Result<Vec<AppendedEntry>> {
    let appended = ledger.append_records(records).map_err(ledger_error)?;
    Ok(appended.into_iter().map(Into::into).collect())
}

/// How to find records.
#[derive(Debug, Clone)]
pub enum Query {
    Index(u64),
    ContentHash(ContentHash),
    GenerationId(String),
    Payload {
        payload: Payload,
        key_id: Option<KeyId>,
    },
    /// Records whose MinHash sketch overlaps the text's by at least `min_similarity`.
    Similar {
        text: String,
        min_similarity: f64,
    },
}

/// A record found in the log.
#[derive(Debug, Clone, Serialize)]
pub struct Found {
    pub index: u64,
    pub leaf_hash: String,
    /// Estimated Jaccard similarity, for similarity look-ups.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub similarity: Option<f64>,
    pub record: LogRecord,
}

/// Look-ups return at most this many records.
pub const MAX_FOUND: usize = 100;

pub fn get(ledger: &LogReader, query: &Query) -> Result<Vec<Found>> {
    let hits: Vec<(u64, Option<f64>)> = match query {
        Query::Index(i) => vec![(*i, None)],
        Query::ContentHash(h) => exact(ledger, &Lookup::ContentHash(*h))?,
        Query::GenerationId(g) => exact(ledger, &Lookup::GenerationId(g.clone()))?,
        Query::Payload { payload, key_id } => exact(
            ledger,
            &Lookup::Payload {
                payload: *payload,
                key_id: key_id.clone(),
            },
        )?,
        Query::Similar {
            text,
            min_similarity,
        } => ledger
            .similar_to_text(text, *min_similarity, MAX_FOUND)
            .map_err(ledger_error)?
            .into_iter()
            .map(|e| (e.index, Some(e.similarity)))
            .collect(),
    };
    hits.into_iter()
        .take(MAX_FOUND)
        .map(|(index, similarity)| {
            let entry = ledger.entry(index).map_err(ledger_error)?;
            Ok(Found {
                index,
                leaf_hash: merkle::leaf_hash(&entry).to_hex(),
                similarity,
                record: LogRecord::parse(&entry).map_err(ledger_error)?,
            })
        })
        .collect()
}

fn exact(ledger: &LogReader, lookup: &Lookup) -> Result<Vec<(u64, Option<f64>)>> {
    Ok(ledger
        .lookup(lookup)
        .map_err(ledger_error)?
        .into_iter()
        .map(|i| (i, None))
        .collect())
}

/// What a verifier trusts: the log's `key.pub`, and optionally witnesses of which at
/// least `required` must have cosigned.
pub fn trust_policy(log_vkey: &str, witnesses: &[String], required: usize) -> Result<TrustPolicy> {
    let note = |e: tracemark_ledger::NoteError| ledger_error(e);
    let mut policy = TrustPolicy::log_only(NoteVerifier::parse(log_vkey.trim()).map_err(note)?);
    for w in witnesses {
        policy
            .witnesses
            .push(CosignatureVerifier::parse(w.trim()).map_err(note)?);
    }
    if required > policy.witnesses.len() {
        return Err(Error::usage(
            format!(
                "{required} cosignatures required but only {} witness keys given",
                policy.witnesses.len()
            ),
            Some("pass a --witness key for each witness you trust".into()),
        ));
    }
    policy.required_cosignatures = required;
    Ok(policy)
}

/// What a verified receipt proves.
#[derive(Debug, Clone, Serialize)]
pub struct ReceiptReport {
    pub origin: String,
    pub index: u64,
    pub leaf_hash: String,
    pub tree_size: u64,
    /// Base64 of the root hash, as the checkpoint writes it.
    pub root: String,
    /// The record the receipt proves, when its entry is a generation record.
    pub record: Option<GenerationRecord>,
    /// Whether the record given to check against is the one proved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matches_record: Option<bool>,
    /// The witnesses whose cosignatures verified.
    pub cosigned_by: Vec<String>,
}

/// Verifies a receipt offline with only the trust policy, and, when `record` is given,
/// that it proves that record.
pub fn verify_receipt(
    receipt: &[u8],
    policy: &TrustPolicy,
    record: Option<&GenerationRecord>,
) -> Result<ReceiptReport> {
    let receipt = Receipt::parse(receipt).map_err(Error::Receipt)?;
    let canonical = record
        .map(|r| r.canonical_bytes().map_err(ledger_error))
        .transpose()?;
    let verified: VerifiedReceipt = receipt
        .verify(policy, canonical.as_deref())
        .map_err(Error::Receipt)?;
    let head = &verified.checkpoint.checkpoint;
    Ok(ReceiptReport {
        origin: head.origin.clone(),
        index: verified.index,
        leaf_hash: verified.leaf_hash.to_hex(),
        tree_size: head.size,
        root: head.root.to_base64(),
        record: verified.record().and_then(|r| r.ok()),
        matches_record: record.map(|_| true),
        cosigned_by: verified
            .checkpoint
            .cosignatures
            .iter()
            .map(|s| s.name.clone())
            .collect(),
    })
}

/// A consistency proof between two tree sizes, checked against the roots.
#[derive(Debug, Clone, Serialize)]
pub struct Consistency {
    pub old_size: u64,
    pub new_size: u64,
    pub old_root: String,
    pub new_root: String,
    /// Base64 hashes, RFC 6962 order.
    pub proof: Vec<String>,
}

/// Proves that the tree of `old` entries (or of a signed checkpoint the caller kept) is a
/// prefix of the latest checkpoint's tree. A kept checkpoint is verified with the log's
/// key, so a forged or foreign one is refused.
pub fn consistency(ledger: &mut AnyLedger, since: Since) -> Result<Consistency> {
    let latest = ledger.checkpoint().map_err(ledger_error)?;
    let new = latest
        .verify(&ledger.policy())
        .map_err(ledger_error)?
        .checkpoint;
    let (old_size, old_root) = match since {
        Since::Size(size) => {
            if size > new.size {
                return Err(Error::usage(
                    format!("the log has {} entries, fewer than {size}", new.size),
                    None,
                ));
            }
            (size, ledger.root(size).map_err(ledger_error)?)
        }
        Since::Checkpoint(text) => {
            let kept = SignedCheckpoint::parse(&text)
                .and_then(|c| c.verify(&ledger.policy()))
                .map_err(ledger_error)?
                .checkpoint;
            (kept.size, kept.root)
        }
    };
    let proof = ledger
        .consistency_proof(old_size, new.size)
        .map_err(ledger_error)?;
    merkle::verify_consistency(old_size, new.size, &proof, &old_root, &new.root).map_err(|e| {
        Error::Ledger(tracemark_ledger::LedgerError::Inconsistent(format!(
            "the tree of {old_size} entries is not a prefix of the log: {e}"
        )))
    })?;
    Ok(Consistency {
        old_size,
        new_size: new.size,
        old_root: old_root.to_base64(),
        new_root: new.root.to_base64(),
        proof: proof.iter().map(Hash::to_base64).collect(),
    })
}

/// The older tree of a consistency proof.
#[derive(Debug, Clone)]
pub enum Since {
    Size(u64),
    /// The text of a signed checkpoint kept from earlier.
    Checkpoint(Vec<u8>),
}

/// The file a witness keeps its state in, beside its key, unless told otherwise.
pub const WITNESS_STATE_FILE: &str = "witness-state.json";

/// A witness's cosigner from its key: a signed-note key file (`tracemark keygen log
/// --origin witness.example/w1`), used with the cosignature type 0x04.
pub fn witness_cosigner(key: &Path) -> Result<Cosigner> {
    let signer = LogKey::load(key)?.signer().map_err(ledger_error)?;
    Ok(Cosigner::from_note_signer(&signer))
}

/// The verifier key of a witness's cosignatures (what `verify-receipt --witness` reads).
pub fn witness_vkey(key: &Path) -> Result<String> {
    Ok(format!("{}\n", witness_cosigner(key)?.verifier()))
}

/// What a witness is asked to cosign.
#[derive(Debug, Clone)]
pub enum CosignTarget {
    /// A log directory: its latest checkpoint, with a consistency proof the log computes
    /// (and the witness checks); the cosignature is stored in the log.
    LogDir(PathBuf),
    /// A signed checkpoint, or a C2SP tlog-witness add-checkpoint request (`old N`, the
    /// consistency proof, a blank line, the checkpoint).
    Note(Vec<u8>),
}

/// What `tracemark log cosign` did.
#[derive(Debug, Clone, Serialize)]
pub struct CosignReport {
    pub origin: String,
    pub size: u64,
    /// Base64 of the root hash.
    pub root: String,
    /// The size the witness had cosigned before (0 the first time it sees the log).
    pub previous_size: u64,
    pub witness: String,
    /// The witness's cosignature verifier key (type 0x04), for verifiers.
    pub witness_vkey: String,
    /// The cosignature line.
    pub cosignature: String,
    /// The checkpoint note with the cosignature added.
    pub checkpoint: String,
    /// Whether the cosignature was stored in the log (so that receipts carry it).
    pub stored_in_log: bool,
    pub state: PathBuf,
}

/// Where a witness's state is: `state`, else `witness-state.json` beside the key.
pub fn witness_state_path(key: &Path, state: Option<&Path>) -> PathBuf {
    match state {
        Some(p) => p.to_owned(),
        None if key.is_dir() => key.join(WITNESS_STATE_FILE),
        None => key.parent().map_or_else(
            || PathBuf::from(WITNESS_STATE_FILE),
            |d| d.join(WITNESS_STATE_FILE),
        ),
    }
}

/// Cosigns as a witness: checks the checkpoint against the log key and the witness state
/// (refusing rollbacks and forks), records it in the state (durably, before anything is
/// handed out), and returns the cosigned note; for a log directory, also stores the
/// cosignature in the log. `log_vkey` is the log's `key.pub` text (for a log directory,
/// its own `key.pub` by default; otherwise the key the state remembers for the origin).
pub fn cosign(
    key: &Path,
    log_vkey: Option<&str>,
    state: Option<&Path>,
    target: CosignTarget,
    timestamp: u64,
) -> Result<CosignReport> {
    let cosigner = witness_cosigner(key)?;
    let state_path = witness_state_path(key, state);
    // The state is read, checked against and written under an exclusive lock, held until
    // this returns: another run at the same time would otherwise read the same state and
    // one of the two cosignatures would be lost from it (weakening rollback protection).
    let mut state_file =
        WitnessStateFile::lock(&state_path).map_err(|e| ledger_error(LedgerError::from(e)))?;
    let witness = state_file.state_mut();
    let (checkpoint, proof, mut ledger, vkey) = match target {
        CosignTarget::LogDir(dir) => {
            let site = LogSite::in_dir(&dir)?;
            let mut ledger = site.open()?;
            let checkpoint = ledger.checkpoint().map_err(ledger_error)?;
            let vkey = match log_vkey {
                Some(v) => v.to_owned(),
                None => read_public(&dir.join(LogKey::PUBLIC_FILE))?,
            };
            let head = checkpoint.checkpoint_unverified();
            let old = witness.cosigned_size(&head.origin);
            let proof = if old > 0 && old < head.size {
                Some((
                    old,
                    ledger
                        .consistency_proof(old, head.size)
                        .map_err(ledger_error)?,
                ))
            } else {
                None
            };
            (checkpoint, proof, Some(ledger), vkey)
        }
        CosignTarget::Note(bytes) => {
            let (checkpoint, proof) = if AddCheckpoint::is_request(&bytes) {
                let request =
                    AddCheckpoint::parse(&bytes).map_err(|e| ledger_error(LedgerError::from(e)))?;
                (request.checkpoint, Some((request.old, request.proof)))
            } else {
                (SignedCheckpoint::parse(&bytes).map_err(ledger_error)?, None)
            };
            let origin = &checkpoint.checkpoint_unverified().origin;
            let vkey = match (log_vkey, witness.logs.get(origin)) {
                (Some(v), _) => v.to_owned(),
                (None, Some(known)) => known.vkey.clone(),
                (None, None) => {
                    return Err(Error::usage(
                        format!("the witness has never seen the log `{origin}`"),
                        Some("give the log's verifier key with --log-key LOG.pub".into()),
                    ));
                }
            };
            (checkpoint, proof, None, vkey)
        }
    };
    let log = NoteVerifier::parse(vkey.trim()).map_err(ledger_error)?;
    let cosigned = witness
        .cosign(
            &cosigner,
            &log,
            &checkpoint,
            proof.as_ref().map(|(old, p)| (*old, p.as_slice())),
            timestamp,
        )
        .map_err(|e| ledger_error(LedgerError::from(e)))?;
    state_file
        .save()
        .map_err(|e| ledger_error(LedgerError::from(e)))?;
    let stored_in_log = match ledger.as_mut() {
        Some(ledger) => {
            ledger
                .add_cosignatures(
                    &cosigned.checkpoint,
                    std::slice::from_ref(cosigner.verifier()),
                )
                .map_err(ledger_error)?;
            true
        }
        None => false,
    };
    let head = checkpoint.checkpoint_unverified();
    Ok(CosignReport {
        origin: head.origin.clone(),
        size: head.size,
        root: head.root.to_base64(),
        previous_size: cosigned.previous_size,
        witness: cosigner.verifier().name().to_owned(),
        witness_vkey: cosigner.verifier().to_string(),
        cosignature: cosigned.line.trim_end().to_owned(),
        checkpoint: cosigned.checkpoint.to_text(),
        stored_in_log,
        state: state_path,
    })
}

/// Stores the cosignatures of `witnesses` that a cosigned checkpoint note carries in the
/// log, so that receipts against that checkpoint carry them; returns how many witness
/// cosignatures the log's checkpoint now has.
pub fn add_cosignatures(
    ledger: &mut AnyLedger,
    cosigned: &[u8],
    witnesses: &[String],
) -> Result<usize> {
    let checkpoint = SignedCheckpoint::parse(cosigned).map_err(ledger_error)?;
    let witnesses = witnesses
        .iter()
        .map(|w| CosignatureVerifier::parse(w.trim()).map_err(ledger_error))
        .collect::<Result<Vec<_>>>()?;
    ledger
        .add_cosignatures(&checkpoint, &witnesses)
        .map_err(ledger_error)
}

fn read_public(path: &Path) -> Result<String> {
    let bytes = keyfile::read_file(path, Secrecy::Public)?;
    String::from_utf8(bytes)
        .map_err(|_| Error::input(format!("{} is not UTF-8 text", path.display()), None))
}
