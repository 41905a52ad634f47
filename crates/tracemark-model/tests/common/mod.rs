//! What the model tests share: copies of the committed model, real keys.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use pkcs8::{EncodePrivateKey, LineEnding};
use rand_core::OsRng;
use tracemark_model::{
    HashOptions, Manifest, SigningKey, Verification, VerifyOptions, VerifyingKey, verify,
};

/// A private copy of models/tinystories-260k (tests alter it).
pub fn model_copy() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("tinystories-260k");
    std::fs::create_dir(&dir).unwrap();
    for entry in std::fs::read_dir(tracemark_testkit::model_dir()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    (tmp, dir)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    P256,
    P384,
    P521,
}

pub const CURVES: [Curve; 3] = [Curve::P256, Curve::P384, Curve::P521];

/// A fresh private key's PKCS#8 PEM.
pub fn private_pem(curve: Curve) -> String {
    let pem = match curve {
        Curve::P256 => p256::SecretKey::random(&mut OsRng)
            .to_pkcs8_pem(LineEnding::LF)
            .unwrap(),
        Curve::P384 => p384::SecretKey::random(&mut OsRng)
            .to_pkcs8_pem(LineEnding::LF)
            .unwrap(),
        Curve::P521 => p521::SecretKey::random(&mut OsRng)
            .to_pkcs8_pem(LineEnding::LF)
            .unwrap(),
    };
    pem.to_string()
}

/// A fresh key pair written as `key.pem` (mode 0600) and `key.pub` in `dir`.
pub fn key_files(dir: &Path, curve: Curve) -> (SigningKey, PathBuf, PathBuf) {
    let pem = private_pem(curve);
    let key = SigningKey::from_pem(pem.as_bytes(), "test").unwrap();
    let private = dir.join("key.pem");
    let public = dir.join("key.pub");
    write_secret(&private, pem.as_bytes());
    std::fs::write(&public, key.verifying_key().pem()).unwrap();
    (key, private, public)
}

pub fn write_secret(path: &Path, bytes: &[u8]) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, bytes).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// Signs `model` (default options, the signature file left out) and writes `model.sig`
/// inside it.
pub fn sign_into(model: &Path, key: &SigningKey) -> PathBuf {
    let mut options = HashOptions::default();
    options.exclusions.add("model.sig").unwrap();
    let manifest = Manifest::of_model(model, &options).unwrap();
    let bundle = tracemark_model::sign(&manifest, key, None).unwrap();
    let sig = model.join("model.sig");
    std::fs::write(&sig, bundle.to_json()).unwrap();
    sig
}

/// Verifies `model` against its `model.sig` with `key`.
pub fn verify_with(model: &Path, key: Option<&VerifyingKey>) -> Verification {
    verify_opts(
        model,
        &VerifyOptions {
            key: key.cloned(),
            signature_name: Some("model.sig".into()),
            ..VerifyOptions::default()
        },
    )
}

pub fn verify_opts(model: &Path, options: &VerifyOptions) -> Verification {
    let sig = std::fs::read(model.join("model.sig")).unwrap();
    verify(model, &sig, "model.sig", options).unwrap()
}
