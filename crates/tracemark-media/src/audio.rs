//! Decoded audio and the signal pieces the audio mark needs: a windowed-sinc resampler
//! and a short-time Fourier transform with perfect reconstruction.

use std::sync::Arc;

use rustfft::{Fft, FftPlanner, num_complex::Complex32};

use crate::MediaError;

/// Audio as planar `f32` samples, nominally in `[-1, 1]`.
#[derive(Clone, PartialEq)]
pub struct Audio {
    sample_rate: u32,
    channels: Vec<Vec<f32>>,
}

impl std::fmt::Debug for Audio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Audio({} Hz, {} channels, {} frames)",
            self.sample_rate,
            self.channels.len(),
            self.frames()
        )
    }
}

impl Audio {
    /// At least one channel, all of one length, a rate of at least 8 kHz.
    pub fn new(sample_rate: u32, channels: Vec<Vec<f32>>) -> Result<Self, MediaError> {
        if channels.is_empty() {
            return Err(MediaError::TooSmall("the audio has no channel".into()));
        }
        if channels.iter().any(|c| c.len() != channels[0].len()) {
            return Err(MediaError::Decode {
                format: "audio buffer",
                reason: "channels of different lengths".into(),
            });
        }
        if !(8_000..=384_000).contains(&sample_rate) {
            return Err(MediaError::Unsupported {
                media: "audio",
                what: format!("a sample rate of {sample_rate} Hz (8 to 384 kHz are read)"),
            });
        }
        Ok(Self {
            sample_rate,
            channels,
        })
    }

    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    pub fn channels(&self) -> &[Vec<f32>] {
        &self.channels
    }

    pub fn into_channels(self) -> Vec<Vec<f32>> {
        self.channels
    }

    /// Samples per channel.
    pub fn frames(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }

    pub fn seconds(&self) -> f64 {
        self.frames() as f64 / f64::from(self.sample_rate)
    }

    /// The mean of the channels.
    pub fn mono(&self) -> Vec<f32> {
        let n = self.channels.len() as f32;
        (0..self.frames())
            .map(|i| self.channels.iter().map(|c| c[i]).sum::<f32>() / n)
            .collect()
    }

    /// The same audio with `delta` (at this rate) added to every channel.
    pub fn add_to_channels(&self, delta: &[f32]) -> Audio {
        let channels = self
            .channels
            .iter()
            .map(|c| c.iter().zip(delta).map(|(s, d)| s + d).collect())
            .collect();
        Audio {
            channels,
            ..self.clone()
        }
    }

    /// Applies `f` to every channel (attacks).
    pub fn map_channels(&self, f: impl Fn(&[f32]) -> Vec<f32>) -> Audio {
        Audio {
            channels: self.channels.iter().map(|c| f(c)).collect(),
            ..self.clone()
        }
    }

    /// Every channel resampled to `rate`.
    pub fn resampled(&self, rate: u32) -> Result<Audio, MediaError> {
        Audio::new(
            rate,
            self.channels
                .iter()
                .map(|c| resample(c, self.sample_rate, rate))
                .collect(),
        )
    }
}

/// Zero crossings of the sinc on each side of a tap (per unit of the lower rate).
const SINC_ZEROS: f64 = 16.0;

/// Band-limited resampling from `from` Hz to `to` Hz: a Blackman-windowed sinc with its
/// cut-off at 95 % of the lower Nyquist frequency, 16 zero crossings a side (stop-band
/// rejection about 70 dB), evaluated at each output instant. Not the fastest resampler
/// (no polyphase table), but exact at any ratio, which the 48 ↔ 16 kHz and 44.1 kHz
/// paths need.
pub fn resample(x: &[f32], from: u32, to: u32) -> Vec<f32> {
    if from == to || x.is_empty() {
        return x.to_vec();
    }
    let ratio = f64::from(from) / f64::from(to);
    // Cut-off in cycles per input sample.
    let cutoff = 0.5 * 0.95 * (1.0f64).min(1.0 / ratio);
    let half = SINC_ZEROS / (2.0 * cutoff);
    let len = ((x.len() as f64) / ratio).round() as usize;
    (0..len)
        .map(|n| {
            let t = n as f64 * ratio;
            let lo = (t - half).ceil().max(0.0) as usize;
            let hi = ((t + half).floor() as usize).min(x.len() - 1);
            let mut acc = 0.0f64;
            for (i, &xi) in x.iter().enumerate().take(hi + 1).skip(lo) {
                let d = i as f64 - t;
                let arg = 2.0 * cutoff * d;
                let sinc = if arg.abs() < 1e-12 {
                    1.0
                } else {
                    (std::f64::consts::PI * arg).sin() / (std::f64::consts::PI * arg)
                };
                let w = 0.42
                    + 0.5 * (std::f64::consts::PI * d / half).cos()
                    + 0.08 * (2.0 * std::f64::consts::PI * d / half).cos();
                acc += f64::from(xi) * 2.0 * cutoff * sinc * w;
            }
            acc as f32
        })
        .collect()
}

/// An STFT of frame `size` and hop `size / 2` with the square root of a periodic Hann
/// window on both analysis and synthesis: the squared windows overlap-add to exactly 1,
/// so the inverse of an unmodified transform is the signal itself.
pub struct Stft {
    size: usize,
    window: Vec<f32>,
    forward: Arc<dyn Fft<f32>>,
    inverse: Arc<dyn Fft<f32>>,
}

impl std::fmt::Debug for Stft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Stft({})", self.size)
    }
}

impl Stft {
    pub fn new(size: usize) -> Self {
        let mut planner = FftPlanner::new();
        let window = (0..size)
            .map(|i| {
                let hann = 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / size as f64).cos();
                hann.sqrt() as f32
            })
            .collect();
        Self {
            size,
            window,
            forward: planner.plan_fft_forward(size),
            inverse: planner.plan_fft_inverse(size),
        }
    }

    pub fn hop(&self) -> usize {
        self.size / 2
    }

    /// Frames starting at `offset + t·hop` that fit inside `x`.
    pub fn frames(&self, len: usize, offset: usize) -> usize {
        if len < offset + self.size {
            0
        } else {
            (len - offset - self.size) / self.hop() + 1
        }
    }

    /// The spectrum (bins `0..=size/2`) of the frame at `start`.
    pub fn analyse(&self, x: &[f32], start: usize) -> Vec<Complex32> {
        let mut buf: Vec<Complex32> = x[start..start + self.size]
            .iter()
            .zip(&self.window)
            .map(|(s, w)| Complex32::new(s * w, 0.0))
            .collect();
        self.forward.process(&mut buf);
        buf.truncate(self.size / 2 + 1);
        buf
    }

    /// Adds the windowed inverse of a half spectrum into `out` at `start`.
    pub fn synthesise_into(&self, half: &[Complex32], out: &mut [f32], start: usize) {
        let n = self.size;
        let mut buf = vec![Complex32::new(0.0, 0.0); n];
        buf[..half.len()].copy_from_slice(half);
        for k in 1..n / 2 {
            buf[n - k] = half[k].conj();
        }
        self.inverse.process(&mut buf);
        let scale = 1.0 / n as f32;
        for (i, (b, w)) in buf.iter().zip(&self.window).enumerate() {
            out[start + i] += b.re * scale * w;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stft_reconstructs_the_signal() {
        let stft = Stft::new(64);
        let x: Vec<f32> = (0..640)
            .map(|i| ((i * 7919) % 113) as f32 / 113.0 - 0.5)
            .collect();
        let mut y = vec![0.0; x.len()];
        for t in 0..stft.frames(x.len(), 0) {
            let spec = stft.analyse(&x, t * stft.hop());
            stft.synthesise_into(&spec, &mut y, t * stft.hop());
        }
        // Away from the ends (covered by one frame only) the overlap-add is exact.
        for i in 64..576 {
            assert!((x[i] - y[i]).abs() < 1e-4, "{i}");
        }
    }

    #[test]
    fn resampling_keeps_a_tone_below_the_cut_off() {
        let tone = |rate: u32, n: usize| -> Vec<f32> {
            (0..n)
                .map(|i| (std::f64::consts::TAU * 1000.0 * i as f64 / f64::from(rate)).sin() as f32)
                .collect()
        };
        let x = tone(48_000, 4800);
        let y = resample(&x, 48_000, 16_000);
        assert_eq!(y.len(), 1600);
        let want = tone(16_000, 1600);
        for i in 100..1500 {
            assert!((y[i] - want[i]).abs() < 2e-3, "{i} {} {}", y[i], want[i]);
        }
        let z = resample(&y, 16_000, 48_000);
        assert_eq!(z.len(), 4800);
        for i in 300..4500 {
            assert!((z[i] - x[i]).abs() < 5e-3, "{i}");
        }
    }

    #[test]
    fn buffers_are_checked() {
        assert!(Audio::new(16_000, vec![]).is_err());
        assert!(Audio::new(16_000, vec![vec![0.0; 3], vec![0.0; 2]]).is_err());
        assert!(Audio::new(100, vec![vec![0.0; 3]]).is_err());
        let a = Audio::new(16_000, vec![vec![1.0, 3.0], vec![3.0, 5.0]]).unwrap();
        assert_eq!(a.mono(), vec![2.0, 4.0]);
    }
}
