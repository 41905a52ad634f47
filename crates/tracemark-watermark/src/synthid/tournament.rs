//! SynthID's non-distortionary tournament over one step's distribution.
//!
//! The reference updates `p = softmax(logits)` layer by layer: with `mass_d` the current
//! probability of the tokens whose layer-d g-value is 1, every token's probability is
//! multiplied by `1 + g_d − mass_d` (so by `2 − mass_d` or `1 − mass_d`, which keeps the
//! total at 1). A token's factor depends on it only through its g-value, so the
//! tournament is played here on classes of tokens rather than on tokens: eight layers
//! at a time, on the 256 classes of tokens that share a byte of g-values (see
//! [`Rounds`]). That costs four passes over the tokens instead of D, whatever D is.
//!
//! Token probabilities are f32, class weights and factors f64. The log-probabilities
//! returned are not logarithms of the token probabilities but
//! `logit − max − ln Σ e^(logit − max) + Σ_d ln factor_d`, with the factors' logarithms
//! tabulated per class.
//!
//! Against the tournament written out plainly in f64, over vocabularies of 1 to 32,000
//! tokens with flat, peaky, masked and cut-off logits (the tests in `synthid.rs`), every
//! output probability is within 1.2e-7 of the f64 one, and within a relative 3.7e-6 for
//! probabilities of at least 1e-4: f32 rounding of the probabilities (e^x to 1.0e-7, one
//! product per round) moves each layer's factor by about 1e-7 relative.

/// Tokens more than this many nats below the top logit are left out of the tournament
/// and get probability 0 (their logit becomes `f32::MIN`). Their probability before the
/// tournament is below e^-69 ≈ 1e-30, and a layer multiplies a probability by at most 2,
/// so each would have ended below e^-69 · 2^D: 1.1e-21 at D = 30, 4.2e-21 at D = 32, and
/// all of them together (≤ 32,000 · 4.2e-21 ≈ 1.3e-16 at 32,000 tokens) far below the
/// precision of the others.
const CUTOFF: f32 = 69.0;

/// Replaces `logits` with the log-probabilities of the tournament's output distribution
/// over `depth` layers; `g_bits(v)` is token v's g-values (bit d = layer d). Tokens left
/// out (see [`CUTOFF`]), `-inf`, NaN or `+inf` logits get `f32::MIN`, and so does every
/// token when no logit is finite. `field` is only reused storage.
pub(super) fn play(
    field: &mut Field,
    logits: &mut [f32],
    depth: usize,
    g_bits: impl Fn(u32) -> u32,
) {
    field.gather(logits, g_bits);
    if field.ids.is_empty() {
        logits.fill(f32::MIN);
        return;
    }
    let mut rounds = Rounds::new();
    let mut weights = field.class_weights(0);
    // The probabilities are not normalised: the rounds only use ratios of masses.
    let ln_total = weights.iter().sum::<f64>().ln();
    for byte in 0..depth.div_ceil(8) {
        rounds.play(byte, &weights, (depth - 8 * byte).min(8));
        if 8 * (byte + 1) < depth {
            weights = field.scale(byte, &rounds.products);
        }
    }
    logits.fill(f32::MIN);
    for ((&id, &shifted), &bits) in field.ids.iter().zip(&field.shifted).zip(&field.bits) {
        let ln_p = f64::from(shifted) - ln_total + rounds.ln_product(bits);
        // A factor of 0 makes ln_p -inf: probability 0, written as f32::MIN like the rest.
        logits[id as usize] = (ln_p as f32).max(f32::MIN);
    }
}

/// Width of the running maximum's lanes (eight f32 fill an AVX2 register, two SSE2 ones):
/// separate lanes are what let the compiler vectorise it.
const LANES: usize = 8;

/// The largest logit (NaN counts as `-inf`), one running maximum per lane.
fn max_logit(logits: &[f32]) -> f32 {
    let (chunks, rest) = logits.as_chunks::<LANES>();
    let mut acc = [f32::NEG_INFINITY; LANES];
    for chunk in chunks {
        for j in 0..LANES {
            acc[j] = acc[j].max(chunk[j]);
        }
    }
    acc.iter()
        .chain(rest)
        .copied()
        .fold(f32::NEG_INFINITY, f32::max)
}

/// The tokens in play, as parallel arrays.
#[derive(Debug, Clone, Default)]
pub(super) struct Field {
    ids: Vec<u32>,
    /// `logit − max`, in [-CUTOFF, 0].
    shifted: Vec<f32>,
    /// Probabilities up to a common factor: e^shifted, times the products of the rounds
    /// played so far.
    probs: Vec<f32>,
    bits: Vec<u32>,
}

impl Field {
    fn gather(&mut self, logits: &[f32], g_bits: impl Fn(u32) -> u32) {
        let max = max_logit(logits);
        // Every token is written, and the count moves past those kept: no branch to
        // mispredict where kept and dropped tokens alternate.
        self.ids.resize(logits.len(), 0);
        self.shifted.resize(logits.len(), 0.0);
        let (ids, shifted) = (&mut self.ids[..], &mut self.shifted[..]);
        let mut kept = 0;
        for (v, &l) in logits.iter().enumerate() {
            ids[kept] = v as u32;
            shifted[kept] = l - max;
            // False for NaN, and for every logit when max is infinite.
            kept += usize::from(l - max >= -CUTOFF);
        }
        self.ids.truncate(kept);
        self.shifted.truncate(kept);
        self.probs.clear();
        self.probs.extend(self.shifted.iter().map(|&s| exp(s)));
        self.bits.clear();
        self.bits.extend(self.ids.iter().map(|&v| g_bits(v)));
    }

    /// The probability of each class of tokens: those whose g-values of layers
    /// 8·byte..8·byte+8 are the same byte.
    fn class_weights(&self, byte: usize) -> [f64; 256] {
        let mut weights = [0.0; 256];
        for (&p, &b) in self.probs.iter().zip(&self.bits) {
            weights[(b >> (8 * byte)) as usize & 0xFF] += f64::from(p);
        }
        weights
    }

    /// Multiplies each token's probability by its class's product of factors for `byte`,
    /// and returns the class weights for the next byte (`byte` < 3: g-values are 32 bits).
    fn scale(&mut self, byte: usize, products: &[f64; 256]) -> [f64; 256] {
        let mut weights = [0.0; 256];
        for (p, &b) in self.probs.iter_mut().zip(&self.bits) {
            *p *= products[(b >> (8 * byte)) as usize & 0xFF] as f32;
            weights[(b >> (8 * byte + 8)) as usize & 0xFF] += f64::from(*p);
        }
        weights
    }
}

/// The tournament played eight layers at a time on the 256 classes of tokens that share
/// a byte of g-values. A layer's factor depends on a token only through its g-value, so
/// a layer's masses can be summed over classes instead of tokens, and a class's product
/// of factors then applies to each of its tokens. Within a round, the factors of layers
/// before j depend only on the low j bits of a class, so layer j's masses are sums over
/// the 2^(j+1) classes of low j+1 bits (`marginals`) weighted by the 2^j products so far.
///
/// The tables live here and are filled in place: returning a 4 kB array by value made
/// the step spend more time in `memcpy` than in the tournament (on the x86 VMs at hand,
/// glibc copies 4 kB and more with `rep movsb`, at about 2.5 bytes/ns).
struct Rounds {
    /// Per byte of g-values and per class, Σ ln factor over the byte's layers (zero past
    /// the last layer): a token's log-product of factors is four lookups.
    ln_products: [[f64; 256]; 4],
    /// The last round's product of factors, per class.
    products: [f64; 256],
    /// The last round's class weights summed over their high bits, for every number of
    /// low bits kept: level j (the low j+1 bits kept) is at 2^(j+1)..2^(j+2).
    marginals: [f64; 512],
}

impl Rounds {
    fn new() -> Self {
        Self {
            ln_products: [[0.0; 256]; 4],
            products: [0.0; 256],
            marginals: [0.0; 512],
        }
    }

    /// Plays layers 8·byte..8·byte+layers (layers ≤ 8); `weights[c]` is the probability
    /// of class c, up to a common factor.
    fn play(&mut self, byte: usize, weights: &[f64; 256], layers: usize) {
        self.sum_marginals(weights);
        // After layer j, products[y] and ln_products[byte][y] for y < 2^(j+1) hold the
        // product of the factors of the round's layers 0..=j, and its log, for the
        // classes whose low j+1 bits are y (the higher bits do not matter yet).
        let (products, ln_products) = (&mut self.products, &mut self.ln_products[byte]);
        products[0] = 1.0;
        ln_products[0] = 0.0;
        for j in 0..layers {
            let half = 1 << j;
            let (low, high) = self.marginals[2 << j..4 << j].split_at(half);
            let dot = |w: &[f64]| -> f64 { w.iter().zip(&*products).map(|(w, p)| w * p).sum() };
            let (zeros, ones) = (dot(low), dot(high));
            // 1 − mass_j from the mass of the zeros rather than by subtraction, which
            // would magnify the rounding of a mass near 1; and relative to the total.
            let f0 = zeros / (zeros + ones);
            let f1 = 1.0 + f0;
            let (ln0, ln1) = (f0.ln(), f1.ln());
            for y in 0..half {
                products[y + half] = products[y] * f1;
                products[y] *= f0;
                ln_products[y + half] = ln_products[y] + ln1;
                ln_products[y] += ln0;
            }
        }
    }

    /// Fills `marginals` from the class weights.
    fn sum_marginals(&mut self, weights: &[f64; 256]) {
        let tree = &mut self.marginals;
        tree[256..].copy_from_slice(weights);
        for j in (0..7).rev() {
            let (lower, upper) = tree.split_at_mut(4 << j);
            let (level, child) = (&mut lower[2 << j..], &upper[..4 << j]);
            let (a, b) = child.split_at(2 << j);
            for ((x, a), b) in level.iter_mut().zip(a).zip(b) {
                *x = a + b;
            }
        }
    }

    /// Σ_d ln factor_d(g_d) for a token's g-values.
    fn ln_product(&self, bits: u32) -> f64 {
        let [t0, t1, t2, t3] = &self.ln_products;
        let byte = |k: u32| (bits >> (8 * k)) as usize & 0xFF;
        (t0[byte(0)] + t1[byte(1)]) + (t2[byte(2)] + t3[byte(3)])
    }
}

/// e^x for x in [-CUTOFF, 0], within 1.0e-7 relative (measured over the range; f32's own
/// `exp` is a libm call per value, this is branch-free arithmetic that the compiler
/// vectorises). x = n·ln 2 + r with n an integer and |r| ≤ ln 2 / 2, so e^x = 2^n · e^r:
/// e^r is its Taylor polynomial of degree 7 (truncation error < r^8/8! < 5.2e-9), and 2^n
/// is built from its exponent bits, which cannot underflow here (n ≥ -100).
fn exp(x: f32) -> f32 {
    // Adding 1.5 · 2^23 rounds to an integer, which then sits in the low mantissa bits.
    const ROUND: f32 = 12_582_912.0;
    // ln 2 split in two: LN2_HI's low 9 mantissa bits are zero, so n · LN2_HI is exact.
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    let t = x * std::f32::consts::LOG2_E + ROUND;
    let n = t - ROUND;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let poly = TAYLOR.iter().rev().fold(0.0, |acc, &c| acc * r + c);
    let n = t.to_bits() as i32 - ROUND.to_bits() as i32;
    poly * f32::from_bits(((n + 127) << 23) as u32)
}

/// 1/k! for k = 0..=7: e^r's Taylor coefficients.
const TAYLOR: [f32; 8] = [
    1.0,
    1.0,
    1.0 / 2.0,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5040.0,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_accurate_over_the_range_in_play() {
        let mut worst = 0.0f64;
        for i in 0..=1_000_000 {
            let x = -CUTOFF * i as f32 / 1e6;
            let want = f64::from(x).exp();
            worst = worst.max((f64::from(exp(x)) / want - 1.0).abs());
        }
        eprintln!("exp: largest relative error {worst:.2e}");
        // f32::EPSILON (2^-23) is one ulp at the bottom of a binade.
        assert!(worst < 2.0 * f64::from(f32::EPSILON), "{worst:e}");
        assert_eq!(exp(0.0), 1.0);
    }
}
