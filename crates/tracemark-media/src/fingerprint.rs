//! Perceptual fingerprints: 64 bits that stay nearly the same when a picture or a sound
//! is re-encoded, resized or slightly edited, and differ in about half their bits
//! between unrelated content.
//!
//! They answer the copy attack (README, "Copy attack"): the mark is additive and can be
//! lifted onto another picture, so a payload alone does not prove that the content is
//! the generation its log record describes. The record keeps the fingerprint of the
//! content as published; attribution compares it with the content in hand and says so
//! when the payload's record describes other content.
//!
//! * `phash-dct-32x8-v1` (pictures): the luma box-averaged to 32×32, its 2-D DCT-II, the
//!   64 lowest coefficients but the DC (`u, v < 8`, plus `(8, 0)`), each bit set when the
//!   coefficient is above their median (pHash).
//! * `audio-band-energy-9x9-v1` (sound): the mono mix cut into 9 equal spans, the energy
//!   of 9 log-spaced bands (200 Hz–4 kHz) in each, and the sign of
//!   `(E[t][b] − E[t][b+1]) − (E[t−1][b] − E[t−1][b+1])` for `t, b` in 1..9 × 0..8
//!   (Haitsma and Kalker's bits, over the whole clip instead of per frame).
//!
//! Distances are Hamming distances out of 64; [`MATCH_DISTANCE`] is the most that counts
//! as the same content. Under "unrelated content" the bits are close to fair coins, so
//! `P[distance ≤ 12] ≈ 1.5e-7` under that idealisation (natural pictures correlate more;
//! the threshold is a heuristic, and the record's exact content hash is checked first).

use rustfft::{FftPlanner, num_complex::Complex32};

use crate::{Audio, MediaError, Picture};

/// The scheme id of picture fingerprints.
pub const IMAGE_SCHEME: &str = "phash-dct-32x8-v1";
/// The scheme id of sound fingerprints.
pub const AUDIO_SCHEME: &str = "audio-band-energy-9x9-v1";
/// The largest Hamming distance (of 64 bits) at which two fingerprints name the same
/// content.
pub const MATCH_DISTANCE: u32 = 12;

/// The Hamming distance between two fingerprints.
pub fn distance(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// The fingerprint of a picture (`phash-dct-32x8-v1`).
pub fn image(picture: &Picture) -> u64 {
    const N: usize = 32;
    let luma = picture.luma();
    let (w, h) = (luma.width, luma.height);
    // Box averages over a 32×32 grid of cells (a cell is at least one pixel: pictures
    // smaller than 32 pixels a side repeat pixels).
    let mut small = [[0f64; N]; N];
    for (cy, row) in small.iter_mut().enumerate() {
        let (y0, y1) = (cy * h / N, ((cy + 1) * h / N).max(cy * h / N + 1).min(h));
        for (cx, cell) in row.iter_mut().enumerate() {
            let (x0, x1) = (cx * w / N, ((cx + 1) * w / N).max(cx * w / N + 1).min(w));
            let mut sum = 0f64;
            for y in y0..y1 {
                for x in x0..x1 {
                    sum += f64::from(luma.at(x, y));
                }
            }
            *cell = sum / ((y1 - y0) * (x1 - x0)).max(1) as f64;
        }
    }
    let basis = |u: usize, x: usize| {
        (std::f64::consts::PI * (2 * x + 1) as f64 * u as f64 / (2 * N) as f64).cos()
    };
    let coefficient = |u: usize, v: usize| {
        let mut s = 0f64;
        for (y, row) in small.iter().enumerate() {
            let by = basis(v, y);
            for (x, p) in row.iter().enumerate() {
                s += p * by * basis(u, x);
            }
        }
        s
    };
    let mut coefficients = Vec::with_capacity(64);
    for v in 0..8 {
        for u in 0..8 {
            if (u, v) != (0, 0) {
                coefficients.push(coefficient(u, v));
            }
        }
    }
    coefficients.push(coefficient(8, 0));
    bits_above_median(&coefficients)
}

fn bits_above_median(values: &[f64]) -> u64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = (sorted[sorted.len() / 2 - 1] + sorted[sorted.len() / 2]) / 2.0;
    values
        .iter()
        .fold(0u64, |acc, &c| (acc << 1) | u64::from(c > median))
}

/// The fingerprint of a sound (`audio-band-energy-9x9-v1`). Clips under a second are
/// too short to fingerprint.
pub fn audio(audio: &Audio) -> Result<u64, MediaError> {
    const SPANS: usize = 9;
    const BANDS: usize = 9;
    const FRAME: usize = 2048;
    let rate = audio.sample_rate() as usize;
    if audio.seconds() < 1.0 || rate < 8_000 {
        return Err(MediaError::TooSmall(
            "a sound under one second (or sampled under 8 kHz) has no fingerprint".into(),
        ));
    }
    let mono = audio.mono();
    // Band edges, log-spaced from 200 Hz to 4 kHz, as FFT bins of a FRAME-sample frame.
    let edges: Vec<usize> = (0..=BANDS)
        .map(|i| {
            let hz = 200.0 * (4000.0f64 / 200.0).powf(i as f64 / BANDS as f64);
            ((hz * FRAME as f64 / rate as f64).round() as usize).clamp(1, FRAME / 2)
        })
        .collect();
    let fft = FftPlanner::<f32>::new().plan_fft_forward(FRAME);
    let window: Vec<f32> = (0..FRAME)
        .map(|i| {
            let t = std::f32::consts::PI * 2.0 * i as f32 / FRAME as f32;
            0.5 - 0.5 * t.cos()
        })
        .collect();
    let mut energy = [[0f64; BANDS]; SPANS];
    let span = mono.len() / SPANS;
    let mut buffer = vec![Complex32::default(); FRAME];
    for (t, row) in energy.iter_mut().enumerate() {
        let part = &mono[t * span..(t + 1) * span];
        let mut start = 0;
        loop {
            for (i, b) in buffer.iter_mut().enumerate() {
                let s = part.get(start + i).copied().unwrap_or(0.0);
                *b = Complex32::new(s * window[i], 0.0);
            }
            fft.process(&mut buffer);
            for (b, e) in row.iter_mut().enumerate() {
                let (lo, hi) = (edges[b], edges[b + 1].max(edges[b] + 1));
                *e += buffer[lo..hi]
                    .iter()
                    .map(|c| f64::from(c.norm_sqr()))
                    .sum::<f64>();
            }
            start += FRAME / 2;
            if start + FRAME > part.len() {
                break;
            }
        }
        for e in row.iter_mut() {
            *e = (*e + 1e-12).ln();
        }
    }
    let mut fingerprint = 0u64;
    for t in 1..SPANS {
        for b in 0..BANDS - 1 {
            let d = (energy[t][b] - energy[t][b + 1]) - (energy[t - 1][b] - energy[t - 1][b + 1]);
            fingerprint = (fingerprint << 1) | u64::from(d > 0.0);
        }
    }
    Ok(fingerprint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{attack, synth};

    #[test]
    fn a_picture_keeps_its_fingerprint_through_jpeg_and_resizing() {
        let a = synth::picture(1, 384, 256);
        let b = synth::picture(2, 384, 256);
        let fa = image(&a);
        let jpeg = attack::jpeg(&a, 75).unwrap();
        assert!(
            distance(fa, image(&jpeg)) <= 4,
            "{}",
            distance(fa, image(&jpeg))
        );
        let half = attack::resize_by(&a, 0.5).unwrap();
        assert!(distance(fa, image(&half)) <= 6);
        assert!(distance(fa, image(&b)) > MATCH_DISTANCE);
    }

    #[test]
    fn a_sound_keeps_its_fingerprint_through_gain_and_noise() {
        let a = Audio::new(16_000, vec![synth::music(1, 16_000, 10.0)]).unwrap();
        let b = Audio::new(16_000, vec![synth::music(2, 16_000, 10.0)]).unwrap();
        let fa = audio(&a).unwrap();
        let quieter = a.map_channels(|c| c.iter().map(|s| s * 0.5).collect());
        assert_eq!(distance(fa, audio(&quieter).unwrap()), 0);
        let noisy = attack::audio_noise(&a, 30.0, 7);
        assert!(distance(fa, audio(&noisy).unwrap()) <= 8);
        assert!(distance(fa, audio(&b).unwrap()) > MATCH_DISTANCE);
        let short = Audio::new(16_000, vec![vec![0.0; 8000]]).unwrap();
        assert!(audio(&short).is_err());
    }
}
