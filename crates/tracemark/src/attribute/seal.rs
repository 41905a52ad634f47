//! Seals and signatures: the evidence report sealed (its canonical hash, the service
//! key's signature, the log's receipt) and the service's signed results.

use std::path::Path;

use serde::Serialize;
use tracemark_core::ContentHash;
use tracemark_ledger::{ReportRecord, ServiceKey, note::NoteSigner};
use tracemark_policy::{EvidenceReport, REPORT_FORMAT, SealSignature};

use crate::{Error, Result, log::AnyLedger};

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

/// Appends the sealed report's hash to the log, and puts the log's receipt and verifier
/// key into its seal (outside the hash, which the receipt proves).
pub fn record_report(report: &mut EvidenceReport, ledger: &mut AnyLedger) -> Result<()> {
    let Some(seal) = report.seal.as_mut() else {
        return Err(Error::input("only a sealed report can be logged", None));
    };
    let entry = ReportRecord::new(
        seal.report_hash.clone(),
        report.subject.hash,
        report.generated_at,
    )
    .entry()
    .map_err(|e| Error::input(format!("the report record: {e}"), None))?;
    let appended = ledger.append_entries(&[entry])?;
    let receipt = ledger.prove(appended[0].index)?;
    seal.receipt = Some(receipt.to_text());
    seal.log_key = Some(ledger.policy().log.to_string());
    Ok(())
}
