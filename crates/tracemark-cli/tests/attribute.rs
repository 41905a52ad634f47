//! `sign` / `verify` (content credentials) and `attribute` / `report verify` (the
//! evidence report), end to end through the binary.

mod common;

use common::{json, tracemark};

#[test]
fn credentials_verify_as_trusted_untrusted_tampered_or_none() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    tracemark(dir)
        .args(["keygen", "signing", "--out", "id"])
        .assert()
        .success();
    std::fs::write(
        dir.join("in.txt"),
        "A paragraph written by a model, to be signed.\n",
    )
    .unwrap();
    let signed = json(
        tracemark(dir).args([
            "sign",
            "--key",
            "id/key.pem",
            "--cert",
            "id/chain.pem",
            "--model",
            "corpus-kn3",
            "--provider",
            "Example AI",
            "in.txt",
            "out.txt",
        ]),
        0,
    );
    assert_eq!(signed["carrier"], "embedded");
    let trust = ["--trust", "id/root.pem"];

    let ok = json(tracemark(dir).arg("verify").args(trust).arg("out.txt"), 0);
    assert_eq!(ok["state"], "trusted", "{ok}");
    assert!(ok["assertions"].as_array().unwrap().len() >= 2);
    let untrusted = json(tracemark(dir).args(["verify", "out.txt"]), 0);
    assert_eq!(untrusted["state"], "untrusted");

    // One word changed in the visible text: tampered, with the failing check named.
    let text = std::fs::read_to_string(dir.join("out.txt")).unwrap();
    std::fs::write(dir.join("edited.txt"), text.replacen("model", "human", 1)).unwrap();
    let bad = json(
        tracemark(dir).arg("verify").args(trust).arg("edited.txt"),
        1,
    );
    assert_eq!(bad["state"], "tampered");
    assert!(!bad["failures"].as_array().unwrap().is_empty());
    let none = json(tracemark(dir).arg("verify").args(trust).arg("in.txt"), 1);
    assert_eq!(none["state"], "none");

    // A sidecar leaves the text untouched and binds its bytes.
    json(
        tracemark(dir).args([
            "sign",
            "--sidecar",
            "--key",
            "id/key.pem",
            "--cert",
            "id/chain.pem",
            "in.txt",
            "in.txt.c2pa",
        ]),
        0,
    );
    let side = json(tracemark(dir).arg("verify").args(trust).arg("in.txt"), 0);
    assert_eq!(side["state"], "trusted", "{side}");
}

#[test]
fn attribute_writes_a_sealed_report_that_verifies_offline() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    tracemark(dir)
        .args(["demo", "--out", "d"])
        .assert()
        .success();
    let config = ["--config", "d/tracemark.toml"];
    let report = json(
        tracemark(dir).args(config).args([
            "attribute",
            "--as-of",
            "2026-12-15",
            "--out",
            "reports",
            "d/marked.txt",
        ]),
        0,
    );
    assert_eq!(report["format"], "tracemark.evidence-report/v1");
    // The report a user gets follows the published schema.
    let schema_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tracemark-policy/schema/evidence-report-v1.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let facts = report["facts"].as_array().unwrap();
    let watermark = facts
        .iter()
        .find(|f| f["kind"] == "watermark")
        .expect("a watermark fact");
    assert_eq!(watermark["verdict"]["detected"], true, "{watermark}");
    assert!(facts.iter().any(|f| f["kind"] == "content"));
    let rules = report["rules"].as_array().unwrap();
    assert!(rules.iter().any(|r| r["id"] == "EU-AIA-50-2"), "{rules:?}");
    assert!(rules.iter().all(|r| r["outcome"].is_string()));

    // The report verifies offline against the service key, and not once altered.
    let service = "d/home/keys/service/demo/key.pub";
    let ok = json(
        tracemark(dir).args(["report", "verify", "--key", service, "reports/report.json"]),
        0,
    );
    assert_eq!(ok["signature_valid"], true);
    assert_eq!(ok["trusted_key"], true);
    let text = std::fs::read_to_string(dir.join("reports/report.json")).unwrap();
    std::fs::write(
        dir.join("altered.json"),
        text.replacen("\"detected\": true", "\"detected\": false", 1),
    )
    .unwrap();
    json(tracemark(dir).args(["report", "verify", "altered.json"]), 3);
    let html = std::fs::read_to_string(dir.join("reports/report.html")).unwrap();
    assert!(html.contains("EU-AIA-50-2"));

    // Signed with the demo's identity: the credential is trusted (the demo trusts its own
    // root), and the watermark is still found under the invisible wrapper.
    json(
        tracemark(dir).args(config).args([
            "sign",
            "--model",
            "corpus-kn3",
            "d/marked.txt",
            "signed.txt",
        ]),
        0,
    );
    let report = json(
        tracemark(dir)
            .args(config)
            .args(["attribute", "--as-of", "2026-12-15", "signed.txt"]),
        0,
    );
    let facts = report["facts"].as_array().unwrap();
    let credential = facts.iter().find(|f| f["kind"] == "credential").unwrap();
    assert_eq!(credential["state"], "trusted", "{credential}");
    let watermark = facts.iter().find(|f| f["kind"] == "watermark").unwrap();
    assert_eq!(watermark["verdict"]["detected"], true);
}
