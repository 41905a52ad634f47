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
//!    the clip. Neighbouring bands make 24 pairs; a pair in a cell position of the block
//!    is a unit: 1,536 units a block, one in 4 a pilot, the rest dealt to the payload's
//!    code slots in a keyed order, each with a keyed chip ([`crate::units`]).
//! 3. Patchwork, informed when asked: in each cell, a unit with target sign `s` reads
//!    `d = Σ log-power(first band) − Σ log-power(second band)` over the cell's frames; if
//!    `s·d` falls short of the margin, the first band's power is multiplied by `e^{sδ}`
//!    and the second's divided by it (phases kept), with `δ` just enough to reach the
//!    margin and at most `max_db`. With a small margin, where the content already agrees
//!    nothing is changed; the default margin is so large that every unit gets the full
//!    `max_db` (plain patchwork), which measured better here. The change is synthesised at
//!    16 kHz, resampled to the clip's rate and added to every channel.
//!
//! # Detection
//!
//! The reading of a unit is the difference of its two bands' summed log-powers, summed
//! over every repetition of its cell in the clip (so a unit is read once however long the
//! clip), less the pair's mean over the block (the content's steady difference between
//! two neighbouring bands). That matters for the null: the chip of a unit is one coin, so the agreements of
//! its repetitions are not independent (a steady tone favours one band every time);
//! summed first, one unit gives one fair coin under the null and the pilot count is
//! exactly binomial ([`crate::units`]). The start of a trimmed clip is found by trying
//! every hop of the block (256) at two sub-hop offsets (0 and 128 samples): 512
//! alignments, Bonferroni-corrected, the untrimmed one first.

use rustfft::num_complex::Complex32;
use serde_json::json;
use tracemark_core::KeyId;
use tracemark_watermark::prf::Prf;

use crate::{
    MediaError,
    audio::{Audio, Stft, resample},
    key::{MediaKey, MediaScheme},
    units::{self, MediaDetection, UnitLayout},
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
/// about 10^4; silence reads the floor on both bands and drops out).
const POWER_FLOOR: f32 = 1e-10;

/// How strongly to mark.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AudioEmbedOptions {
    /// The margin, in nats of summed log-power difference, a unit's occurrence is pushed
    /// to agree by.
    pub margin: f32,
    /// The largest change of a band's power, in dB (each way).
    pub max_db: f32,
}

impl Default for AudioEmbedOptions {
    /// Plain patchwork at ±1.3 dB (about 18 dB SNR): a margin this large gives every unit
    /// the full change. Informed embedding (a margin of a few nats) measured no better at
    /// equal SNR here, worse after MP3 (the README's table).
    fn default() -> Self {
        Self {
            margin: 1000.0,
            max_db: 1.3,
        }
    }
}

/// A key made ready to mark and test audio.
#[derive(Debug, Clone)]
pub struct AudioMarker {
    key_id: KeyId,
    layout: UnitLayout,
}

impl AudioMarker {
    pub fn new(key: &MediaKey) -> Result<Self, MediaError> {
        let secret = key.expect(SCHEME)?;
        let prf = Prf::new(&secret);
        Ok(Self {
            key_id: key.key_id.clone(),
            layout: UnitLayout::new(&prf, TAG, UNITS, PILOT_EVERY),
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
        let valid = |v: f32| v.is_finite() && v >= 0.0;
        if !(valid(opts.margin) && valid(opts.max_db) && opts.max_db <= 12.0) {
            return Err(MediaError::InvalidOption(
                "the audio margin must be finite and not negative, max_db within [0, 12]".into(),
            ));
        }
        let targets = self.layout.targets(payload);
        let x = resample(&audio.mono(), audio.sample_rate(), RATE);
        let stft = Stft::new(FRAME);
        let spectra: Vec<Vec<Complex32>> = (0..stft.frames(x.len(), 0))
            .map(|t| stft.analyse(&x, t * HOP))
            .collect();
        let powers: Vec<[f32; BANDS]> = spectra.iter().map(|s| log_powers(s)).collect();
        let mut residual = vec![0.0f32; x.len()];
        for (q, cell) in spectra.chunks(CELL_HOPS).enumerate() {
            let c = q % BLOCK_CELLS;
            let cell_powers = &powers[q * CELL_HOPS..][..cell.len()];
            let gains: Vec<(u8, f32)> = (0..PAIRS)
                .flat_map(|j| {
                    let (a, b) = pair(j);
                    let s = targets[c * PAIRS + j];
                    let d: f32 = cell_powers
                        .iter()
                        .map(|p| p[a as usize] - p[b as usize])
                        .sum();
                    // Each of the 2·hops·bins log-power terms moves by δ, so d by that times δ.
                    let terms = (2 * cell.len() * BAND_BINS) as f32;
                    let max = opts.max_db * std::f32::consts::LN_10 / 10.0;
                    let delta = ((opts.margin - s * d) / terms).clamp(0.0, max);
                    // Power e^{±δ}: magnitude e^{±δ/2}, raised on the target side.
                    let g = (s * delta / 2.0).exp();
                    [(a, g), (b, 1.0 / g)]
                })
                .collect();
            for (k, spec) in cell.iter().enumerate() {
                let mut change = vec![Complex32::new(0.0, 0.0); spec.len()];
                for &(band, g) in &gains {
                    for bin in band_bins(band) {
                        change[bin] = spec[bin] * (g - 1.0);
                    }
                }
                stft.synthesise_into(&change, &mut residual, (q * CELL_HOPS + k) * HOP);
            }
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
        // The search reads pilots only; the payload is decoded once, at the end.
        let mut best: Option<(f64, usize, usize, Vec<f32>)> = None;
        let mut tried = 0;
        // As for image crops: the first significant alignment may be a neighbour of the
        // true one (a hop off), so the scan goes on while it improves.
        let mut since_best: Option<usize> = None;
        'search: for &offset in &SUB_HOPS {
            let powers = band_log_powers(&stft, &x, offset);
            for phase in 0..BLOCK_CELLS * CELL_HOPS {
                tried += 1;
                let readings = unit_readings(&powers, phase);
                let ln_p = units::ln_p_pilot(self.layout.pilot_counts(&readings));
                let improved = best.as_ref().is_none_or(|b| ln_p < b.0);
                if improved {
                    best = Some((ln_p, offset, phase, readings));
                }
                let b = best.as_ref().expect("set above").0;
                if b + ln_c <= false_positive_rate.ln() {
                    let steps = if improved {
                        0
                    } else {
                        since_best.unwrap_or(0) + 1
                    };
                    since_best = Some(steps);
                    if steps >= 4 {
                        break 'search;
                    }
                }
            }
        }
        let (_, offset, phase, readings) = best.expect("at least one alignment");
        let pilot = self.layout.pilot_counts(&readings);
        let reading = self.layout.read(&readings, |y| y.clamp(-3.0, 3.0));
        // The start the clip lost, modulo a block, in 16 kHz samples.
        let trimmed = (BLOCK_CELLS * CELL_HOPS - phase) % (BLOCK_CELLS * CELL_HOPS) * HOP;
        Ok(units::conclude(
            pilot,
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

    /// The corrected `ln p` of the verdict from a prepared analysis (every alignment
    /// read): what [`Self::detect`] decides on, without the payload.
    pub fn ln_p_value(&self, analysis: &AudioAnalysis) -> f64 {
        let ln_c = (analysis.alignments.len() as f64).ln();
        let best = analysis
            .alignments
            .iter()
            .map(|readings| units::ln_p_pilot(self.layout.pilot_counts(readings)))
            .fold(0.0f64, f64::min);
        (best + ln_c).min(0.0)
    }
}

/// The key-independent part of a test: every unit's reading under every alignment.
#[derive(Debug, Clone)]
pub struct AudioAnalysis {
    alignments: Vec<Vec<f32>>,
}

/// Reads the units of `audio` under every alignment the detector tries.
pub fn analyse(audio: &Audio) -> Result<AudioAnalysis, MediaError> {
    check_length(audio)?;
    let x = resample(&audio.mono(), audio.sample_rate(), RATE);
    let stft = Stft::new(FRAME);
    let mut alignments = Vec::new();
    for &offset in &SUB_HOPS {
        let powers = band_log_powers(&stft, &x, offset);
        for phase in 0..BLOCK_CELLS * CELL_HOPS {
            alignments.push(unit_readings(&powers, phase));
        }
    }
    Ok(AudioAnalysis { alignments })
}

/// Each unit's band difference summed over its repetitions, for the alignment where
/// frame `t` lies in cell `(t + phase) / 4`, then detrended: the content's own
/// difference between two neighbouring bands drifts slowly (spectral tilt, a held vowel
/// or note) while the mark's chips change from cell to cell, so each cell's value less
/// the mean of its two neighbours in time keeps the mark and drops most of the content;
/// then each pair is centred and scaled by its spread across the block. All of this is
/// a function of the content alone, so the null stays exact. `NaN` for units never seen.
fn unit_readings(powers: &[[f32; BANDS]], phase: usize) -> Vec<f32> {
    let mut sums = vec![0.0f32; UNITS];
    let mut seen = vec![false; UNITS];
    for (t, p) in powers.iter().enumerate() {
        let c = ((t + phase) / CELL_HOPS) % BLOCK_CELLS;
        for j in 0..PAIRS {
            let (a, b) = pair(j);
            sums[c * PAIRS + j] += p[a as usize] - p[b as usize];
            seen[c * PAIRS + j] = true;
        }
    }
    // Cells of one pair, in time order around the block: take out the content's
    // slow drift with a second difference across neighbouring cells.
    let raw = sums.clone();
    for c in 0..BLOCK_CELLS {
        let (prev, next) = ((c + BLOCK_CELLS - 1) % BLOCK_CELLS, (c + 1) % BLOCK_CELLS);
        for j in 0..PAIRS {
            let (u, up, un) = (c * PAIRS + j, prev * PAIRS + j, next * PAIRS + j);
            if seen[up] && seen[un] {
                sums[u] = raw[u] - 0.5 * (raw[up] + raw[un]);
            }
        }
    }
    for j in 0..PAIRS {
        let column = || (0..BLOCK_CELLS).map(|c| c * PAIRS + j).filter(|&u| seen[u]);
        let n = column().count();
        if n < 2 {
            continue;
        }
        let mean = column().map(|u| sums[u]).sum::<f32>() / n as f32;
        let spread = (column().map(|u| (sums[u] - mean).powi(2)).sum::<f32>() / n as f32)
            .sqrt()
            .max(f32::MIN_POSITIVE);
        column().for_each(|u| sums[u] = (sums[u] - mean) / spread);
    }
    sums.iter()
        .zip(&seen)
        .map(|(&s, &seen)| if seen { s } else { f32::NAN })
        .collect()
}

/// The two bands of pair `j`: neighbours, so their steady difference is small.
fn pair(j: usize) -> (u8, u8) {
    (2 * j as u8, 2 * j as u8 + 1)
}

fn band_bins(band: u8) -> std::ops::Range<usize> {
    let start = FIRST_BIN + band as usize * BAND_BINS;
    start..start + BAND_BINS
}

/// Per frame, each band's summed log-power.
fn band_log_powers(stft: &Stft, x: &[f32], offset: usize) -> Vec<[f32; BANDS]> {
    (0..stft.frames(x.len(), offset))
        .map(|t| log_powers(&stft.analyse(x, offset + t * HOP)))
        .collect()
}

/// Each band's summed log-power in one spectrum (the sum of its bins' logs measured
/// better than the log of its summed power, MP3 included).
fn log_powers(spec: &[Complex32]) -> [f32; BANDS] {
    std::array::from_fn(|b| {
        band_bins(b as u8)
            .map(|k| (spec[k].norm_sqr() + POWER_FLOOR).ln())
            .sum()
    })
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
