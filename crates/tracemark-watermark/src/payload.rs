//! How a payload's bits become the digits of its slots, and how the detector reads them
//! back.
//!
//! A payload key splits scored positions into slots (the PRF of the context picks one)
//! and each slot holds a digit of `log2(radix)` bits. Two layouts exist:
//!
//! * **`none`** (keys made before codes existed): slot `j` holds bits
//!   `j·b .. (j+1)·b` of the payload as they are (`b = log2 radix`), and the decoder
//!   takes the best digit slot by slot. One slot read wrong loses the payload.
//! * **`convolutional-k7`**, the default for new keys: the rate-1/2, constraint-length-7
//!   convolutional code with generators 171 and 133 (octal), the code of CCSDS 131.0,
//!   IEEE 802.11 and DVB, whose codewords differ in at least 10 bits (free distance).
//!   The payload's bits, lowest first, followed by 6 zeros that return the encoder to
//!   state 0 (zero termination), enter a 7-bit shift register `r` (the newest bit at bit
//!   6, the oldest at bit 0); each input bit emits `parity(r & 0o171)` then
//!   `parity(r & 0o133)`. The coded bits, in that order, fill the slots' digits, the
//!   first bit lowest. With `b` even, `b/2` input bits fill one slot; with `b` odd, `b`
//!   input bits fill two; more zeros pad the tail to a whole number of those steps. The
//!   decoder is the soft-decision Viterbi algorithm over that trellis with each slot's
//!   per-digit score totals as branch metrics: it returns the message with the largest
//!   total score among all `2^bits` messages (maximum likelihood for these channels),
//!   which is what keeps the union bound over `2^bits` messages a valid p-value.
//!
//! A 16-bit payload on a `radix` 4 key is 8 uncoded slots or 22 coded ones: each coded
//! slot sees fewer tokens, but any wrong message differs from the right one in at least
//! 6 slots instead of 1, so a misread slot is outvoted.

use serde::{Deserialize, Serialize};

/// The error-correcting code of a payload key (`payload_code` in the key file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum PayloadCode {
    /// The payload's bits as they are, one group of `log2 radix` bits per slot.
    #[default]
    #[serde(rename = "none")]
    None,
    /// The rate-1/2, K = 7 convolutional code (171, 133), zero-terminated.
    #[serde(rename = "convolutional-k7")]
    ConvolutionalK7,
}

impl PayloadCode {
    pub fn is_none(&self) -> bool {
        *self == PayloadCode::None
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PayloadCode::None => "none",
            PayloadCode::ConvolutionalK7 => "convolutional-k7",
        }
    }
}

/// The most bits a slot may carry under a code: the trellis has up to `2^bits` branches
/// per state and step.
pub const MAX_CODED_BITS_PER_SLOT: u32 = 8;

/// How a payload is laid out: `bits` bits into slots of `log2(radix)` bits each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub bits: u8,
    pub radix: u32,
    pub code: PayloadCode,
}

impl Layout {
    pub const ZERO_BIT: Layout = Layout {
        bits: 0,
        radix: 1,
        code: PayloadCode::None,
    };

    fn bits_per_slot(self) -> u32 {
        self.radix.trailing_zeros()
    }

    /// Number of slots: one for zero-bit keys.
    pub fn slots(self) -> u32 {
        match (self.bits, self.code) {
            (0, _) => 1,
            (bits, PayloadCode::None) => u32::from(bits).div_ceil(self.bits_per_slot()),
            (_, PayloadCode::ConvolutionalK7) => self.trellis().slots(),
        }
    }

    /// The digit each slot holds for a payload value.
    pub fn digits(self, value: u64) -> Vec<u32> {
        match (self.bits, self.code) {
            (0, _) => vec![0],
            (_, PayloadCode::None) => {
                let per = self.bits_per_slot();
                (0..self.slots())
                    .map(|j| ((value >> (j * per)) & u64::from(self.radix - 1)) as u32)
                    .collect()
            }
            (_, PayloadCode::ConvolutionalK7) => self.trellis().encode(value),
        }
    }

    /// The message with the largest total score and its slots' digits, from
    /// `totals[slot · radix + digit]`, the summed score of each digit in each slot.
    pub fn decode(self, totals: &[f64]) -> (u64, Vec<u32>) {
        match (self.bits, self.code) {
            (0, _) => (0, vec![0]),
            (_, PayloadCode::None) => self.decode_uncoded(totals),
            (_, PayloadCode::ConvolutionalK7) => self.trellis().decode(totals),
        }
    }

    /// The best digit per slot, within the bits the slot holds (the last may hold fewer).
    fn decode_uncoded(self, totals: &[f64]) -> (u64, Vec<u32>) {
        let r = self.radix as usize;
        let per = self.bits_per_slot();
        let digits: Vec<u32> = (0..self.slots())
            .map(|j| {
                let allowed = 1usize << (u32::from(self.bits) - j * per).min(per);
                let row = &totals[j as usize * r..][..allowed];
                (0..allowed).fold(0, |best, d| if row[d] > row[best] { d } else { best }) as u32
            })
            .collect();
        let value = digits.iter().enumerate().fold(0u64, |acc, (j, &d)| {
            acc | (u64::from(d) << (j as u32 * per))
        });
        (value, digits)
    }

    /// `ln M`, the number of messages a decoder tries.
    pub fn ln_messages(self) -> f64 {
        f64::from(self.bits) * std::f64::consts::LN_2
    }

    fn trellis(self) -> Trellis {
        Trellis::new(u32::from(self.bits), self.bits_per_slot())
    }
}

/// The encoder's memory: 6 bits, 64 states.
const MEMORY: u32 = 6;
const STATES: usize = 1 << MEMORY;
const GENERATORS: [u32; 2] = [0o171, 0o133];

/// The K = 7 trellis grouped into steps of `step_bits` input bits that fill whole slots.
struct Trellis {
    /// Payload bits.
    bits: u32,
    /// Bits per slot digit.
    per_slot: u32,
    /// Input bits per step: `2 · step_bits` coded bits fill `slots_per_step` digits.
    step_bits: u32,
    slots_per_step: u32,
    steps: u32,
}

impl Trellis {
    fn new(bits: u32, per_slot: u32) -> Self {
        let step_bits = if per_slot.is_multiple_of(2) {
            per_slot / 2
        } else {
            per_slot
        };
        Self {
            bits,
            per_slot,
            step_bits,
            slots_per_step: 2 * step_bits / per_slot,
            steps: (bits + MEMORY).div_ceil(step_bits),
        }
    }

    fn slots(&self) -> u32 {
        self.steps * self.slots_per_step
    }

    /// From `state`, the next state and the coded bits of `input` (`step_bits` bits,
    /// lowest first), the first coded bit lowest.
    fn advance(&self, mut state: u32, input: u32) -> (u32, u32) {
        let mut coded = 0;
        for i in 0..self.step_bits {
            let r = (((input >> i) & 1) << MEMORY) | state;
            for (g, generator) in GENERATORS.iter().enumerate() {
                coded |= ((r & generator).count_ones() & 1) << (2 * i + g as u32);
            }
            state = r >> 1;
        }
        (state, coded)
    }

    /// The input of step `t` for a payload value (zeros past the payload's bits).
    fn input(&self, value: u64, t: u32) -> u32 {
        let shift = t * self.step_bits;
        let word = if shift < 64 { value >> shift } else { 0 };
        (word as u32) & self.free_inputs(t)
    }

    /// The input bits of step `t` that carry payload (the rest are zero termination).
    fn free_inputs(&self, t: u32) -> u32 {
        let free = self
            .bits
            .saturating_sub(t * self.step_bits)
            .min(self.step_bits);
        (1 << free) - 1
    }

    fn push_digits(&self, coded: u32, digits: &mut Vec<u32>) {
        let mask = (1 << self.per_slot) - 1;
        digits.extend((0..self.slots_per_step).map(|q| (coded >> (q * self.per_slot)) & mask));
    }

    fn encode(&self, value: u64) -> Vec<u32> {
        let mut digits = Vec::with_capacity(self.slots() as usize);
        let mut state = 0;
        for t in 0..self.steps {
            let (next, coded) = self.advance(state, self.input(value, t));
            self.push_digits(coded, &mut digits);
            state = next;
        }
        digits
    }

    /// Soft-decision Viterbi: the zero-terminated path with the largest total score.
    fn decode(&self, totals: &[f64]) -> (u64, Vec<u32>) {
        let radix = 1usize << self.per_slot;
        let branches = 1u32 << self.step_bits;
        let mut metric = [f64::NEG_INFINITY; STATES];
        metric[0] = 0.0;
        // survivors[t][state] = (previous state, input) of the best path into `state`.
        let mut survivors = vec![[(0u8, 0u32); STATES]; self.steps as usize];
        for t in 0..self.steps {
            let free = self.free_inputs(t);
            let first_slot = (t * self.slots_per_step) as usize;
            let mut next = [f64::NEG_INFINITY; STATES];
            for state in 0..STATES as u32 {
                let here = metric[state as usize];
                if here == f64::NEG_INFINITY {
                    continue;
                }
                for input in (0..branches).filter(|u| u & !free == 0) {
                    let (to, coded) = self.advance(state, input);
                    let gain: f64 = (0..self.slots_per_step as usize)
                        .map(|q| {
                            let digit =
                                (coded >> (q as u32 * self.per_slot)) as usize & (radix - 1);
                            totals[(first_slot + q) * radix + digit]
                        })
                        .sum();
                    if here + gain > next[to as usize] {
                        next[to as usize] = here + gain;
                        survivors[t as usize][to as usize] = (state as u8, input);
                    }
                }
            }
            metric = next;
        }
        // Zero termination: the path ends in state 0.
        let mut inputs = vec![0u32; self.steps as usize];
        let mut state = 0usize;
        for t in (0..self.steps as usize).rev() {
            let (from, input) = survivors[t][state];
            inputs[t] = input;
            state = from as usize;
        }
        let value = inputs.iter().enumerate().fold(0u64, |acc, (t, &u)| {
            let shift = t as u32 * self.step_bits;
            if shift < 64 {
                acc | (u64::from(u) << shift)
            } else {
                acc
            }
        });
        (value, self.encode(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coded(bits: u8, radix: u32) -> Layout {
        Layout {
            bits,
            radix,
            code: PayloadCode::ConvolutionalK7,
        }
    }

    /// Scores that favour `digits` by `strength` in every slot.
    fn totals_for(layout: Layout, digits: &[u32], strength: f64) -> Vec<f64> {
        let r = layout.radix as usize;
        let mut totals = vec![0.0; digits.len() * r];
        for (j, &d) in digits.iter().enumerate() {
            totals[j * r + d as usize] = strength;
        }
        totals
    }

    #[test]
    fn uncoded_layout_round_trips_digits() {
        let layout = Layout {
            bits: 7,
            radix: 4,
            code: PayloadCode::None,
        };
        assert_eq!(layout.slots(), 4);
        assert_eq!(layout.digits(0b101_1011), vec![3, 2, 1, 1]);
        assert_eq!(Layout::ZERO_BIT.slots(), 1);
        let totals = totals_for(layout, &layout.digits(0b101_1011), 1.0);
        assert_eq!(layout.decode(&totals), (0b101_1011, vec![3, 2, 1, 1]));
    }

    #[test]
    fn uncoded_decoding_keeps_the_last_slot_within_the_payload() {
        let layout = Layout {
            bits: 3,
            radix: 4,
            code: PayloadCode::None,
        };
        // Slot 1 holds one bit: digit 3 scores best but is not allowed; digit 1 is next.
        let totals = [0.0, 1.0, 2.0, 0.0, 0.0, 1.0, 0.0, 2.0];
        assert_eq!(layout.decode(&totals), (0b1_10, vec![2, 1]));
    }

    #[test]
    fn the_encoder_matches_the_171_133_code() {
        // A single 1 bit gives the code's impulse response: the generators' taps read
        // from the newest bit (171 = 1111001, 133 = 1011011), as pairs of coded bits.
        let layout = coded(1, 2);
        let digits = layout.digits(1);
        let pairs: Vec<(u32, u32)> = digits.chunks(2).map(|c| (c[0], c[1])).collect();
        assert_eq!(
            pairs,
            vec![(1, 1), (1, 0), (1, 1), (1, 1), (0, 0), (0, 1), (1, 1)]
        );
        assert_eq!(layout.digits(0), vec![0; 14]);
        // Radix 4 packs each pair into one digit, first coded bit lowest.
        let radix4 = coded(1, 4).digits(1);
        assert_eq!(radix4, vec![3, 1, 3, 3, 0, 2, 3]);
    }

    #[test]
    fn slots_cover_the_payload_and_the_zero_tail() {
        assert_eq!(coded(16, 4).slots(), 22);
        assert_eq!(coded(16, 2).slots(), 44);
        assert_eq!(coded(8, 16).slots(), 7); // 14 input bits, 2 per slot
        assert_eq!(coded(8, 8).slots(), 10); // 3 input bits fill 2 slots of 3 bits
        assert_eq!(coded(64, 4).slots(), 70);
    }

    #[test]
    fn every_payload_round_trips_through_encoder_and_decoder() {
        for radix in [2, 4, 8, 16, 256] {
            for bits in [1u8, 3, 8, 16, 24, 64] {
                let layout = coded(bits, radix);
                for value in [0u64, 1, 0xdead_beef_cafe_f00d, u64::MAX] {
                    let value = if bits == 64 {
                        value
                    } else {
                        value & ((1 << bits) - 1)
                    };
                    let digits = layout.digits(value);
                    assert_eq!(digits.len(), layout.slots() as usize);
                    assert!(digits.iter().all(|&d| d < radix));
                    let totals = totals_for(layout, &digits, 1.0);
                    assert_eq!(
                        layout.decode(&totals),
                        (value, digits),
                        "{bits} bits, radix {radix}"
                    );
                }
            }
        }
    }

    #[test]
    fn distinct_payloads_differ_in_at_least_six_slots() {
        // The code is linear over GF(2), so codewords a and b differ in the slots where
        // the codeword of a XOR b is non-zero: the minimum over non-zero messages is the
        // distance. Free distance 10 bits, here 6 digits of 2 bits.
        let layout = coded(16, 4);
        let min = (1..1u64 << 16)
            .map(|v| layout.digits(v).iter().filter(|&&d| d != 0).count())
            .min();
        assert_eq!(min, Some(6));
    }

    #[test]
    fn the_decoder_outvotes_misread_slots() {
        let layout = coded(16, 4);
        let value = 0xa5c3;
        let mut digits = layout.digits(value);
        // Two slots read wrong, as strongly as the right ones: an uncoded layout would
        // lose the payload; the code's distance recovers it.
        digits[3] = (digits[3] + 1) % 4;
        digits[15] = (digits[15] + 2) % 4;
        let totals = totals_for(layout, &digits, 1.0);
        assert_eq!(layout.decode(&totals).0, value);
    }

    #[test]
    fn the_decoder_returns_the_message_with_the_largest_total() {
        // Brute force over every 8-bit message on pseudo-random scores.
        let layout = coded(8, 4);
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let totals: Vec<f64> = (0..layout.slots() * 4)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                (state >> 40) as f64
            })
            .collect();
        let score = |v: u64| -> f64 {
            layout
                .digits(v)
                .iter()
                .enumerate()
                .map(|(j, &d)| totals[j * 4 + d as usize])
                .sum()
        };
        let best = (0..256u64)
            .max_by(|&a, &b| score(a).total_cmp(&score(b)))
            .unwrap();
        let (decoded, digits) = layout.decode(&totals);
        assert_eq!(score(decoded), score(best));
        assert_eq!(digits, layout.digits(decoded));
    }
}
