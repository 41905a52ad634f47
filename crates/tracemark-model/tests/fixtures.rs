//! Bundles made by older model_signing releases from PyPI (0.2.0, 0.3.1, 1.0.1, 1.1.0;
//! made by tests/data/oms-fixtures/make-fixtures.sh over models/tinystory-260k) verify
//! here: the v0.1 predicate and 0.2.0's PAE, `rawBytes` key material, a null `keyid`,
//! no `ignore_paths`, a single file named ".", and a certificate chain.

mod common;

use std::path::{Path, PathBuf};

use common::model_copy;
use tracemark_model::{Cert, Trust, VerifyOptions, VerifyingKey, verify};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/oms-fixtures")
        .join(name)
}

fn fixture_key() -> VerifyingKey {
    VerifyingKey::from_pem(&std::fs::read(fixture("key.pub")).unwrap(), "key.pub").unwrap()
}

fn check(model: &Path, sig: &str, options: &VerifyOptions) -> tracemark_model::Verification {
    verify(model, &std::fs::read(fixture(sig)).unwrap(), sig, options).unwrap()
}

#[test]
fn bundles_of_every_older_release_verify_and_fail_when_the_model_changes() {
    let with_key = VerifyOptions {
        key: Some(fixture_key()),
        ..VerifyOptions::default()
    };
    for (sig, predicate) in [
        ("v0.2.0-key.sig", "https://model_signing/Digests/v0.1"),
        ("v0.3.1-key.sig", "https://model_signing/signature/v1.0"),
        ("v1.0.1-key.sig", "https://model_signing/signature/v1.0"),
        ("v1.1.0-key.sig", "https://model_signing/signature/v1.0"),
    ] {
        let (_tmp, model) = model_copy();
        let v = check(&model, sig, &with_key);
        assert_eq!(v.trust, Trust::Trusted, "{sig}: {}", v.reason);
        assert_eq!(v.predicate_type, predicate, "{sig}");
        assert_eq!(v.resources, 4, "{sig}");
        if predicate.ends_with("v1.0") {
            // Every release that states a root digest states the model's identity.
            assert_eq!(
                v.root_digest,
                tracemark_model::identity(&model).unwrap(),
                "{sig}"
            );
        }
        std::fs::write(model.join("tokenizer.bin"), b"other tokens").unwrap();
        let v = check(&model, sig, &with_key);
        assert_eq!(v.trust, Trust::Tampered, "{sig}");
        assert!(
            v.reason.contains("`tokenizer.bin` changed"),
            "{sig}: {}",
            v.reason
        );
    }
}

#[test]
fn single_file_bundles_name_the_file_dot() {
    let with_key = VerifyOptions {
        key: Some(fixture_key()),
        ..VerifyOptions::default()
    };
    for sig in ["v0.3.1-key-single-file.sig", "v1.0.1-key-single-file.sig"] {
        let (_tmp, model) = model_copy();
        let file = model.join("model.bin");
        let v = check(&file, sig, &with_key);
        assert_eq!(v.trust, Trust::Trusted, "{sig}: {}", v.reason);
        let mut bytes = std::fs::read(&file).unwrap();
        bytes[500] ^= 0x80;
        std::fs::write(&file, bytes).unwrap();
        assert_eq!(check(&file, sig, &with_key).trust, Trust::Tampered, "{sig}");
    }
}

#[test]
fn older_bundles_carrying_their_key_are_untrusted_without_one() {
    let (_tmp, model) = model_copy();
    let v = check(&model, "v1.0.1-key.sig", &VerifyOptions::default());
    assert_eq!(v.trust, Trust::Untrusted, "{}", v.reason);
    // And under another key they are someone else's.
    let other = tracemark_model::SigningKey::from_pem(
        common::private_pem(common::Curve::P256).as_bytes(),
        "k",
    )
    .unwrap();
    let v = check(
        &model,
        "v0.3.1-key.sig",
        &VerifyOptions {
            key: Some(other.verifying_key()),
            ..VerifyOptions::default()
        },
    );
    assert_eq!(v.trust, Trust::Untrusted);
    assert!(v.reason.contains("signed by another key"), "{}", v.reason);
}

#[test]
fn a_certificate_bundle_of_1_0_1_verifies_against_its_root() {
    let (_tmp, model) = model_copy();
    let root =
        Cert::all_from_pem(&std::fs::read(fixture("root.pem")).unwrap(), "root.pem").unwrap();
    let v = check(
        &model,
        "v1.0.1-certificate.sig",
        &VerifyOptions {
            roots: root,
            ..VerifyOptions::default()
        },
    );
    assert_eq!(v.trust, Trust::Trusted, "{}", v.reason);
    assert!(v.signer.contains("Fixture Model Signer"), "{}", v.signer);
    let v = check(&model, "v1.0.1-certificate.sig", &VerifyOptions::default());
    assert_eq!(v.trust, Trust::Untrusted);
}
