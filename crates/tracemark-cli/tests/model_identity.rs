//! One model identity, end to end: the demo signs the committed model into its work
//! folder and logs its release; `mark` names the model by its identity in the credential
//! and the log record (v2); `attribute` checks the record's digest against the model's
//! signature: trusted with the signer, untrusted under another key, tampered when a
//! weight byte changed, a digest mismatch for other weights. An unsigned model gives v1
//! records and a report that says the identity is not established; a bad or hostile
//! signature is a clear error, never a panic and never "trusted".

mod common;

use std::{
    path::{Path, PathBuf},
    sync::{Mutex, OnceLock},
};

use common::{assert_follows_schema, json, tracemark};
use serde_json::Value;

/// The demo's work folder with the committed model, signed and its release logged: made
/// once for the tests of this file (each writes files of its own names).
struct Fixture {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    summary: Value,
    /// Held while a test appends to the shared log.
    writing: Mutex<()>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_owned();
        let summary = json(
            tracemark(&dir)
                .args(["demo", "--out", "d", "--seed", "5", "--model"])
                .arg(tracemark_testkit::model_dir()),
            0,
        );
        Fixture {
            _tmp: tmp,
            dir,
            summary,
            writing: Mutex::new(()),
        }
    })
}

const CONFIG: [&str; 2] = ["--config", "d/tracemark.toml"];

/// The demo's signature of the committed model, in its work folder.
const SIGNATURE: &str = "d/model/tinystories-260k.sig";

/// A copy of the committed model in `dir/name`.
fn model_copy(dir: &Path, name: &str) -> PathBuf {
    let model = dir.join(name);
    std::fs::create_dir(&model).unwrap();
    for entry in std::fs::read_dir(tracemark_testkit::model_dir()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), model.join(entry.file_name())).unwrap();
    }
    model
}

/// `tracemark mark` of a short story to `out`, with the demo's configuration.
fn mark(f: &Fixture, out: &str, extra: &[&str]) -> Value {
    let _writing = f.writing.lock().unwrap_or_else(|e| e.into_inner());
    json(
        tracemark(&f.dir)
            .args(CONFIG)
            .arg("mark")
            .args(extra)
            .args(["--prompt", "Once upon a time", "--max-tokens", "120"])
            .args(["--out", out]),
        0,
    )
}

/// `tracemark attribute --no-log` of `file` with `extra` flags.
fn attribute(f: &Fixture, file: &str, extra: &[&str], config: &str) -> Value {
    let report = json(
        tracemark(&f.dir)
            .args([
                "--config",
                config,
                "attribute",
                "--no-log",
                "--as-of",
                "2026-12-15",
            ])
            .args(extra)
            .arg(file),
        0,
    );
    assert_follows_schema(&report);
    report
}

/// `tracemark mark` with `extra` flags, which must refuse (exit 3) before generating:
/// the error's message.
fn mark_refused(dir: &Path, extra: &[&str]) -> String {
    let err = json(
        tracemark(dir).args(CONFIG).arg("mark").args(extra).args([
            "--prompt",
            "Once",
            "--max-tokens",
            "5",
            "--out",
            "never.txt",
        ]),
        3,
    );
    assert!(!dir.join("never.txt").exists());
    err["error"]["message"].as_str().unwrap().to_owned()
}

fn facts<'a>(report: &'a Value, kind: &'a str) -> impl Iterator<Item = &'a Value> {
    report["facts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(move |f| f["kind"] == kind)
}

fn model_fact(report: &Value) -> &Value {
    facts(report, "model_identity")
        .next()
        .unwrap_or_else(|| panic!("no model identity in {report:#}"))
}

fn summary_line(report: &Value) -> String {
    report["verdict"]["summary"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .find(|l| l.starts_with("Model identity: "))
        .unwrap_or_else(|| panic!("no model identity line in {report:#}"))
        .to_owned()
}

#[test]
fn a_signed_model_is_named_by_its_identity_and_checked_with_the_outcome() {
    let f = fixture();
    let dir = &f.dir;
    let identity = &f.summary["model_identity"];
    let digest = identity["digest"].as_str().unwrap().to_owned();
    assert_eq!(identity["trust"], "trusted");
    let model_digest = json(
        tracemark(dir)
            .args(["model", "digest"])
            .arg(tracemark_testkit::model_dir()),
        0,
    );
    assert_eq!(model_digest["identity"], digest.as_str());

    // The marked generation's record (v2) and credential carry the digest.
    let marked = mark(f, "signed.txt", &[]);
    let record = &marked["record"];
    assert_eq!(record["format"], "tracemark.generation-record/v2");
    assert_eq!(record["model"]["digest"], digest.as_str());
    assert_eq!(
        record["model"]["release"]["index"],
        identity["release_index"]
    );
    let on_disk: Value =
        serde_json::from_slice(&std::fs::read(dir.join("signed.record.json")).unwrap()).unwrap();
    assert_eq!(on_disk["model"]["digest"], digest.as_str());
    let credential = json(
        tracemark(dir).args(CONFIG).args(["verify", "signed.txt"]),
        0,
    );
    assert_eq!(credential["state"], "trusted");
    assert_eq!(credential["model_digest"], digest.as_str());

    // Attributed with the signed model: trusted, by the demo's publisher, with the
    // release record.
    let report = attribute(f, "signed.txt", &[], "d/tracemark.toml");
    let m = model_fact(&report);
    assert_eq!(m["check"], "trusted", "{m:#}");
    assert_eq!(m["named_digest"], digest.as_str());
    assert_eq!(m["model_digest"], digest.as_str());
    assert!(
        m["signer"]
            .as_str()
            .unwrap()
            .contains("Tracemark demo model publisher")
    );
    assert_eq!(m["release"]["index"], identity["release_index"]);
    assert_eq!(m["release"]["inclusion_verified"], true);
    assert_eq!(m["method"]["parameters"]["weights_hashed"], true);
    let line = summary_line(&report);
    assert!(
        line.contains(&digest) && line.contains("signed by") && line.contains("trusted."),
        "{line}"
    );

    // The signature alone (no weights): the digest it signs, trusted, weights not hashed.
    let report = attribute(
        f,
        "signed.txt",
        &["--model-signature", SIGNATURE],
        "d/tracemark.toml",
    );
    let m = model_fact(&report);
    assert_eq!(m["check"], "trusted", "{m:#}");
    assert_eq!(m["method"]["parameters"]["weights_hashed"], false);

    // Another publisher's root trusted instead: the same signature is untrusted.
    tracemark(dir)
        .args(["keygen", "model-signing", "--out", "other"])
        .assert()
        .success();
    let config = std::fs::read_to_string(dir.join("d/tracemark.toml")).unwrap();
    let other_root = dir.join("other/root.pem");
    let other = config.replace(
        "home/keys/signing/demo-model/root.pem",
        other_root.to_str().unwrap(),
    );
    assert_ne!(other, config);
    std::fs::write(dir.join("d/other.toml"), other).unwrap();
    let report = attribute(f, "signed.txt", &[], "d/other.toml");
    let m = model_fact(&report);
    assert_eq!(m["check"], "untrusted", "{m:#}");
    assert!(summary_line(&report).contains("untrusted."));

    // A changed weight byte: the model no longer matches its signature.
    let changed = model_copy(dir, "changed");
    let weights = changed.join("model.bin");
    let mut bytes = std::fs::read(&weights).unwrap();
    bytes[4096] ^= 0x01;
    std::fs::write(&weights, &bytes).unwrap();
    let report = attribute(
        f,
        "signed.txt",
        &["--model-dir", "changed", "--model-signature", SIGNATURE],
        "d/tracemark.toml",
    );
    let m = model_fact(&report);
    assert_eq!(m["check"], "tampered", "{m:#}");
    assert!(m["reason"].as_str().unwrap().contains("model.bin"), "{m:#}");
    assert_ne!(m["model_digest"], digest.as_str());

    // The changed weights signed by the trusted publisher: a valid signature, but of
    // other weights than the record names.
    tracemark(dir)
        .args([
            "model",
            "sign",
            "--key",
            "d/home/keys/signing/demo-model/key.pem",
            "--cert",
            "d/home/keys/signing/demo-model/chain.pem",
            "--signature",
            "changed.sig",
            "changed",
        ])
        .assert()
        .success();
    let report = attribute(
        f,
        "signed.txt",
        &["--model-dir", "changed", "--model-signature", "changed.sig"],
        "d/tracemark.toml",
    );
    let m = model_fact(&report);
    assert_eq!(m["check"], "digest_mismatch", "{m:#}");
    assert!(summary_line(&report).contains("digest mismatch"));
}

#[test]
fn an_unsigned_model_gives_v1_records_and_an_unestablished_identity() {
    let f = fixture();
    let dir = &f.dir;
    let unsigned = model_copy(dir, "unsigned");
    // The flag's model replaces the configured one; it has no model.sig: a v1 record,
    // without a digest, and a credential without one.
    let marked = mark(f, "unsigned.txt", &["--model", unsigned.to_str().unwrap()]);
    let record = &marked["record"];
    assert_eq!(record["format"], "tracemark.generation-record/v1");
    assert!(record["model"].get("digest").is_none(), "{record:#}");
    let credential = json(
        tracemark(dir).args(CONFIG).args(["verify", "unsigned.txt"]),
        0,
    );
    assert!(credential.get("model_digest").is_none(), "{credential:#}");

    // Attributed with the unsigned model: the record names it by name only, the model
    // has no signature; no check says trusted.
    let report = attribute(
        f,
        "unsigned.txt",
        &["--model-dir", "unsigned"],
        "d/tracemark.toml",
    );
    assert_eq!(facts(&report, "model_identity").count(), 0, "{report:#}");
    let reasons: Vec<&str> = facts(&report, "unestablished")
        .filter(|u| u["topic"] == "model")
        .map(|u| u["reason"].as_str().unwrap())
        .collect();
    assert!(
        reasons.iter().any(|r| r.contains("by name only")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("has no signature")),
        "{reasons:?}"
    );
    assert!(
        report["limitations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l.as_str().unwrap().starts_with("The identity of the model")),
        "{report:#}"
    );
}

#[test]
fn a_bad_or_hostile_model_signature_is_a_clear_error() {
    let f = fixture();
    let dir = &f.dir;
    let model = tracemark_testkit::model_dir();
    let real = std::fs::read(dir.join(SIGNATURE)).unwrap();
    let mut other_media = serde_json::from_slice::<Value>(&real).unwrap();
    other_media["mediaType"] = "application/vnd.example+json".into();
    for (name, bytes) in [
        ("garbage.sig", b"\x00\x01 not a bundle".to_vec()),
        ("truncated.sig", real[..real.len() / 2].to_vec()),
        ("empty.sig", Vec::new()),
        ("media.sig", other_media.to_string().into_bytes()),
        ("deep.sig", "[".repeat(100_000).into_bytes()),
    ] {
        std::fs::write(dir.join(name), bytes).unwrap();
        let err = json(
            tracemark(dir)
                .args(CONFIG)
                .args(["attribute", "--no-log", "--model-dir"])
                .arg(&model)
                .args(["--model-signature", name, "d/1-mark-at-the-source.txt"]),
            3,
        );
        let message = err["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("model's signature could not be checked") && message.contains(name),
            "{name}: {message}"
        );
        // The marking station refuses it too, before generating.
        let message = mark_refused(dir, &["--model-signature", name]);
        assert!(message.contains(name), "{name}: {message}");
    }
    // A signature that does not match the weights stops the marking station: it must
    // not name weights it does not run.
    let changed = model_copy(dir, "changed-for-mark");
    let weights = changed.join("model.bin");
    let mut bytes = std::fs::read(&weights).unwrap();
    bytes[100] ^= 0x80;
    std::fs::write(&weights, &bytes).unwrap();
    let message = mark_refused(
        dir,
        &[
            "--model",
            "changed-for-mark",
            "--model-signature",
            SIGNATURE,
        ],
    );
    assert!(
        message.contains("does not match its signature"),
        "{message}"
    );
}
