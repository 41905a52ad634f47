//! SGLang's Aaronson-Gumbel watermark (`--enable-watermark`, `--watermark-config`), single
//! or dual key.
//!
//! References (sgl-project/sglang, `python/sglang/srt/sampling/watermarking/`):
//! `config.py` (cb67044a, 26cd7e8c: the configuration and its limits), `core.py`
//! (26cd7e8c: generation), `detector.py` (519697e3: hashes, routing, the detector) and
//! its `README.md`; upstream PR #37577. Tracemark's summary: `deployed-watermarks.md` §2.
//!
//! **Hash.** Every hash is MurmurHash3_x86_32, seed 0, over u32 words
//! ([`super::murmur3::hash_words`]): `ctx_hash = H(c_1..c_L)` over the context's actual
//! length `L`; `H(key_lo, key_hi, ctx_hash, t)` for a token, with
//! `u = (H + 0.5) / 2^32` and score `−ln(1 − u)`; the dual-key coin
//! `H(a_lo, a_hi, b_lo, b_hi, ctx_hash)` picks key A when below `floor(P · 2^32)`, `P` the
//! `mixing_probability` (the probability of key **A**, the opposite of vLLM's α). The
//! routing is deterministic, so the detector reproduces it.
//!
//! **Context.** The last `h = context_window` tokens of the prompt and the committed
//! output: the first generated token's context is the prompt's tail (unlike vLLM).
//! Without the prompt's ids the detector skips the first `h` completion tokens.
//!
//! **Generation** ([`SglangMarker`]) emits `argmax_v ln(u_v) / p_v` over `p_v > 0` (ties to
//! the lowest id), except for rows whose largest probability exceeds `max_probability`,
//! a context hash already marked in this request, and once 4,096 distinct contexts were
//! marked. **Detection** ([`detect`]) dedups on the exact context, stops after
//! `max_contexts` (4,096) distinct contexts, and takes `p = Q(n, S)` (Gamma(n, 1)).
//!
//! Known answers reproduced by the tests: MurmurHash3 ("test" → 0xba6bd213), the
//! reference's worked example (context [1, 2, 3, 4] → 0x4445ad00; key 0123456789abcdef,
//! token 10 → 0x8ac48523, score 0.781019637277). The reference gives no detection vector
//! for SGLang, so detection is checked against a literal transcription of `detect_tokens`
//! and by marking then detecting. The GPU's fp32 form of the marking rule
//! (`ln1p(−(2^32 − H − 0.5)/2^32)` for `H ≥ 2^31`) is computed here in f64, which may pick
//! another token on near-ties: it changes which text is marked, never the detector.

use std::collections::HashSet;

use rand_core::RngCore;
use serde_json::{Value, json};
use tracemark_core::{PValue, Verdict};

use super::murmur3::hash_words;
use crate::{Secret, error::WatermarkError, scheme::SglangParams, stats};

/// The method id of SGLang verdicts.
pub const METHOD: &str = "sglang-gumbel/murmur3-x86-32";
/// `MAX_WATERMARK_CONTEXT_WINDOW`.
pub const MAX_CONTEXT_WINDOW: usize = 64;
/// `MAX_WATERMARKED_CONTEXTS_PER_REQUEST`: the history budget of generation and the
/// detector's `max_contexts`.
pub const MAX_CONTEXTS: usize = 4096;
/// The configuration file's size limit.
pub const MAX_CONFIG_BYTES: usize = 4096;
pub const DEFAULT_CONTEXT_WINDOW: usize = 4;
pub const DEFAULT_MIXING_PROBABILITY: f64 = 0.5;
pub const DEFAULT_MAX_PROBABILITY: f64 = 1.0;

/// SGLang's watermark configuration, read with [`SglangConfig::from_json`].
#[derive(Debug, Clone, PartialEq)]
pub struct SglangConfig {
    key: Secret<u64>,
    key_b: Option<Secret<u64>>,
    pub context_window: usize,
    /// The probability of key A (dual key).
    pub mixing_probability: f64,
    /// The entropy gate: rows whose largest probability exceeds it are not marked.
    pub max_probability: f64,
    pub default_enabled: bool,
    pub enforce_all: bool,
}

fn bad(message: impl Into<String>) -> WatermarkError {
    WatermarkError::DeployedConfig {
        stack: "SGLang",
        message: message.into(),
    }
}

const FIELDS: [&str; 7] = [
    "key",
    "key_b",
    "context_window",
    "mixing_probability",
    "max_probability",
    "default_enabled",
    "enforce_all",
];

/// `parse_watermark_key`: 1 to 16 hex digits, an optional `0x`, as a u64 (SGLang keeps it
/// signed; only its two 32-bit halves are hashed, which are the same).
pub fn parse_key(text: &str) -> Result<u64, WatermarkError> {
    let digits = if text.len() >= 2 && text[..2].eq_ignore_ascii_case("0x") {
        &text[2..]
    } else {
        text
    };
    if !(1..=16).contains(&digits.len()) {
        return Err(bad("a key must have 1 to 16 hex digits"));
    }
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad("a key must contain only hex digits"));
    }
    u64::from_str_radix(digits, 16).map_err(|_| bad("a key must contain only hex digits"))
}

impl SglangConfig {
    /// A single-key configuration with SGLang's defaults.
    pub fn new(key: u64) -> Self {
        Self {
            key: Secret::new(key),
            key_b: None,
            context_window: DEFAULT_CONTEXT_WINDOW,
            mixing_probability: DEFAULT_MIXING_PROBABILITY,
            max_probability: DEFAULT_MAX_PROBABILITY,
            default_enabled: false,
            enforce_all: false,
        }
    }

    /// The same configuration with key B and `mixing_probability` (of key A) in (0, 1).
    pub fn with_key_b(self, key_b: u64, mixing_probability: f64) -> Result<Self, WatermarkError> {
        if !(mixing_probability > 0.0 && mixing_probability < 1.0) {
            return Err(bad(
                "`mixing_probability` must lie strictly between 0 and 1",
            ));
        }
        Ok(Self {
            key_b: Some(Secret::new(key_b)),
            mixing_probability,
            ..self
        })
    }

    /// Reads SGLang's `--watermark-config` JSON (the file's content or the inline form).
    ///
    /// | field | rule (SGLang's `load_watermark_config`, and its detector for the range of `mixing_probability`) |
    /// |---|---|
    /// | `key` | a hex string of 1–16 digits, optional `0x`; **required here** (SGLang lets a request supply it, but detection needs it) |
    /// | `key_b` | optional, same form: dual key |
    /// | `context_window` | default 4; an integer from 1 to 64 |
    /// | `mixing_probability` | default 0.5; a number strictly between 0 and 1 (probability of key A) |
    /// | `max_probability` | default 1.0; a number |
    /// | `default_enabled`, `enforce_all` | default false; booleans |
    ///
    /// At most 4,096 bytes; any other field is refused; null means the default.
    pub fn from_json(json: &str) -> Result<Self, WatermarkError> {
        if json.len() > MAX_CONFIG_BYTES {
            return Err(bad("the configuration exceeds 4096 bytes"));
        }
        let value: Value = serde_json::from_str(json).map_err(|e| bad(format!("not JSON: {e}")))?;
        let object = value
            .as_object()
            .ok_or_else(|| bad("the configuration must be a JSON object"))?;
        if let Some(unknown) = object.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(bad(format!("unknown field `{unknown}`")));
        }
        let get = |name: &str| object.get(name).filter(|v| !v.is_null());
        let key_field = |name: &str| -> Result<Option<u64>, WatermarkError> {
            match get(name) {
                None => Ok(None),
                Some(Value::String(s)) => parse_key(s)
                    .map(Some)
                    .map_err(|e| bad(format!("`{name}`: {}", strip(&e)))),
                // Not the value: it is the secret, or what was meant as one.
                Some(other) => Err(bad(format!(
                    "`{name}` must be a hex string, not a JSON {}",
                    super::vllm::json_type(other)
                ))),
            }
        };
        let key = key_field("key")?.ok_or_else(|| {
            bad("`key` is required: detection needs the key (SGLang may take it per request)")
        })?;
        let key_b = key_field("key_b")?;
        let context_window = match get("context_window") {
            None => DEFAULT_CONTEXT_WINDOW,
            Some(v) => match v.as_u64() {
                Some(w) if (1..=MAX_CONTEXT_WINDOW as u64).contains(&w) => w as usize,
                _ => {
                    return Err(bad(format!(
                        "`context_window` must be an integer from 1 to 64, not {v}"
                    )));
                }
            },
        };
        let number = |name: &str, default: f64| -> Result<f64, WatermarkError> {
            match get(name) {
                None => Ok(default),
                Some(Value::Number(n)) => Ok(n.as_f64().unwrap_or(f64::NAN)),
                Some(other) => Err(bad(format!("`{name}` must be a number, not {other}"))),
            }
        };
        let mixing_probability = number("mixing_probability", DEFAULT_MIXING_PROBABILITY)?;
        if !(mixing_probability > 0.0 && mixing_probability < 1.0) {
            return Err(bad(format!(
                "`mixing_probability` must lie strictly between 0 and 1, not {mixing_probability}"
            )));
        }
        let max_probability = number("max_probability", DEFAULT_MAX_PROBABILITY)?;
        let boolean = |name: &str| -> Result<bool, WatermarkError> {
            match get(name) {
                None => Ok(false),
                Some(Value::Bool(b)) => Ok(*b),
                Some(other) => Err(bad(format!("`{name}` must be a boolean, not {other}"))),
            }
        };
        Ok(Self {
            key: Secret::new(key),
            key_b: key_b.map(Secret::new),
            context_window,
            mixing_probability,
            max_probability,
            default_enabled: boolean("default_enabled")?,
            enforce_all: boolean("enforce_all")?,
        })
    }

    /// Key A (the secret: never print it).
    pub fn key(&self) -> &Secret<u64> {
        &self.key
    }

    /// Key B, for a dual-key configuration.
    pub fn key_b(&self) -> Option<&Secret<u64>> {
        self.key_b.as_ref()
    }

    /// This configuration as a key's parameters.
    pub fn to_params(&self) -> SglangParams {
        SglangParams {
            key: self.key.clone(),
            key_b: self.key_b.clone(),
            context_window: self.context_window,
            mixing_probability: self.mixing_probability,
            max_probability: self.max_probability,
            default_enabled: self.default_enabled,
            enforce_all: self.enforce_all,
        }
    }

    /// The configuration a key's parameters state, held to the rules of
    /// [`SglangConfig::from_json`] (a key file may have been edited by hand).
    pub fn from_params(params: &SglangParams) -> Result<Self, WatermarkError> {
        let invalid = |m: &str| Err(WatermarkError::InvalidKey(m.to_owned()));
        if !(1..=MAX_CONTEXT_WINDOW).contains(&params.context_window) {
            return invalid("SGLang's context_window must be 1 to 64");
        }
        let p = params.mixing_probability;
        if !(p > 0.0 && p < 1.0) {
            return invalid("SGLang's mixing_probability must lie strictly between 0 and 1");
        }
        if params.max_probability.is_nan() {
            return invalid("SGLang's max_probability must be a number");
        }
        Ok(Self {
            key: params.key.clone(),
            key_b: params.key_b.clone(),
            context_window: params.context_window,
            mixing_probability: p,
            max_probability: params.max_probability,
            default_enabled: params.default_enabled,
            enforce_all: params.enforce_all,
        })
    }

    /// `int(mixing_probability · 2^32)`: the coin picks key A below it.
    pub fn mixing_threshold(&self) -> u64 {
        (self.mixing_probability * 4_294_967_296.0) as u64
    }

    /// The key that marks a context: A, or the coin's choice for dual key.
    pub fn key_for(&self, context_hash: u32) -> u64 {
        let a = *self.key.expose();
        match &self.key_b {
            Some(b) if u64::from(coin(a, *b.expose(), context_hash)) >= self.mixing_threshold() => {
                *b.expose()
            }
            _ => a,
        }
    }
}

fn strip(e: &WatermarkError) -> String {
    match e {
        WatermarkError::DeployedConfig { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// `hash_context`.
pub fn context_hash(context: &[u32]) -> u32 {
    hash_words(context)
}

/// `watermark_hash`: the token's 32-bit hash under a key.
pub fn token_hash(key: u64, context_hash: u32, token: u32) -> u32 {
    hash_words(&[key as u32, (key >> 32) as u32, context_hash, token])
}

/// `position_coin`.
pub fn coin(key_a: u64, key_b: u64, context_hash: u32) -> u32 {
    hash_words(&[
        key_a as u32,
        (key_a >> 32) as u32,
        key_b as u32,
        (key_b >> 32) as u32,
        context_hash,
    ])
}

/// `u = (H + 0.5) / 2^32`.
pub fn uniform(hash: u32) -> f64 {
    (f64::from(hash) + 0.5) / 4_294_967_296.0
}

/// The detector's score `−ln(1 − u)`.
pub fn score(hash: u32) -> f64 {
    -(-uniform(hash)).ln_1p()
}

/// One statistic as SGLang reports it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Statistics {
    pub contexts: usize,
    pub score: f64,
    /// `(S − n)/√n` (0 for n = 0).
    pub z_score: f64,
    /// `ln P[Gamma(n, 1) ≥ S]`.
    pub ln_p: f64,
}

impl Statistics {
    fn of(scores: &[f64]) -> Self {
        let n = scores.len();
        let score: f64 = scores.iter().sum();
        if n == 0 {
            return Self {
                contexts: 0,
                score: 0.0,
                z_score: 0.0,
                ln_p: 0.0,
            };
        }
        Self {
            contexts: n,
            score,
            z_score: (score - n as f64) / (n as f64).sqrt(),
            ln_p: stats::ln_gamma_sf(n as u64, score),
        }
    }
}

/// The detector's result: the verdict on the `combined` statistic and the rest of SGLang's
/// `WatermarkDetection`.
#[derive(Debug, Clone, PartialEq)]
pub struct SglangDetection {
    pub verdict: Verdict,
    /// Key A for single key; the coin's partition for dual key.
    pub combined: Statistics,
    pub key_a_all_positions: Statistics,
    pub key_b_all_positions: Option<Statistics>,
    pub key_a_partition: Option<Statistics>,
    pub key_b_partition: Option<Statistics>,
    pub prefix_limit_reached: bool,
    pub tokens_examined: usize,
    pub repeated_contexts: usize,
    pub skipped_initial_tokens: usize,
}

/// How to detect.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectOptions {
    /// Stop after this many distinct contexts (1 to 4,096).
    pub max_contexts: usize,
    pub false_positive_rate: f64,
}

impl Default for DetectOptions {
    fn default() -> Self {
        Self {
            max_contexts: MAX_CONTEXTS,
            false_positive_rate: 0.01,
        }
    }
}

/// The scored completion tokens, in order: their indices into the completion and their
/// scores under the key that marks each one (key A; for dual key, the coin's key).
#[derive(Debug, Clone, PartialEq)]
pub struct Scores {
    pub positions: Vec<usize>,
    pub scores: Vec<f64>,
}

/// What one pass of SGLang's detector gathers.
struct Pass {
    routed: Scores,
    all_a: Vec<f64>,
    all_b: Vec<f64>,
    part_a: Vec<f64>,
    part_b: Vec<f64>,
    limit_reached: bool,
    examined: usize,
    repeated: usize,
    skipped: usize,
}

/// SGLang's `detect_tokens` over `completion` after `prompt` (empty: no prompt ids).
fn pass(config: &SglangConfig, prompt: &[u32], completion: &[u32], max_contexts: usize) -> Pass {
    let h = config.context_window;
    let tail = &prompt[prompt.len().saturating_sub(h)..];
    let tokens: Vec<u32> = tail.iter().chain(completion).copied().collect();
    let start = tail.len();
    let first = if prompt.is_empty() {
        h.min(completion.len())
    } else {
        start
    };
    let key_a = *config.key.expose();
    let key_b = config.key_b.as_ref().map(|k| *k.expose());
    let mut seen: HashSet<&[u32]> = HashSet::new();
    let mut out = Pass {
        routed: Scores {
            positions: vec![],
            scores: vec![],
        },
        all_a: vec![],
        all_b: vec![],
        part_a: vec![],
        part_b: vec![],
        limit_reached: false,
        examined: first - start,
        repeated: 0,
        skipped: first - start,
    };
    for position in first..tokens.len() {
        out.examined = position - start + 1;
        let context = &tokens[position.saturating_sub(h)..position];
        if !seen.insert(context) {
            out.repeated += 1;
            continue;
        }
        let ctx_hash = context_hash(context);
        let t = tokens[position];
        let score_a = score(token_hash(key_a, ctx_hash, t));
        out.all_a.push(score_a);
        let routed = match key_b {
            None => score_a,
            Some(b) => {
                let score_b = score(token_hash(b, ctx_hash, t));
                out.all_b.push(score_b);
                if u64::from(coin(key_a, b, ctx_hash)) < config.mixing_threshold() {
                    out.part_a.push(score_a);
                    score_a
                } else {
                    out.part_b.push(score_b);
                    score_b
                }
            }
        };
        out.routed.positions.push(position - start);
        out.routed.scores.push(routed);
        if seen.len() == max_contexts {
            break;
        }
    }
    out.limit_reached = seen.len() == max_contexts;
    out
}

fn check_max_contexts(max_contexts: usize) -> Result<(), WatermarkError> {
    if (1..=MAX_CONTEXTS).contains(&max_contexts) {
        Ok(())
    } else {
        Err(WatermarkError::InvalidOption(format!(
            "max_contexts must be from 1 to {MAX_CONTEXTS}, not {max_contexts}"
        )))
    }
}

/// The scores [`detect`] sums into its `combined` statistic, position by position: what
/// windowed detection scans.
pub fn score_tokens(
    config: &SglangConfig,
    prompt: Option<&[u32]>,
    completion: &[u32],
    max_contexts: usize,
) -> Result<Scores, WatermarkError> {
    check_max_contexts(max_contexts)?;
    Ok(pass(config, prompt.unwrap_or(&[]), completion, max_contexts).routed)
}

/// Detects SGLang's watermark in `completion`, after `prompt` if its ids are known (the
/// first completion tokens' contexts reach into it; without it the first
/// `context_window` completion tokens are skipped), as SGLang's `detect_tokens` does.
/// The `combined` statistic sums the scores in position order.
pub fn detect(
    config: &SglangConfig,
    prompt: Option<&[u32]>,
    completion: &[u32],
    options: &DetectOptions,
) -> Result<SglangDetection, WatermarkError> {
    let fpr = options.false_positive_rate;
    if !(fpr > 0.0 && fpr < 1.0) {
        return Err(WatermarkError::InvalidOption(format!(
            "false-positive rate {fpr}"
        )));
    }
    check_max_contexts(options.max_contexts)?;
    let prompt = prompt.unwrap_or(&[]);
    let found = pass(config, prompt, completion, options.max_contexts);
    let dual = config.key_b.is_some();
    let combined = Statistics::of(&found.routed.scores);
    let verdict = Verdict::decide(
        PValue::from_ln(combined.ln_p),
        fpr,
        METHOD,
        json!({
            "context_window": config.context_window,
            "dual_key": dual,
            "mixing_probability": if dual { json!(config.mixing_probability) } else { Value::Null },
            "prompt_ids": !prompt.is_empty(),
            "max_contexts": options.max_contexts,
        }),
        combined.contexts as u64,
    );
    Ok(SglangDetection {
        verdict,
        combined,
        key_a_all_positions: Statistics::of(&found.all_a),
        key_b_all_positions: dual.then(|| Statistics::of(&found.all_b)),
        key_a_partition: dual.then(|| Statistics::of(&found.part_a)),
        key_b_partition: dual.then(|| Statistics::of(&found.part_b)),
        prefix_limit_reached: found.limit_reached,
        tokens_examined: found.examined,
        repeated_contexts: found.repeated,
        skipped_initial_tokens: found.skipped,
    })
}

/// SGLang's marking rule: `argmax_v ln(u_v) / p_v` over `p_v > 0`, ties to the lowest id,
/// with `u_v` from `key` and the context's hash. `None` if no probability is positive.
pub fn choose(key: u64, context_hash: u32, probs: &[f64]) -> Option<u32> {
    let mut best: Option<(f64, u32)> = None;
    for (v, &p) in probs.iter().enumerate() {
        if p.is_nan() || p <= 0.0 {
            continue;
        }
        let value = uniform(token_hash(key, context_hash, v as u32)).ln() / p;
        if best.is_none_or(|(b, _)| value > b) {
            best = Some((value, v as u32));
        }
    }
    best.map(|(_, v)| v)
}

/// One generated token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub token: u32,
    pub marked: bool,
}

/// Marks as SGLang does for one request.
#[derive(Debug, Clone)]
pub struct SglangMarker {
    config: SglangConfig,
    /// The prompt's tail and the output so far.
    tokens: Vec<u32>,
    /// Context hashes already marked ("only forced contexts enter the history").
    forced: HashSet<u32>,
    budget: usize,
}

impl SglangMarker {
    /// `budget` is SGLang's `min(4096, per-request token-pool capacity)`.
    pub fn new(config: &SglangConfig, prompt: &[u32], budget: usize) -> Self {
        let h = config.context_window;
        Self {
            config: config.clone(),
            tokens: prompt[prompt.len().saturating_sub(h)..].to_vec(),
            forced: HashSet::new(),
            budget: budget.min(MAX_CONTEXTS),
        }
    }

    /// The next token for the filtered, renormalised distribution `probs`; `rng` samples
    /// the rows SGLang leaves unmarked.
    pub fn step(&mut self, probs: &[f64], rng: &mut impl RngCore) -> Result<Step, WatermarkError> {
        let (token, marked) = match self.marked_choice(probs)? {
            Some(token) => (token, true),
            None => {
                let r = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                let total: f64 = probs.iter().filter(|p| **p > 0.0).sum();
                let mut acc = 0.0;
                let token = probs
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| **p > 0.0)
                    .find(|(_, p)| {
                        acc += **p;
                        r * total < acc
                    })
                    .or_else(|| probs.iter().enumerate().rfind(|(_, p)| **p > 0.0))
                    .map(|(v, _)| v as u32)
                    .ok_or(WatermarkError::NoFiniteLogit)?;
                (token, false)
            }
        };
        self.push(token);
        Ok(Step { token, marked })
    }

    /// The token SGLang emits at this step if it marks it, the context then counting as
    /// forced; `None` if SGLang leaves the step unmarked (the largest probability over
    /// `max_probability`, a context already forced, the budget of contexts spent).
    pub fn marked_choice(&mut self, probs: &[f64]) -> Result<Option<u32>, WatermarkError> {
        let h = self.config.context_window;
        let context = &self.tokens[self.tokens.len().saturating_sub(h)..];
        let ctx_hash = context_hash(context);
        let max_p = probs
            .iter()
            .copied()
            .filter(|p| !p.is_nan())
            .fold(0.0, f64::max);
        let marked = max_p <= self.config.max_probability
            && !self.forced.contains(&ctx_hash)
            && self.forced.len() < self.budget;
        if !marked {
            return Ok(None);
        }
        self.forced.insert(ctx_hash);
        choose(self.config.key_for(ctx_hash), ctx_hash, probs)
            .map(Some)
            .ok_or(WatermarkError::NoFiniteLogit)
    }

    /// Appends the emitted token (marked or not).
    pub fn push(&mut self, token: u32) {
        let h = self.config.context_window;
        self.tokens.push(token);
        // Keep the context window only.
        if self.tokens.len() > 4 * h + 64 {
            self.tokens.drain(..self.tokens.len() - h);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: u64 = 0x0123_4567_89ab_cdef;

    #[test]
    fn the_worked_example_reproduces() {
        let ctx = context_hash(&[1, 2, 3, 4]);
        assert_eq!(ctx, 0x4445_ad00);
        let h = token_hash(KEY, ctx, 10);
        assert_eq!(h, 0x8ac4_8523);
        assert!((score(h) - 0.781_019_637_277).abs() < 1e-12, "{}", score(h));
        assert_eq!(parse_key("0x0123456789ABCDEF").unwrap(), KEY);
        assert_eq!(parse_key("ffffffffffffffff").unwrap(), u64::MAX);
    }

    /// SGLang's `detect_tokens`, transcribed literally: the positions it scores and with
    /// which key, for single key.
    fn scored_brute(
        h: usize,
        prompt: &[u32],
        completion: &[u32],
        max: usize,
    ) -> Vec<(Vec<u32>, u32)> {
        let tail = &prompt[prompt.len().saturating_sub(h)..];
        let tokens: Vec<u32> = tail.iter().chain(completion).copied().collect();
        let start = prompt.len().min(h);
        let first = if prompt.is_empty() {
            h.min(completion.len())
        } else {
            start
        };
        let mut seen: Vec<Vec<u32>> = vec![];
        let mut out = vec![];
        for position in first..tokens.len() {
            let context = tokens[position.saturating_sub(h)..position].to_vec();
            if seen.contains(&context) {
                continue;
            }
            seen.push(context.clone());
            out.push((context, tokens[position]));
            if seen.len() == max {
                break;
            }
        }
        out
    }

    #[test]
    fn detection_scores_what_sglangs_detector_scores() {
        let config = SglangConfig {
            context_window: 3,
            ..SglangConfig::new(KEY)
        };
        let completion: Vec<u32> = [5, 6, 7, 5, 6, 7, 5, 6, 8, 9, 1, 2, 3].repeat(2);
        for prompt in [&[][..], &[1][..], &[9, 8, 7, 6, 5][..]] {
            for max in [1, 4, 4096] {
                let options = DetectOptions {
                    max_contexts: max,
                    ..DetectOptions::default()
                };
                let given = (!prompt.is_empty()).then_some(prompt);
                let d = detect(&config, given, &completion, &options).unwrap();
                let want = scored_brute(3, prompt, &completion, max);
                let total: f64 = want
                    .iter()
                    .map(|(c, t)| score(token_hash(KEY, context_hash(c), *t)))
                    .sum();
                assert_eq!(d.combined.contexts, want.len());
                assert!((d.combined.score - total).abs() < 1e-12);
                assert_eq!(
                    d.combined.ln_p,
                    stats::ln_gamma_sf(want.len() as u64, total)
                );
                assert_eq!(
                    d.skipped_initial_tokens,
                    if prompt.is_empty() { 3 } else { 0 }
                );
                assert_eq!(d.prefix_limit_reached, want.len() == max);
                assert!(d.key_b_all_positions.is_none());
            }
        }
        let empty = detect(&config, None, &[1, 2], &DetectOptions::default()).unwrap();
        assert_eq!(
            (empty.combined.contexts, empty.verdict.p_value.value()),
            (0, 1.0)
        );
    }

    use super::super::TestRng;

    fn generate(config: &SglangConfig, prompt: &[u32], len: usize) -> (Vec<u32>, usize) {
        let mut marker = SglangMarker::new(config, prompt, MAX_CONTEXTS);
        let (mut rng, mut dist) = (TestRng(0xabcdef12345), TestRng(0x5eed_5eed_5eed));
        let mut marked = 0;
        let tokens = (0..len)
            .map(|_| {
                let weights: Vec<f64> = (0..100)
                    .map(|_| (-((dist.next_u64() % 1000) as f64) / 120.0).exp())
                    .collect();
                let z: f64 = weights.iter().sum();
                let probs: Vec<f64> = weights.iter().map(|w| w / z).collect();
                let step = marker.step(&probs, &mut rng).unwrap();
                marked += usize::from(step.marked);
                step.token
            })
            .collect();
        (tokens, marked)
    }

    #[test]
    fn marked_text_is_detected_with_its_keys_only() {
        let prompt = [11u32, 12, 13, 14, 15];
        for config in [
            SglangConfig::new(KEY),
            SglangConfig::new(KEY).with_key_b(0xfeed, 0.5).unwrap(),
            SglangConfig::new(KEY).with_key_b(0xfeed, 0.2).unwrap(),
        ] {
            let (completion, marked) = generate(&config, &prompt, 200);
            assert!(marked > 150, "{marked}");
            let options = DetectOptions {
                false_positive_rate: 1e-6,
                ..DetectOptions::default()
            };
            let with_prompt = detect(&config, Some(&prompt), &completion, &options).unwrap();
            assert!(with_prompt.verdict.detected, "{:?}", with_prompt.verdict);
            assert_eq!(with_prompt.verdict.method, METHOD);
            let without = detect(&config, None, &completion, &options).unwrap();
            assert!(without.verdict.detected);
            // Both keys wrong (a right key B alone still detects its share of tokens).
            let wrong = SglangConfig {
                key: Secret::new(KEY ^ 1),
                key_b: config.key_b.as_ref().map(|b| Secret::new(b.expose() ^ 1)),
                ..config.clone()
            };
            assert!(
                !detect(&wrong, Some(&prompt), &completion, &options)
                    .unwrap()
                    .verdict
                    .detected
            );
            if config.key_b.is_some() {
                let d = with_prompt;
                let (a, b) = (d.key_a_partition.unwrap(), d.key_b_partition.unwrap());
                assert_eq!(a.contexts + b.contexts, d.combined.contexts);
            }
        }
    }

    #[test]
    fn the_entropy_gate_and_the_history_leave_tokens_unmarked() {
        let config = SglangConfig {
            max_probability: 0.5,
            ..SglangConfig::new(KEY)
        };
        let mut marker = SglangMarker::new(&config, &[1, 2, 3, 4], 2);
        let mut rng = TestRng(7);
        assert!(!marker.step(&[0.9, 0.1], &mut rng).unwrap().marked);
        assert!(marker.step(&[0.5, 0.5], &mut rng).unwrap().marked);
        assert!(marker.step(&[0.5, 0.5], &mut rng).unwrap().marked);
        // The budget of 2 distinct contexts is spent.
        assert!(!marker.step(&[0.5, 0.5], &mut rng).unwrap().marked);
    }

    #[test]
    fn configurations_read_and_bad_ones_say_why() {
        let c = SglangConfig::from_json(r#"{"key":"0123456789abcdef"}"#).unwrap();
        assert_eq!(c, SglangConfig::new(KEY));
        assert!(!format!("{c:?}").contains("81985529216486895"));
        let full = SglangConfig::from_json(
            r#"{"key":"0x1","key_b":"ABC","context_window":64,"mixing_probability":0.25,
                "max_probability":0.9,"default_enabled":true,"enforce_all":null}"#,
        )
        .unwrap();
        assert_eq!(*full.key_b().unwrap().expose(), 0xabc);
        assert_eq!(
            (
                full.context_window,
                full.mixing_probability,
                full.max_probability
            ),
            (64, 0.25, 0.9)
        );
        assert!(full.default_enabled && !full.enforce_all);
        assert_eq!(full.mixing_threshold(), 1 << 30);
        let long = format!(r#"{{"key":"1","pad":"{}"}}"#, "x".repeat(4100));
        for (json, says) in [
            (long.as_str(), "4096 bytes"),
            ("[]", "JSON object"),
            ("{}", "`key` is required"),
            (r#"{"key":42}"#, "hex string"),
            (r#"{"key":""}"#, "1 to 16"),
            (r#"{"key":"0x"}"#, "1 to 16"),
            (r#"{"key":"12345678901234567"}"#, "1 to 16"),
            (r#"{"key":"xyz"}"#, "only hex"),
            (r#"{"key":"1","key_b":"-1"}"#, "`key_b`"),
            (r#"{"key":"1","context_window":0}"#, "1 to 64"),
            (r#"{"key":"1","context_window":65}"#, "1 to 64"),
            (r#"{"key":"1","context_window":true}"#, "1 to 64"),
            (r#"{"key":"1","mixing_probability":1}"#, "strictly between"),
            (r#"{"key":"1","mixing_probability":"0.5"}"#, "a number"),
            (r#"{"key":"1","max_probability":[]}"#, "a number"),
            (r#"{"key":"1","enforce_all":"yes"}"#, "a boolean"),
            (
                r#"{"key":"1","algorithm":"synthid"}"#,
                "unknown field `algorithm`",
            ),
        ] {
            let err = SglangConfig::from_json(json).unwrap_err();
            assert!(matches!(
                err,
                WatermarkError::DeployedConfig {
                    stack: "SGLang",
                    ..
                }
            ));
            assert!(err.to_string().contains(says), "{json}: {err}");
        }
        assert!(SglangConfig::new(1).with_key_b(2, 1.0).is_err());
    }
}
