//! Interoperability with the official C2PA SDK (c2pa-python), both directions.
//!
//! The Python with `c2pa` installed is named by `TRACEMARK_C2PA_PYTHON`. Unset, these
//! tests skip with a note (`tracemark_testkit`), and fail under `CI=true`.

mod common;

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use common::{Identity, TEXT_1K, fixture, spec};
use serde_json::Value;
use tracemark_core::fact::CredentialState;
use tracemark_credentials::{
    MediaFormat, SignOptions, SigningAlgorithm, Verifier, sign_media, sign_sidecar,
};

fn python() -> Option<PathBuf> {
    tracemark_testkit::env_or_skip(
        "TRACEMARK_C2PA_PYTHON",
        "a Python with c2pa-python installed",
    )
    .map(PathBuf::from)
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/c2pa_official.py")
}

fn run(python: &Path, args: &[&str]) -> String {
    let out = Command::new(python)
        .arg(script())
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    assert!(
        out.status.success(),
        "c2pa-python {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn official_verify(
    python: &Path,
    file: &Path,
    mime: &str,
    sidecar: Option<&Path>,
    anchors: Option<&Path>,
) -> Value {
    let mut args = vec!["verify", file.to_str().unwrap(), mime];
    if let Some(s) = sidecar {
        args.extend(["--sidecar", s.to_str().unwrap()]);
    }
    if let Some(a) = anchors {
        args.extend(["--anchors", a.to_str().unwrap()]);
    }
    serde_json::from_str(&run(python, &args)).unwrap()
}

const MEDIA: [(&str, MediaFormat); 5] = [
    ("tiny.jpg", MediaFormat::Jpeg),
    ("tiny.png", MediaFormat::Png),
    ("tiny.webp", MediaFormat::Webp),
    ("tiny.mp4", MediaFormat::Mp4),
    ("tiny.wav", MediaFormat::Wav),
];

#[test]
fn the_official_sdk_validates_our_text_sidecars() {
    let Some(py) = python() else { return };
    for alg in [SigningAlgorithm::Ed25519, SigningAlgorithm::Es256] {
        let id = Identity::new(alg);
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("out.txt");
        std::fs::write(&text, TEXT_1K).unwrap();
        let store = sign_sidecar(
            TEXT_1K.as_bytes(),
            &id.key,
            &spec(),
            &SignOptions::default(),
        )
        .unwrap();
        let sidecar = dir.path().join("out.txt.c2pa");
        std::fs::write(&sidecar, &store).unwrap();

        let v = official_verify(&py, &text, "text/plain", Some(&sidecar), None);
        assert_eq!(v["state"], "Valid", "{alg}: {v}");
        assert_eq!(
            v["failures"],
            serde_json::json!(["signingCredential.untrusted"]),
            "{v}"
        );
        let labels = v["labels"].to_string();
        for l in [
            "c2pa.actions.v2",
            "c2pa.soft-binding",
            "org.tracemark.aigc",
            "org.tracemark.sb942-disclosure",
        ] {
            assert!(labels.contains(l), "{l} not seen by the SDK: {labels}");
        }
        let v = official_verify(
            &py,
            &text,
            "text/plain",
            Some(&sidecar),
            Some(&id.path("root.pem")),
        );
        assert_eq!(v["state"], "Trusted", "{alg}: {v}");

        std::fs::write(&text, TEXT_1K.replace("Tuesday", "Monday")).unwrap();
        let v = official_verify(&py, &text, "text/plain", Some(&sidecar), None);
        assert_eq!(v["state"], "Invalid", "{v}");
        assert!(
            v["failures"]
                .to_string()
                .contains("assertion.dataHash.mismatch"),
            "{v}"
        );
    }
}

#[test]
fn the_official_sdk_validates_our_media() {
    let Some(py) = python() else { return };
    let id = Identity::new(SigningAlgorithm::Ed25519);
    let dir = tempfile::tempdir().unwrap();
    for (name, format) in MEDIA {
        let bytes = std::fs::read(fixture(name)).unwrap();
        let signed = sign_media(&bytes, format, &id.key, &spec(), &SignOptions::default()).unwrap();
        let out = dir.path().join(name);
        std::fs::write(&out, &signed.bytes).unwrap();
        let v = official_verify(&py, &out, format.mime(), None, Some(&id.path("root.pem")));
        assert_eq!(v["state"], "Trusted", "{name}: {v}");
        assert!(
            v["labels"].to_string().contains("c2pa.soft-binding"),
            "{name}: {v}"
        );
        // And a re-signed file: the SDK sees the parent ingredient.
        let again = sign_media(
            &signed.bytes,
            format,
            &id.key,
            &spec(),
            &SignOptions::default(),
        )
        .unwrap();
        std::fs::write(&out, &again.bytes).unwrap();
        let v = official_verify(&py, &out, format.mime(), None, Some(&id.path("root.pem")));
        assert_eq!(v["state"], "Trusted", "{name} re-signed: {v}");
        assert_eq!(v["ingredients"], 1, "{name}: {v}");
    }
}

#[test]
fn we_verify_what_the_official_sdk_signs() {
    let Some(py) = python() else { return };
    for alg in [SigningAlgorithm::Ed25519, SigningAlgorithm::Es256] {
        let id = Identity::new(alg);
        let chain = id.path("chain.pem");
        let key = id.path("key.pem");
        let alg_name = alg.to_string();
        let dir = tempfile::tempdir().unwrap();
        let verifier = Verifier::with_trust_anchors(id.anchors());

        // Text with a sidecar.
        let text = dir.path().join("official.txt");
        std::fs::write(&text, TEXT_1K).unwrap();
        let sidecar = dir.path().join("official.txt.c2pa");
        run(
            &py,
            &[
                "sign",
                text.to_str().unwrap(),
                sidecar.to_str().unwrap(),
                "text/plain",
                chain.to_str().unwrap(),
                key.to_str().unwrap(),
                &alg_name,
                "--sidecar",
            ],
        );
        let r = verifier.verify_file(&text).unwrap();
        assert_eq!(r.state, CredentialState::Trusted, "{alg}: {r:#?}");
        let tm = r
            .training_mining
            .as_ref()
            .expect("the CAWG assertion is extracted");
        assert!(tm.entries.contains_key("cawg.ai_generative_training"));
        std::fs::write(&text, format!("{TEXT_1K}!")).unwrap();
        let r = verifier.verify_file(&text).unwrap();
        assert_eq!(r.state, CredentialState::Tampered);
        assert!(
            r.failures
                .iter()
                .any(|f| f.code == "assertion.dataHash.mismatch")
        );

        // Media.
        for (name, format) in MEDIA {
            let out = dir.path().join(name);
            run(
                &py,
                &[
                    "sign",
                    fixture(name).to_str().unwrap(),
                    out.to_str().unwrap(),
                    format.mime(),
                    chain.to_str().unwrap(),
                    key.to_str().unwrap(),
                    &alg_name,
                ],
            );
            let r = verifier.verify_file(&out).unwrap();
            assert_eq!(r.state, CredentialState::Trusted, "{alg} {name}: {r:#?}");
            assert_eq!(
                Verifier::new().verify_file(&out).unwrap().state,
                CredentialState::Untrusted
            );
            // We can add our manifest on top; the SDK's becomes the parent.
            let bytes = std::fs::read(&out).unwrap();
            let ours =
                sign_media(&bytes, format, &id.key, &spec(), &SignOptions::default()).unwrap();
            assert!(ours.parent_manifest);
            let r = verifier.verify_media(format, &ours.bytes).unwrap();
            assert_eq!(r.state, CredentialState::Trusted, "{name}: {r:#?}");
            assert_eq!(r.ingredients.len(), 1);
        }
    }
}
