//! The run: the texts generated once, then each measurement on them (detection, pasting,
//! calibration, quality, cost, payload recovery).

use std::{path::Path, time::Instant};

use tracemark::{
    Result,
    core::Payload,
    keygen::SeededKeyRng,
    lm::sampling::SeededRng,
    watermark::{
        PayloadCode, SchemeId, WatermarkKey,
        watermarker::{DetectOptions, Watermarker},
    },
};

use crate::{
    EvalOptions, FPRS,
    attack::{Attack, delete, substitute},
    generator::Generator,
    results::{Calibration, Paste, PayloadCell, Rates, SchemeEval, WatermarkEval},
};

const LENGTHS: [usize; 3] = [50, 100, 200];
const PAYLOAD_BITS: [u8; 3] = [8, 16, 24];
const PAYLOAD_LENGTHS: [usize; 3] = [200, 400, 800];
const PAYLOAD_SCHEMES: [SchemeId; 2] = [SchemeId::KgwSelfHash, SchemeId::Gumbel];
const PAYLOAD_CODES: [PayloadCode; 2] = [PayloadCode::ConvolutionalK7, PayloadCode::None];
const SPEED_TOKENS: usize = 100_000;

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
