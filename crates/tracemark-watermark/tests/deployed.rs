//! vLLM's and SGLang's marks through the `Watermarker`: keys made from the stacks' own
//! configurations mark in Tracemark's sampling loop and detect, and both directions agree
//! with an independent implementation of the specification written here from
//! `deployed-watermarks.md` (§1.3–1.6, §2.3–2.5), which calls none of the crate's PRF,
//! hash or tail code.

mod common;

use std::collections::HashSet;

use common::*;
use rand_core::RngCore;
use sha2::{Digest, Sha256};
use tracemark_core::Payload;
use tracemark_watermark::{
    Decision, DetectOptions, SchemeConfig, SchemeId, WatermarkError, WatermarkKey,
    WatermarkSampler, Watermarker,
    deployed::{
        SglangConfig, VllmConfig,
        vllm::{self, Mapping},
    },
    scheme::VllmParams,
};

// ---------------------------------------------------------------------------------------
// The independent implementation.

/// Philox4x32-10 as Random123 defines it.
fn philox(mut c: [u32; 4], mut k: [u32; 2]) -> [u32; 4] {
    for round in 0..10 {
        let p0 = 0xD251_1F53u64 * u64::from(c[0]);
        let p1 = 0xCD9E_8D57u64 * u64::from(c[2]);
        c = [
            (p1 >> 32) as u32 ^ c[1] ^ k[0],
            p1 as u32,
            (p0 >> 32) as u32 ^ c[3] ^ k[1],
            p0 as u32,
        ];
        if round < 9 {
            k = [
                k[0].wrapping_add(0x9E37_79B9),
                k[1].wrapping_add(0xBB67_AE85),
            ];
        }
    }
    c
}

/// vLLM's Philox PRF after absorbing `ctx`: the words of every token `0..vocab`.
fn vllm_words(key: u64, ctx: &[i64], vocab: usize, v1b: bool) -> Vec<u32> {
    let (k0, k1) = (key as u32, (key >> 32) as u32);
    let w = ctx.len();
    let mut s = [0x574D_4358, w as u32, 0, 0];
    for offset in (0..w).step_by(4) {
        let mut counter = s;
        for (j, word) in counter.iter_mut().enumerate() {
            *word ^= match ctx.get(offset + j) {
                Some(&c) => c as u32,
                None => 0xFFFF_FFFF - j as u32,
            };
        }
        s = philox(counter, [k0 ^ offset as u32, k1]);
    }
    let key2 = [k0 ^ s[3], k1 ^ 0x574D_544B];
    (0..vocab as u32)
        .map(|t| {
            if v1b {
                philox([t >> 2, s[0], s[1], s[2]], key2)[(t & 3) as usize]
            } else {
                philox([t, s[0], s[1], s[2]], key2)[0]
            }
        })
        .collect()
}

fn vllm_uniform(word: u32) -> f32 {
    ((f64::from(word >> 8) + 1.0) / 16_777_217.0) as f32
}

/// SHA-256(domain ‖ key big-endian), first 8 bytes big-endian.
fn vllm_derive(key: u64, domain: &[u8]) -> u64 {
    let digest = Sha256::new()
        .chain_update(domain)
        .chain_update(key.to_be_bytes())
        .finalize();
    u64::from_be_bytes(digest[..8].try_into().unwrap())
}

/// The `w` generated tokens before generated position `k`, −1 before the first.
fn vllm_context(generated: &[u32], k: usize, w: usize) -> Vec<i64> {
    (k as i64 - w as i64..k as i64)
        .map(|i| {
            if i < 0 {
                -1
            } else {
                i64::from(generated[i as usize])
            }
        })
        .collect()
}

/// What the specification's vLLM configuration is made of.
#[derive(Debug, Clone, Copy)]
struct Vllm {
    key: u64,
    /// `Some(alpha)` for `dual_key_gumbel`.
    dual: Option<f64>,
    width: usize,
    v1b: bool,
}

impl Vllm {
    /// The marking keys: the key, or keys A and B.
    fn keys(&self) -> (u64, Option<u64>) {
        match self.dual {
            None => (self.key, None),
            Some(_) => (
                vllm_derive(self.key, b"key_a"),
                Some(vllm_derive(self.key, b"key_b")),
            ),
        }
    }

    /// vLLM's detector (`GumbelWatermarkDetector`, dedup on): `(n, S, ln p)` over the
    /// generated tokens.
    fn detect(&self, generated: &[u32]) -> (usize, f64, f64) {
        let (a, b) = self.keys();
        let score = |key: u64, ctx: &[i64], t: u32| {
            let word = vllm_words(key, ctx, t as usize + 1, self.v1b)[t as usize];
            -(-f64::from(vllm_uniform(word))).ln_1p()
        };
        let mut seen = HashSet::new();
        let (mut n, mut total) = (0, 0.0);
        for (k, &t) in generated.iter().enumerate() {
            let ctx = vllm_context(generated, k, self.width);
            if !seen.insert(ctx.clone()) {
                continue;
            }
            n += 1;
            total += match (b, self.dual) {
                (Some(b), Some(alpha)) => {
                    (1.0 - alpha) * score(a, &ctx, t) + alpha * score(b, &ctx, t)
                }
                _ => score(a, &ctx, t),
            };
        }
        let ln_p = match self.dual {
            None => ln_q(n as f64, total),
            Some(alpha) => {
                let v = (1.0 - alpha).powi(2) + alpha.powi(2);
                ln_q(n as f64 / v, total / v)
            }
        };
        (n, total, if n == 0 { 0.0 } else { ln_p })
    }
}

/// vLLM's generation (non-speculative, `deduplicate_contexts = "single_turn"`, history
/// 8192) as a sampler of Tracemark's loop: Gumbel-max on the filtered distribution,
/// dual-key routing drawn from its own generator, repeated contexts left to the loop.
struct VllmMarkerSpec {
    spec: Vllm,
    generated: Vec<u32>,
    routing: TestRng,
}

impl WatermarkSampler for VllmMarkerSpec {
    fn step(&mut self, logits: &mut [f32]) -> Result<Decision, WatermarkError> {
        let (w, k) = (self.spec.width, self.generated.len());
        let ctx = vllm_context(&self.generated, k, w);
        let history_start = k.saturating_sub(8192);
        if (history_start..k).any(|j| vllm_context(&self.generated, j, w) == ctx) {
            return Ok(Decision::Logits);
        }
        let (a, b) = self.spec.keys();
        let key = match (b, self.spec.dual) {
            (Some(b), Some(alpha)) if self.routing.unit() < alpha => b,
            _ => a,
        };
        let words = vllm_words(key, &ctx, logits.len(), self.spec.v1b);
        let probs = softmax(logits);
        let mut best = (f64::NEG_INFINITY, None);
        for (v, (&p, &word)) in probs.iter().zip(&words).enumerate() {
            if p > 0.0 {
                let u = f64::from(vllm_uniform(word).max(f32::MIN_POSITIVE));
                let value = p.ln() - (-u.ln()).ln();
                if value > best.0 {
                    best = (value, Some(v as u32));
                }
            }
        }
        Ok(Decision::Token(best.1.expect("a finite logit")))
    }

    fn accept(&mut self, token: u32) -> Result<(), WatermarkError> {
        self.generated.push(token);
        Ok(())
    }
}

/// MurmurHash3_x86_32, seed 0, over little-endian u32 words.
fn murmur(words: &[u32]) -> u32 {
    let mut h = 0u32;
    for &word in words {
        let k = word
            .wrapping_mul(0xcc9e_2d51)
            .rotate_left(15)
            .wrapping_mul(0x1b87_3593);
        h = (h ^ k)
            .rotate_left(13)
            .wrapping_mul(5)
            .wrapping_add(0xe654_6b64);
    }
    h ^= 4 * words.len() as u32;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

/// What the specification's SGLang configuration is made of.
#[derive(Debug, Clone, Copy)]
struct Sglang {
    key: u64,
    /// `Some((key_b, mixing_probability))` for dual key.
    dual: Option<(u64, f64)>,
    window: usize,
}

impl Sglang {
    /// The key that marks the context hashed `ctx`.
    fn key_for(&self, ctx: u32) -> u64 {
        match self.dual {
            None => self.key,
            Some((b, mixing)) => {
                let a = self.key;
                let coin = murmur(&[a as u32, (a >> 32) as u32, b as u32, (b >> 32) as u32, ctx]);
                if u64::from(coin) < (mixing * 4_294_967_296.0) as u64 {
                    a
                } else {
                    b
                }
            }
        }
    }

    fn uniform(key: u64, ctx: u32, t: u32) -> f64 {
        (f64::from(murmur(&[key as u32, (key >> 32) as u32, ctx, t])) + 0.5) / 4_294_967_296.0
    }

    /// SGLang's `WatermarkDetector.detect_tokens`, `combined`: `(n, S, ln p)`.
    fn detect(&self, prompt: &[u32], completion: &[u32]) -> (usize, f64, f64) {
        let h = self.window;
        let tail = &prompt[prompt.len().saturating_sub(h)..];
        let tokens: Vec<u32> = tail.iter().chain(completion).copied().collect();
        let first = if prompt.is_empty() {
            h.min(completion.len())
        } else {
            tail.len()
        };
        let mut seen = HashSet::new();
        let (mut n, mut total) = (0, 0.0);
        for i in first..tokens.len() {
            let ctx = &tokens[i.saturating_sub(h)..i];
            if !seen.insert(ctx.to_vec()) {
                continue;
            }
            let ctx_hash = murmur(ctx);
            let u = Self::uniform(self.key_for(ctx_hash), ctx_hash, tokens[i]);
            n += 1;
            total += -(-u).ln_1p();
            if seen.len() == 4096 {
                break;
            }
        }
        (n, total, if n == 0 { 0.0 } else { ln_q(n as f64, total) })
    }
}

/// SGLang's generation as a sampler of Tracemark's loop: `argmax ln(u)/p`, a context
/// marked once, the 4,096-context budget, `max_probability` 1.
struct SglangMarkerSpec {
    spec: Sglang,
    tokens: Vec<u32>,
    forced: HashSet<u32>,
}

impl WatermarkSampler for SglangMarkerSpec {
    fn step(&mut self, logits: &mut [f32]) -> Result<Decision, WatermarkError> {
        let ctx = &self.tokens[self.tokens.len().saturating_sub(self.spec.window)..];
        let ctx_hash = murmur(ctx);
        if self.forced.contains(&ctx_hash) || self.forced.len() >= 4096 {
            return Ok(Decision::Logits);
        }
        self.forced.insert(ctx_hash);
        let key = self.spec.key_for(ctx_hash);
        let mut best = (f64::NEG_INFINITY, None);
        for (v, &p) in softmax(logits).iter().enumerate() {
            if p > 0.0 {
                let value = Sglang::uniform(key, ctx_hash, v as u32).ln() / p;
                if value > best.0 {
                    best = (value, Some(v as u32));
                }
            }
        }
        Ok(Decision::Token(best.1.expect("a finite logit")))
    }

    fn accept(&mut self, token: u32) -> Result<(), WatermarkError> {
        self.tokens.push(token);
        Ok(())
    }
}

fn softmax(logits: &[f32]) -> Vec<f64> {
    let max = logits
        .iter()
        .copied()
        .filter(|l| l.is_finite())
        .fold(f32::NEG_INFINITY, f32::max);
    let weights: Vec<f64> = logits
        .iter()
        .map(|&l| {
            if l.is_finite() {
                f64::from(l - max).exp()
            } else {
                0.0
            }
        })
        .collect();
    let total: f64 = weights.iter().sum();
    weights.iter().map(|w| w / total).collect()
}

/// `ln Γ(x)`, Lanczos (g = 7, 9 terms), for x ≥ 1/2.
fn ln_gamma(x: f64) -> f64 {
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    let x = x - 1.0;
    let t = x + 7.5;
    let sum = C[1..]
        .iter()
        .enumerate()
        .fold(C[0], |s, (i, c)| s + c / (x + i as f64 + 1.0));
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// `ln Q(a, x)`, the regularised upper incomplete gamma: the series for P below
/// `a + 1`, Lentz's continued fraction above (Numerical Recipes' `gser` and `gcf`).
fn ln_q(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    let ln_prefix = -x + a * x.ln() - ln_gamma(a);
    if x < a + 1.0 {
        let (mut term, mut sum, mut ap) = (1.0 / a, 1.0 / a, a);
        while term > sum * 1e-17 {
            ap += 1.0;
            term *= x / ap;
            sum += term;
        }
        (-(ln_prefix + sum.ln()).exp()).ln_1p()
    } else {
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let (mut c, mut d) = (1.0 / tiny, 1.0 / b);
        let mut h = d;
        for i in 1..100_000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < 1e-16 {
                break;
            }
        }
        ln_prefix + h.ln()
    }
}

fn vllm_params_mut(key: &mut WatermarkKey) -> &mut VllmParams {
    match &mut key.config {
        SchemeConfig::VllmGumbel(p) | SchemeConfig::VllmDualKeyGumbel(p) => p,
        other => panic!("not a vLLM key: {other:?}"),
    }
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(f64::MIN_POSITIVE)
}

// ---------------------------------------------------------------------------------------
// Keys made from the stacks' configurations.

fn vllm_key(json: &str, mapping: Mapping) -> WatermarkKey {
    WatermarkKey::vllm(&VllmConfig::from_json(json).unwrap(), mapping)
}

fn sglang_key(json: &str) -> WatermarkKey {
    WatermarkKey::sglang(&SglangConfig::from_json(json).unwrap())
}

/// Each deployed configuration tested, as a Tracemark key and as the specification's.
enum Case {
    Vllm(Vllm, WatermarkKey),
    Sglang(Sglang, WatermarkKey),
}

impl Case {
    fn key(&self) -> &WatermarkKey {
        match self {
            Case::Vllm(_, key) | Case::Sglang(_, key) => key,
        }
    }

    fn name(&self) -> String {
        match self {
            Case::Vllm(spec, key) => format!("{} {spec:?}", key.scheme()),
            Case::Sglang(spec, key) => format!("{} {spec:?}", key.scheme()),
        }
    }

    /// The specification's detector on `tokens` (prompt first): `(n, S, ln p)`.
    fn detect_spec(&self, tokens: &[u32], prompt_len: usize) -> (usize, f64, f64) {
        match self {
            Case::Vllm(spec, _) => spec.detect(&tokens[prompt_len..]),
            Case::Sglang(spec, _) => spec.detect(&tokens[..prompt_len], &tokens[prompt_len..]),
        }
    }

    /// The specification's marker for a generation after `prompt`.
    fn marker_spec(&self, prompt: &[u32], seed: u64) -> Box<dyn WatermarkSampler> {
        match self {
            Case::Vllm(spec, _) => Box::new(VllmMarkerSpec {
                spec: *spec,
                generated: vec![],
                routing: TestRng(seed ^ 0x0707),
            }),
            Case::Sglang(spec, _) => Box::new(SglangMarkerSpec {
                spec: *spec,
                tokens: prompt[prompt.len().saturating_sub(spec.window)..].to_vec(),
                forced: HashSet::new(),
            }),
        }
    }

    /// Whether both markers must choose the same tokens (all but vLLM's dual-key routing,
    /// which each draws its own way).
    fn deterministic(&self) -> bool {
        !matches!(self, Case::Vllm(Vllm { dual: Some(_), .. }, _))
    }
}

fn cases() -> Vec<Case> {
    let vllm = |json: &str, key, dual, v1b| {
        let mapping = if v1b { Mapping::V1b } else { Mapping::V1a };
        Case::Vllm(
            Vllm {
                key,
                dual,
                width: 4,
                v1b,
            },
            vllm_key(json, mapping),
        )
    };
    let sglang = |json: &str, key, dual, window| {
        Case::Sglang(Sglang { key, dual, window }, sglang_key(json))
    };
    vec![
        vllm(r#"{"algorithm": "gumbel", "key": 42}"#, 42, None, true),
        vllm(
            r#"{"key": 18446744073709551557}"#,
            u64::MAX - 58,
            None,
            false,
        ),
        vllm(
            r#"{"algorithm": "dual_key_gumbel", "key": 42}"#,
            42,
            Some(0.1),
            true,
        ),
        vllm(
            r#"{"algorithm": "dual_key_gumbel", "key": 7, "alpha": 0.5}"#,
            7,
            Some(0.5),
            false,
        ),
        sglang(
            r#"{"key": "0123456789abcdef"}"#,
            0x0123_4567_89ab_cdef,
            None,
            4,
        ),
        sglang(
            r#"{"key": "0x1234", "key_b": "fedcba9876543210", "mixing_probability": 0.3,
                "context_window": 3}"#,
            0x1234,
            Some((0xfedc_ba98_7654_3210, 0.3)),
            3,
        ),
    ]
}

// ---------------------------------------------------------------------------------------

/// The independent implementation is the specification: it reproduces the reference's
/// known answers, and the `Watermarker` made from vLLM's configuration gives the vector's
/// verdict.
#[test]
fn the_independent_implementation_reproduces_the_known_answers() {
    assert_eq!(
        philox([0; 4], [0; 2]),
        [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8]
    );
    let pad = [-1i64; 4];
    assert_eq!(
        vllm_words(42, &pad, 4, true),
        [0xfa2f_6b05, 0x01b2_a14f, 0xe1c0_616e, 0x7fe6_ad3f]
    );
    assert_eq!(
        vllm_words(42, &pad, 4, false),
        [0xfa2f_6b05, 0x2abf_97d0, 0x1f1b_4ef7, 0x5b80_ee90]
    );
    assert_eq!(vllm_words(42, &[1, 2, 3, 4], 11, true)[10], 0x042b_f17d);
    assert_eq!(vllm_words(42, &[1, 2, 3, 4, 5], 11, true)[10], 0x694d_4711);
    assert_eq!(vllm_derive(42, b"key_a"), 0x0083_fc6a_8fb9_d18c);
    assert_eq!(vllm_derive(42, b"key_b"), 0xdba3_81ce_1fb8_87ad);
    assert_eq!(murmur(&[u32::from_le_bytes(*b"test")]), 0xba6b_d213);
    let ctx = murmur(&[1, 2, 3, 4]);
    assert_eq!(ctx, 0x4445_ad00);
    let u = Sglang::uniform(0x0123_4567_89ab_cdef, ctx, 10);
    assert!((-(-u).ln_1p() - 0.781_019_637_277).abs() < 1e-12);

    // vLLM's v1b vector under key 42: S = 335.334005…, p = 1.837…e-74 (mpmath).
    const V1B: [u32; 64] = [
        85, 56, 123, 77, 105, 62, 9, 104, 16, 98, 123, 22, 16, 35, 47, 127, 77, 67, 19, 2, 10, 8,
        75, 22, 127, 30, 95, 9, 101, 14, 113, 122, 85, 66, 122, 50, 38, 119, 15, 58, 68, 62, 24,
        126, 80, 126, 68, 83, 81, 126, 62, 31, 18, 81, 64, 47, 22, 70, 47, 109, 54, 21, 65, 38,
    ];
    let spec = Vllm {
        key: 42,
        dual: None,
        width: 4,
        v1b: true,
    };
    let (n, s, ln_p) = spec.detect(&V1B);
    assert_eq!(n, 64);
    assert!((s - 335.334_005).abs() < 1e-6, "{s}");
    assert!(close(ln_p.exp(), 1.837_188_718_740_348e-74, 1e-9));
    let wm = Watermarker::new(&vllm_key(r#"{"key": 42}"#, Mapping::V1b), 128).unwrap();
    let found = wm.detect(&V1B, &DetectOptions::new(0.01)).unwrap();
    assert_eq!(found.verdict.scored, 64);
    assert!(close(found.verdict.p_value.ln(), ln_p, 1e-12));
    assert!(found.verdict.detected);
    assert_eq!(found.verdict.method, "vllm-gumbel-v1");
    assert_eq!(
        found.verdict.parameters["upstream_method"],
        "vllm-gumbel/philox4x32-10-v1b"
    );
    // The same ids under the v1a key are not marked (p = 0.48 in the reference).
    let v1a = Watermarker::new(&vllm_key(r#"{"key": 42}"#, Mapping::V1a), 128).unwrap();
    let other = v1a.detect(&V1B, &DetectOptions::new(0.01)).unwrap();
    assert!(close(
        other.verdict.p_value.value(),
        0.477_586_757_559_960_05,
        1e-9
    ));
}

/// Tracemark's loop marks with the `Watermarker`; the specification's detector detects,
/// with the very statistic and p-value the `Watermarker` reports.
#[test]
fn text_marked_by_tracemark_is_detected_by_the_specification() {
    for (i, case) in cases().iter().enumerate() {
        let wm = Watermarker::new(case.key(), VOCAB).unwrap();
        let prompt = prompt(100 + i as u64);
        let tokens = generate(&wm, &prompt, 200, 200 + i as u64, None);
        let (n, s, ln_p) = case.detect_spec(&tokens, prompt.len());
        let name = case.name();
        eprintln!(
            "{name}: n = {n}, S = {s:.3}, log10 p = {:.1}",
            ln_p / 10f64.ln()
        );
        assert!(ln_p < 1e-6f64.ln(), "{name}: ln p = {ln_p}");
        let ours = wm
            .detect(&tokens, &DetectOptions::new(1e-6).prompt_len(prompt.len()))
            .unwrap();
        assert_eq!(ours.verdict.scored, n as u64, "{name}");
        assert!(close(ours.mean_score * n as f64, s, 1e-12), "{name}");
        assert!(
            close(ours.verdict.p_value.ln(), ln_p, 1e-9),
            "{name}: {} vs {ln_p}",
            ours.verdict.p_value.ln()
        );
        assert!(ours.verdict.detected);
        // Unmarked text is not marked for the specification either.
        let plain = unmarked(&prompt, 200, 300 + i as u64);
        let (_, _, ln_plain) = case.detect_spec(&plain, prompt.len());
        assert!(ln_plain > 1e-3f64.ln(), "{name}: ln p = {ln_plain}");
    }
}

/// The specification's markers, run in the same loop, are detected by the `Watermarker`;
/// where the choice is deterministic they choose exactly Tracemark's tokens.
#[test]
fn text_marked_by_the_specification_is_detected_by_tracemark() {
    for (i, case) in cases().iter().enumerate() {
        let wm = Watermarker::new(case.key(), VOCAB).unwrap();
        let prompt = prompt(400 + i as u64);
        let seed = 500 + i as u64;
        let mut marker = case.marker_spec(&prompt, seed);
        let tokens = generate_with(marker.as_mut(), &prompt, 200, seed, VOCAB);
        let opts = DetectOptions::new(1e-6).prompt_len(prompt.len());
        let found = wm.detect(&tokens, &opts).unwrap();
        let name = case.name();
        eprintln!("{name}: log10 p = {:.1}", found.verdict.p_value.log10());
        assert!(found.verdict.detected, "{name}: {:?}", found.verdict);
        assert!(found.payload.is_none());
        // Without the prompt ids (SGLang then skips the first tokens) and as pasted text.
        let generated = &tokens[prompt.len()..];
        assert!(
            wm.detect(generated, &DetectOptions::new(1e-6))
                .unwrap()
                .verdict
                .detected
        );
        let segments = wm
            .detect_segments(&tokens, &DetectOptions::new(1e-3))
            .unwrap();
        assert_eq!(segments.len(), 1, "{name}");
        if case.deterministic() {
            assert_eq!(
                generate(&wm, &prompt, 200, seed, None),
                tokens,
                "{name}: Tracemark and the specification chose different tokens"
            );
        }
    }
}

#[test]
fn wrong_keys_mappings_and_unmarked_text_are_not_detected() {
    let opts = |prompt: &[u32]| DetectOptions::new(1e-3).prompt_len(prompt.len());
    for (i, case) in cases().iter().enumerate() {
        let wm = Watermarker::new(case.key(), VOCAB).unwrap();
        let prompt = prompt(600 + i as u64);
        let marked = generate(&wm, &prompt, 200, 700 + i as u64, None);
        let name = case.name();
        let wrong: Vec<WatermarkKey> = match case {
            Case::Vllm(spec, key) => {
                let mut remapped = key.clone();
                vllm_params_mut(&mut remapped).mapping =
                    if spec.v1b { Mapping::V1a } else { Mapping::V1b };
                let mut rekeyed = key.clone();
                let params = vllm_params_mut(&mut rekeyed);
                params.key = tracemark_watermark::Secret::new(params.key.expose() ^ 1);
                vec![remapped, rekeyed]
            }
            Case::Sglang(..) => vec![sglang_key(r#"{"key": "0123456789abcdee"}"#)],
        };
        for key in wrong {
            let other = Watermarker::new(&key, VOCAB).unwrap();
            let found = other.detect(&marked, &opts(&prompt)).unwrap();
            assert!(!found.verdict.detected, "{name}: {:?}", found.verdict);
        }
        let plain = unmarked(&prompt, 200, 800 + i as u64);
        let found = wm.detect(&plain, &opts(&prompt)).unwrap();
        assert!(
            !found.verdict.detected,
            "{name} unmarked: {:?}",
            found.verdict
        );
    }
}

/// Over 2000 unmarked sequences the detection rate at α stays within 1.5·α: exact for
/// Gumbel (Gamma(n, 1)) and dual key at α = ½, moment-matched (vLLM's own test) at 0.1.
#[test]
fn false_positive_rates_are_calibrated() {
    const SEQUENCES: u64 = 2000;
    for case in cases() {
        let mut rng = TestRng(4242);
        let alphas = [0.01, 0.05, 0.2];
        let mut hits = [0u32; 3];
        let wm = Watermarker::new(case.key(), VOCAB).unwrap();
        for _ in 0..SEQUENCES {
            let tokens: Vec<u32> = (0..150)
                .map(|_| (rng.next_u64() % VOCAB as u64) as u32)
                .collect();
            let p = wm
                .detect(&tokens, &DetectOptions::new(0.5))
                .unwrap()
                .verdict
                .p_value;
            for (h, a) in hits.iter_mut().zip(alphas) {
                *h += u32::from(p.significant_at(a));
            }
        }
        for (h, a) in hits.iter().zip(alphas) {
            let rate = f64::from(*h) / SEQUENCES as f64;
            eprintln!("{}: alpha {a}: {rate:.4}", case.name());
            assert!(rate <= 1.5 * a, "{}: {rate} at {a}", case.name());
        }
        assert!(
            f64::from(hits[2]) / SEQUENCES as f64 >= 0.1,
            "{}",
            case.name()
        );
    }
}

#[test]
fn windowed_detection_finds_a_pasted_segment() {
    for (i, case) in cases().iter().enumerate() {
        let wm = Watermarker::new(case.key(), VOCAB).unwrap();
        let before = unmarked(&prompt(900 + i as u64), 300, 900);
        let with_marked = generate(&wm, &before, 200, 901 + i as u64, None);
        let text = unmarked(&with_marked, 300, 902);
        let segments = wm
            .detect_segments(&text, &DetectOptions::new(1e-3))
            .unwrap();
        let name = case.name();
        assert_eq!(segments.len(), 1, "{name}: {segments:?}");
        let found = &segments[0].tokens;
        assert!(
            found.start.abs_diff(before.len()) <= 24,
            "{name}: {found:?}"
        );
        assert!(
            found.end.abs_diff(with_marked.len()) <= 24,
            "{name}: {found:?}"
        );
        assert_eq!(segments[0].verdict.method, case.key().scheme().as_str());
        let plain = unmarked(&prompt(990 + i as u64), 800, 990);
        let none = wm
            .detect_segments(&plain, &DetectOptions::new(1e-3))
            .unwrap();
        assert!(none.is_empty(), "{name}: {none:?}");
    }
}

/// The steps vLLM and SGLang leave unmarked hand the logits back to the loop.
#[test]
fn unmarked_steps_are_left_to_the_loop() {
    let flat = || vec![0.0f32; VOCAB];
    // vLLM "all": the first w generated tokens are never marked.
    let key = vllm_key(r#"{"key": 3, "deduplicate_contexts": "all"}"#, Mapping::V1b);
    let wm = Watermarker::new(&key, VOCAB).unwrap();
    let mut marker = wm.start(&[1, 2], None).unwrap();
    for t in 0..4 {
        assert_eq!(marker.step(&mut flat()).unwrap(), Decision::Logits);
        marker.accept(t).unwrap();
    }
    assert!(matches!(
        marker.step(&mut flat()).unwrap(),
        Decision::Token(_)
    ));
    // vLLM "single_turn": a context seen before in the generation.
    let key = vllm_key(r#"{"key": 3}"#, Mapping::V1b);
    let wm = Watermarker::new(&key, VOCAB).unwrap();
    let mut marker = wm.start(&[], None).unwrap();
    let decisions: Vec<Decision> = (0..6)
        .map(|_| {
            let d = marker.step(&mut flat()).unwrap();
            marker.accept(5).unwrap();
            d
        })
        .collect();
    assert!(
        decisions[..5]
            .iter()
            .all(|d| matches!(d, Decision::Token(_)))
    );
    assert_eq!(decisions[5], Decision::Logits, "[5, 5, 5, 5] again");
    // SGLang: the entropy gate, and a context marked once.
    let key = sglang_key(r#"{"key": "1", "max_probability": 0.5}"#);
    let wm = Watermarker::new(&key, VOCAB).unwrap();
    let mut marker = wm.start(&[1, 2, 3, 4], None).unwrap();
    let mut peaked = vec![f32::NEG_INFINITY; VOCAB];
    peaked[9] = 0.0;
    assert_eq!(marker.step(&mut peaked).unwrap(), Decision::Logits);
    assert!(matches!(
        marker.step(&mut flat()).unwrap(),
        Decision::Token(_)
    ));
    assert_eq!(marker.step(&mut flat()).unwrap(), Decision::Logits);
    // Nothing to sample at a marked step is an error, not a silent unmarked token.
    let mut masked = vec![f32::NEG_INFINITY; VOCAB];
    let e = wm.start(&[7], None).unwrap().step(&mut masked).unwrap_err();
    assert_eq!(e, WatermarkError::NoFiniteLogit);
}

#[test]
fn deployed_keys_carry_no_payload() {
    for case in cases() {
        let wm = Watermarker::new(case.key(), VOCAB).unwrap();
        assert_eq!(wm.payload_bits(), 0);
        let e = wm
            .start(&[1], Some(Payload::new(1, 8).unwrap()))
            .unwrap_err();
        assert_eq!(e, WatermarkError::PayloadUnsupported);
    }
    for scheme in SchemeId::DEPLOYED {
        let key = WatermarkKey::generate_with_payload(scheme, 16, &mut TestRng(1));
        assert_eq!(key.scheme(), scheme);
        assert_eq!(Watermarker::new(&key, VOCAB).unwrap().payload_bits(), 0);
    }
}

/// A key file holds the configuration under the scheme's id; importing a configuration
/// twice gives one key id, and the id follows the scheme and the secret only.
#[test]
fn key_files_round_trip_and_ids_follow_scheme_and_secret() {
    for case in cases() {
        let key = case.key();
        let json = serde_json::to_value(key).unwrap();
        assert_eq!(json["scheme"], key.scheme().as_str());
        assert!(json.get("secret").is_none());
        let back: WatermarkKey = serde_json::from_value(json).unwrap();
        assert_eq!(&back, key);
    }
    let vllm = |json| vllm_key(json, Mapping::V1b).key_id;
    assert_eq!(vllm(r#"{"key": 42}"#), vllm(r#"{"key": 42, "alpha": 0.1}"#));
    assert_ne!(vllm(r#"{"key": 42}"#), vllm(r#"{"key": 43}"#));
    assert_ne!(
        vllm(r#"{"key": 42}"#),
        vllm(r#"{"key": 42, "algorithm": "dual_key_gumbel"}"#)
    );
    let sglang = |json| sglang_key(json).key_id;
    assert_eq!(sglang(r#"{"key": "0x00ab"}"#), sglang(r#"{"key": "AB"}"#));
    assert_ne!(
        sglang(r#"{"key": "ab"}"#),
        sglang(r#"{"key": "ab", "key_b": "cd"}"#)
    );

    // What the files say, with SGLang's keys as SGLang writes them.
    let key = vllm_key(
        r#"{"algorithm": "dual_key_gumbel", "key": 42, "deduplicate_contexts_max_history": null}"#,
        Mapping::V1a,
    );
    let json = serde_json::to_value(&key).unwrap();
    assert_eq!(json["scheme"], "vllm-dual-key-gumbel-v1");
    assert_eq!(
        json["params"],
        serde_json::json!({"key": 42, "mapping": "v1a", "context_width": 4, "alpha": 0.1,
            "deduplicate_contexts": "single_turn", "deduplicate_contexts_max_history": null,
            "allow_target_only_watermarking": false})
    );
    let json = serde_json::to_value(sglang_key(r#"{"key": "0xAB", "key_b": "1"}"#)).unwrap();
    assert_eq!(json["params"]["key"], "00000000000000ab");
    assert_eq!(json["params"]["key_b"], "0000000000000001");

    // Hand-written parameters take the stacks' defaults; the mapping defaults to v1b.
    let mut minimal = serde_json::to_value(vllm_key(r#"{"key": 5}"#, Mapping::V1b)).unwrap();
    minimal["params"] = serde_json::json!({"key": 5});
    let read: WatermarkKey = serde_json::from_value(minimal).unwrap();
    assert_eq!(read.config, vllm_key(r#"{"key": 5}"#, Mapping::V1b).config);
}

/// Keys never show: not in Debug output, verdicts, or the errors of a bad key file.
#[test]
fn secrets_never_show() {
    let secret_vllm = 9_876_543_210_123u64;
    let secret_sglang = "7a3c9e1f0b2d4c6e";
    let keys = [
        vllm_key(&format!(r#"{{"key": {secret_vllm}}}"#), Mapping::V1b),
        vllm_key(
            &format!(r#"{{"key": {secret_vllm}, "algorithm": "dual_key_gumbel"}}"#),
            Mapping::V1b,
        ),
        sglang_key(&format!(
            r#"{{"key": "{secret_sglang}", "key_b": "{secret_sglang}"}}"#
        )),
    ];
    for key in keys {
        let wm = Watermarker::new(&key, VOCAB).unwrap();
        let tokens = unmarked(&prompt(1), 80, 1);
        let verdict = wm
            .detect(&tokens, &DetectOptions::new(1e-3))
            .unwrap()
            .verdict;
        let segments = wm
            .detect_segments(&tokens, &DetectOptions::new(0.5))
            .unwrap();
        let marker = wm.start(&[1], None).unwrap();
        let shown = format!(
            "{key:?} {wm:?} {marker:?} {} {segments:?}",
            serde_json::to_string(&verdict).unwrap()
        );
        for secret in [secret_vllm.to_string(), secret_sglang.to_owned()] {
            assert!(!shown.contains(&secret), "{shown}");
        }
        assert_eq!(verdict.parameters["key_id"], serde_json::json!(key.key_id));
    }
    // A key file with a key of the wrong form says so without the value.
    let mut json = serde_json::to_value(vllm_key(r#"{"key": 5}"#, Mapping::V1b)).unwrap();
    json["params"]["key"] = "9876543210123".into();
    let e = serde_json::from_value::<WatermarkKey>(json.clone()).unwrap_err();
    assert!(e.to_string().contains("`key` must be an integer"), "{e}");
    assert!(!e.to_string().contains("9876543210123"), "{e}");
    let mut json = serde_json::to_value(sglang_key(r#"{"key": "1"}"#)).unwrap();
    json["params"]["key"] = "7a3c9e1f0b2d4c6eff".into();
    let e = serde_json::from_value::<WatermarkKey>(json).unwrap_err();
    assert!(
        e.to_string().contains("hex string of 1 to 16 digits"),
        "{e}"
    );
    assert!(!e.to_string().contains("7a3c9e1f0b2d4c6e"), "{e}");
    // Nor do the stacks' configuration errors.
    for json in [
        r#"{"key": "9876543210123"}"#,
        r#"{"key": 98765432101234567890}"#,
    ] {
        let e = VllmConfig::from_json(json).unwrap_err().to_string();
        assert!(!e.contains("98765432101"), "{e}");
    }
    let e = SglangConfig::from_json(r#"{"key": 98765432101}"#)
        .unwrap_err()
        .to_string();
    assert!(!e.contains("98765432101"), "{e}");
}

/// A key file edited out of the stacks' ranges is refused when used, not misread.
#[test]
fn bad_key_parameters_are_refused() {
    let edit = |key: &WatermarkKey, field: &str, value: serde_json::Value| {
        let mut json = serde_json::to_value(key).unwrap();
        json["params"][field] = value;
        serde_json::from_value::<WatermarkKey>(json)
            .map_err(|e| e.to_string())
            .and_then(|k| {
                Watermarker::new(&k, VOCAB)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
    };
    let vllm = vllm_key(r#"{"key": 5}"#, Mapping::V1b);
    let sglang = sglang_key(r#"{"key": "5"}"#);
    for (key, field, value, says) in [
        (&vllm, "context_width", 0.into(), "context_width"),
        (&vllm, "context_width", 5000.into(), "context_width"),
        (&vllm, "alpha", 1.5.into(), "alpha"),
        (
            &vllm,
            "deduplicate_contexts_max_history",
            0.into(),
            "max_history",
        ),
        (&vllm, "mapping", "v2".into(), "unknown variant"),
        (
            &vllm,
            "deduplicate_contexts",
            "some".into(),
            "unknown variant",
        ),
        (&vllm, "prf", "philox".into(), "unknown field"),
        (&sglang, "context_window", 65.into(), "context_window"),
        (
            &sglang,
            "mixing_probability",
            1.0.into(),
            "mixing_probability",
        ),
        (&sglang, "algorithm", "synthid".into(), "unknown field"),
    ] {
        let e = edit(key, field, value).unwrap_err();
        assert!(e.contains(says), "{field}: {e}");
    }
    // And a vocabulary of another size than the key's tokenizer's, as for every key.
    let mut bound = vllm.clone();
    bound.tokenizer = Some(tracemark_watermark::TokenizerBinding {
        hash: tracemark_core::ContentHash::of_bytes(b"t"),
        vocab_size: 32000,
    });
    assert!(matches!(
        Watermarker::new(&bound, VOCAB),
        Err(WatermarkError::VocabMismatch { .. })
    ));
}

/// The verdict on a whole text is vLLM's and SGLang's own detector's, bit for bit.
#[test]
fn whole_text_verdicts_are_the_upstream_detectors() {
    for (i, case) in cases().iter().enumerate() {
        let wm = Watermarker::new(case.key(), VOCAB).unwrap();
        let prompt = prompt(1100 + i as u64);
        let tokens = generate(&wm, &prompt, 150, 1200 + i as u64, None);
        let ours = wm
            .detect(&tokens, &DetectOptions::new(1e-3).prompt_len(prompt.len()))
            .unwrap()
            .verdict;
        let (p, scored) = match case {
            Case::Vllm(_, key) => {
                let params = vllm_params_mut(&mut key.clone()).clone();
                let mut config = VllmConfig::gumbel(*params.key.expose());
                if key.scheme() == SchemeId::VllmDualKeyGumbel {
                    config =
                        VllmConfig::dual_key_gumbel(*params.key.expose(), params.alpha).unwrap();
                }
                let options = vllm::DetectOptions {
                    prompt_len: prompt.len(),
                    ..vllm::DetectOptions::default()
                };
                let d = vllm::detect(&config, params.mapping, &tokens, &options).unwrap();
                (d.verdict.p_value, d.scored as u64)
            }
            Case::Sglang(..) => {
                let SchemeConfig::SglangGumbel(params) = &case.key().config else {
                    unreachable!()
                };
                let config = SglangConfig::from_params(params).unwrap();
                let d = tracemark_watermark::deployed::sglang::detect(
                    &config,
                    Some(&tokens[..prompt.len()]),
                    &tokens[prompt.len()..],
                    &Default::default(),
                )
                .unwrap();
                (d.verdict.p_value, d.combined.contexts as u64)
            }
        };
        assert_eq!(ours.p_value.ln(), p.ln(), "{}", case.name());
        assert_eq!(ours.scored, scored);
    }
}
