//! Scheme ids and their parameters.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::{key::Secret, payload::PayloadCode};

/// The stable id of a watermark scheme. An id never changes meaning: a change to how a
/// scheme computes anything gets a new id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SchemeId {
    /// Red/green lists seeded by the previous token (Kirchenbauer et al., context 1).
    #[serde(rename = "kgw-lefthash-v1")]
    KgwLeftHash,
    /// Red/green lists seeded by the min-hash over a wider context that includes the
    /// candidate token (Kirchenbauer et al., "SelfHash", context 4).
    #[serde(rename = "kgw-selfhash-v1")]
    KgwSelfHash,
    /// One fixed green list for every position (Zhao et al.).
    #[serde(rename = "unigram-v1")]
    Unigram,
    /// Gumbel-max / exponential sampling keyed by the context (Aaronson).
    #[serde(rename = "gumbel-v1")]
    Gumbel,
    /// SynthID-Text tournament sampling, bit-compatible with Google DeepMind's reference.
    #[serde(rename = "synthid-v1")]
    SynthId,
}

impl SchemeId {
    pub const ALL: [SchemeId; 5] = [
        SchemeId::KgwLeftHash,
        SchemeId::KgwSelfHash,
        SchemeId::Unigram,
        SchemeId::Gumbel,
        SchemeId::SynthId,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SchemeId::KgwLeftHash => "kgw-lefthash-v1",
            SchemeId::KgwSelfHash => "kgw-selfhash-v1",
            SchemeId::Unigram => "unigram-v1",
            SchemeId::Gumbel => "gumbel-v1",
            SchemeId::SynthId => "synthid-v1",
        }
    }

    /// One line for `tracemark schemes`.
    pub fn summary(self) -> &'static str {
        match self {
            SchemeId::KgwLeftHash => "KGW red/green list seeded by the previous token",
            SchemeId::KgwSelfHash => {
                "KGW red/green list, min-hash over 4 tokens incl. the candidate"
            }
            SchemeId::Unigram => "one fixed green list (most robust to edits, least secret)",
            SchemeId::Gumbel => "Gumbel-max sampling (distortion-free per step)",
            SchemeId::SynthId => "SynthID-Text tournament sampling (Google DeepMind compatible)",
        }
    }
}

impl fmt::Display for SchemeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A name that is not a scheme id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown watermark scheme `{0}`; `tracemark schemes` lists them")]
pub struct UnknownScheme(pub String);

impl FromStr for SchemeId {
    type Err = UnknownScheme;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SchemeId::ALL
            .into_iter()
            .find(|id| id.as_str() == s)
            .ok_or_else(|| UnknownScheme(s.to_owned()))
    }
}

/// Red/green list parameters (KGW, SelfHash, Unigram).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KgwParams {
    /// Fraction of the vocabulary on the green list.
    pub gamma: f64,
    /// Logit bias added to green tokens.
    pub delta: f64,
    /// Tokens of context that seed the list (1 for LeftHash, 4 for SelfHash, 0 for Unigram).
    pub context_width: usize,
    /// Bits of payload each generation carries (0: zero-bit). Needs `gamma = 1/r` with
    /// `r` a power of two; each slot then carries `log2 r` bits.
    #[serde(default)]
    pub payload_bits: u8,
    /// The payload's error-correcting code (absent in key files made before codes: none).
    #[serde(default, skip_serializing_if = "PayloadCode::is_none")]
    pub payload_code: PayloadCode,
}

/// Gumbel-max parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GumbelParams {
    /// Tokens of context that key the uniform variables.
    pub context_width: usize,
    /// Bits of payload each generation carries (0: zero-bit), 2 bits per slot.
    #[serde(default)]
    pub payload_bits: u8,
    /// The payload's error-correcting code (absent in key files made before codes: none).
    #[serde(default, skip_serializing_if = "PayloadCode::is_none")]
    pub payload_code: PayloadCode,
}

/// SynthID-Text parameters, named as in transformers' `SynthIDTextWatermarkingConfig`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SynthIdParams {
    /// One key per tournament layer: the secret.
    pub keys: Secret<Vec<u64>>,
    pub ngram_len: usize,
    pub sampling_table_size: usize,
    pub sampling_table_seed: u64,
    pub context_history_size: usize,
}

/// A scheme with its parameters, tagged by scheme id in JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "scheme", content = "params")]
pub enum SchemeConfig {
    #[serde(rename = "kgw-lefthash-v1")]
    KgwLeftHash(KgwParams),
    #[serde(rename = "kgw-selfhash-v1")]
    KgwSelfHash(KgwParams),
    #[serde(rename = "unigram-v1")]
    Unigram(KgwParams),
    #[serde(rename = "gumbel-v1")]
    Gumbel(GumbelParams),
    #[serde(rename = "synthid-v1")]
    SynthId(SynthIdParams),
}

impl SchemeConfig {
    pub fn id(&self) -> SchemeId {
        match self {
            SchemeConfig::KgwLeftHash(_) => SchemeId::KgwLeftHash,
            SchemeConfig::KgwSelfHash(_) => SchemeId::KgwSelfHash,
            SchemeConfig::Unigram(_) => SchemeId::Unigram,
            SchemeConfig::Gumbel(_) => SchemeId::Gumbel,
            SchemeConfig::SynthId(_) => SchemeId::SynthId,
        }
    }
}
