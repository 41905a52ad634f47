//! The edits a mark should survive, and the measures of what marking costs: used by the
//! evaluation (`benches/media_eval.rs`) and the tests, so every figure in the README comes
//! from this code.

use crate::{
    MediaError,
    audio::Audio,
    dsp::{AxisMap, Plane, resample, resize},
    imageio,
    picture::Picture,
};

/// A small deterministic generator (SplitMix64): attacks and synthetic content must be
/// reproducible from a seed, and need no cryptographic quality.
#[derive(Debug, Clone)]
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u = 1.0 - self.unit();
        let v = self.unit();
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// An image edit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ImageAttack {
    None,
    Jpeg(u8),
    /// Resize both sides by this factor.
    Resize(f64),
    /// Keep the centre `fraction` of each side.
    CentreCrop(f64),
    /// Add this to every colour sample.
    Brightness(f32),
    /// Scale colour samples around 128 by this factor.
    Contrast(f32),
    /// Add Gaussian noise of this standard deviation (0..255 scale).
    Noise(f32),
}

impl ImageAttack {
    /// The attacks of the evaluation table.
    pub const TABLE: [ImageAttack; 13] = [
        ImageAttack::None,
        ImageAttack::Jpeg(90),
        ImageAttack::Jpeg(75),
        ImageAttack::Jpeg(50),
        ImageAttack::Resize(0.5),
        ImageAttack::Resize(1.5),
        ImageAttack::CentreCrop(0.9),
        ImageAttack::CentreCrop(0.75),
        ImageAttack::CentreCrop(0.8725),
        ImageAttack::Brightness(20.0),
        ImageAttack::Contrast(1.3),
        ImageAttack::Contrast(0.7),
        ImageAttack::Noise(5.0),
    ];

    pub fn name(&self) -> String {
        match self {
            ImageAttack::None => "none".into(),
            ImageAttack::Jpeg(q) => format!("jpeg-q{q}"),
            ImageAttack::Resize(f) => format!("resize-{f}x"),
            ImageAttack::CentreCrop(f) => format!("crop-{}pct", f * 100.0),
            ImageAttack::Brightness(d) => format!("brightness{d:+}"),
            ImageAttack::Contrast(c) => format!("contrast-x{c}"),
            ImageAttack::Noise(s) => format!("noise-sigma{s}"),
        }
    }

    /// Applies the edit; `seed` drives the noise.
    pub fn apply(&self, picture: &Picture, seed: u64) -> Result<Picture, MediaError> {
        Ok(match *self {
            ImageAttack::None => picture.clone(),
            ImageAttack::Jpeg(q) => jpeg(picture, q)?,
            ImageAttack::Resize(f) => resize_by(picture, f)?,
            ImageAttack::CentreCrop(f) => centre_crop(picture, f)?,
            ImageAttack::Brightness(d) => picture.map_colours(|v| v + d),
            ImageAttack::Contrast(c) => picture.map_colours(|v| 128.0 + (v - 128.0) * c),
            ImageAttack::Noise(s) => noise(picture, s, seed),
        })
    }
}

/// JPEG at `quality` and back (alpha dropped: JPEG has none).
pub fn jpeg(picture: &Picture, quality: u8) -> Result<Picture, MediaError> {
    let opaque = drop_alpha(picture)?;
    let bytes = imageio::encode_jpeg(&opaque, quality)?;
    Ok(imageio::decode_image(&bytes)?.0)
}

/// The colour channels alone.
pub fn drop_alpha(picture: &Picture) -> Result<Picture, MediaError> {
    if !picture.has_alpha() {
        return Ok(picture.clone());
    }
    let planes: Vec<Plane> = (0..picture.colour_channels())
        .map(|k| picture.channel(k))
        .collect();
    Picture::from_planes(&planes)
}

fn map_planes(picture: &Picture, f: impl Fn(&Plane) -> Plane) -> Result<Picture, MediaError> {
    let planes: Vec<Plane> = (0..picture.channels() as usize)
        .map(|k| f(&picture.channel(k)))
        .collect();
    Picture::from_planes(&planes)
}

/// Resizes both sides by `factor` (tent filter, the same as the marks' own resampler).
pub fn resize_by(picture: &Picture, factor: f64) -> Result<Picture, MediaError> {
    let w = ((picture.width() as f64 * factor).round() as usize).max(1);
    let h = ((picture.height() as f64 * factor).round() as usize).max(1);
    map_planes(picture, |p| resize(p, w, h))
}

/// Keeps the centre `fraction` of each side (whole pixels).
pub fn centre_crop(picture: &Picture, fraction: f64) -> Result<Picture, MediaError> {
    let side = |len: u32| {
        let keep = ((len as f64 * fraction).round() as usize).clamp(1, len as usize);
        (keep, (len as usize - keep) / 2)
    };
    let (w, x0) = side(picture.width());
    let (h, y0) = side(picture.height());
    let shift = |off: usize| AxisMap {
        scale: 1.0,
        offset: off as f64,
    };
    map_planes(picture, |p| resample(p, w, h, shift(x0), shift(y0)))
}

/// Adds Gaussian noise of standard deviation `sigma` to every colour sample.
pub fn noise(picture: &Picture, sigma: f32, seed: u64) -> Picture {
    let rng = std::cell::RefCell::new(SplitMix(seed));
    picture.map_colours(|v| v + sigma * rng.borrow_mut().normal() as f32)
}

/// PSNR in dB over the colour channels (RGB, or gray), `∞` for equal pictures.
pub fn psnr(a: &Picture, b: &Picture) -> f64 {
    let (ca, cb) = (a.channels() as usize, b.channels() as usize);
    let colours = a.colour_channels().min(b.colour_channels());
    let mut sum = 0.0f64;
    let mut n = 0u64;
    for (p, q) in a.pixels().chunks_exact(ca).zip(b.pixels().chunks_exact(cb)) {
        for k in 0..colours {
            let d = f64::from(p[k]) - f64::from(q[k]);
            sum += d * d;
            n += 1;
        }
    }
    let mse = sum / n.max(1) as f64;
    10.0 * (255.0f64 * 255.0 / mse).log10()
}

/// Gaussian blur (σ = 1.5, 11 taps), separable, edges clamped: SSIM's window.
fn ssim_blur(p: &Plane) -> Plane {
    let k: Vec<f32> = (-5i32..=5)
        .map(|i| (-(i * i) as f32 / (2.0 * 1.5 * 1.5)).exp())
        .collect();
    let sum: f32 = k.iter().sum();
    let k: Vec<f32> = k.iter().map(|v| v / sum).collect();
    let (w, h) = (p.width, p.height);
    let pass = |src: &Plane, horizontal: bool| {
        let mut out = Plane::new(w, h);
        for y in 0..h {
            for x in 0..w {
                out.data[y * w + x] = k
                    .iter()
                    .enumerate()
                    .map(|(j, kv)| {
                        let o = j as i64 - 5;
                        let (xx, yy) = if horizontal {
                            ((x as i64 + o).clamp(0, w as i64 - 1) as usize, y)
                        } else {
                            (x, (y as i64 + o).clamp(0, h as i64 - 1) as usize)
                        };
                        kv * src.data[yy * w + xx]
                    })
                    .sum();
            }
        }
        out
    };
    pass(&pass(p, true), false)
}

/// Mean SSIM of the lumas (Wang et al. 2004: Gaussian window σ = 1.5, K1 = 0.01,
/// K2 = 0.03, L = 255).
pub fn ssim(a: &Picture, b: &Picture) -> f64 {
    let (x, y) = (a.luma(), b.luma());
    let prod = |p: &Plane, q: &Plane| Plane {
        width: p.width,
        height: p.height,
        data: p.data.iter().zip(&q.data).map(|(u, v)| u * v).collect(),
    };
    let (mx, my) = (ssim_blur(&x), ssim_blur(&y));
    let (sxx, syy, sxy) = (
        ssim_blur(&prod(&x, &x)),
        ssim_blur(&prod(&y, &y)),
        ssim_blur(&prod(&x, &y)),
    );
    let (c1, c2) = ((0.01f64 * 255.0).powi(2), (0.03f64 * 255.0).powi(2));
    let n = mx.data.len();
    let total: f64 = (0..n)
        .map(|i| {
            let (ux, uy) = (f64::from(mx.data[i]), f64::from(my.data[i]));
            let vx = f64::from(sxx.data[i]) - ux * ux;
            let vy = f64::from(syy.data[i]) - uy * uy;
            let cxy = f64::from(sxy.data[i]) - ux * uy;
            ((2.0 * ux * uy + c1) * (2.0 * cxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
        })
        .sum();
    total / n.max(1) as f64
}

/// An audio edit (MP3 runs outside the crate, in the bench, through `lameenc` and
/// `mpg123`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AudioAttack {
    None,
    /// Resample to this rate and back.
    ResampleVia(u32),
    /// Multiply every sample by this factor.
    Gain(f32),
    /// Add white Gaussian noise at this signal-to-noise ratio (dB).
    Noise(f32),
    /// Cut this many seconds from the start.
    TrimStart(f64),
}

impl AudioAttack {
    pub const TABLE: [AudioAttack; 8] = [
        AudioAttack::None,
        AudioAttack::ResampleVia(16_000),
        AudioAttack::ResampleVia(44_100),
        AudioAttack::Gain(0.5),
        AudioAttack::Gain(1.8),
        AudioAttack::Noise(20.0),
        AudioAttack::TrimStart(1.37),
        AudioAttack::TrimStart(3.0),
    ];

    pub fn name(&self) -> String {
        match self {
            AudioAttack::None => "none".into(),
            AudioAttack::ResampleVia(r) => format!("resample-via-{r}Hz"),
            AudioAttack::Gain(g) => format!("gain-x{g}"),
            AudioAttack::Noise(snr) => format!("noise-snr{snr}dB"),
            AudioAttack::TrimStart(s) => format!("trim-start-{s}s"),
        }
    }

    pub fn apply(&self, audio: &Audio, seed: u64) -> Result<Audio, MediaError> {
        Ok(match *self {
            AudioAttack::None => audio.clone(),
            AudioAttack::ResampleVia(rate) => {
                audio.resampled(rate)?.resampled(audio.sample_rate())?
            }
            AudioAttack::Gain(g) => audio.map_channels(|c| c.iter().map(|s| s * g).collect()),
            AudioAttack::Noise(snr) => audio_noise(audio, snr, seed),
            AudioAttack::TrimStart(seconds) => {
                let cut = ((seconds * f64::from(audio.sample_rate())) as usize).min(audio.frames());
                audio.map_channels(|c| c[cut..].to_vec())
            }
        })
    }
}

/// White Gaussian noise at `snr_db` below the audio's mean power.
pub fn audio_noise(audio: &Audio, snr_db: f32, seed: u64) -> Audio {
    let power = audio
        .channels()
        .iter()
        .flat_map(|c| c.iter())
        .map(|s| f64::from(*s).powi(2))
        .sum::<f64>()
        / (audio.frames() * audio.channels().len()).max(1) as f64;
    let sigma = (power / 10f64.powf(f64::from(snr_db) / 10.0)).sqrt();
    let rng = std::cell::RefCell::new(SplitMix(seed));
    audio.map_channels(|c| {
        c.iter()
            .map(|s| s + (sigma * rng.borrow_mut().normal()) as f32)
            .collect()
    })
}

/// Signal-to-noise ratio (dB) of `marked` against `original`, over all channels.
pub fn snr(original: &Audio, marked: &Audio) -> f64 {
    let (mut signal, mut noise) = (0.0f64, 0.0f64);
    for (a, b) in original.channels().iter().zip(marked.channels()) {
        for (x, y) in a.iter().zip(b) {
            signal += f64::from(*x).powi(2);
            noise += f64::from(y - x).powi(2);
        }
    }
    10.0 * (signal / noise).log10()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(w: u32, h: u32) -> Picture {
        let pixels = (0..w * h)
            .flat_map(|i| {
                let (x, y) = (i % w, i / w);
                [(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8]
            })
            .collect();
        Picture::new(w, h, 3, pixels).unwrap()
    }

    #[test]
    fn measures_are_sane() {
        let a = gradient(64, 48);
        assert!(psnr(&a, &a).is_infinite());
        assert!((ssim(&a, &a) - 1.0).abs() < 1e-6);
        let b = noise(&a, 5.0, 1);
        let p = psnr(&a, &b);
        assert!((32.0..36.0).contains(&p), "{p}");
        assert!(ssim(&a, &b) < 0.99);
    }

    #[test]
    fn geometric_attacks_have_the_expected_sizes() {
        let a = gradient(200, 100);
        let r = resize_by(&a, 0.5).unwrap();
        assert_eq!((r.width(), r.height()), (100, 50));
        let c = centre_crop(&a, 0.75).unwrap();
        assert_eq!((c.width(), c.height()), (150, 75));
        assert_eq!(c.pixels()[..3], a.pixels()[(12 * 200 + 25) * 3..][..3]);
        let j = jpeg(&a, 75).unwrap();
        assert_eq!((j.width(), j.height()), (200, 100));
        assert!(psnr(&a, &j) > 25.0);
    }
}
