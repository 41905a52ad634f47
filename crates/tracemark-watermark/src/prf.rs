//! The keyed pseudo-random function behind every Tracemark scheme (`tracemark-prf-v1`).
//!
//! Python watermark references seed `torch.Generator` and call `randperm`; that output
//! depends on torch's RNG and is not portable. Tracemark instead defines green lists,
//! colours and Gumbel uniforms through one small PRF that any implementation can
//! reproduce from this description, and that costs O(1) per (context, token) pair, so a
//! detector never builds a permutation of the vocabulary.
//!
//! # Specification (`tracemark-prf-v1`)
//!
//! All integers are little-endian, all arithmetic wraps modulo 2^64.
//!
//! * **Secret**: 32 bytes `S`. `k0 = u64(S[0..8])`, `k1 = u64(S[8..16])` key
//!   SipHash-1-3; `k2 = u64(S[16..24])` keys the per-token hash of SelfHash.
//!   (`S[24..32]` is reserved and enters the key id only.)
//! * **Context seed**: `seed(tag, ctx) = SipHash-1-3(k0, k1, m)` with the message
//!   `m = tag (1 byte) ‖ len(ctx) (1 byte) ‖ ctx[0] (u32) ‖ … ‖ ctx[len-1] (u32)`,
//!   SipHash-1-3 as in Aumasson–Bernstein with 1 compression and 3 finalisation rounds.
//!   Tags: `1` LeftHash, `2` SelfHash position, `3` Unigram, `4` Gumbel.
//! * **Token word**: `word(seed, v, d) = fmix64(seed + v·φ + d·ψ)` with
//!   `φ = 0x9E3779B97F4A7C15`, `ψ = 0xD6E8FEB86659FD93`, `fmix64` MurmurHash3's
//!   finaliser; `d` is the payload digit a generation writes (0 for zero-bit keys).
//!   It is computed once per scored token, after one SipHash per position.
//! * **Uniform**: `u = (word >> 11) / 2^53` in `[0, 1)`; Gumbel uses
//!   `r = ((word >> 12) + ½) / 2^52` in `(0, 1)` (52 bits, so that `1 - r` stays exact).
//! * **SelfHash seed**: `a(x) = fmix64(k2 + x·φ)` per token; the seed of a window of
//!   previous tokens plus candidate `c` is `min(a(x))` over the window (anchored min-hash,
//!   Kirchenbauer et al. 2023b); the word is `word(seed, c, d)`, so the candidate enters
//!   twice (the "self" of SelfHash).
//! * **Payload slot**: the token's message position is `fmix64(pseed ^ ψ) mod L`, with
//!   `pseed` the position's context seed (tag 2 over the context without the candidate
//!   for SelfHash, the scheme's own seed otherwise), so slots depend on the context only.
//!
//! The scheme id names this PRF: a change to it needs new scheme ids.

/// Golden-ratio increment that spreads token ids across the 64-bit word.
pub const PHI: u64 = 0x9E37_79B9_7F4A_7C15;
/// Odd constant that separates payload digits and slot derivation.
pub const PSI: u64 = 0xD6E8_FEB8_6659_FD93;

/// Domain tags of the context seed.
pub mod tag {
    pub const LEFTHASH: u8 = 1;
    pub const SELFHASH_POSITION: u8 = 2;
    pub const UNIGRAM: u8 = 3;
    pub const GUMBEL: u8 = 4;
}

/// Longest context the seed accepts (the message stays on the stack).
pub const MAX_CONTEXT: usize = 32;

/// Words of the longest seed message, plus the word its length byte goes into.
const MESSAGE_WORDS: usize = (2 + 4 * MAX_CONTEXT) / 8 + 1;

/// MurmurHash3's 64-bit finaliser: a bijection with full avalanche.
#[inline]
pub fn fmix64(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    x ^= x >> 33;
    x = x.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    x ^ (x >> 33)
}

/// The word of token `v` under a context seed, for payload digit `d`.
#[inline]
pub fn word(seed: u64, v: u32, d: u32) -> u64 {
    fmix64(
        seed.wrapping_add(u64::from(v).wrapping_mul(PHI))
            .wrapping_add(u64::from(d).wrapping_mul(PSI)),
    )
}

/// `[0, 1)` from the top 53 bits.
#[inline]
pub fn unit(word: u64) -> f64 {
    (word >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// `(0, 1)` from the top 52 bits, never 0 or 1, so `ln r` and `ln(1 - r)` are finite
/// (with 53 bits, `(2^53 - ½) / 2^53` would round to 1).
#[inline]
pub fn open_unit(word: u64) -> f64 {
    ((word >> 12) as f64 + 0.5) * (1.0 / (1u64 << 52) as f64)
}

/// The payload slot of a position among `slots`.
#[inline]
pub fn slot(position_seed: u64, slots: u32) -> u32 {
    (fmix64(position_seed ^ PSI) % u64::from(slots.max(1))) as u32
}

/// The keyed PRF: SipHash-1-3 context seeds plus the SelfHash per-token key.
#[derive(Clone)]
pub struct Prf {
    k0: u64,
    k1: u64,
    k2: u64,
}

impl std::fmt::Debug for Prf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Prf(..)")
    }
}

impl Prf {
    pub fn new(secret: &[u8; 32]) -> Self {
        let k = |i: usize| u64::from_le_bytes(secret[i..i + 8].try_into().expect("8 bytes"));
        Self {
            k0: k(0),
            k1: k(8),
            k2: k(16),
        }
    }

    /// The seed of a context under a domain tag. Contexts longer than [`MAX_CONTEXT`] use
    /// their last `MAX_CONTEXT` tokens (schemes validate widths far below that).
    pub fn seed(&self, tag: u8, ctx: &[u32]) -> u64 {
        let ctx = &ctx[ctx.len().saturating_sub(MAX_CONTEXT)..];
        // The message, assembled straight into SipHash's little-endian words: token `i`
        // starts at byte 2 + 4i, so it lies in one word or straddles two.
        let mut words = [0u64; MESSAGE_WORDS];
        words[0] = u64::from(tag) | ((ctx.len() as u64) << 8);
        for (i, &t) in ctx.iter().enumerate() {
            let bit = 16 + 32 * i;
            let (w, shift) = (bit / 64, bit % 64);
            words[w] |= u64::from(t) << shift;
            if shift > 32 {
                words[w + 1] |= u64::from(t) >> (64 - shift);
            }
        }
        siphash13_words(self.k0, self.k1, &words, 2 + 4 * ctx.len())
    }

    /// SelfHash's per-token hash `a(x)`.
    #[inline]
    pub fn token_hash(&self, x: u32) -> u64 {
        fmix64(self.k2.wrapping_add(u64::from(x).wrapping_mul(PHI)))
    }
}

#[inline]
fn sip_round(v: &mut [u64; 4]) {
    v[0] = v[0].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(13);
    v[1] ^= v[0];
    v[0] = v[0].rotate_left(32);
    v[2] = v[2].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(16);
    v[3] ^= v[2];
    v[0] = v[0].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(21);
    v[3] ^= v[0];
    v[2] = v[2].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(17);
    v[1] ^= v[2];
    v[2] = v[2].rotate_left(32);
}

/// SipHash-1-3 of `msg` under the 128-bit key `(k0, k1)`.
pub fn siphash13(k0: u64, k1: u64, msg: &[u8]) -> u64 {
    let mut words = vec![0u64; msg.len() / 8 + 1];
    for (i, b) in msg.iter().enumerate() {
        words[i / 8] |= u64::from(*b) << (8 * (i % 8));
    }
    siphash13_words(k0, k1, &words, msg.len())
}

/// SipHash-1-3 of a `len`-byte message given as little-endian words, zero past `len`
/// (at least `len / 8 + 1` of them).
fn siphash13_words(k0: u64, k1: u64, words: &[u64], len: usize) -> u64 {
    let mut v = [
        k0 ^ 0x736f_6d65_7073_6575,
        k1 ^ 0x646f_7261_6e64_6f6d,
        k0 ^ 0x6c79_6765_6e65_7261,
        k1 ^ 0x7465_6462_7974_6573,
    ];
    let full = len / 8;
    for &m in &words[..full] {
        v[3] ^= m;
        sip_round(&mut v);
        v[0] ^= m;
    }
    let last = words[full] | ((len as u64 & 0xff) << 56);
    v[3] ^= last;
    sip_round(&mut v);
    v[0] ^= last;
    v[2] ^= 0xff;
    for _ in 0..3 {
        sip_round(&mut v);
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Our SipHash-1-3 must equal an independent implementation (the `siphasher` crate)
    /// on every message length around the 8-byte block boundaries.
    #[test]
    fn siphash13_matches_an_independent_implementation() {
        use std::hash::Hasher;
        let (k0, k1) = (0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908);
        let msg: Vec<u8> = (0..40).collect();
        for len in 0..msg.len() {
            let mut oracle = siphasher::sip::SipHasher13::new_with_keys(k0, k1);
            oracle.write(&msg[..len]);
            assert_eq!(
                siphash13(k0, k1, &msg[..len]),
                oracle.finish(),
                "length {len}"
            );
        }
    }

    #[test]
    fn uniforms_stay_inside_their_intervals() {
        assert_eq!(unit(0), 0.0);
        assert!(unit(u64::MAX) < 1.0);
        assert!(open_unit(0) > 0.0);
        assert!(open_unit(u64::MAX) < 1.0);
    }

    /// The word-assembled seed must be SipHash of the specified byte message.
    #[test]
    fn seeds_hash_the_specified_message() {
        let prf = Prf::new(&[7; 32]);
        let tokens: Vec<u32> = (0..40u32).map(|i| i.wrapping_mul(0x9E37_79B9)).collect();
        for len in 0..=MAX_CONTEXT {
            let ctx = &tokens[..len];
            let mut msg = vec![9, len as u8];
            msg.extend(ctx.iter().flat_map(|t| t.to_le_bytes()));
            assert_eq!(prf.seed(9, ctx), siphash13(prf.k0, prf.k1, &msg), "{len}");
        }
        // Longer contexts keep their last MAX_CONTEXT tokens.
        assert_eq!(prf.seed(1, &tokens), prf.seed(1, &tokens[8..]));
    }

    #[test]
    fn seeds_separate_tags_lengths_and_keys() {
        let prf = Prf::new(&[7; 32]);
        let other = Prf::new(&[8; 32]);
        assert_ne!(prf.seed(1, &[5]), prf.seed(4, &[5]));
        assert_ne!(prf.seed(1, &[0]), prf.seed(1, &[0, 0]));
        assert_ne!(prf.seed(1, &[5]), other.seed(1, &[5]));
        assert_eq!(prf.seed(1, &[5, 6]), prf.seed(1, &[5, 6]));
    }
}
