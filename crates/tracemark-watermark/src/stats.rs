//! Exact tails in log space.
//!
//! Watermark p-values reach 1e-300 and below, so every tail is computed as `ln p` by
//! summing the exact probability mass function in log space (log-sum-exp), never with a
//! normal approximation (anti-conservative for small counts, KGW's z-test) and never as
//! `1 - cdf` of a tiny number. Sums start at the largest term and stop once the remaining
//! terms, which shrink at least geometrically away from the mode, can no longer change
//! the result in double precision.

/// `ln Γ(x)` for `x > 0` (Lanczos, g = 7, 9 terms; relative error below 1e-14).
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
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
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1-x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// `ln C(n, k)`.
pub fn ln_choose(n: u64, k: u64) -> f64 {
    ln_gamma(n as f64 + 1.0) - ln_gamma(k as f64 + 1.0) - ln_gamma((n - k) as f64 + 1.0)
}

/// `ln(1 - e^a)` for `a ≤ 0`, accurate near both ends.
pub fn ln_one_minus_exp(a: f64) -> f64 {
    if a > -std::f64::consts::LN_2 {
        (-a.exp_m1()).ln()
    } else {
        (-a.exp()).ln_1p()
    }
}

/// Sums terms starting at `first` (the largest, given as its `ln`), each next term being
/// the previous times `ratio(i)` (at most 1), until the terms stop mattering or `count`
/// terms were added; returns the sum's `ln`. The sum runs in linear space relative to
/// the first term, so a term costs one multiplication rather than an `exp` and a `ln`:
/// this loop is most of the cost of windowed detection.
fn ln_geometric_sum(first: f64, count: u64, mut ratio: impl FnMut(u64) -> f64) -> f64 {
    let (mut total, mut term) = (1.0f64, 1.0f64);
    for i in 1..count {
        term *= ratio(i);
        total += term;
        // Terms decrease at least geometrically; e^-40 of the total is < 1e-17.
        if term < total * 4.2e-18 {
            break;
        }
    }
    first + total.ln()
}

/// `ln P[X ≥ k]` for `X ~ Binomial(n, p)`, exact.
pub fn ln_binomial_sf(k: u64, n: u64, p: f64) -> f64 {
    if k == 0 {
        return 0.0;
    }
    if k > n || p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return 0.0;
    }
    let (lp, lq) = (p.ln(), (-p).ln_1p());
    let ln_pmf = |i: u64| ln_choose(n, i) + i as f64 * lp + (n - i) as f64 * lq;
    let odds = p / (1.0 - p);
    let mean = n as f64 * p;
    if k as f64 >= mean {
        // Upper tail: terms k, k+1, … shrink past the mode.
        ln_geometric_sum(ln_pmf(k), n - k + 1, |j| {
            let i = k + j - 1; // from term i to i+1
            (n - i) as f64 / (i + 1) as f64 * odds
        })
    } else {
        // P[X ≥ k] = 1 - P[X ≤ k-1]; the lower tail sums downwards from k-1.
        let lower = ln_geometric_sum(ln_pmf(k - 1), k, |j| {
            let i = k - j; // from term i to i-1
            i as f64 / (n - i + 1) as f64 / odds
        });
        ln_one_minus_exp(lower.min(0.0))
    }
}

/// `ln P[S ≥ x]` for `S ~ Gamma(shape, 1)` with an integer shape: the regularised upper
/// incomplete gamma `Q(shape, x)`, exact through `Q(n, x) = P[Poisson(x) ≤ n - 1]`.
pub fn ln_gamma_sf(shape: u64, x: f64) -> f64 {
    if shape == 0 || x <= 0.0 {
        return 0.0;
    }
    let lx = x.ln();
    let ln_poisson = |i: u64| -x + i as f64 * lx - ln_gamma(i as f64 + 1.0);
    let n = shape;
    if x >= n as f64 {
        // Q = Σ_{i<n} Poisson(i; x), terms increase up to i = n-1 < x: sum downwards.
        ln_geometric_sum(ln_poisson(n - 1), n, |j| {
            let i = n - j; // from term i to i-1
            i as f64 / x
        })
    } else {
        // Q = 1 - Σ_{i≥n} Poisson(i; x), terms decrease from i = n > x.
        let upper = ln_geometric_sum(ln_poisson(n), u64::MAX, |j| {
            let i = n + j - 1; // from term i to i+1
            x / (i + 1) as f64
        });
        ln_one_minus_exp(upper.min(0.0))
    }
}

/// `ln Q(a, x)`, the regularised upper incomplete gamma `Γ(a, x) / Γ(a)` for a real shape
/// `a > 0`: `P[S ≥ x]` for `S ~ Gamma(a, 1)`. Below `x = a + 1` through the series of
/// `P(a, x)` and `Q = 1 − P` (computed as `ln(1 − e^{ln P})`); above it through the
/// continued fraction of `Q` (modified Lentz), so the tail stays exact far out. Relative
/// error about 1e-12 (dominated by [`ln_gamma`]). `x ≤ 0` gives 0 (`Q = 1`).
pub fn ln_gamma_q(a: f64, x: f64) -> f64 {
    if x <= 0.0 || a <= 0.0 || x.is_nan() || a.is_nan() {
        return 0.0;
    }
    if x.is_infinite() {
        return f64::NEG_INFINITY;
    }
    let ln_prefix = -x + a * x.ln();
    if x < a + 1.0 {
        // P = e^{-x} x^a / Γ(a+1) · Σ_k x^k / ((a+1)…(a+k)).
        let (mut term, mut sum) = (1.0f64, 1.0f64);
        let mut k = 1.0;
        while k < 1e7 {
            term *= x / (a + k);
            sum += term;
            if term < sum * 1e-17 {
                break;
            }
            k += 1.0;
        }
        let ln_p = ln_prefix - ln_gamma(a + 1.0) + sum.ln();
        ln_one_minus_exp(ln_p.min(0.0))
    } else {
        // Q = e^{-x} x^a / Γ(a) · 1/(x+1-a- 1·(1-a)/(x+3-a- 2·(2-a)/(x+5-a- …))).
        const TINY: f64 = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / TINY;
        let mut d = 1.0 / b;
        let mut h = d;
        let mut i = 1.0;
        while i < 1e7 {
            let an = -i * (i - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < TINY {
                d = TINY;
            }
            c = b + an / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < 1e-16 {
                break;
            }
            i += 1.0;
        }
        (ln_prefix - ln_gamma(a) + h.ln()).min(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300)
    }

    #[test]
    fn ln_gamma_matches_factorials_and_half_integers() {
        let mut fact = 1.0f64;
        for n in 1..30u32 {
            fact *= f64::from(n);
            assert!(close(ln_gamma(f64::from(n) + 1.0), fact.ln(), 1e-13), "{n}");
        }
        assert!(close(
            ln_gamma(0.5),
            std::f64::consts::PI.sqrt().ln(),
            1e-13
        ));
        // ln Γ(1000) = 5905.220423209181 (known value).
        assert!(close(ln_gamma(1000.0), 5_905.220_423_209_181, 1e-13));
    }

    /// Brute force in plain probability space for small n.
    fn binomial_sf_brute(k: u64, n: u64, p: f64) -> f64 {
        (k..=n)
            .map(|i| ln_choose(n, i).exp() * p.powi(i as i32) * (1.0 - p).powi((n - i) as i32))
            .sum()
    }

    #[test]
    fn binomial_tail_equals_the_summed_mass_function() {
        for &(n, p) in &[(1u64, 0.25), (10, 0.25), (57, 0.5), (200, 0.25), (300, 0.1)] {
            for k in 0..=n {
                let exact = binomial_sf_brute(k, n, p);
                let got = ln_binomial_sf(k, n, p).exp();
                assert!(close(got, exact, 1e-9), "n={n} k={k}: {got} vs {exact}");
            }
        }
    }

    #[test]
    fn binomial_tail_stays_finite_far_out() {
        // P[X = n] = p^n exactly.
        let ln = ln_binomial_sf(2000, 2000, 0.25);
        assert!(close(ln, 2000.0 * 0.25f64.ln(), 1e-12));
        assert_eq!(ln_binomial_sf(0, 10, 0.3), 0.0);
        assert_eq!(ln_binomial_sf(11, 10, 0.3), f64::NEG_INFINITY);
    }

    /// Q(n, x) for small n has the closed form e^{-x} Σ_{i<n} x^i / i!.
    #[test]
    fn gamma_tail_equals_the_poisson_sum() {
        for n in 1..40u64 {
            for &x in &[0.01f64, 0.5, 1.0, 3.0, 10.0, 25.0, 60.0] {
                let mut term = (-x).exp();
                let mut sum = 0.0;
                for i in 0..n {
                    if i > 0 {
                        term *= x / i as f64;
                    }
                    sum += term;
                }
                let got = ln_gamma_sf(n, x).exp();
                assert!(close(got, sum, 1e-9), "n={n} x={x}: {got} vs {sum}");
            }
        }
        // Exponential tail: Q(1, x) = e^{-x}, also far out.
        assert!(close(ln_gamma_sf(1, 900.0), -900.0, 1e-12));
    }

    #[test]
    fn gamma_tail_of_large_shapes_is_near_one_half_at_the_mean() {
        // The median of Gamma(n,1) is about n - 1/3.
        let q = ln_gamma_sf(10_000, 10_000.0 - 1.0 / 3.0).exp();
        assert!((q - 0.5).abs() < 1e-3, "{q}");
    }
    #[test]
    fn real_shape_gamma_tail_agrees_with_the_integer_one_and_mpmath() {
        for n in [1u64, 2, 5, 17, 64, 300, 5000] {
            for &x in &[
                0.3f64, 1.0, 4.0, 20.0, 63.0, 64.0, 100.0, 335.3, 900.0, 5100.0,
            ] {
                let (a, b) = (ln_gamma_q(n as f64, x), ln_gamma_sf(n, x));
                assert!(
                    (a - b).abs() <= 1e-10 * b.abs().max(1e-3),
                    "n={n} x={x}: {a} vs {b}"
                );
            }
        }
        // mpmath.gammainc(a, x, regularized=True), 30 digits.
        for (a, x, q) in [
            (52.439_024_390_243_9, 60.0, 0.148_404_612_111_200_63),
            (2.5, 0.5, 0.962_565_773_247_296_4),
            (78.048_780_487_804_9, 400.0, 4.039_031_046_905_964e-87),
        ] {
            let got = ln_gamma_q(a, x).exp();
            assert!(close(got, q, 1e-10), "Q({a}, {x}) = {got}, not {q}");
        }
    }
}
