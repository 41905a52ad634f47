//! What the image and the audio marks share: the keyed layout of carrier units into a
//! pilot and the payload's code slots, and the test that turns per-unit readings into a
//! verdict with an exact p-value.
//!
//! # The null hypothesis and the p-value
//!
//! Each carrier unit `i` (a DCT coefficient, a pair of STFT bands) has a keyed chip
//! `c_i = ±1` and a target sign `s_i = c_i` (pilot units) or `s_i = c_i·(1 − 2b)` (data
//! units, `b` the coded bit of the unit's slot). The embedder pushes the unit's reading
//! `y_i` towards the sign `s_i`; the detector counts agreements `[sign(y_i) = s_i]`.
//!
//! **Null**: the content was not marked with this key (unmarked, or marked with another
//! key). The chips are independent fair coins drawn from the key's PRF, independent of the
//! content and of which units are pilot, so, *conditionally on the content*, each pilot
//! agreement is a fair coin and the count of agreements among the `n` pilot units with
//! `y_i ≠ 0` is exactly Binomial(n, ½), whatever the content. No model of images or
//! sounds enters: the p-value `P[Bin(n, ½) ≥ k]` is exact (conservative only by the
//! discreteness of the binomial). When the detector tries `C` alignments (crops, start
//! offsets) it reports `min(1, C · min p)` (Bonferroni), still a valid p-value.
//!
//! The payload is decoded from the data units by soft Viterbi decoding of the K = 7
//! convolutional code (`tracemark_watermark::payload`). Its own p-value is the union
//! bound the text marks use: under the null, the agreements with any *fixed* codeword are
//! Binomial(n_data, ½), so `2^80 · P[Bin ≥ k]` bounds the chance that the decoded one
//! agrees as well (2^80: the payload's 64 bits and a keyed 16-bit check, coded apart in
//! slots of their own). A payload is reported only when the verdict is significant, the
//! payload's own p-value is at most the same level, *and* the decoded check matches the
//! decoded payload: noise is never read as a payload, and a decode that lands on a
//! neighbouring wrong codeword is caught with probability 1 − 2^-16.

use serde::Serialize;
use tracemark_core::{PValue, Payload, Verdict};
use tracemark_watermark::{
    PayloadCode,
    payload::Layout,
    prf::{Prf, fmix64, word},
    stats::ln_binomial_sf,
};

use crate::key::PAYLOAD_BITS;

/// The payload's code: 64 bits, one coded bit per slot, K = 7 rate ½: 140 slots.
pub(crate) const CODE: Layout = Layout {
    bits: PAYLOAD_BITS,
    radix: 2,
    code: PayloadCode::ConvolutionalK7,
};

/// The keyed check's code: 16 bits, 44 slots after the payload's.
const CHECK: Layout = Layout {
    bits: 16,
    radix: 2,
    code: PayloadCode::ConvolutionalK7,
};

/// Every code slot: the payload's, then the check's.
fn slots() -> usize {
    (CODE.slots() + CHECK.slots()) as usize
}

/// A pilot unit's slot marker.
const PILOT: u16 = u16::MAX;

/// Which unit carries what, and its chip.
#[derive(Clone)]
pub(crate) struct UnitLayout {
    /// The code slot of each unit, or [`PILOT`].
    slot: Vec<u16>,
    /// `true` for chip −1.
    negative: Vec<bool>,
    /// Keys the 16-bit check of a payload.
    check_seed: u64,
    /// The pilot units and their chips, for the verdict alone (false-positive runs read
    /// millions of alignments and need nothing else).
    pilots: Vec<(u32, bool)>,
}

impl std::fmt::Debug for UnitLayout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "UnitLayout({} units)", self.slot.len())
    }
}

impl UnitLayout {
    /// `units` units, `units / pilot_every` of them pilot, the rest dealt round-robin to
    /// the code's slots in a keyed order: a keyed permutation (Fisher–Yates driven by the
    /// PRF under `tag`) so each slot's units are spread over the whole picture or clip, and
    /// every slot gets the same number (±1).
    pub fn new(prf: &Prf, tag: u8, units: usize, pilot_every: usize) -> Self {
        let order_seed = prf.seed(tag, &[0]);
        let chip_seed = prf.seed(tag, &[1]);
        let mut order: Vec<u32> = (0..units as u32).collect();
        for i in (1..units).rev() {
            let j = (word(order_seed, i as u32, 0) % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        let pilots = units / pilot_every;
        let slots = slots();
        let mut slot = vec![PILOT; units];
        for (rank, &unit) in order.iter().enumerate().skip(pilots) {
            slot[unit as usize] = ((rank - pilots) % slots) as u16;
        }
        let negative: Vec<bool> = (0..units as u32)
            .map(|i| word(chip_seed, i, 0) >> 63 == 1)
            .collect();
        let pilots = (0..units)
            .filter(|&i| slot[i] == PILOT)
            .map(|i| (i as u32, negative[i]))
            .collect();
        Self {
            slot,
            negative,
            check_seed: prf.seed(tag, &[2]),
            pilots,
        }
    }

    /// The keyed 16-bit check written beside a payload. A payload is reported only when
    /// the check decoded beside it matches: a Viterbi decode that lands on a wrong
    /// codeword (a few units misread after a crop) passes with probability 2^-16, where
    /// the union-bound p-value alone would let a near-miss through.
    fn check(&self, payload: u64) -> u64 {
        fmix64(self.check_seed ^ payload) & 0xffff
    }

    /// The coded bit of every slot for a payload.
    fn coded_bits(&self, payload: u64) -> Vec<u32> {
        let mut bits = CODE.digits(payload);
        bits.extend(CHECK.digits(self.check(payload)));
        bits
    }

    /// `(n, k)`: pilot units read and pilot units agreeing with their chip.
    pub fn pilot_counts(&self, readings: &[f32]) -> (u64, u64) {
        let (mut n, mut k) = (0u64, 0u64);
        for &(i, neg) in &self.pilots {
            let y = readings[i as usize];
            if y.is_nan() || y == 0.0 {
                continue;
            }
            n += 1;
            k += u64::from((y > 0.0) != neg);
        }
        (n, k)
    }

    /// The sign each unit is pushed towards (+1 or −1) for a payload.
    pub fn targets(&self, payload: u64) -> Vec<f32> {
        let bits = self.coded_bits(payload);
        self.slot
            .iter()
            .zip(&self.negative)
            .map(|(&slot, &neg)| {
                let bit = if slot == PILOT {
                    0
                } else {
                    bits[slot as usize]
                };
                if neg ^ (bit == 1) { -1.0 } else { 1.0 }
            })
            .collect()
    }

    /// Reads units (`NaN` or 0: no reading) into pilot agreements and the decoded payload.
    /// `soft` weighs a reading for the Viterbi decoder (any odd function of it: the
    /// decoder is maximum likelihood when it is the log-likelihood ratio).
    pub fn read(&self, readings: &[f32], soft: impl Fn(f32) -> f32) -> Reading {
        let mut totals = vec![0.0f64; slots() * 2];
        let (mut pilot_n, mut pilot_k) = (0u64, 0u64);
        for ((&y, &slot), &neg) in readings.iter().zip(&self.slot).zip(&self.negative) {
            if y.is_nan() || y == 0.0 {
                continue;
            }
            let chipped = if neg { -y } else { y };
            if slot == PILOT {
                pilot_n += 1;
                pilot_k += u64::from(chipped > 0.0);
            } else {
                // Bit 0 wants `chipped > 0`, bit 1 wants `chipped < 0`.
                let w = f64::from(soft(chipped));
                totals[slot as usize * 2] += w;
                totals[slot as usize * 2 + 1] -= w;
            }
        }
        let split = CODE.slots() as usize * 2;
        let (payload, mut bits) = CODE.decode(&totals[..split]);
        let (check, check_bits) = CHECK.decode(&totals[split..]);
        bits.extend(check_bits);
        let (mut data_n, mut data_k) = (0u64, 0u64);
        for ((&y, &slot), &neg) in readings.iter().zip(&self.slot).zip(&self.negative) {
            if y.is_nan() || y == 0.0 || slot == PILOT {
                continue;
            }
            let chipped = if neg { -y } else { y };
            data_n += 1;
            data_k += u64::from((chipped > 0.0) == (bits[slot as usize] == 0));
        }
        Reading {
            pilot_n,
            pilot_k,
            data_n,
            data_k,
            payload,
            checked: check == self.check(payload),
        }
    }
}

/// Counts from one alignment of the content.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Reading {
    pub pilot_n: u64,
    pub pilot_k: u64,
    pub data_n: u64,
    pub data_k: u64,
    pub payload: u64,
    /// Whether the decoded check matches the decoded payload.
    pub checked: bool,
}

impl Reading {
    /// The payload's union bound over all `2^80` messages (payload and check).
    pub fn ln_p_payload(&self) -> f64 {
        let ln_messages = CODE.ln_messages() + CHECK.ln_messages();
        (ln_binomial_sf(self.data_k, self.data_n, 0.5) + ln_messages).min(0.0)
    }
}

/// The outcome of testing a picture or a clip for a media key's mark: the text marks'
/// verdict shape plus what the media detector adds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MediaDetection {
    /// Detected or not, the p-value under the null (see [`crate::units`]), the
    /// false-positive rate at the threshold, the scheme id, its public parameters and the
    /// number of pilot units read.
    pub verdict: Verdict,
    /// The decoded 64-bit payload, when the verdict is significant and the payload's own
    /// p-value is at most the same level.
    pub payload: Option<Payload>,
    /// The union-bound p-value of the decoded payload (over all 2^80 messages of
    /// payload and check).
    pub payload_p_value: PValue,
    /// Share of pilot units that agree with the key (½ expected without the mark).
    pub pilot_agreement: f64,
    /// Share of data units that agree with the decoded codeword.
    pub data_agreement: f64,
    /// Whether the keyed check decoded beside the payload matches it.
    pub payload_checked: bool,
    /// How the content was aligned (crop fraction, start offset): what the search found.
    pub alignment: serde_json::Value,
    /// How many alignments were tried in all (the Bonferroni factor is their number).
    pub alignments_tried: u64,
}

/// `ln P[Bin(n, ½) ≥ k]` of pilot counts `(n, k)`, uncorrected.
pub(crate) fn ln_p_pilot((n, k): (u64, u64)) -> f64 {
    ln_binomial_sf(k, n, 0.5)
}

/// Assembles a detection: the verdict from the pilot counts `(n, k)` of the best of
/// `candidates` alignments, the payload from `payload` (read at that alignment or a
/// refinement of it, which [`pay_for_alignments`] pays for).
#[allow(clippy::too_many_arguments)]
pub(crate) fn conclude(
    pilot: (u64, u64),
    payload: Reading,
    candidates: u64,
    tried: u64,
    false_positive_rate: f64,
    method: &str,
    parameters: serde_json::Value,
    alignment: serde_json::Value,
) -> MediaDetection {
    let ln_p = ln_p_pilot(pilot) + (candidates.max(1) as f64).ln();
    let verdict = Verdict::decide(
        PValue::from_ln(ln_p),
        false_positive_rate,
        method,
        parameters,
        pilot.0,
    );
    let payload_p_value = PValue::from_ln(payload.ln_p_payload());
    let decoded = (verdict.detected
        && payload.checked
        && payload_p_value.significant_at(false_positive_rate))
    .then(|| Payload::new(payload.payload, PAYLOAD_BITS).ok())
    .flatten();
    let share = |k: u64, n: u64| if n == 0 { 0.5 } else { k as f64 / n as f64 };
    MediaDetection {
        verdict,
        payload: decoded,
        payload_p_value,
        pilot_agreement: share(pilot.1, pilot.0),
        data_agreement: share(payload.data_k, payload.data_n),
        payload_checked: payload.checked,
        alignment,
        alignments_tried: tried,
    }
}

/// Corrects the payload's p-value for `alignments` alignments it was chosen among, and
/// withdraws the payload when it no longer passes.
pub(crate) fn pay_for_alignments(d: &mut MediaDetection, alignments: u64, level: f64) {
    d.payload_p_value = d.payload_p_value.bonferroni(alignments);
    if !d.payload_p_value.significant_at(level) {
        d.payload = None;
    }
}

/// Checks a significance level.
pub(crate) fn check_level(false_positive_rate: f64) -> Result<(), crate::MediaError> {
    if false_positive_rate > 0.0 && false_positive_rate < 1.0 {
        Ok(())
    } else {
        Err(crate::MediaError::InvalidOption(format!(
            "the false-positive rate must lie in (0, 1), not {false_positive_rate}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_balanced_and_pilots_counted() {
        let layout = UnitLayout::new(&Prf::new(&[5; 32]), 40, 4096, 8);
        let pilots = layout.slot.iter().filter(|&&s| s == PILOT).count();
        assert_eq!(pilots, 512);
        let mut per = vec![0; slots()];
        layout
            .slot
            .iter()
            .filter(|&&s| s != PILOT)
            .for_each(|&s| per[s as usize] += 1);
        let (lo, hi) = (per.iter().min().unwrap(), per.iter().max().unwrap());
        assert!(hi - lo <= 1, "{lo} {hi}");
        let negatives = layout.negative.iter().filter(|&&n| n).count();
        assert!((1800..2300).contains(&negatives));
    }

    #[test]
    fn readings_equal_to_the_targets_decode_the_payload() {
        let layout = UnitLayout::new(&Prf::new(&[6; 32]), 40, 4096, 8);
        let payload = 0x0123_4567_89ab_cdef;
        let targets = layout.targets(payload);
        let r = layout.read(&targets, |y| y);
        assert_eq!(r.payload, payload);
        assert_eq!((r.pilot_k, r.pilot_n), (512, 512));
        assert_eq!(r.data_k, r.data_n);
        assert_eq!(layout.pilot_counts(&targets), (512, 512));
        let d = conclude(
            (512, 512),
            r,
            1,
            1,
            1e-3,
            "m",
            serde_json::json!({}),
            serde_json::json!({}),
        );
        assert!(d.verdict.detected);
        assert_eq!(d.payload.unwrap().value(), payload);
        // Another key reads the same units as noise.
        let other = UnitLayout::new(&Prf::new(&[7; 32]), 40, 4096, 8);
        let r = other.read(&targets, |y| y);
        let pilot = other.pilot_counts(&targets);
        assert_eq!(pilot, (r.pilot_n, r.pilot_k));
        let d = conclude(
            pilot,
            r,
            1,
            1,
            1e-3,
            "m",
            serde_json::json!({}),
            serde_json::json!({}),
        );
        assert!(d.verdict.p_value.value() > 1e-4 && d.payload.is_none());
    }

    #[test]
    fn levels_outside_the_unit_interval_are_refused() {
        assert!(check_level(1e-3).is_ok());
        assert!(check_level(0.0).is_err() && check_level(1.0).is_err());
        assert!(check_level(f64::NAN).is_err());
    }
}
