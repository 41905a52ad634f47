//! `tracemark attribute`: every capability asked about one piece of content, the rules
//! applied to what they found, and the evidence report.
//!
//! Each capability contributes facts or says why it could not: a watermark test per
//! configured key, the log look-up (by the payload a watermark carries, by content hash,
//! then by similarity) with its inclusion proof checked against a signed checkpoint, and
//! a trace into each configured index with the rights of every source. A capability that
//! is not configured or fails is an `Unestablished` fact, never a silent pass.

use std::path::Path;

use serde::Serialize;
use tracemark_core::{
    ContentHash, Fact, Timestamp,
    fact::{Claim, LogFinding, Method, RightsFinding, SearchFinding, Topic, WatermarkFinding},
    keyfile::{self, Replace, Secrecy},
    rights::AiUse,
};
use tracemark_credentials::{TrustAnchors, Verifier};
use tracemark_ledger::{
    GenerationRecord, Lookup, ServiceKey, TextSketch,
    note::NoteSigner,
    store::{EntryKeys, NewEntry},
};
use tracemark_lm::Tokenizer;
use tracemark_policy::{
    Context, EvidenceReport, Input, Jurisdiction, REPORT_FORMAT, ReportRequest, SealSignature,
    Subject, Tool,
};
use tracemark_trace::TraceOptions;

use crate::{
    Config, Error, Result,
    log::{AnyLedger, LogSite},
    model::ModelSource,
    text::{self, DetectInput},
};

/// The false-positive rate of each watermark test (Bonferroni-corrected over the keys).
pub const WATERMARK_FPR: f64 = 1e-3;

/// Similarity above which a logged record counts as the content's (estimated Jaccard of
/// word 5-shingles): an edited copy keeps most shingles, unrelated text almost none.
pub const LOG_SIMILARITY: f64 = 0.3;

/// The lower similarity a record found by its payload needs: the payload has already
/// narrowed the records to a few, and unrelated texts share almost no 5-word shingle.
pub const PAYLOAD_SIMILARITY: f64 = 0.05;

/// What to attribute, and under which law.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub content: &'a [u8],
    /// The file the content was read from, where a sidecar credential may sit beside it.
    pub path: Option<&'a Path>,
    /// The file name, for the report.
    pub name: Option<String>,
    pub as_of: tracemark_policy::Date,
    pub jurisdictions: Vec<Jurisdiction>,
    /// What the requester states about AI origin (a provider auditing its own output
    /// states it; facts that show AI origin count whatever is stated).
    pub ai_generated: Option<bool>,
    /// The command that reproduces the report.
    pub command: String,
}

fn fact(claim: Claim, method: &str, parameters: serde_json::Value) -> Fact {
    Fact {
        claim,
        method: Method {
            name: method.into(),
            version: crate::VERSION.into(),
            parameters,
        },
        established_at: Timestamp::now(),
    }
}

fn unestablished(topic: Topic, reason: impl Into<String>) -> Fact {
    fact(
        Claim::Unestablished {
            topic,
            reason: reason.into(),
        },
        "tracemark-attribute",
        serde_json::Value::Null,
    )
}

fn searched(topic: Topic, scope: String, found: u64) -> Fact {
    fact(
        Claim::Search(SearchFinding {
            topic,
            scope,
            found,
        }),
        "tracemark-attribute",
        serde_json::Value::Null,
    )
}

/// Runs every capability on the content and builds the (unsealed) report.
pub fn attribute(config: &Config, request: &Request<'_>) -> Result<EvidenceReport> {
    let hash = ContentHash::of_bytes(request.content);
    let raw_text = std::str::from_utf8(request.content).ok();
    // An embedded credential is invisible characters; the other capabilities read the
    // text without it.
    let stripped = raw_text.map(tracemark_credentials::strip_wrappers);
    let text = stripped.as_deref();
    let media_type = if text.is_some() {
        "text/plain"
    } else {
        "application/octet-stream"
    };
    let mut facts = vec![fact(
        Claim::Content {
            hash,
            bytes: request.content.len() as u64,
            media_type: media_type.into(),
        },
        "sha256",
        serde_json::Value::Null,
    )];
    let mut inputs = vec![Input::of_bytes(
        "content",
        request.name.as_deref().unwrap_or("content"),
        request.content,
    )];
    facts.push(credential_fact(
        config,
        request.content,
        request.path,
        &mut inputs,
    ));
    let mut tokens = None;
    match text {
        Some(text) => {
            let watermarks = watermark_facts(config, text, &mut inputs, &mut tokens);
            let payloads: Vec<_> = watermarks
                .iter()
                .filter_map(|f| match &f.claim {
                    Claim::Watermark(w) if w.verdict.detected => {
                        w.payload.map(|p| (p, w.key_id.clone()))
                    }
                    _ => None,
                })
                .collect();
            facts.extend(watermarks);
            // A record names the text as published, without its embedded credential.
            let mut hashes = vec![hash];
            if text.len() != request.content.len() {
                hashes.push(ContentHash::of_bytes(text.as_bytes()));
            }
            facts.extend(log_facts(config, text, &hashes, &payloads));
            facts.extend(trace_facts(config, text, &mut inputs));
        }
        None => {
            let reason = "the content is not UTF-8 text; only text is tested for watermarks, \
                          logged and traced";
            for topic in [Topic::Watermark, Topic::Log, Topic::Trace] {
                facts.push(unestablished(topic, reason));
            }
        }
    }
    let mut context = Context::new(request.as_of).with_jurisdictions(request.jurisdictions.clone());
    if let Some(n) = tokens {
        context = context.with_tokens(n);
    }
    if let Some(yes) = request.ai_generated {
        context = context.with_ai_generated(yes);
    }
    if let Some(date) = own_market_date(config, &facts, request.ai_generated == Some(true)) {
        context = context.with_placed_on_market(date);
    }
    Ok(EvidenceReport::build(ReportRequest {
        subject: Subject {
            name: request.name.clone(),
            hash,
            bytes: request.content.len() as u64,
            media_type: media_type.into(),
            text: raw_text.map(str::to_owned),
        },
        facts,
        context,
        inputs,
        tool: Tool {
            name: "tracemark".into(),
            version: crate::VERSION.into(),
            commit: None,
        },
        command: request.command.clone(),
        generated_at: Timestamp::now(),
    }))
}

/// When the configured provider's system was placed on the market, if the content is
/// that provider's (its log names it, or the requester states the content is AI output,
/// which a provider does of its own): a provider states the date for its own output only.
fn own_market_date(
    config: &Config,
    facts: &[Fact],
    stated_ai: bool,
) -> Option<tracemark_policy::Date> {
    let date = config.provider.placed_on_market?;
    let name = config.provider.name.as_deref()?;
    let logged = facts
        .iter()
        .any(|f| matches!(&f.claim, Claim::LogEntry(e) if e.provider.as_deref() == Some(name)));
    (logged || stated_ai).then_some(date)
}

/// The content credential: verified against the configured trust anchors.
/// The credential check alone (the service's `/v1/verify`): a `Credential` fact, or why
/// none could be established. `path` is the file the content came from, needed for media.
pub fn verify_credential(config: &Config, content: &[u8], path: Option<&Path>) -> Fact {
    credential_fact(config, content, path, &mut Vec::new())
}

/// The trace alone (the service's `/v1/trace`): the sources found in every configured
/// index, with their rights, or why none could be searched.
pub fn trace(config: &Config, text: &str) -> Vec<Fact> {
    trace_facts(config, text, &mut Vec::new())
}

fn credential_fact(
    config: &Config,
    content: &[u8],
    path: Option<&Path>,
    inputs: &mut Vec<Input>,
) -> Fact {
    let mut pem = Vec::new();
    for path in &config.keys.trust {
        match std::fs::read(path) {
            Ok(bytes) => {
                inputs.push(Input::of_bytes(
                    "trust-anchor",
                    &path.display().to_string(),
                    &bytes,
                ));
                pem.extend_from_slice(&bytes);
                pem.push(b'\n');
            }
            Err(e) => {
                return unestablished(
                    Topic::Credential,
                    format!("cannot read trust anchors {}: {e}", path.display()),
                );
            }
        }
    }
    let verifier = if pem.is_empty() {
        Verifier::new()
    } else {
        match TrustAnchors::from_pem(&pem) {
            Ok(anchors) => Verifier::with_trust_anchors(anchors),
            Err(e) => return unestablished(Topic::Credential, format!("trust anchors: {e}")),
        }
    };
    let report = match (path, std::str::from_utf8(content)) {
        (Some(path), _) => verifier.verify_file(path),
        (None, Ok(text)) => verifier.verify_text(text),
        (None, Err(_)) => {
            return unestablished(Topic::Credential, "media must be given as a file to verify");
        }
    };
    match report {
        Ok(report) => fact(
            Claim::Credential(report.to_finding()),
            "c2pa-verify",
            serde_json::json!({ "trust_anchors": config.keys.trust.len(), "carrier": report.carrier }),
        ),
        // Content over the verifier's size limit was not looked at: what its credential
        // is stays open (never "none"), so the rules resting on it are undetermined.
        Err(e) if e.is_not_examined() => unestablished(Topic::Credential, e.to_string()),
        Err(e) => unestablished(Topic::Credential, format!("credential check failed: {e}")),
    }
}

#[cfg(test)]
mod credential_fact_tests {
    use super::*;

    /// A file over the verifier's size limit (sparse: no disk is used) was not examined:
    /// an unestablished credential fact, never a `Credential` fact saying "none".
    #[test]
    fn a_file_over_the_size_limit_is_an_unestablished_credential() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.txt");
        let file = std::fs::File::create(&big).unwrap();
        file.set_len(tracemark_credentials::verify::DEFAULT_MAX_BYTES + 1)
            .unwrap();
        let fact = verify_credential(&Config::default(), b"", Some(&big));
        match &fact.claim {
            Claim::Unestablished { topic, reason } => {
                assert_eq!(*topic, Topic::Credential);
                assert!(reason.contains("not examined"), "{reason}");
            }
            other => panic!("an oversized file gave {other:?}"),
        }
        // A small file in the same place is examined: no credential.
        std::fs::write(&big, "plain text").unwrap();
        let fact = verify_credential(&Config::default(), b"plain text", Some(&big));
        assert!(
            matches!(&fact.claim, Claim::Credential(c) if c.state == tracemark_core::fact::CredentialState::None),
            "{fact:?}"
        );
    }
}

/// One fact per configured watermark key, or why none could be tested.
fn watermark_facts(
    config: &Config,
    text: &str,
    inputs: &mut Vec<Input>,
    tokens: &mut Option<u64>,
) -> Vec<Fact> {
    let keys = &config.keys.watermark;
    if keys.is_empty() {
        return vec![unestablished(
            Topic::Watermark,
            "no watermark key is configured ([keys] watermark)",
        )];
    }
    let tokenizer = match ModelSource::choose(None, config).and_then(|s| s.tokenizer()) {
        Ok(t) => t,
        Err(e) => {
            return vec![unestablished(
                Topic::Watermark,
                format!("no tokenizer to test the watermark with: {e}"),
            )];
        }
    };
    // The text's length in the generating model's tokens, which the marking rules
    // measure (a detector scores fewer: it skips repeated contexts).
    if let Ok(encoded) = tokenizer.encode(text) {
        *tokens = Some(encoded.len() as u64);
    }
    // Each key is a separate test: correct for their number so the whole search keeps
    // the stated false-positive rate.
    let fpr = WATERMARK_FPR / keys.len() as f64;
    keys.iter()
        .map(
            |path| match watermark_fact(path, text, tokenizer.as_ref(), fpr, inputs) {
                Ok(f) => f,
                Err(e) => unestablished(
                    Topic::Watermark,
                    format!("watermark key {}: {e}", path.display()),
                ),
            },
        )
        .collect()
}

fn watermark_fact(
    path: &Path,
    text: &str,
    tokenizer: &(dyn Tokenizer + Send + Sync),
    fpr: f64,
    inputs: &mut Vec<Input>,
) -> Result<Fact> {
    let key = text::load_key(path, Some(tokenizer))?;
    let report = text::detect(
        &key,
        DetectInput::Text(text, tokenizer),
        tokenizer.vocab_size(),
        fpr,
    )?;
    // A fingerprint of the key file, so its holder can show which key was used; SHA-256
    // reveals nothing of a 256-bit secret.
    let key_file = std::fs::read(path).map_err(|source| Error::Io {
        action: "read",
        path: path.to_owned(),
        source,
    })?;
    inputs.push(Input::of_bytes(
        "watermark-key",
        key.key_id.as_str(),
        &key_file,
    ));
    let parameters = serde_json::json!({ "fpr": fpr, "tokenizer": tokenizer.hash() });
    Ok(fact(
        Claim::Watermark(WatermarkFinding {
            scheme: report.scheme.to_string(),
            key_id: report.key_id.clone(),
            payload: report.decoded_payload,
            segments: report.byte_segments.clone(),
            verdict: report.verdict,
        }),
        &report.scheme.to_string(),
        parameters,
    ))
}

/// The generation record of the content in the configured log, with a checked proof.
fn log_facts(
    config: &Config,
    text: &str,
    hashes: &[ContentHash],
    payloads: &[(tracemark_core::Payload, tracemark_core::KeyId)],
) -> Vec<Fact> {
    let site = match LogSite::configured(config) {
        Ok(site) => site,
        Err(e) => return vec![unestablished(Topic::Log, format!("no log: {e}"))],
    };
    let mut ledger = match site.open() {
        Ok(l) => l,
        Err(e) => {
            return vec![unestablished(
                Topic::Log,
                format!("cannot open the log: {e}"),
            )];
        }
    };
    match find_in_log(&mut ledger, text, hashes, payloads) {
        Ok(Some(f)) => vec![f],
        Ok(None) => vec![searched(Topic::Log, ledger.origin().to_owned(), 0)],
        Err(e) => vec![unestablished(
            Topic::Log,
            format!("log look-up failed: {e}"),
        )],
    }
}

fn find_in_log(
    ledger: &mut AnyLedger,
    text: &str,
    hashes: &[ContentHash],
    payloads: &[(tracemark_core::Payload, tracemark_core::KeyId)],
) -> Result<Option<Fact>> {
    // The payload survives edits and stripped metadata; the hash only exact copies; the
    // sketch, edited ones. A short payload names a share of a provider's generations,
    // not one (and a misdecoded digit names others): the sketch must agree with it.
    let sketch = TextSketch::of_text(text);
    let mut found = None;
    for (payload, key_id) in payloads {
        let hits = ledger.lookup(&Lookup::Payload {
            payload: *payload,
            key_id: Some(key_id.clone()),
        })?;
        if let Some((similarity, i)) = closest(ledger, &sketch, &hits)?
            && similarity >= PAYLOAD_SIMILARITY
        {
            found = Some((i, "payload"));
            break;
        }
    }
    for hash in hashes {
        if found.is_none() {
            found = ledger
                .lookup(&Lookup::ContentHash(*hash))?
                .last()
                .map(|&i| (i, "content-hash"));
        }
    }
    if found.is_none() {
        found = ledger
            .similar(&sketch, LOG_SIMILARITY, 1)?
            .first()
            .map(|e| (e.index, "minhash-similarity"));
    }
    let Some((index, how)) = found else {
        return Ok(None);
    };
    let receipt = ledger.prove(index)?;
    let verified = receipt.verify(&ledger.policy(), None)?;
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
/// tie), with its estimated similarity.
fn closest(ledger: &AnyLedger, sketch: &TextSketch, indexes: &[u64]) -> Result<Option<(f64, u64)>> {
    let mut best: Option<(f64, u64)> = None;
    for &i in indexes.iter().rev().take(crate::log::MAX_FOUND) {
        let similarity = ledger.record(i)?.sketch.similarity(sketch);
        if best.is_none_or(|(s, _)| similarity > s) {
            best = Some((similarity, i));
        }
    }
    Ok(best)
}

/// The trace into every configured index, with the rights of each source.
fn trace_facts(config: &Config, text: &str, inputs: &mut Vec<Input>) -> Vec<Fact> {
    if config.index.paths.is_empty() {
        return vec![unestablished(
            Topic::Trace,
            "no corpus index is configured ([index] paths)",
        )];
    }
    let mut facts = Vec::new();
    for dir in &config.index.paths {
        match trace_one(dir, text) {
            Ok((found, manifest)) => {
                inputs.push(Input::of_bytes(
                    "index",
                    &dir.display().to_string(),
                    &manifest,
                ));
                if found.is_empty() {
                    facts.push(searched(Topic::Trace, dir.display().to_string(), 0));
                }
                facts.extend(found);
            }
            Err(e) => facts.push(unestablished(
                Topic::Trace,
                format!("index {}: {e}", dir.display()),
            )),
        }
    }
    facts
}

fn trace_one(dir: &Path, text: &str) -> Result<(Vec<Fact>, Vec<u8>)> {
    let index = crate::corpus::open(dir, None)?;
    let manifest = std::fs::read(dir.join(tracemark_trace::index::INDEX_FILE)).unwrap_or_default();
    let options = TraceOptions {
        keep_fraction: None,
        usage: AiUse::GenaiTrain,
        ..TraceOptions::default()
    };
    let report = tracemark_trace::trace(&index, text, &options)?;
    let parameters = serde_json::json!({
        "index": dir.display().to_string(),
        "min_tokens": options.min_tokens,
        "tokenizer": report.tokenizer,
        "coverage": report.coverage,
    });
    let mut facts: Vec<Fact> = report
        .span_findings()
        .into_iter()
        .map(|s| {
            fact(
                Claim::SourceSpan(s),
                "olmotrace-maximal-spans",
                parameters.clone(),
            )
        })
        .collect();
    // The rights of each source as they stood when it was collected.
    let mut seen = std::collections::BTreeSet::new();
    for d in report.spans.iter().flat_map(|s| &s.documents) {
        if seen.insert(d.id.clone()) {
            facts.push(fact(
                Claim::Rights(RightsFinding {
                    document_id: d.id.clone(),
                    usage: options.usage,
                    permission: d.opt_out_at_fetch,
                    signals: d.signals_at_fetch.clone(),
                    seen_at: d.fetched_at,
                }),
                "tracemark-rights-at-fetch",
                serde_json::json!({ "latest": d.latest }),
            ));
        }
    }
    Ok((facts, manifest))
}

/// The text a seal signs: a C2SP signed-note body naming the format of what is signed
/// and the hash of its canonical JSON.
pub(crate) fn seal_note(format: &str, hash: &str) -> String {
    format!("{format}\n{hash}\n")
}

/// Loads the service key that signs reports and results.
pub fn service_signer(path: &Path) -> Result<NoteSigner> {
    Ok(ServiceKey::load(path)?
        .signer()
        .map_err(tracemark_ledger::LedgerError::from)?)
}

/// The service's signature over [`seal_note`] of `format` and `hash`: any signed-note
/// verifier checks it with the key's `.pub`.
fn seal_signature(signer: &NoteSigner, format: &str, hash: &str) -> SealSignature {
    let line = signer.sign_line(&seal_note(format, hash));
    let value = line
        .trim_end()
        .rsplit(' ')
        .next()
        .unwrap_or_default()
        .to_owned();
    SealSignature {
        algorithm: "ed25519".into(),
        key_id: signer.verifier().name().to_owned(),
        public_key: Some(signer.verifier().to_string()),
        value,
    }
}

/// Seals the report: its hash, and with a service key its signature (a signed note over
/// [`seal_note`], so that any signed-note verifier can check it with the key's `.pub`).
pub fn seal(report: &mut EvidenceReport, service_key: Option<&Path>) -> Result<()> {
    let signer = service_key.map(service_signer).transpose()?;
    seal_with(report, signer.as_ref());
    Ok(())
}

/// [`seal`] with a service key already loaded.
pub fn seal_with(report: &mut EvidenceReport, signer: Option<&NoteSigner>) {
    report.seal();
    let seal = report.seal.as_mut().expect("seal() sets the seal");
    seal.signature = signer.map(|s| seal_signature(s, REPORT_FORMAT, &seal.report_hash));
}

/// The format of a signed service result (`/v1/detect`, `/v1/verify`, `/v1/trace`).
pub const SIGNED_RESULT_V1: &str = "tracemark.signed-result/v1";

/// A result the service signs: the hash of its canonical JSON (RFC 8785) and the service
/// key's signature over [`SIGNED_RESULT_V1`] and that hash.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct SignedResult<T> {
    pub format: String,
    pub result: T,
    pub result_hash: String,
    pub signature: Option<SealSignature>,
}

/// Signs `result` with the service key, when there is one.
pub fn sign_result<T: Serialize>(
    result: T,
    signer: Option<&NoteSigner>,
) -> Result<SignedResult<T>> {
    let bytes = tracemark_core::jcs::to_canonical_bytes(&result)
        .map_err(|e| Error::input(format!("the result has no canonical form: {e}"), None))?;
    let result_hash = ContentHash::of_bytes(&bytes).to_string();
    Ok(SignedResult {
        format: SIGNED_RESULT_V1.into(),
        signature: signer.map(|s| seal_signature(s, SIGNED_RESULT_V1, &result_hash)),
        result,
        result_hash,
    })
}

/// The format of the log entry that records a sealed report (its chain of custody).
pub const REPORT_RECORD_V1: &str = "tracemark.report-record/v1";

/// What the log records of a report: enough to show it existed, unaltered, by then.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ReportRecord {
    /// Always [`REPORT_RECORD_V1`].
    pub format: String,
    /// The seal's hash of the report.
    pub report_hash: String,
    /// The content the report is about.
    pub subject_hash: ContentHash,
    pub generated_at: Timestamp,
}

/// Appends the sealed report's hash to the log, and puts the log's receipt and verifier
/// key into its seal (outside the hash, which the receipt proves).
pub fn record_report(report: &mut EvidenceReport, ledger: &mut AnyLedger) -> Result<()> {
    let Some(seal) = report.seal.as_mut() else {
        return Err(Error::input("only a sealed report can be logged", None));
    };
    let record = ReportRecord {
        format: REPORT_RECORD_V1.into(),
        report_hash: seal.report_hash.clone(),
        subject_hash: report.subject.hash,
        generated_at: report.generated_at,
    };
    let entry = NewEntry {
        data: tracemark_core::jcs::to_canonical_bytes(&record)
            .map_err(|e| Error::input(format!("the report record: {e}"), None))?,
        keys: EntryKeys::default(),
    };
    let appended = ledger.append_entries(&[entry])?;
    let receipt = ledger.prove(appended[0].index)?;
    seal.receipt = Some(receipt.to_text());
    seal.log_key = Some(ledger.policy().log.to_string());
    Ok(())
}

/// Writes `NAME.json` and `NAME.html` into `dir` (each through a temporary file).
pub fn write_report(
    report: &EvidenceReport,
    dir: &Path,
    name: &str,
) -> Result<(std::path::PathBuf, std::path::PathBuf)> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        action: "create",
        path: dir.to_owned(),
        source,
    })?;
    let json = dir.join(format!("{name}.json"));
    let html = dir.join(format!("{name}.html"));
    let write = |path: &Path, text: String| {
        keyfile::write_file(path, text.as_bytes(), Secrecy::Public, Replace::Yes)
    };
    write(&json, report.to_json_pretty())?;
    write(&html, tracemark_policy::render_html(report))?;
    Ok((json, html))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracemark_core::keyfile::Replace;
    use tracemark_policy::Outcome;

    use crate::keygen::{self, Destination, KeySpec};

    fn request(content: &[u8]) -> Request<'_> {
        Request {
            content,
            path: None,
            name: Some("input".into()),
            as_of: "2026-12-15".parse().unwrap(),
            jurisdictions: vec![Jurisdiction::Eu],
            ai_generated: None,
            command: "tracemark attribute input".into(),
        }
    }

    fn unestablished_topics(report: &EvidenceReport) -> Vec<Topic> {
        report
            .facts
            .iter()
            .filter_map(|f| match &f.claim {
                Claim::Unestablished { topic, reason } => {
                    assert!(!reason.is_empty());
                    Some(*topic)
                }
                _ => None,
            })
            .collect()
    }

    fn outcome(report: &EvidenceReport, rule: &str) -> Outcome {
        report.rules.iter().find(|r| r.id == rule).unwrap().outcome
    }

    /// Missing indexes, a missing log and no tokenizer for the key: every capability says
    /// why it found nothing, and the rules resting on them are undetermined.
    #[test]
    fn what_cannot_be_established_is_said_and_never_satisfies_a_rule() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("wm.json");
        let spec = KeySpec::Watermark {
            scheme: tracemark_watermark::SchemeId::KgwSelfHash,
            tokenizer: None,
            payload_bits: 0,
        };
        keygen::generate(&spec, &Destination::Path(key.clone()), Replace::No).unwrap();
        let mut config = Config::default();
        config.keys.watermark = vec![key];
        config.keys.log = Some(dir.path().join("no-such-log"));
        config.log.sqlite = Some(dir.path().join("ledger.db"));
        config.index.paths = vec![dir.path().join("no-such-index")];

        let report = attribute(&config, &request(b"A short text, from nowhere.")).unwrap();
        let topics = unestablished_topics(&report);
        for topic in [Topic::Watermark, Topic::Log, Topic::Trace] {
            assert!(topics.contains(&topic), "{topic:?} in {topics:?}");
        }
        assert_eq!(outcome(&report, "EU-AIA-50-2"), Outcome::Undetermined);
        assert_eq!(outcome(&report, "EU-DSM-4-3"), Outcome::Undetermined);
        assert!(!report.limitations.is_empty());
    }

    /// Bytes that are not text: only the content and its credential can be examined.
    #[test]
    fn content_no_crate_can_read_is_reported_as_such() {
        let config = Config::default();
        let bytes = [0xFF, 0xD8, 0x00, 0x9F, 0x80, 0x01];
        let report = attribute(&config, &request(&bytes)).unwrap();
        assert_eq!(report.subject.media_type, "application/octet-stream");
        let topics = unestablished_topics(&report);
        for topic in [Topic::Watermark, Topic::Log, Topic::Trace] {
            assert!(topics.contains(&topic), "{topic:?} in {topics:?}");
        }
        assert!(
            report.rules.iter().all(|r| r.outcome != Outcome::Compliant),
            "{:?}",
            report.rules
        );
    }
}
