//! End to end: generate marked text with the real tinystories model, detect it, and see
//! that unmarked text and a wrong key are not detected.

use std::{fs, path::Path, path::PathBuf};

use predicates::prelude::*;
use serde_json::Value;

mod common;
use common::{json, tracemark};

fn model() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/models/tinystories-260k")
}

fn keygen(dir: &Path, scheme: &str, out: &str) {
    let model = model();
    let args = [
        "keygen",
        "watermark",
        "--scheme",
        scheme,
        "--model",
        model.to_str().unwrap(),
        "--out",
        out,
    ];
    json(tracemark(dir).args(args), 0);
}

fn generate(dir: &Path, key: Option<&str>, seed: &str) -> Value {
    let model = model();
    let mut cmd = tracemark(dir);
    cmd.args([
        "generate",
        "--model",
        model.to_str().unwrap(),
        "--prompt",
        "Once upon a time",
    ]);
    cmd.args(["--max-tokens", "200", "--seed", seed]);
    match key {
        Some(key) => cmd.args(["--key", key]),
        None => cmd.arg("--no-watermark"),
    };
    json(&mut cmd, 0)
}

fn detect(dir: &Path, key: &str, file: &str, code: i32) -> Value {
    let model = model();
    json(
        tracemark(dir).args([
            "detect",
            "--model",
            model.to_str().unwrap(),
            "--key",
            key,
            file,
        ]),
        code,
    )
}

#[test]
fn marked_text_is_detected_and_unmarked_or_wrong_key_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for scheme in ["kgw-selfhash-v1", "gumbel-v1"] {
        let (key, other) = (format!("{scheme}.json"), format!("{scheme}-other.json"));
        keygen(d, scheme, &key);
        keygen(d, scheme, &other);
        let marked = generate(d, Some(&key), "1");
        assert_eq!(marked["scheme"], scheme);
        assert!(marked["tokens"].as_array().unwrap().len() > 100, "{marked}");
        fs::write(d.join("marked.txt"), marked["text"].as_str().unwrap()).unwrap();

        let found = detect(d, &key, "marked.txt", 0);
        assert_eq!(found["detected"], true, "{scheme}: {found}");
        assert!(found["p_value"].as_f64().unwrap() < 1e-3);
        assert!(found["scored_tokens"].as_u64().unwrap() > 50);
        assert!(found["segments"].is_array());

        let wrong = detect(d, &other, "marked.txt", 1);
        assert_eq!(wrong["detected"], false, "{scheme} wrong key: {wrong}");

        let plain = generate(d, None, "1");
        fs::write(d.join("plain.txt"), plain["text"].as_str().unwrap()).unwrap();
        assert_eq!(detect(d, &key, "plain.txt", 1)["detected"], false);

        // Token ids work without a tokenizer when the key is bound to one.
        let ids: Vec<String> = marked["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.to_string())
            .collect();
        fs::write(d.join("marked.ids"), ids.join(" ")).unwrap();
        let by_ids = json(
            tracemark(d).args(["detect", "--tokens", "--key", &key, "marked.ids"]),
            0,
        );
        assert_eq!(by_ids["detected"], true);
    }
}

#[test]
fn detection_input_problems_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    keygen(d, "kgw-selfhash-v1", "k.json");
    let model = model();
    let m = model.to_str().unwrap();
    fs::write(d.join("latin1.txt"), b"caf\xe9 au lait").unwrap();
    tracemark(d)
        .args(["detect", "--model", m, "--key", "k.json", "latin1.txt"])
        .assert()
        .code(3);
    fs::write(d.join("empty.txt"), "").unwrap();
    tracemark(d)
        .args(["detect", "--model", m, "--key", "k.json", "empty.txt"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("error:"));
    fs::write(d.join("bad.ids"), "1 2 x").unwrap();
    tracemark(d)
        .args(["detect", "--tokens", "--key", "k.json", "bad.ids"])
        .assert()
        .code(2);
    fs::write(d.join("big.ids"), "1 2 99999").unwrap();
    tracemark(d)
        .args(["detect", "--tokens", "--key", "k.json", "big.ids"])
        .assert()
        .code(3);
    // A key without a tokenizer binding cannot guess the vocabulary for token ids.
    json(
        tracemark(d).args(["keygen", "watermark", "--out", "unbound.json"]),
        0,
    );
    tracemark(d)
        .args(["detect", "--tokens", "--key", "unbound.json", "bad.ids"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--model"));
    // A corrupt key and a missing model.
    fs::write(
        d.join("corrupt.json"),
        "{\"format\": \"tracemark.watermark-key/v1\"",
    )
    .unwrap();
    tracemark(d)
        .args([
            "detect",
            "--model",
            m,
            "--key",
            "corrupt.json",
            "latin1.txt",
        ])
        .assert()
        .code(3);
    tracemark(d)
        .args([
            "generate", "--model", "nowhere", "--key", "k.json", "--prompt", "x",
        ])
        .assert()
        .code(3);
    tracemark(d)
        .args([
            "generate",
            "--model",
            m,
            "--key",
            "k.json",
            "--prompt",
            "x",
            "--payload",
            "zz",
        ])
        .assert()
        .failure();
}
