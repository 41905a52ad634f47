//! `tracemark model`: signing and verifying a model directory end to end (exit statuses,
//! the trust rule's outcomes, key files' rules), Tracemark's own ES256 signing identity
//! as the `certificate` method, and the ML-BOM of the committed model against the
//! CycloneDX 1.6 schema.

mod common;

use std::path::{Path, PathBuf};

use common::{json, tracemark};
use serde_json::Value;

fn model_copy(dir: &Path) -> PathBuf {
    let model = dir.join("tinystories-260k");
    std::fs::create_dir(&model).unwrap();
    for entry in std::fs::read_dir(tracemark_testkit::model_dir()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), model.join(entry.file_name())).unwrap();
    }
    model
}

/// An ES256 signing identity made by `tracemark keygen signing` in DIR/id.
fn es256_identity(dir: &Path) -> PathBuf {
    tracemark(dir)
        .args(["keygen", "signing", "--alg", "es256", "--out", "id"])
        .assert()
        .success();
    dir.join("id")
}

#[test]
fn sign_then_verify_trusted_untrusted_and_tampered_with_exit_statuses() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let model = model_copy(dir);
    let id = es256_identity(dir);
    // The identity's key signs as the `key` method too; its public half from the chain.
    let signed = json(
        tracemark(dir)
            .args(["model", "sign", "--key"])
            .arg(id.join("key.pem"))
            .arg(&model),
        0,
    );
    assert_eq!(signed["method"], "key");
    assert_eq!(signed["resources"], 4);
    let root = signed["root_digest"].as_str().unwrap().to_owned();
    assert!(model.join("model.sig").exists());
    let digest = json(tracemark(dir).args(["model", "digest"]).arg(&model), 0);
    assert_eq!(
        digest["identity"],
        root.as_str(),
        "the signed root is the model's identity"
    );

    // Without a key: untrusted, exit 1, and the reason says what to give.
    let v = json(tracemark(dir).args(["model", "verify"]).arg(&model), 1);
    assert_eq!(v["trust"], "untrusted");
    assert!(v["reason"].as_str().unwrap().contains("--key"), "{v}");

    // With the certificate chain's root: the bundle carries only the key's hint, so the
    // chain cannot be checked: still untrusted.
    let v = json(
        tracemark(dir)
            .args(["model", "verify", "--trust"])
            .arg(id.join("root.pem"))
            .arg(&model),
        1,
    );
    assert_eq!(v["trust"], "untrusted");

    // Signed again with the chain (the `certificate` method): trusted under its root.
    let signed = json(
        tracemark(dir)
            .args(["model", "sign", "--key"])
            .arg(id.join("key.pem"))
            .arg("--cert")
            .arg(id.join("chain.pem"))
            .arg(&model),
        0,
    );
    assert_eq!(signed["method"], "certificate");
    let v = json(
        tracemark(dir)
            .args(["model", "verify", "--trust"])
            .arg(id.join("root.pem"))
            .arg(&model),
        0,
    );
    assert_eq!(v["trust"], "trusted", "{v}");
    assert_eq!(v["root_digest"], root.as_str());

    // An added file: tampered, exit 1, named; allowed with --ignore-unsigned-files.
    std::fs::write(model.join("notes.txt"), "added").unwrap();
    let v = json(
        tracemark(dir)
            .args(["model", "verify", "--trust"])
            .arg(id.join("root.pem"))
            .arg(&model),
        1,
    );
    assert_eq!(v["trust"], "tampered");
    assert!(
        v["reason"]
            .as_str()
            .unwrap()
            .contains("`notes.txt` is not signed"),
        "{v}"
    );
    let v = json(
        tracemark(dir)
            .args(["model", "verify", "--ignore-unsigned-files", "--trust"])
            .arg(id.join("root.pem"))
            .arg(&model),
        0,
    );
    assert_eq!(v["trust"], "trusted");
    // A model signed with its .git folder verifies only when .git is checked too.
    std::fs::remove_file(model.join("notes.txt")).unwrap();
    std::fs::create_dir(model.join(".git")).unwrap();
    std::fs::write(model.join(".git/HEAD"), "ref: refs/heads/main").unwrap();
    tracemark(dir)
        .args(["model", "sign", "--no-ignore-git-paths", "--key"])
        .arg(id.join("key.pem"))
        .arg("--cert")
        .arg(id.join("chain.pem"))
        .arg(&model)
        .assert()
        .success();
    let v = json(
        tracemark(dir)
            .args(["model", "verify", "--trust"])
            .arg(id.join("root.pem"))
            .arg(&model),
        1,
    );
    assert!(
        v["reason"]
            .as_str()
            .unwrap()
            .contains("`.git/HEAD` is signed but missing"),
        "{v}"
    );
    json(
        tracemark(dir)
            .args(["model", "verify", "--no-ignore-git-paths", "--trust"])
            .arg(id.join("root.pem"))
            .arg(&model),
        0,
    );
    std::fs::write(model.join("notes.txt"), "added").unwrap();
    // And unsigned files are allowed with --ignore-paths.
    json(
        tracemark(dir)
            .args([
                "model",
                "verify",
                "--no-ignore-git-paths",
                "--ignore-paths",
                "notes.txt",
                "--trust",
            ])
            .arg(id.join("root.pem"))
            .arg(&model),
        0,
    );
}

#[test]
fn bad_keys_and_bad_bundles_are_input_errors_that_say_why() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let model = model_copy(dir);
    // Tracemark's default signing identity is Ed25519: OMS has none.
    tracemark(dir)
        .args(["keygen", "signing", "--out", "ed"])
        .assert()
        .success();
    let out = tracemark(dir)
        .args(["model", "sign", "--key", "ed/key.pem"])
        .arg(&model)
        .assert()
        .code(3)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(out).unwrap();
    assert!(err.contains("Ed25519"), "{err}");
    assert!(!model.join("model.sig").exists());

    // A secret other users can read is refused, and never printed.
    let id = es256_identity(dir);
    let key = std::fs::read_to_string(id.join("key.pem")).unwrap();
    let loose = dir.join("loose.pem");
    std::fs::write(&loose, &key).unwrap();
    let out = tracemark(dir)
        .args(["model", "sign", "--key"])
        .arg(&loose)
        .arg(&model)
        .assert()
        .code(3)
        .get_output()
        .clone();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !all.contains(key.lines().nth(1).unwrap()),
        "the secret was printed"
    );

    // A truncated bundle: exit 3 with the reason, not a verdict.
    tracemark(dir)
        .args(["model", "sign", "--key"])
        .arg(id.join("key.pem"))
        .arg(&model)
        .assert()
        .success();
    let sig = std::fs::read(model.join("model.sig")).unwrap();
    std::fs::write(model.join("model.sig"), &sig[..sig.len() / 3]).unwrap();
    let v = json(tracemark(dir).args(["model", "verify"]).arg(&model), 3);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("truncated"),
        "{v}"
    );
}

struct Schemas;

impl jsonschema::Retrieve for Schemas {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let file = match uri.as_str() {
            u if u.ends_with("/spdx.SNAPSHOT.schema.json") => "spdx.SNAPSHOT.schema.json",
            u if u.ends_with("/jsf-0.82.SNAPSHOT.schema.json") => "jsf-0.82.SNAPSHOT.schema.json",
            u => return Err(format!("no local copy of {u}").into()),
        };
        Ok(serde_json::from_slice(&std::fs::read(
            schemas().join(file),
        )?)?)
    }
}

fn schemas() -> PathBuf {
    tracemark_testkit::repo_root().join("crates/tracemark-model/tests/data/cyclonedx")
}

#[test]
fn the_bom_of_the_committed_model_is_valid_cyclonedx_1_6() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let model = model_copy(dir);
    let id = es256_identity(dir);
    tracemark(dir)
        .args(["model", "sign", "--key"])
        .arg(id.join("key.pem"))
        .arg(&model)
        .assert()
        .success();
    let out = tracemark(dir)
        .args(["model", "bom"])
        .arg(&model)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let bom: Value = serde_json::from_slice(&out).unwrap();
    let schema: Value = serde_json::from_slice(
        &std::fs::read(schemas().join("bom-1.6.SNAPSHOT.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::options()
        .with_retriever(Schemas)
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&bom)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let component = &bom["components"][0];
    assert_eq!(component["type"], "machine-learning-model");
    let digest = json(tracemark(dir).args(["model", "digest"]).arg(&model), 0);
    assert_eq!(
        format!(
            "sha256:{}",
            component["hashes"][0]["content"].as_str().unwrap()
        ),
        digest["identity"].as_str().unwrap()
    );
    // The llama2.c header's facts: stories260K has 260K parameters, as its name says.
    let count: u64 = component["properties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "tracemark:parameter-count")
        .unwrap()["value"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((250_000..270_000).contains(&count), "{count}");
    assert_eq!(
        component["modelCard"]["modelParameters"]["architectureFamily"],
        "llama"
    );
    assert_eq!(
        component["externalReferences"][0]["type"],
        "digital-signature"
    );
    assert_eq!(
        component["components"].as_array().unwrap().len(),
        4,
        "the signature is not part of the model"
    );
}

#[test]
fn a_verified_release_is_logged_and_found_by_the_model_identity() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let model = model_copy(dir);
    let id = es256_identity(dir);
    tracemark(dir)
        .args([
            "log",
            "init",
            "--dir",
            "log",
            "--origin",
            "log.example.com/models",
        ])
        .assert()
        .success();
    tracemark(dir)
        .args(["model", "sign", "--key"])
        .arg(id.join("key.pem"))
        .arg("--cert")
        .arg(id.join("chain.pem"))
        .arg(&model)
        .assert()
        .success();
    // Without a key or root the signature is untrusted: nothing is logged.
    let v = json(
        tracemark(dir)
            .args(["model", "log", "--dir", "log"])
            .arg(&model),
        3,
    );
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not logged"),
        "{v}"
    );
    let logged = json(
        tracemark(dir)
            .args([
                "model",
                "log",
                "--dir",
                "log",
                "--version",
                "1.0",
                "--trust",
            ])
            .arg(id.join("root.pem"))
            .arg(&model),
        0,
    );
    assert_eq!(logged["index"], 0);
    let record = &logged["record"];
    assert_eq!(record["format"], "tracemark.model-release-record/v1");
    assert_eq!(record["name"], "tinystories-260k");
    assert_eq!(record["version"], "1.0");
    assert_eq!(record["signing_method"], "certificate");
    let identity =
        json(tracemark(dir).args(["model", "digest"]).arg(&model), 0)["identity"].clone();
    assert_eq!(record["model_digest"], identity);
    let found = json(
        tracemark(dir)
            .args(["log", "get", "--dir", "log", "--content-hash"])
            .arg(identity.as_str().unwrap()),
        0,
    );
    assert_eq!(found["records"][0]["record"], *record);
}
