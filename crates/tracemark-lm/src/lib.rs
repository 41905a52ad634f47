//! Language models behind one trait, their tokenizers, and the sampling loop a watermark
//! plugs into.
//!
//! Every generator Tracemark drives answers one question, [`LanguageModel::next_token_logits`]:
//! the logits of the token after a context. Backends: llama2.c checkpoints ([`llama2c`],
//! grouped-query attention included) and HF llama-family models ([`hf`]) on candle, a
//! synthetic deterministic model for tests ([`synthetic`]), and (in `tracemark-trace`)
//! the corpus n-gram model. [`sampling`] turns logits into text, with temperature,
//! top-k, top-p, a seed, and any watermark scheme of `tracemark-watermark`.

pub mod bpe;
pub mod convert;
pub mod hf;
mod kv;
pub mod llama2c;
pub mod loader;
pub mod sampling;
pub mod synthetic;
pub mod word;

use std::{
    io::Read,
    ops::Range,
    path::{Path, PathBuf},
};

use tracemark_core::{ContentHash, Diagnose, Fault};

pub use bpe::Llama2cTokenizer;
pub use hf::{HfModel, HfTokenizer};
pub use llama2c::Llama2cModel;
pub use loader::{LoadedModel, load, load_tokenizer};
pub use synthetic::SyntheticModel;

/// A token id in a model's vocabulary.
pub type TokenId = u32;

/// A source of next-token logits.
pub trait LanguageModel {
    /// Size of the vocabulary: the length of every logits vector.
    fn vocab_size(&self) -> usize;

    /// The longest context the model accepts.
    fn max_context(&self) -> usize;

    /// The logits of the token that follows `context` (the whole sequence so far).
    /// Backends cache work for a context that extends the previous one, so calling this
    /// once per generated token costs one token's computation.
    fn next_token_logits(&mut self, context: &[TokenId]) -> Result<Vec<f32>, LmError>;
}

/// Text to token ids and back, with byte offsets so that positions can be reported as
/// byte ranges of the input.
pub trait Tokenizer {
    fn vocab_size(&self) -> usize;

    /// The tokens of `text`, each with the byte range of `text` it covers (a token added
    /// by the tokenizer itself, such as a dummy prefix, may cover an empty range).
    fn encode(&self, text: &str) -> Result<Vec<(TokenId, Range<usize>)>, LmError>;

    /// The text of `tokens`, as the tokenizer's own decoder writes it (llama2.c's keeps a
    /// leading space; HF llama tokenizers strip one).
    fn decode(&self, tokens: &[TokenId]) -> Result<String, LmError>;

    fn bos(&self) -> Option<TokenId>;

    fn eos(&self) -> Option<TokenId>;

    /// SHA-256 of the tokenizer file: binds watermark keys to a tokenizer.
    fn hash(&self) -> ContentHash;
}

/// A boxed tokenizer (as the loader returns) is a tokenizer.
impl<T: Tokenizer + ?Sized> Tokenizer for Box<T> {
    fn vocab_size(&self) -> usize {
        (**self).vocab_size()
    }

    fn encode(&self, text: &str) -> Result<Vec<(TokenId, Range<usize>)>, LmError> {
        (**self).encode(text)
    }

    fn decode(&self, tokens: &[TokenId]) -> Result<String, LmError> {
        (**self).decode(tokens)
    }

    fn bos(&self) -> Option<TokenId> {
        (**self).bos()
    }

    fn eos(&self) -> Option<TokenId> {
        (**self).eos()
    }

    fn hash(&self) -> ContentHash {
        (**self).hash()
    }
}

/// A model or tokenizer that could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum LmError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a usable model or tokenizer: {reason}")]
    BadModel { path: PathBuf, reason: String },
    #[error("token id {token} is outside the vocabulary of {vocab_size}")]
    TokenOutOfRange { token: TokenId, vocab_size: usize },
    #[error("the context of {len} tokens exceeds the model's maximum of {max}")]
    ContextTooLong { len: usize, max: usize },
    #[error("the tokenizer has {tokenizer} tokens but the model {model}")]
    VocabMismatch { tokenizer: usize, model: usize },
    #[error("invalid sampling parameters: {0}")]
    Sampling(String),
    #[error(transparent)]
    Watermark(#[from] tracemark_watermark::WatermarkError),
    #[error("model computation failed: {0}")]
    Compute(String),
}

impl LmError {
    pub(crate) fn bad(path: &Path, reason: impl Into<String>) -> Self {
        LmError::BadModel {
            path: path.to_owned(),
            reason: reason.into(),
        }
    }
}

impl From<candle_core::Error> for LmError {
    fn from(e: candle_core::Error) -> Self {
        LmError::Compute(e.to_string())
    }
}

impl Diagnose for LmError {
    fn fault(&self) -> Fault {
        match self {
            LmError::Compute(_) => Fault::Internal,
            LmError::Sampling(_) => Fault::Usage,
            LmError::Watermark(e) => e.fault(),
            _ => Fault::Input,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            LmError::BadModel { .. } => Some(
                "pass a llama2.c checkpoint with its tokenizer.bin beside it, or a directory \
                 with config.json, model.safetensors and tokenizer.json"
                    .into(),
            ),
            LmError::VocabMismatch { .. } => {
                Some("use the tokenizer that was shipped with this model".into())
            }
            LmError::ContextTooLong { .. } => Some("shorten the prompt or --max-tokens".into()),
            LmError::Sampling(_) => Some("see `tracemark generate --help` for the ranges".into()),
            LmError::Watermark(e) => e.hint(),
            _ => None,
        }
    }
}

/// Reads a whole file of at most `limit` bytes.
pub(crate) fn read_limited(path: &Path, limit: usize) -> Result<Vec<u8>, LmError> {
    let read_err = |source| LmError::Read {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let mut bytes = Vec::new();
    file.take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    if bytes.len() > limit {
        return Err(LmError::bad(path, format!("larger than {limit} bytes")));
    }
    Ok(bytes)
}

/// Index of the largest logit (greedy decoding); the first on ties.
pub fn argmax(logits: &[f32]) -> Option<TokenId> {
    let mut best: Option<(usize, f32)> = None;
    for (i, &x) in logits.iter().enumerate() {
        if best.is_none_or(|(_, b)| x > b) {
            best = Some((i, x));
        }
    }
    best.map(|(i, _)| i as TokenId)
}

#[cfg(test)]
pub(crate) mod tests {
    /// `models/tinystories-260k`, committed with the repository.
    pub use tracemark_testkit::model_dir;
}
