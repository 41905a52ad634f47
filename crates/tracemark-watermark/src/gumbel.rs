//! Gumbel-max / EXP sampling (Aaronson 2022; Fernandez et al. 2023's exact test).
//!
//! Each context seeds uniforms `r_v ∈ (0, 1)` over the vocabulary and the step emits
//! `argmax_v r_v^{1/p_v}`, computed as `argmax_v logit_v − ln(−ln r_v)` (the Gumbel-max
//! trick). For a fresh context that is an exact sample from `p`, so marking does not
//! change the distribution of a single step. Detection sums `−ln(1 − r_x)` over scored
//! tokens; unmarked tokens give Exp(1) terms, so the sum of T terms is Gamma(T, 1).
//!
//! **Diversity across seeds.** Gumbel-max is deterministic given (key, context), so one
//! prompt would always give one text. Tracemark samples an unmarked prefix with the
//! sampling loop's own seeded RNG: at least the first `width` generated tokens (their
//! contexts reach into the prompt), and on until the prefix's distributions hold
//! [`PREFIX_ENTROPY`] nats of entropy (at most [`MAX_PREFIX`] tokens). A low-entropy
//! model (a story that always opens "there was a little girl") would otherwise pick the
//! same first few tokens under every seed and then follow one deterministic chain; with
//! the budget, seeds part ways before marking starts. The detector scores the prefix as
//! it scores everything (it cannot know its length): unmarked tokens only dilute the
//! statistic, the null law is unchanged. A repeated context is likewise sampled unmarked
//! (repeated-context masking), which also breaks the loops deterministic decoding falls
//! into.
//!
//! **Payload.** A token in payload slot `j` uses the uniforms of digit `d = m_j`
//! (`word(seed, v, d)`); the detector computes the score of every digit per slot.

use crate::prf::{self, Prf, tag};

/// Digits per payload slot: 2 bits per slot.
pub const RADIX: u32 = 4;

/// Entropy the unmarked prefix must reach before marking starts: e^8 ≈ 3,000 equally
/// likely openings, so that 20 seeds rarely share one.
pub const PREFIX_ENTROPY: f64 = 8.0;
/// The longest unmarked prefix, whatever its entropy.
pub const MAX_PREFIX: usize = 32;

/// Shannon entropy (nats) of `softmax(logits)`; `-inf` logits have no mass.
pub fn entropy(logits: &[f32]) -> f64 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if !max.is_finite() {
        return 0.0;
    }
    let (mut z, mut weighted) = (0.0f64, 0.0f64);
    for &l in logits.iter().filter(|l| l.is_finite()) {
        let x = f64::from(l - max);
        let e = x.exp();
        z += e;
        weighted += e * x;
    }
    // H = ln Z − E[x] with x the shifted logits.
    z.ln() - weighted / z
}

/// A Gumbel configuration with its key.
#[derive(Debug, Clone)]
pub struct Gumbel {
    pub width: usize,
    pub radix: u32,
    prf: Prf,
}

impl Gumbel {
    pub fn new(width: usize, radix: u32, prf: Prf) -> Self {
        Self { width, radix, prf }
    }

    /// The seed of the position after `context` (its last `width` tokens).
    pub fn seed(&self, context: &[u32]) -> u64 {
        self.prf
            .seed(tag::GUMBEL, &context[context.len() - self.width..])
    }

    /// `r_v` for digit `d`.
    #[inline]
    pub fn uniform(seed: u64, v: u32, d: u32) -> f64 {
        prf::open_unit(prf::word(seed, v, d))
    }

    /// The detector's per-token score `−ln(1 − r_x)`. With 52-bit uniforms `1 − r` is
    /// exactly the open uniform of the complemented word, so one `ln` computes it.
    #[inline]
    pub fn score(seed: u64, x: u32, d: u32) -> f64 {
        -prf::open_unit(!prf::word(seed, x, d)).ln()
    }

    /// The Gumbel-max choice among the finite logits, or `None` if there is none.
    pub fn choose(seed: u64, digit: u32, logits: &[f32]) -> Option<u32> {
        let mut best: Option<(f64, u32)> = None;
        for (v, &l) in logits.iter().enumerate() {
            if !l.is_finite() {
                continue;
            }
            let r = Self::uniform(seed, v as u32, digit);
            let key = f64::from(l) - (-r.ln()).ln();
            if best.is_none_or(|(b, _)| key > b) {
                best = Some((key, v as u32));
            }
        }
        best.map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_of_uniform_and_masked_distributions() {
        assert!((entropy(&[0.5; 4]) - 4f64.ln()).abs() < 1e-12);
        let masked = [1.0, 1.0, f32::NEG_INFINITY];
        assert!((entropy(&masked) - 2f64.ln()).abs() < 1e-12);
        assert_eq!(entropy(&[3.0]), 0.0);
        assert_eq!(entropy(&[f32::NEG_INFINITY; 2]), 0.0);
    }
}
