//! OMS signing and verification on the committed model: every curve, both
//! serialisations, the spec's exclusions and name rules, and each way a model or a
//! bundle can be wrong (never a panic, never `trusted`).

mod common;

use std::path::Path;

use common::{CURVES, Curve, model_copy, private_pem, sign_into, verify_opts, verify_with};
use tracemark_model::{
    Bundle, HashOptions, Manifest, Method, ModelError, SigningKey, Trust, VerifyOptions,
    bundle::{Material, pae},
    manifest::PAYLOAD_TYPE,
    verify,
    walk::Exclusions,
};

fn key(curve: Curve) -> SigningKey {
    SigningKey::from_pem(private_pem(curve).as_bytes(), "test").unwrap()
}

fn flip_byte(path: &Path, at: u64) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[at as usize] ^= 0x01;
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn signed_models_verify_under_their_key_on_every_curve() {
    for curve in CURVES {
        let (_tmp, model) = model_copy();
        let key = key(curve);
        sign_into(&model, &key);
        let v = verify_with(&model, Some(&key.verifying_key()));
        assert_eq!(v.trust, Trust::Trusted, "{curve:?}: {}", v.reason);
        assert_eq!(
            v.resources, 4,
            "LICENSE, README.md, model.bin, tokenizer.bin"
        );
        assert_eq!(v.method, "key");
        // The root digest is the model's identity: the same whatever the key.
        assert_eq!(v.root_digest, tracemark_model::identity(&model).unwrap());
    }
}

#[test]
fn without_a_key_the_outcome_is_untrusted_never_trusted() {
    let (_tmp, model) = model_copy();
    let key = key(Curve::P256);
    sign_into(&model, &key);
    let v = verify_with(&model, None);
    assert_eq!(v.trust, Trust::Untrusted);
    assert!(v.reason.contains("--key"), "{}", v.reason);
    // The model itself was still checked.
    assert!(
        v.checks
            .iter()
            .any(|c| c.check == "files" && c.outcome == Trust::Trusted)
    );
    // And a changed model without a key is tampered, not untrusted.
    flip_byte(&model.join("model.bin"), 100);
    assert_eq!(verify_with(&model, None).trust, Trust::Tampered);
}

#[test]
fn a_changed_byte_a_renamed_file_an_added_file_and_a_wrong_key_each_fail_with_the_reason() {
    let key = key(Curve::P384);
    let pubkey = key.verifying_key();

    let (_t1, model) = model_copy();
    sign_into(&model, &key);
    flip_byte(&model.join("model.bin"), 1000);
    let v = verify_with(&model, Some(&pubkey));
    assert_eq!(v.trust, Trust::Tampered);
    assert!(v.reason.contains("`model.bin` changed"), "{}", v.reason);

    let (_t2, model) = model_copy();
    sign_into(&model, &key);
    std::fs::rename(model.join("tokenizer.bin"), model.join("tokenizer2.bin")).unwrap();
    let v = verify_with(&model, Some(&pubkey));
    assert_eq!(v.trust, Trust::Tampered);
    assert!(
        v.reason.contains("`tokenizer.bin` is signed but missing"),
        "{}",
        v.reason
    );
    assert!(
        v.reason.contains("`tokenizer2.bin` is not signed"),
        "{}",
        v.reason
    );

    let (_t3, model) = model_copy();
    sign_into(&model, &key);
    std::fs::create_dir(model.join("extra")).unwrap();
    std::fs::write(model.join("extra/notes.txt"), "added after signing").unwrap();
    let v = verify_with(&model, Some(&pubkey));
    assert_eq!(v.trust, Trust::Tampered);
    assert!(
        v.reason.contains("`extra/notes.txt` is not signed"),
        "{}",
        v.reason
    );
    // Unless unsigned files are allowed (§8.5); the signed ones are still checked.
    let allowed = VerifyOptions {
        key: Some(pubkey.clone()),
        ignore_unsigned: true,
        signature_name: Some("model.sig".into()),
        ..VerifyOptions::default()
    };
    assert_eq!(verify_opts(&model, &allowed).trust, Trust::Trusted);
    flip_byte(&model.join("README.md"), 3);
    let v = verify_opts(&model, &allowed);
    assert_eq!(v.trust, Trust::Tampered);
    assert!(v.reason.contains("README.md"), "{}", v.reason);

    let (_t4, model) = model_copy();
    sign_into(&model, &key);
    let other = self::key(Curve::P384).verifying_key();
    let v = verify_with(&model, Some(&other));
    assert_eq!(v.trust, Trust::Untrusted);
    assert!(v.reason.contains("signed by another key"), "{}", v.reason);
    assert!(
        v.reason.contains(&key.verifying_key().hint()),
        "{}",
        v.reason
    );
}

#[test]
fn shards_cover_files_in_fixed_ranges_and_name_the_changed_range() {
    let (_tmp, model) = model_copy();
    let key = key(Curve::P256);
    let mut options = HashOptions {
        method: Method::Shards {
            shard_size: 300_000,
        },
        ..HashOptions::default()
    };
    options.exclusions.add("model.sig").unwrap();
    let manifest = Manifest::of_model(&model, &options).unwrap();
    let names: Vec<_> = manifest.resources.iter().map(|r| r.name.as_str()).collect();
    assert!(names.contains(&"model.bin:0:300000"));
    assert!(names.contains(&"model.bin:900000:1056540"), "{names:?}");
    assert!(names.contains(&"tokenizer.bin:0:6227"));
    let statement: serde_json::Value = serde_json::from_slice(&manifest.statement_json()).unwrap();
    assert_eq!(
        statement["predicate"]["serialization"]["shard_size"],
        300_000
    );
    let bundle = tracemark_model::sign(&manifest, &key, None).unwrap();
    std::fs::write(model.join("model.sig"), bundle.to_json()).unwrap();
    assert_eq!(
        verify_with(&model, Some(&key.verifying_key())).trust,
        Trust::Trusted
    );
    flip_byte(&model.join("model.bin"), 650_000);
    let v = verify_with(&model, Some(&key.verifying_key()));
    assert_eq!(v.trust, Trust::Tampered);
    assert!(
        v.reason.contains("`model.bin:600000:900000` changed"),
        "{}",
        v.reason
    );
    assert!(!v.reason.contains("model.bin:0:300000"), "{}", v.reason);
}

#[cfg(feature = "blake3")]
#[test]
fn blake3_hashes_files_and_is_refused_with_shards() {
    let (_tmp, model) = model_copy();
    let key = key(Curve::P256);
    use tracemark_model::HashType;
    let mut options = HashOptions {
        hash: HashType::Blake3,
        ..HashOptions::default()
    };
    options.exclusions.add("model.sig").unwrap();
    let manifest = Manifest::of_model(&model, &options).unwrap();
    let bin = manifest
        .resources
        .iter()
        .find(|r| r.name == "model.bin")
        .unwrap();
    let bytes = std::fs::read(model.join("model.bin")).unwrap();
    assert_eq!(bin.digest, blake3::hash(&bytes).as_bytes());
    assert_eq!(bin.algorithm, "blake3");
    let bundle = tracemark_model::sign(&manifest, &key, None).unwrap();
    std::fs::write(model.join("model.sig"), bundle.to_json()).unwrap();
    assert_eq!(
        verify_with(&model, Some(&key.verifying_key())).trust,
        Trust::Trusted
    );
    let shards = HashOptions {
        hash: HashType::Blake3,
        method: Method::Shards { shard_size: 1000 },
        ..HashOptions::default()
    };
    let err = Manifest::of_model(&model, &shards).unwrap_err();
    assert!(err.to_string().contains("blake3 with shards"), "{err}");
}

#[test]
fn exclusions_are_top_level_git_paths_exact_ignore_paths_and_the_signature() {
    let (_tmp, model) = model_copy();
    for dir in [".git", "sub/.git", "cache", "sub/cache"] {
        std::fs::create_dir_all(model.join(dir)).unwrap();
        std::fs::write(model.join(dir).join("f"), dir).unwrap();
    }
    std::fs::write(model.join(".gitignore"), "x").unwrap();
    std::fs::write(model.join("model.sig"), "an old signature").unwrap();
    let mut options = HashOptions::default();
    options.exclusions.add("./cache/").unwrap();
    options.exclusions.add("model.sig").unwrap();
    let manifest = Manifest::of_model(&model, &options).unwrap();
    let names: Vec<_> = manifest.resources.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "LICENSE",
            "README.md",
            "model.bin",
            "sub/.git/f",
            "sub/cache/f",
            "tokenizer.bin"
        ],
        "sorted by code point; only top-level .git and the exact `cache` left out"
    );
    assert_eq!(
        manifest.serialization.ignore_paths.as_deref().unwrap(),
        [
            ".git",
            ".gitattributes",
            ".github",
            ".gitignore",
            "cache",
            "model.sig"
        ]
    );
    // A verifier applies the recorded ignore paths: the ignored folder may change.
    let key = key(Curve::P256);
    let bundle = tracemark_model::sign(&manifest, &key, None).unwrap();
    std::fs::write(model.join("model.sig"), bundle.to_json()).unwrap();
    std::fs::write(model.join("cache/f"), "changed").unwrap();
    std::fs::write(model.join(".git/g"), "new").unwrap();
    assert_eq!(
        verify_with(&model, Some(&key.verifying_key())).trust,
        Trust::Trusted
    );
    std::fs::write(model.join("sub/cache/f"), "changed").unwrap();
    assert_eq!(
        verify_with(&model, Some(&key.verifying_key())).trust,
        Trust::Tampered
    );
    for bad in ["*.bin", "/etc", "../x", "."] {
        assert!(Exclusions::defaults().add(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_symlink_is_refused_when_signing_and_fails_verification() {
    let (_tmp, model) = model_copy();
    let key = key(Curve::P256);
    std::os::unix::fs::symlink(model.join("model.bin"), model.join("link.bin")).unwrap();
    let err = Manifest::of_model(&model, &HashOptions::default()).unwrap_err();
    assert!(matches!(err, ModelError::Symlink { .. }), "{err}");
    assert!(err.to_string().contains("link.bin"), "{err}");
    std::fs::remove_file(model.join("link.bin")).unwrap();
    sign_into(&model, &key);
    std::os::unix::fs::symlink("/etc/hostname", model.join("planted")).unwrap();
    let v = verify_with(&model, Some(&key.verifying_key()));
    assert_eq!(v.trust, Trust::Tampered);
    assert!(v.reason.contains("symbolic link"), "{}", v.reason);
}

#[test]
fn a_file_name_that_is_not_utf8_is_refused_and_fails_verification() {
    use std::os::unix::ffi::OsStrExt;
    let (_tmp, model) = model_copy();
    let key = key(Curve::P256);
    sign_into(&model, &key);
    let name = std::ffi::OsStr::from_bytes(b"weights-\xff.bin");
    std::fs::write(model.join(name), "x").unwrap();
    let err = Manifest::of_model(&model, &HashOptions::default()).unwrap_err();
    assert!(matches!(err, ModelError::NonUtf8Name { .. }), "{err}");
    let v = verify_with(&model, Some(&key.verifying_key()));
    assert_eq!(v.trust, Trust::Tampered);
    assert!(v.reason.contains("not UTF-8"), "{}", v.reason);
}

#[test]
fn a_file_that_changes_between_listing_and_hashing_is_caught() {
    let (_tmp, model) = model_copy();
    let entries = tracemark_model::walk::enumerate(&model, &Exclusions::defaults(), false).unwrap();
    // A writer appends after the model was listed, before it is read.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(model.join("model.bin"))
        .unwrap();
    std::io::Write::write_all(&mut f, b"appended").unwrap();
    drop(f);
    let err = Manifest::of_entries(&model, &entries, &HashOptions::default()).unwrap_err();
    assert!(matches!(err, ModelError::Changed { .. }), "{err}");
    assert!(err.to_string().contains("model.bin"), "{err}");
    // And one that shrinks.
    let entries = tracemark_model::walk::enumerate(&model, &Exclusions::defaults(), false).unwrap();
    std::fs::write(model.join("tokenizer.bin"), "short").unwrap();
    let shards = HashOptions {
        method: Method::Shards { shard_size: 1000 },
        ..HashOptions::default()
    };
    let err = Manifest::of_entries(&model, &entries, &shards).unwrap_err();
    assert!(matches!(err, ModelError::Changed { .. }), "{err}");
}

#[test]
fn an_empty_model_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join(".git")).unwrap();
    std::fs::write(tmp.path().join(".git/config"), "x").unwrap();
    let err = Manifest::of_model(tmp.path(), &HashOptions::default()).unwrap_err();
    assert!(matches!(err, ModelError::EmptyModel { .. }), "{err}");
}

#[test]
fn a_single_file_model_is_named_by_its_file_name() {
    let (_tmp, model) = model_copy();
    let file = model.join("model.bin");
    let manifest = Manifest::of_model(&file, &HashOptions::default()).unwrap();
    assert_eq!(manifest.resources.len(), 1);
    assert_eq!(manifest.resources[0].name, "model.bin");
    assert_eq!(manifest.model_name, "model.bin");
    let key = key(Curve::P521);
    let bundle = tracemark_model::sign(&manifest, &key, None).unwrap();
    let opts = VerifyOptions {
        key: Some(key.verifying_key()),
        ..VerifyOptions::default()
    };
    let v = verify(&file, &bundle.to_json(), "sig", &opts).unwrap();
    assert_eq!(v.trust, Trust::Trusted, "{}", v.reason);
    flip_byte(&file, 0);
    assert_eq!(
        verify(&file, &bundle.to_json(), "sig", &opts)
            .unwrap()
            .trust,
        Trust::Tampered
    );
}

#[test]
fn keys_other_than_ecdsa_p256_p384_p521_are_refused_with_the_reason() {
    use ed25519_dalek::pkcs8::EncodePrivateKey as _;
    let ed = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
    let pem = ed.to_pkcs8_pem(pkcs8::LineEnding::LF).unwrap();
    let err = SigningKey::from_pem(pem.as_bytes(), "ed.pem").unwrap_err();
    assert!(
        err.to_string()
            .contains("an Ed25519 key: OMS has no Ed25519"),
        "{err}"
    );
    let ed_pub = ed25519_dalek::pkcs8::EncodePublicKey::to_public_key_pem(
        &ed.verifying_key(),
        pkcs8::LineEnding::LF,
    )
    .unwrap();
    let err = tracemark_model::VerifyingKey::from_pem(ed_pub.as_bytes(), "ed.pub").unwrap_err();
    assert!(err.to_string().contains("Ed25519"), "{err}");

    let rsa = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).unwrap();
    let pem = rsa::pkcs8::EncodePrivateKey::to_pkcs8_pem(&rsa, pkcs8::LineEnding::LF).unwrap();
    let err = SigningKey::from_pem(pem.as_bytes(), "rsa.pem").unwrap_err();
    assert!(err.to_string().contains("an RSA key"), "{err}");
    let pem = rsa::pkcs1::EncodeRsaPrivateKey::to_pkcs1_pem(&rsa, pkcs8::LineEnding::LF).unwrap();
    assert!(
        SigningKey::from_pem(pem.as_bytes(), "rsa.pem")
            .unwrap_err()
            .to_string()
            .contains("an RSA key")
    );

    // A private key given to verify, and a public key given to sign, say so.
    let p = private_pem(Curve::P256);
    let err = tracemark_model::VerifyingKey::from_pem(p.as_bytes(), "k").unwrap_err();
    assert!(err.to_string().contains("a private key"), "{err}");
    let public = SigningKey::from_pem(p.as_bytes(), "k")
        .unwrap()
        .verifying_key()
        .pem();
    let err = SigningKey::from_pem(public.as_bytes(), "k").unwrap_err();
    assert!(err.to_string().contains("a public key"), "{err}");
}

#[test]
fn sec1_keys_as_openssl_writes_them_sign() {
    let secret = p384::SecretKey::random(&mut rand_core::OsRng);
    let sec1 = secret.to_sec1_pem(pkcs8::LineEnding::LF).unwrap();
    // `openssl ecparam -genkey` writes the curve's parameters first.
    let text = format!(
        "-----BEGIN EC PARAMETERS-----\nBgUrgQQAIg==\n-----END EC PARAMETERS-----\n{}",
        sec1.as_str()
    );
    let key = SigningKey::from_pem(text.as_bytes(), "sec1.pem").unwrap();
    assert_eq!(key.curve(), tracemark_model::keys::Curve::P384);
    let sig = key.sign(b"message");
    assert!(key.verifying_key().verify(b"message", &sig));
    assert!(!key.verifying_key().verify(b"messagf", &sig));
}

/// A bundle over `payload`, signed with `key` (the key method).
fn bundle_over(payload: Vec<u8>, key: &SigningKey) -> Bundle {
    Bundle {
        media_type: tracemark_model::bundle::BUNDLE_MEDIA_TYPE.into(),
        material: Material::Key {
            hint: Some(key.verifying_key().hint()),
            raw: None,
        },
        payload_type: PAYLOAD_TYPE.into(),
        signatures: vec![key.sign(&pae(PAYLOAD_TYPE, &payload))],
        payload,
    }
}

fn signed_model() -> (tempfile::TempDir, std::path::PathBuf, SigningKey, Vec<u8>) {
    let (tmp, model) = model_copy();
    let key = key(Curve::P256);
    let sig = sign_into(&model, &key);
    let bytes = std::fs::read(sig).unwrap();
    (tmp, model, key, bytes)
}

fn verify_bytes(
    model: &Path,
    key: &SigningKey,
    bundle: &[u8],
) -> Result<tracemark_model::Verification, ModelError> {
    let opts = VerifyOptions {
        key: Some(key.verifying_key()),
        signature_name: Some("model.sig".into()),
        ..VerifyOptions::default()
    };
    verify(model, bundle, "model.sig", &opts)
}

#[test]
fn malformed_truncated_and_foreign_bundles_are_errors_that_say_why() {
    let (_tmp, model, key, bundle) = signed_model();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (Vec::new(), "empty"),
        (bundle[..bundle.len() / 2].to_vec(), "truncated"),
        (b"not json".to_vec(), "not JSON"),
        (b"[1, 2]".to_vec(), "not a JSON object"),
        (
            String::from_utf8(bundle.clone()).unwrap().replace("bundle.v0.3+json", "bundle.v9+json").into_bytes(),
            "media type `application/vnd.dev.sigstore.bundle.v9+json` is unknown",
        ),
        (
            String::from_utf8(bundle.clone()).unwrap().replace("application/vnd.in-toto+json", "text/plain").into_bytes(),
            "payload type `text/plain`",
        ),
        (
            String::from_utf8(bundle.clone()).unwrap().replace("\"sig\": \"", "\"sig\": \"!!").into_bytes(),
            "no base64 `sig`",
        ),
        (br#"{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}"#.to_vec(), "no `verificationMaterial`"),
        (
            br#"{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "verificationMaterial": {"publicKey": {"hint": "00"}}, "messageSignature": {}}"#.to_vec(),
            "not a model signature",
        ),
    ];
    for (bytes, why) in cases {
        let err = verify_bytes(&model, &key, &bytes).unwrap_err();
        assert!(matches!(err, ModelError::Bundle { .. }), "{why}: {err}");
        assert!(err.to_string().contains(why), "expected `{why}` in: {err}");
    }
}

#[test]
fn a_statement_of_another_predicate_or_type_is_refused_even_when_signed() {
    let (_tmp, model, key, _) = signed_model();
    let manifest: serde_json::Value = {
        let mut o = HashOptions::default();
        o.exclusions.add("model.sig").unwrap();
        serde_json::from_slice(&Manifest::of_model(&model, &o).unwrap().statement_json()).unwrap()
    };
    let mut other = manifest.clone();
    other["predicateType"] = "https://slsa.dev/provenance/v1".into();
    let bundle = bundle_over(serde_json::to_vec(&other).unwrap(), &key);
    let err = verify_bytes(&model, &key, &bundle.to_json()).unwrap_err();
    assert!(
        err.to_string()
            .contains("predicate type `https://slsa.dev/provenance/v1` is not a model signature"),
        "{err}"
    );
    let mut other = manifest.clone();
    other["_type"] = "https://in-toto.io/Statement/v0.1".into();
    let err = verify_bytes(
        &model,
        &key,
        &bundle_over(serde_json::to_vec(&other).unwrap(), &key).to_json(),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("not an in-toto Statement v1"),
        "{err}"
    );
    // A statement whose subject does not match its resources is tampered.
    let mut other = manifest.clone();
    other["subject"][0]["digest"]["sha256"] = "00".repeat(32).into();
    let v = verify_bytes(
        &model,
        &key,
        &bundle_over(serde_json::to_vec(&other).unwrap(), &key).to_json(),
    )
    .unwrap();
    assert_eq!(v.trust, Trust::Tampered);
    assert!(
        v.reason.starts_with("manifest: the resources hash to"),
        "{}",
        v.reason
    );
    // Unknown fields are ignored (§5.2.1), and the statement is read from the exact
    // payload bytes, whatever their layout.
    let mut other = manifest;
    other["predicate"]["future"] = serde_json::json!({ "x": 1 });
    other["predicate"]["resources"][0]["annotations"] = serde_json::json!({ "y": 2 });
    let compact = serde_json::to_vec(&other).unwrap();
    let v = verify_bytes(&model, &key, &bundle_over(compact, &key).to_json()).unwrap();
    assert_eq!(v.trust, Trust::Trusted, "{}", v.reason);
}

#[test]
fn the_signature_covers_the_exact_payload_bytes() {
    let (_tmp, model, key, bytes) = signed_model();
    let mut bundle = Bundle::parse(&bytes, "model.sig").unwrap();
    // The same statement re-serialised (compact JSON): equal as JSON, other bytes.
    let value: serde_json::Value = serde_json::from_slice(&bundle.payload).unwrap();
    bundle.payload = serde_json::to_vec(&value).unwrap();
    let v = verify_bytes(&model, &key, &bundle.to_json()).unwrap();
    assert_eq!(v.trust, Trust::Tampered);
    assert!(
        v.reason.starts_with("signature: does not verify"),
        "{}",
        v.reason
    );
    // A changed digest in the payload, signature kept.
    let mut bundle = Bundle::parse(&bytes, "model.sig").unwrap();
    let text = String::from_utf8(bundle.payload.clone()).unwrap();
    let first = text.find("\"digest\": \"").unwrap() + 11;
    let mut payload = text.into_bytes();
    payload[first] = if payload[first] == b'0' { b'1' } else { b'0' };
    bundle.payload = payload;
    assert_eq!(
        verify_bytes(&model, &key, &bundle.to_json()).unwrap().trust,
        Trust::Tampered
    );
}

#[test]
fn keyid_absent_empty_or_null_and_older_key_material_are_accepted() {
    let (_tmp, model, key, bytes) = signed_model();
    let mut value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    for keyid in [serde_json::Value::Null, "".into()] {
        value["dsseEnvelope"]["signatures"][0]["keyid"] = keyid;
        let v = verify_bytes(&model, &key, &serde_json::to_vec(&value).unwrap()).unwrap();
        assert_eq!(v.trust, Trust::Trusted);
    }
    value["dsseEnvelope"]["signatures"][0]
        .as_object_mut()
        .unwrap()
        .remove("keyid");
    value["verificationMaterial"]
        .as_object_mut()
        .unwrap()
        .remove("tlogEntries");
    // Before 1.1.0: the key's PEM in rawBytes, with keyDetails, and no hint.
    use base64::Engine;
    value["verificationMaterial"]["publicKey"] = serde_json::json!({
        "rawBytes": base64::engine::general_purpose::STANDARD.encode(key.verifying_key().pem()),
        "keyDetails": "PKIX_ECDSA_P256_SHA_256",
    });
    let old = serde_json::to_vec(&value).unwrap();
    assert_eq!(
        verify_bytes(&model, &key, &old).unwrap().trust,
        Trust::Trusted
    );
    // Without --key such a bundle is checked under its own key, and stays untrusted.
    let v = verify(
        &model,
        &old,
        "model.sig",
        &VerifyOptions {
            signature_name: Some("model.sig".into()),
            ..VerifyOptions::default()
        },
    )
    .unwrap();
    assert_eq!(v.trust, Trust::Untrusted);
    assert!(v.reason.contains("key the bundle carries"), "{}", v.reason);
    // Another key's rawBytes with the given key: signed by someone else.
    let other = self::key(Curve::P256);
    let v = verify_bytes(&model, &other, &old).unwrap();
    assert_eq!(v.trust, Trust::Untrusted);
    assert!(v.reason.contains("signed by another key"), "{}", v.reason);
}
