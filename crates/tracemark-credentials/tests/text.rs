//! Text credentials: sidecar and embedded, the four outcomes, bad input.

mod common;

use common::{Identity, TEXT_1K, spec};
use tracemark_core::fact::CredentialState;
use tracemark_credentials::{
    SignOptions, SigningAlgorithm, TextCarrier, Verifier, sign_file, sign_sidecar,
    sign_text_embedded, strip_wrappers, wrapper,
};
use unicode_normalization::UnicodeNormalization;

const ALGS: [SigningAlgorithm; 2] = [SigningAlgorithm::Ed25519, SigningAlgorithm::Es256];

#[test]
fn sidecar_round_trip_has_the_four_outcomes() {
    for alg in ALGS {
        let id = Identity::new(alg);
        let other = Identity::new(alg);
        let store = sign_sidecar(
            TEXT_1K.as_bytes(),
            &id.key,
            &spec(),
            &SignOptions::default(),
        )
        .unwrap();

        let untrusted = Verifier::new()
            .verify_sidecar(TEXT_1K.as_bytes(), &store, "text/plain")
            .unwrap();
        assert_eq!(
            untrusted.state,
            CredentialState::Untrusted,
            "{untrusted:#?}"
        );
        assert!(untrusted.failures.is_empty());

        let trusted = Verifier::with_trust_anchors(id.anchors())
            .verify_sidecar(TEXT_1K.as_bytes(), &store, "text/plain")
            .unwrap();
        assert_eq!(trusted.state, CredentialState::Trusted, "{trusted:#?}");

        let wrong_anchor = Verifier::with_trust_anchors(other.anchors())
            .verify_sidecar(TEXT_1K.as_bytes(), &store, "text/plain")
            .unwrap();
        assert_eq!(wrong_anchor.state, CredentialState::Untrusted);

        let edited = TEXT_1K.replace("Tuesday", "Thursday");
        let tampered = Verifier::with_trust_anchors(id.anchors())
            .verify_sidecar(edited.as_bytes(), &store, "text/plain")
            .unwrap();
        assert_eq!(tampered.state, CredentialState::Tampered);
        assert!(
            tampered
                .failures
                .iter()
                .any(|f| f.code == "assertion.dataHash.mismatch"),
            "{:#?}",
            tampered.failures
        );
    }
}

#[test]
fn the_report_lists_every_assertion_and_the_finding_follows() {
    let id = Identity::new(SigningAlgorithm::Ed25519);
    let store = sign_sidecar(
        TEXT_1K.as_bytes(),
        &id.key,
        &spec(),
        &SignOptions::default(),
    )
    .unwrap();
    let report = Verifier::with_trust_anchors(id.anchors())
        .verify_sidecar(TEXT_1K.as_bytes(), &store, "text/plain")
        .unwrap();
    let labels: Vec<&str> = report.assertions.iter().map(|a| a.label.as_str()).collect();
    for want in [
        "c2pa.actions.v2",
        "c2pa.hash.data",
        "c2pa.soft-binding",
        "org.tracemark.aigc",
        "org.tracemark.sb942-disclosure",
    ] {
        assert!(labels.contains(&want), "{want} missing from {labels:?}");
    }
    let sb = report.soft_binding.clone().unwrap();
    assert_eq!(sb.scheme, "kgw-selfhash-v1");
    assert_eq!(sb.payload.unwrap().to_string(), "beef");
    assert!(sb.key_id.is_some());
    assert_eq!(
        report.digital_source_type.as_deref(),
        Some("http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia")
    );
    assert_eq!(report.generator.as_deref(), Some("tiny-llama 1.2"));
    let aigc = report.aigc.as_ref().unwrap();
    assert_eq!(aigc["Label"], "1");
    assert_eq!(aigc["ContentProducer"], "Example AI");
    assert_eq!(aigc["ProduceID"], "gen-0001");
    for field in [
        "ReservedCode1",
        "ContentPropagator",
        "PropagateID",
        "ReservedCode2",
    ] {
        assert!(aigc.get(field).is_some(), "{field}");
    }
    let d = report.disclosure.as_ref().unwrap();
    assert_eq!(d["provider"], "Example AI");
    assert_eq!(d["system_name"], "tiny-llama");
    assert_eq!(d["system_version"], "1.2");
    assert_eq!(d["unique_id"], "gen-0001");
    assert!(report.claimed_time.is_some());
    assert!(
        report
            .signer
            .as_ref()
            .unwrap()
            .common_name
            .as_deref()
            .unwrap()
            .contains("UNTRUSTED")
    );

    let finding = report.to_finding();
    assert_eq!(finding.state, CredentialState::Trusted);
    assert!(finding.aigc_label);
    // The legal engine reads the label's fields and the latent disclosure's elements.
    let fields = finding.aigc.as_ref().unwrap();
    assert_eq!(
        (
            fields.label.as_str(),
            fields.content_producer.as_str(),
            fields.produce_id.as_str()
        ),
        ("1", "Example AI", "gen-0001")
    );
    let latent = finding.latent_disclosure.as_ref().unwrap();
    assert_eq!(latent.unique_id.as_deref(), Some("gen-0001"));
    assert_eq!(latent.time, report.claimed_time);
    assert_eq!(finding.manifest_id, report.manifest_label);
    // No time-stamping authority signs in this test: the time is the signer's claim.
    assert_eq!(finding.time_stamped_at, report.signed_at);
    assert_eq!(finding.soft_binding, report.soft_binding);
    assert!(finding.signer.is_some());
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["state"], "trusted");
    assert!(json["assertions"].as_array().unwrap().len() >= 5);
}

#[test]
fn training_mining_is_extracted() {
    use tracemark_core::rights::{MiningUse, TrainingMining, TrainingMiningEntry};
    let id = Identity::new(SigningAlgorithm::Ed25519);
    let mut spec = spec();
    let mut tm = TrainingMining {
        label: "cawg.training-mining".into(),
        entries: Default::default(),
    };
    tm.entries.insert(
        "cawg.ai_generative_training".into(),
        TrainingMiningEntry {
            usage: MiningUse::NotAllowed,
            constraints_info: None,
        },
    );
    spec.training_mining = Some(tm.clone());
    let store = sign_sidecar(b"x", &id.key, &spec, &SignOptions::default()).unwrap();
    let report = Verifier::new()
        .verify_sidecar(b"x", &store, "text/plain")
        .unwrap();
    assert_eq!(report.training_mining, Some(tm.clone()));
    assert_eq!(report.to_finding().training_mining, Some(tm));
}

#[test]
fn embedded_round_trip_survives_renormalisation_and_detects_edits() {
    for alg in ALGS {
        let id = Identity::new(alg);
        let signed =
            sign_text_embedded(TEXT_1K, &id.key, &spec(), &SignOptions::default()).unwrap();
        assert_eq!(
            signed.wrapper_len,
            wrapper::wrapper_len(signed.manifest_len)
        );
        assert!(signed.text.starts_with(&TEXT_1K.nfc().collect::<String>()));
        assert_eq!(
            strip_wrappers(&signed.text),
            TEXT_1K.nfc().collect::<String>()
        );

        let verifier = Verifier::with_trust_anchors(id.anchors());
        let ok = verifier.verify_text(&signed.text).unwrap();
        assert_eq!(ok.state, CredentialState::Trusted, "{ok:#?}");
        assert_eq!(ok.manifest_bytes, Some(signed.manifest_len));

        // An editor that decomposes "Café" changes the bytes, not the NFC text.
        let nfd: String = signed.text.nfd().collect();
        assert_ne!(nfd, signed.text);
        assert_eq!(
            verifier.verify_text(&nfd).unwrap().state,
            CredentialState::Trusted
        );

        let edited = signed.text.replacen("Tuesday", "Thursday", 1);
        let r = verifier.verify_text(&edited).unwrap();
        assert_eq!(r.state, CredentialState::Tampered);
        assert!(
            r.failures
                .iter()
                .any(|f| f.code == "assertion.dataHash.mismatch"),
            "{r:#?}"
        );

        // Text appended after the wrapper is outside the signed text too.
        let appended = format!("{} P.S.", signed.text);
        assert_eq!(
            verifier.verify_text(&appended).unwrap().state,
            CredentialState::Tampered
        );

        assert_eq!(
            Verifier::new().verify_text(TEXT_1K).unwrap().state,
            CredentialState::None
        );
    }
}

#[test]
fn embedded_manifest_is_small() {
    let id = Identity::new(SigningAlgorithm::Ed25519);
    let signed = sign_text_embedded(TEXT_1K, &id.key, &spec(), &SignOptions::default()).unwrap();
    // c2pa-rs's default reservation alone would add about 10 KB.
    assert!(signed.manifest_len < 4000, "{} bytes", signed.manifest_len);
    println!(
        "embedded manifest {} bytes, wrapper {} bytes for {} bytes of text",
        signed.manifest_len,
        signed.wrapper_len,
        TEXT_1K.len()
    );
}

#[test]
fn doubled_broken_and_resigned_wrappers() {
    let id = Identity::new(SigningAlgorithm::Ed25519);
    let signed = sign_text_embedded(TEXT_1K, &id.key, &spec(), &SignOptions::default()).unwrap();
    let verifier = Verifier::new();

    let doubled = format!(
        "{}{}",
        signed.text,
        &signed.text[TEXT_1K.nfc().collect::<String>().len()..]
    );
    let r = verifier.verify_text(&doubled).unwrap();
    assert_eq!(r.state, CredentialState::Tampered);
    assert!(r.failures.iter().any(|f| f.code == "text.wrapper.multiple"));

    let cut: String = signed
        .text
        .chars()
        .take(TEXT_1K.chars().count() + 400)
        .collect();
    let r = verifier.verify_text(&cut).unwrap();
    assert_eq!(r.state, CredentialState::Tampered);
    assert!(
        r.failures
            .iter()
            .any(|f| f.code == "text.wrapper.malformed"),
        "{r:#?}"
    );

    // Signing again is refused until the old wrapper is stripped.
    assert!(sign_text_embedded(&signed.text, &id.key, &spec(), &SignOptions::default()).is_err());
    let again = sign_text_embedded(
        &strip_wrappers(&signed.text),
        &id.key,
        &spec(),
        &SignOptions::default(),
    )
    .unwrap();
    assert_eq!(
        verifier.verify_text(&again.text).unwrap().state,
        CredentialState::Untrusted
    );
}

#[test]
fn corrupt_manifests_are_tampered_never_a_panic() {
    let id = Identity::new(SigningAlgorithm::Ed25519);
    let store = sign_sidecar(
        TEXT_1K.as_bytes(),
        &id.key,
        &spec(),
        &SignOptions::default(),
    )
    .unwrap();
    let verifier = Verifier::new();
    // Flip bytes across the whole store: each position either still verifies (padding)
    // or is named as a failure.
    let mut tampered = 0;
    for pos in (0..store.len()).step_by(37) {
        let mut bad = store.clone();
        bad[pos] ^= 0x5a;
        let r = verifier
            .verify_sidecar(TEXT_1K.as_bytes(), &bad, "text/plain")
            .unwrap();
        match r.state {
            CredentialState::Tampered => {
                assert!(!r.failures.is_empty());
                tampered += 1;
            }
            CredentialState::Untrusted | CredentialState::None => {}
            CredentialState::Trusted => panic!("no anchors configured"),
        }
    }
    assert!(tampered > 0);
    // The signature itself: the last bytes before the padding of the signature box.
    let r = verifier
        .verify_sidecar(TEXT_1K.as_bytes(), &store[..store.len() / 2], "text/plain")
        .unwrap();
    assert_eq!(r.state, CredentialState::Tampered);
    assert_eq!(
        verifier
            .verify_sidecar(TEXT_1K.as_bytes(), b"", "text/plain")
            .unwrap()
            .state,
        CredentialState::Tampered
    );
    let r = verifier
        .verify_sidecar(TEXT_1K.as_bytes(), b"\0\0\0\x10jumbgarbage!", "text/plain")
        .unwrap();
    assert_eq!(r.state, CredentialState::Tampered);
}

#[test]
fn a_wrapper_inside_a_huge_text_is_found() {
    let id = Identity::new(SigningAlgorithm::Ed25519);
    let signed = sign_text_embedded(TEXT_1K, &id.key, &spec(), &SignOptions::default()).unwrap();
    let filler = "lorem ipsum dolor sit amet ".repeat(400_000); // ~10.8 MB
    let huge = format!("{filler}{}{filler}", signed.text);
    let r = Verifier::new().verify_text(&huge).unwrap();
    // Found, and the binding fails because the visible text changed.
    assert_eq!(r.state, CredentialState::Tampered);
    assert!(
        r.failures
            .iter()
            .any(|f| f.code == "assertion.dataHash.mismatch")
    );
    assert_eq!(
        Verifier::new().verify_text(&filler).unwrap().state,
        CredentialState::None
    );
}

#[test]
fn sign_file_writes_atomically_and_keeps_the_input() {
    let id = Identity::new(SigningAlgorithm::Es256);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("story.txt");
    std::fs::write(&input, TEXT_1K).unwrap();
    let out = dir.path().join("story.signed.txt");
    sign_file(
        &input,
        &out,
        &id.key,
        &spec(),
        &SignOptions::default(),
        TextCarrier::Embedded,
    )
    .unwrap();
    assert_eq!(std::fs::read_to_string(&input).unwrap(), TEXT_1K);
    let v = Verifier::with_trust_anchors(id.anchors());
    assert_eq!(v.verify_file(&out).unwrap().state, CredentialState::Trusted);

    let sidecar = dir.path().join("story.txt.c2pa");
    sign_file(
        &input,
        &sidecar,
        &id.key,
        &spec(),
        &SignOptions::default(),
        TextCarrier::Sidecar,
    )
    .unwrap();
    let r = v.verify_file(&input).unwrap();
    assert_eq!(r.state, CredentialState::Trusted);
    assert_eq!(r.carrier, tracemark_credentials::Carrier::Sidecar);

    // Refuses to write over its input; a non-UTF-8 file cannot carry an embedded wrapper.
    assert!(
        sign_file(
            &input,
            &input,
            &id.key,
            &spec(),
            &SignOptions::default(),
            TextCarrier::Embedded
        )
        .is_err()
    );
    let binary = dir.path().join("blob.bin");
    std::fs::write(&binary, [0xff, 0xfe, 0x00, 0x80]).unwrap();
    assert!(
        sign_file(
            &binary,
            &dir.path().join("o"),
            &id.key,
            &spec(),
            &SignOptions::default(),
            TextCarrier::Embedded
        )
        .is_err()
    );
    assert_eq!(v.verify_file(&binary).unwrap().state, CredentialState::None);

    // A sidecar for a media file binds its raw bytes the same way.
    let png = dir.path().join("tiny.png");
    std::fs::copy(common::fixture("tiny.png"), &png).unwrap();
    sign_file(
        &png,
        &dir.path().join("tiny.png.c2pa"),
        &id.key,
        &spec(),
        &SignOptions::default(),
        TextCarrier::Sidecar,
    )
    .unwrap();
    let r = v.verify_file(&png).unwrap();
    assert_eq!(
        (r.state, r.carrier),
        (
            CredentialState::Trusted,
            tracemark_credentials::Carrier::Sidecar
        ),
        "{r:#?}"
    );
    assert!(v.verify_file(&dir.path().join("missing")).is_err());
}
