//! `tracemark log`: a log directory on SQLite (and on PostgreSQL when CI provides one),
//! driven the way scripts drive it.

mod common;

use std::path::Path;

use common::{json, tracemark};
use serde_json::Value;
use tracemark::{
    core::{ContentHash, KeyId, KeyKind, Payload, Timestamp},
    ledger::{GenerationRecord, ModelRef, TextSketch, record::GENERATION_RECORD_V1},
};

fn record(n: u64, text: &str) -> GenerationRecord {
    GenerationRecord {
        format: GENERATION_RECORD_V1.into(),
        content_hash: ContentHash::of_bytes(text.as_bytes()),
        watermark_scheme: "kgw-selfhash-v1".into(),
        key_id: KeyId::derive(KeyKind::Watermark, b"test key"),
        payload: Payload::new(0xa000 + n, 16).unwrap(),
        model: ModelRef {
            id: "tinystories-260k".into(),
            version: "1".into(),
            digest: None,
            release: None,
        },
        provider: "Example AI".into(),
        credential_hash: None,
        time: "2026-11-29T12:00:00Z".parse::<Timestamp>().unwrap(),
        generation_id: format!("gen-{n}"),
        sketch: TextSketch::of_text(text),
        media: None,
    }
}

const TEXTS: [&str; 3] = [
    "Once upon a time a small robot found a red ball in the garden and kicked it over the wall.",
    "The harbour wall gave way at dawn, and the ferry to the island stayed in port all week.",
    "Salt the cod for two days, change the water often, and never let it boil hard.",
];

fn write_records(dir: &Path, name: &str, records: &[GenerationRecord]) -> std::path::PathBuf {
    let path = dir.join(name);
    let lines: Vec<String> = records
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

fn init(dir: &Path, extra: &[&str]) -> Value {
    json(
        tracemark(dir)
            .args([
                "log",
                "init",
                "--dir",
                "log",
                "--origin",
                "log.example/test",
            ])
            .args(extra),
        0,
    )
}

/// The whole life of a log: append, look up, prove, verify offline, checkpoint,
/// consistency, and every way a receipt can fail.
fn exercise_log(dir: &Path) {
    let records: Vec<GenerationRecord> = TEXTS
        .iter()
        .enumerate()
        .map(|(n, t)| record(n as u64, t))
        .collect();
    let batch = write_records(dir, "batch.jsonl", &records[..2]);
    let out = json(
        tracemark(dir)
            .args(["log", "append", "--dir", "log"])
            .arg(&batch),
        0,
    );
    assert_eq!(out["index"], 0);
    assert_eq!(out["leaf_hash"], records[0].leaf_hash().unwrap().to_hex());
    assert_eq!(out["entries"][1]["index"], 1);
    assert_eq!(out["tree_size"], 2);

    // A checkpoint kept now, to prove later that the log only grew.
    let first = json(
        tracemark(dir).args(["log", "checkpoint", "--dir", "log"]),
        0,
    );
    let kept = first["checkpoint"].as_str().unwrap();
    assert!(kept.starts_with("log.example/test\n2\n"), "{kept}");
    std::fs::write(dir.join("kept.checkpoint"), kept).unwrap();

    let one = write_records(dir, "one.json", &records[2..]);
    let out = json(
        tracemark(dir)
            .args(["log", "append", "--dir", "log"])
            .arg(&one),
        0,
    );
    assert_eq!(out["index"], 2);

    // Look-ups.
    let hash = records[1].content_hash.to_string();
    let found = json(
        tracemark(dir).args(["log", "get", "--dir", "log", "--content-hash", &hash]),
        0,
    );
    assert_eq!(found["records"][0]["index"], 1);
    assert_eq!(found["records"][0]["record"]["generation_id"], "gen-1");
    let found = json(
        tracemark(dir).args(["log", "get", "--dir", "log", "--payload", "a002"]),
        0,
    );
    assert_eq!(found["records"][0]["record"]["generation_id"], "gen-2");
    let found = json(
        tracemark(dir).args(["log", "get", "--dir", "log", "--generation-id", "gen-0"]),
        0,
    );
    assert_eq!(found["records"][0]["index"], 0);
    let edited = TEXTS[1].replace("all week", "for the whole of the week");
    std::fs::write(dir.join("edited.txt"), &edited).unwrap();
    let found = json(
        tracemark(dir).args(["log", "get", "--dir", "log", "--similar", "edited.txt"]),
        0,
    );
    assert_eq!(found["records"][0]["index"], 1, "{found}");
    assert!(found["records"][0]["similarity"].as_f64().unwrap() >= 0.5);
    let none = json(
        tracemark(dir).args(["log", "get", "--dir", "log", "--generation-id", "nope"]),
        1,
    );
    assert_eq!(none["records"], Value::Array(vec![]));

    // An offline receipt, checked with only key.pub.
    tracemark(dir)
        .args([
            "log", "prove", "--dir", "log", "--index", "1", "--out", "r1.tlog",
        ])
        .assert()
        .success();
    let receipt = std::fs::read_to_string(dir.join("r1.tlog")).unwrap();
    assert!(
        receipt.starts_with("c2sp.org/tlog-proof@v1\nextra "),
        "{receipt}"
    );
    let r1 = write_records(dir, "r1.json", &records[1..2]);
    let ok = json(
        tracemark(dir)
            .args(["log", "verify-receipt", "--key", "log/key.pub", "--record"])
            .arg(&r1)
            .arg("r1.tlog"),
        0,
    );
    assert_eq!(ok["verified"], true);
    assert_eq!(ok["index"], 1);
    assert_eq!(ok["tree_size"], 3);
    assert_eq!(ok["matches_record"], true);
    assert_eq!(ok["record"]["generation_id"], "gen-1");

    // ... which proves that record and no other,
    let r0 = write_records(dir, "r0.json", &records[..1]);
    let bad = json(
        tracemark(dir)
            .args(["log", "verify-receipt", "--key", "log/key.pub", "--record"])
            .arg(&r0)
            .arg("r1.tlog"),
        1,
    );
    assert_eq!(bad["verified"], false);
    assert!(
        bad["reason"].as_str().unwrap().contains("another entry"),
        "{bad}"
    );

    // ... fails on any flipped bit,
    let mut bytes = receipt.clone().into_bytes();
    for at in [30, receipt.len() / 2, receipt.len() - 10] {
        bytes[at] ^= 0x01;
        std::fs::write(dir.join("flipped.tlog"), &bytes).unwrap();
        bytes[at] ^= 0x01;
        let out = json(
            tracemark(dir).args([
                "log",
                "verify-receipt",
                "--key",
                "log/key.pub",
                "flipped.tlog",
            ]),
            1,
        );
        assert_eq!(out["verified"], false, "bit at {at}");
    }
    // ... and under another log's key.
    json(
        tracemark(dir).args([
            "log",
            "init",
            "--dir",
            "other",
            "--origin",
            "log.example/other",
        ]),
        0,
    );
    let out = json(
        tracemark(dir).args(["log", "verify-receipt", "--key", "other/key.pub", "r1.tlog"]),
        1,
    );
    assert_eq!(out["verified"], false);
    // Requiring witnesses that never cosigned fails too.
    let out = tracemark(dir)
        .args([
            "log",
            "verify-receipt",
            "--key",
            "log/key.pub",
            "--min-cosignatures",
            "1",
            "r1.tlog",
        ])
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8_lossy(&out).contains("witness"));

    // The log only grew since the kept checkpoint; a checkpoint of another log is refused.
    let grew = json(
        tracemark(dir).args([
            "log",
            "consistency",
            "--dir",
            "log",
            "--since",
            "kept.checkpoint",
        ]),
        0,
    );
    assert_eq!(grew["old_size"], 2);
    assert_eq!(grew["new_size"], 3);
    let other = json(
        tracemark(dir).args(["log", "checkpoint", "--dir", "other"]),
        0,
    );
    std::fs::write(
        dir.join("foreign.checkpoint"),
        other["checkpoint"].as_str().unwrap(),
    )
    .unwrap();
    tracemark(dir)
        .args([
            "log",
            "consistency",
            "--dir",
            "log",
            "--since",
            "foreign.checkpoint",
        ])
        .assert()
        .code(3);
    let by_size = json(
        tracemark(dir).args(["log", "consistency", "--dir", "log", "--old", "1"]),
        0,
    );
    assert_eq!(by_size["old_size"], 1);

    let verified = json(tracemark(dir).args(["log", "verify", "--dir", "log"]), 0);
    assert_eq!(verified["size"], 3);
}

#[test]
fn a_sqlite_log_appends_proves_and_verifies_receipts_offline() {
    let dir = tempfile::tempdir().unwrap();
    let made = init(dir.path(), &[]);
    assert_eq!(made["origin"], "log.example/test");
    assert!(
        made["vkey"]
            .as_str()
            .unwrap()
            .starts_with("log.example/test+")
    );
    assert!(dir.path().join("log/log.db").exists());
    exercise_log(dir.path());
}

#[test]
fn bad_records_are_refused_and_append_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    init(dir, &[]);
    let good = write_records(dir, "good.json", &[record(0, TEXTS[0])]);
    let mut text = std::fs::read_to_string(&good).unwrap();
    text.push_str("{\"format\": \"tracemark.generation-record/v1\", \"surprise\": 1}\n");
    std::fs::write(dir.join("mixed.jsonl"), text).unwrap();
    for (file, contents) in [
        ("empty.json", ""),
        ("truncated.json", "{\"format\": \"tracemark.gen"),
        ("array.json", "[1, 2]"),
        (
            "v2.json",
            "{\"format\": \"tracemark.generation-record/v2\"}",
        ),
    ] {
        std::fs::write(dir.join(file), contents).unwrap();
    }
    for file in [
        "empty.json",
        "truncated.json",
        "array.json",
        "v2.json",
        "mixed.jsonl",
    ] {
        let out = json(
            tracemark(dir).args(["log", "append", "--dir", "log", file]),
            3,
        );
        assert!(
            out["error"]["message"].as_str().unwrap().contains(file),
            "{out}"
        );
    }
    // The valid record in `mixed.jsonl` was not appended: a batch is all or nothing.
    let verified = json(tracemark(dir).args(["log", "verify", "--dir", "log"]), 0);
    assert_eq!(verified["size"], 0);

    // Not a log directory; a log directory already there.
    let out = json(
        tracemark(dir).args(["log", "checkpoint", "--dir", "nowhere"]),
        2,
    );
    assert!(out["error"]["hint"].as_str().unwrap().contains("log init"));
    json(tracemark(dir).args(["log", "init", "--dir", "log"]), 2);
}

#[test]
fn a_postgres_log_behaves_the_same_and_never_shows_its_password() {
    let Some(url) = tracemark_testkit::env_or_skip(
        "TRACEMARK_TEST_POSTGRES",
        "a PostgreSQL database URL to run the PostgreSQL tests",
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let schema = format!("cli_test_{}", std::process::id());
    let made = init(dir.path(), &["--postgres", &url, "--schema", &schema]);
    let shown = made.to_string();
    if url.contains('@')
        && let Some(password) = url.split('@').next().and_then(|a| a.rsplit(':').next())
    {
        assert!(!shown.contains(&format!(":{password}@")), "{shown}");
    }
    assert!(!dir.path().join("log/log.db").exists());
    exercise_log(dir.path());
}

/// Copies a log directory (key, storage, any SQLite WAL, the look-up run files) to make a
/// fork: the same key and history so far, two futures.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// `log verify-receipt` requiring the witness's cosignature; its JSON, exiting `code`.
fn verify_with_witness(dir: &Path, receipt: &str, code: i32) -> Value {
    json(
        tracemark(dir).args([
            "log",
            "verify-receipt",
            "--key",
            "log/key.pub",
            "--witness",
            "witness.pub",
            receipt,
        ]),
        code,
    )
}

/// `log prove` of entry `index` into `out`, against the latest cosigned checkpoint
/// when `cosigned`.
fn prove(dir: &Path, index: u64, cosigned: bool, out: &str) {
    let index = index.to_string();
    let mut cmd = tracemark(dir);
    cmd.args([
        "log", "prove", "--dir", "log", "--index", &index, "--out", out,
    ]);
    if cosigned {
        cmd.arg("--cosigned");
    }
    cmd.assert().success();
}

/// A witness cosigns a log, refuses a fork and a rollback, and receipts need its
/// cosignature when the verifier names it.
#[test]
fn a_witness_cosigns_refuses_forks_and_receipts_need_its_cosignature() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    init(dir, &[]);
    let records: Vec<GenerationRecord> = TEXTS
        .iter()
        .enumerate()
        .map(|(n, t)| record(n as u64, t))
        .collect();
    let first = write_records(dir, "first.jsonl", &records[..2]);
    json(
        tracemark(dir)
            .args(["log", "append", "--dir", "log"])
            .arg(&first),
        0,
    );
    // The witness's key is a signed-note key of its own; verifiers get its cosignature key.
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
    let vkey = vkey["witness_vkey"].as_str().unwrap().to_owned();
    assert!(vkey.starts_with("witness.example/w1+"), "{vkey}");
    assert!(!vkey.contains("PRIVATE"));
    std::fs::write(dir.join("witness.pub"), format!("{vkey}\n")).unwrap();

    // First sight: the witness cosigns the log's checkpoint and the log keeps it.
    let cosigned = json(
        tracemark(dir).args(["log", "cosign", "--key", "witness", "log"]),
        0,
    );
    assert_eq!(cosigned["size"], 2);
    assert_eq!(cosigned["previous_size"], 0);
    assert_eq!(cosigned["stored_in_log"], true);
    assert_eq!(cosigned["witness_vkey"], vkey.as_str());
    let at_two = cosigned["checkpoint"].as_str().unwrap().to_owned();
    std::fs::write(dir.join("two.checkpoint"), &at_two).unwrap();
    assert!(dir.join("witness/witness-state.json").exists());

    // A fork: the same key and history, then another future.
    copy_dir(&dir.join("log"), &dir.join("fork"));

    // Receipts against the cosigned checkpoint carry the cosignature.
    prove(dir, 1, false, "r1.tlog");
    let ok = verify_with_witness(dir, "r1.tlog", 0);
    assert_eq!(ok["verified"], true);
    assert_eq!(ok["cosigned_by"][0], "witness.example/w1");

    // Every bit flipped in the cosignature line is rejected when the witness is required.
    let receipt = std::fs::read(dir.join("r1.tlog")).unwrap();
    let line_start = receipt
        .windows(3)
        .rposition(|w| w == "\u{2014}".as_bytes())
        .unwrap();
    let name_end = line_start + "\u{2014} witness.example/w1 ".len();
    assert_eq!(
        &receipt[line_start..name_end],
        "\u{2014} witness.example/w1 ".as_bytes()
    );
    for at in (line_start..receipt.len() - 1).step_by(7) {
        for bit in [0, 3, 6] {
            let mut bad = receipt.clone();
            bad[at] ^= 1 << bit;
            std::fs::write(dir.join("bad.tlog"), &bad).unwrap();
            let out = verify_with_witness(dir, "bad.tlog", 1);
            assert_eq!(out["verified"], false, "byte {at} bit {bit}");
        }
    }

    // The log grows: a fresh receipt has no cosignature and fails when it is required,
    // passes when it is not; `--cosigned` proves against the cosigned checkpoint.
    let third = write_records(dir, "third.json", &records[2..]);
    json(
        tracemark(dir)
            .args(["log", "append", "--dir", "log"])
            .arg(&third),
        0,
    );
    prove(dir, 1, false, "fresh.tlog");
    let without = verify_with_witness(dir, "fresh.tlog", 1);
    assert!(
        without["reason"].as_str().unwrap().contains("cosignature"),
        "{without}"
    );
    json(
        tracemark(dir).args([
            "log",
            "verify-receipt",
            "--key",
            "log/key.pub",
            "fresh.tlog",
        ]),
        0,
    );
    prove(dir, 1, true, "old.tlog");
    let old = verify_with_witness(dir, "old.tlog", 0);
    assert_eq!(old["tree_size"], 2);
    let not_yet = json(
        tracemark(dir).args(["log", "prove", "--dir", "log", "--index", "2", "--cosigned"]),
        3,
    );
    assert!(
        not_yet["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("log cosign"),
        "{not_yet}"
    );

    // The witness cosigns the grown log after checking the consistency proof.
    let grown = json(
        tracemark(dir).args(["log", "cosign", "--key", "witness", "log"]),
        0,
    );
    assert_eq!(
        (grown["previous_size"].as_u64(), grown["size"].as_u64()),
        (Some(2), Some(3))
    );
    prove(dir, 2, false, "r2.tlog");
    verify_with_witness(dir, "r2.tlog", 0);

    // The fork writes another third entry: same size, another root. Refused, and so is
    // the fork grown further (its proof does not link it to what the witness cosigned).
    let other = record(
        9,
        "An entirely different third generation, written on the fork.",
    );
    let other = write_records(dir, "other.json", &[other]);
    json(
        tracemark(dir)
            .args(["log", "append", "--dir", "fork"])
            .arg(&other),
        0,
    );
    let refused = json(
        tracemark(dir).args(["log", "cosign", "--key", "witness", "fork"]),
        3,
    );
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(message.contains("fork"), "{refused}");
    json(
        tracemark(dir)
            .args(["log", "append", "--dir", "fork"])
            .arg(&first),
        0,
    );
    let refused = json(
        tracemark(dir).args(["log", "cosign", "--key", "witness", "fork"]),
        3,
    );
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not consistent"),
        "{refused}"
    );
    // A rollback to the checkpoint of two entries is refused too.
    let refused = json(
        tracemark(dir).args([
            "log",
            "cosign",
            "--key",
            "witness",
            "--log-key",
            "log/key.pub",
            "two.checkpoint",
        ]),
        3,
    );
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("rolled back"),
        "{refused}"
    );
    // The state still holds the log's tree of three entries.
    let state: Value =
        serde_json::from_slice(&std::fs::read(dir.join("witness/witness-state.json")).unwrap())
            .unwrap();
    assert_eq!(state["logs"]["log.example/test"]["size"], 3);
}
