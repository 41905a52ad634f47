//! The audio mark `tracemark-audio-stft-v1`: keyed patchwork on STFT magnitudes at a
//! canonical 16 kHz, repeated along the clip, found again after the start is trimmed.
//!
//! # Embedding
//!
//! 1. The channels' mean is resampled to 16 kHz (windowed sinc) and cut into frames of
//!    512 samples (32 ms) with a hop of 256, under a square-root Hann window.
//! 2. Bins 6 to 149 (188 Hz to 4.7 kHz: inside telephone-band speech, below what MP3 at
//!    64 kbit/s and a 16 kHz resampling cut) form 48 bands of 3 bins. Time is cut into
//!    cells of 4 hops (64 ms), and cells into blocks of 64 cells (4.1 s) that repeat along
//!    the clip. In each cell position of the block a keyed permutation pairs the bands;
//!    each of the 24 pairs is a unit: 1,536 units a block, one in 4 a pilot, the rest
//!    dealt to the payload's code slots ([`crate::units`]).
//! 3. A unit with target sign `s = +1` raises its first band's magnitudes by the factor
//!    `1 + strength` and lowers the second's by the same factor (`s = −1`: the reverse),
//!    phases kept: patchwork on log-magnitudes. The change is synthesised at 16 kHz,
//!    resampled to the clip's rate and added to every channel.
//!
//! # Detection
//!
//! The reading of a unit is the difference of its two bands' summed log-powers, summed
//! over every repetition of its cell in the clip, so a unit is read once however long the
//! clip. That matters for the null: the chip of a unit is one coin, so the agreements of
//! its repetitions are not independent (a steady tone favours one band every time);
//! summed first, one unit gives one fair coin under the null and the pilot count is
//! exactly binomial ([`crate::units`]). The start of a trimmed clip is found by trying
//! every hop of the block (256) at two sub-hop offsets (0 and 128 samples): 512
//! alignments, Bonferroni-corrected, the untrimmed one first.

use rustfft::num_complex::Complex32;
use serde_json::json;
use tracemark_core::KeyId;
use tracemark_watermark::prf::{Prf, word};

use crate::{
    MediaError,
    audio::{Audio, Stft, resample},
    key::{MediaKey, MediaScheme},
    units::{self, MediaDetection, Reading, UnitLayout},
};

/// The scheme this module implements.
pub const SCHEME: MediaScheme = MediaScheme::AudioStftV1;
/// The rate the mark lives at.
pub const RATE: u32 = 16_000;
const FRAME: usize = 512;
const HOP: usize = FRAME / 2;
const FIRST_BIN: usize = 6;
const BAND_BINS: usize = 3;
const BANDS: usize = 48;
const PAIRS: usize = BANDS / 2;
/// Hops per cell.
const CELL_HOPS: usize = 4;
/// Cells per block.
const BLOCK_CELLS: usize = 64;
const UNITS: usize = BLOCK_CELLS * PAIRS;
const PILOT_EVERY: usize = 4;
const TAG: u8 = 0x21;
/// Sub-hop offsets (samples at 16 kHz) the detector tries.
const SUB_HOPS: [usize; 2] = [0, HOP / 2];
/// The shortest clip marked or tested.
pub const MIN_SECONDS: f64 = 1.0;
/// Keeps `ln` finite on digital silence (powers of a full-scale 512-point frame reach
/// about 10^4; silence reads 0 on both bands and drops out).
const POWER_FLOOR: f32 = 1e-10;

/// How strongly to mark.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AudioEmbedOptions {
    /// Magnitudes of a unit's bands are multiplied and divided by `1 + strength`.
    pub strength: f32,
}

impl Default for AudioEmbedOptions {
    fn default() -> Self {
        Self { strength: 0.25 }
    }
}

/// A key made ready to mark and test audio.
#[derive(Debug, Clone)]
pub struct AudioMarker {
    key_id: KeyId,
    layout: UnitLayout,
    /// `pairs[c][j] = (band a, band b)` for cell position `c`.
    pairs: Vec<[(u8, u8); PAIRS]>,
}

impl AudioMarker {
    pub fn new(key: &MediaKey) -> Result<Self, MediaError> {
        let secret = key.expect(SCHEME)?;
        let prf = Prf::new(&secret);
        let pairs = (0..BLOCK_CELLS)
            .map(|c| {
                let seed = prf.seed(TAG, &[3, c as u32]);
                let mut bands: Vec<u8> = (0..BANDS as u8).collect();
                for i in (1..BANDS).rev() {
                    let j = (word(seed, i as u32, 0) % (i as u64 + 1)) as usize;
                    bands.swap(i, j);
                }
                std::array::from_fn(|j| (bands[2 * j], bands[2 * j + 1]))
            })
            .collect();
        Ok(Self {
            key_id: key.key_id.clone(),
            layout: UnitLayout::new(&prf, TAG, UNITS, PILOT_EVERY),
            pairs,
        })
    }

    pub fn key_id(&self) -> &KeyId {
        &self.key_id
    }

    /// Marks `audio` with `payload` at the default strength.
    pub fn embed(&self, audio: &Audio, payload: u64) -> Result<Audio, MediaError> {
        self.embed_with(audio, payload, &AudioEmbedOptions::default())
    }

    pub fn embed_with(
        &self,
        audio: &Audio,
        payload: u64,
        opts: &AudioEmbedOptions,
    ) -> Result<Audio, MediaError> {
        check_length(audio)?;
        if !(opts.strength.is_finite() && (0.0..=1.0).contains(&opts.strength)) {
            return Err(MediaError::InvalidOption(
                "the audio strength must lie in [0, 1]".into(),
            ));
        }
        let targets = self.layout.targets(payload);
        let x = resample(&audio.mono(), audio.sample_rate(), RATE);
        let stft = Stft::new(FRAME);
        let mut residual = vec![0.0f32; x.len()];
        let up = 1.0 + opts.strength;
        for t in 0..stft.frames(x.len(), 0) {
            let spec = stft.analyse(&x, t * HOP);
            let c = (t / CELL_HOPS) % BLOCK_CELLS;
            let mut delta = vec![Complex32::new(0.0, 0.0); spec.len()];
            for (j, &(a, b)) in self.pairs[c].iter().enumerate() {
                let (raise, lower) = if targets[c * PAIRS + j] > 0.0 {
                    (a, b)
                } else {
                    (b, a)
                };
                for k in band_bins(raise) {
                    delta[k] = spec[k] * (up - 1.0);
                }
                for k in band_bins(lower) {
                    delta[k] = spec[k] * (1.0 / up - 1.0);
                }
            }
            stft.synthesise_into(&delta, &mut residual, t * HOP);
        }
        let full = resample(&residual, RATE, audio.sample_rate());
        Ok(audio.add_to_channels(&full))
    }

    /// Tests `audio` for this key's mark, searching the start.
    pub fn detect(
        &self,
        audio: &Audio,
        false_positive_rate: f64,
    ) -> Result<MediaDetection, MediaError> {
        units::check_level(false_positive_rate)?;
        check_length(audio)?;
        let x = resample(&audio.mono(), audio.sample_rate(), RATE);
        let stft = Stft::new(FRAME);
        let candidates = (SUB_HOPS.len() * BLOCK_CELLS * CELL_HOPS) as u64;
        let ln_c = (candidates as f64).ln();
        let mut best: Option<(Reading, usize, usize)> = None;
        let mut tried = 0;
        'search: for &offset in &SUB_HOPS {
            let powers = band_log_powers(&stft, &x, offset);
            for phase in 0..BLOCK_CELLS * CELL_HOPS {
                tried += 1;
                let readings = self.unit_readings(&powers, phase);
                let reading = self.layout.read(&readings, |y| y.clamp(-3.0, 3.0));
                if best.is_none_or(|(b, _, _)| reading.ln_p() < b.ln_p()) {
                    best = Some((reading, offset, phase));
                }
                let (b, _, _) = best.expect("set above");
                if b.ln_p() + ln_c <= false_positive_rate.ln() {
                    break 'search;
                }
            }
        }
        let (reading, offset, phase) = best.expect("at least one alignment");
        // The start the clip lost, modulo a block, in 16 kHz samples.
        let trimmed = (BLOCK_CELLS * CELL_HOPS - phase) % (BLOCK_CELLS * CELL_HOPS) * HOP;
        Ok(units::conclude(
            reading,
            candidates,
            tried,
            false_positive_rate,
            SCHEME.as_str(),
            parameters(),
            json!({
                "sub_hop_offset": offset,
                "hop_phase": phase,
                "trimmed_seconds_modulo_block": (trimmed as f64 - offset as f64).rem_euclid((BLOCK_CELLS * CELL_HOPS * HOP) as f64) / f64::from(RATE),
            }),
        ))
    }

    /// Each unit's band difference summed over its repetitions, for the alignment where
    /// frame `t` lies in cell `(t + phase) / 4`; normalised by the median magnitude so the
    /// decoder's clamp means the same on loud and quiet clips; `NaN` for units never seen.
    fn unit_readings(&self, powers: &[[f32; BANDS]], phase: usize) -> Vec<f32> {
        let mut sums = vec![0.0f32; UNITS];
        let mut seen = vec![false; UNITS];
        for (t, p) in powers.iter().enumerate() {
            let c = ((t + phase) / CELL_HOPS) % BLOCK_CELLS;
            for (j, &(a, b)) in self.pairs[c].iter().enumerate() {
                sums[c * PAIRS + j] += p[a as usize] - p[b as usize];
                seen[c * PAIRS + j] = true;
            }
        }
        let sums = sums
            .iter()
            .zip(&seen)
            .map(|(&s, &seen)| if seen { s } else { f32::NAN })
            .collect();
        units::normalise(sums)
    }
}

fn band_bins(band: u8) -> std::ops::Range<usize> {
    let start = FIRST_BIN + band as usize * BAND_BINS;
    start..start + BAND_BINS
}

/// Per frame, each band's summed log-power.
fn band_log_powers(stft: &Stft, x: &[f32], offset: usize) -> Vec<[f32; BANDS]> {
    (0..stft.frames(x.len(), offset))
        .map(|t| {
            let spec = stft.analyse(x, offset + t * HOP);
            std::array::from_fn(|b| {
                band_bins(b as u8)
                    .map(|k| (spec[k].norm_sqr() + POWER_FLOOR).ln())
                    .sum()
            })
        })
        .collect()
}

fn check_length(audio: &Audio) -> Result<(), MediaError> {
    if audio.seconds() < MIN_SECONDS {
        return Err(MediaError::TooSmall(format!(
            "{:.2} s of audio is too short to carry or show a mark: at least {MIN_SECONDS} s is needed",
            audio.seconds()
        )));
    }
    Ok(())
}

fn parameters() -> serde_json::Value {
    json!({
        "rate": RATE,
        "frame": FRAME,
        "hop": HOP,
        "bands": BANDS,
        "band_bins": BAND_BINS,
        "first_bin": FIRST_BIN,
        "cell_hops": CELL_HOPS,
        "block_cells": BLOCK_CELLS,
        "units": UNITS,
        "pilot_units": UNITS / PILOT_EVERY,
        "payload_bits": crate::key::PAYLOAD_BITS,
        "payload_code": "convolutional-k7",
        "null": "pilot sign agreements ~ Binomial(n, 1/2) for content not marked with this key",
        "alignments": SUB_HOPS.len() * BLOCK_CELLS * CELL_HOPS,
    })
}
