//! Gumbel-max / EXP sampling (Aaronson 2022; Fernandez et al. 2023's exact test).
//!
//! Each context seeds uniforms `r_v ∈ (0, 1)` over the vocabulary and the step emits
//! `argmax_v r_v^{1/p_v}`, computed as `argmax_v logit_v − ln(−ln r_v)` (the Gumbel-max
//! trick). For a fresh context that is an exact sample from `p`, so marking does not
//! change the distribution of a single step. Detection sums `−ln(1 − r_x)` over scored
//! tokens; unmarked tokens give Exp(1) terms, so the sum of T terms is Gamma(T, 1).
//!
//! **Diversity across seeds.** Gumbel-max is deterministic given (key, context), so one
//! prompt would always give one text. Tracemark samples the first `width` generated tokens
//! unmarked with the sampling loop's own seeded RNG (their contexts reach into the prompt
//! only), and every later context contains at least one of them, so different seeds
//! start different chains. The detector skips those first `width` tokens when it knows
//! the prompt. A repeated context is likewise sampled unmarked (repeated-context masking),
//! which also breaks the loops deterministic decoding falls into.
//!
//! **Payload.** A token in payload slot `j` uses the uniforms of digit `d = m_j`
//! (`word(seed, v, d)`); the detector computes the score of every digit per slot.

use crate::prf::{self, Prf, tag};

/// Digits per payload slot: 2 bits per slot.
pub const RADIX: u32 = 4;

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
