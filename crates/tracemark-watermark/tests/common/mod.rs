//! A synthetic language model and a seeded sampler, so scheme tests need no model file.

#![allow(dead_code)]

use rand_core::{CryptoRng, RngCore};
use tracemark_core::Payload;
use tracemark_watermark::{
    Decision, SchemeConfig, SchemeId, WatermarkKey, WatermarkSampler, Watermarker,
};

/// SplitMix64: a small deterministic generator for tests (never for keys in production).
#[derive(Debug, Clone)]
pub struct TestRng(pub u64);

impl RngCore for TestRng {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

/// Test keys only: deterministic so that the tests cannot flake.
impl CryptoRng for TestRng {}

impl TestRng {
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

pub const VOCAB: usize = 512;

/// A deterministic key for `scheme`.
pub fn key(scheme: SchemeId, seed: u64) -> WatermarkKey {
    WatermarkKey::generate(scheme, &mut TestRng(seed))
}

pub fn payload_key(scheme: SchemeId, bits: u8, seed: u64) -> WatermarkKey {
    WatermarkKey::generate_with_payload(scheme, bits, &mut TestRng(seed))
}

/// Next-token logits of a synthetic model: pseudo-random in the last two tokens, spread
/// wide enough that the distribution has a few nats of entropy, like real text.
pub fn logits(tokens: &[u32], vocab: usize) -> Vec<f32> {
    let n = tokens.len();
    let a = tokens.get(n.wrapping_sub(1)).copied().unwrap_or(0);
    let b = tokens.get(n.wrapping_sub(2)).copied().unwrap_or(0);
    let mut rng = TestRng((u64::from(a) << 32) | (u64::from(b) ^ 0xABCD));
    (0..vocab)
        .map(|_| (3.0 * (rng.unit() + rng.unit())) as f32)
        .collect()
}

/// Samples from `softmax(logits)`.
pub fn sample(logits: &[f32], rng: &mut TestRng) -> u32 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let weights: Vec<f64> = logits.iter().map(|&l| f64::from(l - max).exp()).collect();
    let mut target = rng.unit() * weights.iter().sum::<f64>();
    for (v, w) in weights.iter().enumerate() {
        target -= w;
        if target <= 0.0 {
            return v as u32;
        }
    }
    (weights.len() - 1) as u32
}

/// Prompt plus `n` tokens generated through `marker`.
pub fn generate_with(
    marker: &mut dyn WatermarkSampler,
    prompt: &[u32],
    n: usize,
    seed: u64,
    vocab: usize,
) -> Vec<u32> {
    let mut rng = TestRng(seed);
    let mut tokens = prompt.to_vec();
    for _ in 0..n {
        let mut l = logits(&tokens, vocab);
        let token = match marker.step(&mut l).expect("step") {
            Decision::Logits => sample(&l, &mut rng),
            Decision::Token(t) => t,
        };
        marker.accept(token).expect("accept");
        tokens.push(token);
    }
    tokens
}

pub fn generate(
    wm: &Watermarker,
    prompt: &[u32],
    n: usize,
    seed: u64,
    payload: Option<Payload>,
) -> Vec<u32> {
    let mut marker = wm.start(prompt, payload).expect("start");
    generate_with(&mut marker, prompt, n, seed, wm.vocab_size())
}

pub fn unmarked(prompt: &[u32], n: usize, seed: u64) -> Vec<u32> {
    generate_with(&mut tracemark_watermark::Unmarked, prompt, n, seed, VOCAB)
}

pub fn prompt(seed: u64) -> Vec<u32> {
    let mut rng = TestRng(seed ^ 0x5151);
    (0..4)
        .map(|_| (rng.next_u64() % VOCAB as u64) as u32)
        .collect()
}

pub fn is_synthid(key: &WatermarkKey) -> bool {
    matches!(key.config, SchemeConfig::SynthId(_))
}
