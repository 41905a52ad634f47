//! SynthID-Text compatibility: vectors produced by HF transformers 5.24 itself.

use serde_json::Value;
use sha2::{Digest, Sha256};
use tracemark_watermark::{
    DetectOptions, SchemeConfig, Secret, SynthIdParams, WatermarkKey, Watermarker,
    synthid::{SynthId, sampling_table},
    transformers::synthid_from_json,
};

const VECTORS: &str = include_str!("data/synthid-reference-vectors.json");

fn params(input: &Value) -> SynthIdParams {
    let keys = input["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_u64().unwrap())
        .collect();
    SynthIdParams {
        keys: Secret::new(keys),
        ngram_len: input["ngram_len"].as_u64().unwrap() as usize,
        sampling_table_size: input["sampling_table_size"].as_u64().unwrap() as usize,
        sampling_table_seed: input["sampling_table_seed"].as_u64().unwrap(),
        context_history_size: input["context_history_size"].as_u64().unwrap() as usize,
    }
}

fn synthid(input: &Value) -> SynthId {
    SynthId::new(&params(input)).unwrap()
}

/// The configuration the vectors were made with, as transformers' `to_json_file` writes
/// a `SynthIDTextWatermarkingConfig` of it.
fn transformers_config(input: &Value) -> Vec<u8> {
    let config = serde_json::json!({
        "context_history_size": input["context_history_size"],
        "debug_mode": false,
        "keys": input["keys"],
        "ngram_len": input["ngram_len"],
        "sampling_table_seed": input["sampling_table_seed"],
        "sampling_table_size": input["sampling_table_size"],
        "skip_first_ngram_calls": false,
    });
    serde_json::to_vec_pretty(&config).unwrap()
}

/// A key imported from the vectors' transformers configuration.
fn imported_key(input: &Value) -> WatermarkKey {
    let import = synthid_from_json(&transformers_config(input)).unwrap();
    WatermarkKey::synthid(import.params).unwrap()
}

fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_u64().unwrap() as u32)
        .collect()
}

fn bools(v: &Value) -> Vec<bool> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_u64().unwrap() == 1)
        .collect()
}

fn assert_close(got: f64, want: &Value, what: &str) {
    let want = want.as_f64().unwrap();
    assert!((got - want).abs() < 1e-12, "{what}: {got} vs {want}");
}

fn cases(kind: &str) -> Vec<Value> {
    let doc: Value = serde_json::from_str(VECTORS).unwrap();
    assert_eq!(doc["format"], "synthid-reference-vectors/v1");
    doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == kind)
        .cloned()
        .collect()
}

#[test]
fn sampling_tables_hash_like_the_reference() {
    let detect = cases("detect");
    assert!(!detect.is_empty());
    for case in detect {
        let input = &case["input"];
        let table = sampling_table(
            input["sampling_table_size"].as_u64().unwrap() as usize,
            input["sampling_table_seed"].as_u64().unwrap(),
        );
        let want = case["sampling_table_sha256"].as_str().unwrap();
        let as_u8 = hex::encode(Sha256::digest(&table));
        let as_i64: Vec<u8> = table
            .iter()
            .flat_map(|&b| i64::from(b).to_le_bytes())
            .collect();
        let as_i64 = hex::encode(Sha256::digest(&as_i64));
        assert!(
            want == as_u8 || want == as_i64,
            "table hash {as_u8} / {as_i64} vs {want}"
        );
    }
}

#[test]
fn detect_vectors_reproduce_g_values_masks_and_scores() {
    let mut checked = 0;
    for case in cases("detect") {
        let input = &case["input"];
        let scheme = synthid(input);
        let eos = input["eos_token_id"].as_u64().map(|e| e as u32);
        for (tokens, want) in input["token_ids"]
            .as_array()
            .unwrap()
            .iter()
            .zip(case["expected"].as_array().unwrap())
        {
            let scores = scheme.score(&ids(tokens), eos);
            assert_eq!(
                scores.g_values.len() as u64,
                want["num_positions"].as_u64().unwrap()
            );
            let g: Vec<Vec<u8>> = want["g_values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|row| ids(row).into_iter().map(|x| x as u8).collect())
                .collect();
            assert_eq!(scores.g_values, g);
            assert_eq!(
                scores.context_repetition_mask,
                bools(&want["context_repetition_mask"])
            );
            assert_eq!(scores.eos_mask, bools(&want["eos_mask"]));
            assert_eq!(scores.mask, bools(&want["mask"]));
            assert_close(scores.mean, &want["mean_score"], "mean");
            assert_close(
                scores.weighted_mean,
                &want["weighted_mean_score"],
                "weighted mean",
            );
            assert_close(
                scores.mean_unmasked,
                &want["mean_score_unmasked"],
                "mean unmasked",
            );
            assert_close(
                scores.weighted_mean_unmasked,
                &want["weighted_mean_score_unmasked"],
                "weighted mean unmasked",
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 6);
}

#[test]
fn generate_vectors_score_like_the_reference() {
    let mut checked = 0;
    for case in cases("generate") {
        let input = &case["input"];
        let scheme = synthid(input);
        let expected = &case["expected"];
        assert_close(
            SynthId::expected_mean_g_value_uniform(
                expected["vocab_size"].as_u64().unwrap() as usize
            ),
            &expected["expected_mean_g_value_uniform"],
            "expected mean g-value",
        );
        for kind in ["watermarked", "unwatermarked"] {
            for (i, tokens) in expected[kind].as_array().unwrap().iter().enumerate() {
                let scores = scheme.score(&ids(tokens), Some(2));
                let want = &expected["scores"][kind];
                assert_close(scores.mean, &want["mean_score"][i], kind);
                assert_close(scores.weighted_mean, &want["weighted_mean_score"][i], kind);
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 8);
}

#[test]
fn keys_imported_from_the_transformers_configs_are_the_reference_keys() {
    let mut checked = 0;
    for case in cases("detect").into_iter().chain(cases("generate")) {
        let input = &case["input"];
        let key = imported_key(input);
        // The imported key is the one the tests above build, field for field.
        assert_eq!(key.config, SchemeConfig::SynthId(params(input)));
        let SchemeConfig::SynthId(imported) = &key.config else {
            unreachable!()
        };
        let scheme = SynthId::new(imported).unwrap();
        if case["kind"] == "detect" {
            let eos = input["eos_token_id"].as_u64().map(|e| e as u32);
            let sequences = input["token_ids"].as_array().unwrap();
            let expected = case["expected"].as_array().unwrap();
            for (tokens, want) in sequences.iter().zip(expected) {
                let scores = scheme.score(&ids(tokens), eos);
                assert_close(scores.mean, &want["mean_score"], "mean");
                assert_close(
                    scores.weighted_mean,
                    &want["weighted_mean_score"],
                    "weighted",
                );
                checked += 1;
            }
        } else {
            // Text that transformers marked is detected with the imported key, through
            // the same entry point `tracemark detect` uses; its unmarked text is not.
            let expected = &case["expected"];
            let vocab = expected["vocab_size"].as_u64().unwrap() as usize;
            let wm = Watermarker::new(&key, vocab).unwrap();
            let opts = DetectOptions::new(1e-3).eos_token(Some(2));
            for (kind, marked) in [("watermarked", true), ("unwatermarked", false)] {
                for (i, tokens) in expected[kind].as_array().unwrap().iter().enumerate() {
                    let found = wm.detect(&ids(tokens), &opts).unwrap();
                    assert_eq!(found.verdict.detected, marked, "{kind} {i}: {found:?}");
                    let reference = found.synthid.unwrap();
                    let want = &expected["scores"][kind];
                    assert_close(reference.mean, &want["mean_score"][i], kind);
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 6 + 8);
}
