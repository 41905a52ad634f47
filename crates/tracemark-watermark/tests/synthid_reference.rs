//! SynthID-Text compatibility: vectors produced by HF transformers 5.24 itself.

use serde_json::Value;
use sha2::{Digest, Sha256};
use tracemark_watermark::{
    Secret, SynthIdParams,
    synthid::{SynthId, sampling_table},
};

const VECTORS: &str = include_str!("data/synthid-reference-vectors.json");

fn synthid(input: &Value) -> SynthId {
    let keys = input["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_u64().unwrap())
        .collect();
    SynthId::new(&SynthIdParams {
        keys: Secret::new(keys),
        ngram_len: input["ngram_len"].as_u64().unwrap() as usize,
        sampling_table_size: input["sampling_table_size"].as_u64().unwrap() as usize,
        sampling_table_seed: input["sampling_table_seed"].as_u64().unwrap(),
        context_history_size: input["context_history_size"].as_u64().unwrap() as usize,
    })
    .unwrap()
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
