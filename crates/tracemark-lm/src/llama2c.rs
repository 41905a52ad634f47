//! llama2.c checkpoints on candle, grouped-query attention included.
//!
//! Legacy llama2.c layout: a header of 7 little-endian `i32` (dim, hidden_dim, n_layers,
//! n_heads, n_kv_heads, vocab_size, seq_len; a negative vocab_size means the classifier
//! is stored separately rather than shared with the embedding), then `f32` tensors in
//! this order: token embedding, attention norms, wq, wk, wv, wo, ffn norms, w1, w2, w3,
//! final norm, RoPE cos and sin tables, and the classifier if not shared. candle's own
//! reader assumes n_kv_heads == n_heads, so the tensors are read here and handed to
//! `candle_transformers::models::llama2_c::Llama` by name.

use std::{collections::HashMap, path::Path};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::llama2_c::{Cache, Config, Llama};
use tracemark_core::ContentHash;

use crate::{LanguageModel, LmError, TokenId, kv::CachedContext};

/// Checkpoints larger than this are refused before being read.
const MAX_FILE_BYTES: usize = 8 << 30;

/// The header of a llama2.c checkpoint, checked for consistency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub dim: usize,
    pub hidden_dim: usize,
    pub n_layers: usize,
    pub n_heads: usize,
    pub n_kv_heads: usize,
    pub vocab_size: usize,
    pub seq_len: usize,
    /// Whether the output classifier is the token embedding (llama2.c's default).
    pub shared_classifier: bool,
}

impl Header {
    pub const BYTES: usize = 28;

    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        if bytes.len() < Self::BYTES {
            return Err(format!(
                "{} bytes is shorter than the 28-byte header",
                bytes.len()
            ));
        }
        let field =
            |i: usize| i32::from_le_bytes(bytes[4 * i..4 * i + 4].try_into().expect("4 bytes"));
        let positive = |i: usize, name: &str, max: i64| -> Result<usize, String> {
            let v = i64::from(field(i));
            if v <= 0 || v > max {
                return Err(format!("header field {name} = {v} is out of range"));
            }
            Ok(v as usize)
        };
        let vocab = i64::from(field(5));
        let header = Header {
            dim: positive(0, "dim", 1 << 16)?,
            hidden_dim: positive(1, "hidden_dim", 1 << 18)?,
            n_layers: positive(2, "n_layers", 1024)?,
            n_heads: positive(3, "n_heads", 1024)?,
            n_kv_heads: positive(4, "n_kv_heads", 1024)?,
            vocab_size: usize::try_from(vocab.unsigned_abs())
                .map_err(|_| "vocab_size overflows")?,
            seq_len: positive(6, "seq_len", 1 << 20)?,
            shared_classifier: vocab > 0,
        };
        if header.vocab_size == 0 || header.vocab_size > 1 << 22 {
            return Err(format!("header field vocab_size = {vocab} is out of range"));
        }
        if !header.dim.is_multiple_of(header.n_heads) || !header.head_size().is_multiple_of(2) {
            return Err("dim must be a multiple of n_heads with an even head size".into());
        }
        if !header.n_heads.is_multiple_of(header.n_kv_heads) {
            return Err("n_heads must be a multiple of n_kv_heads".into());
        }
        Ok(header)
    }

    pub fn head_size(&self) -> usize {
        self.dim / self.n_heads
    }

    pub fn kv_dim(&self) -> usize {
        self.head_size() * self.n_kv_heads
    }

    /// The tensors in file order, with their shapes (leading `n_layers` for stacked ones).
    fn layout(&self) -> Vec<(&'static str, Vec<usize>)> {
        let (l, d, h, kv, v) = (
            self.n_layers,
            self.dim,
            self.hidden_dim,
            self.kv_dim(),
            self.vocab_size,
        );
        let half = self.seq_len * self.head_size() / 2;
        let mut layout = vec![
            ("tok_embeddings", vec![v, d]),
            ("rms_att", vec![l, d]),
            ("wq", vec![l, d, d]),
            ("wk", vec![l, kv, d]),
            ("wv", vec![l, kv, d]),
            ("wo", vec![l, d, d]),
            ("rms_ffn", vec![l, d]),
            ("w1", vec![l, h, d]),
            ("w2", vec![l, d, h]),
            ("w3", vec![l, h, d]),
            ("rms_final", vec![d]),
            ("freq_cis_real", vec![half]),
            ("freq_cis_imag", vec![half]),
        ];
        if !self.shared_classifier {
            layout.push(("wcls", vec![v, d]));
        }
        layout
    }

    pub fn config(&self) -> Config {
        Config {
            dim: self.dim,
            hidden_dim: self.hidden_dim,
            n_layers: self.n_layers,
            n_heads: self.n_heads,
            n_kv_heads: self.n_kv_heads,
            vocab_size: self.vocab_size,
            seq_len: self.seq_len,
            norm_eps: 1e-5,
        }
    }
}

/// A checkpoint's tensors by llama2.c name, as flat `f32` data with shapes.
#[derive(Debug, Clone)]
pub struct Weights {
    pub header: Header,
    pub tensors: HashMap<&'static str, (Vec<usize>, Vec<f32>)>,
}

impl Weights {
    /// Parses a whole checkpoint, requiring its size to match the header exactly.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let header = Header::parse(bytes)?;
        let layout = header.layout();
        let floats = layout
            .iter()
            .try_fold(0usize, |acc, (_, shape)| {
                shape
                    .iter()
                    .try_fold(1usize, |n, &d| n.checked_mul(d))
                    .and_then(|n| acc.checked_add(n))
            })
            .ok_or("the header describes an impossibly large model")?;
        let expected = floats
            .checked_mul(4)
            .and_then(|n| n.checked_add(Header::BYTES));
        match expected {
            Some(n) if n == bytes.len() => {}
            Some(n) if n > bytes.len() => {
                return Err(format!(
                    "truncated: {} bytes, the header needs {n}",
                    bytes.len()
                ));
            }
            Some(n) => {
                return Err(format!(
                    "{} bytes, but the header needs {n}: not a llama2.c checkpoint",
                    bytes.len()
                ));
            }
            None => return Err("the header describes an impossibly large model".into()),
        }
        let mut data = bytes[Header::BYTES..]
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")));
        let mut tensors = HashMap::new();
        for (name, shape) in layout {
            let n = shape.iter().product();
            let values: Vec<f32> = data.by_ref().take(n).collect();
            if values.iter().any(|x| !x.is_finite()) {
                return Err(format!("tensor {name} holds non-finite values"));
            }
            tensors.insert(name, (shape, values));
        }
        Ok(Weights { header, tensors })
    }

    fn tensor(&self, name: &str, device: &Device) -> candle_core::Result<Tensor> {
        let (shape, values) = &self.tensors[name];
        Tensor::from_slice(values, shape.as_slice(), device)
    }

    /// The tensors under the names `llama2_c::Llama` loads.
    fn var_builder(&self, device: &Device) -> candle_core::Result<VarBuilder<'static>> {
        let h = &self.header;
        let mut ws = HashMap::new();
        let embedding = self.tensor("tok_embeddings", device)?;
        let classifier = if h.shared_classifier {
            embedding.clone()
        } else {
            self.tensor("wcls", device)?
        };
        ws.insert("model.embed_tokens.weight".to_string(), embedding);
        ws.insert("lm_head.weight".to_string(), classifier);
        ws.insert(
            "model.norm.weight".to_string(),
            self.tensor("rms_final", device)?,
        );
        let rope_shape = (h.seq_len, h.head_size() / 2);
        ws.insert(
            "rot.freq_cis_real".to_string(),
            self.tensor("freq_cis_real", device)?.reshape(rope_shape)?,
        );
        ws.insert(
            "rot.freq_cis_imag".to_string(),
            self.tensor("freq_cis_imag", device)?.reshape(rope_shape)?,
        );
        let stacked = [
            ("wq", "self_attn.q_proj.weight"),
            ("wk", "self_attn.k_proj.weight"),
            ("wv", "self_attn.v_proj.weight"),
            ("wo", "self_attn.o_proj.weight"),
            ("w1", "mlp.gate_proj.weight"),
            ("w2", "mlp.down_proj.weight"),
            ("w3", "mlp.up_proj.weight"),
            ("rms_att", "input_layernorm.weight"),
            ("rms_ffn", "post_attention_layernorm.weight"),
        ];
        for (src, dst) in stacked {
            let all = self.tensor(src, device)?;
            for layer in 0..h.n_layers {
                ws.insert(format!("model.layers.{layer}.{dst}"), all.get(layer)?);
            }
        }
        Ok(VarBuilder::from_tensors(ws, DType::F32, device))
    }
}

/// A llama2.c model ready to compute logits, with a KV cache for the growing context.
#[derive(Debug)]
pub struct Llama2cModel {
    header: Header,
    model: Llama,
    context: CachedContext<Cache>,
    device: Device,
    hash: ContentHash,
}

impl Llama2cModel {
    pub fn load(path: &Path) -> Result<Self, LmError> {
        let bytes = crate::read_limited(path, MAX_FILE_BYTES)?;
        let hash = ContentHash::of_bytes(&bytes);
        let weights = Weights::parse(&bytes).map_err(|reason| LmError::bad(path, reason))?;
        Self::from_weights(&weights, hash)
    }

    pub fn from_weights(weights: &Weights, hash: ContentHash) -> Result<Self, LmError> {
        let device = Device::Cpu;
        let vb = weights.var_builder(&device)?;
        let cache = Cache::new(true, &weights.header.config(), vb.pp("rot"))?;
        // Every tensor exists with the shape the model expects (the header fixed them), so
        // candle's loader, which panics on a missing tensor, cannot fail here.
        let model = Llama::load(vb, weights.header.config())?;
        Ok(Self {
            header: weights.header,
            model,
            context: CachedContext::new(cache),
            device,
            hash,
        })
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    /// SHA-256 of the checkpoint file.
    pub fn hash(&self) -> ContentHash {
        self.hash
    }
}

impl LanguageModel for Llama2cModel {
    fn vocab_size(&self) -> usize {
        self.header.vocab_size
    }

    fn max_context(&self) -> usize {
        self.header.seq_len
    }

    fn next_token_logits(&mut self, context: &[TokenId]) -> Result<Vec<f32>, LmError> {
        let (model, device) = (&self.model, &self.device);
        self.context.next(
            context,
            self.header.vocab_size,
            self.header.seq_len,
            |new, position, cache| {
                let input = Tensor::new(new, device)?.unsqueeze(0)?;
                let logits = model.forward(&input, position, cache)?;
                Ok(logits.squeeze(0)?.get(new.len() - 1)?.to_vec1::<f32>()?)
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Llama2cTokenizer, Tokenizer, argmax, tests::model_dir};

    fn load() -> Llama2cModel {
        Llama2cModel::load(&model_dir().join("model.bin")).unwrap()
    }

    fn greedy(model: &mut impl LanguageModel, mut context: Vec<TokenId>, n: usize) -> Vec<TokenId> {
        for _ in 0..n {
            let next = argmax(&model.next_token_logits(&context).unwrap()).unwrap();
            context.push(next);
        }
        context
    }

    #[test]
    fn reads_the_tinystories_checkpoint_with_grouped_query_attention() {
        let model = load();
        let h = model.header();
        assert_eq!(
            (h.dim, h.n_heads, h.n_kv_heads, h.vocab_size, h.seq_len),
            (64, 8, 4, 512, 512)
        );
        assert!(h.shared_classifier);
    }

    #[test]
    fn greedy_generation_tells_a_story() {
        let tok = Llama2cTokenizer::load(&model_dir().join("tokenizer.bin")).unwrap();
        let mut model = load();
        let tokens = greedy(&mut model, vec![crate::bpe::BOS], 40);
        let text = tok.decode(&tokens[1..]).unwrap();
        assert!(text.starts_with(" Once upon a time"), "{text:?}");
    }

    #[test]
    fn incremental_and_from_scratch_logits_agree() {
        let mut model = load();
        let tokens = greedy(&mut model, vec![crate::bpe::BOS], 20);
        let incremental = model.next_token_logits(&tokens).unwrap();
        let mut fresh = load();
        let scratch = fresh.next_token_logits(&tokens).unwrap();
        let max_diff = incremental
            .iter()
            .zip(&scratch)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(max_diff < 1e-4, "max difference {max_diff}");
        // A context that does not extend the cached one starts over.
        let other = model.next_token_logits(&[crate::bpe::BOS, 300]).unwrap();
        assert_eq!(
            other,
            fresh.next_token_logits(&[crate::bpe::BOS, 300]).unwrap()
        );
    }

    #[test]
    fn refuses_bad_contexts() {
        let mut model = load();
        assert!(matches!(
            model.next_token_logits(&[1, 600]),
            Err(LmError::TokenOutOfRange { token: 600, .. })
        ));
        assert!(matches!(
            model.next_token_logits(&vec![1; 513]),
            Err(LmError::ContextTooLong { .. })
        ));
        assert!(model.next_token_logits(&[]).is_err());
    }

    #[test]
    fn refuses_truncated_padded_and_corrupt_checkpoints() {
        let bytes = std::fs::read(model_dir().join("model.bin")).unwrap();
        let mut nan = bytes.clone();
        nan[100..104].copy_from_slice(&f32::NAN.to_le_bytes());
        let mut gqa = bytes.clone();
        gqa[16..20].copy_from_slice(&3i32.to_le_bytes());
        let mut zero = bytes.clone();
        zero[0..4].copy_from_slice(&0i32.to_le_bytes());
        let mut huge = bytes.clone();
        huge[8..12].copy_from_slice(&i32::MAX.to_le_bytes());
        let padded = [bytes.as_slice(), &[0; 4]].concat();
        for (what, bad) in [
            ("truncated", &bytes[..bytes.len() - 4]),
            ("header only", &bytes[..28]),
            ("short header", &bytes[..10]),
            ("padded", &padded[..]),
            ("nan", &nan[..]),
            ("bad gqa", &gqa[..]),
            ("zero dim", &zero[..]),
            ("huge", &huge[..]),
        ] {
            assert!(Weights::parse(bad).is_err(), "{what} was accepted");
        }
    }
}
