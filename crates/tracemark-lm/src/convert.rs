//! Export a llama2.c checkpoint and tokenizer as an HF-format llama model directory
//! (`config.json`, `model.safetensors`, `tokenizer.json`).
//!
//! Two conventions differ between the formats. RoPE: llama2.c rotates interleaved pairs
//! of each head's dimensions, HF llama rotates the first half against the second, so the
//! rows of `wq` and `wk` are permuted per head (as Meta's and HF's conversion scripts do).
//! Tokenizer: llama2.c stores SentencePiece scores with `▁` written as a space; HF BPE
//! wants `▁` and an explicit merge list, derived here from the scores (a merge `l r`
//! ranks by the score of the piece `lr`).

use std::{collections::HashMap, path::Path};

use candle_core::{Device, Tensor};
use serde_json::json;
use tracemark_core::keyfile::{self, Replace, Secrecy};

use crate::{
    LmError,
    bpe::{BOS, EOS, Llama2cTokenizer, UNK},
    hf,
    llama2c::{Header, Weights},
};

/// Writes the HF form of `weights` and `tokenizer` into `dir`.
pub fn llama2c_to_hf(
    weights: &Weights,
    tokenizer: &Llama2cTokenizer,
    dir: &Path,
) -> Result<(), LmError> {
    let write_err =
        |path: &Path, e: &dyn std::fmt::Display| LmError::bad(path, format!("cannot write: {e}"));
    std::fs::create_dir_all(dir).map_err(|e| write_err(dir, &e))?;
    let h = &weights.header;

    let config = config_json(h);
    let config_path = dir.join(hf::CONFIG_FILE);
    keyfile::write_file(
        &config_path,
        config.to_string().as_bytes(),
        Secrecy::Public,
        Replace::Yes,
    )
    .map_err(|e| write_err(&config_path, &e))?;

    let tokenizer_path = dir.join(hf::TOKENIZER_FILE);
    let json = tokenizer_json(tokenizer).map_err(|reason| LmError::bad(&tokenizer_path, reason))?;
    keyfile::write_file(
        &tokenizer_path,
        json.to_string().as_bytes(),
        Secrecy::Public,
        Replace::Yes,
    )
    .map_err(|e| write_err(&tokenizer_path, &e))?;

    let tensors = hf_tensors(weights)?;
    let weights_path = dir.join(hf::WEIGHTS_FILE);
    let tmp = dir.join(".model.safetensors.tmp");
    candle_core::safetensors::save(&tensors, &tmp).map_err(|e| write_err(&tmp, &e))?;
    std::fs::rename(&tmp, &weights_path).map_err(|e| write_err(&weights_path, &e))
}

fn config_json(h: &Header) -> serde_json::Value {
    json!({
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": h.dim,
        "intermediate_size": h.hidden_dim,
        "num_hidden_layers": h.n_layers,
        "num_attention_heads": h.n_heads,
        "num_key_value_heads": h.n_kv_heads,
        "vocab_size": h.vocab_size,
        "max_position_embeddings": h.seq_len,
        "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0,
        "hidden_act": "silu",
        "bos_token_id": BOS,
        "eos_token_id": EOS,
        "tie_word_embeddings": h.shared_classifier,
        "torch_dtype": "float32",
    })
}

/// Reorders the rows of a `(heads · head_dim, dim)` projection from interleaved RoPE
/// pairs to halves: `view(heads, head_dim/2, 2, dim).transpose(1, 2)`.
fn permute_rope(w: &Tensor, heads: usize) -> candle_core::Result<Tensor> {
    let (rows, cols) = w.dims2()?;
    w.reshape((heads, rows / heads / 2, 2, cols))?
        .transpose(1, 2)?
        .contiguous()?
        .reshape((rows, cols))
}

fn hf_tensors(weights: &Weights) -> Result<HashMap<String, Tensor>, LmError> {
    let h = &weights.header;
    let device = Device::Cpu;
    let tensor = |name: &str| -> candle_core::Result<Tensor> {
        let (shape, values) = &weights.tensors[name];
        Tensor::from_slice(values, shape.as_slice(), &device)
    };
    let mut out = HashMap::new();
    out.insert(
        "model.embed_tokens.weight".into(),
        tensor("tok_embeddings")?,
    );
    out.insert("model.norm.weight".into(), tensor("rms_final")?);
    if !h.shared_classifier {
        out.insert("lm_head.weight".into(), tensor("wcls")?);
    }
    let stacked = [
        ("wq", "self_attn.q_proj.weight", Some(h.n_heads)),
        ("wk", "self_attn.k_proj.weight", Some(h.n_kv_heads)),
        ("wv", "self_attn.v_proj.weight", None),
        ("wo", "self_attn.o_proj.weight", None),
        ("w1", "mlp.gate_proj.weight", None),
        ("w2", "mlp.down_proj.weight", None),
        ("w3", "mlp.up_proj.weight", None),
        ("rms_att", "input_layernorm.weight", None),
        ("rms_ffn", "post_attention_layernorm.weight", None),
    ];
    for (src, dst, rope_heads) in stacked {
        let all = tensor(src)?;
        for layer in 0..h.n_layers {
            let w = all.get(layer)?;
            let w = match rope_heads {
                Some(heads) => permute_rope(&w, heads)?,
                None => w.contiguous()?,
            };
            out.insert(format!("model.layers.{layer}.{dst}"), w);
        }
    }
    Ok(out)
}

/// The HF `tokenizer.json` equivalent of a llama2.c vocabulary: BPE with byte fallback,
/// a `▁` dummy prefix and spaces as `▁`, as HF's Llama tokenizers are laid out.
fn tokenizer_json(tok: &Llama2cTokenizer) -> Result<serde_json::Value, String> {
    let n = crate::Tokenizer::vocab_size(tok) as u32;
    let special = [(UNK, "<unk>"), (BOS, "<s>"), (EOS, "</s>")];
    let mut vocab = serde_json::Map::new();
    let mut ids: HashMap<String, u32> = HashMap::new();
    for id in 0..n {
        let piece = match special.iter().find(|(s, _)| *s == id) {
            Some((_, name)) => (*name).to_string(),
            None => {
                let bytes = tok.piece(id).expect("id < vocab size");
                std::str::from_utf8(bytes)
                    .map_err(|_| format!("piece {id} is not UTF-8"))?
                    .replace(' ', "\u{2581}")
            }
        };
        if ids.insert(piece.clone(), id).is_none() {
            vocab.insert(piece, json!(id));
        }
    }
    // Every split of a piece into two pieces is a merge, ranked by the piece's score.
    let mut merges: Vec<(f32, u32, u32, u32, String, String)> = Vec::new();
    for (piece, &id) in &ids {
        if id <= EOS || piece.starts_with("<0x") {
            continue;
        }
        for (split, _) in piece.char_indices().skip(1) {
            let (left, right) = piece.split_at(split);
            if let (Some(&l), Some(&r)) = (ids.get(left), ids.get(right)) {
                let score = tok.score(id).expect("id < vocab size");
                merges.push((score, id, l, r, left.to_owned(), right.to_owned()));
            }
        }
    }
    merges.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(a.1.cmp(&b.1))
            .then(a.2.cmp(&b.2))
            .then(a.3.cmp(&b.3))
    });
    let merges: Vec<_> = merges.into_iter().map(|(.., l, r)| json!([l, r])).collect();
    let added: Vec<_> = special
        .iter()
        .map(|(id, content)| {
            json!({"id": id, "content": content, "single_word": false, "lstrip": false,
                                    "rstrip": false, "normalized": false, "special": true})
        })
        .collect();
    Ok(json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": added,
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": "\u{2581}"},
            {"type": "Replace", "pattern": {"String": " "}, "content": "\u{2581}"}
        ]},
        "pre_tokenizer": null,
        "post_processor": null,
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "\u{2581}"}, "content": " "},
            {"type": "ByteFallback"},
            {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0}
        ]},
        "model": {
            "type": "BPE", "dropout": null, "unk_token": "<unk>",
            "continuing_subword_prefix": null, "end_of_word_suffix": null,
            "fuse_unk": true, "byte_fallback": true, "ignore_merges": false,
            "vocab": vocab, "merges": merges
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        HfModel, HfTokenizer, LanguageModel, Llama2cModel, TokenId, Tokenizer, argmax,
        tests::model_dir,
    };

    fn export() -> (tempfile::TempDir, Llama2cModel, Llama2cTokenizer) {
        let bytes = std::fs::read(model_dir().join("model.bin")).unwrap();
        let weights = Weights::parse(&bytes).unwrap();
        let tok = Llama2cTokenizer::load(&model_dir().join("tokenizer.bin")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        llama2c_to_hf(&weights, &tok, dir.path()).unwrap();
        let model =
            Llama2cModel::from_weights(&weights, tracemark_core::ContentHash::of_bytes(&bytes))
                .unwrap();
        (dir, model, tok)
    }

    #[test]
    fn both_backends_give_the_same_logits_and_greedy_tokens() {
        let (dir, mut llama2c, _) = export();
        let mut hf = HfModel::load(dir.path()).unwrap();
        let (mut a, mut b) = (vec![BOS], vec![BOS]);
        for _ in 0..60 {
            let la = llama2c.next_token_logits(&a).unwrap();
            let lb = hf.next_token_logits(&b).unwrap();
            let diff = la
                .iter()
                .zip(&lb)
                .map(|(x, y)| (x - y).abs())
                .fold(0f32, f32::max);
            assert!(diff < 1e-3, "logits differ by {diff} at step {}", a.len());
            a.push(argmax(&la).unwrap());
            b.push(argmax(&lb).unwrap());
        }
        assert_eq!(a, b);
    }

    #[test]
    fn the_tokenizer_opens_from_the_folder_or_its_json_file() {
        let (dir, _, _) = export();
        let by_dir = crate::load_tokenizer(dir.path()).unwrap();
        let by_file = crate::load_tokenizer(&dir.path().join(hf::TOKENIZER_FILE)).unwrap();
        assert_eq!(by_dir.hash(), by_file.hash());
        assert_eq!(by_file.vocab_size(), 512);
    }

    #[test]
    fn the_exported_tokenizer_encodes_like_the_original() {
        let (dir, _, tok) = export();
        let hf = HfTokenizer::load(&dir.path().join(hf::TOKENIZER_FILE)).unwrap();
        assert_eq!(hf.vocab_size(), tok.vocab_size());
        for text in [
            "Once upon a time, there was a little girl named Lily.",
            "She liked to play with her big red ball in the garden.",
            "Tom said, \"Let's go!\" and they ran home.",
            "naïve café ✓",
        ] {
            let ids = |enc: Vec<(TokenId, std::ops::Range<usize>)>| {
                enc.into_iter().map(|(id, _)| id).collect::<Vec<_>>()
            };
            let original = tok.encode(text).unwrap();
            let exported = hf.encode(text).unwrap();
            assert_eq!(ids(exported.clone()), ids(original.clone()), "{text:?}");
            assert_eq!(hf.decode(&ids(exported)).unwrap(), text);
        }
    }

    #[test]
    fn a_damaged_export_is_an_error_not_a_crash() {
        let (dir, ..) = export();
        let weights = dir.path().join(hf::WEIGHTS_FILE);
        let bytes = std::fs::read(&weights).unwrap();
        std::fs::write(&weights, &bytes[..bytes.len() / 2]).unwrap();
        assert!(matches!(
            HfModel::load(dir.path()),
            Err(LmError::BadModel { .. })
        ));

        let (dir, ..) = export();
        let config = dir.path().join(hf::CONFIG_FILE);
        let text = std::fs::read_to_string(&config)
            .unwrap()
            .replace("\"num_hidden_layers\":5", "\"num_hidden_layers\":6");
        std::fs::write(&config, text).unwrap();
        let err = HfModel::load(dir.path()).unwrap_err();
        assert!(err.to_string().contains("model.layers.5"), "{err}");

        std::fs::write(&config, "{}").unwrap();
        assert!(matches!(
            HfModel::load(dir.path()),
            Err(LmError::BadModel { .. })
        ));
        std::fs::write(dir.path().join(hf::TOKENIZER_FILE), "{\"model\": 3}").unwrap();
        assert!(HfTokenizer::load(&dir.path().join(hf::TOKENIZER_FILE)).is_err());
    }
}
