#![allow(dead_code)]

use std::path::{Path, PathBuf};

use tracemark_core::{KeyId, KeyKind, Payload, keyfile::Replace};
use tracemark_credentials::{
    CredentialSpec, Generator, SigningAlgorithm, SigningIdentity, SigningKey, TrustAnchors,
    WatermarkDeclaration,
};

pub struct Identity {
    pub dir: tempfile::TempDir,
    pub key: SigningKey,
}

impl Identity {
    pub fn new(alg: SigningAlgorithm) -> Self {
        let dir = tempfile::tempdir().unwrap();
        SigningIdentity::create_development(dir.path(), alg, "Example AI", Replace::No).unwrap();
        let key = SigningKey::from_identity_dir(dir.path()).unwrap();
        Self { dir, key }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn anchors(&self) -> TrustAnchors {
        TrustAnchors::from_file(&self.path("root.pem")).unwrap()
    }
}

pub fn spec() -> CredentialSpec {
    let mut spec = CredentialSpec::new(
        Generator {
            name: "tiny-llama".into(),
            version: "1.2".into(),
            digest: None,
        },
        "Example AI",
        "gen-0001",
    );
    spec.watermark = Some(WatermarkDeclaration {
        scheme: "kgw-selfhash-v1".into(),
        key_id: Some(KeyId::derive(KeyKind::Watermark, b"test watermark key")),
        payload: Some(Payload::new(0xbeef, 16).unwrap()),
    });
    spec
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub const TEXT_1K: &str = "The committee met on Tuesday to review the draft report on regional water use. \
Members agreed that the figures for the dry season needed a second look, and asked the \
secretariat to compare them with the gauge readings from the previous three years. \
A short discussion followed on how the findings should be presented to the public: \
several members preferred plain tables, while others asked for maps that show each \
district. The chair proposed that both be prepared and that the final choice be made at \
the next meeting. Café owners along the river had written to ask whether the new rules \
would affect them; the secretariat will draft a reply. The meeting closed at half past \
four, and the next one is planned for the first week of the coming month, at the same \
place. Minutes will be circulated to all members one week before that date, together \
with the revised draft and a note on the questions that remain open for the group.";
