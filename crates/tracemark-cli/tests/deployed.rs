//! End to end: keys imported from vLLM's and SGLang's own watermark configurations
//! (`keygen watermark --from-vllm / --from-sglang`) mark text from the committed
//! tinystories model and detect it; unmarked text, another key and the other vLLM token
//! mapping do not; malformed configurations are clear errors that write nothing.
//!
//! The configurations' keys are fixed and generation is seeded, so every verdict below is
//! the same every run. Measured when written: the marked texts at p = 10^-55.8 to
//! 10^-67.8 on 367 to 391 scored tokens, but 10^-25.5 for vLLM's dual key at α = 0.25
//! (its weighted score dilutes what each key contributes); unmarked text, the other keys
//! and the other mapping at p ≥ 0.06.

use std::{fs, path::Path, path::PathBuf};

use predicates::prelude::*;
use serde_json::Value;

mod common;
use common::{detect, json, tracemark};

fn model() -> PathBuf {
    tracemark_testkit::model_dir()
}

/// `keygen watermark FLAG CONFIG --model M --out OUT [extra]`, which must succeed.
fn import(dir: &Path, flag: &str, config: &str, out: &str, extra: &[&str]) -> Value {
    let model = model();
    let mut cmd = tracemark(dir);
    cmd.args(["keygen", "watermark", flag, config])
        .args(["--model", model.to_str().unwrap(), "--out", out])
        .args(extra);
    json(&mut cmd, 0)
}

/// 400 tokens after "Once upon a time", seed 1, marked with `key` (or not); the text is
/// written to `file` and the generation returned.
fn generate(dir: &Path, key: Option<&str>, file: &str) -> Value {
    let model = model();
    let mut cmd = tracemark(dir);
    cmd.args(["generate", "--model", model.to_str().unwrap()])
        .args([
            "--prompt",
            "Once upon a time",
            "--max-tokens",
            "400",
            "--seed",
            "1",
        ]);
    match key {
        Some(key) => cmd.args(["--key", key]),
        None => cmd.arg("--no-watermark"),
    };
    let generated = json(&mut cmd, 0);
    fs::write(dir.join(file), generated["text"].as_str().unwrap()).unwrap();
    generated
}

fn p_value(found: &Value) -> f64 {
    found["p_value"].as_f64().unwrap()
}

/// One stack configuration: how it is imported, what it makes, and a configuration of
/// the same kind with other keys.
struct Case {
    name: &'static str,
    flag: &'static str,
    config: &'static str,
    extra: &'static [&'static str],
    scheme: &'static str,
    /// A secret that appears in the configuration, never on standard output.
    secret: &'static str,
    other: &'static str,
}

const CASES: [Case; 5] = [
    Case {
        name: "vllm-gumbel",
        flag: "--from-vllm",
        config: r#"{"algorithm": "gumbel", "key": 4242424242}"#,
        extra: &[],
        scheme: "vllm-gumbel-v1",
        secret: "4242424242",
        other: r#"{"algorithm": "gumbel", "key": 4242424243}"#,
    },
    Case {
        name: "vllm-gumbel-v1a",
        flag: "--from-vllm",
        config: r#"{"key": 7777777777, "context_width": 3, "deduplicate_contexts": "all"}"#,
        extra: &["--vllm-mapping", "v1a"],
        scheme: "vllm-gumbel-v1",
        secret: "7777777777",
        other: r#"{"key": 7777777778, "context_width": 3, "deduplicate_contexts": "all"}"#,
    },
    Case {
        name: "vllm-dual",
        flag: "--from-vllm",
        config: r#"{"algorithm": "dual_key_gumbel", "key": 4242424242, "alpha": 0.25}"#,
        extra: &[],
        scheme: "vllm-dual-key-gumbel-v1",
        secret: "4242424242",
        other: r#"{"algorithm": "dual_key_gumbel", "key": 5, "alpha": 0.25}"#,
    },
    Case {
        name: "sglang",
        flag: "--from-sglang",
        config: r#"{"key": "0x5eed5eed5eed5eed", "context_window": 4}"#,
        extra: &[],
        scheme: "sglang-gumbel-v1",
        secret: "5eed5eed5eed5eed",
        other: r#"{"key": "0x5eed5eed5eed5eee", "context_window": 4}"#,
    },
    Case {
        name: "sglang-dual",
        flag: "--from-sglang",
        config: r#"{"key": "c0ffeec0ffeec0ff", "key_b": "0badf00d0badf00d", "mixing_probability": 0.3}"#,
        extra: &[],
        scheme: "sglang-gumbel-v1",
        secret: "0badf00d0badf00d",
        other: r#"{"key": "c0ffeec0ffeec0fe", "key_b": "0badf00d0badf00c", "mixing_probability": 0.3}"#,
    },
];

#[test]
fn stack_configurations_import_into_keys_that_mark_and_detect() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    generate(d, None, "plain.txt");
    for case in &CASES {
        let name = case.name;
        let config = format!("{name}.json");
        fs::write(d.join(&config), case.config).unwrap();
        let key = format!("{name}.key.json");
        let made = import(d, case.flag, &config, &key, case.extra);
        let details = &made["details"];
        assert_eq!(made["kind"], "watermark");
        assert_eq!(details["scheme"], case.scheme, "{name}: {made}");
        assert_eq!(details["tokenizer"]["vocab_size"], 512);
        assert_eq!(details["payload_bits"], 0);
        assert_eq!(details["imported_from"], config.as_str());
        if case.flag == "--from-vllm" {
            let mapping = if case.extra.contains(&"v1a") {
                "v1a"
            } else {
                "v1b"
            };
            assert_eq!(details["mapping"], mapping, "{name}");
        }
        assert!(!made.to_string().contains(case.secret), "{name}: {made}");
        let written = fs::read_to_string(d.join(&key)).unwrap();
        assert!(written.contains(case.secret), "{name}: {written}");
        // One configuration, one key id; --scheme may name what the configuration makes.
        let again = import(
            d,
            case.flag,
            &config,
            &format!("{name}.again.json"),
            &[case.extra, &["--scheme", case.scheme]].concat(),
        );
        assert_eq!(again["key_id"], made["key_id"], "{name}");

        let marked_file = format!("{name}.txt");
        let marked = generate(d, Some(&key), &marked_file);
        assert_eq!(marked["scheme"], case.scheme);
        let found = detect(d, &key, &marked_file, 0);
        assert_eq!(found["detected"], true, "{name}: {found}");
        assert!(p_value(&found) < 1e-8, "{name}: {found}");
        assert_eq!(found["scheme"], case.scheme);
        assert_eq!(found["payload"], Value::Null);
        assert_eq!(found["segments"].as_array().unwrap().len(), 1, "{name}");
        // The token ids detect too, with the key's own tokenizer binding.
        let ids: Vec<String> = marked["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .map(Value::to_string)
            .collect();
        fs::write(d.join(format!("{name}.ids")), ids.join(" ")).unwrap();
        let by_ids = json(
            tracemark(d).args(["detect", "--tokens", "--key", &key, &format!("{name}.ids")]),
            0,
        );
        assert_eq!(by_ids["detected"], true, "{name}: {by_ids}");

        let unmarked = detect(d, &key, "plain.txt", 1);
        assert!(p_value(&unmarked) > 1e-2, "{name} unmarked: {unmarked}");
        let other_config = format!("{name}.other.json");
        fs::write(d.join(&other_config), case.other).unwrap();
        let other_key = format!("{name}.other.key.json");
        import(d, case.flag, &other_config, &other_key, case.extra);
        let wrong = detect(d, &other_key, &marked_file, 1);
        assert!(p_value(&wrong) > 1e-2, "{name} wrong key: {wrong}");
    }
    // vLLM's two token mappings share a version string; the other one does not detect.
    import(
        d,
        "--from-vllm",
        "vllm-gumbel.json",
        "v1a.key.json",
        &["--vllm-mapping", "v1a"],
    );
    let remapped = detect(d, "v1a.key.json", "vllm-gumbel.txt", 1);
    assert!(p_value(&remapped) > 1e-2, "{remapped}");
}

#[test]
fn imports_go_where_other_keys_go() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("sglang.json"), r#"{"key": "abc"}"#).unwrap();
    let args = ["keygen", "watermark", "--from-sglang", "sglang.json"];
    let made = json(tracemark(d).args(args).args(["--name", "sglang"]), 0);
    let listed = json(tracemark(d).args(["keys", "list"]), 0);
    assert!(listed.to_string().contains("sglang"), "{listed}");
    assert!(made["path"].as_str().unwrap().ends_with("sglang.json"));
    // An existing key is kept unless --force says otherwise.
    tracemark(d)
        .args(args)
        .args(["--name", "sglang"])
        .assert()
        .code(2);
    json(
        tracemark(d)
            .args(args)
            .args(["--name", "sglang", "--force"]),
        0,
    );
    // A fresh key of a deployed scheme, to give the stack: no payload.
    let fresh = json(
        tracemark(d).args([
            "keygen",
            "watermark",
            "--scheme",
            "vllm-gumbel-v1",
            "--out",
            "f.json",
        ]),
        0,
    );
    assert_eq!(fresh["details"]["scheme"], "vllm-gumbel-v1");
    tracemark(d)
        .args(["keygen", "watermark", "--scheme", "sglang-gumbel-v1"])
        .args(["--payload-bits", "8", "--out", "p.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("carry no payload"));
    let schemes = json(tracemark(d).arg("schemes"), 0);
    let ids: Vec<&str> = schemes["schemes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    for id in [
        "vllm-gumbel-v1",
        "vllm-dual-key-gumbel-v1",
        "sglang-gumbel-v1",
    ] {
        assert!(ids.contains(&id), "{ids:?}");
    }
}

#[test]
fn malformed_configurations_are_clear_errors_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let long = format!(r#"{{"key": "1", "context_window": 4{}}}"#, " ".repeat(5000));
    let cases: Vec<(&str, &str, Vec<u8>, &str)> = vec![
        (
            "--from-vllm",
            "v-not-json",
            br#"{"key": 4"#.to_vec(),
            "not JSON",
        ),
        ("--from-vllm", "v-array", b"[1]".to_vec(), "JSON object"),
        (
            "--from-vllm",
            "v-no-key",
            br#"{"algorithm": "gumbel"}"#.to_vec(),
            "`key` is required",
        ),
        (
            "--from-vllm",
            "v-unknown",
            br#"{"key": 1, "seed": 3}"#.to_vec(),
            "unknown field `seed`",
        ),
        (
            "--from-vllm",
            "v-key-big",
            br#"{"key": 18446744073709551616}"#.to_vec(),
            "2^64-1",
        ),
        (
            "--from-vllm",
            "v-key-negative",
            br#"{"key": -1}"#.to_vec(),
            "negative",
        ),
        (
            "--from-vllm",
            "v-key-text",
            br#"{"key": "9876543210"}"#.to_vec(),
            "must be an integer",
        ),
        (
            "--from-vllm",
            "v-sbw",
            br#"{"key": 1, "algorithm": "sbw"}"#.to_vec(),
            "`sbw` is not supported",
        ),
        (
            "--from-vllm",
            "v-hmac",
            br#"{"key": 1, "prf": "hmac_sha256"}"#.to_vec(),
            "removed",
        ),
        (
            "--from-vllm",
            "v-width",
            br#"{"key": 1, "context_width": 0}"#.to_vec(),
            "at least 1",
        ),
        (
            "--from-vllm",
            "v-alpha",
            br#"{"key": 1, "algorithm": "dual_key_gumbel", "alpha": 2}"#.to_vec(),
            "[0, 1]",
        ),
        (
            "--from-vllm",
            "v-latin1",
            b"{\"key\": 1, \"x\": \"caf\xe9\"}".to_vec(),
            "UTF-8",
        ),
        ("--from-sglang", "s-not-json", b"{".to_vec(), "not JSON"),
        (
            "--from-sglang",
            "s-no-key",
            b"{}".to_vec(),
            "`key` is required",
        ),
        (
            "--from-sglang",
            "s-key-number",
            br#"{"key": 9876543210}"#.to_vec(),
            "hex string",
        ),
        (
            "--from-sglang",
            "s-key-long",
            br#"{"key": "12345678901234567"}"#.to_vec(),
            "1 to 16",
        ),
        (
            "--from-sglang",
            "s-key-b",
            br#"{"key": "1", "key_b": "xyz"}"#.to_vec(),
            "`key_b`",
        ),
        (
            "--from-sglang",
            "s-window",
            br#"{"key": "1", "context_window": 65}"#.to_vec(),
            "1 to 64",
        ),
        (
            "--from-sglang",
            "s-mixing",
            br#"{"key": "1", "mixing_probability": 1}"#.to_vec(),
            "strictly between",
        ),
        (
            "--from-sglang",
            "s-algorithm",
            br#"{"key": "1", "algorithm": "synthid"}"#.to_vec(),
            "unknown field `algorithm`",
        ),
        ("--from-sglang", "s-long", long.into_bytes(), "4096 bytes"),
    ];
    let model = model();
    for (flag, name, bytes, want) in &cases {
        let file = format!("{name}.json");
        fs::write(d.join(&file), bytes).unwrap();
        let args = ["keygen", "watermark", flag, &file, "--out", "k.json"];
        let args = [&args[..], &["--model", model.to_str().unwrap()]].concat();
        let err = json(tracemark(d).args(&args), 3);
        let message = err["error"]["message"].as_str().unwrap();
        assert!(message.contains(want), "{name}: {message}");
        assert!(message.contains(&file), "{name}: {message}");
        assert!(!message.contains("9876543210"), "{name}: {message}");
        assert!(err["error"]["hint"].is_string(), "{name}: {err}");
        tracemark(d)
            .args(&args)
            .assert()
            .code(3)
            .stderr(predicate::str::contains("panicked").not())
            .stderr(predicate::str::contains(*want));
    }
    tracemark(d)
        .args([
            "keygen",
            "watermark",
            "--from-vllm",
            "nowhere.json",
            "--out",
            "k.json",
        ])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("nowhere.json"));

    // Flags that cannot go together, or a scheme the configuration does not make.
    fs::write(d.join("gumbel.json"), r#"{"key": 1}"#).unwrap();
    fs::write(
        d.join("dual.json"),
        r#"{"key": 1, "algorithm": "dual_key_gumbel"}"#,
    )
    .unwrap();
    fs::write(d.join("sglang.json"), r#"{"key": "1"}"#).unwrap();
    let usage: [(&[&str], &str); 7] = [
        (
            &["--from-vllm", "gumbel.json", "--scheme", "sglang-gumbel-v1"],
            "vllm-gumbel-v1 or vllm-dual-key-gumbel-v1",
        ),
        (
            &["--from-vllm", "dual.json", "--scheme", "vllm-gumbel-v1"],
            "configures vllm-dual-key-gumbel-v1",
        ),
        (
            &["--from-sglang", "sglang.json", "--scheme", "gumbel-v1"],
            "sglang-gumbel-v1",
        ),
        (
            &["--from-vllm", "gumbel.json", "--payload-bits", "8"],
            "--payload-bits",
        ),
        (
            &["--from-vllm", "gumbel.json", "--from-sglang", "sglang.json"],
            "--from-sglang",
        ),
        (&["--vllm-mapping", "v1a"], "--from-vllm"),
        (
            &["--from-vllm", "gumbel.json", "--vllm-mapping", "v1c"],
            "v1c",
        ),
    ];
    for (args, want) in usage {
        tracemark(d)
            .args(["keygen", "watermark", "--out", "k.json"])
            .args(args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(want));
    }
    assert!(!d.join("k.json").exists(), "nothing may be written");
}
