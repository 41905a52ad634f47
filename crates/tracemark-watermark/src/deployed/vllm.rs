//! vLLM's native watermarks (`--watermark-config`, Model Runner V2): `gumbel` and
//! `dual_key_gumbel` under the `philox` PRF (version string `philox4x32-10-v1`).
//!
//! References (vllm-project/vllm): `vllm/config/watermarking.py` (`WatermarkConfig`,
//! `derive_watermark_key`) and `vllm/v1/watermarking/gumbel.py` (generation, both
//! detectors, the Gamma tail) at 01c268bc; `vllm/v1/watermarking/prfs/philox.py` at
//! 373305d6 (mapping v1b) and before (v1a); `prfs/base.py` at 773dc86d (uint32 →
//! uniform); `detector.py` at a6d669ad (contexts and dedup); `gpu_sampler.py` and
//! `v1/worker/gpu/sample/watermark.py` at 01b21056 (generation contexts and the
//! repeated-context mask). Tracemark's summary: `deployed-watermarks.md` §1.
//!
//! **PRF.** With `k0, k1` the low and high halves of the 64-bit key and the context
//! `c_0..c_{w-1}` (token ids, or −1 for padding, taken mod 2^32), the state starts at
//! `("WMCX" = 0x574D4358, w, 0, 0)` and absorbs the context four words at a time:
//! `state ← Philox(state ^ block, (k0 ^ offset, k1))` for `offset = 0, 4, …`, a short
//! last block filled with `0xFFFFFFFF − j`. A token `t` then takes
//! `Philox((t >> 2, s0, s1, s2), (k0 ^ s3, k1 ^ "WMTK" = 0x574D544B))[t & 3]` under
//! mapping **v1b** (current), or `Philox((t, s0, s1, s2), same key)[0]` under **v1a**
//! (older builds). Both were published under the same version string, so a detector must
//! try both ([`Mapping`]). The word becomes `u = f32(((word >> 8) + 1) / (2^24 + 1))`.
//!
//! **Generation.** The context is the last `w` *generated* tokens, −1 before the first
//! (the prompt never enters it); the token is `argmax_v ln p_v − ln(−ln u_v)` over the
//! filtered distribution ([`choose`]), unless the context repeats within the
//! `deduplicate_contexts` scope ([`DedupReplay`]), in which case vLLM samples normally.
//! `dual_key_gumbel` derives `key_X = SHA-256(domain ‖ key_be)[..8]` big-endian for
//! `domain = "key_a", "key_b"` and routes each marked position to key B with probability
//! `alpha` by a draw the detector cannot see.
//!
//! **Detection** ([`detect`]) scores `s = −ln(1 − u)` per scored token; `S = Σ s` over `n`
//! tokens has the null law Gamma(n, 1), so `p = Q(n, S)`. The dual-key statistic is
//! `s = (1−α) s_A + α s_B`, null mean `n`, variance `n·v` with `v = (1−α)² + α²`, and vLLM
//! takes `p = Q(n/v, S/v)` (a moment-matched Gamma; with the integer shape `round(n/v)`
//! for α ∈ {0, ½, 1}, as vLLM does). Which tokens are scored is [`Dedup`]: vLLM's own
//! detector drops every token whose context was seen before in the document.
//!
//! Every known-answer vector of the reference is reproduced by the tests below (raw PRF
//! words under both mappings, the derived dual keys, and the three detection vectors
//! under both mappings). Not reproducible from token ids, as for vLLM's own detector:
//! the dual-key routing, positions vLLM left unmarked for reasons outside the ids
//! (greedy or opted-out requests, speculative decoding's draft handling), all of which
//! only dilute the statistic.

use std::collections::{HashMap, HashSet};

use rand_core::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use tracemark_core::{PValue, Verdict};

use super::philox::philox4x32_10;
use crate::{Secret, error::WatermarkError, scheme::VllmParams, stats};

/// The PRF's version string in vLLM.
pub const PRF_VERSION: &str = "philox4x32-10-v1";
/// `"WMCX"`: the context state's first word.
pub const CONTEXT_DOMAIN: u32 = 0x574D_4358;
/// `"WMTK"`: XORed into the candidate step's second key word.
pub const TOKEN_DOMAIN: u32 = 0x574D_544B;
/// The padding before the first generated token.
pub const PAD: i64 = -1;
/// vLLM's default context width for both Gumbel algorithms.
pub const DEFAULT_CONTEXT_WIDTH: usize = 4;
/// vLLM's default `alpha` (the probability of key B).
pub const DEFAULT_ALPHA: f64 = 0.1;
/// vLLM's default `deduplicate_contexts_max_history`.
pub const DEFAULT_MAX_HISTORY: usize = 8192;
/// The widest context read. vLLM sets no bound (it warns above 16); contexts are held per
/// position, so an absurd width would exhaust memory rather than mark anything.
pub const MAX_CONTEXT_WIDTH: usize = 1024;
/// vLLM's detector's default threshold (`p_value_threshold`).
pub const DEFAULT_THRESHOLD: f64 = 0.01;

/// The two token mappings published as `philox4x32-10-v1` (`"v1a"`, `"v1b"` in key files;
/// v1b, the current one, by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mapping {
    /// Older builds: counter word 0 is the token, output word 0.
    V1a,
    /// Current builds (CPU PRF at 373305d, Triton kernel at 01b21056): counter word 0 is
    /// `t >> 2`, output word `t & 3`.
    #[default]
    V1b,
}

impl Mapping {
    pub const ALL: [Mapping; 2] = [Mapping::V1b, Mapping::V1a];

    pub fn as_str(self) -> &'static str {
        match self {
            Mapping::V1a => "v1a",
            Mapping::V1b => "v1b",
        }
    }
}

impl std::str::FromStr for Mapping {
    type Err = WatermarkError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Mapping::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| bad(format!("unknown token mapping `{s}`; expected v1a or v1b")))
    }
}

/// vLLM's `algorithm` (SBW is refused: its PR was open and its two seeds disagree).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Gumbel,
    DualKeyGumbel,
}

impl Algorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Gumbel => "gumbel",
            Algorithm::DualKeyGumbel => "dual_key_gumbel",
        }
    }
}

/// vLLM's `deduplicate_contexts`: which history generation searched for a repeat of the
/// current context before marking a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DedupScope {
    /// No search: every position is marked.
    None,
    /// The request's generated tokens (vLLM's default).
    SingleTurn,
    /// The prompt and the generated tokens; the first `w` generated tokens (partial
    /// contexts) are never marked.
    All,
}

impl DedupScope {
    pub fn as_str(self) -> &'static str {
        match self {
            DedupScope::None => "none",
            DedupScope::SingleTurn => "single_turn",
            DedupScope::All => "all",
        }
    }
}

/// A vLLM `--watermark-config`, read with [`VllmConfig::from_json`].
#[derive(Debug, Clone, PartialEq)]
pub struct VllmConfig {
    key: Secret<u64>,
    pub algorithm: Algorithm,
    pub context_width: usize,
    /// The probability of key B (`dual_key_gumbel`; kept, unused, for `gumbel`).
    pub alpha: f64,
    pub deduplicate_contexts: DedupScope,
    /// `deduplicate_contexts_max_history`: `None` searches the whole scope.
    pub max_history: Option<usize>,
    pub allow_target_only_watermarking: bool,
}

fn bad(message: impl Into<String>) -> WatermarkError {
    WatermarkError::DeployedConfig {
        stack: "vLLM",
        message: message.into(),
    }
}

/// Fields of `WatermarkConfig` that only SBW reads: accepted (vLLM serialises them with
/// their defaults) and ignored.
const SBW_FIELDS: [&str; 3] = ["sbw_scheme", "sbw_gamma", "sbw_delta"];
const FIELDS: [&str; 8] = [
    "key",
    "algorithm",
    "alpha",
    "context_width",
    "deduplicate_contexts",
    "deduplicate_contexts_max_history",
    "prf",
    "allow_target_only_watermarking",
];

/// The name of a JSON value's type, for messages that must not show the value.
pub(crate) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn positive_int(object: &Map<String, Value>, name: &str) -> Result<Option<usize>, WatermarkError> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_u64() {
            Some(n) if n >= 1 => usize::try_from(n)
                .map(Some)
                .map_err(|_| bad(format!("`{name}` is too large"))),
            _ => Err(bad(format!(
                "`{name}` must be an integer of at least 1, not {v}"
            ))),
        },
    }
}

impl VllmConfig {
    /// A `gumbel` configuration with vLLM's defaults for everything but the key.
    pub fn gumbel(key: u64) -> Self {
        Self {
            key: Secret::new(key),
            algorithm: Algorithm::Gumbel,
            context_width: DEFAULT_CONTEXT_WIDTH,
            alpha: DEFAULT_ALPHA,
            deduplicate_contexts: DedupScope::SingleTurn,
            max_history: Some(DEFAULT_MAX_HISTORY),
            allow_target_only_watermarking: false,
        }
    }

    /// A `dual_key_gumbel` configuration with vLLM's defaults and the given `alpha`.
    pub fn dual_key_gumbel(key: u64, alpha: f64) -> Result<Self, WatermarkError> {
        if !(0.0..=1.0).contains(&alpha) {
            return Err(bad(format!("`alpha` must lie in [0, 1], not {alpha}")));
        }
        Ok(Self {
            algorithm: Algorithm::DualKeyGumbel,
            alpha,
            ..Self::gumbel(key)
        })
    }

    /// Reads the JSON given to `vllm serve --watermark-config` (or `LLM(watermark_config=…)`).
    ///
    /// | field | rule (vLLM's `WatermarkConfig`) |
    /// |---|---|
    /// | `key` | required; an integer from 0 to 2^64 − 1 |
    /// | `algorithm` | `"gumbel"` (default) or `"dual_key_gumbel"`; `"sbw"` is refused (not supported here) |
    /// | `alpha` | default 0.1; a number in [0, 1] (probability of key B) |
    /// | `context_width` | default 4; an integer ≥ 1 (vLLM warns above 16) |
    /// | `deduplicate_contexts` | `"none"`, `"single_turn"` (default) or `"all"` |
    /// | `deduplicate_contexts_max_history` | default 8192; an integer ≥ 1, or null for unbounded |
    /// | `prf` | `"philox"` (the only one; the removed `"hmac_sha256"` is refused) |
    /// | `allow_target_only_watermarking` | default false; a boolean |
    /// | `sbw_scheme`, `sbw_gamma`, `sbw_delta` | accepted and ignored (SBW only) |
    ///
    /// Any other field is refused. Values must have their JSON types: unlike pydantic's lax
    /// mode, `"42"` is not a key.
    pub fn from_json(json: &str) -> Result<Self, WatermarkError> {
        let value: Value = serde_json::from_str(json).map_err(|e| bad(format!("not JSON: {e}")))?;
        Self::from_value(&value)
    }

    /// [`VllmConfig::from_json`] on parsed JSON.
    pub fn from_value(value: &Value) -> Result<Self, WatermarkError> {
        let object = value
            .as_object()
            .ok_or_else(|| bad("the configuration must be a JSON object"))?;
        if let Some(unknown) = object
            .keys()
            .find(|k| !FIELDS.contains(&k.as_str()) && !SBW_FIELDS.contains(&k.as_str()))
        {
            return Err(bad(format!("unknown field `{unknown}`")));
        }
        let key = match object.get("key") {
            None | Some(Value::Null) => return Err(bad("`key` is required")),
            Some(Value::Number(n)) => match (n.as_u64(), n.as_i64()) {
                (Some(k), _) => k,
                (None, Some(_)) => return Err(bad("`key` must not be negative")),
                // The value is not shown: it is the secret, or what was meant as one.
                (None, None) => return Err(bad("`key` must be an integer from 0 to 2^64-1")),
            },
            Some(other) => {
                return Err(bad(format!(
                    "`key` must be an integer, not a JSON {}",
                    json_type(other)
                )));
            }
        };
        let algorithm = match object.get("algorithm") {
            None | Some(Value::Null) => Algorithm::Gumbel,
            Some(Value::String(s)) if s == "gumbel" => Algorithm::Gumbel,
            Some(Value::String(s)) if s == "dual_key_gumbel" => Algorithm::DualKeyGumbel,
            Some(Value::String(s)) if s == "sbw" => {
                return Err(bad(
                    "algorithm `sbw` is not supported (its upstream PR was open and its \
                     generator and detector seeds disagree)",
                ));
            }
            Some(other) => {
                return Err(bad(format!(
                    "unknown algorithm {other}; expected \"gumbel\" or \"dual_key_gumbel\""
                )));
            }
        };
        let alpha = match object.get("alpha") {
            None | Some(Value::Null) => DEFAULT_ALPHA,
            Some(Value::Number(n)) => match n.as_f64() {
                Some(a) if (0.0..=1.0).contains(&a) => a,
                _ => return Err(bad(format!("`alpha` must lie in [0, 1], not {n}"))),
            },
            Some(other) => return Err(bad(format!("`alpha` must be a number, not {other}"))),
        };
        let context_width = match object.get("context_width") {
            Some(Value::Number(n)) if n.as_i64().is_some_and(|w| w < 1) => {
                return Err(bad(format!("`context_width` must be at least 1, not {n}")));
            }
            _ => positive_int(object, "context_width")?.unwrap_or(DEFAULT_CONTEXT_WIDTH),
        };
        if context_width > MAX_CONTEXT_WIDTH {
            return Err(bad(format!(
                "`context_width` {context_width} is over {MAX_CONTEXT_WIDTH}, the widest \
                 Tracemark reads (vLLM warns above 16)"
            )));
        }
        let deduplicate_contexts = match object.get("deduplicate_contexts") {
            None | Some(Value::Null) => DedupScope::SingleTurn,
            Some(Value::String(s)) => match s.as_str() {
                "none" => DedupScope::None,
                "single_turn" => DedupScope::SingleTurn,
                "all" => DedupScope::All,
                _ => {
                    return Err(bad(format!(
                        "`deduplicate_contexts` must be \"none\", \"single_turn\" or \"all\", \
                         not \"{s}\""
                    )));
                }
            },
            Some(other) => {
                return Err(bad(format!(
                    "`deduplicate_contexts` must be a string, not {other}"
                )));
            }
        };
        let max_history = match object.get("deduplicate_contexts_max_history") {
            None => Some(DEFAULT_MAX_HISTORY),
            Some(_) => positive_int(object, "deduplicate_contexts_max_history")?,
        };
        match object.get("prf") {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s == "philox" => {}
            Some(Value::String(s)) if s == "hmac_sha256" => {
                return Err(bad(
                    "prf `hmac_sha256` was removed from vLLM and is not supported; \
                     only \"philox\" is",
                ));
            }
            Some(other) => return Err(bad(format!("unknown prf {other}; only \"philox\""))),
        }
        let allow_target_only_watermarking = match object.get("allow_target_only_watermarking") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                return Err(bad(format!(
                    "`allow_target_only_watermarking` must be a boolean, not {other}"
                )));
            }
        };
        Ok(Self {
            key: Secret::new(key),
            algorithm,
            context_width,
            alpha,
            deduplicate_contexts,
            max_history,
            allow_target_only_watermarking,
        })
    }

    /// The configured key (the secret: never print it).
    pub fn key(&self) -> &Secret<u64> {
        &self.key
    }

    /// This configuration as a key's parameters, with the token mapping of the vLLM build
    /// (the algorithm becomes the scheme id).
    pub fn to_params(&self, mapping: Mapping) -> VllmParams {
        VllmParams {
            key: self.key.clone(),
            mapping,
            context_width: self.context_width,
            alpha: self.alpha,
            deduplicate_contexts: self.deduplicate_contexts,
            deduplicate_contexts_max_history: self.max_history,
            allow_target_only_watermarking: self.allow_target_only_watermarking,
        }
    }

    /// The configuration a key's parameters state, held to the rules of
    /// [`VllmConfig::from_json`] (a key file may have been edited by hand).
    pub fn from_params(algorithm: Algorithm, params: &VllmParams) -> Result<Self, WatermarkError> {
        let invalid = |m: &str| Err(WatermarkError::InvalidKey(m.to_owned()));
        if !(1..=MAX_CONTEXT_WIDTH).contains(&params.context_width) {
            return invalid("vLLM's context_width must be 1 to 1024");
        }
        if !(0.0..=1.0).contains(&params.alpha) {
            return invalid("vLLM's alpha must lie in [0, 1]");
        }
        if params.deduplicate_contexts_max_history == Some(0) {
            return invalid("vLLM's deduplicate_contexts_max_history must be at least 1, or null");
        }
        Ok(Self {
            key: params.key.clone(),
            algorithm,
            context_width: params.context_width,
            alpha: params.alpha,
            deduplicate_contexts: params.deduplicate_contexts,
            max_history: params.deduplicate_contexts_max_history,
            allow_target_only_watermarking: params.allow_target_only_watermarking,
        })
    }

    /// The PRFs that mark: the key itself for `gumbel`, keys A and B for
    /// `dual_key_gumbel`.
    pub fn prfs(&self) -> (Prf, Option<Prf>) {
        let key = *self.key.expose();
        match self.algorithm {
            Algorithm::Gumbel => (Prf::new(key), None),
            Algorithm::DualKeyGumbel => (
                Prf::new(derive_key(key, b"key_a")),
                Some(Prf::new(derive_key(key, b"key_b"))),
            ),
        }
    }

    /// The public parameters (no key), for a verdict.
    pub(crate) fn parameters(&self, mapping: Mapping, dedup: Dedup, prompt_len: usize) -> Value {
        let mut p = json!({
            "algorithm": self.algorithm.as_str(),
            "prf": PRF_VERSION,
            "mapping": mapping.as_str(),
            "context_width": self.context_width,
            "dedup": dedup.as_str(),
            "prompt_len": prompt_len,
        });
        if self.algorithm == Algorithm::DualKeyGumbel {
            p["alpha"] = json!(self.alpha);
        }
        if dedup == Dedup::Generation {
            p["deduplicate_contexts"] = json!(self.deduplicate_contexts.as_str());
            p["deduplicate_contexts_max_history"] = json!(self.max_history);
        }
        p
    }
}

/// `derive_watermark_key`: the first 8 bytes, big-endian, of SHA-256(domain ‖ key as 8
/// big-endian bytes).
pub fn derive_key(key: u64, domain: &[u8]) -> u64 {
    let mut h = Sha256::new();
    h.update(domain);
    h.update(key.to_be_bytes());
    let digest = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// The Philox PRF under one 64-bit key.
#[derive(Clone, Copy)]
pub struct Prf {
    k0: u32,
    k1: u32,
}

impl std::fmt::Debug for Prf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Prf(..)")
    }
}

impl Prf {
    pub fn new(key: u64) -> Self {
        Self {
            k0: key as u32,
            k1: (key >> 32) as u32,
        }
    }

    /// The state after absorbing `context` (token ids or [`PAD`], taken mod 2^32).
    pub fn context_state(&self, context: &[i64]) -> [u32; 4] {
        let w = context.len();
        let mut state = [CONTEXT_DOMAIN, w as u32, 0, 0];
        for offset in (0..w).step_by(4) {
            let mut counter = state;
            for (j, c) in counter.iter_mut().enumerate() {
                let word = context
                    .get(offset + j)
                    .map_or(u32::MAX - j as u32, |&c| c as u32);
                *c ^= word;
            }
            state = philox4x32_10(counter, [self.k0 ^ offset as u32, self.k1]);
        }
        state
    }

    /// The Philox block of the candidate step: for v1b it covers tokens `4g..4g+3` with
    /// `g = t >> 2`.
    #[inline]
    fn candidate_block(&self, state: [u32; 4], counter0: u32) -> [u32; 4] {
        philox4x32_10(
            [counter0, state[0], state[1], state[2]],
            [self.k0 ^ state[3], self.k1 ^ TOKEN_DOMAIN],
        )
    }

    /// The raw word of `token` after a context's state.
    #[inline]
    pub fn word_after(&self, state: [u32; 4], token: u32, mapping: Mapping) -> u32 {
        match mapping {
            Mapping::V1b => self.candidate_block(state, token >> 2)[(token & 3) as usize],
            Mapping::V1a => self.candidate_block(state, token)[0],
        }
    }

    /// The raw word of `token` after `context` (vLLM's `PhiloxPRF.uint32`, stream 0).
    pub fn word(&self, context: &[i64], token: u32, mapping: Mapping) -> u32 {
        self.word_after(self.context_state(context), token, mapping)
    }

    /// `u` of `token` after `context`.
    pub fn uniform(&self, context: &[i64], token: u32, mapping: Mapping) -> f32 {
        word_to_uniform(self.word(context, token, mapping))
    }

    /// `u` of every token `0..vocab` after `context` (one Philox call per 4 tokens under
    /// v1b).
    pub fn uniforms(&self, context: &[i64], vocab: usize, mapping: Mapping) -> Vec<f32> {
        let state = self.context_state(context);
        match mapping {
            Mapping::V1b => (0..vocab.div_ceil(4))
                .flat_map(|g| self.candidate_block(state, g as u32))
                .take(vocab)
                .map(word_to_uniform)
                .collect(),
            Mapping::V1a => (0..vocab)
                .map(|t| word_to_uniform(self.candidate_block(state, t as u32)[0]))
                .collect(),
        }
    }
}

/// `uint32_to_uniform`: `f32(((word >> 8) + 1) / (2^24 + 1))`, rounded from f64.
#[inline]
pub fn word_to_uniform(word: u32) -> f32 {
    ((f64::from(word >> 8) + 1.0) / 16_777_217.0) as f32
}

/// The detector's per-token score `−ln(1 − u)`, in f64 from the f32 uniform.
#[inline]
pub fn score(u: f32) -> f64 {
    -(-f64::from(u)).ln_1p()
}

/// The context of generated position `k`: the `w` generated tokens before it, [`PAD`]
/// before the first.
pub fn context_at(generated: &[u32], k: usize, w: usize) -> Vec<i64> {
    (0..w)
        .map(|j| {
            (k + j)
                .checked_sub(w)
                .map_or(PAD, |i| i64::from(generated[i]))
        })
        .collect()
}

/// The Gumbel-max choice vLLM makes: `argmax_v ln p_v − ln(−ln u_v)` (equivalently
/// `argmax u_v^{1/p_v}`) over `p_v > 0`, `u` clamped at `f32::MIN_POSITIVE` as vLLM's
/// CPU path does, ties to the lowest id. `None` if no probability is positive.
pub fn choose(uniforms: &[f32], probs: &[f64]) -> Option<u32> {
    let mut best: Option<(f64, u32)> = None;
    for (v, (&p, &u)) in probs.iter().zip(uniforms).enumerate() {
        if p.is_nan() || p <= 0.0 {
            continue;
        }
        let u = f64::from(u.max(f32::MIN_POSITIVE));
        let key = p.ln() - (-u.ln()).ln();
        if best.is_none_or(|(b, _)| key > b) {
            best = Some((key, v as u32));
        }
    }
    best.map(|(_, v)| v)
}

/// Replays vLLM's generation-time context dedup (`repeated_context_mask`, non-speculative
/// decoding): feed it the prompt, then ask [`DedupReplay::next_marked`] before each
/// generated token and [`DedupReplay::push`] the token.
///
/// A position is left unmarked when its context (the last `w` generated tokens, padded)
/// equals the context in front of one of the last `max_history` positions of the
/// history: the generated tokens (`single_turn`), or the prompt and the generated tokens
/// with contexts padded at the prompt's start (`all`, which also leaves the first `w`
/// generated tokens unmarked).
#[derive(Debug, Clone)]
pub struct DedupReplay {
    scope: DedupScope,
    width: usize,
    max_history: Option<usize>,
    /// The searched history: prompt and generated (`all`) or generated only.
    history: Vec<u32>,
    generated: Vec<u32>,
    /// The last history position each context stood in front of.
    last: HashMap<Vec<i64>, usize>,
}

impl DedupReplay {
    pub fn new(config: &VllmConfig, prompt: &[u32]) -> Self {
        let mut replay = Self {
            scope: config.deduplicate_contexts,
            width: config.context_width,
            max_history: config.max_history,
            history: Vec::new(),
            generated: Vec::new(),
            last: HashMap::new(),
        };
        if replay.scope == DedupScope::All {
            for &t in prompt {
                replay.push_history(t);
            }
        }
        replay
    }

    fn push_history(&mut self, token: u32) {
        let i = self.history.len();
        let ctx = context_at(&self.history, i, self.width);
        self.last.insert(ctx, i);
        self.history.push(token);
    }

    fn repeated(&self, context: &[i64]) -> bool {
        let len = self.history.len();
        let start = self.max_history.map_or(0, |h| len.saturating_sub(h));
        self.last.get(context).is_some_and(|&j| j >= start)
    }

    /// The number of generated tokens pushed so far.
    pub fn generated_len(&self) -> usize {
        self.generated.len()
    }

    /// The context of the next generated token.
    pub fn context(&self) -> Vec<i64> {
        context_at(&self.generated, self.generated.len(), self.width)
    }

    /// Whether vLLM marks the next generated token.
    pub fn next_marked(&self) -> bool {
        match self.scope {
            DedupScope::None => true,
            DedupScope::SingleTurn => !self.repeated(&self.context()),
            DedupScope::All => {
                self.generated.len() >= self.width && !self.repeated(&self.context())
            }
        }
    }

    /// Appends a generated token.
    pub fn push(&mut self, token: u32) {
        if self.scope != DedupScope::None {
            self.push_history(token);
        }
        self.generated.push(token);
    }
}

/// Which generated tokens the detector scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dedup {
    /// Every generated token (vLLM's detector with `deduplicate_contexts=False`; repeated
    /// contexts make the p-value anti-conservative).
    Off,
    /// vLLM's detector (default `deduplicate_contexts=True`): a token whose context was
    /// seen earlier in the document is dropped.
    Document,
    /// The positions the generator marked, replayed from the configuration's
    /// `deduplicate_contexts` and `max_history` ([`DedupReplay`]; `all` needs the prompt,
    /// given as the first `prompt_len` tokens), of which a context is scored once only,
    /// so that the test stays exact. Needs the exact generated ids.
    Generation,
}

impl Dedup {
    pub fn as_str(self) -> &'static str {
        match self {
            Dedup::Off => "off",
            Dedup::Document => "document",
            Dedup::Generation => "generation",
        }
    }
}

/// How to detect.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectOptions {
    /// Leading tokens of the input that are the prompt: never scored, never context.
    pub prompt_len: usize,
    pub dedup: Dedup,
    /// The significance level of the verdict (vLLM's `p_value_threshold`).
    pub false_positive_rate: f64,
}

impl Default for DetectOptions {
    fn default() -> Self {
        Self {
            prompt_len: 0,
            dedup: Dedup::Document,
            false_positive_rate: DEFAULT_THRESHOLD,
        }
    }
}

/// The detector's result: the verdict and the statistic behind it, as vLLM reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct VllmDetection {
    pub verdict: Verdict,
    /// `S`: the sum of the (weighted) scores.
    pub score: f64,
    /// `n`: the scored tokens.
    pub scored: usize,
    /// Token indices (into the input) of the scored tokens.
    pub positions: Vec<usize>,
}

/// The generated positions to score, as indices into `generated`.
fn scored_positions(
    config: &VllmConfig,
    prompt: &[u32],
    generated: &[u32],
    dedup: Dedup,
) -> Vec<usize> {
    let w = config.context_width;
    let mut seen: HashSet<Vec<i64>> = HashSet::new();
    let mut replay = (dedup == Dedup::Generation).then(|| DedupReplay::new(config, prompt));
    let mut out = Vec::with_capacity(generated.len());
    for (k, &t) in generated.iter().enumerate() {
        let keep = match &mut replay {
            None if dedup == Dedup::Off => true,
            None => seen.insert(context_at(generated, k, w)),
            Some(r) => {
                let marked = r.next_marked();
                r.push(t);
                marked && seen.insert(context_at(generated, k, w))
            }
        };
        if keep {
            out.push(k);
        }
    }
    out
}

/// `ln p` of vLLM's Gumbel detector: `Q(n, S)`, 0 for `n = 0` or `S ≤ 0`.
pub fn ln_p_gumbel(score: f64, n: usize) -> f64 {
    stats::ln_gamma_sf(n as u64, score)
}

/// `ln p` of vLLM's dual-key detector: `Q(n/v, S/v)` with `v = (1−α)² + α²`, the integer
/// shape `round(n/v)` for α ∈ {0, ½, 1} as vLLM computes it.
pub fn ln_p_dual(score: f64, n: usize, alpha: f64) -> f64 {
    let v = (1.0 - alpha).powi(2) + alpha.powi(2);
    if alpha == 0.0 || alpha == 0.5 || alpha == 1.0 {
        // n/v is n or 2n here: an exact integer, so Python's round is not in play.
        stats::ln_gamma_sf((n as f64 / v).round() as u64, score / v)
    } else if n == 0 {
        0.0
    } else {
        stats::ln_gamma_q(n as f64 / v, score / v)
    }
}

/// The scored tokens of one input: their indices and per-token scores, in input order.
#[derive(Debug, Clone, PartialEq)]
pub struct Scores {
    /// Token indices (into the input, prompt included) of the scored tokens.
    pub positions: Vec<usize>,
    /// Each scored token's `−ln(1 − u)`, or `(1−α)·s_A + α·s_B` for `dual_key_gumbel`.
    pub scores: Vec<f64>,
}

/// Scores `tokens` (prompt first, if `options.prompt_len > 0`) under one mapping: what
/// [`detect`] sums, and what windowed detection scans.
pub fn score_tokens(
    config: &VllmConfig,
    mapping: Mapping,
    tokens: &[u32],
    options: &DetectOptions,
) -> Result<Scores, WatermarkError> {
    if options.prompt_len > tokens.len() {
        return Err(WatermarkError::Empty {
            prompt_len: options.prompt_len,
        });
    }
    let (prompt, generated) = tokens.split_at(options.prompt_len);
    let w = config.context_width;
    let positions = scored_positions(config, prompt, generated, options.dedup);
    let (prf_a, prf_b) = config.prfs();
    let term = |k: usize| {
        let ctx = context_at(generated, k, w);
        let state_score = |prf: &Prf| score(prf.uniform(&ctx, generated[k], mapping));
        match &prf_b {
            None => state_score(&prf_a),
            Some(b) => (1.0 - config.alpha) * state_score(&prf_a) + config.alpha * state_score(b),
        }
    };
    Ok(Scores {
        scores: positions.iter().map(|&k| term(k)).collect(),
        positions: positions.iter().map(|k| k + options.prompt_len).collect(),
    })
}

/// `ln p` of `n` scores summing to `total`: vLLM's Gumbel or dual-key detector's tail.
pub fn ln_p(config: &VllmConfig, total: f64, n: usize) -> f64 {
    match config.algorithm {
        Algorithm::Gumbel => ln_p_gumbel(total, n),
        Algorithm::DualKeyGumbel => ln_p_dual(total, n, config.alpha),
    }
}

/// The method id of a verdict: `vllm-<algorithm>/philox4x32-10-v1<a|b>`.
pub fn method(config: &VllmConfig, mapping: Mapping) -> String {
    format!(
        "vllm-{}/{PRF_VERSION}{}",
        config.algorithm.as_str(),
        &mapping.as_str()[2..]
    )
}

/// Detects vLLM's watermark in `tokens` (prompt first, if `options.prompt_len > 0`) under
/// one mapping. The verdict's method is [`method`]. No scored token gives p = 1 (as vLLM
/// returns), not an error.
pub fn detect(
    config: &VllmConfig,
    mapping: Mapping,
    tokens: &[u32],
    options: &DetectOptions,
) -> Result<VllmDetection, WatermarkError> {
    let fpr = options.false_positive_rate;
    if !(fpr > 0.0 && fpr < 1.0) {
        return Err(WatermarkError::InvalidOption(format!(
            "false-positive rate {fpr}"
        )));
    }
    let Scores { positions, scores } = score_tokens(config, mapping, tokens, options)?;
    let total: f64 = scores.iter().sum();
    let n = positions.len();
    let verdict = Verdict::decide(
        PValue::from_ln(ln_p(config, total, n)),
        fpr,
        method(config, mapping),
        config.parameters(mapping, options.dedup, options.prompt_len),
        n as u64,
    );
    Ok(VllmDetection {
        verdict,
        score: total,
        scored: n,
        positions,
    })
}

/// Detects under both mappings (the version string does not tell them apart) and keeps
/// the smaller p-value, Bonferroni-corrected for the two tests; the verdict names the
/// mapping that won and its parameters record `"mappings_tried": 2`.
pub fn detect_either_mapping(
    config: &VllmConfig,
    tokens: &[u32],
    options: &DetectOptions,
) -> Result<(Mapping, VllmDetection), WatermarkError> {
    let mut best: Option<(Mapping, VllmDetection)> = None;
    for mapping in Mapping::ALL {
        let d = detect(config, mapping, tokens, options)?;
        if best
            .as_ref()
            .is_none_or(|(_, b)| d.verdict.p_value.ln() < b.verdict.p_value.ln())
        {
            best = Some((mapping, d));
        }
    }
    let (mapping, mut d) = best.ok_or(WatermarkError::Empty {
        prompt_len: options.prompt_len,
    })?;
    let mut parameters = d.verdict.parameters.clone();
    parameters["mappings_tried"] = json!(Mapping::ALL.len());
    d.verdict = Verdict::decide(
        d.verdict.p_value.bonferroni(Mapping::ALL.len() as u64),
        options.false_positive_rate,
        d.verdict.method.clone(),
        parameters,
        d.verdict.scored,
    );
    Ok((mapping, d))
}

/// One generated token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub token: u32,
    /// Whether the token carries the watermark (false: sampled normally).
    pub marked: bool,
}

/// Marks as vLLM does (non-speculative decoding): each step takes the filtered,
/// renormalised distribution and returns the token vLLM would emit.
#[derive(Debug, Clone)]
pub struct VllmMarker {
    alpha: f64,
    mapping: Mapping,
    prf_a: Prf,
    prf_b: Option<Prf>,
    /// Dual key: the PRF of [`VllmMarker::keyed_route`].
    route: Option<Prf>,
    replay: DedupReplay,
}

/// The domain of the key that routes Tracemark's dual-key positions (not vLLM's: vLLM
/// routes with its sampler's generator, which no detector sees either).
pub const ROUTE_DOMAIN: &[u8] = b"tracemark_route";

fn unit(rng: &mut impl RngCore) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// An ordinary sample from `probs` (inverse CDF), for positions vLLM leaves unmarked.
fn sample(probs: &[f64], r: f64) -> Option<u32> {
    let total: f64 = probs.iter().filter(|p| **p > 0.0).sum();
    let mut acc = 0.0;
    let mut last = None;
    for (v, &p) in probs.iter().enumerate() {
        if p > 0.0 {
            acc += p;
            last = Some(v as u32);
            if r * total < acc {
                return last;
            }
        }
    }
    last
}

impl VllmMarker {
    /// A marker for one request after `prompt` (read only under `deduplicate_contexts =
    /// "all"`).
    pub fn new(config: &VllmConfig, mapping: Mapping, prompt: &[u32]) -> Self {
        let (prf_a, prf_b) = config.prfs();
        let route = prf_b.map(|_| Prf::new(derive_key(*config.key.expose(), ROUTE_DOMAIN)));
        Self {
            alpha: config.alpha,
            mapping,
            prf_a,
            prf_b,
            route,
            replay: DedupReplay::new(config, prompt),
        }
    }

    /// The next token for the distribution `probs` (indexed by token id). `rng` draws
    /// what vLLM draws without the key: the dual-key routing and unmarked samples.
    pub fn step(&mut self, probs: &[f64], rng: &mut impl RngCore) -> Result<Step, WatermarkError> {
        let marked = self.next_marked();
        let token = if marked {
            let key_b = self.prf_b.is_some()
                && (self.alpha >= 1.0 || (self.alpha > 0.0 && unit(rng) < self.alpha));
            self.choose(probs, key_b)
        } else {
            sample(probs, unit(rng))
        }
        .ok_or(WatermarkError::NoFiniteLogit)?;
        self.push(token);
        Ok(Step { token, marked })
    }

    /// Whether vLLM marks the next token (false: it samples normally, its context having
    /// been seen within the `deduplicate_contexts` scope).
    pub fn next_marked(&self) -> bool {
        self.replay.next_marked()
    }

    /// The token vLLM emits at a marked step for the distribution `probs`, under key B
    /// when `key_b` (dual key only) and key A (or the key) otherwise. `None` if no
    /// probability is positive.
    pub fn choose(&self, probs: &[f64], key_b: bool) -> Option<u32> {
        let prf = match self.prf_b {
            Some(b) if key_b => b,
            _ => self.prf_a,
        };
        let uniforms = prf.uniforms(&self.replay.context(), probs.len(), self.mapping);
        choose(&uniforms, probs)
    }

    /// Whether the next marked token takes key B, drawn without a sampler's generator:
    /// `u < alpha`, `u` the Philox uniform of the generated position's index after its
    /// context under `derive_key(key, "tracemark_route")` (mapping v1a). vLLM draws this
    /// from the request's generator instead; neither detector can see the draw, and
    /// either way each key is taken with its probability and the other key's uniforms
    /// play no part, so the token is still an exact sample of `probs`. Deterministic, so
    /// that a seeded generation repeats. Always false for `gumbel`.
    pub fn keyed_route(&self) -> bool {
        match self.route {
            None => false,
            Some(_) if self.alpha >= 1.0 => true,
            Some(_) if self.alpha <= 0.0 => false,
            Some(route) => {
                let k = self.replay.generated_len() as u32;
                let u = route.uniform(&self.replay.context(), k, Mapping::V1a);
                f64::from(u) < self.alpha
            }
        }
    }

    /// Appends the emitted token (marked or not).
    pub fn push(&mut self, token: u32) {
        self.replay.push(token);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1B_VECTOR: [u32; 64] = [
        85, 56, 123, 77, 105, 62, 9, 104, 16, 98, 123, 22, 16, 35, 47, 127, 77, 67, 19, 2, 10, 8,
        75, 22, 127, 30, 95, 9, 101, 14, 113, 122, 85, 66, 122, 50, 38, 119, 15, 58, 68, 62, 24,
        126, 80, 126, 68, 83, 81, 126, 62, 31, 18, 81, 64, 47, 22, 70, 47, 109, 54, 21, 65, 38,
    ];
    const V1A_VECTOR: [u32; 64] = [
        5, 50, 19, 29, 41, 38, 113, 35, 9, 22, 1, 102, 65, 117, 107, 99, 36, 25, 92, 73, 54, 6,
        123, 29, 107, 71, 90, 55, 89, 87, 78, 36, 12, 16, 17, 127, 123, 60, 79, 41, 85, 117, 92,
        87, 92, 93, 32, 30, 84, 88, 94, 54, 116, 43, 22, 92, 23, 76, 12, 127, 28, 61, 74, 91,
    ];

    const LN_Q_DUAL: f64 = -7.386_960_329_384_395_5;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs()
    }

    #[test]
    fn raw_words_match_the_reference() {
        let prf = Prf::new(42);
        let pad = [PAD; 4];
        let v1b: Vec<u32> = (0..4).map(|t| prf.word(&pad, t, Mapping::V1b)).collect();
        assert_eq!(v1b, [0xfa2f_6b05, 0x01b2_a14f, 0xe1c0_616e, 0x7fe6_ad3f]);
        let v1a: Vec<u32> = (0..4).map(|t| prf.word(&pad, t, Mapping::V1a)).collect();
        assert_eq!(v1a, [0xfa2f_6b05, 0x2abf_97d0, 0x1f1b_4ef7, 0x5b80_ee90]);
        assert_eq!(prf.word(&[1, 2, 3, 4], 10, Mapping::V1b), 0x042b_f17d);
        assert_eq!(prf.word(&[1, 2, 3, 4, 5], 10, Mapping::V1b), 0x694d_4711);
        // The vocabulary form agrees with the per-token one.
        for mapping in Mapping::ALL {
            let all = prf.uniforms(&[7, 8, 9, 10], 11, mapping);
            for (t, &u) in all.iter().enumerate() {
                assert_eq!(u, prf.uniform(&[7, 8, 9, 10], t as u32, mapping));
            }
        }
    }

    #[test]
    fn the_uniform_is_the_gpus_next_down_form_and_never_0_or_1() {
        for m in (0u32..1 << 24).step_by(4099).chain([0, (1 << 24) - 1]) {
            let u = word_to_uniform(m << 8 | 0xab);
            let gpu = f32::from_bits(((m + 1) as f32 * 2f32.powi(-24)).to_bits() - 1);
            assert_eq!(u.to_bits(), gpu.to_bits(), "m={m}");
            assert!(u > 0.0 && u < 1.0);
        }
    }

    #[test]
    fn dual_keys_derive_as_the_reference_computed() {
        assert_eq!(derive_key(42, b"key_a"), 0x0083_fc6a_8fb9_d18c);
        assert_eq!(derive_key(42, b"key_b"), 0xdba3_81ce_1fb8_87ad);
    }

    fn detect_default(tokens: &[u32], mapping: Mapping) -> VllmDetection {
        detect(
            &VllmConfig::gumbel(42),
            mapping,
            tokens,
            &DetectOptions::default(),
        )
        .unwrap()
    }

    /// The reference's detection vectors (key 42, w 4, vLLM's detector defaults), under
    /// both mappings; the p-values against mpmath's `gammainc(64, S, inf,
    /// regularized=True)` at 40 digits of the S computed here.
    #[test]
    fn detection_vectors_reproduce() {
        let range: Vec<u32> = (0..64).collect();
        // (vector, mapping, S to the reference's digits, p from mpmath)
        let cases: [(&[u32], Mapping, Option<f64>, f64); 6] = [
            (
                &V1B_VECTOR,
                Mapping::V1b,
                Some(335.334_005),
                1.837_188_718_740_348e-74,
            ),
            (&V1B_VECTOR, Mapping::V1a, None, 0.477_586_757_559_960_05),
            (
                &V1A_VECTOR,
                Mapping::V1a,
                Some(350.589_6),
                7.106_563_614_325_309e-80,
            ),
            (&V1A_VECTOR, Mapping::V1b, None, 0.537_528_678_421_288_9),
            (&range, Mapping::V1b, None, 0.230_726_177_735_357_8),
            (&range, Mapping::V1a, None, 0.023_634_495_134_419_697),
        ];
        for (tokens, mapping, s, p) in cases {
            let d = detect_default(tokens, mapping);
            assert_eq!(d.scored, 64);
            if let Some(s) = s {
                let digits = if s > 350.0 { 1e-4 } else { 1e-6 };
                assert!((d.score - s).abs() < digits, "{mapping:?}: S = {}", d.score);
            }
            let got = d.verdict.p_value.value();
            assert!(close(got, p, 1e-9), "{mapping:?}: p = {got:e}, not {p:e}");
            assert_eq!(d.verdict.detected, p <= 0.01);
            assert_eq!(
                d.verdict.method,
                format!("vllm-gumbel/philox4x32-10-{}", mapping.as_str())
            );
            assert!(!d.verdict.parameters.to_string().contains("42"));
        }
    }

    #[test]
    fn either_mapping_finds_the_right_one_at_twice_its_p_value() {
        let options = DetectOptions::default();
        for (vector, mapping) in [(&V1B_VECTOR, Mapping::V1b), (&V1A_VECTOR, Mapping::V1a)] {
            let (found, d) =
                detect_either_mapping(&VllmConfig::gumbel(42), vector, &options).unwrap();
            let single = detect_default(vector, mapping);
            assert_eq!(found, mapping);
            assert!(close(
                d.verdict.p_value.ln(),
                single.verdict.p_value.ln() + 2f64.ln(),
                1e-12
            ));
            assert_eq!(d.verdict.parameters["mappings_tried"], 2);
        }
    }

    #[test]
    fn nothing_scored_is_p_one_and_bad_options_are_refused() {
        let d = detect_default(&[], Mapping::V1b);
        assert_eq!(
            (d.scored, d.verdict.p_value.value(), d.verdict.detected),
            (0, 1.0, false)
        );
        // A repeated context is scored once under the document dedup, always without it.
        let loop_tokens = [5u32; 12];
        assert_eq!(detect_default(&loop_tokens, Mapping::V1b).scored, 5);
        let off = DetectOptions {
            dedup: Dedup::Off,
            ..DetectOptions::default()
        };
        let config = VllmConfig::gumbel(42);
        assert_eq!(
            detect(&config, Mapping::V1b, &loop_tokens, &off)
                .unwrap()
                .scored,
            12
        );
        let long_prompt = DetectOptions {
            prompt_len: 13,
            ..DetectOptions::default()
        };
        assert!(detect(&config, Mapping::V1b, &loop_tokens, &long_prompt).is_err());
        let bad_rate = DetectOptions {
            false_positive_rate: 1.5,
            ..DetectOptions::default()
        };
        assert!(matches!(
            detect(&config, Mapping::V1b, &loop_tokens, &bad_rate),
            Err(WatermarkError::InvalidOption(_))
        ));
    }

    /// vLLM's `_repeated_context_mask_cpu`, transcribed literally for one request.
    fn repeated_brute(config: &VllmConfig, prompt: &[u32], generated: &[u32], k: usize) -> bool {
        let w = config.context_width;
        let all = config.deduplicate_contexts == DedupScope::All;
        if all && k < w {
            return true;
        }
        let current = context_at(generated, k, w);
        let history: Vec<u32> = if all {
            prompt.iter().chain(&generated[..k]).copied().collect()
        } else {
            generated[..k].to_vec()
        };
        let start = config
            .max_history
            .map_or(0, |h| history.len().saturating_sub(h));
        (start..history.len()).any(|j| context_at(&history, j, w) == current)
    }

    #[test]
    fn the_dedup_replay_equals_vllms_reference_mask() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |m: u32| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % u64::from(m)) as u32
        };
        for scope in [DedupScope::SingleTurn, DedupScope::All, DedupScope::None] {
            for max_history in [None, Some(1), Some(5), Some(30)] {
                for w in [1usize, 2, 3] {
                    let config = VllmConfig {
                        context_width: w,
                        deduplicate_contexts: scope,
                        max_history,
                        ..VllmConfig::gumbel(1)
                    };
                    let prompt: Vec<u32> = (0..20).map(|_| next(3)).collect();
                    let generated: Vec<u32> = (0..80).map(|_| next(3)).collect();
                    let mut replay = DedupReplay::new(&config, &prompt);
                    for (k, &t) in generated.iter().enumerate() {
                        let want = scope == DedupScope::None
                            || !repeated_brute(&config, &prompt, &generated, k);
                        assert_eq!(
                            replay.next_marked(),
                            want,
                            "{scope:?} {max_history:?} w={w} k={k}"
                        );
                        replay.push(t);
                    }
                }
            }
        }
    }

    use super::super::TestRng;

    /// A synthetic distribution over 100 tokens that depends on the step: a few likely
    /// tokens and a tail, about 2 nats of entropy.
    fn distribution(rng: &mut TestRng) -> Vec<f64> {
        let weights: Vec<f64> = (0..100)
            .map(|_| (-((rng.next_u64() % 1000) as f64) / 120.0).exp())
            .collect();
        let z: f64 = weights.iter().sum();
        weights.iter().map(|w| w / z).collect()
    }

    fn generate(
        config: &VllmConfig,
        mapping: Mapping,
        prompt: &[u32],
        len: usize,
    ) -> (Vec<u32>, usize) {
        let mut marker = VllmMarker::new(config, mapping, prompt);
        let mut rng = TestRng(0x1234_5678_9abc_def1);
        let mut dist_rng = TestRng(0x0fed_cba9_8765_4321);
        let mut marked = 0;
        let tokens = (0..len)
            .map(|_| {
                let step = marker.step(&distribution(&mut dist_rng), &mut rng).unwrap();
                marked += usize::from(step.marked);
                step.token
            })
            .collect();
        (tokens, marked)
    }

    #[test]
    fn marked_text_is_detected_under_its_own_mapping_and_key_only() {
        let prompt = [1u32, 2, 3];
        for mapping in Mapping::ALL {
            for config in [
                VllmConfig::gumbel(7),
                VllmConfig {
                    deduplicate_contexts: DedupScope::All,
                    ..VllmConfig::gumbel(7)
                },
                VllmConfig::dual_key_gumbel(7, 0.1).unwrap(),
                VllmConfig::dual_key_gumbel(7, 0.5).unwrap(),
            ] {
                let (generated, marked) = generate(&config, mapping, &prompt, 200);
                assert!(marked > 150, "{marked}");
                let tokens: Vec<u32> = prompt.iter().chain(&generated).copied().collect();
                for dedup in [Dedup::Document, Dedup::Generation] {
                    let options = DetectOptions {
                        prompt_len: 3,
                        dedup,
                        false_positive_rate: 1e-6,
                    };
                    let found = detect(&config, mapping, &tokens, &options).unwrap();
                    assert!(
                        found.verdict.detected,
                        "{config:?} {mapping:?} {dedup:?}: {:?}",
                        found.verdict
                    );
                    let other = Mapping::ALL.into_iter().find(|m| *m != mapping).unwrap();
                    let wrong_mapping = detect(&config, other, &tokens, &options).unwrap();
                    assert!(!wrong_mapping.verdict.detected);
                    let wrong_key = VllmConfig {
                        key: Secret::new(8),
                        ..config.clone()
                    };
                    assert!(
                        !detect(&wrong_key, mapping, &tokens, &options)
                            .unwrap()
                            .verdict
                            .detected
                    );
                }
            }
        }
    }

    #[test]
    fn the_dual_key_tail_is_the_moment_matched_gamma() {
        // α = 0.1: v = 0.82, Q(n/v, S/v); mpmath gammainc(64/v, 90/v) with v the f64
        // (1-0.1)**2 + 0.1**2, 40 digits.
        let ln = ln_p_dual(90.0, 64, 0.1);
        assert!(close(ln, LN_Q_DUAL, 1e-10), "{ln}");
        // α = 0.5: the integer shape 2n on 2S.
        assert_eq!(ln_p_dual(70.0, 64, 0.5), stats::ln_gamma_sf(128, 140.0));
        assert_eq!(ln_p_dual(70.0, 64, 0.0), ln_p_gumbel(70.0, 64));
        assert_eq!(ln_p_dual(70.0, 0, 0.3), 0.0);
    }

    #[test]
    fn configurations_read_and_bad_ones_say_why() {
        let c = VllmConfig::from_json(r#"{"algorithm":"gumbel","key":42}"#).unwrap();
        assert_eq!(c, VllmConfig::gumbel(42));
        assert!(!format!("{c:?}").contains("42"));
        let full = VllmConfig::from_json(
            r#"{"algorithm":"dual_key_gumbel","key":18446744073709551615,"context_width":6,
                "alpha":0.25,"deduplicate_contexts":"all","deduplicate_contexts_max_history":null,
                "prf":"philox","allow_target_only_watermarking":true,
                "sbw_scheme":"selfhash","sbw_gamma":0.5,"sbw_delta":2.0}"#,
        )
        .unwrap();
        assert_eq!(*full.key().expose(), u64::MAX);
        assert_eq!(
            (
                full.algorithm,
                full.context_width,
                full.alpha,
                full.deduplicate_contexts,
                full.max_history
            ),
            (Algorithm::DualKeyGumbel, 6, 0.25, DedupScope::All, None)
        );
        assert!(full.allow_target_only_watermarking);
        for (json, says) in [
            ("[1]", "JSON object"),
            ("{", "not JSON"),
            (r#"{"algorithm":"gumbel"}"#, "`key` is required"),
            (r#"{"key":-1}"#, "negative"),
            (r#"{"key":18446744073709551616}"#, "2^64-1"),
            (r#"{"key":1.5}"#, "2^64-1"),
            (r#"{"key":"42"}"#, "integer"),
            (r#"{"key":1,"algorithm":"kgw"}"#, "unknown algorithm"),
            (r#"{"key":1,"algorithm":"sbw"}"#, "`sbw` is not supported"),
            (r#"{"key":1,"context_width":-2}"#, "at least 1"),
            (r#"{"key":1,"context_width":0}"#, "at least 1"),
            (r#"{"key":1,"context_width":2.5}"#, "at least 1"),
            (r#"{"key":1,"alpha":1.5}"#, "[0, 1]"),
            (r#"{"key":1,"alpha":"0.1"}"#, "a number"),
            (r#"{"key":1,"deduplicate_contexts":"some"}"#, "single_turn"),
            (
                r#"{"key":1,"deduplicate_contexts_max_history":0}"#,
                "at least 1",
            ),
            (r#"{"key":1,"prf":"hmac_sha256"}"#, "removed"),
            (r#"{"key":1,"prf":"aes"}"#, "unknown prf"),
            (r#"{"key":1,"allow_target_only_watermarking":1}"#, "boolean"),
            (r#"{"key":1,"seed":3}"#, "unknown field `seed`"),
        ] {
            let err = VllmConfig::from_json(json).unwrap_err();
            assert!(matches!(
                err,
                WatermarkError::DeployedConfig { stack: "vLLM", .. }
            ));
            assert!(err.to_string().contains(says), "{json}: {err}");
        }
        assert!(VllmConfig::dual_key_gumbel(1, -0.1).is_err());
    }
}
