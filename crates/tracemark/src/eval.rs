//! `tracemark eval watermark`: every scheme measured on a real model.
//!
//! For each scheme a fresh key (drawn from the run's seed) marks `samples` generations; the same prompts and seeds
//! without a watermark give the unmarked texts. The table reports:
//!
//! - **detection** (true-positive rate at false-positive rates 1e-2 and 1e-3) at 50, 100
//!   and 200 generated tokens, and at 200 tokens after substituting 10% or 30% of the
//!   tokens with random ones, or deleting 10%;
//! - **pasting**: 200 marked tokens inserted into 600 unmarked ones, found by windowed
//!   detection when a significant segment overlaps them (with the overlap's IoU);
//! - **calibration**: the measured false-positive rate on the unmarked texts, pooled over
//!   `keys` fresh keys, next to the claimed rate, for whole-text and windowed detection;
//! - **quality**: perplexity of marked and unmarked text under the model itself
//!   (temperature 1), and the share of distinct 4-grams over 20 generations from one
//!   prompt with different seeds (Gumbel-max alone would give one text per prompt);
//! - **cost**: detection tokens/s on one core (token ids, 100,000 of them) and the time
//!   the watermark adds to a generation step, relative to the model's own time;
//! - **payload recovery** for KGW-SelfHash and Gumbel keys of 8, 16 and 24 bits at 200,
//!   400 and 800 tokens, with the convolutional code (the default) and without: detected
//!   at 1e-3 with the written payload decoded.
//!
//! The model's context is short (512 tokens for tinystories-260k), so texts longer than
//! [`CHUNK`] tokens are several generations from different prompts, concatenated, each
//! marked with the same key and payload: a long document written in several requests.
//! Generations do not stop at end-of-sequence, so every text has its nominal length.

use std::{
    collections::HashSet,
    path::Path,
    time::{Duration, Instant},
};

use serde::Serialize;
use tracemark_core::Payload;
use tracemark_lm::{
    LoadedModel,
    sampling::{self, SamplingParams, SeededRng},
};
use tracemark_watermark::{
    PayloadCode, SchemeId, WatermarkError, WatermarkKey,
    watermarker::{Decision, DetectOptions, Unmarked, WatermarkSampler, Watermarker},
};

use crate::{
    error::{Error, Result},
    keygen::SeededKeyRng,
};

/// The false-positive rates every rate is reported at.
pub const FPRS: [f64; 2] = [1e-2, 1e-3];
/// The longest single generation; longer texts are concatenated generations.
pub const CHUNK: usize = 400;
const LENGTHS: [usize; 3] = [50, 100, 200];
const PAYLOAD_BITS: [u8; 3] = [8, 16, 24];
const PAYLOAD_LENGTHS: [usize; 3] = [200, 400, 800];
const PAYLOAD_SCHEMES: [SchemeId; 2] = [SchemeId::KgwSelfHash, SchemeId::Gumbel];
const PAYLOAD_CODES: [PayloadCode; 2] = [PayloadCode::ConvolutionalK7, PayloadCode::None];
const DIVERSITY_GENERATIONS: u64 = 20;
const DIVERSITY_TOKENS: usize = 100;
const SPEED_TOKENS: usize = 100_000;

/// Story openings in the model's domain; sample `i` starts from prompt `i mod 12`.
const PROMPTS: [&str; 12] = [
    "Once upon a time",
    "One day, a little girl named Lily",
    "Tom and his dog went to the park",
    "There was a big red ball",
    "The sun was shining and the birds",
    "Sara wanted to bake a cake",
    "A small cat lived in a house",
    "Ben found a shiny stone",
    "It was a rainy day and Mia",
    "The old tree in the garden",
    "Max liked to play with his truck",
    "Once there was a happy frog",
];

/// What to evaluate.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    /// Generations per measurement.
    pub samples: usize,
    /// Fresh keys pooled for the false-positive calibration.
    pub keys: usize,
    /// Seeds the keys, the attacks and the positions (generation seeds are the sample
    /// numbers): one seed, one table, but for the timings.
    pub seed: u64,
    /// The schemes to measure (empty: all of them).
    pub schemes: Vec<SchemeId>,
}

impl EvalOptions {
    fn includes(&self, scheme: SchemeId) -> bool {
        self.schemes.is_empty() || self.schemes.contains(&scheme)
    }
}

impl Default for EvalOptions {
    fn default() -> Self {
        Self {
            samples: 100,
            keys: 100,
            seed: 1,
            schemes: Vec::new(),
        }
    }
}

/// Detection rates at each of [`FPRS`].
#[derive(Debug, Clone, Serialize)]
pub struct Rates {
    pub condition: String,
    pub tokens: usize,
    /// Fraction detected at 1e-2 and at 1e-3.
    pub at_1e2: f64,
    pub at_1e3: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Paste {
    /// Fraction of texts where a significant segment overlaps the marked tokens.
    pub found_at_1e2: f64,
    pub found_at_1e3: f64,
    /// Mean intersection-over-union of the best overlapping segment (at 1e-3, found only).
    pub mean_iou: f64,
    /// Fraction whose whole 800 tokens test positive at 1e-3.
    pub whole_text_at_1e3: f64,
}

/// Measured false-positive rate next to the claimed one.
#[derive(Debug, Clone, Serialize)]
pub struct Calibration {
    /// The keys' payload width (0: zero-bit).
    pub payload_bits: u8,
    pub claimed: f64,
    pub tests: usize,
    pub false_positives: usize,
    pub observed: f64,
    /// observed / claimed (exact tests may be conservative: at most 1 in expectation).
    pub ratio: f64,
    /// The same for windowed detection (any segment reported).
    pub windowed_false_positives: usize,
    pub windowed_ratio: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SchemeEval {
    pub scheme: SchemeId,
    pub detection: Vec<Rates>,
    pub paste: Paste,
    pub calibration: Vec<Calibration>,
    pub perplexity: f64,
    pub distinct_4grams: f64,
    pub detect_tokens_per_s: f64,
    /// Watermark time per generation step, and as a share of the model's step time.
    pub watermark_us_per_step: f64,
    pub generation_slowdown: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PayloadCell {
    pub scheme: SchemeId,
    pub code: PayloadCode,
    pub bits: u8,
    pub tokens: usize,
    /// Detected at 1e-3 with the written payload decoded.
    pub recovered: f64,
    pub detected: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct WatermarkEval {
    pub model: String,
    pub vocab_size: usize,
    pub samples: usize,
    pub calibration_keys: usize,
    pub unmarked_perplexity: f64,
    pub unmarked_distinct_4grams: f64,
    pub model_ms_per_step: f64,
    pub schemes: Vec<SchemeEval>,
    pub payload: Vec<PayloadCell>,
    pub seconds: f64,
}

/// The keys of one measurement: drawn from the run's seed, apart for each scheme and
/// purpose, so that a cell's keys do not depend on which other schemes are measured.
fn key_rng(options: &EvalOptions, scheme: SchemeId, purpose: &str) -> SeededKeyRng {
    SeededKeyRng::new(
        &format!("eval watermark: {} {purpose}", scheme.as_str()),
        options.seed,
    )
}

/// Runs the whole evaluation on the model at `model`.
pub fn watermark(
    model: &Path,
    options: &EvalOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<WatermarkEval> {
    let started = Instant::now();
    let mut lm = Generator::open(model)?;
    let n = options.samples.max(1);
    let vocab = lm.vocab;
    let mut rng = SeededRng::new(options.seed);

    progress("unmarked texts");
    let unmarked: Vec<Vec<u32>> = (0..n as u64)
        .map(|s| lm.text(None, s, 600))
        .collect::<Result<_>>()?;
    let clean: Vec<&[u32]> = unmarked.iter().map(|t| &t[..200]).collect();
    let unmarked_perplexity = lm.perplexity(&clean)?;
    let unmarked_distinct_4grams = lm.diversity(None)?;
    let model_ms_per_step = lm.model_time.as_secs_f64() * 1e3 / lm.steps as f64;

    let mut schemes = Vec::new();
    for scheme in SchemeId::ALL.into_iter().filter(|s| options.includes(*s)) {
        progress(scheme.as_str());
        let key = WatermarkKey::generate(scheme, &mut key_rng(options, scheme, "marking"));
        let wm = Watermarker::new(&key, vocab)?;
        lm.reset_clocks();
        let marked: Vec<Vec<u32>> = (0..n as u64)
            .map(|s| lm.text(Some((&wm, None)), s, 200))
            .collect::<Result<_>>()?;
        let watermark_us_per_step = lm.mark_time.as_secs_f64() * 1e6 / lm.steps as f64;
        let generation_slowdown = lm.mark_time.as_secs_f64() / lm.model_time.as_secs_f64();
        let refs: Vec<&[u32]> = marked.iter().map(Vec::as_slice).collect();
        schemes.push(SchemeEval {
            scheme,
            detection: detection_rates(&wm, &marked, vocab, &mut rng)?,
            paste: paste(&wm, &marked, &unmarked, &mut rng)?,
            calibration: calibration(scheme, 0, options, vocab, &clean)?,
            perplexity: lm.perplexity(&refs)?,
            distinct_4grams: lm.diversity(Some(&wm))?,
            detect_tokens_per_s: detection_speed(&wm, vocab)?,
            watermark_us_per_step,
            generation_slowdown,
        });
    }

    let mut payload = Vec::new();
    for scheme in PAYLOAD_SCHEMES.into_iter().filter(|s| options.includes(*s)) {
        for code in PAYLOAD_CODES {
            for bits in PAYLOAD_BITS {
                progress(&format!(
                    "{} with a {bits}-bit payload, code {}",
                    scheme.as_str(),
                    code.as_str()
                ));
                let purpose = format!("{bits}-bit payload, code {}", code.as_str());
                let mut draws = key_rng(options, scheme, &purpose);
                let key = WatermarkKey::generate_with_payload(scheme, bits, &mut draws)
                    .with_payload_code(code);
                let wm = Watermarker::new(&key, vocab)?;
                payload.extend(payload_recovery(&mut lm, &wm, code, n, &mut rng)?);
            }
        }
        // The default code's p-values; an uncoded key's test is the same union bound.
        for bits in PAYLOAD_BITS {
            let calibrated = calibration(scheme, bits, options, vocab, &clean)?;
            if let Some(entry) = schemes.iter_mut().find(|s| s.scheme == scheme) {
                entry.calibration.extend(calibrated);
            }
        }
    }

    Ok(WatermarkEval {
        model: lm.name.clone(),
        vocab_size: vocab,
        samples: n,
        calibration_keys: options.keys,
        unmarked_perplexity,
        unmarked_distinct_4grams,
        model_ms_per_step,
        schemes,
        payload,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The model, its prompts, and clocks for the model's and the watermark's time.
struct Generator {
    loaded: LoadedModel,
    name: String,
    vocab: usize,
    prompts: Vec<Vec<u32>>,
    model_time: Duration,
    mark_time: Duration,
    steps: u64,
}

type Marking<'a> = Option<(&'a Watermarker, Option<Payload>)>;

impl Generator {
    fn open(path: &Path) -> Result<Self> {
        let loaded = tracemark_lm::load(path)?;
        let tokenizer = loaded.tokenizer.as_ref();
        let prompts = PROMPTS
            .iter()
            .map(|p| {
                let mut ids: Vec<u32> = tokenizer.bos().into_iter().collect();
                ids.extend(tokenizer.encode(p)?.into_iter().map(|(id, _)| id));
                Ok(ids)
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            name: loaded.name.clone(),
            vocab: tokenizer.vocab_size(),
            loaded,
            prompts,
            model_time: Duration::ZERO,
            mark_time: Duration::ZERO,
            steps: 0,
        })
    }

    fn reset_clocks(&mut self) {
        self.model_time = Duration::ZERO;
        self.mark_time = Duration::ZERO;
        self.steps = 0;
    }

    fn prompt(&self, sample: u64, chunk: u64) -> &[u32] {
        &self.prompts[((sample + chunk) % self.prompts.len() as u64) as usize]
    }

    /// `len` tokens of sample `sample`: generations of at most [`CHUNK`] tokens, each from
    /// its own prompt, concatenated.
    fn text(&mut self, marking: Marking<'_>, sample: u64, len: usize) -> Result<Vec<u32>> {
        let mut out = Vec::with_capacity(len);
        for chunk in 0.. {
            if out.len() >= len {
                break;
            }
            let want = (len - out.len()).min(CHUNK);
            let generated = self.generate(marking, sample, chunk, want)?;
            if generated.is_empty() {
                return Err(Error::usage(
                    format!("{} generates nothing after its prompts", self.name),
                    Some("evaluate a model whose context is longer than a sentence".into()),
                ));
            }
            out.extend(generated);
        }
        Ok(out)
    }

    fn generate(
        &mut self,
        marking: Marking<'_>,
        sample: u64,
        chunk: u64,
        tokens: usize,
    ) -> Result<Vec<u32>> {
        let prompt = self.prompt(sample, chunk).to_vec();
        let params = SamplingParams {
            seed: sample * 1_000 + chunk,
            max_tokens: tokens,
            ..SamplingParams::default()
        };
        let mut unmarked = Unmarked;
        let mut generation;
        let inner: &mut dyn WatermarkSampler = match marking {
            None => &mut unmarked,
            Some((wm, payload)) => {
                generation = wm.start(&prompt, payload)?;
                &mut generation
            }
        };
        let mut timed = Timed {
            inner,
            spent: Duration::ZERO,
        };
        let started = Instant::now();
        let out = sampling::generate(
            self.loaded.model.as_mut(),
            &prompt,
            &params,
            &mut timed,
            |_| {},
        )?;
        self.model_time += started.elapsed().saturating_sub(timed.spent);
        self.mark_time += timed.spent;
        self.steps += out.len() as u64;
        Ok(out)
    }

    /// Perplexity under the model itself of single-generation texts (sample `i` was
    /// generated after prompt `i`).
    fn perplexity(&mut self, texts: &[&[u32]]) -> Result<f64> {
        let (mut nll, mut count) = (0.0, 0usize);
        for (sample, text) in texts.iter().enumerate() {
            let mut context = self.prompt(sample as u64, 0).to_vec();
            for &token in text.iter().take(CHUNK) {
                let logits = self.loaded.model.next_token_logits(&context)?;
                nll -= log_softmax_at(&logits, token as usize);
                count += 1;
                context.push(token);
            }
        }
        Ok((nll / count.max(1) as f64).exp())
    }

    /// Distinct 4-grams over all 4-grams of 20 generations from the first prompt.
    fn diversity(&mut self, wm: Option<&Watermarker>) -> Result<f64> {
        let mut grams = HashSet::new();
        let mut total = 0usize;
        for seed in 0..DIVERSITY_GENERATIONS {
            let marking = wm.map(|w| (w, None));
            // Sample numbers that are multiples of the prompt count keep the first prompt.
            let sample = seed * self.prompts.len() as u64;
            let text = self.generate(marking, sample, 0, DIVERSITY_TOKENS)?;
            for gram in text.windows(4) {
                grams.insert(gram.to_vec());
                total += 1;
            }
        }
        Ok(grams.len() as f64 / total.max(1) as f64)
    }
}

/// A watermark sampler that keeps the time spent in it.
struct Timed<'a> {
    inner: &'a mut dyn WatermarkSampler,
    spent: Duration,
}

impl WatermarkSampler for Timed<'_> {
    fn step(&mut self, logits: &mut [f32]) -> std::result::Result<Decision, WatermarkError> {
        let started = Instant::now();
        let decision = self.inner.step(logits);
        self.spent += started.elapsed();
        decision
    }

    fn accept(&mut self, token: u32) -> std::result::Result<(), WatermarkError> {
        let started = Instant::now();
        let accepted = self.inner.accept(token);
        self.spent += started.elapsed();
        accepted
    }
}

fn log_softmax_at(logits: &[f32], index: usize) -> f64 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let sum: f64 = logits.iter().map(|&l| (l as f64 - max).exp()).sum();
    logits[index] as f64 - max - sum.ln()
}

fn ln_p(wm: &Watermarker, tokens: &[u32]) -> Result<f64> {
    Ok(wm
        .detect(tokens, &DetectOptions::new(FPRS[0]))?
        .verdict
        .p_value
        .ln())
}

/// Fractions of `ln_ps` at or below each of [`FPRS`].
fn rates(condition: &str, tokens: usize, ln_ps: &[f64]) -> Rates {
    let share = |alpha: f64| {
        ln_ps.iter().filter(|&&l| l <= alpha.ln()).count() as f64 / ln_ps.len().max(1) as f64
    };
    Rates {
        condition: condition.to_owned(),
        tokens,
        at_1e2: share(FPRS[0]),
        at_1e3: share(FPRS[1]),
    }
}

fn detection_rates(
    wm: &Watermarker,
    marked: &[Vec<u32>],
    vocab: usize,
    rng: &mut SeededRng,
) -> Result<Vec<Rates>> {
    let mut out = Vec::new();
    for len in LENGTHS {
        let ps: Vec<f64> = marked
            .iter()
            .map(|t| ln_p(wm, &t[..len]))
            .collect::<Result<_>>()?;
        out.push(rates("clean", len, &ps));
    }
    let attacks: [(&str, Attack); 3] = [
        ("10% substituted", |t, v, r| substitute(t, 0.1, v, r)),
        ("30% substituted", |t, v, r| substitute(t, 0.3, v, r)),
        ("10% deleted", |t, _, r| delete(t, 0.1, r)),
    ];
    for (name, attack) in attacks {
        let ps: Vec<f64> = marked
            .iter()
            .map(|t| ln_p(wm, &attack(t, vocab, rng)))
            .collect::<Result<_>>()?;
        out.push(rates(name, 200, &ps));
    }
    Ok(out)
}

/// An edit of a marked text: tokens, vocabulary size, randomness.
type Attack = fn(&[u32], usize, &mut SeededRng) -> Vec<u32>;

/// `positions` distinct indices below `n`, in random order (partial Fisher-Yates).
fn pick(n: usize, positions: usize, rng: &mut SeededRng) -> Vec<usize> {
    let mut all: Vec<usize> = (0..n).collect();
    for i in 0..positions.min(n) {
        let j = i + (rng.next_u64() % (n - i) as u64) as usize;
        all.swap(i, j);
    }
    all.truncate(positions.min(n));
    all
}

/// Replaces `share` of the tokens, each by a different uniformly random token.
fn substitute(tokens: &[u32], share: f64, vocab: usize, rng: &mut SeededRng) -> Vec<u32> {
    let mut out = tokens.to_vec();
    for i in pick(
        tokens.len(),
        (share * tokens.len() as f64).round() as usize,
        rng,
    ) {
        let shift = 1 + rng.next_u64() % (vocab as u64 - 1).max(1);
        out[i] = ((u64::from(out[i]) + shift) % vocab as u64) as u32;
    }
    out
}

/// Deletes `share` of the tokens.
fn delete(tokens: &[u32], share: f64, rng: &mut SeededRng) -> Vec<u32> {
    let gone: HashSet<usize> = pick(
        tokens.len(),
        (share * tokens.len() as f64).round() as usize,
        rng,
    )
    .into_iter()
    .collect();
    (0..tokens.len())
        .filter(|i| !gone.contains(i))
        .map(|i| tokens[i])
        .collect()
}

/// 200 marked tokens pasted at a random place into 600 unmarked ones.
fn paste(
    wm: &Watermarker,
    marked: &[Vec<u32>],
    unmarked: &[Vec<u32>],
    rng: &mut SeededRng,
) -> Result<Paste> {
    let (mut found, mut whole, mut iou_sum) = ([0usize; 2], 0usize, 0.0);
    for (m, u) in marked.iter().zip(unmarked) {
        let at = (rng.next_u64() % 601) as usize;
        let mut text = u[..at].to_vec();
        text.extend_from_slice(&m[..200]);
        text.extend_from_slice(&u[at..600]);
        let truth = at..at + 200;
        for (k, &alpha) in FPRS.iter().enumerate() {
            let (detection, segments) =
                wm.detect_with_segments(&text, &DetectOptions::new(alpha))?;
            let best = segments
                .iter()
                .map(|s| {
                    let inter = s
                        .tokens
                        .end
                        .min(truth.end)
                        .saturating_sub(s.tokens.start.max(truth.start));
                    let union = s.tokens.end.max(truth.end) - s.tokens.start.min(truth.start);
                    inter as f64 / union as f64
                })
                .fold(0.0, f64::max);
            if best > 0.0 {
                found[k] += 1;
                if k == 1 {
                    iou_sum += best;
                }
            }
            if k == 1 && detection.verdict.detected {
                whole += 1;
            }
        }
    }
    let n = marked.len().max(1) as f64;
    Ok(Paste {
        found_at_1e2: found[0] as f64 / n,
        found_at_1e3: found[1] as f64 / n,
        mean_iou: iou_sum / found[1].max(1) as f64,
        whole_text_at_1e3: whole as f64 / n,
    })
}

/// The false-positive rate on unmarked texts, pooled over `options.keys` fresh keys.
fn calibration(
    scheme: SchemeId,
    bits: u8,
    options: &EvalOptions,
    vocab: usize,
    unmarked: &[&[u32]],
) -> Result<Vec<Calibration>> {
    let mut whole = [0usize; 2];
    let mut windowed = [0usize; 2];
    let keys = options.keys;
    let mut draws = key_rng(options, scheme, &format!("{bits}-bit calibration"));
    for _ in 0..keys {
        let key = WatermarkKey::generate_with_payload(scheme, bits, &mut draws);
        let wm = Watermarker::new(&key, vocab)?;
        for text in unmarked {
            for (k, &alpha) in FPRS.iter().enumerate() {
                let (detection, segments) =
                    wm.detect_with_segments(text, &DetectOptions::new(alpha))?;
                whole[k] += usize::from(detection.verdict.detected);
                windowed[k] += usize::from(!segments.is_empty());
            }
        }
    }
    let tests = keys * unmarked.len();
    Ok(FPRS
        .iter()
        .enumerate()
        .map(|(k, &claimed)| {
            let observed = whole[k] as f64 / tests.max(1) as f64;
            Calibration {
                payload_bits: bits,
                claimed,
                tests,
                false_positives: whole[k],
                observed,
                ratio: observed / claimed,
                windowed_false_positives: windowed[k],
                windowed_ratio: windowed[k] as f64 / tests.max(1) as f64 / claimed,
            }
        })
        .collect())
}

/// Tokens/s of whole-text detection on one core, over random token ids.
fn detection_speed(wm: &Watermarker, vocab: usize) -> Result<f64> {
    let mut rng = SeededRng::new(7);
    let tokens: Vec<u32> = (0..SPEED_TOKENS)
        .map(|_| (rng.next_u64() % vocab as u64) as u32)
        .collect();
    let options = DetectOptions::new(FPRS[1]);
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let started = Instant::now();
        std::hint::black_box(wm.detect(&tokens, &options)?);
        best = best.min(started.elapsed().as_secs_f64());
    }
    Ok(SPEED_TOKENS as f64 / best)
}

/// Recovery of random payloads at each length, from texts of the longest length.
fn payload_recovery(
    lm: &mut Generator,
    wm: &Watermarker,
    code: PayloadCode,
    samples: usize,
    rng: &mut SeededRng,
) -> Result<Vec<PayloadCell>> {
    let bits = wm.payload_bits();
    let longest = PAYLOAD_LENGTHS[PAYLOAD_LENGTHS.len() - 1];
    let mut recovered = [0usize; PAYLOAD_LENGTHS.len()];
    let mut detected = [0usize; PAYLOAD_LENGTHS.len()];
    for sample in 0..samples as u64 {
        let written = Payload::new(rng.next_u64() & ((1u64 << bits) - 1), bits)?;
        let text = lm.text(Some((wm, Some(written))), sample, longest)?;
        for (k, &len) in PAYLOAD_LENGTHS.iter().enumerate() {
            let found = wm.detect(&text[..len], &DetectOptions::new(FPRS[1]))?;
            detected[k] += usize::from(found.verdict.detected);
            recovered[k] += usize::from(found.payload == Some(written));
        }
    }
    Ok(PAYLOAD_LENGTHS
        .iter()
        .enumerate()
        .map(|(k, &tokens)| PayloadCell {
            scheme: wm.scheme(),
            code,
            bits,
            tokens,
            recovered: recovered[k] as f64 / samples.max(1) as f64,
            detected: detected[k] as f64 / samples.max(1) as f64,
        })
        .collect())
}

impl WatermarkEval {
    /// The table as Markdown, for people and for closing notes.
    pub fn to_markdown(&self) -> String {
        let pct = |x: f64| format!("{:.1}%", 100.0 * x);
        let mut out = format!(
            "Watermark evaluation on {} (vocabulary {}), {} generations per cell, \
             calibration over {} keys; model step {:.3} ms; {:.0} s.\n",
            self.model,
            self.vocab_size,
            self.samples,
            self.calibration_keys,
            self.model_ms_per_step,
            self.seconds
        );
        table(
            &mut out,
            &["scheme", "condition", "tokens", "TPR @1e-2", "TPR @1e-3"],
        );
        for s in &self.schemes {
            let id = s.scheme.as_str().to_owned();
            for r in &s.detection {
                let tokens = r.tokens.to_string();
                row(
                    &mut out,
                    &[&id, &r.condition, &tokens, &pct(r.at_1e2), &pct(r.at_1e3)],
                );
            }
            let paste = format!(
                "200 pasted into 600 (windowed; IoU {:.2})",
                s.paste.mean_iou
            );
            let (at_1e2, at_1e3) = (pct(s.paste.found_at_1e2), pct(s.paste.found_at_1e3));
            row(&mut out, &[&id, &paste, "800", &at_1e2, &at_1e3]);
        }
        table(
            &mut out,
            &[
                "scheme",
                "payload bits",
                "claimed FPR",
                "tests",
                "false positives",
                "ratio",
                "windowed ratio",
            ],
        );
        for s in &self.schemes {
            for c in &s.calibration {
                row(
                    &mut out,
                    &[
                        s.scheme.as_str(),
                        &c.payload_bits.to_string(),
                        &c.claimed.to_string(),
                        &c.tests.to_string(),
                        &c.false_positives.to_string(),
                        &format!("{:.2}", c.ratio),
                        &format!("{:.2}", c.windowed_ratio),
                    ],
                );
            }
        }
        let perplexity = format!("perplexity (unmarked {:.2})", self.unmarked_perplexity);
        let diversity = format!(
            "distinct 4-grams (unmarked {})",
            pct(self.unmarked_distinct_4grams)
        );
        table(
            &mut out,
            &[
                "scheme",
                &perplexity,
                &diversity,
                "detection tokens/s",
                "watermark µs/step",
                "generation slowdown",
            ],
        );
        for s in &self.schemes {
            row(
                &mut out,
                &[
                    s.scheme.as_str(),
                    &format!("{:.2}", s.perplexity),
                    &pct(s.distinct_4grams),
                    &format!("{:.1} M", s.detect_tokens_per_s / 1e6),
                    &format!("{:.1}", s.watermark_us_per_step),
                    &pct(s.generation_slowdown),
                ],
            );
        }
        table(
            &mut out,
            &[
                "scheme",
                "code",
                "payload bits",
                "tokens",
                "recovered",
                "detected",
            ],
        );
        for c in &self.payload {
            row(
                &mut out,
                &[
                    c.scheme.as_str(),
                    c.code.as_str(),
                    &c.bits.to_string(),
                    &c.tokens.to_string(),
                    &pct(c.recovered),
                    &pct(c.detected),
                ],
            );
        }
        out
    }
}

/// Starts a Markdown table with its header.
fn table(out: &mut String, header: &[&str]) {
    out.push('\n');
    row(out, header);
    row(out, &vec!["---"; header.len()]);
}

fn row(out: &mut String, cells: &[&str]) {
    out.push_str("| ");
    out.push_str(&cells.join(" | "));
    out.push_str(" |\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attacks_change_exactly_their_share() {
        let tokens: Vec<u32> = (0..200).collect();
        let mut rng = SeededRng::new(3);
        let sub = substitute(&tokens, 0.3, 512, &mut rng);
        assert_eq!(sub.len(), 200);
        assert_eq!(sub.iter().zip(&tokens).filter(|(a, b)| a != b).count(), 60);
        assert!(sub.iter().all(|&t| t < 512));
        let del = delete(&tokens, 0.1, &mut rng);
        assert_eq!(del.len(), 180);
        assert!(del.windows(2).all(|w| w[0] < w[1]), "order is kept");
    }

    #[test]
    fn log_softmax_is_normalised() {
        let logits = [1.0f32, 2.0, 3.0];
        let total: f64 = (0..3).map(|i| log_softmax_at(&logits, i).exp()).sum();
        assert!((total - 1.0).abs() < 1e-12);
    }
}
