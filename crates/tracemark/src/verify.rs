//! The verifiers of Tracemark's own evidence, offline: sealed evidence reports, signed
//! service results and log receipts, each concluded under the [`trust`](crate::trust)
//! rule (`trusted`, `untrusted`, `tampered`, with every check listed).

use serde::Serialize;
use serde_json::Value;
use tracemark_core::ContentHash;
use tracemark_ledger::{
    CheckpointError, NoteError, NoteVerifier, Receipt, ReceiptError, ReportRecord, TrustPolicy,
    VerifiedReceipt, merkle,
};
use tracemark_policy::{ReportError, ReportSeal, SealSignature};

use crate::{
    Error, Result,
    attribute::{SIGNED_RESULT_V1, SignedResult, seal_note},
    policy::REPORT_FORMAT,
    trust::{Check, Conclusion, Trust, TrustedKeys},
};

/// What `tracemark report verify` concludes of a report.
#[derive(Debug, Clone, Serialize)]
pub struct ReportCheck {
    #[serde(flatten)]
    pub conclusion: Conclusion,
    /// The hash the seal states.
    pub report_hash: String,
    /// The verifier key the signature names, when it names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_by: Option<String>,
    /// Where the log receipt places the report, when it proves it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logged: Option<Logged>,
}

/// A log entry a receipt proves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Logged {
    pub origin: String,
    pub index: u64,
    pub tree_size: u64,
    /// The witnesses whose cosignatures verified.
    pub cosigned_by: Vec<String>,
}

impl Logged {
    fn of(v: &VerifiedReceipt) -> Self {
        Self {
            origin: v.checkpoint.checkpoint.origin.clone(),
            index: v.index,
            tree_size: v.checkpoint.checkpoint.size,
            cosigned_by: v
                .checkpoint
                .cosignatures
                .iter()
                .map(|s| s.name.clone())
                .collect(),
        }
    }
}

/// Checks a sealed report: its hash against its content, its signature, and its log
/// receipt (that it proves an entry recording this report), trusting only `trusted`.
pub fn verify_report(json: &str, trusted: &TrustedKeys) -> Result<ReportCheck> {
    let seal = read_seal(json)?;
    let mut checks = vec![match tracemark_policy::verify_report_hash(json) {
        Ok(_) => Check::new(
            "hash",
            Trust::Trusted,
            "the report's canonical JSON matches its seal",
        ),
        Err(ReportError::HashMismatch { actual, .. }) => Check::new(
            "hash",
            Trust::Tampered,
            format!("the report's content hashes to {actual}, not to the hash sealed"),
        ),
        Err(e) => return Err(Error::input(format!("not a verifiable report: {e}"), None)),
    }];
    let note = seal_note(stated_format(json), &seal.report_hash);
    checks.push(signature_check(&note, seal.signature.as_ref(), trusted));
    let mut logged = None;
    if let Some(text) = &seal.receipt {
        let (check, verified) = report_receipt_check(text, &seal, trusted);
        logged = verified.as_ref().map(Logged::of);
        checks.push(check);
    }
    Ok(ReportCheck {
        conclusion: Conclusion::from_checks(checks),
        report_hash: seal.report_hash,
        signed_by: signer(seal.signature.as_ref()),
        logged,
    })
}

/// The `format` a report states (its seal's signature covers it with the hash), so that
/// reports of an earlier version still verify.
fn stated_format(json: &str) -> &'static str {
    let stated = serde_json::from_str::<Value>(json)
        .ok()
        .and_then(|v| v.get("format")?.as_str().map(str::to_owned));
    tracemark_policy::READABLE_REPORT_FORMATS
        .into_iter()
        .find(|f| stated.as_deref() == Some(*f))
        .unwrap_or(REPORT_FORMAT)
}

/// The seal as written, whether or not the hash matches.
fn read_seal(json: &str) -> Result<ReportSeal> {
    let value: Value = serde_json::from_str(json)
        .map_err(|e| Error::input(format!("the report is not JSON: {e}"), None))?;
    let seal = value.get("seal").cloned().ok_or_else(|| {
        Error::input(
            "the report is not sealed: nothing ties it to its content",
            None,
        )
    })?;
    serde_json::from_value(seal)
        .map_err(|e| Error::input(format!("the report's seal is malformed: {e}"), None))
}

/// What `verify_result` concludes of a signed service result.
#[derive(Debug, Clone, Serialize)]
pub struct ResultCheck {
    #[serde(flatten)]
    pub conclusion: Conclusion,
    pub result_hash: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_by: Option<String>,
}

/// Checks a signed result (`/v1/detect`, `/v1/verify`, `/v1/trace`): the hash of its
/// result and the signature over it, trusting only `trusted`.
pub fn verify_result(json: &str, trusted: &TrustedKeys) -> Result<ResultCheck> {
    let signed: SignedResult<Value> = serde_json::from_str(json)
        .map_err(|e| Error::input(format!("not a signed result: {e}"), None))?;
    if signed.format != SIGNED_RESULT_V1 {
        return Err(Error::input(
            format!(
                "`{}` is not a signed-result format this version reads ({SIGNED_RESULT_V1})",
                signed.format
            ),
            None,
        ));
    }
    let bytes = tracemark_core::jcs::to_canonical_bytes(&signed.result)
        .map_err(|e| Error::input(format!("the result has no canonical form: {e}"), None))?;
    let actual = ContentHash::of_bytes(&bytes).to_string();
    let hash = if actual == signed.result_hash {
        Check::new(
            "hash",
            Trust::Trusted,
            "the result's canonical JSON matches its hash",
        )
    } else {
        Check::new(
            "hash",
            Trust::Tampered,
            format!("the result hashes to {actual}, not to the hash signed"),
        )
    };
    let note = seal_note(&signed.format, &signed.result_hash);
    let signature = signature_check(&note, signed.signature.as_ref(), trusted);
    Ok(ResultCheck {
        conclusion: Conclusion::from_checks(vec![hash, signature]),
        result_hash: signed.result_hash,
        signed_by: signer(signed.signature.as_ref()),
    })
}

fn signer(sig: Option<&SealSignature>) -> Option<String> {
    sig.map(|s| {
        s.public_key
            .as_deref()
            .map_or_else(|| s.key_id.clone(), |k| k.trim().to_owned())
    })
}

/// A seal signature over `note`: `tampered` when it does not verify under the key it
/// names, `untrusted` when that key is not a trusted service key (or it names none that
/// a trusted key verifies), `trusted` otherwise.
fn signature_check(note: &str, sig: Option<&SealSignature>, trusted: &TrustedKeys) -> Check {
    let check = |outcome, detail: String| Check::new("signature", outcome, detail);
    let Some(sig) = sig else {
        return check(Trust::Untrusted, "the evidence is not signed".into());
    };
    let Some(named) = sig.public_key.as_deref() else {
        return check(
            Trust::Untrusted,
            format!(
                "signed by `{}`, with no public key to check it against",
                sig.key_id
            ),
        );
    };
    let key = match NoteVerifier::parse(named.trim()) {
        Ok(k) => k,
        Err(e) => return check(Trust::Tampered, format!("the key it names: {e}")),
    };
    if !key.verify(note, &sig.value) {
        return check(
            Trust::Tampered,
            format!("does not verify under the key it names ({key})"),
        );
    }
    if trusted.trusts_service(&key) {
        check(Trust::Trusted, format!("signed by {key}, a trusted key"))
    } else {
        check(
            Trust::Untrusted,
            format!(
                "signed by {key}, which is not a service key you trust (pass --key, \
                 --trust, or list it in [keys] trusted_services)"
            ),
        )
    }
}

/// A report's receipt: it must prove an entry recording this report, under a trusted
/// log key.
fn report_receipt_check(
    text: &str,
    seal: &ReportSeal,
    trusted: &TrustedKeys,
) -> (Check, Option<VerifiedReceipt>) {
    let receipt = match Receipt::parse(text.as_bytes()) {
        Ok(r) => r,
        Err(e) => return (Check::new("receipt", Trust::Tampered, e.to_string()), None),
    };
    let recorded = receipt
        .extra
        .as_deref()
        .and_then(|entry| ReportRecord::from_json(entry).ok())
        .is_some_and(|r| r.report_hash == seal.report_hash);
    if !recorded {
        let detail = "the logged entry is not a record of this report";
        return (Check::new("receipt", Trust::Tampered, detail), None);
    }
    let policies: Vec<TrustPolicy> = trusted.log_policies().collect();
    let named = seal
        .log_key
        .as_deref()
        .and_then(|k| TrustPolicy::from_log_vkey(k.trim()).ok());
    receipt_check(&receipt, &policies, named.as_ref(), None)
}

/// A receipt under the trust rule: `trusted` when it verifies under one of `trusted`
/// (each with its witness requirement), `untrusted` when it is intact but no trusted log
/// signed it (or too few witnesses cosigned), `tampered` when a signature by a known key,
/// the inclusion proof, or the record fails. `named` is a log key the evidence itself
/// names: never trusted, it only tells an altered receipt from a foreign one.
pub fn receipt_check(
    receipt: &Receipt,
    trusted: &[TrustPolicy],
    named: Option<&TrustPolicy>,
    record: Option<&[u8]>,
) -> (Check, Option<VerifiedReceipt>) {
    let check = |outcome, detail: String| Check::new("receipt", outcome, detail);
    let mut shortfall = None;
    for policy in trusted {
        match receipt.verify(policy, record) {
            Ok(v) => {
                let at = format!(
                    "entry {} of {} ({} entries), signed by the trusted log key {}",
                    v.index,
                    v.checkpoint.checkpoint.origin,
                    v.checkpoint.checkpoint.size,
                    policy.log
                );
                return (check(Trust::Trusted, at), Some(v));
            }
            Err(e) if is_foreign(&e) => {}
            Err(e @ ReceiptError::Checkpoint(CheckpointError::NotEnoughCosignatures { .. })) => {
                shortfall = Some(e.to_string());
            }
            Err(e) => return (check(Trust::Tampered, e.to_string()), None),
        }
    }
    // No trusted log vouches for it: is it at least intact?
    if let Some(policy) = named
        && let Err(e) = receipt.verify(policy, record)
        && !is_foreign(&e)
        && !matches!(
            e,
            ReceiptError::Checkpoint(CheckpointError::NotEnoughCosignatures { .. })
        )
    {
        return (check(Trust::Tampered, e.to_string()), None);
    }
    if let Err(e) = intact(receipt, record) {
        return (check(Trust::Tampered, e.to_string()), None);
    }
    let head = receipt.checkpoint.checkpoint_unverified();
    let detail = shortfall.unwrap_or_else(|| {
        let signers: Vec<&str> = receipt
            .checkpoint
            .note()
            .signatures()
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        format!(
            "an intact proof of entry {} in log `{}`, signed by {}: not a log key you trust \
             (pass --log-key, --trust, or list it in [keys] trusted_logs)",
            receipt.index,
            head.origin,
            if signers.is_empty() {
                "nobody".to_owned()
            } else {
                signers.join(", ")
            }
        )
    });
    (check(Trust::Untrusted, detail), None)
}

/// Whether a receipt failed only because it is not signed by the policy's log: another
/// log's receipt, which says nothing about its integrity.
fn is_foreign(e: &ReceiptError) -> bool {
    matches!(
        e,
        ReceiptError::Checkpoint(
            CheckpointError::WrongOrigin { .. }
                | CheckpointError::Note(NoteError::NoTrustedSignature { .. })
        )
    )
}

/// The receipt's own integrity, with no key: its entry (or `record`) is included at its
/// index in the tree whose root its checkpoint states.
fn intact(receipt: &Receipt, record: Option<&[u8]>) -> std::result::Result<(), ReceiptError> {
    let entry = match (&receipt.extra, record) {
        (Some(extra), Some(record)) if extra.as_slice() != record => {
            return Err(ReceiptError::RecordMismatch);
        }
        (Some(extra), _) => extra.as_slice(),
        (None, Some(record)) => record,
        (None, None) => return Err(ReceiptError::NoEntry),
    };
    let head = receipt.checkpoint.checkpoint_unverified();
    merkle::verify_inclusion(
        &merkle::leaf_hash(entry),
        receipt.index,
        head.size,
        &receipt.proof,
        &head.root,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        Config,
        attribute::{self, Request, record_report, seal_with, sign_result},
        log::{LogSite, init},
        policy::{EvidenceReport, Jurisdiction},
        trust::Role,
    };
    use tracemark_ledger::NoteSigner;

    /// A party with a service key and a log of its own: the provider, or a forger.
    struct Party {
        service: NoteSigner,
        log_vkey: String,
        log: crate::log::AnyLedger,
        _dir: tempfile::TempDir,
    }

    fn party(name: &str) -> Party {
        let dir = tempfile::tempdir().unwrap();
        let log = init(&dir.path().join("log"), &format!("{name}/log"), None).unwrap();
        Party {
            service: NoteSigner::generate(&format!("{name}/service"), &mut rand_core::OsRng)
                .unwrap(),
            log_vkey: log.vkey.clone(),
            log: LogSite::in_dir(&log.dir).unwrap().open().unwrap(),
            _dir: dir,
        }
    }

    fn report(text: &[u8]) -> EvidenceReport {
        let mut config = Config::default();
        config.index.paths = vec!["/no/such/index".into()];
        let request = Request {
            content: attribute::Content::new(text, Some("input")),
            as_of: "2026-12-15".parse().unwrap(),
            jurisdictions: vec![Jurisdiction::Eu],
            ai_generated: None,
            command: "tracemark attribute input".into(),
        };
        attribute::Attributor::load(&config, attribute::Disclosure::Full).attribute(&request)
    }

    /// `party` seals, signs and logs a report.
    fn issued(party: &mut Party, text: &[u8]) -> EvidenceReport {
        let mut r = report(text);
        seal_with(&mut r, Some(&party.service));
        record_report(&mut r, &mut party.log).unwrap();
        r
    }

    fn trusting(party: &Party) -> TrustedKeys {
        let mut keys = TrustedKeys::default();
        let service = party.service.verifier().to_string();
        keys.add_text(Role::Service, &service, "service").unwrap();
        keys.add_text(Role::Log, &party.log_vkey, "log").unwrap();
        keys
    }

    fn trust_of(json: &str, keys: &TrustedKeys) -> (Trust, String) {
        let c = verify_report(json, keys).unwrap().conclusion;
        (c.trust, c.reason)
    }

    #[test]
    fn a_report_is_trusted_only_under_keys_the_reader_trusts() {
        let mut provider = party("provider.example");
        let json = issued(&mut provider, b"Once upon a time.").to_json_pretty();
        let check = verify_report(&json, &trusting(&provider)).unwrap();
        assert_eq!(check.conclusion.trust, Trust::Trusted, "{check:?}");
        assert_eq!(check.logged.as_ref().unwrap().index, 0);

        // Nobody trusted: intact, and untrusted, never verified.
        let (trust, reason) = trust_of(&json, &TrustedKeys::default());
        assert_eq!(trust, Trust::Untrusted);
        assert!(reason.starts_with("signature: signed by"), "{reason}");

        // The service trusted, its log not: the chain of custody is not vouched for.
        let mut service_only = TrustedKeys::default();
        let vkey = provider.service.verifier().to_string();
        service_only.add_text(Role::Service, &vkey, "s").unwrap();
        let (trust, reason) = trust_of(&json, &service_only);
        assert_eq!(trust, Trust::Untrusted);
        assert!(reason.starts_with("receipt:"), "{reason}");
    }

    /// A forger alters a report, re-seals it, signs it with their own service key and
    /// logs it in their own log: every check holds under the keys it names, and it is
    /// untrusted.
    #[test]
    fn a_forged_self_consistent_report_is_untrusted() {
        let mut provider = party("provider.example");
        let mut forger = party("provider.example");
        let genuine = issued(&mut provider, b"Written by a person.");
        let mut forged = genuine.clone();
        forged.verdict.summary = vec!["AI-generated by Example AI".into()];
        seal_with(&mut forged, Some(&forger.service));
        record_report(&mut forged, &mut forger.log).unwrap();
        let (trust, reason) = trust_of(&forged.to_json_pretty(), &trusting(&provider));
        assert_eq!(trust, Trust::Untrusted, "{reason}");
        assert!(reason.contains("not a service key you trust"), "{reason}");
    }

    #[test]
    fn an_altered_report_is_tampered_naming_the_check() {
        let mut provider = party("provider.example");
        let keys = trusting(&provider);
        let genuine = issued(&mut provider, b"First text.");
        let json = genuine.to_json_pretty();

        let altered = json.replacen("First text", "Other text", 1);
        assert_ne!(altered, json);
        let (trust, reason) = trust_of(&altered, &keys);
        assert_eq!(
            (trust, reason.split(':').next()),
            (Trust::Tampered, Some("hash"))
        );

        // Re-sealed without the key: the old signature no longer verifies.
        let mut resealed: EvidenceReport = serde_json::from_str(&altered).unwrap();
        let signature = genuine.seal.as_ref().unwrap().signature.clone();
        resealed.seal();
        resealed.seal.as_mut().unwrap().signature = signature;
        let (trust, reason) = trust_of(&resealed.to_json_pretty(), &keys);
        assert_eq!(trust, Trust::Tampered);
        assert!(reason.starts_with("signature: does not verify"), "{reason}");

        // Another report's receipt in this report's seal: a valid proof, of another entry.
        let other = issued(&mut provider, b"Second text.");
        let mut swapped = genuine.clone();
        swapped.seal.as_mut().unwrap().receipt = other.seal.as_ref().unwrap().receipt.clone();
        let (trust, reason) = trust_of(&swapped.to_json_pretty(), &keys);
        assert_eq!(trust, Trust::Tampered);
        assert!(reason.contains("not a record of this report"), "{reason}");
    }

    #[test]
    fn a_receipt_from_another_log_is_untrusted_and_an_altered_one_tampered() {
        let mut provider = party("provider.example");
        let mut other = party("other.example");
        let json = issued(&mut other, b"Logged elsewhere.").to_json_pretty();
        let mut keys = trusting(&provider);
        let vkey = other.service.verifier().to_string();
        keys.add_text(Role::Service, &vkey, "other's service")
            .unwrap();
        let (trust, reason) = trust_of(&json, &keys);
        assert_eq!(trust, Trust::Untrusted);
        assert!(reason.contains("not a log key you trust"), "{reason}");

        // The same receipt with a proof hash altered.
        let genuine = issued(&mut provider, b"One.");
        issued(&mut provider, b"Two.");
        let mut r = issued(&mut provider, b"Three.");
        let receipt = r.seal.as_ref().unwrap().receipt.clone().unwrap();
        let proof_line = receipt.lines().nth(3).unwrap().to_owned();
        let altered_line = if proof_line.starts_with('A') {
            proof_line.replacen('A', "B", 1)
        } else {
            format!("A{}", &proof_line[1..])
        };
        r.seal.as_mut().unwrap().receipt = Some(receipt.replacen(&proof_line, &altered_line, 1));
        let (trust, reason) = trust_of(&r.to_json_pretty(), &trusting(&provider));
        assert_eq!(trust, Trust::Tampered, "{reason}");
        assert!(reason.starts_with("receipt:"), "{reason}");
        drop(genuine);
    }

    #[test]
    fn a_forged_signed_result_is_untrusted_and_an_altered_one_tampered() {
        let provider = party("provider.example");
        let forger = party("provider.example");
        let result = serde_json::json!({"detected": true, "p_value": 1e-12});
        let keys = trusting(&provider);
        let conclude = |json: &str| verify_result(json, &keys).unwrap().conclusion;

        let genuine =
            serde_json::to_string(&sign_result(&result, Some(&provider.service)).unwrap()).unwrap();
        assert_eq!(conclude(&genuine).trust, Trust::Trusted);

        let forged_result = serde_json::json!({"detected": false, "p_value": 0.5});
        let forged =
            serde_json::to_string(&sign_result(&forged_result, Some(&forger.service)).unwrap())
                .unwrap();
        let c = conclude(&forged);
        assert_eq!(c.trust, Trust::Untrusted, "{}", c.reason);

        let altered = genuine.replacen("true", "false", 1);
        let c = conclude(&altered);
        assert_eq!(
            (c.trust, c.reason.split(':').next()),
            (Trust::Tampered, Some("hash"))
        );

        let unsigned = serde_json::to_string(&sign_result(&result, None).unwrap()).unwrap();
        assert_eq!(conclude(&unsigned).trust, Trust::Untrusted);
    }
}

/// A log receipt checked as `tracemark log verify-receipt` checks it: under the trust
/// rule, against every trusted log key (each requiring `min_cosignatures` of
/// `witnesses`, their verifier keys as text), and against `record` when given.
#[derive(Debug)]
pub struct ReceiptVerdict {
    pub check: Check,
    pub verified: Option<VerifiedReceipt>,
    /// The answer as `--json` prints it: `trust`, `reason`, `verified`, and what the
    /// receipt proves when it verified.
    pub json: Value,
}

pub fn receipt(
    bytes: &[u8],
    trusted: &TrustedKeys,
    witnesses: &[String],
    min_cosignatures: usize,
    record: Option<&tracemark_ledger::GenerationRecord>,
) -> Result<ReceiptVerdict> {
    let policies = trusted
        .logs()
        .iter()
        .map(|key| crate::log::trust_policy(&key.to_string(), witnesses, min_cosignatures))
        .collect::<Result<Vec<_>>>()?;
    let canonical = record
        .map(|r| r.canonical_bytes())
        .transpose()
        .map_err(|e| Error::input(format!("the record has no canonical form: {e}"), None))?;
    let (check, verified) = match Receipt::parse(bytes) {
        Ok(parsed) if parsed.extra.is_none() && canonical.is_none() => {
            return Err(Error::usage(
                "the receipt does not carry its entry",
                Some("pass the record it proves with --record".into()),
            ));
        }
        Ok(parsed) => receipt_check(&parsed, &policies, None, canonical.as_deref()),
        // A receipt altered until it no longer parses is the check's negative answer.
        Err(e) => (Check::new("receipt", Trust::Tampered, e.to_string()), None),
    };
    let mut json = serde_json::json!({
        "trust": check.outcome,
        "reason": check.detail,
        "verified": check.outcome == Trust::Trusted,
    });
    if let Some(v) = &verified {
        let head = &v.checkpoint.checkpoint;
        let proved = v.record().and_then(|r| r.ok());
        let cosigned_by: Vec<&str> = v
            .checkpoint
            .cosignatures
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        for (k, value) in [
            ("origin", serde_json::json!(head.origin)),
            ("index", v.index.into()),
            ("leaf_hash", v.leaf_hash.to_hex().into()),
            ("tree_size", head.size.into()),
            ("root", head.root.to_base64().into()),
            (
                "record",
                serde_json::to_value(&proved).expect("records serialise"),
            ),
            ("cosigned_by", serde_json::json!(cosigned_by)),
        ] {
            json[k] = value;
        }
        if record.is_some() {
            json["matches_record"] = true.into();
        }
    }
    Ok(ReceiptVerdict {
        check,
        verified,
        json,
    })
}
