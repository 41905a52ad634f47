//! Content the verifier did not examine is not "no credential": over the size limit it
//! is `CredentialError::NotExamined`, and a file is never read past the limit. Truncated
//! and hostile content under the limit still gets a verdict.

mod common;

use std::{fs::File, path::Path};

use common::{Identity, TEXT_1K, spec};
use tracemark_core::{Diagnose, fact::CredentialState};
use tracemark_credentials::{
    CredentialError, MediaFormat, SignOptions, SigningAlgorithm, Verifier, sign_sidecar,
    sign_text_embedded, verify::DEFAULT_MAX_BYTES,
};

/// A file of `len` bytes that uses no disk (a hole).
fn sparse(path: &Path, len: u64) {
    File::create(path).unwrap().set_len(len).unwrap();
}

fn assert_not_examined<T: std::fmt::Debug>(result: Result<T, CredentialError>, what: &str) {
    match result {
        Err(e @ CredentialError::NotExamined { .. }) => {
            let message = e.to_string();
            assert!(message.contains(what), "{message}");
            assert!(message.contains("not examined"), "{message}");
            assert_eq!(e.fault(), tracemark_core::Fault::Input);
            assert!(
                e.hint()
                    .is_some_and(|h| h.contains("not \"no credential\""))
            );
        }
        other => panic!("{what}: expected NotExamined, got {other:?}"),
    }
}

#[test]
fn a_file_over_the_default_limit_is_not_examined() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.txt");
    sparse(&big, DEFAULT_MAX_BYTES + 1);
    let verifier = Verifier::new();
    assert_eq!(verifier.max_bytes(), DEFAULT_MAX_BYTES);
    assert_not_examined(verifier.verify_file(&big), "big.txt");
    // A file exactly at the limit is examined (plain text: no credential), one byte over
    // it is not; checked with a small limit so that the test reads little.
    let small = dir.path().join("small.txt");
    std::fs::write(&small, "0123456789").unwrap();
    let at_limit = Verifier::new().with_max_bytes(10);
    assert_eq!(
        at_limit.verify_file(&small).unwrap().state,
        CredentialState::None
    );
    assert_not_examined(
        Verifier::new().with_max_bytes(9).verify_file(&small),
        "small.txt",
    );
}

#[test]
fn media_and_sidecars_over_the_limit_are_not_examined() {
    let id = Identity::new(SigningAlgorithm::Ed25519);
    let dir = tempfile::tempdir().unwrap();
    // A PNG named and shaped as one, over the limit: not examined as media either.
    let png = dir.path().join("big.png");
    std::fs::copy(common::fixture("tiny.png"), &png).unwrap();
    let len = std::fs::metadata(&png).unwrap().len();
    assert_not_examined(
        Verifier::new().with_max_bytes(len - 1).verify_file(&png),
        "big.png",
    );
    // Content under the limit with a sidecar over it: the sidecar is not read either.
    let text = dir.path().join("story.txt");
    std::fs::write(&text, TEXT_1K).unwrap();
    let store = sign_sidecar(
        TEXT_1K.as_bytes(),
        &id.key,
        &spec(),
        &SignOptions::default(),
    )
    .unwrap();
    std::fs::write(dir.path().join("story.txt.c2pa"), &store).unwrap();
    let limit = TEXT_1K.len() as u64;
    assert!((store.len() as u64) > limit);
    let verifier = Verifier::with_trust_anchors(id.anchors());
    assert_eq!(
        verifier.verify_file(&text).unwrap().state,
        CredentialState::Trusted
    );
    assert_not_examined(
        verifier.clone().with_max_bytes(limit).verify_file(&text),
        "story.txt.c2pa",
    );
}

#[test]
fn a_device_without_a_size_is_read_no_further_than_the_limit() {
    // /dev/zero has no length to stat and never ends: only the bounded read stops it.
    let zero = Path::new("/dev/zero");
    if !zero.exists() {
        tracemark_testkit::skip("/dev/zero is missing");
        return;
    }
    assert_not_examined(
        Verifier::new().with_max_bytes(1 << 20).verify_file(zero),
        "/dev/zero",
    );
}

#[test]
fn in_memory_content_over_the_limit_is_not_examined() {
    let id = Identity::new(SigningAlgorithm::Ed25519);
    let signed = sign_text_embedded(TEXT_1K, &id.key, &spec(), &SignOptions::default()).unwrap();
    let len = signed.text.len();
    let roomy = Verifier::with_trust_anchors(id.anchors()).with_max_bytes(len as u64);
    assert_eq!(
        roomy.verify_text(&signed.text).unwrap().state,
        CredentialState::Trusted
    );
    assert_eq!(
        roomy
            .verify_text_bytes(signed.text.as_bytes())
            .unwrap()
            .state,
        CredentialState::Trusted
    );
    let tight = roomy.clone().with_max_bytes(len as u64 - 1);
    assert_not_examined(tight.verify_text(&signed.text), "the text");
    assert_not_examined(tight.verify_text_bytes(signed.text.as_bytes()), "the text");

    let store = sign_sidecar(
        TEXT_1K.as_bytes(),
        &id.key,
        &spec(),
        &SignOptions::default(),
    )
    .unwrap();
    let tight = Verifier::new().with_max_bytes(TEXT_1K.len() as u64 - 1);
    assert_not_examined(
        tight.verify_sidecar(TEXT_1K.as_bytes(), &store, "text/plain"),
        "the content",
    );
    let tight = Verifier::new().with_max_bytes(store.len() as u64 - 1);
    assert_not_examined(
        tight.verify_sidecar(TEXT_1K.as_bytes(), &store, "text/plain"),
        "the manifest store",
    );
    let png = std::fs::read(common::fixture("tiny.png")).unwrap();
    assert_not_examined(
        Verifier::new()
            .with_max_bytes(png.len() as u64 - 1)
            .verify_media(MediaFormat::Png, &png),
        "image/png",
    );
}

#[test]
fn truncated_and_hostile_content_under_the_limit_still_gets_a_verdict() {
    let id = Identity::new(SigningAlgorithm::Ed25519);
    let signed = sign_text_embedded(TEXT_1K, &id.key, &spec(), &SignOptions::default()).unwrap();
    let verifier = Verifier::with_trust_anchors(id.anchors()).with_max_bytes(1 << 20);
    let dir = tempfile::tempdir().unwrap();
    // Cut short at a character boundary, inside a character, and inside the frame:
    // tampered, with the broken encoding or frame named.
    let file = dir.path().join("cut.txt");
    let len = signed.text.len();
    let boundary = (len - 120..len).find(|&i| signed.text.is_char_boundary(i));
    let inside = (len - 120..len).find(|&i| !signed.text.is_char_boundary(i));
    for (cut, code) in [
        (boundary.unwrap(), None),
        (inside.unwrap(), Some("text.encoding.invalid")),
        (len - 12_000, Some("text.wrapper.malformed")),
    ] {
        std::fs::write(&file, &signed.text.as_bytes()[..cut]).unwrap();
        let r = verifier.verify_file(&file).unwrap();
        assert_eq!(r.state, CredentialState::Tampered, "{r:#?}");
        assert!(!r.failures.is_empty());
        if let Some(code) = code {
            assert!(r.failures.iter().any(|f| f.code == code), "{code}: {r:#?}");
        }
    }
    // A byte that is not UTF-8 inside the visible text of a signed file.
    let mut altered = signed.text.clone().into_bytes();
    altered[10] = 0xff;
    std::fs::write(&file, &altered).unwrap();
    let r = verifier.verify_file(&file).unwrap();
    assert_eq!(r.state, CredentialState::Tampered, "{r:#?}");
    assert!(
        r.failures.iter().any(|f| f.code == "text.encoding.invalid"
            && f.explanation
                .as_deref()
                .is_some_and(|e| e.contains("altered"))),
        "{r:#?}"
    );
    // A sidecar that is noise: tampered (unreadable store), not none.
    let text = dir.path().join("noise.txt");
    std::fs::write(&text, TEXT_1K).unwrap();
    std::fs::write(dir.path().join("noise.txt.c2pa"), [0x5a; 4096]).unwrap();
    let r = verifier.verify_file(&text).unwrap();
    assert_eq!(r.state, CredentialState::Tampered, "{r:#?}");
    // An empty file and binary noise: no credential.
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "").unwrap();
    assert_eq!(
        verifier.verify_file(&empty).unwrap().state,
        CredentialState::None
    );
    let noise = dir.path().join("noise.bin");
    std::fs::write(&noise, (0..=255u8).cycle().take(8192).collect::<Vec<_>>()).unwrap();
    assert_eq!(
        verifier.verify_file(&noise).unwrap().state,
        CredentialState::None
    );
    // A folder is not a file: an error that names it.
    let err = verifier.verify_file(dir.path()).unwrap_err();
    assert!(matches!(err, CredentialError::Io { .. }), "{err}");
}
