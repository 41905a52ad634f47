//! Interoperability both ways with `model_signing` (PyPI, the reference implementation),
//! run from the pinned Python environment `TRACEMARK_PYTHON` names (.ci/run sets it):
//! models signed by it verify here and models signed here verify there, with the `key`
//! method on every curve, `shards`, and the `certificate` method; a changed byte, a
//! renamed file, an added file and a wrong key each fail in both, with the reason.

mod common;

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use common::{CURVES, Curve, key_files, model_copy};
use tracemark_model::{
    Cert, HashOptions, Manifest, Method, SigningKey, Trust, VerifyOptions, VerifyingKey, verify,
};

fn python() -> Option<String> {
    let python = tracemark_testkit::env_or_skip(
        "TRACEMARK_PYTHON",
        "a Python with model-signing (python/requirements.txt; .ci/run makes /var/cache/tracemark/venv-py)",
    )?;
    let ok = Command::new(&python)
        .args(["-c", "import model_signing"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        tracemark_testkit::skip(format!(
            "{python} cannot import model_signing: pip install -r python/requirements.txt"
        ));
        return None;
    }
    Some(python)
}

/// `python -m model_signing ARGS`: (success, stdout and stderr).
fn model_signing(python: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(python)
        .arg("-m")
        .arg("model_signing")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Runs a Python script with arguments: (success, output).
fn script(python: &str, code: &str, args: &[&Path]) -> (bool, String) {
    let out = Command::new(python)
        .arg("-c")
        .arg(code)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The four alterations, each applied to a fresh signed copy by `setup`.
#[derive(Debug, Clone, Copy)]
enum Alteration {
    ChangedByte,
    RenamedFile,
    AddedFile,
    WrongKey,
}

const ALTERATIONS: [Alteration; 4] = [
    Alteration::ChangedByte,
    Alteration::RenamedFile,
    Alteration::AddedFile,
    Alteration::WrongKey,
];

/// Alters `model` (the wrong key is given instead of the right one: the caller swaps).
fn alter(model: &Path, a: Alteration) {
    match a {
        Alteration::ChangedByte => {
            let path = model.join("model.bin");
            let mut bytes = std::fs::read(&path).unwrap();
            bytes[4242] ^= 0x10;
            std::fs::write(&path, bytes).unwrap();
        }
        Alteration::RenamedFile => {
            std::fs::rename(model.join("README.md"), model.join("README.txt")).unwrap()
        }
        Alteration::AddedFile => {
            std::fs::write(model.join("added.bin"), b"an unsigned file").unwrap()
        }
        Alteration::WrongKey => {}
    }
}

/// What each side names as the reason.
fn python_reason(a: Alteration) -> &'static str {
    match a {
        // (model_signing prints the list's repr: quotes may come escaped)
        Alteration::ChangedByte => "Hash mismatch for",
        Alteration::RenamedFile => "Missing files in model",
        Alteration::AddedFile => "Extra files found in model",
        Alteration::WrongKey => "Key mismatch",
    }
}

fn rust_reason(a: Alteration) -> &'static str {
    match a {
        Alteration::ChangedByte => "`model.bin` changed",
        Alteration::RenamedFile => "`README.md` is signed but missing",
        Alteration::AddedFile => "`added.bin` is not signed",
        Alteration::WrongKey => "signed by another key",
    }
}

fn rust_verify(model: &Path, sig: &Path, key: &VerifyingKey) -> tracemark_model::Verification {
    let options = VerifyOptions {
        key: Some(key.clone()),
        ..VerifyOptions::default()
    };
    verify(model, &std::fs::read(sig).unwrap(), "model.sig", &options).unwrap()
}

/// Signs here into DIR/model.sig (outside the model), with `method`.
fn rust_sign(model: &Path, key: &SigningKey, method: Method, chain: Option<&[Cert]>) -> PathBuf {
    let options = HashOptions {
        method,
        ..HashOptions::default()
    };
    let manifest = Manifest::of_model(model, &options).unwrap();
    let bundle = tracemark_model::sign(&manifest, key, chain).unwrap();
    let sig = model.parent().unwrap().join("model.sig");
    std::fs::write(&sig, bundle.to_json()).unwrap();
    sig
}

#[test]
fn models_signed_here_verify_with_model_signing_on_every_curve_and_alterations_fail_there() {
    let Some(py) = python() else { return };
    for curve in CURVES {
        let (tmp, model) = model_copy();
        let (key, _private, public) = key_files(tmp.path(), curve);
        let sig = rust_sign(&model, &key, Method::Files, None);
        let (ok, out) = model_signing(
            &py,
            &[
                "verify",
                "key",
                "--public_key",
                s(&public),
                "--signature",
                s(&sig),
                s(&model),
            ],
        );
        assert!(
            ok,
            "{curve:?}: model_signing refused a bundle made here: {out}"
        );
    }
    let other_dir = tempfile::tempdir().unwrap();
    let (_, _, wrong_public) = key_files(other_dir.path(), Curve::P256);
    for a in ALTERATIONS {
        let (tmp, model) = model_copy();
        let (key, _private, public) = key_files(tmp.path(), Curve::P256);
        let sig = rust_sign(&model, &key, Method::Files, None);
        alter(&model, a);
        let public = if matches!(a, Alteration::WrongKey) {
            &wrong_public
        } else {
            &public
        };
        let (ok, out) = model_signing(
            &py,
            &[
                "verify",
                "key",
                "--public_key",
                s(public),
                "--signature",
                s(&sig),
                s(&model),
            ],
        );
        assert!(!ok, "{a:?}: model_signing verified an altered model");
        assert!(
            out.contains(python_reason(a)),
            "{a:?}: model_signing said: {out}"
        );
        if matches!(a, Alteration::ChangedByte) {
            assert!(out.contains("model.bin"), "{out}");
        }
    }
}

#[test]
fn models_signed_by_model_signing_verify_here_and_alterations_fail_here() {
    let Some(py) = python() else { return };
    for curve in CURVES {
        let (tmp, model) = model_copy();
        let (key, private, _public) = key_files(tmp.path(), curve);
        let sig = tmp.path().join("model.sig");
        let (ok, out) = model_signing(
            &py,
            &[
                "sign",
                "key",
                "--private_key",
                s(&private),
                "--signature",
                s(&sig),
                s(&model),
            ],
        );
        assert!(ok, "{out}");
        let v = rust_verify(&model, &sig, &key.verifying_key());
        assert_eq!(v.trust, Trust::Trusted, "{curve:?}: {}", v.reason);
        assert_eq!(
            v.root_digest,
            tracemark_model::identity(&model).unwrap(),
            "one identity on both sides"
        );
    }
    let wrong = SigningKey::from_pem(common::private_pem(Curve::P256).as_bytes(), "wrong").unwrap();
    for a in ALTERATIONS {
        let (tmp, model) = model_copy();
        let (key, private, _public) = key_files(tmp.path(), Curve::P256);
        let sig = tmp.path().join("model.sig");
        let (ok, out) = model_signing(
            &py,
            &[
                "sign",
                "key",
                "--private_key",
                s(&private),
                "--signature",
                s(&sig),
                s(&model),
            ],
        );
        assert!(ok, "{out}");
        alter(&model, a);
        let given = if matches!(a, Alteration::WrongKey) {
            wrong.verifying_key()
        } else {
            key.verifying_key()
        };
        let v = rust_verify(&model, &sig, &given);
        assert_ne!(v.trust, Trust::Trusted, "{a:?}");
        assert!(v.reason.contains(rust_reason(a)), "{a:?}: {}", v.reason);
    }
}

const PY_SIGN_SHARDS: &str = r#"
import sys, model_signing
model, key, sig = sys.argv[1:]
hashing = model_signing.hashing.Config().use_shard_serialization(shard_size=300000)
config = model_signing.signing.Config().use_elliptic_key_signer(private_key=key).set_hashing_config(hashing)
config.sign(model, sig)
"#;

const PY_VERIFY: &str = r#"
import sys, model_signing
model, key, sig = sys.argv[1:]
model_signing.verifying.Config().use_elliptic_key_verifier(public_key=key).verify(model, sig)
print("verified")
"#;

#[test]
fn shards_interoperate_both_ways() {
    let Some(py) = python() else { return };
    // model_signing → here.
    let (tmp, model) = model_copy();
    let (key, private, public) = key_files(tmp.path(), Curve::P384);
    let sig = tmp.path().join("py.sig");
    let (ok, out) = script(&py, PY_SIGN_SHARDS, &[&model, &private, &sig]);
    assert!(ok, "{out}");
    let v = rust_verify(&model, &sig, &key.verifying_key());
    assert_eq!(v.trust, Trust::Trusted, "{}", v.reason);
    assert_eq!(v.serialization, "shards of 300000 bytes, sha256");
    // Here → model_signing, and a changed byte in one shard fails there.
    let ours = rust_sign(
        &model,
        &key,
        Method::Shards {
            shard_size: 300_000,
        },
        None,
    );
    let (ok, out) = script(&py, PY_VERIFY, &[&model, &public, &ours]);
    assert!(ok, "{out}");
    alter(&model, Alteration::ChangedByte);
    let (ok, out) = script(&py, PY_VERIFY, &[&model, &public, &ours]);
    assert!(
        !ok && out.contains("Hash mismatch for") && out.contains("model.bin:0:300000"),
        "{out}"
    );
    assert!(
        !out.contains("model.bin:300000:600000"),
        "only the changed shard differs: {out}"
    );
    let statement = Manifest::of_model(
        &model,
        &HashOptions {
            method: Method::Shards {
                shard_size: 300_000,
            },
            ..HashOptions::default()
        },
    )
    .unwrap();
    assert_eq!(
        statement.resources[0].algorithm, "sha256-sharded-300000",
        "as model_signing writes and reads it"
    );
    let v = rust_verify(&model, &sig, &key.verifying_key());
    assert!(
        v.reason.contains("`model.bin:0:300000` changed"),
        "{}",
        v.reason
    );
}

/// A root (P-384) → intermediate → leaf (P-256, digitalSignature) chain as PEM files
/// in `dir`: (leaf key, leaf certificate, intermediate, root).
fn chain_files(dir: &Path) -> (PathBuf, PathBuf, PathBuf, PathBuf) {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    let ca = |name: &str| {
        let mut p = CertificateParams::default();
        p.distinguished_name.push(DnType::CommonName, name);
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        p
    };
    let root = CertifiedIssuer::self_signed(
        ca("Interop Root"),
        KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap(),
    )
    .unwrap();
    let inter = CertifiedIssuer::signed_by(
        ca("Interop Intermediate"),
        KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap(),
        &root,
    )
    .unwrap();
    let leaf_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut leaf = CertificateParams::default();
    leaf.distinguished_name
        .push(DnType::CommonName, "Interop Publisher");
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let leaf = leaf.signed_by(&leaf_key, &inter).unwrap();
    let paths = (
        dir.join("leaf-key.pem"),
        dir.join("leaf.pem"),
        dir.join("int.pem"),
        dir.join("root.pem"),
    );
    common::write_secret(&paths.0, leaf_key.serialize_pem().as_bytes());
    std::fs::write(&paths.1, leaf.pem()).unwrap();
    std::fs::write(&paths.2, inter.pem()).unwrap();
    std::fs::write(&paths.3, root.pem()).unwrap();
    paths
}

#[test]
fn certificate_chains_interoperate_both_ways() {
    let Some(py) = python() else { return };
    let (tmp, model) = model_copy();
    let (leaf_key, leaf, inter, root) = chain_files(tmp.path());
    let roots = Cert::all_from_pem(&std::fs::read(&root).unwrap(), "root").unwrap();
    // model_signing → here.
    let sig = tmp.path().join("py.sig");
    let (ok, out) = model_signing(
        &py,
        &[
            "sign",
            "certificate",
            "--private_key",
            s(&leaf_key),
            "--signing_certificate",
            s(&leaf),
            "--certificate_chain",
            s(&inter),
            "--signature",
            s(&sig),
            s(&model),
        ],
    );
    assert!(ok, "{out}");
    let options = VerifyOptions {
        roots: roots.clone(),
        ..VerifyOptions::default()
    };
    let v = verify(&model, &std::fs::read(&sig).unwrap(), "py.sig", &options).unwrap();
    assert_eq!(v.trust, Trust::Trusted, "{}", v.reason);
    // Here → model_signing.
    let key = SigningKey::from_pem(&std::fs::read(&leaf_key).unwrap(), "leaf").unwrap();
    let chain_pem = [
        std::fs::read(&leaf).unwrap(),
        std::fs::read(&inter).unwrap(),
    ]
    .concat();
    let chain = Cert::all_from_pem(&chain_pem, "chain").unwrap();
    let ours = rust_sign(&model, &key, Method::Files, Some(&chain));
    let (ok, out) = model_signing(
        &py,
        &[
            "verify",
            "certificate",
            "--certificate_chain",
            s(&root),
            "--signature",
            s(&ours),
            s(&model),
        ],
    );
    assert!(ok, "{out}");
    // Another root: refused there, untrusted here.
    let other = tempfile::tempdir().unwrap();
    let (_, _, _, other_root) = chain_files(other.path());
    let (ok, _) = model_signing(
        &py,
        &[
            "verify",
            "certificate",
            "--certificate_chain",
            s(&other_root),
            "--signature",
            s(&ours),
            s(&model),
        ],
    );
    assert!(!ok, "model_signing accepted a chain to another root");
    let options = VerifyOptions {
        roots: Cert::all_from_pem(&std::fs::read(&other_root).unwrap(), "other").unwrap(),
        ..VerifyOptions::default()
    };
    let v = verify(
        &model,
        &std::fs::read(&ours).unwrap(),
        "model.sig",
        &options,
    )
    .unwrap();
    assert_eq!(v.trust, Trust::Untrusted, "{}", v.reason);
}
