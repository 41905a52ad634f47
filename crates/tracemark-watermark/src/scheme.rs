//! Scheme ids and their parameters.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error as _};

use crate::{
    deployed::vllm::{DedupScope, Mapping},
    key::Secret,
    payload::PayloadCode,
};

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
    /// vLLM's native `gumbel` watermark (Philox4x32-10 `philox4x32-10-v1`, either token
    /// mapping), as [`crate::deployed::vllm`] specifies it.
    #[serde(rename = "vllm-gumbel-v1")]
    VllmGumbel,
    /// vLLM's native `dual_key_gumbel` watermark: keys A and B derived from the key,
    /// the α-weighted statistic.
    #[serde(rename = "vllm-dual-key-gumbel-v1")]
    VllmDualKeyGumbel,
    /// SGLang's Aaronson-Gumbel watermark (MurmurHash3, single or dual key), as
    /// [`crate::deployed::sglang`] specifies it.
    #[serde(rename = "sglang-gumbel-v1")]
    SglangGumbel,
}

impl SchemeId {
    /// Tracemark's own schemes: what `tracemark eval watermark` measures, and what the
    /// scheme-wide tests of this crate run.
    pub const ALL: [SchemeId; 5] = [
        SchemeId::KgwLeftHash,
        SchemeId::KgwSelfHash,
        SchemeId::Unigram,
        SchemeId::Gumbel,
        SchemeId::SynthId,
    ];

    /// The marks serving stacks make natively ([`crate::deployed`]): keys usually imported
    /// from the stack's own configuration, no payload.
    pub const DEPLOYED: [SchemeId; 3] = [
        SchemeId::VllmGumbel,
        SchemeId::VllmDualKeyGumbel,
        SchemeId::SglangGumbel,
    ];

    /// Every scheme id, Tracemark's own then the deployed ones: what parses, and what
    /// `tracemark schemes` lists.
    pub const EVERY: [SchemeId; 8] = [
        SchemeId::KgwLeftHash,
        SchemeId::KgwSelfHash,
        SchemeId::Unigram,
        SchemeId::Gumbel,
        SchemeId::SynthId,
        SchemeId::VllmGumbel,
        SchemeId::VllmDualKeyGumbel,
        SchemeId::SglangGumbel,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SchemeId::KgwLeftHash => "kgw-lefthash-v1",
            SchemeId::KgwSelfHash => "kgw-selfhash-v1",
            SchemeId::Unigram => "unigram-v1",
            SchemeId::Gumbel => "gumbel-v1",
            SchemeId::SynthId => "synthid-v1",
            SchemeId::VllmGumbel => "vllm-gumbel-v1",
            SchemeId::VllmDualKeyGumbel => "vllm-dual-key-gumbel-v1",
            SchemeId::SglangGumbel => "sglang-gumbel-v1",
        }
    }

    /// Whether this is a serving stack's mark ([`SchemeId::DEPLOYED`]).
    pub fn is_deployed(self) -> bool {
        SchemeId::DEPLOYED.contains(&self)
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
            SchemeId::VllmGumbel => "vLLM's native `gumbel` watermark (import with --from-vllm)",
            SchemeId::VllmDualKeyGumbel => {
                "vLLM's native `dual_key_gumbel` watermark (import with --from-vllm)"
            }
            SchemeId::SglangGumbel => {
                "SGLang's Aaronson-Gumbel watermark, single or dual key (import with --from-sglang)"
            }
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
        SchemeId::EVERY
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

/// vLLM's `WatermarkConfig` (`--watermark-config`) as the parameters of a
/// `vllm-gumbel-v1` or `vllm-dual-key-gumbel-v1` key: its fields that bear on marking and
/// detection, named and defaulted as vLLM names and defaults them, and the token mapping
/// that vLLM's version string leaves open. `algorithm` is the scheme id; `prf` is
/// `philox`, which the id fixes (a new PRF would be a new id); SBW's fields have no
/// place here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VllmParams {
    /// `key`: the secret, an integer from 0 to 2^64 − 1. `dual_key_gumbel` derives keys
    /// A and B from it.
    #[serde(deserialize_with = "secret_u64")]
    pub key: Secret<u64>,
    /// The Philox token mapping of the vLLM build: `"v1b"` (current builds, the
    /// default) or `"v1a"` (older ones).
    #[serde(default)]
    pub mapping: Mapping,
    #[serde(default = "vllm_context_width")]
    pub context_width: usize,
    /// The probability of key B (`dual_key_gumbel`; kept but unused by `gumbel`, as vLLM
    /// keeps it).
    #[serde(default = "vllm_alpha")]
    pub alpha: f64,
    #[serde(default = "vllm_dedup")]
    pub deduplicate_contexts: DedupScope,
    /// `null`: the whole scope is searched.
    #[serde(default = "vllm_max_history")]
    pub deduplicate_contexts_max_history: Option<usize>,
    /// Speculative decoding only; it changes nothing this crate marks or detects.
    #[serde(default)]
    pub allow_target_only_watermarking: bool,
}

fn vllm_context_width() -> usize {
    crate::deployed::vllm::DEFAULT_CONTEXT_WIDTH
}

fn vllm_alpha() -> f64 {
    crate::deployed::vllm::DEFAULT_ALPHA
}

fn vllm_dedup() -> DedupScope {
    DedupScope::SingleTurn
}

fn vllm_max_history() -> Option<usize> {
    Some(crate::deployed::vllm::DEFAULT_MAX_HISTORY)
}

/// SGLang's watermark configuration as the parameters of a `sglang-gumbel-v1` key, its
/// fields named and defaulted as SGLang's `--watermark-config` names and defaults them.
/// Keys are written as SGLang writes them, 16 hex digits (read: 1 to 16, optional `0x`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SglangParams {
    /// Key A: the secret.
    #[serde(serialize_with = "hex_key", deserialize_with = "secret_hex")]
    pub key: Secret<u64>,
    /// Key B, for dual key: also secret.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "hex_key_b",
        deserialize_with = "secret_hex_b"
    )]
    pub key_b: Option<Secret<u64>>,
    #[serde(default = "sglang_context_window")]
    pub context_window: usize,
    /// The probability of key **A** (dual key), the opposite of vLLM's `alpha`.
    #[serde(default = "sglang_mixing_probability")]
    pub mixing_probability: f64,
    /// The entropy gate: steps whose largest probability exceeds it are not marked.
    #[serde(default = "sglang_max_probability")]
    pub max_probability: f64,
    /// Server switches, kept so the key states the whole configuration; they change
    /// nothing this crate marks or detects.
    #[serde(default)]
    pub default_enabled: bool,
    #[serde(default)]
    pub enforce_all: bool,
}

fn sglang_context_window() -> usize {
    crate::deployed::sglang::DEFAULT_CONTEXT_WINDOW
}

fn sglang_mixing_probability() -> f64 {
    crate::deployed::sglang::DEFAULT_MIXING_PROBABILITY
}

fn sglang_max_probability() -> f64 {
    crate::deployed::sglang::DEFAULT_MAX_PROBABILITY
}

// Key fields are read through `serde_json::Value` so that an error names the problem but
// never the value, which is the secret (or what was meant as one).

fn secret_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Secret<u64>, D::Error> {
    match serde_json::Value::deserialize(d)?.as_u64() {
        Some(key) => Ok(Secret::new(key)),
        None => Err(D::Error::custom(
            "`key` must be an integer from 0 to 2^64-1",
        )),
    }
}

fn parse_hex<E: serde::de::Error>(value: serde_json::Value, name: &str) -> Result<u64, E> {
    let message = || E::custom(format!("`{name}` must be a hex string of 1 to 16 digits"));
    match value {
        serde_json::Value::String(s) => {
            crate::deployed::sglang::parse_key(&s).map_err(|_| message())
        }
        _ => Err(message()),
    }
}

fn secret_hex<'de, D: Deserializer<'de>>(d: D) -> Result<Secret<u64>, D::Error> {
    parse_hex(serde_json::Value::deserialize(d)?, "key").map(Secret::new)
}

fn secret_hex_b<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Secret<u64>>, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => Ok(None),
        value => parse_hex(value, "key_b").map(|k| Some(Secret::new(k))),
    }
}

fn hex_key<S: Serializer>(key: &Secret<u64>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{:016x}", key.expose()))
}

fn hex_key_b<S: Serializer>(key: &Option<Secret<u64>>, s: S) -> Result<S::Ok, S::Error> {
    match key {
        Some(key) => hex_key(key, s),
        None => s.serialize_none(),
    }
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
    #[serde(rename = "vllm-gumbel-v1")]
    VllmGumbel(VllmParams),
    #[serde(rename = "vllm-dual-key-gumbel-v1")]
    VllmDualKeyGumbel(VllmParams),
    #[serde(rename = "sglang-gumbel-v1")]
    SglangGumbel(SglangParams),
}

impl SchemeConfig {
    pub fn id(&self) -> SchemeId {
        match self {
            SchemeConfig::KgwLeftHash(_) => SchemeId::KgwLeftHash,
            SchemeConfig::KgwSelfHash(_) => SchemeId::KgwSelfHash,
            SchemeConfig::Unigram(_) => SchemeId::Unigram,
            SchemeConfig::Gumbel(_) => SchemeId::Gumbel,
            SchemeConfig::SynthId(_) => SchemeId::SynthId,
            SchemeConfig::VllmGumbel(_) => SchemeId::VllmGumbel,
            SchemeConfig::VllmDualKeyGumbel(_) => SchemeId::VllmDualKeyGumbel,
            SchemeConfig::SglangGumbel(_) => SchemeId::SglangGumbel,
        }
    }
}
