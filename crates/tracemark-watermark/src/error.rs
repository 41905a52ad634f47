//! The watermark crate's errors. Every bad input is one of these, never a panic.

use tracemark_core::{Diagnose, Fault};

/// What went wrong while marking or detecting.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WatermarkError {
    #[error(
        "there are no tokens to score (after the {prompt_len}-token prompt and the unscored context)"
    )]
    Empty { prompt_len: usize },
    #[error("token id {token} at index {index} is outside the vocabulary of {vocab_size} tokens")]
    TokenOutOfVocab {
        token: u32,
        index: usize,
        vocab_size: usize,
    },
    #[error("the logits vector has {got} entries but the vocabulary has {expected}")]
    LogitsLength { expected: usize, got: usize },
    #[error("the logits contain no finite value, so there is nothing to sample")]
    NoFiniteLogit,
    #[error("a {got}-bit payload does not fit this key, which carries {max} bits")]
    PayloadTooWide { got: u8, max: u8 },
    #[error("this key carries no payload, so none can be written")]
    PayloadUnsupported,
    #[error("the key was made for a {key} token vocabulary, not {given}")]
    VocabMismatch { key: u32, given: usize },
    #[error("invalid watermark key: {0}")]
    InvalidKey(String),
    /// A transformers watermarking configuration that cannot be imported.
    #[error("cannot import the transformers SynthID configuration: {0}")]
    TransformersConfig(String),
    #[error("invalid detection option: {0}")]
    InvalidOption(String),
    /// A serving stack's watermark configuration (vLLM, SGLang) that cannot be read.
    #[error("cannot read the {stack} watermark configuration: {message}")]
    DeployedConfig {
        stack: &'static str,
        message: String,
    },
    #[error("{got} byte ranges were given for {expected} tokens")]
    OffsetsLength { expected: usize, got: usize },
}

impl Diagnose for WatermarkError {
    fn fault(&self) -> Fault {
        match self {
            WatermarkError::LogitsLength { .. } | WatermarkError::NoFiniteLogit => Fault::Internal,
            WatermarkError::InvalidOption(_) => Fault::Usage,
            _ => Fault::Input,
        }
    }

    fn hint(&self) -> Option<String> {
        Some(
            match self {
                WatermarkError::Empty { .. } => "give a longer text, or a shorter prompt length",
                WatermarkError::TokenOutOfVocab { .. } | WatermarkError::VocabMismatch { .. } => {
                    "detect with the tokenizer the key was made for"
                }
                WatermarkError::LogitsLength { .. } => {
                    "build the watermarker with the model's vocabulary size"
                }
                WatermarkError::NoFiniteLogit => {
                    "check the model's output and the sampling filters"
                }
                WatermarkError::PayloadTooWide { .. } => {
                    "give a shorter payload, or make a key with more payload bits"
                }
                WatermarkError::PayloadUnsupported => {
                    "make a key with `payload_bits` set, or generate without a payload"
                }
                WatermarkError::InvalidKey(_) => {
                    "generate a fresh key with `tracemark keygen watermark`"
                }
                WatermarkError::TransformersConfig(_) => {
                    "give the JSON that transformers' `SynthIDTextWatermarkingConfig.to_json_file` \
                     writes: `keys` (a list of integers) and `ngram_len`, optionally \
                     `sampling_table_size`, `sampling_table_seed`, `context_history_size`"
                }
                WatermarkError::InvalidOption(_) => "the false-positive rate must lie in (0, 1)",
                WatermarkError::OffsetsLength { .. } => "give one byte range per token",
                WatermarkError::DeployedConfig { stack: "vLLM", .. } => {
                    "give the JSON passed to vLLM's `--watermark-config`, for example \
                     {\"algorithm\": \"gumbel\", \"key\": 42}"
                }
                WatermarkError::DeployedConfig { .. } => {
                    "give the JSON of SGLang's `--watermark-config`, for example \
                     {\"key\": \"0123456789abcdef\", \"context_window\": 4}"
                }
            }
            .to_owned(),
        )
    }
}
