//! Media credentials through the c2pa crate, on real tiny files of each format.

mod common;

use common::{Identity, fixture, spec};
use tracemark_core::fact::CredentialState;
use tracemark_credentials::{
    CredentialError, MediaFormat, SignOptions, SigningAlgorithm, Verifier, sign_media,
    sign_media_file,
};

const FIXTURES: [(&str, MediaFormat, bool); 5] = [
    ("tiny.jpg", MediaFormat::Jpeg, true),
    ("tiny.png", MediaFormat::Png, true),
    ("tiny.webp", MediaFormat::Webp, false),
    ("tiny.mp4", MediaFormat::Mp4, true),
    ("tiny.wav", MediaFormat::Wav, true),
];

#[test]
fn each_format_signs_and_verifies_with_the_four_outcomes() {
    let id = Identity::new(SigningAlgorithm::Ed25519);
    let dir = tempfile::tempdir().unwrap();
    for (name, format, xmp) in FIXTURES {
        let input = fixture(name);
        let original = std::fs::read(&input).unwrap();
        let out = dir.path().join(format!("signed-{name}"));
        let signed = sign_media_file(&input, &out, &id.key, &spec(), &SignOptions::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(signed.format, format);
        assert_eq!(signed.aigc_xmp, xmp, "{name}");
        assert!(!signed.parent_manifest);
        assert_eq!(std::fs::read(&input).unwrap(), original, "input untouched");
        let bytes = std::fs::read(&out).unwrap();
        if xmp {
            let needle = b"TC260:AIGC";
            assert!(
                bytes.windows(needle.len()).any(|w| w == needle),
                "{name}: no XMP label"
            );
        }

        let r = Verifier::new().verify_file(&out).unwrap();
        assert_eq!(r.state, CredentialState::Untrusted, "{name}: {r:#?}");
        let r = Verifier::with_trust_anchors(id.anchors())
            .verify_file(&out)
            .unwrap();
        assert_eq!(r.state, CredentialState::Trusted, "{name}: {r:#?}");
        assert!(r.aigc.is_some(), "{name}");
        assert_eq!(r.soft_binding.as_ref().unwrap().scheme, "kgw-selfhash-v1");
        assert_eq!(
            r.digital_source_type
                .as_deref()
                .map(|s| s.ends_with("trainedAlgorithmicMedia")),
            Some(true)
        );

        assert_eq!(
            Verifier::new()
                .verify_media(format, &original)
                .unwrap()
                .state,
            CredentialState::None,
            "{name}"
        );

        // Change a byte of the media data near the end (audio/video/image payload).
        let mut bad = bytes.clone();
        let pos = original.len() - 20;
        let pos = bytes
            .windows(16)
            .position(|w| w == &original[pos..pos + 16])
            .unwrap_or(pos)
            + 4;
        bad[pos] ^= 0x01;
        let r = Verifier::new().verify_media(format, &bad).unwrap();
        assert_eq!(r.state, CredentialState::Tampered, "{name}: {r:#?}");
        assert!(!r.failures.is_empty());
    }
}

#[test]
fn es256_signs_media_too() {
    let id = Identity::new(SigningAlgorithm::Es256);
    let bytes = std::fs::read(fixture("tiny.png")).unwrap();
    let signed = sign_media(
        &bytes,
        MediaFormat::Png,
        &id.key,
        &spec(),
        &SignOptions::default(),
    )
    .unwrap();
    let r = Verifier::with_trust_anchors(id.anchors())
        .verify_media(MediaFormat::Png, &signed.bytes)
        .unwrap();
    assert_eq!(r.state, CredentialState::Trusted, "{r:#?}");
    assert_eq!(r.signer.unwrap().algorithm.as_deref(), Some("es256"));
}

#[test]
fn a_second_manifest_keeps_the_first_as_parent() {
    let first = Identity::new(SigningAlgorithm::Ed25519);
    let second = Identity::new(SigningAlgorithm::Ed25519);
    let bytes = std::fs::read(fixture("tiny.jpg")).unwrap();
    let once = sign_media(
        &bytes,
        MediaFormat::Jpeg,
        &first.key,
        &spec(),
        &SignOptions::default(),
    )
    .unwrap();
    let twice = sign_media(
        &once.bytes,
        MediaFormat::Jpeg,
        &second.key,
        &spec(),
        &SignOptions::default(),
    )
    .unwrap();
    assert!(twice.parent_manifest);
    let r = Verifier::with_trust_anchors(second.anchors())
        .verify_media(MediaFormat::Jpeg, &twice.bytes)
        .unwrap();
    assert_eq!(r.state, CredentialState::Trusted, "{r:#?}");
    assert_eq!(r.ingredients.len(), 1, "{:#?}", r.ingredients);
    assert!(
        r.ingredients[0].relationship.contains("Parent"),
        "{:?}",
        r.ingredients[0]
    );
    assert!(r.ingredients[0].active_manifest.is_some());
}

#[test]
fn truncated_and_corrupt_media_get_a_verdict_or_an_error() {
    let id = Identity::new(SigningAlgorithm::Ed25519);
    for (name, format, _) in FIXTURES {
        let bytes = std::fs::read(fixture(name)).unwrap();
        let signed = sign_media(&bytes, format, &id.key, &spec(), &SignOptions::default()).unwrap();
        for cut in [
            0,
            1,
            7,
            12,
            30,
            signed.bytes.len() / 3,
            signed.bytes.len() / 2,
            signed.bytes.len() - 3,
        ] {
            let r = Verifier::new()
                .verify_media(format, &signed.bytes[..cut])
                .unwrap();
            assert_ne!(r.state, CredentialState::Trusted, "{name} cut at {cut}");
            assert_ne!(r.state, CredentialState::Untrusted, "{name} cut at {cut}");
            // Signing a broken file fails with an error, never a panic.
            let _ = sign_media(
                &bytes[..cut.min(bytes.len())],
                format,
                &id.key,
                &spec(),
                &SignOptions::default(),
            );
        }
        let mut noise = signed.bytes.clone();
        for (i, b) in noise.iter_mut().enumerate().skip(16) {
            if i % 5 == 0 {
                *b = b.wrapping_mul(31).wrapping_add(7);
            }
        }
        let r = Verifier::new().verify_media(format, &noise).unwrap();
        assert_ne!(r.state, CredentialState::Trusted, "{name}");
        assert_ne!(r.state, CredentialState::Untrusted, "{name}");
    }
}

#[test]
fn pdf_is_read_only() {
    let id = Identity::new(SigningAlgorithm::Ed25519);
    let pdf = std::fs::read(fixture("tiny.pdf")).unwrap();
    let err = sign_media(
        &pdf,
        MediaFormat::Pdf,
        &id.key,
        &spec(),
        &SignOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, CredentialError::ReadOnlyFormat(_)));
    let r = Verifier::new().verify_file(&fixture("tiny.pdf")).unwrap();
    assert_eq!(r.state, CredentialState::None, "{r:#?}");
    let r = Verifier::new()
        .verify_media(MediaFormat::Pdf, &pdf[..pdf.len() / 2])
        .unwrap();
    assert!(matches!(
        r.state,
        CredentialState::None | CredentialState::Tampered
    ));
}
