//! The entry points: [`Watermarker`] (built from a key) marks generations through the
//! [`WatermarkSampler`] trait and detects with exact p-values.
//!
//! # How a sampling loop uses it
//!
//! ```
//! # use tracemark_watermark::*;
//! # let key = WatermarkKey::generate(SchemeId::KgwSelfHash, &mut rand_core::OsRng);
//! # let prompt = [1u32, 5, 9];
//! # let model = |_tokens: &[u32]| vec![0.0f32; 512];
//! # let sample = |_logits: &[f32]| 7u32;
//! let watermarker = Watermarker::new(&key, 512)?;
//! let mut marker = watermarker.start(&prompt, None)?;
//! let mut tokens = prompt.to_vec();
//! for _ in 0..20 {
//!     // The loop's own warpers (temperature, top-k, top-p as -inf) come first.
//!     let mut logits = model(&tokens);
//!     let token = match marker.step(&mut logits)? {
//!         Decision::Logits => sample(&logits), // sample as usual from the new logits
//!         Decision::Token(t) => t,             // the scheme chose (Gumbel-max)
//!     };
//!     marker.accept(token)?;
//!     tokens.push(token);
//! }
//! let found = watermarker.detect(&tokens, &DetectOptions::new(1e-3).prompt_len(prompt.len()))?;
//! # let _ = found;
//! # Ok::<(), WatermarkError>(())
//! ```

use std::{collections::HashSet, ops::Deref, sync::Arc};

use serde_json::json;
use tracemark_core::{KeyId, PValue, Payload, Verdict};

use crate::{
    WatermarkKey,
    deployed::{
        SglangConfig, VllmConfig,
        sglang::{self, SglangMarker},
        vllm::{self, Algorithm, Dedup, Mapping, VllmMarker},
    },
    detect::{self, Evidence, Null, Observations, TokenSegment},
    error::WatermarkError,
    gumbel::{self, Gumbel},
    kgw::{Kgw, Variant},
    payload::{Layout, MAX_CODED_BITS_PER_SLOT, PayloadCode},
    prf::{self, Prf},
    scheme::{KgwParams, SchemeConfig, SchemeId, VllmParams},
    synthid::{MarkingState, SynthId, SynthIdScores},
};

/// What a scheme did with one step's logits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The logits were changed in place (or left alone): sample from them as usual.
    Logits,
    /// The scheme chose the token itself (Gumbel-max); do not sample.
    Token(u32),
}

/// One generation's watermark, called once per step by a sampling loop.
///
/// `step` receives the next-token logits after the loop's own warpers (temperature, then
/// top-k / top-p with removed tokens at `-inf`), so every scheme sees the distribution
/// that will actually be sampled. `accept` tells the scheme which token was emitted.
pub trait WatermarkSampler {
    fn step(&mut self, logits: &mut [f32]) -> Result<Decision, WatermarkError>;
    fn accept(&mut self, token: u32) -> Result<(), WatermarkError>;
}

/// No watermark: the loop samples the model's logits unchanged (`--no-watermark`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Unmarked;

impl WatermarkSampler for Unmarked {
    fn step(&mut self, _logits: &mut [f32]) -> Result<Decision, WatermarkError> {
        Ok(Decision::Logits)
    }

    fn accept(&mut self, _token: u32) -> Result<(), WatermarkError> {
        Ok(())
    }
}

#[derive(Debug, Clone)]
enum Engine {
    Kgw(Kgw),
    Gumbel(Gumbel),
    SynthId(SynthId),
    /// vLLM's `gumbel` or `dual_key_gumbel` under one token mapping.
    Vllm {
        config: VllmConfig,
        mapping: Mapping,
    },
    Sglang(SglangConfig),
}

/// A key made ready to mark and detect for one vocabulary.
#[derive(Debug, Clone)]
pub struct Watermarker {
    scheme: SchemeId,
    key_id: KeyId,
    engine: Engine,
    vocab_size: usize,
    layout: Layout,
    /// The public parameters every verdict carries (never a secret).
    parameters: serde_json::Value,
}

/// How to run a detection.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectOptions {
    /// Tokens at the start that are prompt, not generated: never scored.
    pub prompt_len: usize,
    /// The significance level: the false-positive rate the verdict guarantees.
    pub false_positive_rate: f64,
    /// Scoring stops at the first end-of-sequence token (SynthID, as the reference).
    pub eos_token: Option<u32>,
}

impl DetectOptions {
    pub fn new(false_positive_rate: f64) -> Self {
        Self {
            prompt_len: 0,
            false_positive_rate,
            eos_token: None,
        }
    }

    pub fn prompt_len(mut self, prompt_len: usize) -> Self {
        self.prompt_len = prompt_len;
        self
    }

    pub fn eos_token(mut self, eos: Option<u32>) -> Self {
        self.eos_token = eos;
        self
    }
}

/// The outcome of a detection.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    pub verdict: Verdict,
    /// The decoded payload, when the key carries one and the watermark was detected.
    pub payload: Option<Payload>,
    /// Mean per-token score: green fraction (KGW), mean `−ln(1−r)` (Gumbel), mean number
    /// of ones among the layers' g-values (SynthID).
    pub mean_score: f64,
    /// SynthID's reference scores (mean, weighted mean), comparable with synthid-text.
    pub synthid: Option<SynthIdScores>,
}

fn invalid(msg: impl Into<String>) -> WatermarkError {
    WatermarkError::InvalidKey(msg.into())
}

/// The payload layout of a key, checked.
fn payload_layout(bits: u8, radix: u32, code: PayloadCode) -> Result<Layout, WatermarkError> {
    if bits == 0 {
        return Ok(Layout::ZERO_BIT);
    }
    if bits > Payload::MAX_BITS {
        return Err(invalid("payload_bits must be at most 64"));
    }
    if code != PayloadCode::None && radix.trailing_zeros() > MAX_CODED_BITS_PER_SLOT {
        return Err(invalid(format!(
            "payload_code {} needs at most {MAX_CODED_BITS_PER_SLOT} bits per slot \
             (gamma at least 1/{})",
            code.as_str(),
            1u32 << MAX_CODED_BITS_PER_SLOT
        )));
    }
    Ok(Layout { bits, radix, code })
}

fn kgw_engine(
    variant: Variant,
    p: &KgwParams,
    prf: Prf,
    vocab: usize,
) -> Result<(Engine, Layout), WatermarkError> {
    if !(p.gamma > 0.0 && p.gamma < 1.0 && p.delta.is_finite()) {
        return Err(invalid("gamma must lie in (0, 1) and delta be finite"));
    }
    let width = match variant {
        Variant::LeftHash if (1..=prf::MAX_CONTEXT).contains(&p.context_width) => p.context_width,
        Variant::SelfHash if (2..=prf::MAX_CONTEXT + 1).contains(&p.context_width) => {
            p.context_width
        }
        Variant::Unigram => 0,
        _ => return Err(invalid("context_width is out of range for this scheme")),
    };
    let layout = if p.payload_bits == 0 {
        Layout::ZERO_BIT
    } else {
        let radix = (1.0 / p.gamma).round() as u32;
        if !radix.is_power_of_two() || radix < 2 || (p.gamma * f64::from(radix) - 1.0).abs() > 1e-9
        {
            return Err(invalid(
                "a payload needs gamma = 1/r with r a power of two (0.5, 0.25, 0.125, ...)",
            ));
        }
        payload_layout(p.payload_bits, radix, p.payload_code)?
    };
    let kgw = Kgw::new(
        variant,
        p.gamma,
        p.delta as f32,
        width,
        layout.radix,
        prf,
        vocab,
    );
    Ok((Engine::Kgw(kgw), layout))
}

impl Watermarker {
    /// Checks the key and prepares it for a vocabulary of `vocab_size` tokens.
    pub fn new(key: &WatermarkKey, vocab_size: usize) -> Result<Self, WatermarkError> {
        if let Some(binding) = &key.tokenizer
            && binding.vocab_size as usize != vocab_size
        {
            return Err(WatermarkError::VocabMismatch {
                key: binding.vocab_size,
                given: vocab_size,
            });
        }
        if vocab_size == 0 || vocab_size > u32::MAX as usize {
            return Err(WatermarkError::InvalidOption(
                "the vocabulary size must be at least 1".into(),
            ));
        }
        let prf = || key.secret_bytes().map(|s| Prf::new(&s));
        let (engine, layout) = match &key.config {
            SchemeConfig::KgwLeftHash(p) => kgw_engine(Variant::LeftHash, p, prf()?, vocab_size)?,
            SchemeConfig::KgwSelfHash(p) => kgw_engine(Variant::SelfHash, p, prf()?, vocab_size)?,
            SchemeConfig::Unigram(p) => kgw_engine(Variant::Unigram, p, prf()?, vocab_size)?,
            SchemeConfig::Gumbel(p) => {
                if !(1..=prf::MAX_CONTEXT).contains(&p.context_width) {
                    return Err(invalid("Gumbel's context_width must be 1 to 32"));
                }
                let layout = payload_layout(p.payload_bits, gumbel::RADIX, p.payload_code)?;
                let engine = Gumbel::new(p.context_width, layout.radix, prf()?);
                (Engine::Gumbel(engine), layout)
            }
            SchemeConfig::SynthId(p) => (Engine::SynthId(SynthId::new(p)?), Layout::ZERO_BIT),
            SchemeConfig::VllmGumbel(p) => (vllm_engine(Algorithm::Gumbel, p)?, Layout::ZERO_BIT),
            SchemeConfig::VllmDualKeyGumbel(p) => {
                (vllm_engine(Algorithm::DualKeyGumbel, p)?, Layout::ZERO_BIT)
            }
            SchemeConfig::SglangGumbel(p) => (
                Engine::Sglang(SglangConfig::from_params(p)?),
                Layout::ZERO_BIT,
            ),
        };
        Ok(Self {
            scheme: key.scheme(),
            key_id: key.key_id.clone(),
            parameters: public_parameters(key, &engine),
            engine,
            vocab_size,
            layout,
        })
    }

    pub fn scheme(&self) -> SchemeId {
        self.scheme
    }

    pub fn key_id(&self) -> &KeyId {
        &self.key_id
    }

    pub fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    /// Payload bits each generation carries (0: zero-bit).
    pub fn payload_bits(&self) -> u8 {
        self.layout.bits
    }

    /// Starts marking one generation after `prompt`, writing `payload` (payload keys
    /// write 0 when none is given).
    pub fn start(
        &self,
        prompt: &[u32],
        payload: Option<Payload>,
    ) -> Result<Generation<'_>, WatermarkError> {
        self.check_tokens(prompt)?;
        let value = match payload {
            None => 0,
            Some(_) if self.layout.bits == 0 => return Err(WatermarkError::PayloadUnsupported),
            Some(p) if p.bits() > self.layout.bits => {
                return Err(WatermarkError::PayloadTooWide {
                    got: p.bits(),
                    max: self.layout.bits,
                });
            }
            Some(p) => p.value(),
        };
        let synthid = match &self.engine {
            Engine::SynthId(s) => Some(s.new_marking_state()),
            _ => None,
        };
        let deployed = match &self.engine {
            Engine::Vllm { config, mapping } => {
                Some(Deployed::Vllm(VllmMarker::new(config, *mapping, prompt)))
            }
            Engine::Sglang(config) => Some(Deployed::Sglang(SglangMarker::new(
                config,
                prompt,
                sglang::MAX_CONTEXTS,
            ))),
            _ => None,
        };
        Ok(Generation {
            watermarker: MarkerRef::Borrowed(self),
            tokens: prompt.to_vec(),
            generated: 0,
            digits: self.layout.digits(value),
            seen: SeenSet::default(),
            prefix_entropy: 0.0,
            synthid,
            deployed,
        })
    }

    /// [`Self::start`] for a watermarker shared with the generation, which then borrows
    /// nothing (a generation held across calls from another language, say).
    pub fn start_shared(
        self: &Arc<Self>,
        prompt: &[u32],
        payload: Option<Payload>,
    ) -> Result<Generation<'static>, WatermarkError> {
        let generation = self.start(prompt, payload)?;
        Ok(Generation {
            watermarker: MarkerRef::Shared(Arc::clone(self)),
            ..generation
        })
    }

    fn check_tokens(&self, tokens: &[u32]) -> Result<(), WatermarkError> {
        match tokens.iter().position(|&t| t as usize >= self.vocab_size) {
            Some(index) => Err(WatermarkError::TokenOutOfVocab {
                token: tokens[index],
                index,
                vocab_size: self.vocab_size,
            }),
            None => Ok(()),
        }
    }

    fn check_options(&self, tokens: &[u32], opts: &DetectOptions) -> Result<(), WatermarkError> {
        let fpr = opts.false_positive_rate;
        if !(fpr > 0.0 && fpr < 1.0) {
            return Err(WatermarkError::InvalidOption(format!(
                "false-positive rate {fpr} is not in (0, 1)"
            )));
        }
        self.check_tokens(tokens)
    }

    /// The per-token observations of a token sequence (prompt included, not scored).
    fn observations(
        &self,
        tokens: &[u32],
        opts: &DetectOptions,
    ) -> Result<Observations, WatermarkError> {
        self.check_options(tokens, opts)?;
        let obs = match &self.engine {
            Engine::Kgw(k) => kgw_observations(k, self.layout, tokens, opts.prompt_len),
            Engine::Gumbel(g) => gumbel_observations(g, self.layout, tokens, opts.prompt_len),
            Engine::SynthId(s) => synthid_observations(s, tokens, opts),
            Engine::Vllm { config, mapping } => {
                vllm_observations(config, *mapping, tokens, opts.prompt_len)?
            }
            Engine::Sglang(config) => sglang_observations(config, tokens, opts.prompt_len)?,
        };
        if obs.is_empty() {
            return Err(WatermarkError::Empty {
                prompt_len: opts.prompt_len,
            });
        }
        Ok(obs)
    }

    fn evidence(&self, tokens: &[u32], opts: &DetectOptions) -> Result<Evidence, WatermarkError> {
        Ok(detect::decode(
            self.observations(tokens, opts)?,
            self.layout,
        ))
    }

    fn verdict(
        &self,
        p: PValue,
        opts: &DetectOptions,
        scored: u64,
        extra: serde_json::Value,
    ) -> Verdict {
        let mut parameters = self.parameters.clone();
        parameters["prompt_len"] = json!(opts.prompt_len);
        if let (Some(obj), Some(extra)) = (parameters.as_object_mut(), extra.as_object()) {
            obj.extend(extra.clone());
        }
        Verdict::decide(
            p,
            opts.false_positive_rate,
            self.scheme.as_str(),
            parameters,
            scored,
        )
    }

    /// Tests the whole sequence (after the prompt) for this key's watermark.
    pub fn detect(
        &self,
        tokens: &[u32],
        opts: &DetectOptions,
    ) -> Result<Detection, WatermarkError> {
        Ok(self.detection(&self.evidence(tokens, opts)?, tokens, opts))
    }

    /// Finds watermarked segments inside a longer sequence (see [`crate::detect`] for the
    /// window family and the correction). Segments are token index ranges; map them to
    /// byte ranges with [`detect::to_byte_segments`].
    pub fn detect_segments(
        &self,
        tokens: &[u32],
        opts: &DetectOptions,
    ) -> Result<Vec<TokenSegment>, WatermarkError> {
        Ok(self.segments(&self.evidence(tokens, opts)?, opts))
    }

    /// [`Self::detect`] and [`Self::detect_segments`] from one scoring pass.
    pub fn detect_with_segments(
        &self,
        tokens: &[u32],
        opts: &DetectOptions,
    ) -> Result<(Detection, Vec<TokenSegment>), WatermarkError> {
        let evidence = self.evidence(tokens, opts)?;
        Ok((
            self.detection(&evidence, tokens, opts),
            self.segments(&evidence, opts),
        ))
    }

    fn detection(&self, evidence: &Evidence, tokens: &[u32], opts: &DetectOptions) -> Detection {
        let verdict = self.verdict(
            PValue::from_ln(evidence.ln_p()),
            opts,
            evidence.len() as u64,
            json!({}),
        );
        let payload = (self.layout.bits > 0 && verdict.detected)
            .then(|| Payload::new(evidence.payload, self.layout.bits).ok())
            .flatten();
        let synthid = match &self.engine {
            Engine::SynthId(s) => {
                Some(s.score(&tokens[opts.prompt_len.min(tokens.len())..], opts.eos_token))
            }
            _ => None,
        };
        Detection {
            verdict,
            payload,
            mean_score: evidence.mean_score(),
            synthid,
        }
    }

    fn segments(&self, evidence: &Evidence, opts: &DetectOptions) -> Vec<TokenSegment> {
        let windows = detect::windows(evidence.len()).len();
        detect::segments(evidence, opts.false_positive_rate, |p, scored| {
            self.verdict(
                p,
                opts,
                scored,
                json!({"windows_searched": windows, "window_family": "32*2^i and 45*2^i, stride len/4, plus whole"}),
            )
        })
    }
}

/// A vLLM engine from a key's parameters.
fn vllm_engine(algorithm: Algorithm, p: &VllmParams) -> Result<Engine, WatermarkError> {
    Ok(Engine::Vllm {
        config: VllmConfig::from_params(algorithm, p)?,
        mapping: p.mapping,
    })
}

/// The parameters a verdict shows: everything needed to repeat the test except secrets.
fn public_parameters(key: &WatermarkKey, engine: &Engine) -> serde_json::Value {
    let mut p = match &key.config {
        SchemeConfig::KgwLeftHash(k) | SchemeConfig::KgwSelfHash(k) | SchemeConfig::Unigram(k) => {
            json!({"gamma": k.gamma, "delta": k.delta, "context_width": k.context_width,
                   "payload_bits": k.payload_bits, "payload_code": k.payload_code,
                   "prf": "tracemark-prf-v1"})
        }
        SchemeConfig::Gumbel(g) => json!({"context_width": g.context_width,
                   "payload_bits": g.payload_bits, "payload_code": g.payload_code,
                   "prf": "tracemark-prf-v1"}),
        SchemeConfig::SynthId(s) => {
            json!({"ngram_len": s.ngram_len, "depth": s.keys.expose().len(),
                   "sampling_table_size": s.sampling_table_size,
                   "context_history_size": s.context_history_size, "score": "mean, exact binomial"})
        }
        SchemeConfig::VllmGumbel(_)
        | SchemeConfig::VllmDualKeyGumbel(_)
        | SchemeConfig::SglangGumbel(_) => deployed_parameters(engine),
    };
    p["key_id"] = json!(key.key_id);
    p
}

/// A deployed scheme's verdict parameters: the upstream detector's (vLLM's with its
/// document dedup), with its method id as `upstream_method`.
fn deployed_parameters(engine: &Engine) -> serde_json::Value {
    match engine {
        Engine::Vllm { config, mapping } => {
            let mut p = config.parameters(*mapping, Dedup::Document, 0);
            p["upstream_method"] = json!(vllm::method(config, *mapping));
            p
        }
        Engine::Sglang(config) => {
            let dual = config.key_b().is_some();
            json!({"context_window": config.context_window, "dual_key": dual,
                   "mixing_probability": dual.then_some(config.mixing_probability),
                   "max_contexts": sglang::MAX_CONTEXTS, "upstream_method": sglang::METHOD})
        }
        // Only deployed keys make deployed engines.
        Engine::Kgw(_) | Engine::Gumbel(_) | Engine::SynthId(_) => json!({}),
    }
}

/// vLLM's scored tokens as its detector picks them (`Dedup::Document`: a context seen
/// before in the text is not scored again), prompt excluded.
fn vllm_observations(
    config: &VllmConfig,
    mapping: Mapping,
    tokens: &[u32],
    prompt_len: usize,
) -> Result<Observations, WatermarkError> {
    let options = vllm::DetectOptions {
        prompt_len,
        dedup: Dedup::Document,
        ..vllm::DetectOptions::default()
    };
    let scores = vllm::score_tokens(config, mapping, tokens, &options)?;
    let null = match config.algorithm {
        Algorithm::Gumbel => Null::Exponential,
        Algorithm::DualKeyGumbel => Null::DualKeyExponential {
            alpha: config.alpha,
        },
    };
    Ok(single_slot(null, scores.positions, scores.scores))
}

/// SGLang's scored tokens as its detector picks them: the first `prompt_len` tokens are
/// the prompt ids (none: the first `context_window` tokens only give context).
fn sglang_observations(
    config: &SglangConfig,
    tokens: &[u32],
    prompt_len: usize,
) -> Result<Observations, WatermarkError> {
    if prompt_len > tokens.len() {
        return Err(WatermarkError::Empty { prompt_len });
    }
    let (prompt, completion) = tokens.split_at(prompt_len);
    let given = (!prompt.is_empty()).then_some(prompt);
    let scores = sglang::score_tokens(config, given, completion, sglang::MAX_CONTEXTS)?;
    let index = scores.positions.iter().map(|i| i + prompt_len).collect();
    Ok(single_slot(Null::Exponential, index, scores.scores))
}

/// Zero-bit observations: one slot, one score each.
fn single_slot(null: Null, index: Vec<usize>, scores: Vec<f64>) -> Observations {
    Observations {
        null,
        radix: 1,
        slot: vec![0; index.len()],
        index,
        scores,
    }
}

fn kgw_observations(k: &Kgw, layout: Layout, tokens: &[u32], prompt_len: usize) -> Observations {
    let zero_bit = layout.bits == 0;
    let null_p = if zero_bit {
        k.gamma
    } else {
        1.0 / f64::from(layout.radix)
    };
    let scored = tokens.len().saturating_sub(prompt_len);
    let null = Null::Binomial {
        p: null_p,
        trials: 1,
    };
    let mut obs = Observations::with_capacity(null, layout.radix, scored);
    let slots = layout.slots();
    let mut seen = SeenSet::with_capacity(scored);
    for i in prompt_len.max(k.context_len())..tokens.len() {
        let pos = k.position_seed(&tokens[..i]);
        let word = k.word(&pos, tokens[i]);
        if !seen.insert(word) {
            continue;
        }
        let colour = k.colour(word);
        obs.index.push(i);
        obs.slot.push(if zero_bit {
            0
        } else {
            prf::slot(pos.slot_seed, slots)
        });
        if zero_bit {
            obs.scores.push(f64::from(u8::from(colour == 0)));
        } else {
            obs.scores
                .extend((0..layout.radix).map(|d| f64::from(u8::from(colour == d))));
        }
    }
    obs
}

fn gumbel_observations(
    g: &Gumbel,
    layout: Layout,
    tokens: &[u32],
    prompt_len: usize,
) -> Observations {
    let scored = tokens.len().saturating_sub(prompt_len);
    let mut obs = Observations::with_capacity(Null::Exponential, layout.radix, scored);
    let slots = layout.slots();
    let mut seen = SeenSet::with_capacity(scored);
    // The first `width` generated tokens are sampled unmarked (see `crate::gumbel`).
    for i in prompt_len + g.width..tokens.len() {
        let seed = g.seed(&tokens[..i]);
        if !seen.insert(seed) {
            continue;
        }
        obs.index.push(i);
        obs.slot.push(prf::slot(seed, slots));
        for d in 0..layout.radix {
            obs.scores.push(Gumbel::score(seed, tokens[i], d));
        }
    }
    obs
}

fn synthid_observations(s: &SynthId, tokens: &[u32], opts: &DetectOptions) -> Observations {
    let null = Null::Binomial {
        p: s.null_probability(),
        trials: s.depth() as u32,
    };
    let mut obs = Observations::with_capacity(null, 1, tokens.len());
    let start = opts.prompt_len.min(tokens.len());
    for (i, ones) in s.evidence(&tokens[start..], opts.eos_token) {
        obs.index.push(start + i);
        obs.slot.push(0);
        obs.scores.push(f64::from(ones));
    }
    obs
}

/// The set of (context, token) words or context seeds already scored. They are uniform
/// 64-bit PRF outputs, so they serve as their own hash.
#[derive(Debug, Clone, Default)]
struct SeenSet(HashSet<u64, IdentityHash>);

impl SeenSet {
    fn with_capacity(n: usize) -> Self {
        Self(HashSet::with_capacity_and_hasher(n, IdentityHash))
    }

    /// Adds `x`; true when it was not in the set.
    fn insert(&mut self, x: u64) -> bool {
        self.0.insert(x)
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct IdentityHash;

impl std::hash::BuildHasher for IdentityHash {
    type Hasher = IdentityHasher;
    fn build_hasher(&self) -> IdentityHasher {
        IdentityHasher(0)
    }
}

#[derive(Debug)]
struct IdentityHasher(u64);

impl std::hash::Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// The watermarker a generation marks with: borrowed, or shared by reference count.
#[derive(Debug)]
enum MarkerRef<'a> {
    Borrowed(&'a Watermarker),
    Shared(Arc<Watermarker>),
}

impl Deref for MarkerRef<'_> {
    type Target = Watermarker;

    fn deref(&self) -> &Watermarker {
        match self {
            MarkerRef::Borrowed(w) => w,
            MarkerRef::Shared(w) => w,
        }
    }
}

/// One generation being marked.
#[derive(Debug)]
pub struct Generation<'a> {
    watermarker: MarkerRef<'a>,
    /// Prompt and accepted tokens.
    tokens: Vec<u32>,
    generated: usize,
    digits: Vec<u32>,
    /// Gumbel: contexts already used (repeated-context masking).
    seen: SeenSet,
    /// Gumbel: entropy (nats) of the unmarked prefix sampled so far.
    prefix_entropy: f64,
    /// SynthID: the reference's context history and the tournament's arrays.
    synthid: Option<MarkingState>,
    /// vLLM and SGLang: the upstream marker's state (dedup history, context).
    deployed: Option<Deployed>,
}

/// The state of a deployed scheme's generation.
#[derive(Debug)]
enum Deployed {
    Vllm(VllmMarker),
    Sglang(SglangMarker),
}

impl Deployed {
    /// The upstream sampler's choice on the loop's warped `logits`, or the logits
    /// untouched where the upstream leaves the step unmarked (vLLM: a repeated context
    /// under `deduplicate_contexts`, the first `w` tokens under `"all"`; SGLang: the
    /// entropy gate, a context already marked, the 4,096-context budget spent).
    fn step(&mut self, logits: &[f32]) -> Result<Decision, WatermarkError> {
        match self {
            Deployed::Vllm(marker) => {
                if !marker.next_marked() {
                    return Ok(Decision::Logits);
                }
                let probs = probabilities(logits)?;
                marker
                    .choose(&probs, marker.keyed_route())
                    .map(Decision::Token)
                    .ok_or(WatermarkError::NoFiniteLogit)
            }
            Deployed::Sglang(marker) => {
                let probs = probabilities(logits)?;
                Ok(marker
                    .marked_choice(&probs)?
                    .map_or(Decision::Logits, Decision::Token))
            }
        }
    }

    fn accept(&mut self, token: u32) {
        match self {
            Deployed::Vllm(marker) => marker.push(token),
            Deployed::Sglang(marker) => marker.push(token),
        }
    }
}

/// The distribution the loop would sample from `logits` (already through its
/// temperature, top-k and top-p): softmax in f64 over the finite logits, as the stacks'
/// samplers renormalise the filtered distribution before their watermark picks.
fn probabilities(logits: &[f32]) -> Result<Vec<f64>, WatermarkError> {
    let max = logits
        .iter()
        .copied()
        .filter(|l| l.is_finite())
        .reduce(f32::max)
        .ok_or(WatermarkError::NoFiniteLogit)?;
    let weights: Vec<f64> = logits
        .iter()
        .map(|&l| {
            if l.is_finite() {
                f64::from(l - max).exp()
            } else {
                0.0
            }
        })
        .collect();
    let total: f64 = weights.iter().sum();
    Ok(weights.into_iter().map(|w| w / total).collect())
}

impl Generation<'_> {
    fn digit(&self, slot_seed: u64) -> u32 {
        self.digits[prf::slot(slot_seed, self.watermarker.layout.slots()) as usize]
    }

    /// SynthID's context: the last n-1 generated tokens, zeros before the first.
    fn synthid_context(&self, n: usize) -> Vec<u32> {
        let generated = &self.tokens[self.tokens.len() - self.generated..];
        let take = generated.len().min(n - 1);
        let mut ctx = vec![0; n - 1 - take];
        ctx.extend_from_slice(&generated[generated.len() - take..]);
        ctx
    }
}

impl WatermarkSampler for Generation<'_> {
    fn step(&mut self, logits: &mut [f32]) -> Result<Decision, WatermarkError> {
        let wm = &*self.watermarker;
        if logits.len() != wm.vocab_size {
            return Err(WatermarkError::LogitsLength {
                expected: wm.vocab_size,
                got: logits.len(),
            });
        }
        match &wm.engine {
            Engine::Kgw(k) => {
                if self.tokens.len() >= k.context_len() {
                    let pos = k.position_seed(&self.tokens);
                    k.bias(&pos, self.digit(pos.slot_seed), logits);
                }
                Ok(Decision::Logits)
            }
            Engine::Gumbel(g) => {
                if self.generated < g.width
                    || self.tokens.len() < g.width
                    || (self.prefix_entropy < gumbel::PREFIX_ENTROPY
                        && self.generated < gumbel::MAX_PREFIX)
                {
                    self.prefix_entropy += gumbel::entropy(logits);
                    return Ok(Decision::Logits);
                }
                let seed = g.seed(&self.tokens);
                if !self.seen.insert(seed) {
                    return Ok(Decision::Logits);
                }
                Gumbel::choose(seed, self.digit(seed), logits)
                    .map(Decision::Token)
                    .ok_or(WatermarkError::NoFiniteLogit)
            }
            Engine::SynthId(s) => {
                let ctx = self.synthid_context(s.ngram_len());
                let state = self.synthid.as_mut();
                s.reweight(&ctx, state.expect("start gives SynthID its state"), logits);
                Ok(Decision::Logits)
            }
            Engine::Vllm { .. } | Engine::Sglang(_) => self
                .deployed
                .as_mut()
                .expect("start gives deployed schemes their state")
                .step(logits),
        }
    }

    fn accept(&mut self, token: u32) -> Result<(), WatermarkError> {
        if token as usize >= self.watermarker.vocab_size {
            return Err(WatermarkError::TokenOutOfVocab {
                token,
                index: self.tokens.len(),
                vocab_size: self.watermarker.vocab_size,
            });
        }
        self.tokens.push(token);
        self.generated += 1;
        if let Some(deployed) = &mut self.deployed {
            deployed.accept(token);
        }
        Ok(())
    }
}
