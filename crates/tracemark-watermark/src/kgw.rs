//! KGW red/green lists (Kirchenbauer et al., ICML 2023): LeftHash, SelfHash and Unigram.
//!
//! A token is green when its PRF uniform falls below γ (zero-bit keys) or when its colour
//! `floor(u · r)`, `r = 1/γ`, equals the payload digit of its slot (MPAC-style payload
//! keys, Yoo et al. 2024). Either way a token of unmarked text is green with probability
//! exactly γ, independently across distinct (context, token) pairs, which is what makes
//! the binomial test exact. Green membership is a per-token PRF call, so green lists
//! exist only implicitly and the list size itself is Binomial(V, γ), not ⌊γV⌋.

use crate::prf::{self, Prf, tag};

/// How the context seeds the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// Seed from the previous `width` tokens.
    LeftHash,
    /// Anchored min-hash over the previous `width - 1` tokens and the candidate.
    SelfHash,
    /// One list for every position.
    Unigram,
}

/// A KGW configuration with its key.
#[derive(Debug, Clone)]
pub struct Kgw {
    pub variant: Variant,
    pub gamma: f64,
    pub delta: f32,
    pub width: usize,
    /// Colours per slot when a payload is carried (1/γ), else 1.
    pub radix: u32,
    prf: Prf,
    /// SelfHash's `a(x)` for every token id, so a generation step costs no hashing.
    token_hash: Vec<u64>,
    unigram_seed: u64,
}

/// What the seed of a position is made of, computed once per position.
#[derive(Debug, Clone, Copy)]
pub struct PositionSeed {
    /// The seed of the words (for SelfHash the min-hash over the previous tokens only; the
    /// candidate's `a(c)` is folded in per candidate).
    pub seed: u64,
    /// The seed that picks the payload slot (context only).
    pub slot_seed: u64,
}

impl Kgw {
    pub fn new(
        variant: Variant,
        gamma: f64,
        delta: f32,
        width: usize,
        radix: u32,
        prf: Prf,
        vocab: usize,
    ) -> Self {
        let token_hash = if variant == Variant::SelfHash {
            (0..vocab as u32).map(|x| prf.token_hash(x)).collect()
        } else {
            Vec::new()
        };
        let unigram_seed = prf.seed(tag::UNIGRAM, &[]);
        Self {
            variant,
            gamma,
            delta,
            width,
            radix,
            prf,
            token_hash,
            unigram_seed,
        }
    }

    /// Tokens before a position that its seed reads.
    pub fn context_len(&self) -> usize {
        match self.variant {
            Variant::LeftHash => self.width,
            Variant::SelfHash => self.width - 1,
            Variant::Unigram => 0,
        }
    }

    /// The seed of the position after `context` (its last `context_len()` tokens).
    pub fn position_seed(&self, context: &[u32]) -> PositionSeed {
        let ctx = &context[context.len() - self.context_len()..];
        match self.variant {
            Variant::LeftHash => {
                let seed = self.prf.seed(tag::LEFTHASH, ctx);
                PositionSeed {
                    seed,
                    slot_seed: seed,
                }
            }
            Variant::SelfHash => PositionSeed {
                seed: ctx
                    .iter()
                    .map(|&x| self.hash_of(x))
                    .min()
                    .unwrap_or(u64::MAX),
                // Zero-bit keys have one slot: skip the second SipHash.
                slot_seed: if self.radix > 1 {
                    self.prf.seed(tag::SELFHASH_POSITION, ctx)
                } else {
                    0
                },
            },
            Variant::Unigram => PositionSeed {
                seed: self.unigram_seed,
                slot_seed: self.unigram_seed,
            },
        }
    }

    fn hash_of(&self, x: u32) -> u64 {
        self.token_hash
            .get(x as usize)
            .copied()
            .unwrap_or_else(|| self.prf.token_hash(x))
    }

    /// The word of candidate `c` at a position.
    #[inline]
    pub fn word(&self, pos: &PositionSeed, c: u32) -> u64 {
        let seed = match self.variant {
            Variant::SelfHash => pos.seed.min(self.hash_of(c)),
            _ => pos.seed,
        };
        prf::word(seed, c, 0)
    }

    /// The colour of a word: 0 = green for zero-bit keys (u < γ, else 1); the digit it
    /// writes for payload keys.
    #[inline]
    pub fn colour(&self, word: u64) -> u32 {
        let u = prf::unit(word);
        if self.radix <= 1 {
            u32::from(u >= self.gamma)
        } else {
            ((u * f64::from(self.radix)) as u32).min(self.radix - 1)
        }
    }

    /// Adds δ to every candidate whose colour is `digit` (0 for zero-bit keys).
    pub fn bias(&self, pos: &PositionSeed, digit: u32, logits: &mut [f32]) {
        for (c, logit) in logits.iter_mut().enumerate() {
            if self.colour(self.word(pos, c as u32)) == digit {
                *logit += self.delta;
            }
        }
    }
}
