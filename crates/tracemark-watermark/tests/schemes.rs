//! Every scheme marks text from a synthetic model, detects it, and stays silent on
//! unmarked text and under a wrong key; detectors are calibrated.

mod common;

use common::*;
use tracemark_core::{ByteRange, Diagnose, Fault, Payload};
use tracemark_watermark::{
    DetectOptions, PayloadCode, SchemeId, WatermarkError, Watermarker, detect::to_byte_segments,
};

fn watermarker(scheme: SchemeId, seed: u64) -> Watermarker {
    Watermarker::new(&key(scheme, seed), VOCAB).unwrap()
}

#[test]
fn marked_text_is_detected_after_200_tokens() {
    for scheme in SchemeId::ALL {
        let wm = watermarker(scheme, 1);
        let prompt = prompt(1);
        let tokens = generate(&wm, &prompt, 200, 11, None);
        let opts = DetectOptions::new(1e-6).prompt_len(prompt.len());
        let found = wm.detect(&tokens, &opts).unwrap();
        eprintln!(
            "{scheme}: log10 p = {:.1}, scored {}, mean score {:.3}",
            found.verdict.p_value.log10(),
            found.verdict.scored,
            found.mean_score
        );
        assert!(found.verdict.detected, "{scheme}: {:?}", found.verdict);
        assert!(found.verdict.p_value.value() < 1e-6);
        assert!(found.verdict.scored > 100 && found.verdict.scored <= 200);
        assert_eq!(found.verdict.false_positive_rate, 1e-6);
        assert_eq!(found.verdict.method, scheme.as_str());
    }
}

#[test]
fn wrong_key_and_unmarked_text_are_not_detected() {
    for scheme in SchemeId::ALL {
        let wm = watermarker(scheme, 2);
        let other = watermarker(scheme, 3);
        let prompt = prompt(2);
        let marked = generate(&wm, &prompt, 200, 12, None);
        let opts = DetectOptions::new(1e-3).prompt_len(prompt.len());
        assert!(
            wm.detect(&marked, &opts).unwrap().verdict.detected,
            "{scheme}"
        );
        let wrong = other.detect(&marked, &opts).unwrap();
        assert!(
            !wrong.verdict.detected,
            "{scheme} wrong key: {:?}",
            wrong.verdict
        );
        let plain = unmarked(&prompt, 200, 12);
        let silent = wm.detect(&plain, &opts).unwrap();
        assert!(
            !silent.verdict.detected,
            "{scheme} unmarked: {:?}",
            silent.verdict
        );
    }
}

/// Over 2000 unmarked sequences, each under its own key, the detection rate at α must
/// not exceed 1.5·α: the p-values are exact (or conservative), not approximations.
#[test]
fn false_positive_rate_is_calibrated() {
    const SEQUENCES: u64 = 2000;
    for scheme in SchemeId::ALL {
        let mut rng = TestRng(99);
        let mut hits = [0u32; 3];
        let alphas = [0.01, 0.05, 0.2];
        // SynthID keys build a 65k-entry table: share 20 keys across the sequences.
        let keys: Vec<Watermarker> = (0..20).map(|i| watermarker(scheme, 1000 + i)).collect();
        for i in 0..SEQUENCES {
            let wm = &keys[(i % 20) as usize];
            let tokens: Vec<u32> = (0..150)
                .map(|_| (rng.next_u64_pub() % VOCAB as u64) as u32)
                .collect();
            let p = wm
                .detect(&tokens, &DetectOptions::new(0.5))
                .unwrap()
                .verdict
                .p_value;
            for (h, a) in hits.iter_mut().zip(alphas) {
                *h += u32::from(p.significant_at(a));
            }
        }
        for (h, a) in hits.iter().zip(alphas) {
            let rate = f64::from(*h) / SEQUENCES as f64;
            eprintln!("{scheme}: alpha {a}: measured false-positive rate {rate:.4}");
            assert!(rate <= 1.5 * a, "{scheme}: {rate} at alpha {a}");
        }
        // Exact tests are not grossly conservative either at the largest level.
        assert!(f64::from(hits[2]) / SEQUENCES as f64 >= 0.1, "{scheme}");
    }
}

trait NextU64 {
    fn next_u64_pub(&mut self) -> u64;
}
impl NextU64 for TestRng {
    fn next_u64_pub(&mut self) -> u64 {
        rand_core::RngCore::next_u64(self)
    }
}

#[test]
fn payload_round_trips_for_kgw_and_gumbel_under_each_code() {
    for scheme in [
        SchemeId::KgwLeftHash,
        SchemeId::KgwSelfHash,
        SchemeId::Gumbel,
    ] {
        for code in [PayloadCode::ConvolutionalK7, PayloadCode::None] {
            let key = payload_key(scheme, 16, 5).with_payload_code(code);
            let wm = Watermarker::new(&key, VOCAB).unwrap();
            assert_eq!(wm.payload_bits(), 16);
            for (i, value) in [0xBEEFu64, 0x0001, 0x7a5c].into_iter().enumerate() {
                let payload = Payload::new(value, 16).unwrap();
                let prompt = prompt(40 + i as u64);
                let tokens = generate(&wm, &prompt, 400, 50 + i as u64, Some(payload));
                let found = wm
                    .detect(&tokens, &DetectOptions::new(1e-6).prompt_len(prompt.len()))
                    .unwrap();
                eprintln!(
                    "{scheme} {code:?} payload {value:#x}: log10 p = {:.1}",
                    found.verdict.p_value.log10()
                );
                assert_eq!(found.payload, Some(payload), "{scheme} {code:?}");
            }
            // Unmarked text yields no payload.
            let plain = unmarked(&prompt(9), 400, 9);
            let found = wm.detect(&plain, &DetectOptions::new(1e-3)).unwrap();
            assert!(!found.verdict.detected && found.payload.is_none());
        }
    }
}

#[test]
fn text_marked_under_one_code_is_not_read_under_the_other() {
    // The code is part of the key: the same secret with the other code decodes another
    // message (or none), never silently the same one.
    let key = payload_key(SchemeId::Gumbel, 16, 6);
    let coded = Watermarker::new(&key, VOCAB).unwrap();
    let uncoded =
        Watermarker::new(&key.clone().with_payload_code(PayloadCode::None), VOCAB).unwrap();
    let payload = Payload::new(0x1234, 16).unwrap();
    let prompt = prompt(60);
    let tokens = generate(&coded, &prompt, 400, 61, Some(payload));
    let opts = DetectOptions::new(1e-3).prompt_len(prompt.len());
    assert_eq!(coded.detect(&tokens, &opts).unwrap().payload, Some(payload));
    assert_ne!(
        uncoded.detect(&tokens, &opts).unwrap().payload,
        Some(payload)
    );
}

#[test]
fn windowed_detection_finds_a_pasted_segment() {
    const TOLERANCE: usize = 24;
    for scheme in SchemeId::ALL {
        let wm = watermarker(scheme, 7);
        let before = unmarked(&prompt(70), 300, 70);
        // The marked part continues from the human text, as a pasted generation would.
        let with_marked = generate(&wm, &before, 200, 71, None);
        let mut text = with_marked.clone();
        let after = unmarked(&text, 300, 72);
        text = after;
        let marked_range = before.len()..with_marked.len();
        let segments = wm
            .detect_segments(&text, &DetectOptions::new(1e-3))
            .unwrap();
        eprintln!(
            "{scheme}: segments {:?} (marked {marked_range:?})",
            segments
                .iter()
                .map(|s| s.tokens.clone())
                .collect::<Vec<_>>()
        );
        let tail = wm
            .detect(
                &text,
                &DetectOptions::new(1e-3).prompt_len(with_marked.len()),
            )
            .unwrap();
        let head = wm
            .detect(&text[..before.len()], &DetectOptions::new(1e-3))
            .unwrap();
        eprintln!(
            "{scheme}: head mean {:.3} tail mean {:.3} (scored {})",
            head.mean_score, tail.mean_score, tail.verdict.scored
        );
        assert_eq!(segments.len(), 1, "{scheme}");
        let found = &segments[0].tokens;
        assert!(found.start < marked_range.end && marked_range.start < found.end);
        // Unigram scores each distinct token once in the whole text, and its green
        // tokens repeat, so the end of a pasted segment carries little new evidence: the
        // segment is found, its end is not precise.
        if scheme != SchemeId::Unigram {
            assert!(
                found.start.abs_diff(marked_range.start) <= TOLERANCE,
                "{scheme}: {found:?}"
            );
            assert!(
                found.end.abs_diff(marked_range.end) <= TOLERANCE,
                "{scheme}: {found:?}"
            );
        }
        assert!(segments[0].verdict.detected);
        // Byte ranges: token i covers bytes 3i..3i+3.
        let offsets: Vec<ByteRange> = (0..text.len())
            .map(|i| ByteRange::new(3 * i, 3 * i + 3).unwrap())
            .collect();
        let bytes = to_byte_segments(&segments, &offsets).unwrap();
        assert_eq!(
            bytes[0].range,
            ByteRange::new(3 * found.start, 3 * found.end).unwrap()
        );
        assert!(to_byte_segments(&segments, &offsets[..10]).is_err());
        // Unmarked text has no segment.
        let plain = unmarked(&prompt(80), 800, 80);
        assert!(
            wm.detect_segments(&plain, &DetectOptions::new(1e-3))
                .unwrap()
                .is_empty()
        );
    }
}

#[test]
fn gumbel_generations_differ_across_seeds() {
    let wm = watermarker(SchemeId::Gumbel, 8);
    let prompt = prompt(8);
    let texts: std::collections::HashSet<Vec<u32>> = (0..20)
        .map(|seed| generate(&wm, &prompt, 60, seed, None))
        .collect();
    assert_eq!(texts.len(), 20);
}

fn fault_of(e: &WatermarkError) -> Fault {
    assert!(e.hint().is_some());
    e.fault()
}

#[test]
fn bad_input_gives_typed_errors() {
    let wm = watermarker(SchemeId::KgwLeftHash, 9);
    let opts = DetectOptions::new(1e-3);
    let e = wm.detect(&[], &opts).unwrap_err();
    assert!(matches!(e, WatermarkError::Empty { .. }));
    assert_eq!(fault_of(&e), Fault::Input);
    let e = wm.detect(&[3, 4, VOCAB as u32], &opts).unwrap_err();
    assert_eq!(
        e,
        WatermarkError::TokenOutOfVocab {
            token: VOCAB as u32,
            index: 2,
            vocab_size: VOCAB
        }
    );
    let e = wm
        .detect(&[1, 2, 3], &opts.clone().prompt_len(10))
        .unwrap_err();
    assert!(matches!(e, WatermarkError::Empty { prompt_len: 10 }));
    let e = wm.detect(&[1, 2, 3], &DetectOptions::new(1.5)).unwrap_err();
    assert_eq!(fault_of(&e), Fault::Usage);
    let mut marker = wm.start(&[1], None).unwrap();
    let mut short = vec![0.0; VOCAB - 1];
    let e = tracemark_watermark::WatermarkSampler::step(&mut marker, &mut short).unwrap_err();
    assert_eq!(
        e,
        WatermarkError::LogitsLength {
            expected: VOCAB,
            got: VOCAB - 1
        }
    );
    assert!(tracemark_watermark::WatermarkSampler::accept(&mut marker, 9999).is_err());
    assert!(wm.start(&[9999], None).is_err());
    let e = wm
        .start(&[1], Some(Payload::new(1, 8).unwrap()))
        .unwrap_err();
    assert_eq!(e, WatermarkError::PayloadUnsupported);
    let wide = Watermarker::new(&payload_key(SchemeId::Gumbel, 8, 1), VOCAB).unwrap();
    let e = wide
        .start(&[1], Some(Payload::new(1, 16).unwrap()))
        .unwrap_err();
    assert_eq!(e, WatermarkError::PayloadTooWide { got: 16, max: 8 });
    // Gumbel with every logit masked, past the unmarked prefix.
    let g = watermarker(SchemeId::Gumbel, 9);
    let mut marker = g.start(&[1, 2, 3, 4], None).unwrap();
    for t in 5..5 + tracemark_watermark::gumbel::MAX_PREFIX as u32 {
        tracemark_watermark::WatermarkSampler::accept(&mut marker, t).unwrap();
    }
    let mut masked = vec![f32::NEG_INFINITY; VOCAB];
    let e = tracemark_watermark::WatermarkSampler::step(&mut marker, &mut masked).unwrap_err();
    assert_eq!(e, WatermarkError::NoFiniteLogit);
}

#[test]
fn bad_keys_are_refused() {
    let mut k = key(SchemeId::KgwSelfHash, 10);
    k.secret = Some(tracemark_watermark::Secret::new("zz".into()));
    assert!(matches!(
        Watermarker::new(&k, VOCAB),
        Err(WatermarkError::InvalidKey(_))
    ));
    let mut k = payload_key(SchemeId::KgwLeftHash, 8, 10);
    if let tracemark_watermark::SchemeConfig::KgwLeftHash(p) = &mut k.config {
        p.gamma = 0.3;
    }
    assert!(matches!(
        Watermarker::new(&k, VOCAB),
        Err(WatermarkError::InvalidKey(_))
    ));
    // A code carries at most 8 bits per slot: γ = 1/512 would be 9.
    let mut k = payload_key(SchemeId::KgwLeftHash, 8, 10);
    if let tracemark_watermark::SchemeConfig::KgwLeftHash(p) = &mut k.config {
        p.gamma = 1.0 / 512.0;
    }
    match Watermarker::new(&k, VOCAB) {
        Err(WatermarkError::InvalidKey(why)) => assert!(why.contains("payload_code"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert!(Watermarker::new(&k.with_payload_code(PayloadCode::None), VOCAB).is_ok());
    let mut k = key(SchemeId::Gumbel, 10);
    k.tokenizer = Some(tracemark_watermark::TokenizerBinding {
        hash: tracemark_core::ContentHash::of_bytes(b"tokenizer"),
        vocab_size: 32000,
    });
    assert_eq!(
        Watermarker::new(&k, VOCAB).unwrap_err(),
        WatermarkError::VocabMismatch {
            key: 32000,
            given: VOCAB
        }
    );
}

#[test]
fn verdicts_and_debug_output_never_show_secrets() {
    for scheme in SchemeId::ALL {
        let k = key(scheme, 11);
        let wm = Watermarker::new(&k, VOCAB).unwrap();
        let tokens = unmarked(&prompt(1), 50, 1);
        let verdict = wm
            .detect(&tokens, &DetectOptions::new(1e-3))
            .unwrap()
            .verdict;
        let shown = format!("{wm:?} {}", serde_json::to_string(&verdict).unwrap());
        if let Some(secret) = &k.secret {
            assert!(!shown.contains(secret.expose().as_str()));
            assert!(!shown.contains(&secret.expose()[..16]));
        }
        if let tracemark_watermark::SchemeConfig::SynthId(p) = &k.config {
            assert!(!shown.contains(&p.keys.expose()[0].to_string()));
        }
        assert_eq!(verdict.parameters["key_id"], serde_json::json!(k.key_id));
    }
}
