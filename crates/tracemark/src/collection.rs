//! Proof that opt-outs were honoured at collection: each document's rights decision,
//! recorded in the transparency log when its corpus is indexed, and proved per URL.
//!
//! `index build --log` (or `index log` later) appends one collection record
//! ([`CollectionRecord`]) a document: `included`, or `excluded` when the build left it
//! out because of a reservation (`--exclude-reserved`), with the time it was collected,
//! the signals then in force (what each said, and the hash of the file or header it was
//! read from) and the decision per use. A withdrawal made afterwards (`index withdraw`)
//! appends a `withdrawn` record. By default a record names its URL by a salted
//! commitment ([`tracemark_ledger::url_key`]), so that the log does not publish the
//! crawl list; the salt of a URL is derived from the log's secret
//! ([`LogKey::collection_salt`]), so the operator opens one URL at a time without keeping
//! a table.
//!
//! A proof ([`CollectionProof`], `rights prove`) carries, for each URL, its salt and its
//! records with their inclusion receipts (C2SP `tlog-proof`): checkable offline with the
//! log's verifier key. A checkpoint carries no time, so a record is "logged by T" only
//! through a witness's cosignature (its timestamp) of a checkpoint that includes it; the
//! check says which witness, or that the log alone gives no time. (An RFC 3161
//! time-stamp on the checkpoint would serve too; this build does not request one.)

use std::path::Path;

use serde::{Deserialize, Serialize};
use tracemark_core::{
    ContentHash, Timestamp,
    keyfile::{self, Replace, Secrecy},
    rights::{AiUse, Permission},
};
use tracemark_ledger::{
    CollectionEvent, CollectionRecord, LedgerError, LogKey, LogRecord, Lookup, SignalSeen,
    UseDecision, url_key,
};
use tracemark_rights::Actor;
use tracemark_trace::{Tombstone, corpus::DocMeta, index::for_each_document};

use crate::{
    Error, Result,
    log::{AnyLedger, LogSite},
    trust::{Trust, TrustedKeys},
};

/// The file in an index folder that says its collection is logged, and how.
pub const COLLECTION_LOG_FILE: &str = "collection-log.json";

/// The `format` of [`COLLECTION_LOG_FILE`].
pub const COLLECTION_LOG_V1: &str = "tracemark.collection-log/v1";

/// The `format` of a collection proof.
pub const COLLECTION_PROOF_V1: &str = "tracemark.collection-proof/v1";

/// Records appended in one transaction.
const BATCH: usize = 1000;

/// How an index's collection is logged (its [`COLLECTION_LOG_FILE`]): the log's origin,
/// whose reservations the decisions answer, and whether records name URLs openly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectionLog {
    pub format: String,
    pub origin: String,
    /// A crawler's robots.txt product token, or `*` for any AI agent.
    pub agent: String,
    /// URLs in the open instead of salted commitments.
    pub publish_urls: bool,
}

impl CollectionLog {
    /// The collection log of the index at `dir`, if its collection is logged.
    pub fn of_index(dir: &Path) -> Result<Option<Self>> {
        let path = dir.join(COLLECTION_LOG_FILE);
        if !path.exists() {
            return Ok(None);
        }
        let bytes = keyfile::read_file(&path, Secrecy::Public)?;
        let log: Self = serde_json::from_slice(&bytes)
            .ok()
            .filter(|l: &Self| l.format == COLLECTION_LOG_V1)
            .ok_or_else(|| {
                Error::input(
                    format!("{} is not a {COLLECTION_LOG_V1} file", path.display()),
                    None,
                )
            })?;
        Ok(Some(log))
    }
}

/// The actor whose reservations count: a crawler's product token, or any AI agent (`*`).
pub fn actor(agent: &str) -> Actor {
    match agent {
        "*" => Actor::AnyAgent,
        token => Actor::Agent(token.to_owned()),
    }
}

/// Whether the reservations in force when the document was collected bar training a
/// generative model on it (a TDM reservation does too), for `actor`.
pub fn reserved_at_collection(meta: &DocMeta, actor: &Actor) -> bool {
    meta.rights
        .decision_at(AiUse::GenaiTrain, actor, meta.fetched_at)
        .permission
        == Permission::Disallowed
}

/// The record of `event` for a document (none for a document without a URL: nothing
/// names it outside the corpus). `salt` makes it a commitment; `withdrawal` is the
/// withdrawal a `withdrawn` record states.
pub fn record(
    meta: &DocMeta,
    event: CollectionEvent,
    agent: &str,
    salt: Option<&[u8; 32]>,
    withdrawal: Option<&Tombstone>,
) -> Option<CollectionRecord> {
    let url = meta.url.as_deref()?;
    let who = actor(agent);
    let signals = meta
        .rights
        .in_force(meta.fetched_at)
        .into_iter()
        .map(|s| SignalSeen {
            kind: serde_json::to_value(s.kind)
                .ok()
                .and_then(|k| k.as_str().map(str::to_owned))
                .unwrap_or_default(),
            usage: s.usage,
            permission: s.permission,
            seen_at: s.seen_at,
            sha256: s.sha256,
        })
        .collect();
    let decisions = AiUse::ALL
        .into_iter()
        .map(|usage| UseDecision {
            usage,
            permission: meta
                .rights
                .decision_at(usage, &who, meta.fetched_at)
                .permission,
        })
        .collect();
    Some(CollectionRecord {
        format: tracemark_ledger::registry::COLLECTION_RECORD_V1.into(),
        event,
        url: salt.is_none().then(|| url.to_owned()),
        url_commitment: salt.map(|s| url_key(url, Some(s))),
        collected_at: meta.fetched_at,
        agent: agent.to_owned(),
        signals,
        decisions,
        withdrawn_at: withdrawal.map(|t| t.withdrawn_at),
        reason: withdrawal.and_then(|t| t.reason.clone()),
    })
}

/// What [`log_index`] appended.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LoggedCollection {
    pub origin: String,
    pub included: u64,
    pub excluded: u64,
    pub withdrawn: u64,
    /// Documents without a URL: no record names them.
    pub without_url: u64,
    /// Records the log already held (an earlier run's), not appended again.
    pub already_logged: u64,
}

/// Logs the collection of the index at `dir` in the log at `site`: a record for every
/// document it holds (`included`), every document its build left out (`excluded`) and
/// every withdrawal made since (`withdrawn`), a thousand a transaction. First it notes in
/// the index where its collection is logged, so that a withdrawal made meanwhile is
/// logged too. Records the log already holds are not appended again, so a run that
/// stopped half-way is finished by running it again.
pub fn log_index(
    site: &LogSite,
    dir: &Path,
    agent: &str,
    publish_urls: bool,
) -> Result<LoggedCollection> {
    let key = LogKey::load(&site.key)?;
    let mut ledger = site.open()?;
    let origin = ledger.reader().origin().to_owned();
    if let Some(existing) = CollectionLog::of_index(dir)?
        && (existing.origin != origin
            || existing.agent != agent
            || existing.publish_urls != publish_urls)
    {
        return Err(Error::usage(
            format!(
                "the collection of {} is logged in {} for agent {} ({}): log it the same way",
                dir.display(),
                existing.origin,
                existing.agent,
                if existing.publish_urls {
                    "URLs published"
                } else {
                    "URLs committed"
                }
            ),
            None,
        ));
    }
    write_collection_log(dir, &origin, agent, publish_urls)?;
    let withdrawals = withdrawals(dir)?;
    let mut batch = Batch {
        ledger: &mut ledger,
        key: &key,
        agent,
        publish_urls,
        pending: Vec::new(),
        out: LoggedCollection {
            origin,
            ..Default::default()
        },
    };
    for_each_document(dir, &mut |meta: DocMeta| -> Result<()> {
        batch.push(&meta, CollectionEvent::Included, None)?;
        if let Some(t) = withdrawals.iter().find(|t| t.id == meta.id) {
            batch.push(&meta, CollectionEvent::Withdrawn, Some(t))?;
        }
        Ok(())
    })?;
    for meta in tracemark_trace::index::excluded_documents(dir)? {
        batch.push(&meta, CollectionEvent::Excluded, None)?;
    }
    batch.flush()?;
    Ok(batch.out)
}

/// Collection records on their way into the log.
struct Batch<'a> {
    ledger: &'a mut AnyLedger,
    key: &'a LogKey,
    agent: &'a str,
    publish_urls: bool,
    pending: Vec<CollectionRecord>,
    out: LoggedCollection,
}

impl Batch<'_> {
    fn push(
        &mut self,
        meta: &DocMeta,
        event: CollectionEvent,
        tomb: Option<&Tombstone>,
    ) -> Result<()> {
        let salt = meta
            .url
            .as_deref()
            .filter(|_| !self.publish_urls)
            .map(|u| self.key.collection_salt(u));
        match record(meta, event, self.agent, salt.as_ref(), tomb) {
            Some(r) => self.pending.push(r),
            None => self.out.without_url += 1,
        }
        if self.pending.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    /// Appends the pending records the log does not hold yet, in one transaction.
    fn flush(&mut self) -> Result<()> {
        let mut entries = Vec::with_capacity(self.pending.len());
        for r in std::mem::take(&mut self.pending) {
            let entry = r.entry().map_err(log_record_error)?;
            if holds(self.ledger, &entry.data, r.key())? {
                self.out.already_logged += 1;
                continue;
            }
            match r.event {
                CollectionEvent::Included => self.out.included += 1,
                CollectionEvent::Excluded => self.out.excluded += 1,
                CollectionEvent::Withdrawn => self.out.withdrawn += 1,
            }
            entries.push(entry);
        }
        if !entries.is_empty() {
            self.ledger
                .append_entries(&entries)
                .map_err(Error::Ledger)?;
        }
        Ok(())
    }
}

/// Appends the `withdrawn` record of the document `tombstone` withdraws when the index at
/// `dir` has its collection logged (else nothing): the index of the appended entry, if
/// one was. The record states the document's first withdrawal (the one that counts), so
/// logging it again appends nothing.
pub fn log_withdrawal(site: &LogSite, dir: &Path, tombstone: &Tombstone) -> Result<Option<u64>> {
    let Some(log) = CollectionLog::of_index(dir)? else {
        return Ok(None);
    };
    let first = withdrawals(dir)?.into_iter().find(|t| t.id == tombstone.id);
    let tombstone = first.as_ref().unwrap_or(tombstone);
    let opened = LogKey::load(&site.key)
        .map_err(Error::from)
        .and_then(|key| Ok((key, site.open()?)));
    let (key, mut ledger) = opened.map_err(|e| {
        Error::usage(
            format!(
                "the collection of {} is logged in {}, which cannot be opened: {e}",
                dir.display(),
                log.origin
            ),
            Some("give the configuration of that log (--config, [log] and [keys] log)".into()),
        )
    })?;
    if ledger.reader().origin() != log.origin {
        return Err(Error::usage(
            format!(
                "the collection of {} is logged in {}, not in the configured log {}",
                dir.display(),
                log.origin,
                ledger.reader().origin()
            ),
            Some("configure that log ([log] and [keys] log) to withdraw from this index".into()),
        ));
    }
    let mut found = None;
    for_each_document(dir, &mut |meta: DocMeta| -> Result<()> {
        if found.is_none() && meta.id == tombstone.id {
            found = Some(meta);
        }
        Ok(())
    })?;
    let meta = found.ok_or_else(|| {
        Error::usage(
            format!(
                "no document {} in the index at {}",
                tombstone.id,
                dir.display()
            ),
            None,
        )
    })?;
    let salt = meta
        .url
        .as_deref()
        .filter(|_| !log.publish_urls)
        .map(|u| key.collection_salt(u));
    let Some(r) = record(
        &meta,
        CollectionEvent::Withdrawn,
        &log.agent,
        salt.as_ref(),
        Some(tombstone),
    ) else {
        return Ok(None);
    };
    let entry = r.entry().map_err(log_record_error)?;
    if holds(&ledger, &entry.data, r.key())? {
        return Ok(None);
    }
    let appended = ledger.append_entries(&[entry]).map_err(Error::Ledger)?;
    Ok(appended.first().map(|a| a.index))
}

fn write_collection_log(dir: &Path, origin: &str, agent: &str, publish_urls: bool) -> Result<()> {
    let log = CollectionLog {
        format: COLLECTION_LOG_V1.into(),
        origin: origin.to_owned(),
        agent: agent.to_owned(),
        publish_urls,
    };
    let json = serde_json::to_vec_pretty(&log).expect("the collection log serialises");
    keyfile::write_file(
        &dir.join(COLLECTION_LOG_FILE),
        &json,
        Secrecy::Public,
        Replace::Yes,
    )?;
    Ok(())
}

/// The withdrawals of the index at `dir` (every part's), the first of an id counting.
fn withdrawals(dir: &Path) -> Result<Vec<Tombstone>> {
    let mut out: Vec<Tombstone> = Vec::new();
    for list in tracemark_trace::index::withdrawal_lists(dir)? {
        let path = dir.join(list);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => {
                return Err(Error::Io {
                    action: "read",
                    path,
                    source,
                });
            }
        };
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let t: Tombstone = serde_json::from_str(line).map_err(|e| {
                Error::input(format!("{}: a bad withdrawal: {e}", path.display()), None)
            })?;
            if !out.iter().any(|o| o.id == t.id) {
                out.push(t);
            }
        }
    }
    Ok(out)
}

/// Whether the log holds an entry of exactly `data` under `key`.
fn holds(ledger: &AnyLedger, data: &[u8], key: ContentHash) -> Result<bool> {
    let reader = ledger.reader();
    for index in reader
        .lookup(&Lookup::ContentHash(key))
        .map_err(Error::Ledger)?
    {
        if reader.entry(index).map_err(Error::Ledger)? == data {
            return Ok(true);
        }
    }
    Ok(false)
}

fn log_record_error(e: tracemark_ledger::LogRecordError) -> Error {
    Error::input(e.to_string(), None)
}

/// A proof of what the log records about URLs' collection: each URL, its salt when its
/// records commit to it, and its records with their inclusion receipts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectionProof {
    /// Always [`COLLECTION_PROOF_V1`].
    pub format: String,
    /// The log's origin.
    pub log: String,
    pub urls: Vec<UrlProof>,
}

/// One URL's records, proved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UrlProof {
    pub url: String,
    /// Hex of the URL's salt, when its records commit to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
    /// C2SP `tlog-proof` receipts, one a record, in log order; each carries its record.
    pub receipts: Vec<String>,
}

/// The records of `url` proved from `ledger` (none: it holds no collection record of
/// it). Each receipt is against the latest checkpoint a witness cosigned when one
/// includes the record (so it carries a time), else against the latest checkpoint.
fn prove_url(ledger: &mut AnyLedger, key: &LogKey, url: &str) -> Result<Option<UrlProof>> {
    let salt = key.collection_salt(url);
    let mut indexes = Vec::new();
    for k in [url_key(url, Some(&salt)), url_key(url, None)] {
        indexes.extend(
            ledger
                .reader()
                .lookup(&Lookup::ContentHash(k))
                .map_err(Error::Ledger)?,
        );
    }
    indexes.sort_unstable();
    indexes.dedup();
    let mut receipts = Vec::new();
    let mut committed = false;
    for index in indexes {
        let LogRecord::Collection(r) = ledger.reader().log_record(index).map_err(Error::Ledger)?
        else {
            continue;
        };
        if !(r.names(url, Some(&salt)) || r.names(url, None)) {
            continue;
        }
        committed |= r.url_commitment.is_some();
        let receipt = match ledger.reader().prove_cosigned(index, 1) {
            Ok(r) => r,
            Err(LedgerError::NotCosigned { .. }) => ledger.prove(index).map_err(Error::Ledger)?,
            Err(e) => return Err(Error::Ledger(e)),
        };
        receipts.push(receipt.to_text());
    }
    Ok((!receipts.is_empty()).then(|| UrlProof {
        url: url.to_owned(),
        salt: committed.then(|| hex::encode(salt)),
        receipts,
    }))
}

/// The URLs of the documents that the build of the index at `dir` left out.
pub fn excluded_urls(dir: &Path) -> Result<Vec<String>> {
    Ok(tracemark_trace::index::excluded_documents(dir)?
        .into_iter()
        .filter_map(|m| m.url)
        .collect())
}

/// A proof's check: per record, the trust rule's outcome and what the record says.
#[derive(Debug, Clone, Serialize)]
pub struct ProofCheck {
    /// The worst outcome over every record (`trusted` only when all are).
    pub trust: Trust,
    pub records: Vec<CheckedRecord>,
}

/// One record of a proof, checked.
#[derive(Debug, Clone, Serialize)]
pub struct CheckedRecord {
    pub url: String,
    pub trust: Trust,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<CollectionRecord>,
    /// When the record is known to have been in the log, and what says so.
    pub logged_by: TimeEvidence,
}

/// What shows when a record was in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TimeEvidence {
    /// A witness you trust cosigned, at `at`, a checkpoint that includes the record.
    WitnessCosignature { witness: String, at: Timestamp },
    /// Nothing: a checkpoint carries no time, and no trusted witness cosigned one that
    /// includes the record.
    None,
}

/// Checks a collection proof offline: every receipt under the trust rule (the log keys
/// in `trusted`; `witnesses`, their cosignature verifier keys, give the time), and that
/// each record is about its URL (its commitment opens with the salt given).
pub fn verify_proof(
    bytes: &[u8],
    trusted: &TrustedKeys,
    witnesses: &[String],
) -> Result<ProofCheck> {
    let proof: CollectionProof = serde_json::from_slice(bytes)
        .map_err(|e| Error::input(format!("not a collection proof: {e}"), None))?;
    if proof.format != COLLECTION_PROOF_V1 {
        return Err(Error::input(
            format!(
                "a proof of format `{}`; this build reads {COLLECTION_PROOF_V1}",
                proof.format
            ),
            None,
        ));
    }
    let mut records = Vec::new();
    for url in &proof.urls {
        let salt = match url.salt.as_deref().map(parse_salt).transpose() {
            Ok(salt) => salt,
            Err(reason) => {
                records.push(failed(&url.url, Trust::Tampered, reason));
                continue;
            }
        };
        for receipt in &url.receipts {
            records.push(check_receipt(
                &url.url,
                salt.as_ref(),
                receipt,
                trusted,
                witnesses,
            )?);
        }
    }
    // The trust rule's worst-of; a proof of nothing proves nothing.
    let trust = records
        .iter()
        .map(|r| r.trust)
        .max()
        .unwrap_or(Trust::Untrusted);
    Ok(ProofCheck { trust, records })
}

fn check_receipt(
    url: &str,
    salt: Option<&[u8; 32]>,
    text: &str,
    trusted: &TrustedKeys,
    witnesses: &[String],
) -> Result<CheckedRecord> {
    let verdict = crate::verify::receipt(text.as_bytes(), trusted, witnesses, 0, None)?;
    let Some(verified) = verdict.verified else {
        return Ok(failed(url, verdict.check.outcome, verdict.check.detail));
    };
    let entry = verified.entry.as_deref().unwrap_or_default();
    let record = match CollectionRecord::from_json(entry) {
        Ok(r) => r,
        Err(e) => {
            let why = format!("the receipt proves no collection record: {e}");
            return Ok(failed(url, Trust::Tampered, why));
        }
    };
    if !record.names(url, salt) {
        let why = match salt {
            Some(_) => "the record's commitment does not open to this URL with the salt given",
            None => "the record is not about this URL",
        };
        return Ok(failed(url, Trust::Tampered, why.into()));
    }
    let logged_by = verified
        .checkpoint
        .cosignatures
        .iter()
        .filter_map(|c| {
            let at = Timestamp::from_unix_seconds(i64::try_from(c.timestamp?).ok()?)?;
            Some((c.name.clone(), at))
        })
        .min_by_key(|(_, at)| *at)
        .map_or(TimeEvidence::None, |(witness, at)| {
            TimeEvidence::WitnessCosignature { witness, at }
        });
    Ok(CheckedRecord {
        url: url.to_owned(),
        trust: verdict.check.outcome,
        reason: verdict.check.detail,
        index: Some(verified.index),
        record: Some(record),
        logged_by,
    })
}

fn failed(url: &str, trust: Trust, reason: String) -> CheckedRecord {
    CheckedRecord {
        url: url.to_owned(),
        trust,
        reason,
        index: None,
        record: None,
        logged_by: TimeEvidence::None,
    }
}

fn parse_salt(hex_salt: &str) -> std::result::Result<[u8; 32], String> {
    hex::decode(hex_salt)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| "the salt is not 32 bytes of hex".into())
}

/// The proof of the records of `urls` in the log at `site` (the URLs it holds no record
/// of are returned apart).
pub fn prove(site: &LogSite, urls: &[String]) -> Result<(CollectionProof, Vec<String>)> {
    let key = LogKey::load(&site.key)?;
    let mut ledger = site.open()?;
    let origin = ledger.reader().origin().to_owned();
    let mut proved = Vec::new();
    let mut missing = Vec::new();
    for url in urls {
        match prove_url(&mut ledger, &key, url)? {
            Some(p) => proved.push(p),
            None => missing.push(url.clone()),
        }
    }
    Ok((
        CollectionProof {
            format: COLLECTION_PROOF_V1.into(),
            log: origin,
            urls: proved,
        },
        missing,
    ))
}
