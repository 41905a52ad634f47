//! The sampling loop: logits to tokens, with temperature, top-k, top-p, a seed, and a
//! watermark.
//!
//! Each step: the model's logits for the context; the loop's warpers (temperature, then
//! top-k and top-p, removed tokens set to `-inf`); the watermark's step
//! ([`WatermarkSampler`]: KGW-family schemes bias green tokens, Gumbel-max and SynthID
//! choose with keyed pseudo-randomness); then, unless the scheme chose, a draw from the
//! seeded generator. The same model, prompt, parameters, key and seed always give the
//! same tokens.

use tracemark_watermark::watermarker::{Decision, WatermarkSampler};

use crate::{LanguageModel, LmError, TokenId};

/// How to turn logits into a token.
#[derive(Debug, Clone, PartialEq)]
pub struct SamplingParams {
    /// Softmax temperature; 0 means greedy.
    pub temperature: f32,
    /// Keep only the `top_k` most likely tokens (0: all).
    pub top_k: usize,
    /// Keep the smallest set of most likely tokens whose probability reaches `top_p` (1: all).
    pub top_p: f32,
    pub seed: u64,
    pub max_tokens: usize,
    /// Stop after generating this token (usually EOS); it is included in the output.
    pub stop_token: Option<TokenId>,
}

impl Default for SamplingParams {
    fn default() -> Self {
        Self {
            temperature: 1.0,
            top_k: 0,
            top_p: 1.0,
            seed: 0,
            max_tokens: 200,
            stop_token: None,
        }
    }
}

impl SamplingParams {
    pub fn check(&self) -> Result<(), LmError> {
        let bad = |what: String| Err(LmError::Sampling(what));
        if !(self.temperature.is_finite() && self.temperature >= 0.0) {
            return bad(format!(
                "temperature {} must be a finite number ≥ 0",
                self.temperature
            ));
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return bad(format!("top-p {} must be in (0, 1]", self.top_p));
        }
        Ok(())
    }
}

/// A small seeded generator (SplitMix64): reproducible across platforms and versions.
#[derive(Debug, Clone)]
pub struct SeededRng(u64);

impl SeededRng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Applies temperature, top-k and top-p in place: kept logits are divided by the
/// temperature, removed ones become `-inf`. Greedy (temperature 0) keeps only the largest
/// logit (the first on ties). NaN logits count as removed.
pub fn warp(logits: &mut [f32], params: &SamplingParams) {
    for l in logits.iter_mut().filter(|l| l.is_nan()) {
        *l = f32::NEG_INFINITY;
    }
    let mut order: Vec<usize> = (0..logits.len())
        .filter(|&i| logits[i] > f32::NEG_INFINITY)
        .collect();
    order.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]).then(a.cmp(&b)));
    let keep = if params.temperature == 0.0 {
        order.len().min(1)
    } else {
        let k = if params.top_k > 0 {
            params.top_k.min(order.len())
        } else {
            order.len()
        };
        nucleus_len(&order[..k], logits, params)
    };
    let mut kept = vec![false; logits.len()];
    order[..keep].iter().for_each(|&i| kept[i] = true);
    let temperature = if params.temperature == 0.0 {
        1.0
    } else {
        params.temperature
    };
    for (l, kept) in logits.iter_mut().zip(kept) {
        *l = if kept {
            *l / temperature
        } else {
            f32::NEG_INFINITY
        };
    }
}

/// How many of `order` (most likely first) reach probability `top_p` at the temperature.
fn nucleus_len(order: &[usize], logits: &[f32], params: &SamplingParams) -> usize {
    if params.top_p >= 1.0 || order.is_empty() {
        return order.len();
    }
    let max = logits[order[0]];
    let weights: Vec<f64> = order
        .iter()
        .map(|&i| f64::from((logits[i] - max) / params.temperature).exp())
        .collect();
    let total: f64 = weights.iter().sum();
    let mut mass = 0.0;
    for (n, w) in weights.iter().enumerate() {
        mass += w / total;
        if mass >= f64::from(params.top_p) {
            return n + 1;
        }
    }
    order.len()
}

/// Draws from softmax(`logits`) with the uniform `u` in [0, 1); `None` if no logit is finite.
pub fn draw(logits: &[f32], u: f64) -> Option<TokenId> {
    let max = logits
        .iter()
        .copied()
        .filter(|l| l.is_finite())
        .reduce(f32::max)?;
    let weights = logits.iter().map(|&l| {
        if l.is_finite() {
            f64::from(l - max).exp()
        } else {
            0.0
        }
    });
    let total: f64 = weights.clone().sum();
    let mut acc = 0.0;
    let mut last = None;
    for (i, w) in weights.enumerate() {
        if w == 0.0 {
            continue;
        }
        acc += w / total;
        last = Some(i as TokenId);
        if u < acc {
            return last;
        }
    }
    last
}

/// One step of the loop on the model's `logits`: the warpers, the watermark's step, then
/// the seeded draw unless the scheme chose; the token is accepted into the watermark's
/// state and returned. Front ends with their own model call it once per token.
pub fn step(
    logits: &mut [f32],
    params: &SamplingParams,
    rng: &mut SeededRng,
    watermark: &mut dyn WatermarkSampler,
) -> Result<TokenId, LmError> {
    warp(logits, params);
    // The generator advances every step, whoever chooses, so that the unmarked parts
    // of a generation do not depend on what the watermark chose elsewhere.
    let u = rng.next_f64();
    let token = match watermark.step(logits)? {
        Decision::Token(t) => t,
        Decision::Logits => {
            draw(logits, u).ok_or_else(|| LmError::Compute("every logit is NaN or -inf".into()))?
        }
    };
    watermark.accept(token)?;
    Ok(token)
}

/// Generates up to `params.max_tokens` tokens after `prompt`, calling `on_token` with each
/// as soon as it is chosen (streaming). Returns the generated tokens (not the prompt).
pub fn generate(
    model: &mut dyn LanguageModel,
    prompt: &[TokenId],
    params: &SamplingParams,
    watermark: &mut dyn WatermarkSampler,
    mut on_token: impl FnMut(TokenId),
) -> Result<Vec<TokenId>, LmError> {
    params.check()?;
    let mut rng = SeededRng::new(params.seed);
    let mut context = prompt.to_vec();
    let room = model.max_context().saturating_sub(context.len());
    for _ in 0..params.max_tokens.min(room) {
        let mut logits = model.next_token_logits(&context)?;
        if logits.len() != model.vocab_size() {
            return Err(LmError::Compute(format!(
                "model returned {} logits for a vocabulary of {}",
                logits.len(),
                model.vocab_size()
            )));
        }
        let token = step(&mut logits, params, &mut rng, watermark)?;
        context.push(token);
        on_token(token);
        if Some(token) == params.stop_token {
            break;
        }
    }
    Ok(context.split_off(prompt.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SyntheticModel;
    use tracemark_watermark::{WatermarkError, watermarker::Unmarked};

    fn run(params: &SamplingParams, marker: &mut dyn WatermarkSampler) -> Vec<TokenId> {
        generate(
            &mut SyntheticModel::new(64, 1),
            &[0],
            params,
            marker,
            |_| {},
        )
        .unwrap()
    }

    #[test]
    fn same_seed_same_tokens_and_streaming_sees_each() {
        let params = SamplingParams {
            seed: 42,
            max_tokens: 50,
            ..Default::default()
        };
        let mut streamed = Vec::new();
        let a = generate(
            &mut SyntheticModel::new(64, 1),
            &[0],
            &params,
            &mut Unmarked,
            |t| streamed.push(t),
        )
        .unwrap();
        assert_eq!(a, run(&params, &mut Unmarked));
        assert_eq!(a, streamed);
        assert_eq!(a.len(), 50);
        assert_ne!(
            a,
            run(&SamplingParams { seed: 43, ..params }, &mut Unmarked)
        );
    }

    #[test]
    fn warping_keeps_what_it_should() {
        let kept = |logits: &[f32], params: SamplingParams| {
            let mut l = logits.to_vec();
            warp(&mut l, &params);
            (0..l.len())
                .filter(|&i| l[i].is_finite())
                .collect::<Vec<_>>()
        };
        let logits = [0.0, 3.0, 1.0, 2.0, f32::NAN];
        assert_eq!(
            kept(
                &logits,
                SamplingParams {
                    temperature: 0.0,
                    ..Default::default()
                }
            ),
            [1]
        );
        assert_eq!(
            kept(
                &logits,
                SamplingParams {
                    top_k: 2,
                    ..Default::default()
                }
            ),
            [1, 3]
        );
        // softmax([0,3,1,2]): 0.032, 0.644, 0.087, 0.237: 0.644 alone reaches 0.6.
        assert_eq!(
            kept(
                &logits,
                SamplingParams {
                    top_p: 0.6,
                    ..Default::default()
                }
            ),
            [1]
        );
        assert_eq!(
            kept(
                &logits,
                SamplingParams {
                    top_p: 0.85,
                    ..Default::default()
                }
            ),
            [1, 3]
        );
        let mut hot = logits.to_vec();
        warp(
            &mut hot,
            &SamplingParams {
                temperature: 2.0,
                ..Default::default()
            },
        );
        assert_eq!(hot[1], 1.5);
    }

    #[test]
    fn sampling_follows_the_distribution() {
        let logits = [0.7f32.ln(), 0.2f32.ln(), 0.1f32.ln(), f32::NEG_INFINITY];
        let mut rng = SeededRng::new(9);
        let mut counts = [0usize; 4];
        for _ in 0..100_000 {
            counts[draw(&logits, rng.next_f64()).unwrap() as usize] += 1;
        }
        for (c, p) in counts.iter().zip([0.7, 0.2, 0.1, 0.0]) {
            assert!((*c as f64 / 100_000.0 - p).abs() < 0.01, "{counts:?}");
        }
        assert_eq!(draw(&[f32::NEG_INFINITY; 3], 0.5), None);
    }

    #[test]
    fn a_watermark_can_bias_or_choose_and_sees_every_token() {
        struct Boost(TokenId, Vec<TokenId>);
        impl WatermarkSampler for Boost {
            fn step(&mut self, logits: &mut [f32]) -> Result<Decision, WatermarkError> {
                logits[self.0 as usize] += 1000.0;
                Ok(Decision::Logits)
            }
            fn accept(&mut self, token: u32) -> Result<(), WatermarkError> {
                self.1.push(token);
                Ok(())
            }
        }
        struct Choose(TokenId);
        impl WatermarkSampler for Choose {
            fn step(&mut self, _: &mut [f32]) -> Result<Decision, WatermarkError> {
                Ok(Decision::Token(self.0))
            }
            fn accept(&mut self, _: u32) -> Result<(), WatermarkError> {
                Ok(())
            }
        }
        let params = SamplingParams {
            max_tokens: 10,
            ..Default::default()
        };
        let mut boost = Boost(7, Vec::new());
        let tokens = run(&params, &mut boost);
        assert!(tokens.iter().all(|&t| t == 7));
        assert_eq!(boost.1, tokens);
        assert_eq!(run(&params, &mut Choose(9)), vec![9; 10]);
    }

    #[test]
    fn bad_parameters_are_errors() {
        for params in [
            SamplingParams {
                temperature: -1.0,
                ..Default::default()
            },
            SamplingParams {
                temperature: f32::NAN,
                ..Default::default()
            },
            SamplingParams {
                top_p: 0.0,
                ..Default::default()
            },
            SamplingParams {
                top_p: 1.5,
                ..Default::default()
            },
        ] {
            assert!(
                generate(
                    &mut SyntheticModel::new(8, 1),
                    &[0],
                    &params,
                    &mut Unmarked,
                    |_| {}
                )
                .is_err()
            );
        }
    }
}
