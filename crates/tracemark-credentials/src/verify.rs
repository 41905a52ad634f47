//! Verification: four outcomes, never an error for a bad credential.
//!
//! The c2pa crate validates the manifest store (JUMBF and CBOR structure, the claim's
//! assertion hashes, the hard binding against the content, the COSE signature, the
//! certificate profile and validity, and trust against the configured anchors). Its
//! answer is mapped to [`CredentialState`]:
//!
//! - `Trusted`: valid, and the signer chains to one of the configured PEM trust anchors;
//! - `Untrusted`: valid, but no anchor is configured for the signer
//!   (`signingCredential.untrusted` is then a note, not a failure);
//! - `Tampered`: a manifest is there but fails a check; [`VerificationReport::failures`]
//!   names each (`assertion.dataHash.mismatch`, `claimSignature.mismatch`,
//!   `signingCredential.expired`, `manifest.unreadable`, `text.wrapper.multiple`, ...);
//! - `None`: no credential.
//!
//! Content that was not examined (over [`Verifier::max_bytes`]) has none of these: it is
//! [`CredentialError::NotExamined`].

use std::{
    fs::File,
    io::{Cursor, Read},
    path::{Path, PathBuf},
};

use c2pa::{Reader, ValidationState};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tracemark_core::{
    KeyId, Payload, Timestamp,
    fact::{
        AigcLabelFields, CredentialFinding, CredentialState, LatentDisclosureFields, SoftBinding,
    },
    rights::{TrainingMining, TrainingMiningEntry},
};
use unicode_normalization::UnicodeNormalization;

use crate::{
    CredentialError, jumbf_guard,
    manifest::{
        self, AIGC_LABEL, DISCLOSURE_LABEL, LOG_LABEL, SOFT_BINDING_LABEL, TRAINING_MINING_LABEL,
    },
    media::{self, MediaFormat},
    signer::pem_certificates,
    wrapper,
};

/// PEM trust anchors (root or intermediate CA certificates a verifier trusts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustAnchors {
    pem: String,
    count: usize,
}

impl TrustAnchors {
    /// Parses a PEM bundle; every certificate in it must be valid X.509.
    pub fn from_pem(pem: &[u8]) -> Result<Self, CredentialError> {
        let certs = pem_certificates(pem)?;
        for (index, der) in certs.iter().enumerate() {
            use x509_parser::prelude::FromDer;
            x509_parser::certificate::X509Certificate::from_der(der).map_err(|e| {
                CredentialError::BadCertificate {
                    index,
                    reason: e.to_string(),
                }
            })?;
        }
        Ok(Self {
            pem: String::from_utf8_lossy(pem).into_owned(),
            count: certs.len(),
        })
    }

    pub fn from_file(path: &Path) -> Result<Self, CredentialError> {
        let pem = std::fs::read(path).map_err(|e| CredentialError::io(path, e))?;
        Self::from_pem(&pem)
    }

    /// The PEM bundle as given.
    pub(crate) fn pem(&self) -> &str {
        &self.pem
    }

    /// How many certificates the bundle holds.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// Where the credential was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Carrier {
    /// Inside the file (media) or the text (A.8 wrapper).
    Embedded,
    /// In a `.c2pa` file beside it.
    Sidecar,
    /// No credential was found.
    None,
}

/// The certificate that signed the claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignerInfo {
    pub common_name: Option<String>,
    pub issuer: Option<String>,
    pub algorithm: Option<String>,
    pub serial_number: Option<String>,
}

impl SignerInfo {
    fn display(&self) -> Option<String> {
        match (&self.common_name, &self.issuer) {
            (Some(cn), Some(issuer)) if cn != issuer => Some(format!("{cn} ({issuer})")),
            (Some(cn), _) => Some(cn.clone()),
            (None, Some(issuer)) => Some(issuer.clone()),
            (None, None) => None,
        }
    }
}

/// One assertion of the active manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssertionReport {
    pub label: String,
    pub content: Value,
}

/// A check that failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// A C2PA validation status code (`assertion.dataHash.mismatch`, ...) or one of ours
    /// (`manifest.unreadable`, `text.wrapper.multiple`, `text.wrapper.malformed`).
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl Failure {
    fn new(code: &str, explanation: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            explanation: Some(explanation.into()),
            url: None,
        }
    }
}

/// An earlier manifest this one builds on (a parent ingredient, for example).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngredientReport {
    pub title: Option<String>,
    pub relationship: String,
    /// The label of the ingredient's own manifest, when it had one.
    pub active_manifest: Option<String>,
}

/// The result of verifying a content credential (`tracemark.credential-report/v1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerificationReport {
    pub format: String,
    pub state: CredentialState,
    pub carrier: Carrier,
    /// The c2pa validation state (`Trusted`, `Valid`, `Invalid`) when the SDK got that far.
    pub validation_state: Option<String>,
    pub manifest_label: Option<String>,
    pub manifest_bytes: Option<usize>,
    pub signer: Option<SignerInfo>,
    /// The time of a trusted RFC 3161 time stamp, when the signature carries one.
    pub signed_at: Option<Timestamp>,
    /// The time the signer claims (the SB 942 disclosure's `time`), not independently attested.
    pub claimed_time: Option<Timestamp>,
    /// The claim generator (model name and version).
    pub generator: Option<String>,
    /// The identity of the model's weights (`sha256:HEX`, its OMS root digest) as the
    /// claim generator names it ([`crate::MODEL_DIGEST_FIELD`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_digest: Option<tracemark_core::ContentHash>,
    pub digital_source_type: Option<String>,
    pub assertions: Vec<AssertionReport>,
    pub soft_binding: Option<SoftBinding>,
    pub training_mining: Option<TrainingMining>,
    pub aigc: Option<Value>,
    pub disclosure: Option<Value>,
    pub log_checkpoint: Option<Value>,
    pub ingredients: Vec<IngredientReport>,
    pub failures: Vec<Failure>,
    /// Status codes that are neither success nor failure (untrusted signer, OCSP skipped).
    pub notes: Vec<String>,
}

impl VerificationReport {
    pub const FORMAT: &'static str = "tracemark.credential-report/v1";

    fn empty(state: CredentialState, carrier: Carrier) -> Self {
        Self {
            format: Self::FORMAT.into(),
            state,
            carrier,
            validation_state: None,
            manifest_label: None,
            manifest_bytes: None,
            signer: None,
            signed_at: None,
            claimed_time: None,
            generator: None,
            model_digest: None,
            digital_source_type: None,
            assertions: Vec::new(),
            soft_binding: None,
            training_mining: None,
            aigc: None,
            disclosure: None,
            log_checkpoint: None,
            ingredients: Vec::new(),
            failures: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// No credential.
    pub fn none() -> Self {
        Self::empty(CredentialState::None, Carrier::None)
    }

    fn tampered(carrier: Carrier, failures: Vec<Failure>) -> Self {
        let mut r = Self::empty(CredentialState::Tampered, carrier);
        r.failures = failures;
        r
    }

    /// The fact the legal engine reads.
    pub fn to_finding(&self) -> CredentialFinding {
        CredentialFinding {
            state: self.state,
            signer: self.signer.as_ref().and_then(SignerInfo::display),
            signed_at: self.signed_at.or(self.claimed_time),
            // `signed_at` is the SDK's time of a trusted time-stamp, when it has one.
            time_stamped_at: self.signed_at,
            manifest_id: self.manifest_label.clone(),
            generator: self.generator.clone(),
            model_digest: self.model_digest,
            digital_source_type: self.digital_source_type.clone(),
            soft_binding: self.soft_binding.clone(),
            training_mining: self.training_mining.clone(),
            aigc_label: self.aigc.is_some(),
            aigc: self.aigc.as_ref().map(|v| Box::new(aigc_fields(v))),
            latent_disclosure: self
                .disclosure
                .as_ref()
                .map(|v| Box::new(latent_disclosure_fields(v))),
            failures: self
                .failures
                .iter()
                .map(|f| match &f.explanation {
                    Some(e) => format!("{}: {e}", f.code),
                    None => f.code.clone(),
                })
                .collect(),
        }
    }

    /// The assertion with `label` (ignoring an instance suffix `__N`).
    pub fn assertion(&self, label: &str) -> Option<&Value> {
        self.assertions
            .iter()
            .find(|a| base_label(&a.label) == label)
            .map(|a| &a.content)
    }
}

impl From<&VerificationReport> for CredentialFinding {
    fn from(r: &VerificationReport) -> Self {
        r.to_finding()
    }
}

fn base_label(label: &str) -> &str {
    label.split("__").next().unwrap_or(label)
}

/// Verifies content credentials against an optional set of trust anchors.
///
/// Content over the size limit ([`DEFAULT_MAX_BYTES`] unless
/// [`Verifier::with_max_bytes`] says otherwise) is not examined: every `verify_*` call
/// gives [`CredentialError::NotExamined`] for it, never a report (whose `none` would
/// claim that no credential is there). A file is never read past the limit.
#[derive(Debug, Clone)]
pub struct Verifier {
    anchors: Option<TrustAnchors>,
    max_bytes: u64,
}

/// The most bytes of one input (the content, or a sidecar's manifest store) a verifier
/// examines by default: 1 GiB.
pub const DEFAULT_MAX_BYTES: u64 = 1 << 30;

impl Default for Verifier {
    fn default() -> Self {
        Self {
            anchors: None,
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

impl Verifier {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_trust_anchors(anchors: TrustAnchors) -> Self {
        Self {
            anchors: Some(anchors),
            ..Self::default()
        }
    }

    /// The same verifier with another size limit: inputs longer than `max_bytes` are
    /// not examined.
    pub fn with_max_bytes(self, max_bytes: u64) -> Self {
        Self { max_bytes, ..self }
    }

    /// The size limit: inputs longer than this are not examined.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    fn context(&self) -> Result<c2pa::Context, CredentialError> {
        let mut settings = manifest::base_settings();
        if let Some(a) = &self.anchors {
            settings["trust"] = json!({ "trust_anchors": a.pem });
        }
        manifest::context_with(settings)
    }

    fn reader(&self) -> Result<Reader, CredentialError> {
        Ok(Reader::from_context(self.context()?))
    }

    /// `NotExamined` for `what` when `len` bytes are over the limit.
    fn check_len(&self, what: impl FnOnce() -> String, len: usize) -> Result<(), CredentialError> {
        let len = len as u64; // usize is at most 64 bits wide
        if len <= self.max_bytes {
            Ok(())
        } else {
            Err(self.too_large(what(), Some(len)))
        }
    }

    fn too_large(&self, what: String, len: Option<u64>) -> CredentialError {
        let size = match len {
            Some(len) => format!("{len} bytes"),
            None => format!("more than {} bytes", self.max_bytes),
        };
        CredentialError::NotExamined {
            what,
            reason: format!(
                "it is {size}, over the verifier's limit of {} bytes",
                self.max_bytes
            ),
        }
    }

    /// Reads a file, never more than the limit + 1 bytes: a regular file over the limit
    /// is refused by its size before any read, and anything else (a device, a pipe, a
    /// file that grows) by the bounded read.
    fn read_bounded(&self, path: &Path) -> Result<Vec<u8>, CredentialError> {
        let file = File::open(path).map_err(|e| CredentialError::io(path, e))?;
        let meta = file.metadata().map_err(|e| CredentialError::io(path, e))?;
        if meta.is_file() && meta.len() > self.max_bytes {
            return Err(self.too_large(path.display().to_string(), Some(meta.len())));
        }
        let expected = if meta.is_file() { meta.len() } else { 0 };
        let mut bytes = Vec::with_capacity(usize::try_from(expected).unwrap_or(0));
        file.take(self.max_bytes.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| CredentialError::io(path, e))?;
        if bytes.len() as u64 > self.max_bytes {
            return Err(self.too_large(path.display().to_string(), None));
        }
        Ok(bytes)
    }

    /// Verifies a sidecar manifest store against the content it binds (raw bytes).
    /// Errs only when either is over the size limit.
    pub fn verify_sidecar(
        &self,
        content: &[u8],
        manifest_store: &[u8],
        format: &str,
    ) -> Result<VerificationReport, CredentialError> {
        self.check_len(|| "the content".into(), content.len())?;
        self.check_len(|| "the manifest store".into(), manifest_store.len())?;
        Ok(self.sidecar_report(content, manifest_store, format))
    }

    fn sidecar_report(
        &self,
        content: &[u8],
        manifest_store: &[u8],
        format: &str,
    ) -> VerificationReport {
        if let Err(e) = jumbf_guard::check_store(manifest_store) {
            return refused(Carrier::Sidecar, e, Some(manifest_store.len()));
        }
        match self.reader() {
            Ok(reader) => {
                let result = reader.with_manifest_data_and_stream(
                    manifest_store,
                    format,
                    Cursor::new(content),
                );
                self.report(result, Carrier::Sidecar, Some(manifest_store.len()))
            }
            Err(e) => internal_failure(Carrier::Sidecar, e),
        }
    }

    /// Verifies text that may carry an embedded (A.8) manifest. Errs only when the text
    /// is over the size limit.
    pub fn verify_text(&self, text: &str) -> Result<VerificationReport, CredentialError> {
        self.check_len(|| "the text".into(), text.len())?;
        Ok(self.text_report(text))
    }

    fn text_report(&self, text: &str) -> VerificationReport {
        let found = wrapper::scan(text);
        let mut failures: Vec<Failure> = found
            .broken
            .iter()
            .map(|b| {
                Failure::new(
                    "text.wrapper.malformed",
                    format!("at bytes {}..{}: {}", b.range.start, b.range.end, b.reason),
                )
            })
            .collect();
        if found.wrappers.len() > 1 {
            failures.push(Failure::new(
                "text.wrapper.multiple",
                format!(
                    "{} manifest wrappers in one text; A.8 allows one",
                    found.wrappers.len()
                ),
            ));
        }
        let Some(only) = found.wrappers.first() else {
            if failures.is_empty() {
                return VerificationReport::none();
            }
            return VerificationReport::tampered(Carrier::Embedded, failures);
        };
        // The binding is over the NFC text without the wrapper; the wrapper stays where
        // the signer's exclusion put it, at the end of the visible text.
        let mut ranges: Vec<_> = found
            .wrappers
            .iter()
            .map(|w| w.range.clone())
            .chain(found.broken.iter().map(|b| b.range.clone()))
            .collect();
        ranges.sort_by_key(|r| r.start);
        let visible: String = wrapper::remove_ranges(text, &ranges).nfc().collect();
        let mut stream = visible.into_bytes();
        stream.extend_from_slice(text[only.range.clone()].as_bytes());
        let reader = jumbf_guard::check_store(&only.manifest)
            .map_err(|e| refused(Carrier::Embedded, e, Some(only.manifest.len())))
            .map(|()| self.reader());
        let mut report = match reader {
            Err(refusal) => refusal,
            Ok(Ok(reader)) => {
                let result = reader.with_manifest_data_and_stream(
                    &only.manifest,
                    "text/plain",
                    Cursor::new(stream),
                );
                self.report(result, Carrier::Embedded, Some(only.manifest.len()))
            }
            Ok(Err(e)) => internal_failure(Carrier::Embedded, e),
        };
        if !failures.is_empty() {
            report.state = CredentialState::Tampered;
            report.failures.extend(failures);
        }
        report
    }

    /// Verifies bytes that should be UTF-8 text; bytes that are not cannot carry an
    /// A.8 manifest. Errs only when they are over the size limit.
    pub fn verify_text_bytes(&self, bytes: &[u8]) -> Result<VerificationReport, CredentialError> {
        self.check_len(|| "the text".into(), bytes.len())?;
        Ok(self.text_bytes_report(bytes))
    }

    fn text_bytes_report(&self, bytes: &[u8]) -> VerificationReport {
        let error = match std::str::from_utf8(bytes) {
            Ok(text) => return self.text_report(text),
            Err(e) => e,
        };
        // Bytes that are not UTF-8 are binary content, which cannot carry an A.8
        // manifest, unless a wrapper starts in them: then it is text that was cut inside
        // a character or altered, which is tampered, never "none".
        let start = format!(
            "{}{}",
            wrapper::MARKER,
            wrapper::selector(wrapper::MAGIC[0])
        );
        if !bytes.windows(start.len()).any(|w| w == start.as_bytes()) {
            return VerificationReport::none();
        }
        let mut report = self.text_report(&String::from_utf8_lossy(bytes));
        if report.state == CredentialState::None {
            return report;
        }
        report.state = CredentialState::Tampered;
        let how = if error.error_len().is_none() {
            "the text ends inside a character: it was cut"
        } else {
            "the text was altered"
        };
        report.failures.push(Failure::new(
            "text.encoding.invalid",
            format!("byte {} is not UTF-8; {how}", error.valid_up_to()),
        ));
        report
    }

    /// Verifies a media file (JPEG, PNG, WebP, MP4, WAV; PDF read-only) in memory. Errs
    /// only when it is over the size limit.
    pub fn verify_media(
        &self,
        format: MediaFormat,
        bytes: &[u8],
    ) -> Result<VerificationReport, CredentialError> {
        self.check_len(|| format!("the {} content", format.mime()), bytes.len())?;
        Ok(self.media_report(format, bytes))
    }

    fn media_report(&self, format: MediaFormat, bytes: &[u8]) -> VerificationReport {
        if let Err(e) = jumbf_guard::check_media(format.mime(), bytes) {
            return refused(Carrier::Embedded, e, None);
        }
        match self.reader() {
            Ok(reader) => {
                let result = reader.with_stream(format.mime(), Cursor::new(bytes));
                self.report(result, Carrier::Embedded, None)
            }
            Err(e) => internal_failure(Carrier::Embedded, e),
        }
    }

    /// Verifies content given as bytes: against `sidecar` (a `.c2pa` manifest store)
    /// when one is given; otherwise as media by its bytes or, failing that, the extension
    /// of `name`; otherwise as text. Errs only when the content or the sidecar is over
    /// the size limit ([`CredentialError::NotExamined`]).
    pub fn verify_content(
        &self,
        content: &[u8],
        name: Option<&str>,
        sidecar: Option<&[u8]>,
    ) -> Result<VerificationReport, CredentialError> {
        self.check_len(|| "the content".into(), content.len())?;
        let format = media::MediaFormat::detect(Path::new(name.unwrap_or_default()), content);
        if let Some(store) = sidecar {
            self.check_len(|| "the manifest store".into(), store.len())?;
            let mime = format.map_or("text/plain", media::MediaFormat::mime);
            return Ok(self.sidecar_report(content, store, mime));
        }
        Ok(match format {
            Some(format) => self.media_report(format, content),
            None => self.text_bytes_report(content),
        })
    }

    /// Verifies a file: with its sidecar (`FILE.c2pa`, or `FILE` with its extension
    /// replaced by `.c2pa`) when there is one; otherwise as [`Self::verify_content`].
    /// Errs when the file (or its sidecar) cannot be read, or is over the size limit
    /// ([`CredentialError::NotExamined`]: neither is read past the limit).
    pub fn verify_file(&self, path: &Path) -> Result<VerificationReport, CredentialError> {
        let content = self.read_bounded(path)?;
        let sidecar = sidecar_for(path)
            .map(|s| self.read_bounded(&s))
            .transpose()?;
        let name = path.file_name().and_then(|n| n.to_str());
        self.verify_content(&content, name, sidecar.as_deref())
    }

    fn report(
        &self,
        result: c2pa::Result<Reader>,
        carrier: Carrier,
        manifest_bytes: Option<usize>,
    ) -> VerificationReport {
        let reader = match result {
            Ok(r) => r,
            // A sidecar or an A.8 wrapper is a credential that is there: if it holds no
            // manifest, it is broken, not absent.
            Err(c2pa::Error::JumbfNotFound | c2pa::Error::ProvenanceMissing)
                if carrier == Carrier::Embedded && manifest_bytes.is_none() =>
            {
                return VerificationReport::none();
            }
            Err(c2pa::Error::UnsupportedType) => {
                let mut r = VerificationReport::none();
                r.notes
                    .push("asset.unsupported: the SDK cannot read this format".into());
                return r;
            }
            Err(e) => {
                return VerificationReport::tampered(
                    carrier,
                    vec![Failure::new(
                        "manifest.unreadable",
                        format!("the manifest store cannot be read: {e}"),
                    )],
                );
            }
        };
        let mut report = VerificationReport::empty(CredentialState::Tampered, carrier);
        report.manifest_bytes = manifest_bytes;
        let state = reader.validation_state();
        report.validation_state = Some(format!("{state:?}"));
        if let Some(results) = reader.validation_results() {
            let mut failures = Vec::new();
            let mut notes = Vec::new();
            let mut collect = |codes: &c2pa::validation_results::StatusCodes| {
                for s in codes.failure() {
                    if s.code() == "signingCredential.untrusted" {
                        notes.push(s.code().to_owned());
                        continue;
                    }
                    failures.push(Failure {
                        code: s.code().to_owned(),
                        explanation: s.explanation().map(str::to_owned),
                        url: s.url().map(str::to_owned),
                    });
                }
                for s in codes.informational() {
                    notes.push(s.code().to_owned());
                }
            };
            if let Some(active) = results.active_manifest() {
                collect(active);
            }
            if let Some(deltas) = results.ingredient_deltas() {
                for d in deltas {
                    collect(d.validation_deltas());
                }
            }
            notes.sort();
            notes.dedup();
            report.failures = failures;
            report.notes = notes;
        }
        report.state = match state {
            ValidationState::Trusted if report.failures.is_empty() => CredentialState::Trusted,
            ValidationState::Valid | ValidationState::Trusted if report.failures.is_empty() => {
                CredentialState::Untrusted
            }
            _ => CredentialState::Tampered,
        };
        if report.state == CredentialState::Tampered && report.failures.is_empty() {
            report.failures.push(Failure::new(
                "manifest.invalid",
                "the SDK found the manifest invalid without naming a check",
            ));
        }
        let Some(active) = reader.active_manifest() else {
            if report.failures.is_empty() {
                return VerificationReport::none();
            }
            return report;
        };
        report.manifest_label = reader.active_label().map(str::to_owned);
        if let Some(sig) = active.signature_info() {
            report.signer = Some(SignerInfo {
                common_name: sig.common_name.clone(),
                issuer: sig.issuer.clone(),
                algorithm: sig.alg.map(|a| a.to_string()),
                serial_number: sig.cert_serial_number.clone(),
            });
            report.signed_at = sig.time.as_deref().and_then(|t| t.parse().ok());
        }
        report.ingredients = active
            .ingredients()
            .iter()
            .map(|i| IngredientReport {
                title: i.title().map(str::to_owned),
                relationship: format!("{:?}", i.relationship()),
                active_manifest: i.active_manifest().map(str::to_owned),
            })
            .collect();
        report.assertions = all_assertions(&reader, active);
        fill_from_assertions(&mut report);
        if report.generator.is_none() {
            report.generator = active.claim_generator().map(str::to_owned);
        }
        report
    }
}

/// Every assertion of the active manifest: the SDK's detailed view has them all,
/// including the hard binding; the plain manifest view is the fallback.
fn all_assertions(reader: &Reader, active: &c2pa::Manifest) -> Vec<AssertionReport> {
    if let (Some(label), Ok(detailed)) = (
        reader.active_label(),
        serde_json::from_str::<Value>(&reader.detailed_json()),
    ) && let Some(store) = detailed["manifests"][label]["assertion_store"].as_object()
    {
        let mut out: Vec<AssertionReport> = store
            .iter()
            .map(|(label, content)| AssertionReport {
                label: label.clone(),
                content: content.clone(),
            })
            .collect();
        if let Some(info) = detailed["manifests"][label]["claim"].get("claim_generator_info") {
            out.push(AssertionReport {
                label: "claim_generator_info".into(),
                content: info.clone(),
            });
        }
        return out;
    }
    active
        .assertions()
        .iter()
        .map(|a| AssertionReport {
            label: a.label_with_instance(),
            content: a.value().cloned().unwrap_or(Value::Null),
        })
        .collect()
}

fn fill_from_assertions(report: &mut VerificationReport) {
    if let Some(info) = report.assertion("claim_generator_info") {
        let info = if info.is_array() { &info[0] } else { info };
        // A digest that is not one is ignored: the claim names no model identity.
        let digest = info[crate::MODEL_DIGEST_FIELD]
            .as_str()
            .and_then(|d| d.strip_prefix("sha256:"))
            .and_then(|d| d.parse().ok());
        if let Some(name) = info["name"].as_str() {
            report.generator = Some(match info["version"].as_str() {
                Some(v) => format!("{name} {v}"),
                None => name.to_owned(),
            });
        }
        report.model_digest = digest;
    }
    for label in ["c2pa.actions.v2", "c2pa.actions"] {
        if let Some(actions) = report
            .assertion(label)
            .and_then(|a| a["actions"].as_array())
        {
            let created = actions.iter().find(|a| {
                matches!(a["action"].as_str(), Some("c2pa.created" | "c2pa.edited"))
                    && a.get("digitalSourceType").is_some()
            });
            if let Some(dst) = created.and_then(|a| a["digitalSourceType"].as_str()) {
                report.digital_source_type = Some(dst.to_owned());
                break;
            }
        }
    }
    report.soft_binding = report.assertion(SOFT_BINDING_LABEL).and_then(soft_binding);
    report.training_mining = report
        .assertion(TRAINING_MINING_LABEL)
        .map(|v| training_mining(TRAINING_MINING_LABEL, v))
        .or_else(|| {
            report
                .assertion("c2pa.training-mining")
                .map(|v| training_mining("c2pa.training-mining", v))
        });
    report.aigc = report
        .assertion(AIGC_LABEL)
        .map(|v| v.get("AIGC").unwrap_or(v).clone());
    report.disclosure = report.assertion(DISCLOSURE_LABEL).cloned();
    report.claimed_time = report
        .disclosure
        .as_ref()
        .and_then(|d| d["time"].as_str())
        .and_then(|t| t.parse().ok());
    report.log_checkpoint = report.assertion(LOG_LABEL).cloned();
}

/// The AIGC label's fields as found (missing or non-string fields are empty, so that the
/// legal engine can name what is missing). A label stored as a JSON string is parsed.
fn aigc_fields(v: &Value) -> AigcLabelFields {
    let parsed;
    let v = match v.as_str().map(serde_json::from_str::<Value>) {
        Some(Ok(inner)) => {
            parsed = inner;
            parsed.get("AIGC").unwrap_or(&parsed)
        }
        _ => v,
    };
    let field = |name: &str| v[name].as_str().unwrap_or_default().to_owned();
    AigcLabelFields {
        label: field("Label"),
        content_producer: field("ContentProducer"),
        produce_id: field("ProduceID"),
        content_propagator: field("ContentPropagator"),
        propagate_id: field("PropagateID"),
    }
}

/// SB 942's latent disclosure as the assertion states it.
fn latent_disclosure_fields(v: &Value) -> LatentDisclosureFields {
    let text = |name: &str| v[name].as_str().map(str::to_owned);
    LatentDisclosureFields {
        provider: text("provider"),
        system_name: text("system_name"),
        system_version: text("system_version"),
        time: v["time"].as_str().and_then(|t| t.parse().ok()),
        unique_id: text("unique_id"),
    }
}

fn soft_binding(v: &Value) -> Option<SoftBinding> {
    let scheme = v["alg"].as_str()?.to_owned();
    let params: Value = v["alg_params"]
        .as_str()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or(Value::Null);
    let key_id = params["key_id"]
        .as_str()
        .and_then(|k| k.parse::<KeyId>().ok());
    let bits = params["payload_bits"]
        .as_u64()
        .and_then(|b| u8::try_from(b).ok());
    let value = v["blocks"][0]["value"].as_str().unwrap_or("");
    let payload = match (bits, value.is_empty()) {
        (Some(bits), false) => Payload::from_hex(value, bits).ok(),
        _ => None,
    };
    Some(SoftBinding {
        scheme,
        key_id,
        payload,
    })
}

/// Reads the CAWG (or C2PA 1.x) training-mining assertion; entries that do not parse
/// are skipped rather than failing the whole assertion.
fn training_mining(label: &str, v: &Value) -> TrainingMining {
    let entries = v["entries"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, e)| {
                    serde_json::from_value::<TrainingMiningEntry>(e.clone())
                        .ok()
                        .map(|e| (k.clone(), e))
                })
                .collect()
        })
        .unwrap_or_default();
    TrainingMining {
        label: label.to_owned(),
        entries,
    }
}

/// A manifest store the guard refused before c2pa read it: a credential that does not
/// verify, never "none".
fn refused(
    carrier: Carrier,
    e: jumbf_guard::Malformed,
    manifest_bytes: Option<usize>,
) -> VerificationReport {
    let mut r = VerificationReport::tampered(
        carrier,
        vec![Failure::new(
            "manifest.unreadable",
            format!("the manifest store was not read: {e}"),
        )],
    );
    r.manifest_bytes = manifest_bytes;
    r
}

fn internal_failure(carrier: Carrier, e: CredentialError) -> VerificationReport {
    VerificationReport::tampered(carrier, vec![Failure::new("verifier.setup", e.to_string())])
}

/// The sidecar of `path`, if one exists: `FILE.EXT.c2pa` or `FILE.c2pa`.
pub fn sidecar_for(path: &Path) -> Option<PathBuf> {
    if path.extension().is_some_and(|e| e == "c2pa") {
        return None;
    }
    let mut appended = path.as_os_str().to_owned();
    appended.push(".c2pa");
    let appended = PathBuf::from(appended);
    if appended.is_file() {
        return Some(appended);
    }
    let replaced = path.with_extension("c2pa");
    replaced.is_file().then_some(replaced)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        SignOptions, SigningAlgorithm, SigningKey, identity::development_pems, sign_sidecar,
    };

    fn spec() -> crate::CredentialSpec {
        crate::CredentialSpec::new(
            crate::Generator {
                name: "m".into(),
                version: "1".into(),
                digest: None,
            },
            "P",
            "g",
        )
    }

    #[test]
    fn an_expired_signing_certificate_is_named() {
        let (key, chain, root) =
            development_pems(SigningAlgorithm::Ed25519, time::Duration::seconds(2));
        let signing = SigningKey::from_pem(chain.as_bytes(), key.as_bytes()).unwrap();
        let store = sign_sidecar(b"text", &signing, &spec(), &SignOptions::default()).unwrap();
        let anchors = TrustAnchors::from_pem(root.as_bytes()).unwrap();
        let verifier = Verifier::with_trust_anchors(anchors);
        assert_eq!(
            verifier
                .verify_sidecar(b"text", &store, "text/plain")
                .unwrap()
                .state,
            CredentialState::Trusted
        );
        std::thread::sleep(std::time::Duration::from_millis(3200));
        let r = verifier
            .verify_sidecar(b"text", &store, "text/plain")
            .unwrap();
        assert_eq!(r.state, CredentialState::Tampered, "{r:#?}");
        assert!(
            r.failures.iter().any(|f| f.code.contains("expired")),
            "{:#?}",
            r.failures
        );
    }

    #[test]
    fn a_signature_by_another_key_is_named() {
        let (key_a, chain_a, _) =
            development_pems(SigningAlgorithm::Ed25519, time::Duration::days(1));
        let (key_b, chain_b, _) =
            development_pems(SigningAlgorithm::Ed25519, time::Duration::days(1));
        let a = SigningKey::from_pem(chain_a.as_bytes(), key_a.as_bytes()).unwrap();
        let mut b = SigningKey::from_pem(chain_b.as_bytes(), key_b.as_bytes()).unwrap();
        // Key B's signer presenting A's certificates: what a mismatched key and
        // certificate produce, bypassing the check that refuses them at load time.
        b.chain_der = a.chain_der.clone();
        let store = sign_sidecar(b"text", &b, &spec(), &SignOptions::default()).unwrap();
        let r = Verifier::new()
            .verify_sidecar(b"text", &store, "text/plain")
            .unwrap();
        assert_eq!(r.state, CredentialState::Tampered, "{r:#?}");
        assert!(
            r.failures
                .iter()
                .any(|f| f.code.starts_with("claimSignature")),
            "{:#?}",
            r.failures
        );
    }

    /// A signed model's identity travels in the generator info (the claim's and each
    /// action's software agent) and is read back into the report and the fact; a
    /// credential without it names none.
    #[test]
    fn the_model_digest_is_carried_in_the_generator_info() {
        let (key, chain, root) =
            development_pems(SigningAlgorithm::Ed25519, time::Duration::days(1));
        let signing = SigningKey::from_pem(chain.as_bytes(), key.as_bytes()).unwrap();
        let digest = tracemark_core::ContentHash::of_bytes(b"weights");
        let mut with = spec();
        with.generator.digest = Some(digest);
        let verifier =
            Verifier::with_trust_anchors(TrustAnchors::from_pem(root.as_bytes()).unwrap());
        let store = sign_sidecar(b"text", &signing, &with, &SignOptions::default()).unwrap();
        let r = verifier
            .verify_sidecar(b"text", &store, "text/plain")
            .unwrap();
        assert_eq!(r.state, CredentialState::Trusted, "{r:#?}");
        assert_eq!(r.model_digest, Some(digest));
        assert_eq!(r.to_finding().model_digest, Some(digest));
        let actions = r.assertion("c2pa.actions.v2").unwrap();
        assert_eq!(
            actions["actions"][0]["softwareAgent"][crate::MODEL_DIGEST_FIELD],
            digest.to_string()
        );
        let store = sign_sidecar(b"text", &signing, &spec(), &SignOptions::default()).unwrap();
        let r = verifier
            .verify_sidecar(b"text", &store, "text/plain")
            .unwrap();
        assert_eq!(r.model_digest, None);
    }

    #[test]
    fn trust_anchors_must_be_certificates() {
        assert!(TrustAnchors::from_pem(b"").is_err());
        assert!(
            TrustAnchors::from_pem(
                b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
            )
            .is_err()
        );
    }
}
