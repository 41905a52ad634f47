//! HF-format llama-family models on candle: a directory with `config.json`,
//! `model.safetensors` and `tokenizer.json`.
//!
//! candle's llama loader panics on a missing or misshapen tensor, so every tensor the
//! configuration implies is checked by name and shape before the model is built: a
//! wrong or truncated file is an error that says which tensor, never a crash.

use std::{collections::HashMap, ops::Range, path::Path};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::llama::{Cache, Config, Llama, LlamaConfig};
use tracemark_core::ContentHash;

use crate::{LanguageModel, LmError, TokenId, Tokenizer, kv::CachedContext};

/// Weight files larger than this are refused before being read.
const MAX_WEIGHTS_BYTES: usize = 16 << 30;
const MAX_JSON_BYTES: usize = 64 << 20;

pub const CONFIG_FILE: &str = "config.json";
pub const WEIGHTS_FILE: &str = "model.safetensors";
pub const TOKENIZER_FILE: &str = "tokenizer.json";

/// The tensors a llama configuration implies, with their shapes.
fn expected_tensors(c: &LlamaConfig) -> Vec<(String, Vec<usize>)> {
    let head_dim = c.hidden_size / c.num_attention_heads;
    let kv = head_dim * c.num_key_value_heads();
    let (h, i, v) = (c.hidden_size, c.intermediate_size, c.vocab_size);
    let mut tensors = vec![
        ("model.embed_tokens.weight".to_string(), vec![v, h]),
        ("model.norm.weight".to_string(), vec![h]),
    ];
    if !c.tie_word_embeddings.unwrap_or(false) {
        tensors.push(("lm_head.weight".to_string(), vec![v, h]));
    }
    for l in 0..c.num_hidden_layers {
        let p = format!("model.layers.{l}");
        tensors.extend([
            (format!("{p}.self_attn.q_proj.weight"), vec![h, h]),
            (format!("{p}.self_attn.k_proj.weight"), vec![kv, h]),
            (format!("{p}.self_attn.v_proj.weight"), vec![kv, h]),
            (format!("{p}.self_attn.o_proj.weight"), vec![h, h]),
            (format!("{p}.mlp.gate_proj.weight"), vec![i, h]),
            (format!("{p}.mlp.up_proj.weight"), vec![i, h]),
            (format!("{p}.mlp.down_proj.weight"), vec![h, i]),
            (format!("{p}.input_layernorm.weight"), vec![h]),
            (format!("{p}.post_attention_layernorm.weight"), vec![h]),
        ]);
    }
    tensors
}

fn check_config(c: &LlamaConfig) -> Result<(), String> {
    let positive = [
        ("hidden_size", c.hidden_size),
        ("intermediate_size", c.intermediate_size),
        ("vocab_size", c.vocab_size),
        ("num_hidden_layers", c.num_hidden_layers),
        ("num_attention_heads", c.num_attention_heads),
        ("num_key_value_heads", c.num_key_value_heads()),
        ("max_position_embeddings", c.max_position_embeddings),
    ];
    if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0 || *v > 1 << 24) {
        return Err(format!("config.json: {name} is out of range"));
    }
    if !c.hidden_size.is_multiple_of(c.num_attention_heads)
        || !(c.hidden_size / c.num_attention_heads).is_multiple_of(2)
    {
        return Err("config.json: hidden_size must be a multiple of num_attention_heads with an even head size".into());
    }
    if !c
        .num_attention_heads
        .is_multiple_of(c.num_key_value_heads())
    {
        return Err(
            "config.json: num_attention_heads must be a multiple of num_key_value_heads".into(),
        );
    }
    Ok(())
}

/// An HF llama-family model with a KV cache for the growing context.
pub struct HfModel {
    model: Llama,
    config: Config,
    vocab_size: usize,
    context: CachedContext<Cache>,
    device: Device,
}

impl std::fmt::Debug for HfModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HfModel")
            .field("vocab_size", &self.vocab_size)
            .finish_non_exhaustive()
    }
}

impl HfModel {
    /// Loads `config.json` and `model.safetensors` from `dir`.
    pub fn load(dir: &Path) -> Result<Self, LmError> {
        let config_path = dir.join(CONFIG_FILE);
        let config: LlamaConfig =
            serde_json::from_slice(&crate::read_limited(&config_path, MAX_JSON_BYTES)?).map_err(
                |e| LmError::bad(&config_path, format!("not a llama config.json ({e})")),
            )?;
        check_config(&config).map_err(|reason| LmError::bad(&config_path, reason))?;

        let weights_path = dir.join(WEIGHTS_FILE);
        let device = Device::Cpu;
        let bytes = crate::read_limited(&weights_path, MAX_WEIGHTS_BYTES)?;
        let tensors = candle_core::safetensors::load_buffer(&bytes, &device)
            .map_err(|e| LmError::bad(&weights_path, format!("not a safetensors file ({e})")))?;
        Self::from_tensors(config, tensors, device)
            .map_err(|reason| LmError::bad(&weights_path, reason))
    }

    fn from_tensors(
        config: LlamaConfig,
        mut tensors: HashMap<String, Tensor>,
        device: Device,
    ) -> Result<Self, String> {
        for (name, shape) in expected_tensors(&config) {
            let tensor = tensors
                .get_mut(&name)
                .ok_or_else(|| format!("tensor {name} is missing"))?;
            if tensor.dims() != shape.as_slice() {
                return Err(format!(
                    "tensor {name} has shape {:?}, the config needs {shape:?}",
                    tensor.dims()
                ));
            }
            *tensor = tensor.to_dtype(DType::F32).map_err(|e| e.to_string())?;
        }
        let vocab_size = config.vocab_size;
        let config = config.into_config(false);
        let vb = VarBuilder::from_tensors(tensors, DType::F32, &device);
        let model = Llama::load(vb, &config).map_err(|e| e.to_string())?;
        let cache = Cache::new(true, DType::F32, &config, &device).map_err(|e| e.to_string())?;
        Ok(Self {
            model,
            config,
            vocab_size,
            context: CachedContext::new(cache),
            device,
        })
    }
}

impl LanguageModel for HfModel {
    fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    fn max_context(&self) -> usize {
        self.config.max_position_embeddings
    }

    fn next_token_logits(&mut self, context: &[TokenId]) -> Result<Vec<f32>, LmError> {
        let max_context = self.max_context();
        let (model, device) = (&self.model, &self.device);
        self.context.next(
            context,
            self.vocab_size,
            max_context,
            |new, position, cache| {
                let input = Tensor::new(new, device)?.unsqueeze(0)?;
                Ok(model
                    .forward(&input, position, cache)?
                    .squeeze(0)?
                    .to_vec1::<f32>()?)
            },
        )
    }
}

/// A `tokenizer.json` tokenizer (the `tokenizers` library), with byte offsets.
pub struct HfTokenizer {
    inner: tokenizers::Tokenizer,
    bos: Option<TokenId>,
    eos: Option<TokenId>,
    hash: ContentHash,
}

impl std::fmt::Debug for HfTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HfTokenizer")
            .field("hash", &self.hash)
            .finish_non_exhaustive()
    }
}

impl HfTokenizer {
    /// Loads `tokenizer.json`; BOS and EOS are `<s>` and `</s>` where the vocabulary has them.
    pub fn load(path: &Path) -> Result<Self, LmError> {
        let bytes = crate::read_limited(path, MAX_JSON_BYTES)?;
        let inner = tokenizers::Tokenizer::from_bytes(&bytes)
            .map_err(|e| LmError::bad(path, format!("not a tokenizer.json ({e})")))?;
        Ok(Self {
            bos: inner.token_to_id("<s>"),
            eos: inner.token_to_id("</s>"),
            inner,
            hash: ContentHash::of_bytes(&bytes),
        })
    }
}

impl Tokenizer for HfTokenizer {
    fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    fn encode(&self, text: &str) -> Result<Vec<(TokenId, Range<usize>)>, LmError> {
        let encoding = self
            .inner
            .encode(text, false)
            .map_err(|e| LmError::Compute(format!("tokenizer failed: {e}")))?;
        Ok(encoding
            .get_ids()
            .iter()
            .zip(encoding.get_offsets())
            .map(|(&id, &(start, end))| (id, start.min(text.len())..end.min(text.len())))
            .collect())
    }

    fn decode(&self, tokens: &[TokenId]) -> Result<String, LmError> {
        let vocab_size = self.vocab_size();
        if let Some(&token) = tokens.iter().find(|&&t| t as usize >= vocab_size) {
            return Err(LmError::TokenOutOfRange { token, vocab_size });
        }
        self.inner
            .decode(tokens, true)
            .map_err(|e| LmError::Compute(format!("tokenizer failed: {e}")))
    }

    fn bos(&self) -> Option<TokenId> {
        self.bos
    }

    fn eos(&self) -> Option<TokenId> {
        self.eos
    }

    fn hash(&self) -> ContentHash {
        self.hash
    }
}
