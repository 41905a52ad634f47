//! SynthID-Text (Dathathri et al., Nature 2024), bit-compatible with Google DeepMind's
//! `synthid-text` and HF transformers' `SynthIDTextWatermarkLogitsProcessor`.
//!
//! Every integer step follows the reference (all arithmetic wraps at 64 bits):
//! * `lcg(h, x) = (h + x) · 6364136223846793005 + 1`, the reference's accumulate hash;
//! * an n-gram's hash folds `lcg` over its tokens from `h = 1`; layer `d`'s key is
//!   `lcg(h, keys[d])`; its g-value is `table[floor_mod(key as i64, S)]`;
//! * the sampling table is bit 0 of successive MT19937 outputs seeded with
//!   `seed & 0xFFFFFFFF` (what `torch.randint(0, 2, (S,))` after `manual_seed` yields);
//! * a position is masked when its (n-1)-token context hash is among the last `H` context
//!   hashes (a history that starts as zeros), and from the first EOS on;
//! * marking (unless the context is among the last `H`) is the non-distortionary
//!   tournament: layer by layer, every token's probability is multiplied by
//!   `1 + g_d − mass_d`, `mass_d` being the current probability of the tokens whose
//!   layer-d g-value is 1;
//! * generation starts the context as n-1 zeros and ignores the prompt; the reference's
//!   detector (synthid-text's colab, and the scores in the reference vectors) scores the
//!   generated tokens alone, `outputs[:, prompt_len:]`, with no zeros prepended, so the
//!   first n-1 generated tokens are context only (checked against the vectors: prepending
//!   zeros gives n-1 more positions than the reference scored);
//! * scores: mean = Σ mask·g / (D · Σ mask); weighted mean uses `linspace(10, 1, D)`
//!   rescaled to sum to D.
//!
//! How this implementation gets the same g-values faster: unrolled, layer d's key is
//! `lcg(lcg(c, v), k_d) = (c + v)·M² + (1 + k_d)·M + 1` for context hash `c`, candidate
//! `v` and multiplier `M`, which is layer 0's key plus `(k_d − k_0)·M`, an offset that
//! depends on the keys alone. When `S` is a power of two the index is the key's low bits,
//! so it too is layer 0's index plus a fixed offset (mod `S`), and all D g-values of a
//! candidate are a function of layer 0's index: one lookup in a table of `S` bit masks
//! built with the key ([`MAX_PATTERN_TABLE`] bounds its size; other sizes look each layer
//! up). The marking step plays the tournament on classes of tokens, in f32 and f64 (the
//! `tournament` module says how, and how close it stays to the reference's
//! arithmetic); g-values, masks and scores are exact.

use std::collections::{HashMap, HashSet, hash_map::Entry};

use crate::{error::WatermarkError, mt19937::Mt19937, scheme::SynthIdParams};

mod tournament;

const LCG_MULTIPLIER: u64 = 6_364_136_223_846_793_005;

/// The most tournament layers a key may have: a candidate's g-values are one `u32`.
pub const MAX_DEPTH: usize = 32;
/// The longest n-gram a key may use.
pub const MAX_NGRAM_LEN: usize = 32;
/// The largest sampling table, as transformers allows (`sampling_table_size <= 2^24`).
pub const MAX_SAMPLING_TABLE_SIZE: usize = 1 << 24;
/// The largest power-of-two sampling table for which all D g-values are tabulated per
/// layer-0 index: 4 bytes an entry, so 256 kB at transformers' default 2^16 (built in
/// about 2 ms) and 4 MB at this bound (about 40 ms). Larger tables look each layer up
/// rather than take up to 64 MB.
pub const MAX_PATTERN_TABLE: usize = 1 << 20;
/// The longest context history: the history is allocated whole, so an absurd size would
/// exhaust memory rather than mark.
pub const MAX_CONTEXT_HISTORY: usize = 1 << 20;

/// The reference's accumulate hash, one step.
#[inline]
pub fn lcg(h: u64, x: u64) -> u64 {
    h.wrapping_add(x)
        .wrapping_mul(LCG_MULTIPLIER)
        .wrapping_add(1)
}

/// The hash of a token sequence folded from 1.
pub fn ngram_hash(tokens: &[u32]) -> u64 {
    tokens.iter().fold(1, |h, &t| lcg(h, u64::from(t)))
}

/// The reference's sampling table: bit 0 of MT19937 outputs.
pub fn sampling_table(size: usize, seed: u64) -> Vec<u8> {
    let mut mt = Mt19937::new(seed as u32);
    (0..size).map(|_| (mt.next_u32() & 1) as u8).collect()
}

/// The per-layer weights of the weighted-mean score: `linspace(10, 1, D)` scaled to sum
/// to D, so early layers, whose tournament matches are most often decisive, count most.
pub fn layer_weights(depth: usize) -> Vec<f64> {
    let raw: Vec<f64> = (0..depth)
        .map(|i| {
            if depth == 1 {
                10.0
            } else {
                10.0 + i as f64 * (1.0 - 10.0) / (depth - 1) as f64
            }
        })
        .collect();
    let sum: f64 = raw.iter().sum();
    raw.iter().map(|w| w * depth as f64 / sum).collect()
}

/// A SynthID configuration ready to mark and score.
#[derive(Clone)]
pub struct SynthId {
    keys: Vec<u64>,
    ngram_len: usize,
    history: usize,
    /// The sampling table, one bit per entry (8 kB for 2^16 entries: it stays in L1).
    table: Vec<u64>,
    size: usize,
    /// Fraction of ones in the table: the exact null probability of a g-value.
    ones: f64,
    /// For a power-of-two table of at most [`MAX_PATTERN_TABLE`] entries: entry `i` is the
    /// g-values (bit d = layer d) of a candidate whose layer-0 index is `i`.
    patterns: Option<Vec<u32>>,
}

impl std::fmt::Debug for SynthId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SynthId")
            .field("depth", &self.keys.len())
            .field("ngram_len", &self.ngram_len)
            .finish_non_exhaustive()
    }
}

/// Per-position output of [`SynthId::score`], as the reference computes it.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthIdScores {
    /// `g_values[p][d]`, row p belonging to token `p + ngram_len - 1`.
    pub g_values: Vec<Vec<u8>>,
    pub context_repetition_mask: Vec<bool>,
    pub eos_mask: Vec<bool>,
    pub mask: Vec<bool>,
    pub mean: f64,
    pub weighted_mean: f64,
    pub mean_unmasked: f64,
    pub weighted_mean_unmasked: f64,
}

impl SynthId {
    pub fn new(params: &SynthIdParams) -> Result<Self, WatermarkError> {
        let keys = params.keys.expose().clone();
        if keys.is_empty() || keys.len() > MAX_DEPTH {
            return Err(WatermarkError::InvalidKey(format!(
                "SynthID needs 1 to {MAX_DEPTH} keys (one per tournament layer)"
            )));
        }
        if params.ngram_len < 2 || params.ngram_len > MAX_NGRAM_LEN {
            return Err(WatermarkError::InvalidKey(format!(
                "ngram_len must be 2 to {MAX_NGRAM_LEN}"
            )));
        }
        if params.sampling_table_size == 0 || params.sampling_table_size > MAX_SAMPLING_TABLE_SIZE {
            return Err(WatermarkError::InvalidKey(
                "sampling_table_size must be 1 to 2^24".into(),
            ));
        }
        if params.context_history_size == 0 || params.context_history_size > MAX_CONTEXT_HISTORY {
            return Err(WatermarkError::InvalidKey(
                "context_history_size must be 1 to 2^20".into(),
            ));
        }
        let bytes = sampling_table(params.sampling_table_size, params.sampling_table_seed);
        let ones = bytes.iter().map(|&b| f64::from(b)).sum::<f64>() / bytes.len() as f64;
        let mut table = vec![0u64; bytes.len().div_ceil(64)];
        for (i, &b) in bytes.iter().enumerate() {
            table[i / 64] |= u64::from(b) << (i % 64);
        }
        let size = bytes.len();
        let patterns = (size.is_power_of_two() && size <= MAX_PATTERN_TABLE)
            .then(|| layer_patterns(&table, size, &keys));
        Ok(Self {
            keys,
            ngram_len: params.ngram_len,
            history: params.context_history_size,
            table,
            size,
            ones,
            patterns,
        })
    }

    pub fn depth(&self) -> usize {
        self.keys.len()
    }

    pub fn ngram_len(&self) -> usize {
        self.ngram_len
    }

    /// Probability that a g-value is 1 for unwatermarked text.
    pub fn null_probability(&self) -> f64 {
        self.ones
    }

    /// The g-values of a candidate after a context whose hash is `context_hash`, as a bit
    /// mask (bit d = layer d).
    #[inline]
    pub fn g_bits(&self, context_hash: u64, candidate: u32) -> u32 {
        let h = lcg(context_hash, u64::from(candidate));
        if let Some(patterns) = &self.patterns {
            return patterns[lcg(h, self.keys[0]) as usize & (self.size - 1)];
        }
        self.g_bits_per_layer(h)
    }

    /// The g-values of the candidate whose `lcg(context_hash, candidate)` is `h`, one
    /// table lookup per layer.
    fn g_bits_per_layer(&self, h: u64) -> u32 {
        let size = self.size;
        // The reference's `rem_euclid` of the signed hash is its low bits when the size is
        // a power of two (transformers' default 2^16): a mask instead of a division, which
        // was 90% of a marking step.
        let index = |x: u64| {
            if size.is_power_of_two() {
                x as usize & (size - 1)
            } else {
                (x as i64).rem_euclid(size as i64) as usize
            }
        };
        self.keys.iter().enumerate().fold(0u32, |bits, (d, &k)| {
            bits | (table_bit(&self.table, index(lcg(h, k))) << d)
        })
    }

    /// Scores token ids exactly as the reference's detector does: row p is the n-gram
    /// `tokens[p..p + ngram_len]`. Pass the generated tokens only (without the prompt).
    pub fn score(&self, tokens: &[u32], eos: Option<u32>) -> SynthIdScores {
        let n = self.ngram_len;
        let positions = tokens.len().saturating_sub(n - 1);
        let depth = self.depth();
        let mut g_values = Vec::with_capacity(positions);
        let mut context_repetition_mask = Vec::with_capacity(positions);
        let mut history = ContextHistory::new(self.history);
        for p in 0..positions {
            let context = ngram_hash(&tokens[p..p + n - 1]);
            let bits = self.g_bits(context, tokens[p + n - 1]);
            g_values.push(
                (0..depth)
                    .map(|d| ((bits >> d) & 1) as u8)
                    .collect::<Vec<_>>(),
            );
            context_repetition_mask.push(!history.push(context));
        }
        let first_eos = eos.and_then(|e| tokens.iter().position(|&t| t == e));
        let eos_mask: Vec<bool> = (0..positions)
            .map(|p| first_eos.is_none_or(|e| p + n - 1 < e))
            .collect();
        let mask: Vec<bool> = context_repetition_mask
            .iter()
            .zip(&eos_mask)
            .map(|(a, b)| *a && *b)
            .collect();
        let weights = layer_weights(depth);
        let all = vec![true; positions];
        SynthIdScores {
            mean: weighted_score(&g_values, &mask, None),
            weighted_mean: weighted_score(&g_values, &mask, Some(&weights)),
            mean_unmasked: weighted_score(&g_values, &all, None),
            weighted_mean_unmasked: weighted_score(&g_values, &all, Some(&weights)),
            g_values,
            context_repetition_mask,
            eos_mask,
            mask,
        }
    }

    /// The positions the exact test scores, with their number of ones among the D
    /// layers: the reference mask, strengthened so that a context is scored at most once
    /// in the whole text (the reference forgets contexts older than its history), which
    /// keeps the g-values of distinct positions independent under the null.
    pub fn evidence(&self, input: &[u32], eos: Option<u32>) -> Vec<(usize, u32)> {
        let n = self.ngram_len;
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for p in 0..input.len().saturating_sub(n - 1) {
            let token = input[p + n - 1];
            if eos == Some(token) {
                break;
            }
            let context = ngram_hash(&input[p..p + n - 1]);
            if context == 0 || !seen.insert(context) {
                continue;
            }
            out.push((p + n - 1, self.g_bits(context, token).count_ones()));
        }
        out
    }

    /// One generation step: the reference's non-distortionary tournament update of the
    /// distribution `softmax(logits)`, returned as log-probabilities in `logits`.
    /// `context` is the last `ngram_len - 1` generated tokens (zeros before the first).
    /// Returns false (logits untouched) when the context repeats within the history.
    pub fn reweight(&self, context: &[u32], state: &mut MarkingState, logits: &mut [f32]) -> bool {
        let context_hash = ngram_hash(context);
        if state.history.push(context_hash) {
            return false;
        }
        tournament::play(&mut state.field, logits, self.depth(), |v| {
            self.g_bits(context_hash, v)
        });
        true
    }

    /// A fresh marking state, its context history as the reference starts it (zeros).
    pub fn new_marking_state(&self) -> MarkingState {
        MarkingState {
            history: ContextHistory::new(self.history),
            field: tournament::Field::default(),
        }
    }

    /// Expected mean g-value of one layer when the distribution is uniform over `vocab`
    /// tokens (synthid-text's `expected_mean_g_value` for two leaves): 0.5 + 0.25 (1 - 1/V).
    pub fn expected_mean_g_value_uniform(vocab: usize) -> f64 {
        0.5 + 0.25 * (1.0 - 1.0 / vocab as f64)
    }
}

/// What a generation keeps from one marking step to the next: the reference's context
/// history, and the tournament's arrays, reused so that a step does not allocate (at
/// 32,000 tokens, freeing and reallocating them had the kernel zeroing fresh pages for
/// every step).
#[derive(Debug, Clone)]
pub struct MarkingState {
    history: ContextHistory,
    field: tournament::Field,
}

/// The reference's context history: the last `H` context hashes, `H` zeros at the start.
/// It is a ring of the hashes plus a count of each, so that asking whether a context is
/// among the last `H` is one hash-map lookup instead of a scan of `H` entries (which was
/// most of the time `score` took).
#[derive(Debug, Clone)]
struct ContextHistory {
    ring: Vec<u64>,
    /// The slot of the oldest hash, the next to be overwritten.
    oldest: usize,
    /// How many slots hold each hash (only hashes that some slot holds).
    counts: HashMap<u64, u32>,
}

impl ContextHistory {
    fn new(size: usize) -> Self {
        Self {
            ring: vec![0; size],
            oldest: 0,
            counts: HashMap::from([(0, size as u32)]),
        }
    }

    /// Whether `hash` is among the last `H` hashes; then records it as the newest,
    /// forgetting the oldest (the reference tests before it forgets).
    fn push(&mut self, hash: u64) -> bool {
        let seen = self.counts.contains_key(&hash);
        let forgotten = std::mem::replace(&mut self.ring[self.oldest], hash);
        self.oldest = (self.oldest + 1) % self.ring.len();
        if let Entry::Occupied(mut count) = self.counts.entry(forgotten) {
            *count.get_mut() -= 1;
            if *count.get() == 0 {
                count.remove();
            }
        }
        *self.counts.entry(hash).or_insert(0) += 1;
        seen
    }
}

/// Entry `i` of the bit-packed sampling table.
#[inline]
fn table_bit(table: &[u64], i: usize) -> u32 {
    ((table[i / 64] >> (i % 64)) & 1) as u32
}

/// The g-values of every layer-0 index of a power-of-two table of `size` entries: layer
/// d's index is layer 0's plus `(k_d − k_0)·M` (see the module documentation).
fn layer_patterns(table: &[u64], size: usize, keys: &[u64]) -> Vec<u32> {
    let mask = size - 1;
    let mut patterns = vec![0u32; size];
    for (d, &k) in keys.iter().enumerate() {
        let offset = k.wrapping_sub(keys[0]).wrapping_mul(LCG_MULTIPLIER) as usize;
        for (i, bits) in patterns.iter_mut().enumerate() {
            *bits |= table_bit(table, i.wrapping_add(offset) & mask) << d;
        }
    }
    patterns
}

/// Σ mask·w·g / (D · Σ mask), the synthid-text mean and weighted-mean scores.
fn weighted_score(g: &[Vec<u8>], mask: &[bool], weights: Option<&[f64]>) -> f64 {
    let depth = g.first().map_or(1, Vec::len);
    let mut sum = 0.0;
    let mut count = 0usize;
    for (row, &m) in g.iter().zip(mask) {
        if m {
            count += 1;
            sum += row
                .iter()
                .enumerate()
                .map(|(d, &x)| f64::from(x) * weights.map_or(1.0, |w| w[d]))
                .sum::<f64>();
        }
    }
    sum / (depth as f64 * count as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::Secret;

    /// SplitMix64, for reproducible test inputs.
    pub(super) struct TestRng(pub u64);

    impl TestRng {
        pub fn next_u64(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
    }

    pub(super) fn synthid(depth: usize, size: usize, seed: u64) -> SynthId {
        let mut rng = TestRng(seed);
        SynthId::new(&SynthIdParams {
            keys: Secret::new((0..depth).map(|_| rng.next_u64()).collect()),
            ngram_len: 5,
            sampling_table_size: size,
            sampling_table_seed: rng.next_u64(),
            context_history_size: 1024,
        })
        .unwrap()
    }

    #[test]
    fn tabulated_g_values_are_the_per_layer_lookups() {
        for size in [1, 2, 8, 64, 1 << 10, 1 << 16] {
            for depth in [1, 7, 30, MAX_DEPTH] {
                let s = synthid(depth, size, (size * 100 + depth) as u64);
                assert!(s.patterns.is_some());
                let mut rng = TestRng(size as u64);
                for _ in 0..2000 {
                    let context = rng.next_u64();
                    let candidate = rng.next_u64() as u32;
                    let h = lcg(context, u64::from(candidate));
                    assert_eq!(s.g_bits(context, candidate), s.g_bits_per_layer(h));
                }
            }
        }
        // Non-power-of-two and very large tables look each layer up.
        assert!(synthid(30, 1000, 1).patterns.is_none());
        assert!(synthid(2, MAX_PATTERN_TABLE * 2, 1).patterns.is_none());
    }

    /// The reference's tournament, written out plainly in f64 over every finite logit.
    fn tournament_f64(s: &SynthId, context_hash: u64, logits: &[f32]) -> Vec<f64> {
        let finite = logits.iter().filter(|l| l.is_finite());
        let max = finite.fold(f64::NEG_INFINITY, |m, &l| m.max(f64::from(l)));
        let mut p: Vec<f64> = logits.iter().map(|&l| (f64::from(l) - max).exp()).collect();
        let total: f64 = p.iter().sum();
        p.iter_mut().for_each(|x| *x /= total);
        let bits: Vec<u32> = (0..logits.len() as u32)
            .map(|v| s.g_bits(context_hash, v))
            .collect();
        for d in 0..s.depth() {
            let g = |v: usize| f64::from((bits[v] >> d) & 1);
            let mass: f64 = p.iter().enumerate().map(|(v, x)| x * g(v)).sum();
            for (v, x) in p.iter_mut().enumerate() {
                *x *= 1.0 + g(v) - mass;
            }
        }
        p
    }

    /// Test logits of several shapes: `flat` spreads them over 8 nats (the benchmark's),
    /// `peaky` puts one token 25 nats above a spread of 6, `cliff` puts half of the
    /// tokens 100 nats down (out of play), `masked` makes half of them -inf.
    fn test_logits(shape: &str, vocab: usize, rng: &mut TestRng) -> Vec<f32> {
        let mut unit = || (rng.next_u64() >> 11) as f32 / (1u64 << 53) as f32;
        (0..vocab)
            .map(|v| match shape {
                "flat" => 8.0 * unit(),
                "peaky" if v == vocab / 3 => 25.0,
                "peaky" => 6.0 * unit(),
                "cliff" if unit() < 0.5 => -100.0 + unit(),
                "masked" if v != 0 && unit() < 0.5 => f32::NEG_INFINITY,
                _ => 3.0 * unit(),
            })
            .collect()
    }

    /// The fast tournament (classes of tokens, f32 probabilities, tokens 69 nats down
    /// left out) against the f64 one written out: the largest error on any probability
    /// (1.2e-7 when written), and the largest relative error on probabilities of at least
    /// 1e-4 (3.7e-6).
    #[test]
    fn tournament_matches_the_f64_reference() {
        let (mut worst, mut worst_relative) = (0.0f64, 0.0f64);
        for (depth, size) in [(30, 1 << 16), (MAX_DEPTH, 1 << 16), (20, 1000), (1, 64)] {
            let s = synthid(depth, size, depth as u64);
            let mut rng = TestRng(7);
            for vocab in [1, 2, 7, 8, 9, 100, 512, 1001, 32_000] {
                for shape in ["flat", "peaky", "cliff", "masked", "narrow"] {
                    let logits = test_logits(shape, vocab, &mut rng);
                    let context: Vec<u32> = (0..4).map(|_| rng.next_u64() as u32).collect();
                    let want = tournament_f64(&s, ngram_hash(&context), &logits);
                    let mut got = logits.clone();
                    assert!(s.reweight(&context, &mut s.new_marking_state(), &mut got));
                    let got: Vec<f64> = got
                        .iter()
                        .map(|&l| {
                            if l == f32::MIN {
                                0.0
                            } else {
                                f64::from(l).exp()
                            }
                        })
                        .collect();
                    let case = format!("depth {depth}, table {size}, {vocab} {shape} logits");
                    let sum: f64 = got.iter().sum();
                    assert!((sum - 1.0).abs() < 1e-6, "{case}: sum {sum}");
                    for (&a, &b) in got.iter().zip(&want) {
                        assert!((a - b).abs() < 5e-7, "{case}: {a} vs {b}");
                        worst = worst.max((a - b).abs());
                        if b >= 1e-4 {
                            assert!((a / b - 1.0).abs() < 1e-5, "{case}: {a} vs {b}");
                            worst_relative = worst_relative.max((a / b - 1.0).abs());
                        }
                    }
                }
            }
        }
        eprintln!("tournament: largest error {worst:.2e}, relative {worst_relative:.2e}");
    }

    /// The history against the reference's deque: contains, pop_back, push_front.
    #[test]
    fn context_history_is_the_reference_deque() {
        for size in [1, 2, 5, 64] {
            let mut deque: std::collections::VecDeque<u64> = std::iter::repeat_n(0, size).collect();
            let mut history = ContextHistory::new(size);
            let mut rng = TestRng(size as u64);
            for _ in 0..5000 {
                // Few distinct hashes (and 0), so that repeats at every distance occur.
                let hash = rng.next_u64() % 8;
                let seen = deque.contains(&hash);
                deque.pop_back();
                deque.push_front(hash);
                assert_eq!(history.push(hash), seen);
            }
        }
    }

    #[test]
    fn repeated_contexts_and_hopeless_logits() {
        let s = synthid(30, 1 << 16, 3);
        let mut history = s.new_marking_state();
        let logits: Vec<f32> = (0..100).map(|v| v as f32 / 10.0).collect();
        let mut l = logits.clone();
        assert!(s.reweight(&[1, 2, 3, 4], &mut history, &mut l));
        assert_ne!(l, logits);
        let mut l = logits.clone();
        assert!(!s.reweight(&[1, 2, 3, 4], &mut history, &mut l));
        assert_eq!(l, logits);
        for bad in [f32::NEG_INFINITY, f32::NAN] {
            let mut l = vec![bad; 10];
            assert!(s.reweight(&[5, 6, 7, 8], &mut s.new_marking_state(), &mut l));
            assert_eq!(l, vec![f32::MIN; 10]);
        }
    }
}
