//! Language models behind one trait, and the sampling loop a watermark plugs into.
//!
//! Every generator Tracemark drives (llama2.c checkpoints and HF llama-family models on
//! candle, the corpus n-gram model of `tracemark-trace`, a synthetic model for tests)
//! answers one question: the next-token logits for a context. Watermark schemes from
//! `tracemark-watermark` then reweight or replace sampling over those logits.

use tracemark_core::{Diagnose, Fault};

/// A token id in a model's vocabulary.
pub type TokenId = u32;

/// A source of next-token logits.
pub trait LanguageModel {
    /// Size of the vocabulary: the length of every logits vector.
    fn vocab_size(&self) -> usize;

    /// The logits of the token that follows `context` (the whole sequence so far).
    fn next_token_logits(&mut self, context: &[TokenId]) -> Result<Vec<f32>, LmError>;
}

/// Text to token ids and back, with byte offsets so that positions can be reported as
/// byte ranges of the input.
pub trait Tokenizer {
    fn vocab_size(&self) -> usize;

    /// The tokens of `text`, each with the byte range of `text` it covers.
    fn encode(&self, text: &str) -> Result<Vec<(TokenId, std::ops::Range<usize>)>, LmError>;

    fn decode(&self, tokens: &[TokenId]) -> Result<String, LmError>;
}

/// A model or tokenizer that could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum LmError {
    #[error("{what} is not a usable model or tokenizer: {reason}")]
    BadModel { what: String, reason: String },
    #[error("token id {token} is outside the vocabulary of {vocab_size}")]
    TokenOutOfRange { token: TokenId, vocab_size: usize },
}

impl Diagnose for LmError {
    fn fault(&self) -> Fault {
        Fault::Input
    }
}
