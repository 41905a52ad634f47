//! A synthetic, deterministic language model for tests and benchmarks.
//!
//! Its logits are a pseudo-random function of a seed and the last two context tokens, so
//! it has the entropy real text has (watermarks need choices to bias) while costing
//! nothing and needing no files. Same seed and context, same logits, on every machine.

use crate::{LanguageModel, LmError, TokenId};

#[derive(Debug, Clone)]
pub struct SyntheticModel {
    vocab_size: usize,
    seed: u64,
    /// Spread of the logits: larger means lower entropy.
    temperature_scale: f32,
}

/// SplitMix64: a fast, well-mixed 64-bit generator step.
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl SyntheticModel {
    pub fn new(vocab_size: usize, seed: u64) -> Self {
        Self {
            vocab_size,
            seed,
            temperature_scale: 3.0,
        }
    }

    /// Sets the spread of the logits (default 3.0, a few bits of entropy per token).
    pub fn with_scale(mut self, scale: f32) -> Self {
        self.temperature_scale = scale;
        self
    }
}

impl LanguageModel for SyntheticModel {
    fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    fn max_context(&self) -> usize {
        usize::MAX
    }

    fn next_token_logits(&mut self, context: &[TokenId]) -> Result<Vec<f32>, LmError> {
        if let Some(&token) = context.iter().find(|&&t| t as usize >= self.vocab_size) {
            return Err(LmError::TokenOutOfRange {
                token,
                vocab_size: self.vocab_size,
            });
        }
        let last = |back: usize| {
            context
                .len()
                .checked_sub(back)
                .map_or(u64::MAX, |i| u64::from(context[i]))
        };
        let state = splitmix64(self.seed ^ splitmix64(last(1) ^ splitmix64(last(2))));
        Ok((0..self.vocab_size as u64)
            .map(|i| {
                // A uniform in [0, 1) cubed: a few tokens get large logits, most small ones.
                let u = (splitmix64(state ^ i) >> 11) as f32 / (1u64 << 53) as f32;
                self.temperature_scale * u * u * u * 4.0
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_context_dependent() {
        let mut a = SyntheticModel::new(100, 7);
        let mut b = SyntheticModel::new(100, 7);
        assert_eq!(
            a.next_token_logits(&[1, 2]).unwrap(),
            b.next_token_logits(&[1, 2]).unwrap()
        );
        assert_ne!(
            a.next_token_logits(&[1, 2]).unwrap(),
            a.next_token_logits(&[1, 3]).unwrap()
        );
        assert_ne!(
            a.next_token_logits(&[1]).unwrap(),
            SyntheticModel::new(100, 8).next_token_logits(&[1]).unwrap()
        );
        assert!(a.next_token_logits(&[100]).is_err());
    }
}
