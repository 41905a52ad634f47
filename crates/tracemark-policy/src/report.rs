//! The evidence report: what was found, by which method, with what error rate, which
//! rules it engages, and how anyone can reproduce it.
//!
//! The JSON form (`"format": "tracemark.evidence-report/v3"`) is described by the
//! published schema `schema/evidence-report-v3.schema.json`; the schemas of the earlier
//! versions stay beside it, and their reports still verify. A report is sealed by the
//! SHA-256 of its canonical JSON without the `seal` member; the front end that writes it
//! adds a signature over the same canonical bytes and the log receipt.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tracemark_core::{
    ByteRange, ContentHash, Fact, PValue, Timestamp, Verdict,
    fact::{Claim, LogFinding, ModelCheck, ModelIdentityFinding},
};

use crate::{
    Context, Outcome, RuleResult, evaluate,
    predicates::{Evidence, covered_bytes},
    statement::{AttributionStatement, attribution_statement},
    text::{p_value, percent},
};

/// The `format` of reports this version writes. v2 replaced v1's per-segment
/// "confidence" (which was no confidence) by what was measured; v3 added facts of mark
/// history, detectors and mining, the KR jurisdiction, the registrant role, the document
/// kind, and credential fields (time-stamp, manifest id, AIGC fields, latent disclosure).
pub const REPORT_FORMAT: &str = "tracemark.evidence-report/v3";

/// Formats whose hash and seal this version still checks, and which it reads (a report
/// stays verifiable).
pub const READABLE_REPORT_FORMATS: [&str; 3] = [
    "tracemark.evidence-report/v1",
    "tracemark.evidence-report/v2",
    REPORT_FORMAT,
];

/// The published JSON Schema of the report.
pub const REPORT_SCHEMA: &str = include_str!("../schema/evidence-report-v3.schema.json");

/// The schema of the previous version, for reports already written.
pub const REPORT_SCHEMA_V2: &str = include_str!("../schema/evidence-report-v2.schema.json");

/// The question every report answers.
pub const QUESTION: &str = "Who owns this output?";

/// An evidence report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceReport {
    /// [`REPORT_FORMAT`].
    pub format: String,
    pub question: String,
    /// The answer in a few lines, with the shares behind it.
    pub verdict: ReportVerdict,
    /// The content examined.
    pub subject: Subject,
    /// Every fact established (or explicitly not established), with its method.
    pub facts: Vec<Fact>,
    /// One outcome for every rule evaluated.
    pub rules: Vec<RuleResult>,
    /// The content split by origin (byte ranges), for text.
    pub segments: Vec<AttributedSegment>,
    /// The attribution statement for a copyright-registration disclosure.
    pub statement: AttributionStatement,
    /// What the rules were told besides the facts.
    pub context: Context,
    /// Every input, by hash.
    pub inputs: Vec<Input>,
    /// What could not be established, and why; and what the methods cannot show.
    pub limitations: Vec<String>,
    pub tool: Tool,
    /// The command that reproduces this report.
    pub command: String,
    pub generated_at: Timestamp,
    /// The hash, signature and log receipt; absent until sealed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seal: Option<ReportSeal>,
}

/// The content a report is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subject {
    /// The file name or label the user gave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub hash: ContentHash,
    pub bytes: u64,
    pub media_type: String,
    /// The text itself, when the report includes it (for highlighting segments).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// The tool that wrote the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

/// An input of the analysis: the content, keys, indexes, logs, configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Input {
    /// `content`, `watermark-key`, `trust-anchor`, `index`, `log-checkpoint`, `config`, …
    pub role: String,
    /// A file name or description.
    pub name: String,
    /// SHA-256 of its bytes, hex.
    pub sha256: String,
}

impl Input {
    pub fn of_bytes(role: &str, name: &str, bytes: &[u8]) -> Self {
        Self {
            role: role.to_owned(),
            name: name.to_owned(),
            sha256: ContentHash::of_bytes(bytes).to_hex(),
        }
    }
}

/// The few-line answer to "who owns this output?".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportVerdict {
    /// The answer, one sentence a line.
    pub summary: Vec<String>,
    /// The AI system the content (or part of it) comes from, when found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai: Option<AiOrigin>,
    /// The documents the content reproduces.
    pub sources: Vec<SourceShare>,
    /// Share of the content (bytes) attributed to AI generation.
    pub ai_share: f64,
    /// Share of the content (bytes) in verbatim spans of sources.
    pub source_share: f64,
    /// Share attributed to neither.
    pub unattributed_share: f64,
    /// How many rules reached each outcome.
    pub outcomes: std::collections::BTreeMap<Outcome, usize>,
}

/// The AI system that produced the content, as the facts name it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AiOrigin {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation_id: Option<String>,
    /// The smallest watermark p-value, when a watermark shows it (may print as 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
    /// Its base-10 logarithm, which never underflows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log10_p_value: Option<f64>,
    /// What shows it: `watermark`, `credential`, `log`, `aigc-label`.
    pub basis: Vec<String>,
    pub facts: Vec<usize>,
}

impl AiOrigin {
    /// What shows the AI origin, in words: "a watermark (p = 1.0e-42) and a
    /// transparency-log record with a verified proof".
    pub fn basis_words(&self) -> String {
        let shown: Vec<String> = self
            .basis
            .iter()
            .map(|b| match b.as_str() {
                "watermark" => match self.log10_p_value {
                    Some(l) => format!("a watermark (p = {})", p_value(&PValue::from_log10(l))),
                    None => "a watermark".to_owned(),
                },
                "log" => "a transparency-log record with a verified proof".to_owned(),
                "credential" => "a content credential".to_owned(),
                "aigc-label" => "an AIGC label".to_owned(),
                other => other.to_owned(),
            })
            .collect();
        shown.join(" and ")
    }
}

/// A document the content reproduces, with its owner and licence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceShare {
    pub document_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licence: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Bytes of the content in verbatim spans of this document.
    pub bytes: u64,
    pub share: f64,
    pub facts: Vec<usize>,
}

/// Where a part of the content comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Generated by an AI system (a watermark, credential or log record shows it).
    Ai,
    /// Copied from a source document found by tracing.
    Source,
    /// Attributed to neither: the author may claim it, but no tool proves human authorship.
    Unattributed,
}

impl Origin {
    pub fn label(self) -> &'static str {
        match self {
            Origin::Ai => "AI-generated",
            Origin::Source => "copied from a source",
            Origin::Unattributed => "not attributed",
        }
    }
}

/// A byte range of the content with its origin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttributedSegment {
    pub range: ByteRange,
    pub origin: Origin,
    /// What was measured, as measured; absent for unattributed text, where nothing was
    /// found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measured: Option<Measurement>,
    /// Who it is attributed to: the AI system, or the source's owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributed_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_id: Option<String>,
    /// What shows it, for a reader.
    pub basis: String,
    pub facts: Vec<usize>,
}

/// What shows a segment's origin: the test and its statistics, never a made-up
/// confidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "test", rename_all = "snake_case")]
pub enum Measurement {
    /// A watermark test on the segment.
    Watermark {
        scheme: String,
        #[serde(flatten)]
        p_value: PValue,
        /// The false-positive rate the decision guarantees (its significance level).
        false_positive_rate: f64,
        /// The tokens the test scored.
        tokens_scored: u64,
    },
    /// A verbatim (exact) match of the segment in an indexed corpus.
    VerbatimMatch {
        /// Its length in the index's tokens.
        tokens: u64,
        /// How often it occurs in the index.
        occurrences: u64,
    },
}

/// The seal of a report: its hash, and what the front end adds to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportSeal {
    /// `sha-256`.
    pub algorithm: String,
    /// `rfc8785`: the canonical JSON of the report without `seal`.
    pub canonicalization: String,
    /// Hex SHA-256 of the canonical bytes.
    pub report_hash: String,
    /// A signature over the canonical bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<SealSignature>,
    /// The transparency-log receipt of the report hash (C2SP `tlog-proof`, as text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<String>,
    /// The verifier key of the log that issued the receipt (its `key.pub` line), as the
    /// report claims it; a reader compares it with the key the log publishes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealSignature {
    /// `ed25519`, `es256`, …
    pub algorithm: String,
    pub key_id: String,
    /// The public key, when it travels with the report (base64).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    /// The signature (base64).
    pub value: String,
}

/// A report that cannot be read or whose seal does not match.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    #[error("the report is not JSON: {0}")]
    Json(String),
    #[error(
        "the report's format is `{0}`; this version reads {REPORT_FORMAT} and its predecessors v1 and v2"
    )]
    Format(String),
    #[error("the report has no seal")]
    Unsealed,
    #[error("the report's seal uses {0}, which this version does not verify")]
    SealAlgorithm(String),
    #[error("the report was altered: its hash is {actual}, the seal says {sealed}")]
    HashMismatch { sealed: String, actual: String },
}

impl tracemark_core::Diagnose for ReportError {
    fn fault(&self) -> tracemark_core::Fault {
        tracemark_core::Fault::Input
    }

    fn hint(&self) -> Option<String> {
        match self {
            ReportError::HashMismatch { .. } => {
                Some("the report differs from the one that was sealed; obtain the original".into())
            }
            _ => None,
        }
    }
}

/// What a front end gives to build a report.
#[derive(Debug, Clone)]
pub struct ReportRequest {
    pub subject: Subject,
    pub facts: Vec<Fact>,
    pub context: Context,
    pub inputs: Vec<Input>,
    pub tool: Tool,
    pub command: String,
    pub generated_at: Timestamp,
}

impl EvidenceReport {
    /// Evaluates the rules on the facts and assembles the report (unsealed).
    pub fn build(req: ReportRequest) -> EvidenceReport {
        let rules = evaluate(&req.facts, &req.context);
        let segments = segments(&req.facts, req.subject.bytes, req.subject.text.as_deref());
        let evidence = Evidence::new(&req.facts, &req.context);
        let ai = ai_origin(&req.facts);
        let sources = source_shares(&evidence, &req.facts, req.subject.bytes);
        let statement = attribution_statement(&segments, req.subject.bytes, ai.as_ref(), &sources);
        let verdict = verdict(&statement, ai, sources, &rules, &req.facts);
        let limitations = limitations(&req.facts, &req.context);
        EvidenceReport {
            format: REPORT_FORMAT.to_owned(),
            question: QUESTION.to_owned(),
            verdict,
            subject: req.subject,
            facts: req.facts,
            rules,
            segments,
            statement,
            context: req.context,
            inputs: req.inputs,
            limitations,
            tool: req.tool,
            command: req.command,
            generated_at: req.generated_at,
            seal: None,
        }
    }

    /// Reads a report, refusing other formats.
    pub fn from_json(json: &str) -> Result<EvidenceReport, ReportError> {
        let value: Value =
            serde_json::from_str(json).map_err(|e| ReportError::Json(e.to_string()))?;
        check_format(&value)?;
        serde_json::from_value(value).map_err(|e| ReportError::Json(e.to_string()))
    }

    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serialises")
    }

    /// The canonical bytes that the seal hashes and the signature signs: the report
    /// without `seal`, as canonical JSON.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let value = serde_json::to_value(self).expect("a report always serialises");
        // Every number a report holds is a count, a share or a p-value well inside
        // what a double holds exactly, so a report always has a canonical form.
        canonical_without_seal(value).expect("a report has a canonical form")
    }

    /// Hex SHA-256 of the canonical bytes.
    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.canonical_bytes()))
    }

    /// Sets the seal's hash (keeping no earlier signature or receipt, which signed other
    /// bytes); returns the canonical bytes for the caller to sign.
    pub fn seal(&mut self) -> Vec<u8> {
        self.seal = None;
        let bytes = self.canonical_bytes();
        self.seal = Some(ReportSeal {
            algorithm: "sha-256".into(),
            canonicalization: "rfc8785".into(),
            report_hash: hex::encode(Sha256::digest(&bytes)),
            signature: None,
            receipt: None,
            log_key: None,
        });
        bytes
    }
}

fn check_format(value: &Value) -> Result<(), ReportError> {
    match value.get("format").and_then(Value::as_str) {
        Some(f) if READABLE_REPORT_FORMATS.contains(&f) => Ok(()),
        Some(other) => Err(ReportError::Format(other.to_owned())),
        None => Err(ReportError::Format("(none)".into())),
    }
}

fn canonical_without_seal(mut value: Value) -> Result<Vec<u8>, ReportError> {
    if let Some(map) = value.as_object_mut() {
        map.remove("seal");
    }
    tracemark_core::jcs::canonicalize(&value).map_err(|e| ReportError::Json(e.to_string()))
}

/// Checks a report's hash against its seal, offline, on the JSON as written (so that a
/// reader of a later version verifies fields it does not know). Returns the seal, whose
/// signature and receipt the caller then checks with the keys it trusts.
pub fn verify_report_hash(json: &str) -> Result<ReportSeal, ReportError> {
    let value: Value = serde_json::from_str(json).map_err(|e| ReportError::Json(e.to_string()))?;
    check_format(&value)?;
    let seal: ReportSeal = match value.get("seal") {
        Some(s) => {
            serde_json::from_value(s.clone()).map_err(|e| ReportError::Json(e.to_string()))?
        }
        None => return Err(ReportError::Unsealed),
    };
    if seal.algorithm != "sha-256" || seal.canonicalization != "rfc8785" {
        return Err(ReportError::SealAlgorithm(format!(
            "{}/{}",
            seal.algorithm, seal.canonicalization
        )));
    }
    let actual = hex::encode(Sha256::digest(canonical_without_seal(value)?));
    if !actual.eq_ignore_ascii_case(&seal.report_hash) {
        return Err(ReportError::HashMismatch {
            sealed: seal.report_hash,
            actual,
        });
    }
    Ok(seal)
}

/// The canonical bytes of a report as written (without `seal`), for checking its
/// signature.
pub fn canonical_report_bytes(json: &str) -> Result<Vec<u8>, ReportError> {
    let value: Value = serde_json::from_str(json).map_err(|e| ReportError::Json(e.to_string()))?;
    check_format(&value)?;
    canonical_without_seal(value)
}

/// The AI system the facts name: from the log record first (it resolves the
/// watermark's payload), then the credential, then the watermark alone.
pub fn ai_origin(facts: &[Fact]) -> Option<AiOrigin> {
    let mut origin = AiOrigin {
        provider: None,
        model: None,
        generation_id: None,
        p_value: None,
        log10_p_value: None,
        basis: Vec::new(),
        facts: Vec::new(),
    };
    let note = |origin: &mut AiOrigin, basis: &str, i: usize| {
        if !origin.basis.iter().any(|b| b == basis) {
            origin.basis.push(basis.to_owned());
        }
        origin.facts.push(i);
    };
    for (i, f) in facts.iter().enumerate() {
        match &f.claim {
            Claim::Watermark(w) if w.verdict.detected => {
                let p = w.verdict.p_value;
                if origin.log10_p_value.is_none_or(|q| p.log10() < q) {
                    origin.p_value = Some(p.value());
                    origin.log10_p_value = Some(p.log10());
                }
                note(&mut origin, "watermark", i);
            }
            Claim::LogEntry(LogFinding {
                provider,
                model,
                generation_id,
                inclusion_verified: true,
                ..
            }) => {
                origin.provider = origin.provider.take().or(provider.clone());
                origin.model = origin.model.take().or(model.clone());
                origin.generation_id = origin.generation_id.take().or(generation_id.clone());
                note(&mut origin, "log", i);
            }
            Claim::Credential(c)
                if matches!(
                    c.state,
                    tracemark_core::fact::CredentialState::Trusted
                        | tracemark_core::fact::CredentialState::Untrusted
                ) && c.digital_source_type.as_deref().is_some_and(|t| {
                    t.contains("TrainedAlgorithmic") || t.contains("trainedAlgorithmic")
                }) =>
            {
                note(&mut origin, "credential", i);
                if c.aigc_label {
                    note(&mut origin, "aigc-label", i);
                }
            }
            _ => {}
        }
    }
    // The credential names come after the log's, which are bound by the payload.
    for f in facts {
        if let Claim::Credential(c) = &f.claim
            && matches!(
                c.state,
                tracemark_core::fact::CredentialState::Trusted
                    | tracemark_core::fact::CredentialState::Untrusted
            )
        {
            if origin.provider.is_none() {
                origin.provider = c.signer.clone();
            }
            if origin.model.is_none() {
                origin.model = c.generator.clone();
            }
        }
    }
    if origin.basis.is_empty() {
        return None;
    }
    origin.facts.sort_unstable();
    origin.facts.dedup();
    Some(origin)
}

fn source_shares(evidence: &Evidence<'_>, facts: &[Fact], total: u64) -> Vec<SourceShare> {
    evidence
        .sources()
        .into_iter()
        .map(|s| {
            let mut ranges: Vec<(usize, usize)> = facts
                .iter()
                .filter_map(|f| match &f.claim {
                    Claim::SourceSpan(sp) if sp.documents.iter().any(|d| d.id == s.document.id) => {
                        Some((sp.range.start(), sp.range.end()))
                    }
                    _ => None,
                })
                .collect();
            let bytes = covered_bytes(&mut ranges) as u64;
            SourceShare {
                document_id: s.document.id.clone(),
                owner: s.document.owner.clone(),
                licence: s.document.licence.clone(),
                url: s.document.source_url.clone(),
                bytes,
                share: share(bytes, total),
                facts: s.facts.clone(),
            }
        })
        .collect()
}

fn share(part: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        (part as f64 / total as f64).clamp(0.0, 1.0)
    }
}

/// The content split into segments: source spans first (a reproduced passage belongs to
/// its owner even when a model wrote it out), then watermarked passages, the rest
/// unattributed. Ranges beyond the content, or splitting a character of the included
/// text, are dropped.
pub fn segments(facts: &[Fact], total: u64, text: Option<&str>) -> Vec<AttributedSegment> {
    let total = total as usize;
    let valid = |r: &ByteRange| r.end() <= total && text.is_none_or(|t| r.slice(t).is_ok());
    // Candidates, in order of precedence.
    let mut claims: Vec<AttributedSegment> = Vec::new();
    for (i, f) in facts.iter().enumerate() {
        if let Claim::SourceSpan(s) = &f.claim
            && valid(&s.range)
        {
            let doc = s.documents.first();
            claims.push(AttributedSegment {
                range: s.range,
                origin: Origin::Source,
                measured: Some(Measurement::VerbatimMatch {
                    tokens: s.tokens,
                    occurrences: s.occurrences,
                }),
                attributed_to: doc
                    .and_then(|d| d.owner.clone())
                    .or(doc.map(|d| d.id.clone())),
                document_id: doc.map(|d| d.id.clone()),
                basis: "verbatim span in the corpus index".into(),
                facts: vec![i],
            });
        }
    }
    let origin = ai_origin(facts);
    let who = origin.as_ref().and_then(|o| match (&o.provider, &o.model) {
        (Some(p), Some(m)) => Some(format!("{m} ({p})")),
        (Some(p), None) => Some(p.clone()),
        (None, Some(m)) => Some(m.clone()),
        (None, None) => None,
    });
    for (i, f) in facts.iter().enumerate() {
        if let Claim::Watermark(w) = &f.claim
            && w.verdict.detected
        {
            let parts: Vec<(ByteRange, &Verdict)> = if w.segments.is_empty() {
                ByteRange::new(0, total)
                    .map(|r| vec![(r, &w.verdict)])
                    .unwrap_or_default()
            } else {
                w.segments
                    .iter()
                    .filter(|s| s.verdict.detected)
                    .map(|s| (s.range, &s.verdict))
                    .collect()
            };
            for (range, v) in parts.into_iter().filter(|(r, _)| valid(r) && !r.is_empty()) {
                claims.push(AttributedSegment {
                    range,
                    origin: Origin::Ai,
                    measured: Some(Measurement::Watermark {
                        scheme: w.scheme.clone(),
                        p_value: v.p_value,
                        false_positive_rate: v.false_positive_rate,
                        tokens_scored: v.scored,
                    }),
                    attributed_to: who.clone(),
                    document_id: None,
                    basis: format!("{} watermark", w.scheme),
                    facts: vec![i],
                });
            }
        }
    }
    // Each stretch between two claim boundaries belongs to the first claim (in order of
    // precedence) covering it: a sweep over the boundaries with the covering claims in an
    // ordered set, so memory grows with the claims, never with the content's length.
    let mut events: Vec<(usize, bool, usize)> = claims
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.range.is_empty())
        // At one position a claim that ends goes before one that starts: ranges are
        // half-open.
        .flat_map(|(ci, c)| [(c.range.start(), true, ci), (c.range.end(), false, ci)])
        .collect();
    events.sort_unstable();
    let mut covering = std::collections::BTreeSet::new();
    let mut out: Vec<AttributedSegment> = Vec::new();
    let mut start = 0;
    // The claim of the last segment pushed, so that stretches of one claim merge.
    let mut last_who = None;
    let mut events = events.into_iter().peekable();
    while start < total {
        while let Some(&(at, opens, ci)) = events.peek()
            && at <= start
        {
            if opens {
                covering.insert(ci);
            } else {
                covering.remove(&ci);
            }
            events.next();
        }
        let end = events.peek().map_or(total, |&(at, ..)| at.min(total));
        let who = covering.first().copied();
        let range = ByteRange::new(start, end).expect("start < end");
        start = end;
        if let Some(last) = out.last_mut()
            && last_who == Some(who)
        {
            last.range = ByteRange::new(last.range.start(), range.end()).expect("ordered");
            continue;
        }
        last_who = Some(who);
        out.push(match who {
            Some(ci) => AttributedSegment {
                range,
                ..claims[ci].clone()
            },
            None => AttributedSegment {
                range,
                origin: Origin::Unattributed,
                measured: None,
                attributed_to: None,
                document_id: None,
                basis: "no watermark, credential or source span covers it".into(),
                facts: Vec::new(),
            },
        });
    }
    out
}

/// What a model-identity fact says, in sentences: which digest the provider's record
/// names, whether the model checked has it, who signed it, and the outcome.
pub fn model_identity_words(m: &ModelIdentityFinding) -> String {
    let named = match (&m.named_by, &m.named_digest) {
        (Some(by), Some(d)) => Some(format!(
            "{by} names the model {} whose weights have digest {d}",
            m.name
        )),
        (None, Some(d)) => Some(format!(
            "the model {} is named by the digest {d} of its weights",
            m.name
        )),
        _ => None,
    };
    let signer = m.signer.as_deref().unwrap_or("an unnamed signer");
    let method = m
        .signing_method
        .as_deref()
        .map(|x| format!(", {x} method"))
        .unwrap_or_default();
    let mut out = match (m.check, named) {
        (ModelCheck::Trusted, Some(named)) => format!(
            "{named}, and that digest is signed by {signer} (OpenSSF Model Signing{method}): trusted."
        ),
        (ModelCheck::Untrusted, Some(named)) => format!(
            "{named}, and that digest is signed by {signer} (OpenSSF Model Signing{method}), a signer not among the keys and roots trusted for model signatures: untrusted."
        ),
        (ModelCheck::Trusted | ModelCheck::Untrusted, None) => format!(
            "the model {} checked has digest {} and is signed by {signer} (OpenSSF Model Signing{method}): {}; no record of this content names a model digest.",
            m.name,
            m.model_digest
                .map_or_else(|| "(unknown)".into(), |d| d.to_string()),
            m.check.code()
        ),
        (ModelCheck::DigestMismatch, named) => format!(
            "{}, but the model checked has digest {} (signed by {signer}): digest mismatch, the record names other weights.",
            named.unwrap_or_else(|| format!("the model {}", m.name)),
            m.model_digest
                .map_or_else(|| "(unknown)".into(), |d| d.to_string()),
        ),
        (ModelCheck::Tampered, named) => format!(
            "{}the model {} checked does not match its signature by {signer}: tampered ({}).",
            named.map(|n| format!("{n}; ")).unwrap_or_default(),
            m.name,
            m.reason
        ),
        (ModelCheck::NotChecked, named) => format!(
            "{}; no signed model was given to check it against: not checked.",
            named.unwrap_or_else(|| format!("the model {}", m.name)),
        ),
    };
    if let Some(r) = &m.release {
        let version = r
            .version
            .as_deref()
            .map(|v| format!(" {v}"))
            .unwrap_or_default();
        out.push_str(&format!(
            " The transparency log records its release (entry {} of {}{}): {}{version}, signed by {}, released {}.",
            r.index,
            r.origin,
            if r.inclusion_verified {
                ", inclusion proved"
            } else {
                ""
            },
            r.name,
            r.signer,
            r.released_at
        ));
    }
    // A sentence starts with a capital.
    let mut chars = out.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => out,
    }
}

fn verdict(
    statement: &AttributionStatement,
    ai: Option<AiOrigin>,
    sources: Vec<SourceShare>,
    rules: &[RuleResult],
    facts: &[Fact],
) -> ReportVerdict {
    let mut summary = Vec::new();
    match &ai {
        Some(o) => {
            let who = [
                o.model.as_deref().map(|m| format!("model {m}")),
                o.provider.as_deref().map(|p| format!("of {p}")),
                o.generation_id
                    .as_deref()
                    .map(|g| format!("(generation {g})")),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
            let who = if who.is_empty() {
                "an AI system whose provider is not named".to_owned()
            } else {
                who
            };
            summary.push(format!(
                "AI-generated: {} of the content, by {who}, shown by {}.",
                percent(statement.ai_share),
                o.basis_words()
            ));
        }
        None => summary.push(
            "No AI origin was found: no watermark, credential or log record names an AI system."
                .into(),
        ),
    }
    if sources.is_empty() {
        summary.push("No source document was found in the content.".into());
    }
    for s in &sources {
        let owner = s.owner.as_deref().unwrap_or("an unnamed owner");
        let licence = s
            .licence
            .as_deref()
            .map(|l| format!(", licence {l}"))
            .unwrap_or_default();
        summary.push(format!(
            "Copied from {} ({owner}{licence}): {} of the content.",
            s.document_id,
            percent(s.share)
        ));
    }
    summary.push(format!(
        "Not attributed to AI or a source: {} (which the author may claim; no tool can prove human authorship).",
        percent(statement.unattributed_share)
    ));
    for f in facts {
        if let Claim::ModelIdentity(m) = &f.claim {
            summary.push(format!("Model identity: {}", model_identity_words(m)));
        }
    }
    let non_compliant: Vec<&str> = rules
        .iter()
        .filter(|r| r.outcome == Outcome::NonCompliant)
        .map(|r| r.id.as_str())
        .collect();
    if !non_compliant.is_empty() {
        summary.push(format!(
            "Rules not complied with: {}.",
            non_compliant.join(", ")
        ));
    }
    let mut outcomes = std::collections::BTreeMap::new();
    for r in rules {
        *outcomes.entry(r.outcome).or_insert(0) += 1;
    }
    ReportVerdict {
        summary,
        ai,
        sources,
        ai_share: statement.ai_share,
        source_share: statement.source_share,
        unattributed_share: statement.unattributed_share,
        outcomes,
    }
}

fn limitations(facts: &[Fact], ctx: &Context) -> Vec<String> {
    let mut out: Vec<String> = facts
        .iter()
        .filter_map(|f| match &f.claim {
            Claim::Unestablished { topic, reason } => Some(format!(
                "{} could not be established: {reason}.",
                match topic {
                    tracemark_core::fact::Topic::Watermark => "Watermark detection",
                    tracemark_core::fact::Topic::Credential => "Credential verification",
                    tracemark_core::fact::Topic::Log => "The transparency-log look-up",
                    tracemark_core::fact::Topic::Trace => "Tracing into the training data",
                    tracemark_core::fact::Topic::Rights => "The rights signals",
                    tracemark_core::fact::Topic::Disclosure => "The search for a visible label",
                    tracemark_core::fact::Topic::Attribution =>
                        "The search for attribution notices",
                    tracemark_core::fact::Topic::Removal =>
                        "The comparison of the content's marks with the record of its marks",
                    tracemark_core::fact::Topic::Model =>
                        "The identity of the model (its signed weights)",
                }
            )),
            _ => None,
        })
        .collect();
    for key in ctx.unknown_declarations() {
        out.push(format!(
            "The declaration `{key}` is not one the rules read; it was ignored."
        ));
    }
    out.push("A watermark is found only with the keys tried: its absence shows only that none of those keys marked the content.".into());
    out.push(
        "Absence of a content credential proves nothing: credentials are easily stripped.".into(),
    );
    out.push(
        "Text not attributed to AI or to a source is not thereby proven to be human-written."
            .into(),
    );
    out
}
