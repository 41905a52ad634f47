//! `tracemark attribute`: every capability asked about one piece of content, the rules
//! applied to what they found, and the evidence report.
//!
//! Each capability contributes facts or says why it could not: a watermark test per
//! configured key ([`watermark`]), the content credential ([`credential`]), the log
//! look-up by the payload a watermark carries, by content hash, then by similarity, with
//! its inclusion proof checked against the latest signed checkpoint ([`log`]), and a
//! trace into each configured index with the rights of every source ([`trace`]), and the
//! identity of the model the records name, checked against its signature ([`model`]). A
//! capability that is not configured or fails is an `Unestablished` fact, never a
//! silent pass. The report is then sealed, signed and logged ([`seal`]).
//!
//! What the capabilities read (keys, tokenizer, trust anchors, indexes, the log) is
//! loaded once into an [`Attributor`]; attributing content only reads. Content comes as
//! bytes with an optional name: files belong to the front end.

mod credential;
mod files;
mod log;
mod media;
mod model;
mod seal;
mod trace;
mod watermark;

use std::path::Path;

use tracemark_core::{
    ContentHash, Fact, Timestamp,
    fact::{Claim, DetectorFinding, Method, SearchFinding, Topic},
};
use tracemark_policy::{
    Context, Date, EvidenceReport, Input, Jurisdiction, ReportRequest, Subject, Tool,
};

pub use self::{
    credential::Credentials,
    files::write_report,
    log::LogLookup,
    model::ModelCheck,
    seal::{
        SIGNED_RESULT_V1, SignedResult, record_report, seal, seal_with, service_signer, sign_result,
    },
    trace::Indexes,
    watermark::{Detector, Watermarks},
};
use crate::{Config, config::ProviderConfig};
pub(crate) use seal::seal_note;

/// The false-positive rate of each watermark test (Bonferroni-corrected over the keys).
pub const WATERMARK_FPR: f64 = 1e-3;

/// Similarity above which a logged record counts as the content's (estimated Jaccard of
/// word 5-shingles): an edited copy keeps most shingles, unrelated text almost none.
pub const LOG_SIMILARITY: f64 = 0.3;

/// The lower similarity a record found by its payload needs: the payload has already
/// narrowed the records to a few, and unrelated texts share almost no 5-word shingle.
pub const PAYLOAD_SIMILARITY: f64 = 0.05;

/// The content examined: its bytes, the name it was given (kept in the report; its
/// extension tells media apart when the bytes do not), and a sidecar manifest store
/// when the credential travels beside the content.
#[derive(Debug, Clone, Copy)]
pub struct Content<'a> {
    pub bytes: &'a [u8],
    pub name: Option<&'a str>,
    pub sidecar: Option<&'a [u8]>,
}

impl<'a> Content<'a> {
    pub fn new(bytes: &'a [u8], name: Option<&'a str>) -> Self {
        Self {
            bytes,
            name,
            sidecar: None,
        }
    }
}

/// What to attribute, and under which law.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub content: Content<'a>,
    pub as_of: Date,
    pub jurisdictions: Vec<Jurisdiction>,
    /// What the requester states about AI origin (a provider auditing its own output
    /// states it; facts that show AI origin count whatever is stated).
    pub ai_generated: Option<bool>,
    /// The command that reproduces the report.
    pub command: String,
}

/// The `tracemark attribute` command that reproduces a report of the content named `name`
/// (the command line's, and the same text wherever a report is made for such a request, so
/// that equal requests give equal reports).
pub fn command_line(
    name: &str,
    as_of: Date,
    jurisdictions: &[Jurisdiction],
    ai_generated: bool,
    generated_at: Option<Timestamp>,
) -> String {
    use std::fmt::Write as _;
    let mut command = format!("tracemark attribute --as-of {as_of}");
    for j in jurisdictions {
        let _ = write!(command, " --jurisdiction {j}");
    }
    if ai_generated {
        command.push_str(" --ai-generated");
    }
    if let Some(at) = generated_at {
        let _ = write!(command, " --generated-at {at}");
    }
    let _ = write!(command, " {name}");
    command
}

/// Everything attribution reads, loaded once: the watermark keys and their tokenizer,
/// the credential verifier and its trust anchors, a pool of read handles to the log, and
/// the corpus indexes. Shared by every request of a server; what could not be loaded is
/// the reason its facts are unestablished.
#[derive(Debug)]
pub struct Attributor {
    provider: ProviderConfig,
    pub watermarks: Watermarks,
    /// The media keys (images and sounds).
    pub media: crate::media::MediaDetectors,
    pub credentials: Credentials,
    pub log: LogLookup,
    pub indexes: Indexes,
    /// The model signature the records' model digests are checked against.
    pub model: ModelCheck,
    /// Detectors the provider states it offers (AI Act Art. 50(2) asks that marks be
    /// detectable by others): no instrument can see how a detector is offered.
    detectors: Vec<DetectorFinding>,
    /// What is configured but could not be loaded.
    problems: Vec<String>,
}

impl Attributor {
    /// Loads what the configuration names. Never fails: a capability that cannot be
    /// loaded is reported by [`Self::problems`] and as unestablished facts, whose reasons
    /// say as much as `disclosure` allows.
    pub fn load(config: &Config, disclosure: Disclosure) -> Self {
        let watermarks = Watermarks::load(config, disclosure);
        let media =
            crate::media::MediaDetectors::load(config, |what, e| disclosure.reason(what, e));
        let credentials = Credentials::load(config, disclosure);
        let log = LogLookup::load(config, disclosure);
        let indexes = Indexes::load(config, disclosure);
        let model = ModelCheck::load(config, disclosure);
        let mut problems: Vec<String> = watermarks.problems().into_iter().map(Into::into).collect();
        problems.extend(media.problems().into_iter().map(String::from));
        problems.extend(model.problem().map(Into::into));
        problems.extend(credentials.problem().map(Into::into));
        // The log counts as configured when it is named: the key store's default log is
        // tried, and its absence is no misconfiguration.
        if config.keys.log.is_some() {
            problems.extend(log.problem().map(Into::into));
        }
        problems.extend(indexes.problems().into_iter().map(Into::into));
        Self {
            provider: config.provider.clone(),
            watermarks,
            media,
            credentials,
            log,
            indexes,
            model,
            detectors: Vec::new(),
            problems,
        }
    }

    /// States a detector the provider offers for its marks; every report then carries it
    /// as a `Detector` fact.
    pub fn with_detector(mut self, detector: DetectorFinding) -> Self {
        self.detectors.push(detector);
        self
    }

    /// What is configured but could not be loaded (a server refuses to start on these).
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    /// Runs every capability on the content and builds the (unsealed) report.
    pub fn attribute(&self, request: &Request<'_>) -> EvidenceReport {
        self.attribute_at(request, None)
    }

    /// [`Self::attribute`] with the report's time fixed by the caller (`tracemark attribute
    /// --generated-at`): `at` is then when the report was generated and when each of its
    /// facts was established, so that the same content, inputs and request give the same
    /// report and hash wherever and whenever it is made (one process or a bulk job).
    pub fn attribute_at(&self, request: &Request<'_>, at: Option<Timestamp>) -> EvidenceReport {
        let content = &request.content;
        let hash = ContentHash::of_bytes(content.bytes);
        let raw_text = std::str::from_utf8(content.bytes).ok();
        // An embedded credential is invisible characters; the other capabilities read
        // the text without it.
        let stripped = raw_text.map(tracemark_credentials::strip_wrappers);
        // A picture or a sound, by its first bytes: decoded once, or why it could not be.
        let decoded = match crate::media::sniff(content.bytes) {
            crate::media::Sniffed::Other => None,
            _ => Some(crate::media::decode(content.bytes)),
        };
        let media_type = match (&decoded, crate::media::sniff(content.bytes)) {
            (Some(Ok(d)), _) => d.media_type(),
            (_, crate::media::Sniffed::Image(f)) => f.media_type(),
            (_, crate::media::Sniffed::Audio) => "audio/wav",
            _ => media_type(content, stripped.as_deref()),
        };
        let mut facts = vec![fact(
            Claim::Content {
                hash,
                bytes: content.bytes.len() as u64,
                media_type: media_type.into(),
            },
            "sha256",
            serde_json::Value::Null,
        )];
        let mut inputs = vec![Input::of_bytes(
            "content",
            content.name.unwrap_or("content"),
            content.bytes,
        )];
        let credential = self.credentials.fact(content, &mut inputs);
        facts.extend(credential::reader_of(&credential));
        let credential_state = match &credential.claim {
            Claim::Credential(c) => Some(c.state),
            _ => None,
        };
        // The model a valid credential names by its digest.
        let mut named_models: Vec<model::Named> = match &credential.claim {
            Claim::Credential(c)
                if matches!(
                    c.state,
                    tracemark_core::fact::CredentialState::Trusted
                        | tracemark_core::fact::CredentialState::Untrusted
                ) && c.model_digest.is_some() =>
            {
                vec![model::Named {
                    name: c.generator.clone().unwrap_or_else(|| "(unnamed)".into()),
                    digest: c.model_digest,
                    by: match &c.signer {
                        Some(s) => format!("the content credential signed by {s}"),
                        None => "the content credential".into(),
                    },
                    release: None,
                }]
            }
            _ => Vec::new(),
        };
        facts.push(credential);
        facts.extend(self.detectors.iter().map(|d| {
            fact(
                Claim::Detector(d.clone()),
                "stated-by-provider",
                serde_json::Value::Null,
            )
        }));
        let mut tokens = None;
        match (stripped.as_deref(), &decoded) {
            (_, Some(decoded)) => {
                let (media_facts, recorded) =
                    self.media_facts(decoded, hash, credential_state, &mut inputs);
                facts.extend(media_facts);
                if let Some(r) = recorded {
                    named_models.insert(0, self.named_by(r));
                }
            }
            (Some(text), None) => {
                let (watermarks, counted) = self.watermarks.facts(text, &mut inputs);
                tokens = counted;
                let payloads: Vec<_> = watermarks
                    .iter()
                    .filter_map(|f| match &f.claim {
                        Claim::Watermark(w) if w.verdict.detected => {
                            w.payload.map(|p| (p, w.key_id.clone()))
                        }
                        _ => None,
                    })
                    .collect();
                let carries = log::Carries {
                    credential: credential_state,
                    watermarks: watermarks
                        .iter()
                        .filter_map(|f| match &f.claim {
                            Claim::Watermark(w) => Some((w.key_id.clone(), w.verdict.detected)),
                            _ => None,
                        })
                        .collect(),
                };
                facts.extend(watermarks);
                // A record names the text as published, without its embedded credential.
                let mut hashes = vec![hash];
                if text.len() != content.bytes.len() {
                    hashes.push(ContentHash::of_bytes(text.as_bytes()));
                }
                let (log_facts, recorded) = self.log.facts(&log::Query {
                    text,
                    hashes: &hashes,
                    payloads: &payloads,
                    carries,
                });
                facts.extend(log_facts);
                if let Some(r) = recorded {
                    // The log's record first: it is what the provider logged.
                    named_models.insert(0, self.named_by(r));
                }
                facts.extend(self.indexes.facts(text, &mut inputs));
            }
            (None, None) => {
                let reason = "the content is not UTF-8 text, nor a PNG, JPEG or WAV file; \
                              only these are tested for watermarks and logged, and only \
                              text is traced";
                for topic in [Topic::Watermark, Topic::Log, Topic::Trace] {
                    facts.push(unestablished(topic, reason));
                }
            }
        }
        for n in &mut named_models {
            if n.release.is_none()
                && let Some(d) = n.digest
            {
                n.release = self.log.release(&d, None);
            }
        }
        facts.extend(
            self.model
                .facts(&named_models, &|d| self.log.release(d, None)),
        );
        if let Some(at) = at {
            for f in &mut facts {
                f.established_at = at;
            }
        }
        let mut context =
            Context::new(request.as_of).with_jurisdictions(request.jurisdictions.clone());
        if let Some(n) = tokens {
            context = context.with_tokens(n);
        }
        if let Some(yes) = request.ai_generated {
            context = context.with_ai_generated(yes);
        }
        if let Some(date) = self.own_market_date(&facts, request.ai_generated == Some(true)) {
            context = context.with_placed_on_market(date);
        }
        EvidenceReport::build(ReportRequest {
            subject: Subject {
                name: content.name.map(str::to_owned),
                hash,
                bytes: content.bytes.len() as u64,
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
            generated_at: at.unwrap_or_else(Timestamp::now),
        })
    }

    /// The watermark, SDXL and log facts of a picture or a sound (or why it could not be
    /// decoded), and the model its record names.
    /// The model the log's record names, with its release record when the log holds
    /// one: first among the models named, as it is what the provider logged.
    fn named_by(&self, r: log::RecordedModel) -> model::Named {
        model::Named {
            release: r
                .model
                .digest
                .and_then(|d| self.log.release(&d, r.model.release.as_ref())),
            name: r.model.id,
            digest: r.model.digest,
            by: format!("the provider's {}", r.shown_by),
        }
    }

    fn media_facts(
        &self,
        decoded: &crate::Result<crate::media::Decoded>,
        hash: ContentHash,
        credential: Option<tracemark_core::fact::CredentialState>,
        inputs: &mut Vec<Input>,
    ) -> (Vec<Fact>, Option<log::RecordedModel>) {
        let decoded = match decoded {
            Ok(d) => d,
            Err(e) => {
                let reason = format!("the media could not be read: {e}");
                let facts = [Topic::Watermark, Topic::Log, Topic::Trace]
                    .into_iter()
                    .map(|t| unestablished(t, reason.clone()))
                    .collect();
                return (facts, None);
            }
        };
        let mut facts = media::facts(&self.media, decoded, inputs);
        let mut payloads = Vec::new();
        let mut carries = log::Carries {
            credential,
            watermarks: Vec::new(),
        };
        for f in &facts {
            if let Claim::Watermark(w) = &f.claim {
                carries
                    .watermarks
                    .push((w.key_id.clone(), w.verdict.detected));
                if w.verdict.detected
                    && w.scheme != crate::media::SDXL_SCHEME
                    && let Some(p) = w.payload
                {
                    payloads.push((p, w.key_id.clone()));
                }
            }
        }
        let (log_facts, recorded) = self.log.media_facts(&log::MediaQuery {
            hash,
            payloads: &payloads,
            fingerprint: decoded.fingerprint().ok(),
            carries,
        });
        facts.extend(log_facts);
        facts.push(unestablished(
            Topic::Trace,
            "pictures and sounds are not traced into a corpus (the indexes hold text)",
        ));
        (facts, recorded)
    }

    /// The credential check alone (the service's `/v1/verify`): a `Credential` fact, or
    /// why none could be established.
    pub fn verify_credential(&self, content: &Content<'_>) -> Fact {
        self.credentials.fact(content, &mut Vec::new())
    }

    /// The trace alone (the service's `/v1/trace`): the sources found in every
    /// configured index, with their rights, or why none could be searched.
    pub fn trace(&self, text: &str) -> Vec<Fact> {
        self.indexes.facts(text, &mut Vec::new())
    }

    /// When the configured provider's system was placed on the market, if the content
    /// is that provider's (its log names it, or the requester states the content is AI
    /// output, which a provider does of its own): a provider states the date for its own
    /// output only.
    fn own_market_date(&self, facts: &[Fact], stated_ai: bool) -> Option<Date> {
        let date = self.provider.placed_on_market?;
        let name = self.provider.name.as_deref()?;
        let logged = facts
            .iter()
            .any(|f| matches!(&f.claim, Claim::LogEntry(e) if e.provider.as_deref() == Some(name)));
        (logged || stated_ai).then_some(date)
    }
}

/// The media type of the content: a document container (HTML, PDF, an office format) by
/// its name or its first bytes, else plain text when it is UTF-8. The legal engine tells
/// free text, which carries a watermark only, from a container, which can carry metadata
/// too.
fn media_type(content: &Content<'_>, text: Option<&str>) -> &'static str {
    let name = content.name.unwrap_or_default().to_ascii_lowercase();
    let by_name = [
        (".html", "text/html"),
        (".htm", "text/html"),
        (".xhtml", "application/xhtml+xml"),
        (".pdf", "application/pdf"),
        (".epub", "application/epub+zip"),
        (".rtf", "application/rtf"),
        (
            ".docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (".odt", "application/vnd.oasis.opendocument.text"),
    ];
    if let Some((_, mt)) = by_name.iter().find(|(ext, _)| name.ends_with(ext)) {
        return mt;
    }
    if content.bytes.starts_with(b"%PDF-") {
        return "application/pdf";
    }
    match text {
        Some(t) => {
            let head: String = t.trim_start().chars().take(15).collect();
            let head = head.to_ascii_lowercase();
            if head.starts_with("<!doctype html") || head.starts_with("<html") {
                "text/html"
            } else {
                "text/plain"
            }
        }
        None => "application/octet-stream",
    }
}

/// How much a reason may say about the machine it was found on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Disclosure {
    /// Every detail: the command line, whose reports are made on the user's machine.
    #[default]
    Full,
    /// What failed, without its details (paths, database errors), which go to standard
    /// error for the operator: a service's answers leave its machine.
    Private,
}

impl Disclosure {
    /// The reason `what` failed with `detail`, as much of it as may be told.
    fn reason(self, what: impl std::fmt::Display, detail: impl std::fmt::Display) -> String {
        match self {
            Disclosure::Full => format!("{what}: {detail}"),
            Disclosure::Private => {
                eprintln!("tracemark: {what}: {detail}");
                format!("{what} (the details are in the service's log)")
            }
        }
    }
}

/// A configured file as reports and responses name it: its file name, never its path
/// (reports and a server's answers leave the machine).
fn label(path: &Path) -> String {
    path.file_name()
        .map_or_else(|| "(unnamed)".into(), |n| n.to_string_lossy().into_owned())
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

#[cfg(test)]
mod tests {
    use super::*;
    use tracemark_core::keyfile::Replace;
    use tracemark_policy::Outcome;

    use crate::keygen::{self, Destination, KeySpec};

    fn request(content: &[u8]) -> Request<'_> {
        Request {
            content: Content::new(content, Some("input")),
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

        let report = Attributor::load(&config, Disclosure::Full)
            .attribute(&request(b"A short text, from nowhere."));
        let topics = unestablished_topics(&report);
        for topic in [Topic::Watermark, Topic::Log, Topic::Trace] {
            assert!(topics.contains(&topic), "{topic:?} in {topics:?}");
        }
        assert_eq!(outcome(&report, "EU-AIA-50-2"), Outcome::Undetermined);
        assert_eq!(outcome(&report, "EU-DSM-4-3"), Outcome::Undetermined);
        assert!(!report.limitations.is_empty());
    }

    /// A report whose time is fixed is the same report, hash and all, each time it is made;
    /// another time gives another hash, and without a fixed time the clock is read.
    #[test]
    fn a_fixed_time_makes_the_same_report() {
        let config = Config::default();
        let attributor = Attributor::load(&config, Disclosure::Full);
        let content = b"The same words, attributed twice.";
        let at: Timestamp = "2026-12-01T12:00:00Z".parse().unwrap();
        let first = attributor.attribute_at(&request(content), Some(at));
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let second = attributor.attribute_at(&request(content), Some(at));
        assert_eq!(first.generated_at, at);
        assert!(first.facts.iter().all(|f| f.established_at == at));
        assert_eq!(first.hash(), second.hash());
        let later = attributor.attribute_at(
            &request(content),
            Some("2026-12-02T12:00:00Z".parse().unwrap()),
        );
        assert_ne!(first.hash(), later.hash());
        assert_ne!(attributor.attribute(&request(content)).generated_at, at);
    }

    /// HTML and PDF are document containers (they can carry metadata), by name or by
    /// their first bytes; other UTF-8 is free text.
    #[test]
    fn containers_are_told_from_free_text() {
        let media = |bytes: &[u8], name: Option<&str>| {
            media_type(&Content::new(bytes, name), std::str::from_utf8(bytes).ok())
        };
        assert_eq!(media(b"<p>Hi</p>", Some("page.HTML")), "text/html");
        assert_eq!(media(b"  <!DOCTYPE html><p>Hi</p>", None), "text/html");
        assert_eq!(media(b"%PDF-1.7\n", None), "application/pdf");
        assert_eq!(media(b"Plain words.", Some("notes.txt")), "text/plain");
        assert_eq!(media(&[0xFF, 0xD8, 0x00], None), "application/octet-stream");
    }

    /// Bytes that are not text: only the content and its credential can be examined.
    #[test]
    fn content_no_crate_can_read_is_reported_as_such() {
        let config = Config::default();
        let bytes = [0xFF, 0xD8, 0x00, 0x9F, 0x80, 0x01];
        let report = Attributor::load(&config, Disclosure::Full).attribute(&request(&bytes));
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
