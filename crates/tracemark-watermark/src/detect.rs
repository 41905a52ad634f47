//! From per-token observations to p-values: payload decoding, the exact tests and
//! windowed detection.
//!
//! Every scheme reduces a token sequence to *observations*: for each scored token (a
//! (context, token) pair seen for the first time, after the prompt), its payload slot and
//! its score under each digit that slot could carry. Zero-bit keys have one slot and one
//! digit. Under the null hypothesis (text not made with this key) the scores of distinct
//! observations are independent draws of a known law: Bernoulli trials (KGW, Unigram,
//! SynthID g-values) or Exp(1) (Gumbel), conditionally on the slots (which depend on the
//! context only).
//!
//! **Payload decoding** sums each slot's scores per digit and hands the totals to the
//! key's [`Layout`] ([`crate::payload`]): it returns the message with the largest total
//! among all `M = 2^bits` messages, slot by slot for uncoded keys, by Viterbi decoding
//! for coded ones. For any *fixed* message the total has the exact null law (binomial or
//! gamma), so the union bound over all `M` messages, `p = min(1, M · tail(total))`, is a
//! valid p-value for the decoded message (Bonferroni over every payload tried).
//!
//! **Windowed detection** (text pasted into human writing) scans the observations with
//! the window family `lengths = 32·2^i` and `45·2^i` observations (`i ≥ 0`, below the
//! number of observations) and `stride = length / 4`, plus the whole sequence; each window gets its
//! exact tail, multiplied by the number of windows `W` (and by `M` for payload keys, whose
//! digits are decoded on the whole sequence). Overlapping significant windows are merged
//! into one segment, whose p-value is the smallest corrected window p-value inside it and
//! whose bounds are refined to the maximum-sum sub-range of `score − drift`, with the
//! drift halfway between the null mean and the segment's mean score.

use std::ops::Range;

use tracemark_core::{ByteRange, PValue, Segment, Verdict};

use crate::{error::WatermarkError, payload::Layout, stats};

/// The null law of one observation's score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Null {
    /// The score counts successes among `trials` Bernoulli(`p`) trials.
    Binomial { p: f64, trials: u32 },
    /// The score is Exp(1).
    Exponential,
    /// The score is vLLM's dual-key `(1−α)·E_A + α·E_B` of two independent Exp(1)
    /// scores: mean 1, variance `v = (1−α)² + α²`. A sum of `count` is tested as vLLM's
    /// detector tests it, against Gamma(count/v, scale v)
    /// ([`crate::deployed::vllm::ln_p_dual`]): the law matched on its two moments, exact
    /// for α ∈ {0, ½, 1}. Otherwise the true tail decays at rate `1/max(α, 1−α)`,
    /// slower than the Gamma's `1/v`, so far in the tail (short windows, tiny levels)
    /// the p-value is somewhat too small, as vLLM's own is.
    DualKeyExponential { alpha: f64 },
}

impl Null {
    fn mean(self) -> f64 {
        match self {
            Null::Binomial { p, trials } => p * f64::from(trials),
            Null::Exponential | Null::DualKeyExponential { .. } => 1.0,
        }
    }

    /// `ln P[sum of `count` null scores ≥ total]`.
    pub fn ln_tail(self, count: u64, total: f64) -> f64 {
        match self {
            Null::Binomial { p, trials } => {
                stats::ln_binomial_sf(total.round() as u64, count * u64::from(trials), p)
            }
            Null::Exponential => stats::ln_gamma_sf(count, total),
            Null::DualKeyExponential { alpha } => {
                crate::deployed::vllm::ln_p_dual(total, count as usize, alpha)
            }
        }
    }
}

/// Scores of the scored tokens under every digit.
#[derive(Debug, Clone)]
pub struct Observations {
    pub null: Null,
    /// Digits per slot (1 for zero-bit keys).
    pub radix: u32,
    /// Token index of each observation in the input.
    pub index: Vec<usize>,
    pub slot: Vec<u32>,
    /// `radix` scores per observation, digit-major within an observation.
    pub scores: Vec<f64>,
}

impl Observations {
    /// Empty observations with room for `capacity` of them.
    pub fn with_capacity(null: Null, radix: u32, capacity: usize) -> Self {
        Self {
            null,
            radix,
            index: Vec::with_capacity(capacity),
            slot: Vec::with_capacity(capacity),
            scores: Vec::with_capacity(capacity * radix as usize),
        }
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }
}

/// The decoded message and every observation's score under it.
#[derive(Debug, Clone)]
pub struct Evidence {
    pub null: Null,
    pub index: Vec<usize>,
    pub score: Vec<f64>,
    pub payload: u64,
    /// `ln M` to add to every tail.
    pub ln_messages: f64,
}

/// Decodes the message and keeps each observation's score under it.
pub fn decode(obs: Observations, layout: Layout) -> Evidence {
    let r = obs.radix as usize;
    let slots = layout.slots() as usize;
    let mut totals = vec![0.0; slots * r];
    for (i, &s) in obs.slot.iter().enumerate() {
        for d in 0..r {
            totals[s as usize * r + d] += obs.scores[i * r + d];
        }
    }
    let (payload, digits) = layout.decode(&totals);
    let score = if r == 1 {
        obs.scores
    } else {
        obs.slot
            .iter()
            .enumerate()
            .map(|(i, &s)| obs.scores[i * r + digits[s as usize] as usize])
            .collect()
    };
    Evidence {
        null: obs.null,
        index: obs.index,
        score,
        payload,
        ln_messages: layout.ln_messages(),
    }
}

impl Evidence {
    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// `ln p` of the whole sequence, corrected for every message tried.
    pub fn ln_p(&self) -> f64 {
        let total: f64 = self.score.iter().sum();
        (self.null.ln_tail(self.len() as u64, total) + self.ln_messages).min(0.0)
    }

    /// Mean score per observation (green fraction, mean `−ln(1−r)`, mean g count).
    pub fn mean_score(&self) -> f64 {
        self.score.iter().sum::<f64>() / self.len().max(1) as f64
    }
}

/// The documented window family over `n` observations: `(start, end)` in observation
/// units.
pub fn windows(n: usize) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = std::iter::once(0..n).collect();
    // Two lengths per octave (45 ≈ 32·√2), so that some window length is within a factor
    // √2 of any passage's: a 200-token passage gets a 181-long window, not only 128. The
    // doubled family costs ln 2 in the correction.
    let lengths = (0..usize::BITS - 6)
        .flat_map(|k| [32usize << k, 45usize << k])
        .take_while(|&len| len < n);
    for len in lengths {
        let stride = len / 4;
        let mut start = 0;
        while start + len <= n {
            out.push(start..start + len);
            start += stride;
        }
        // The last window flush with the end, unless the stride already landed there.
        if out.last().is_some_and(|w| w.end < n) {
            out.push(n - len..n);
        }
    }
    out
}

/// A watermarked part of a token sequence, as token indices `start..end`.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenSegment {
    pub tokens: Range<usize>,
    pub verdict: Verdict,
}

/// Finds the significant segments. `make_verdict` turns a corrected p-value and the
/// number of observations in the segment into a verdict.
pub fn segments(
    evidence: &Evidence,
    alpha: f64,
    make_verdict: impl Fn(PValue, u64) -> Verdict,
) -> Vec<TokenSegment> {
    let n = evidence.len();
    let family = windows(n);
    let ln_correction = (family.len() as f64).ln() + evidence.ln_messages;
    let mut prefix = Vec::with_capacity(n + 1);
    prefix.push(0.0);
    for s in &evidence.score {
        prefix.push(prefix.last().copied().unwrap_or(0.0) + s);
    }
    let mut significant: Vec<(Range<usize>, f64)> = family
        .into_iter()
        .filter(|w| !w.is_empty())
        .map(|w| {
            let total = prefix[w.end] - prefix[w.start];
            let ln_p = evidence.null.ln_tail(w.len() as u64, total) + ln_correction;
            (w, ln_p.min(0.0))
        })
        .filter(|(_, ln_p)| *ln_p <= alpha.ln())
        .collect();
    significant.sort_by_key(|(w, _)| (w.start, w.end));
    // Each merged region keeps its most significant window, where refinement starts.
    let mut merged: Vec<(Range<usize>, f64, Range<usize>)> = Vec::new();
    for (w, ln_p) in significant {
        match merged.last_mut() {
            Some((m, best, best_window)) if w.start < m.end => {
                m.end = m.end.max(w.end);
                if ln_p < *best {
                    *best = ln_p;
                    *best_window = w;
                }
            }
            _ => merged.push((w.clone(), ln_p, w)),
        }
    }
    merged
        .into_iter()
        .map(|(region, ln_p, best_window)| {
            let refined = refine(evidence, &prefix, region, best_window);
            let start = evidence.index[refined.start];
            let end = evidence.index[refined.end - 1] + 1;
            TokenSegment {
                tokens: start..end,
                verdict: make_verdict(PValue::from_ln(ln_p), refined.len() as u64),
            }
        })
        .collect()
}

/// The maximum-sum sub-range of `score − drift` inside `region` (Kadane), the drift
/// halfway between the null mean and the mean of the current range. Starting from the
/// region's most significant window (the whole region's mean is diluted by the unmarked
/// edges its windows overlap, and a low drift lets an unmarked edge with a few chance
/// hits join the segment), a few rounds settle the drift and the bounds.
fn refine(
    evidence: &Evidence,
    prefix: &[f64],
    region: Range<usize>,
    start: Range<usize>,
) -> Range<usize> {
    let mut range = start;
    for _ in 0..4 {
        let mean = (prefix[range.end] - prefix[range.start]) / range.len() as f64;
        let next = max_sum_range(
            &evidence.score,
            region.clone(),
            0.5 * (evidence.null.mean() + mean),
        );
        if next == range {
            break;
        }
        range = next;
    }
    range
}

/// Kadane's maximum-sum sub-range of `score − drift` within `region`.
fn max_sum_range(score: &[f64], region: Range<usize>, drift: f64) -> Range<usize> {
    let mut best = (f64::NEG_INFINITY, region.clone());
    let mut run = 0.0;
    let mut run_start = region.start;
    for i in region {
        if run <= 0.0 {
            run = 0.0;
            run_start = i;
        }
        run += score[i] - drift;
        if run > best.0 {
            best = (run, run_start..i + 1);
        }
    }
    best.1
}

/// Maps token segments to byte ranges of the text, given each token's byte range (from
/// the tokenizer's offsets), one per token of the sequence that was scored.
pub fn to_byte_segments(
    segments: &[TokenSegment],
    offsets: &[ByteRange],
) -> Result<Vec<Segment>, WatermarkError> {
    segments
        .iter()
        .map(|s| {
            let first = offsets.get(s.tokens.start);
            let last = s.tokens.end.checked_sub(1).and_then(|i| offsets.get(i));
            match (first, last) {
                (Some(a), Some(b)) => Ok(Segment {
                    range: a.cover(b),
                    verdict: s.verdict.clone(),
                }),
                _ => Err(WatermarkError::OffsetsLength {
                    expected: s.tokens.end,
                    got: offsets.len(),
                }),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::PayloadCode;

    #[test]
    fn window_family_covers_the_sequence_at_every_scale() {
        let w = windows(100);
        assert_eq!(w[0], 0..100);
        assert!(w.contains(&(0..32)));
        assert!(w.contains(&(68..100)));
        assert!(w.contains(&(0..64)) && w.contains(&(36..100)));
        assert!(w.contains(&(0..45)) && w.contains(&(55..100)));
        assert!(w.contains(&(0..90)) && w.contains(&(10..100)));
        let distinct: std::collections::HashSet<_> = w.iter().cloned().collect();
        assert_eq!(distinct.len(), w.len(), "no window is counted twice");
        assert!(w.iter().all(|r| r.end <= 100 && !r.is_empty()));
        assert_eq!(windows(10), vec![0..10]);
    }

    /// Bernoulli scores with `hits` ones in every `period` observations.
    fn pattern(n: usize, hits: usize, period: usize) -> impl Iterator<Item = f64> {
        (0..n).map(move |i| f64::from(u8::from(i % period < hits)))
    }

    #[test]
    fn a_segment_does_not_swallow_an_unmarked_edge_with_chance_hits() {
        // 64 unmarked observations running a little hot (3 in 8 against γ = 1/4), the
        // 200 marked ones (5 in 8), then 536 unmarked (1 in 4).
        let score: Vec<f64> = pattern(64, 3, 8)
            .chain(pattern(200, 5, 8))
            .chain(pattern(536, 1, 4))
            .collect();
        let evidence = Evidence {
            null: Null::Binomial { p: 0.25, trials: 1 },
            index: (0..score.len()).collect(),
            score,
            payload: 0,
            ln_messages: 0.0,
        };
        let found = segments(&evidence, 1e-3, |p, n| {
            Verdict::decide(p, 1e-3, "test", serde_json::Value::Null, n)
        });
        assert_eq!(found.len(), 1, "{found:?}");
        let tokens = &found[0].tokens;
        assert!(
            (56..=72).contains(&tokens.start) && (256..=272).contains(&tokens.end),
            "{tokens:?}"
        );
    }

    #[test]
    fn decoding_picks_the_best_digit_within_the_payload_width() {
        let mut obs = Observations::with_capacity(Null::Binomial { p: 0.25, trials: 1 }, 4, 6);
        // Slot 0 favours digit 2, slot 1 (one bit only) favours digit 3, which it may not
        // hold, then digit 1.
        for (slot, digit) in [(0, 2), (0, 2), (0, 1), (1, 3), (1, 3), (1, 1)] {
            obs.index.push(obs.index.len());
            obs.slot.push(slot);
            obs.scores
                .extend((0..4).map(|d| if d == digit { 1.0 } else { 0.0 }));
        }
        let layout = Layout {
            bits: 3,
            radix: 4,
            code: PayloadCode::None,
        };
        let ev = decode(obs, layout);
        assert_eq!(ev.payload, 0b1_10);
        assert_eq!(ev.score, vec![1.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
    }
}
