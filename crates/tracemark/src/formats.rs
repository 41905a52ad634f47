//! The versioned formats this build writes, as `tracemark --version` lists them.

/// `(format id, what it is)` for everything Tracemark persists or exchanges.
pub const WRITTEN: &[(&str, &str)] = &[
    ("tracemark.watermark-key/v1", "watermark key (JSON, secret)"),
    (
        "tracemark.signing-key/v1",
        "signing identity (JSON) beside PKCS#8 and X.509 PEM files",
    ),
    (
        "tracemark.log-key/v1",
        "log checkpoint key (JSON, secret) beside a C2SP signed-note verifier key",
    ),
    (
        "tracemark.service-key/v1",
        "service key (JSON, secret) beside a C2SP signed-note verifier key",
    ),
    (
        tracemark_policy::REPORT_FORMAT,
        "evidence report (JSON, sealed; v1 still verified)",
    ),
    (
        crate::attribute::SIGNED_RESULT_V1,
        "signed service result (JSON)",
    ),
    (
        tracemark_ledger::registry::GENERATION_RECORD_V1,
        "log record of a generation by a model without a signature (RFC 8785 JSON)",
    ),
    (
        tracemark_ledger::registry::GENERATION_RECORD_V2,
        "log record of a generation naming the signed model's identity (RFC 8785 JSON)",
    ),
    (
        tracemark_ledger::registry::GENERATION_RECORD_V3,
        "log record of a generated image or sound, with its media type and perceptual fingerprint (RFC 8785 JSON)",
    ),
    (
        tracemark_ledger::registry::REPORT_RECORD_V1,
        "log record of a sealed evidence report (RFC 8785 JSON)",
    ),
    (
        tracemark_ledger::registry::MODEL_RELEASE_RECORD_V1,
        "log record of a signed model release (RFC 8785 JSON)",
    ),
    (
        tracemark_ledger::registry::COLLECTION_RECORD_V1,
        "log record of a document's rights decision at collection (RFC 8785 JSON)",
    ),
    (
        crate::collection::COLLECTION_LOG_V1,
        "where an index's collection is logged (collection-log.json)",
    ),
    (
        crate::collection::COLLECTION_PROOF_V1,
        "proof of a URL's collection records (JSON with C2SP tlog-proof receipts)",
    ),
    (
        tracemark_core::minhash::Scheme::CURRENT.id(),
        "MinHash sketch of log records and index shards (v1 still read)",
    ),
    (crate::log::LOG_DIR_FORMAT, "log directory (JSON)"),
    (
        tracemark_trace::index::INDEX_FORMAT,
        "corpus index manifest",
    ),
    (tracemark_trace::shard::SHARD_FORMAT, "corpus index shard"),
    (
        tracemark_trace::sharded::SHARDED_FORMAT,
        "sharded corpus index manifest (its parts, digests, document ranges)",
    ),
    (
        crate::shards::SHARD_INFO_FORMAT,
        "what a shard server holds (GET /v1/shard/info)",
    ),
    (
        tracemark_model::manifest::PREDICATE_TYPE,
        "OMS model signature (model.sig: Sigstore bundle v0.3, DSSE, in-toto; older forms read)",
    ),
    ("CycloneDX 1.6", "ML-BOM of a model (JSON)"),
    ("tracemark.toml", "configuration (TOML)"),
];

/// The multi-line form for `--version`.
pub fn long_version() -> String {
    let mut text = format!("{}\nformats written:", crate::VERSION);
    for (id, what) in WRITTEN {
        text.push_str(&format!("\n  {id:<30} {what}"));
    }
    text
}

#[cfg(test)]
mod tests {
    /// Every record type of the log's registry is listed: a new one cannot be added
    /// there and forgotten here.
    #[test]
    fn every_log_record_format_is_listed() {
        for format in tracemark_ledger::registry::RECORD_FORMATS {
            assert!(
                super::WRITTEN.iter().any(|(id, _)| id == format),
                "{format} is missing"
            );
        }
    }
}
