//! `sign` / `verify` (content credentials) and `attribute` / `report verify` (the
//! evidence report), end to end through the binary.

mod common;

use common::{assert_follows_schema, json, tracemark};

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
    // Intact, but its signer chains to no anchor the reader trusts: exit 1, and it says
    // so first.
    let untrusted = json(tracemark(dir).args(["verify", "out.txt"]), 1);
    assert_eq!(untrusted["state"], "untrusted");
    // The configuration's anchors are trusted ones.
    std::fs::write(
        dir.join("tracemark.toml"),
        "[keys]\ntrust = [\"id/root.pem\"]\n",
    )
    .unwrap();
    let configured = json(tracemark(dir).args(["verify", "out.txt"]), 0);
    assert_eq!(configured["state"], "trusted", "{configured}");
    std::fs::remove_file(dir.join("tracemark.toml")).unwrap();

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

fn fact<'a>(report: &'a serde_json::Value, kind: &str) -> &'a serde_json::Value {
    report["facts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} fact in {report:#}"))
}

fn rule<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no rule {id}"))
}

fn outcome<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    &rule(report, id)["outcome"]
}

#[test]
fn mark_then_attribute_gives_a_sealed_logged_report_that_verifies_offline() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    tracemark(dir)
        .args(["demo", "--out", "d"])
        .assert()
        .success();
    let config = ["--config", "d/tracemark.toml"];
    let sampling = [
        "--prompt",
        "Once upon a time",
        "--temperature",
        "0.8",
        "--top-k",
        "40",
    ];
    let marked = json(
        tracemark(dir)
            .args(config)
            .arg("mark")
            .args(sampling)
            .args(["--max-tokens", "300", "--out", "marked.txt"]),
        0,
    );
    assert_eq!(marked["record"]["provider"], "Tracemark demo provider");
    assert_eq!(marked["record"]["payload"]["bits"], 16);
    // The receipt proves the record with the log's public key alone.
    let log_key = "d/home/keys/log/demo/key.pub";
    let proved = json(
        tracemark(dir).args([
            "log",
            "verify-receipt",
            "--key",
            log_key,
            "--record",
            "marked.record.json",
            "marked.receipt",
        ]),
        0,
    );
    assert_eq!(proved["index"], marked["index"]);

    let report = json(
        tracemark(dir).args(config).args([
            "attribute",
            "--as-of",
            "2026-12-15",
            "--out",
            "reports",
            "marked.txt",
        ]),
        0,
    );
    assert_eq!(report["format"], "tracemark.evidence-report/v3");
    assert_follows_schema(&report);
    assert_eq!(fact(&report, "credential")["state"], "trusted");
    assert_eq!(fact(&report, "watermark")["verdict"]["detected"], true);
    let logged = fact(&report, "log_entry");
    assert_eq!(logged["generation_id"], marked["record"]["generation_id"]);
    assert_eq!(logged["inclusion_verified"], true);
    // Marked and logged; but whether the provider offers a detector to others is its
    // statement, which the command line does not take: Art. 50(2) stays open on that alone.
    assert_eq!(outcome(&report, "EU-AIA-50-2"), "undetermined");
    let reason = rule(&report, "EU-AIA-50-2")["reason"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        reason.contains("whether a detector for the watermark is offered to others"),
        "{reason}"
    );
    // The credential a C2PA verifier read is detectable by any other.
    assert_eq!(fact(&report, "detector")["mark"], "credential");
    assert!(report["seal"]["receipt"].is_string());

    // The report verifies offline against the service and log keys, and not once altered.
    let service = "d/home/keys/service/demo/key.pub";
    let verify = |file: &str, code| {
        json(
            tracemark(dir).args([
                "report",
                "verify",
                "--key",
                service,
                "--log-key",
                log_key,
                file,
            ]),
            code,
        )
    };
    let ok = verify("reports/report.json", 0);
    assert_eq!(ok["trust"], "trusted", "{ok}");
    assert_eq!(
        ok["logged"]["index"].as_u64(),
        Some(marked["index"].as_u64().unwrap() + 1)
    );
    // Without a key the reader chose, an intact report is untrusted, and says so first.
    let bare = tracemark(dir)
        .args(["report", "verify", "reports/report.json"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let bare = String::from_utf8(bare).unwrap();
    assert!(
        bare.starts_with("untrusted: signature: signed by"),
        "{bare}"
    );
    // The configuration's own keys are trusted ones.
    let configured = json(
        tracemark(dir)
            .args(config)
            .args(["report", "verify", "reports/report.json"]),
        0,
    );
    assert_eq!(configured["trust"], "trusted", "{configured}");
    let text = std::fs::read_to_string(dir.join("reports/report.json")).unwrap();
    let altered = |name: &str, from: &str, to: &str| {
        assert!(text.contains(from), "{from}");
        std::fs::write(dir.join(name), text.replacen(from, to, 1)).unwrap();
    };
    altered("altered.json", "\"detected\": true", "\"detected\": false");
    let tampered = verify("altered.json", 1);
    assert_eq!(tampered["trust"], "tampered");
    assert!(
        tampered["reason"].as_str().unwrap().starts_with("hash:"),
        "{tampered}"
    );
    // The receipt sits outside the hash: a receipt for another entry is caught by the
    // proof itself.
    let receipt = report["seal"]["receipt"].as_str().unwrap();
    let index_line = receipt.lines().find(|l| l.starts_with("index ")).unwrap();
    altered("moved.json", index_line, "index 0");
    let moved = verify("moved.json", 1);
    assert_eq!(moved["trust"], "tampered", "{moved}");
    assert!(
        moved["reason"].as_str().unwrap().starts_with("receipt:"),
        "{moved}"
    );
    let html = std::fs::read_to_string(dir.join("reports/report.html")).unwrap();
    assert!(html.contains("EU-AIA-50-2") && html.contains("Log receipt"));
    // The report's own log entry reads back as a report record.
    let report_index = index_line.trim_start_matches("index ");
    let got = json(
        tracemark(dir)
            .args(config)
            .args(["log", "get", "--index", report_index]),
        0,
    );
    let record = &got["records"][0]["record"];
    assert_eq!(record["format"], "tracemark.report-record/v1", "{got}");
    assert_eq!(record["report_hash"], report["seal"]["report_hash"]);

    // Stripped of its credential, the text still leads to its log record.
    let signed = std::fs::read_to_string(dir.join("marked.txt")).unwrap();
    let visible: String = signed
        .chars()
        .filter(|c| !matches!(*c as u32, 0xFE00..=0xFE0F | 0xE0100..=0xE01EF | 0xFEFF))
        .collect();
    std::fs::write(dir.join("stripped.txt"), visible).unwrap();
    let report = json(
        tracemark(dir)
            .args(config)
            .args(["attribute", "--as-of", "2026-12-15", "stripped.txt"]),
        0,
    );
    assert_eq!(fact(&report, "credential")["state"], "none");
    assert_eq!(
        fact(&report, "log_entry")["generation_id"],
        marked["record"]["generation_id"]
    );
    // The record names the credential the generation carried: it was removed, by someone
    // no instrument names; the watermark the record names is still there.
    let histories: Vec<_> = report["facts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "mark_history")
        .map(|f| {
            (
                f["mark"].as_str().unwrap(),
                f["still_present"].as_bool().unwrap(),
            )
        })
        .collect();
    assert!(histories.contains(&("credential", false)), "{histories:?}");
    assert!(histories.contains(&("watermark", true)), "{histories:?}");

    // Unmarked output its provider states is AI-generated breaches the marking duty.
    let unmarked = json(
        tracemark(dir)
            .args(config)
            .arg("generate")
            .args(sampling)
            .args(["--max-tokens", "300", "--no-watermark"]),
        0,
    );
    std::fs::write(dir.join("unmarked.txt"), unmarked["text"].as_str().unwrap()).unwrap();
    let report = json(
        tracemark(dir).args(config).args([
            "attribute",
            "--as-of",
            "2026-12-15",
            "--ai-generated",
            "unmarked.txt",
        ]),
        0,
    );
    assert_eq!(
        outcome(&report, "EU-AIA-50-2"),
        "non_compliant",
        "{report:#}"
    );
}

/// `--generated-at` fixes the report's time: the same content and inputs give the same
/// report, hash and all, on every run; without it each report carries its own time.
#[test]
fn a_fixed_report_time_gives_the_same_report_hash() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("in.txt"), "Words whose report is made twice.\n").unwrap();
    let at = "2026-12-01T10:00:00Z";
    let fixed = || {
        json(
            tracemark(dir).args([
                "attribute",
                "--no-log",
                "--as-of",
                "2026-12-01",
                "--generated-at",
                at,
                "in.txt",
            ]),
            0,
        )
    };
    let (first, second) = (fixed(), fixed());
    assert_eq!(first["generated_at"], at);
    assert!(
        first["facts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["established_at"] == at)
    );
    assert!(
        first["command"]
            .as_str()
            .unwrap()
            .contains(&format!("--generated-at {at} in.txt")),
        "{}",
        first["command"]
    );
    assert_eq!(first, second);
    let now = json(
        tracemark(dir).args(["attribute", "--no-log", "--as-of", "2026-12-01", "in.txt"]),
        0,
    );
    assert_ne!(now["generated_at"], at);
    assert_ne!(now["seal"]["report_hash"], first["seal"]["report_hash"]);
    // Not a time: a usage error, before any work.
    let bad = tracemark(dir)
        .args(["attribute", "--generated-at", "yesterday", "in.txt"])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&bad.get_output().stderr).into_owned();
    assert!(stderr.contains("RFC 3339"), "{stderr}");
}
