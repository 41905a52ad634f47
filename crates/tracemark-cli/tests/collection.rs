//! Proof that opt-outs were honoured at collection, end to end: `index build --log
//! --exclude-reserved` records each document's rights decision in the log, withdrawals
//! append records, `rights prove` proves a URL's records, and `rights verify-proof`
//! checks them offline, dated only by a witness's cosignature.

mod common;

use std::path::Path;

use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use common::{json, tracemark};
use serde_json::Value;

/// The demo corpus's essay whose publisher reserved AI training before it was fetched.
const RESERVED_URL: &str = "https://marrowlane.example/dear-mr-aske";
const RESERVED_ID: &str = "marrow-lane-press/dear-mr-aske.txt";

/// A log directory of its own, configured, and the demo corpus (its signals with it).
fn setup(dir: &Path) {
    json(tracemark(dir).args(["demo", "--out", "work"]), 0);
    json(
        tracemark(dir).args([
            "log",
            "init",
            "--dir",
            "log",
            "--origin",
            "crawler.example/log",
        ]),
        0,
    );
    std::fs::write(
        dir.join("tracemark.toml"),
        "[keys]\nlog = \"log\"\n\n[log]\nsqlite = \"log/log.db\"\n",
    )
    .unwrap();
}

fn prove(dir: &Path, url: &str, out: &str) -> Value {
    json(
        tracemark(dir).args(["rights", "prove", "--url", url, "--out", out]),
        0,
    )
}

fn verify(dir: &Path, proof: &str, extra: &[&str], code: i32) -> Value {
    json(
        tracemark(dir)
            .args(["rights", "verify-proof", proof])
            .args(extra),
        code,
    )
}

/// The proof file with its JSON changed by `edit`.
fn altered(dir: &Path, proof: &str, out: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut value: Value =
        serde_json::from_slice(&std::fs::read(dir.join(proof)).unwrap()).unwrap();
    edit(&mut value);
    std::fs::write(dir.join(out), value.to_string()).unwrap();
    out.to_owned()
}

/// The record a receipt carries (its `extra` line), and a receipt carrying `record`.
fn receipt_record(receipt: &str) -> Value {
    let line = receipt
        .lines()
        .find_map(|l| l.strip_prefix("extra "))
        .unwrap();
    serde_json::from_slice(&BASE64.decode(line).unwrap()).unwrap()
}

fn with_record(receipt: &str, record: &Value) -> String {
    let bytes = tracemark::core::jcs::to_canonical_bytes(record).unwrap();
    receipt
        .lines()
        .map(|l| match l.strip_prefix("extra ") {
            Some(_) => format!("extra {}", BASE64.encode(&bytes)),
            None => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[test]
fn collection_records_prove_that_reservations_were_honoured() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    setup(dir);

    // The build leaves the reserved documents out and logs every decision.
    let built = json(
        tracemark(dir).args([
            "index",
            "build",
            "--out",
            "idx",
            "--log",
            "--exclude-reserved",
            "work/corpus/texts",
        ]),
        0,
    );
    let logged = &built["collection"];
    let (included, excluded) = (
        built["documents"].as_u64().unwrap(),
        built["excluded"].as_u64().unwrap(),
    );
    assert!(included > 0 && excluded > 0, "{built:#}");
    assert_eq!(logged["included"], included);
    assert_eq!(logged["excluded"], excluded);
    assert_eq!(logged["origin"], "crawler.example/log");
    let excluded_list = std::fs::read_to_string(dir.join("idx/excluded.jsonl")).unwrap();
    assert!(excluded_list.contains(RESERVED_ID));
    // The log does not publish the crawl list: records commit to their URLs.
    let entry = json(tracemark(dir).args(["log", "get", "--index", "0"]), 0);
    let record = &entry["records"][0]["record"];
    assert_eq!(
        record["format"], "tracemark.collection-record/v1",
        "{entry:#}"
    );
    assert!(record.get("url").is_none() && record["url_commitment"].is_string());
    let db = std::fs::read(dir.join("log/log.db")).unwrap();
    assert!(
        !db.windows(RESERVED_URL.len())
            .any(|w| w == RESERVED_URL.as_bytes())
    );

    // Logging the same index again appends nothing.
    let again = json(tracemark(dir).args(["index", "log", "idx"]), 0);
    assert_eq!(again["already_logged"], included + excluded, "{again:#}");
    assert_eq!(again["included"], 0);

    // The reserved URL's record: excluded, genai training reserved, proved offline.
    prove(dir, RESERVED_URL, "p.json");
    let checked = verify(dir, "p.json", &[], 0);
    assert_eq!(checked["trust"], "trusted", "{checked:#}");
    let r = &checked["records"][0];
    assert_eq!(r["record"]["event"], "excluded");
    assert_eq!(r["record"]["collected_at"], "2025-09-15T08:00:00Z");
    assert!(
        r["record"]["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["use"] == "genai-train" && d["permission"] == "disallowed"),
        "{r:#}"
    );
    assert!(
        r["record"]["signals"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["sha256"].is_string())
    );
    // No witness has cosigned: the log alone gives no time.
    assert_eq!(r["logged_by"]["kind"], "none");

    // A URL never collected: a clear answer, exit 1, not an error.
    let never = json(
        tracemark(dir).args(["rights", "prove", "--url", "https://never.example/page"]),
        1,
    );
    assert_eq!(never["missing"][0], "https://never.example/page");
    assert!(never.get("proof").is_none());

    // A witness cosigns the log: proofs now say by when each record was logged.
    json(
        tracemark(dir).args([
            "keygen",
            "log",
            "--origin",
            "witness.example/w1",
            "--out",
            "witness",
        ]),
        0,
    );
    let vkey = json(
        tracemark(dir).args(["log", "witness-key", "--key", "witness"]),
        0,
    );
    std::fs::write(
        dir.join("witness.pub"),
        format!("{}\n", vkey["witness_vkey"].as_str().unwrap()),
    )
    .unwrap();
    let cosigned = json(
        tracemark(dir).args(["log", "cosign", "--key", "witness", "log"]),
        0,
    );
    let cosigned_checkpoint = cosigned["checkpoint"].as_str().unwrap().to_owned();
    prove(dir, RESERVED_URL, "dated.json");
    let dated = verify(dir, "dated.json", &["--witness", "witness.pub"], 0);
    let by = &dated["records"][0]["logged_by"];
    assert_eq!(by["kind"], "witness_cosignature", "{dated:#}");
    assert_eq!(by["witness"], "witness.example/w1");
    // Without the witness's key, its cosignature dates nothing.
    let undated = verify(dir, "dated.json", &[], 0);
    assert_eq!(undated["records"][0]["logged_by"]["kind"], "none");

    // A withdrawal after the build appends a record, once.
    let included_url = "https://brightwater.example/docs/changelog";
    let withdrawn = json(
        tracemark(dir).args([
            "index",
            "withdraw",
            "idx",
            "--id",
            "brightwater/changelog.txt",
            "--at",
            "2026-06-01T00:00:00Z",
        ]),
        0,
    );
    assert!(withdrawn["logged_at_index"].is_u64(), "{withdrawn:#}");
    let twice = json(
        tracemark(dir).args([
            "index",
            "withdraw",
            "idx",
            "--id",
            "brightwater/changelog.txt",
        ]),
        0,
    );
    assert!(twice["logged_at_index"].is_null(), "{twice:#}");
    prove(dir, included_url, "w.json");
    let both = verify(dir, "w.json", &["--witness", "witness.pub"], 0);
    let events: Vec<&str> = both["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["record"]["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["included", "withdrawn"], "{both:#}");
    let late = &both["records"][1];
    assert_eq!(late["record"]["withdrawn_at"], "2026-06-01T00:00:00Z");
    // Appended after the witness's cosignature: no time is claimed for it.
    assert_eq!(late["logged_by"]["kind"], "none", "{late:#}");

    // Altering a record (back-dating its collection) breaks its inclusion proof.
    let backdated = altered(dir, "p.json", "backdated.json", |p| {
        let receipt = p["urls"][0]["receipts"][0].as_str().unwrap().to_owned();
        let mut record = receipt_record(&receipt);
        record["collected_at"] = "2024-01-01T00:00:00Z".into();
        p["urls"][0]["receipts"][0] = with_record(&receipt, &record).into();
    });
    let out = verify(dir, &backdated, &[], 1);
    assert_eq!(out["trust"], "tampered", "{out:#}");
    // Claiming the withdrawal was in the witnessed (earlier) tree fails too.
    let earlier = altered(dir, "w.json", "earlier.json", |p| {
        let receipt = p["urls"][0]["receipts"][1].as_str().unwrap().to_owned();
        let (head, _) = receipt.split_once("\n\n").unwrap();
        p["urls"][0]["receipts"][1] = format!("{head}\n\n{cosigned_checkpoint}").into();
    });
    let out = verify(dir, &earlier, &["--witness", "witness.pub"], 1);
    assert_eq!(out["records"][1]["trust"], "tampered", "{out:#}");
    // A record presented for another URL, or with another salt, does not open.
    let moved = altered(dir, "p.json", "moved.json", |p| {
        p["urls"][0]["url"] = "https://marrowlane.example/other".into();
    });
    assert_eq!(verify(dir, &moved, &[], 1)["trust"], "tampered");
    let salted = altered(dir, "p.json", "salted.json", |p| {
        p["urls"][0]["salt"] = "00".repeat(32).into();
    });
    assert_eq!(verify(dir, &salted, &[], 1)["trust"], "tampered");
    // Another log's proof is intact but not trusted by whoever does not trust that log.
    let other = tempfile::tempdir().unwrap();
    let out = json(
        tracemark(other.path())
            .args(["rights", "verify-proof"])
            .arg(dir.join("p.json")),
        1,
    );
    assert_eq!(out["trust"], "untrusted", "{out:#}");

    // `--excluded` proves every excluded document at once.
    let all = json(
        tracemark(dir).args([
            "rights",
            "prove",
            "--excluded",
            "--index",
            "idx",
            "--out",
            "x.json",
        ]),
        0,
    );
    assert_eq!(
        all["proof"]["urls"].as_array().unwrap().len() as u64,
        excluded
    );
    let checked = verify(dir, "x.json", &[], 0);
    assert!(
        checked["records"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["record"]["event"] == "excluded")
    );
}

#[test]
fn broken_proofs_get_a_clear_answer() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("garbage.json"), b"\x00\xffnot json").unwrap();
    let out = json(
        tracemark(dir).args(["rights", "verify-proof", "garbage.json"]),
        3,
    );
    assert!(
        out["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not a collection proof")
    );
    std::fs::write(
        dir.join("truncated.json"),
        br#"{"format":"tracemark.collection-proof/v1","log":"x","urls":[{"url":"#,
    )
    .unwrap();
    json(
        tracemark(dir).args(["rights", "verify-proof", "truncated.json"]),
        3,
    );
    std::fs::write(
        dir.join("future.json"),
        br#"{"format":"tracemark.collection-proof/v9","log":"x","urls":[]}"#,
    )
    .unwrap();
    let out = json(
        tracemark(dir).args(["rights", "verify-proof", "future.json"]),
        3,
    );
    assert!(
        out["error"]["message"]
            .as_str()
            .unwrap()
            .contains("collection-proof/v1")
    );
    // Oversized: refused before it is parsed.
    let mut huge =
        br#"{"format":"tracemark.collection-proof/v1","log":"x","urls":[],"pad":""#.to_vec();
    huge.resize(17 << 20, b'a');
    std::fs::write(dir.join("huge.json"), &huge).unwrap();
    json(
        tracemark(dir).args(["rights", "verify-proof", "huge.json"]),
        2,
    );
    // A receipt that is not one is a failed check, not a crash.
    std::fs::write(
        dir.join("bad-receipt.json"),
        br#"{"format":"tracemark.collection-proof/v1","log":"x","urls":[{"url":"https://a.example/","receipts":["c2sp.org/tlog-proof@v1\nindex 0\n"]}]}"#,
    )
    .unwrap();
    let out = json(
        tracemark(dir).args(["rights", "verify-proof", "bad-receipt.json"]),
        1,
    );
    assert_eq!(out["trust"], "tampered", "{out:#}");
}
