//! End-to-end tests of the `tracemark` binary: the conventions scripts rely on (one JSON
//! object with `--json`, exit statuses, errors that name the fix) and the key commands.

use std::{fs, path::Path};

use predicates::prelude::*;
use serde_json::Value;

mod common;
use common::{json, tracemark};

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn keygen_writes_every_kind_privately_and_never_prints_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 4] = [
        (
            &[
                "keygen",
                "watermark",
                "--scheme",
                "gumbel-v1",
                "--out",
                "wm.json",
            ],
            "wm.json",
        ),
        (
            &["keygen", "signing", "--out", "signing"],
            "signing/key.pem",
        ),
        (
            &["keygen", "log", "--origin", "log.example/t", "--out", "log"],
            "log/key.json",
        ),
        (
            &["keygen", "service", "--out", "service"],
            "service/key.json",
        ),
    ];
    for (args, secret_file) in cases {
        let mut cmd = tracemark(dir.path());
        let out = cmd
            .args(args)
            .arg("--json")
            .assert()
            .success()
            .get_output()
            .clone();
        let stdout = String::from_utf8(out.stdout).unwrap();
        let value: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(value["key_id"].as_str().unwrap().len(), 32, "{stdout}");
        let secret_path = dir.path().join(secret_file);
        #[cfg(unix)]
        assert_eq!(mode(&secret_path), 0o600, "{secret_file}");
        // No line of the secret file (beyond framing) appears in anything printed.
        let secret = fs::read_to_string(&secret_path).unwrap();
        let printed = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
        for line in secret
            .lines()
            .filter(|l| l.len() > 40 && !l.contains("key_id"))
        {
            assert!(
                !printed.contains(line.trim()),
                "{secret_file} leaked: {line}"
            );
        }
    }
    // The signer sends the chain; the verifier trusts the root; the log publishes key.pub.
    assert!(dir.path().join("signing/chain.pem").is_file());
    assert!(dir.path().join("signing/root.pem").is_file());
    let vkey = fs::read_to_string(dir.path().join("log/key.pub")).unwrap();
    assert!(vkey.starts_with("log.example/t+"), "{vkey}");
}

#[test]
fn keys_go_to_the_store_by_name_and_are_never_silently_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let first = json(tracemark(dir.path()).args(["keygen", "watermark"]), 0);
    let path = dir.path().join("home/keys/watermark/default.json");
    assert_eq!(first["path"], path.to_str().unwrap());

    let refused = json(tracemark(dir.path()).args(["keygen", "watermark"]), 2);
    assert!(
        refused["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("--force")
    );
    let kept = fs::read_to_string(&path).unwrap();
    assert!(kept.contains(first["key_id"].as_str().unwrap()));

    let replaced = json(
        tracemark(dir.path()).args(["keygen", "watermark", "--force"]),
        0,
    );
    assert_ne!(replaced["key_id"], first["key_id"]);

    let listed = json(tracemark(dir.path()).args(["keys", "list"]), 0);
    assert_eq!(listed["keys"].as_array().unwrap().len(), 1);
}

#[test]
fn version_names_the_formats_it_writes() {
    let dir = tempfile::tempdir().unwrap();
    let long = tracemark(dir.path())
        .arg("--version")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let long = String::from_utf8(long).unwrap();
    let info = json(tracemark(dir.path()).arg("version"), 0);
    let formats = info["formats"].as_array().unwrap();
    assert!(formats.len() >= 4);
    for format in formats {
        assert!(long.contains(format["format"].as_str().unwrap()), "{long}");
    }
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    tracemark(dir.path())
        .arg("no-such-command")
        .assert()
        .code(2);
    tracemark(dir.path())
        .args(["keygen", "log", "--out", "x", "--name", "y"])
        .assert()
        .code(2);
    let err = json(
        tracemark(dir.path()).args(["keygen", "watermark", "--scheme", "kgw"]),
        2,
    );
    assert_eq!(err["error"]["fault"], "usage");
    tracemark(dir.path())
        .args(["keygen", "signing", "--alg", "rsa", "--out", "s"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("ed25519 or es256"));
    tracemark(dir.path())
        .args(["keygen", "service", "--key-name", "has space", "--out", "s"])
        .assert()
        .code(2);
    // A serving stack's mark is not measured by the evaluation: said, not skipped.
    let model = tracemark_testkit::model_dir();
    tracemark(dir.path())
        .args(["eval", "watermark", "--scheme", "vllm-gumbel-v1", "--model"])
        .arg(&model)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("Tracemark's own schemes"));
}

#[test]
fn configuration_problems_are_bad_input_that_names_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    tracemark(dir.path())
        .args(["--config", "missing.toml", "config", "show"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("missing.toml"));

    fs::write(dir.path().join("typo.toml"), "[keys]\nwatermarks = []\n").unwrap();
    tracemark(dir.path())
        .args(["--config", "typo.toml", "config", "check"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("watermarks"));

    // TRACEMARK_CONFIG names the file too, and a file in the working directory is found.
    fs::write(
        dir.path().join("bad.toml"),
        "[log]\npostgres = \"not a url\"\n",
    )
    .unwrap();
    tracemark(dir.path())
        .env("TRACEMARK_CONFIG", "bad.toml")
        .args(["config", "show"])
        .assert()
        .code(3);
    fs::write(
        dir.path().join("tracemark.toml"),
        "[policy]\njurisdictions = [\"EU\"]\n",
    )
    .unwrap();
    let shown = json(tracemark(dir.path()).args(["config", "show"]), 0);
    assert_eq!(shown["from"]["source"], "working_directory");
    assert_eq!(
        shown["config"]["policy"]["jurisdictions"],
        serde_json::json!(["EU"])
    );
}

#[test]
fn config_check_reads_every_key_and_names_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    json(
        tracemark(dir.path()).args(["keygen", "log", "--out", "log"]),
        0,
    );
    json(
        tracemark(dir.path()).args(["keygen", "watermark", "--out", "wm.json"]),
        0,
    );

    fs::write(
        dir.path().join("ok.toml"),
        "[keys]\nwatermark = [\"wm.json\"]\nlog = \"log\"\n",
    )
    .unwrap();
    let ok = json(
        tracemark(dir.path()).args(["--config", "ok.toml", "config", "check"]),
        0,
    );
    assert_eq!(ok["keys"].as_array().unwrap().len(), 2);

    // A log key where a service key is expected.
    fs::write(dir.path().join("kind.toml"), "[keys]\nservice = \"log\"\n").unwrap();
    tracemark(dir.path())
        .args(["--config", "kind.toml", "config", "check"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("is a log key"));

    // A secret readable by others.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(
            dir.path().join("wm.json"),
            fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        tracemark(dir.path())
            .args(["--config", "ok.toml", "config", "check"])
            .assert()
            .code(3)
            .stderr(predicate::str::contains("chmod 600"));
    }

    // A truncated key file.
    let wm = fs::read(dir.path().join("wm.json")).unwrap();
    fs::remove_file(dir.path().join("wm.json")).unwrap();
    json(
        tracemark(dir.path()).args(["keygen", "watermark", "--out", "wm.json"]),
        0,
    );
    let path = dir.path().join("wm.json");
    let mut file = fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&path)
        .unwrap();
    std::io::Write::write_all(&mut file, &wm[..wm.len() / 3]).unwrap();
    tracemark(dir.path())
        .args(["--config", "ok.toml", "config", "check"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("not a Tracemark key file"));
}

#[test]
fn an_unusable_key_store_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("home"), "a file, not a directory").unwrap();
    tracemark(dir.path())
        .args(["keygen", "watermark"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("home").and(predicate::str::contains("fix:")));
}

#[test]
fn hash_matches_sha256_and_checks_text() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("abc.txt"), "abc").unwrap();
    let out = json(tracemark(dir.path()).args(["hash", "abc.txt"]), 0);
    assert_eq!(
        out["hash"],
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    tracemark(dir.path())
        .args(["hash", "-"])
        .write_stdin("abc")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("sha256:ba7816bf"));
    fs::write(dir.path().join("latin1.txt"), b"caf\xe9").unwrap();
    tracemark(dir.path())
        .args(["hash", "--nfc", "latin1.txt"])
        .assert()
        .code(3);
    tracemark(dir.path())
        .args(["hash", "missing.txt"])
        .assert()
        .code(3);
}

#[test]
fn demo_sets_up_a_work_folder_that_the_other_commands_accept() {
    let dir = tempfile::tempdir().unwrap();
    let demo = json(tracemark(dir.path()).args(["demo", "--out", "work"]), 0);
    assert_eq!(demo["keys"].as_array().unwrap().len(), 5);
    // The corpus model is signed as its index: the identity the demo verified is the
    // one `model digest` computes, and `model verify` (under the demo's trust) agrees.
    let identity = &demo["model_identity"];
    assert_eq!(identity["trust"], "trusted", "{identity:#}");
    let digest = json(
        tracemark(dir.path()).args(["model", "digest", "work/index"]),
        0,
    );
    assert_eq!(digest["identity"], identity["digest"], "{digest:#}");
    // The demo corpus comes out of the binary into the work folder, and is what it indexed.
    let corpus = Path::new(demo["corpus"].as_str().unwrap());
    assert!(corpus.ends_with("work/corpus/texts"), "{corpus:?}");
    assert!(corpus.join("marrow-lane-press/dear-mr-aske.txt").is_file());
    assert!(
        corpus
            .join("../signals/marrow-lane-press/robots.txt")
            .is_file()
    );
    let config = demo["config"].as_str().unwrap();
    let check = json(
        tracemark(dir.path()).args(["--config", config, "config", "check"]),
        0,
    );
    // A key of every kind, and the image watermark key beside the text one.
    let keys = check["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 5, "{check:#}");
    // A withdrawal after the release changes the index's withdrawal list, which the
    // model's identity leaves out: the same identity, and the signature still holds.
    // The demo logged its corpus's collection, so the withdrawal is logged too, in the
    // demo's log: without its configuration, a usage error that names that log.
    let withdraw = [
        "index",
        "withdraw",
        "work/index",
        "--id",
        "brightwater/changelog.txt",
    ];
    let unlogged = json(tracemark(dir.path()).args(withdraw), 2);
    let message = unlogged["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("in force but not logged")
            && message.contains("demo.tracemark.invalid/log"),
        "{unlogged:#}"
    );
    let logged = json(
        tracemark(dir.path())
            .args(["--config", config])
            .args(withdraw),
        0,
    );
    assert!(logged["logged_at_index"].is_u64(), "{logged:#}");
    // Idempotent: a second run reuses the keys, the signature and the release record.
    let again = json(tracemark(dir.path()).args(["demo", "--out", "work"]), 0);
    assert!(
        again["keys"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["reused"] == true)
    );
    let reused = &again["model_identity"];
    assert_eq!(reused["digest"], identity["digest"], "{reused:#}");
    assert_eq!(reused["signed_now"], false, "{reused:#}");
    assert_eq!(reused["logged_now"], false, "{reused:#}");
}

#[test]
fn rights_check_reads_a_saved_robots_txt() {
    let dir = tempfile::tempdir().unwrap();
    let robots =
        "User-agent: GPTBot\nDisallow: /\n\nUser-agent: *\nContent-Usage: / train-ai=n\nAllow: /\n";
    fs::write(dir.path().join("robots.txt"), robots).unwrap();
    let report = json(
        tracemark(dir.path()).args([
            "rights",
            "check",
            "--asset",
            "https://example.com/essay",
            "--seen-at",
            "2026-03-01T00:00:00Z",
            "robots.txt",
        ]),
        0,
    );
    let decision = |use_: &str| {
        report["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["use"] == use_)
            .unwrap()["permission"]
            .clone()
    };
    assert_eq!(decision("ai-train"), "disallowed");
    assert_eq!(report["seen_at"], "2026-03-01T00:00:00Z");
    let gptbot = report["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["agent"] == "GPTBot")
        .unwrap();
    assert!(
        gptbot["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["permission"] == "disallowed")
    );

    // A URL is a usage error with a fix; a bad date too; a missing file is bad input.
    tracemark(dir.path())
        .args(["rights", "check", "https://example.com/robots.txt"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("fix:"));
    tracemark(dir.path())
        .args(["rights", "check", "--seen-at", "yesterday", "robots.txt"])
        .assert()
        .code(2);
    tracemark(dir.path())
        .args(["rights", "check", "missing.txt"])
        .assert()
        .code(3);
    fs::write(dir.path().join("tdmrep.json"), "[{\"location\": ").unwrap();
    tracemark(dir.path())
        .args(["rights", "check", "tdmrep.json"])
        .assert()
        .code(3);
}
