//! Procedural content for tests and measurements: pictures with smooth gradients, 1/f
//! texture, hard and soft edges (the statistics of natural images at the scales the mark
//! uses, roughly), and sounds (speech-like formant buzz, chords, noise). Deterministic
//! from a seed.

use crate::{attack::SplitMix, picture::Picture};

/// Value noise: a lattice of random values every `cell` pixels, smoothly interpolated.
struct ValueNoise {
    cols: usize,
    values: Vec<f32>,
    cell: f32,
}

impl ValueNoise {
    fn new(rng: &mut SplitMix, width: u32, height: u32, cell: f32) -> Self {
        let cols = (width as f32 / cell) as usize + 2;
        let rows = (height as f32 / cell) as usize + 2;
        let values = (0..cols * rows)
            .map(|_| rng.unit() as f32 * 2.0 - 1.0)
            .collect();
        Self { cols, values, cell }
    }

    fn at(&self, x: f32, y: f32) -> f32 {
        let (fx, fy) = (x / self.cell, y / self.cell);
        let (ix, iy) = (fx as usize, fy as usize);
        let smooth = |t: f32| t * t * (3.0 - 2.0 * t);
        let (tx, ty) = (smooth(fx - ix as f32), smooth(fy - iy as f32));
        let v = |i: usize, j: usize| self.values[j * self.cols + i];
        let top = v(ix, iy) * (1.0 - tx) + v(ix + 1, iy) * tx;
        let bottom = v(ix, iy + 1) * (1.0 - tx) + v(ix + 1, iy + 1) * tx;
        top * (1.0 - ty) + bottom * ty
    }
}

enum Shape {
    Disc { cx: f32, cy: f32, r: f32 },
    Rect { x0: f32, y0: f32, x1: f32, y1: f32 },
}

/// A synthetic RGB picture.
pub fn picture(seed: u64, width: u32, height: u32) -> Picture {
    let mut rng = SplitMix(seed ^ 0x5EED_1A6E);
    let colour = |rng: &mut SplitMix| [0; 3].map(|_: u8| 20.0 + 215.0 * rng.unit() as f32);
    let (c0, c1) = (colour(&mut rng), colour(&mut rng));
    let angle = rng.unit() as f32 * std::f32::consts::TAU;
    let (dx, dy) = (angle.cos(), angle.sin());
    // 1/f texture: octaves whose amplitude halves as their cell halves.
    let texture = 4.0 + 36.0 * rng.unit() as f32;
    let octaves: Vec<(ValueNoise, f32)> = (0..6)
        .map(|o| {
            let cell = 128.0 / (1 << o) as f32;
            (
                ValueNoise::new(&mut rng, width, height, cell.max(1.5)),
                texture / (1 << o) as f32,
            )
        })
        .collect();
    let shapes: Vec<(Shape, [f32; 3], f32)> = (0..3 + rng.next_u64() % 12)
        .map(|_| {
            let (w, h) = (width as f32, height as f32);
            let shape = if rng.next_u64().is_multiple_of(2) {
                Shape::Disc {
                    cx: rng.unit() as f32 * w,
                    cy: rng.unit() as f32 * h,
                    r: (0.05 + 0.3 * rng.unit() as f32) * w.min(h),
                }
            } else {
                let (x0, y0) = (rng.unit() as f32 * w, rng.unit() as f32 * h);
                Shape::Rect {
                    x0,
                    y0,
                    x1: x0 + (0.1 + 0.4 * rng.unit() as f32) * w,
                    y1: y0 + (0.1 + 0.4 * rng.unit() as f32) * h,
                }
            };
            // Edge softness in pixels: from hard to blurred.
            (shape, colour(&mut rng), 0.5 + 6.0 * rng.unit() as f32)
        })
        .collect();
    let mut pixels = Vec::with_capacity((width * height * 3) as usize);
    let diag = (width as f32).hypot(height as f32);
    for y in 0..height {
        for x in 0..width {
            let (fx, fy) = (x as f32, y as f32);
            let t = (((fx * dx + fy * dy) / diag) + 1.0) / 2.0;
            let mut rgb = [0, 1, 2].map(|k| c0[k] * (1.0 - t) + c1[k] * t);
            for (shape, c, soft) in &shapes {
                let inside = match *shape {
                    Shape::Disc { cx, cy, r } => r - (fx - cx).hypot(fy - cy),
                    Shape::Rect { x0, y0, x1, y1 } => {
                        (fx - x0).min(x1 - fx).min(fy - y0).min(y1 - fy)
                    }
                };
                let a = (inside / soft + 0.5).clamp(0.0, 1.0);
                for k in 0..3 {
                    rgb[k] = rgb[k] * (1.0 - a) + c[k] * a;
                }
            }
            let n: f32 = octaves.iter().map(|(v, amp)| amp * v.at(fx, fy)).sum();
            pixels.extend(rgb.map(|v| (v + n).round().clamp(0.0, 255.0) as u8));
        }
    }
    Picture::new(width, height, 3, pixels).expect("the buffer matches its shape")
}

/// A two-pole resonator (formant filter) at `freq` Hz with bandwidth `bw` Hz.
struct Resonator {
    a1: f32,
    a2: f32,
    gain: f32,
    y1: f32,
    y2: f32,
}

impl Resonator {
    fn new(freq: f32, bw: f32, rate: f32) -> Self {
        let r = (-std::f32::consts::PI * bw / rate).exp();
        let theta = std::f32::consts::TAU * freq / rate;
        Self {
            a1: 2.0 * r * theta.cos(),
            a2: -r * r,
            gain: 1.0 - r,
            y1: 0.0,
            y2: 0.0,
        }
    }

    fn step(&mut self, x: f32) -> f32 {
        let y = self.gain * x + self.a1 * self.y1 + self.a2 * self.y2;
        self.y2 = self.y1;
        self.y1 = y;
        y
    }
}

/// Speech-like sound: voiced segments (a glottal pulse train at 90 to 250 Hz through
/// three formant resonators that move every segment), unvoiced hiss and pauses.
pub fn speechlike(seed: u64, rate: u32, seconds: f64) -> Vec<f32> {
    let mut rng = SplitMix(seed ^ 0x005B_EEC4);
    let n = (seconds * f64::from(rate)) as usize;
    let fs = rate as f32;
    let mut out = Vec::with_capacity(n);
    let f0_base = 90.0 + 160.0 * rng.unit() as f32;
    let mut phase = 0.0f32;
    while out.len() < n {
        let len = ((0.06 + 0.2 * rng.unit()) * f64::from(rate)) as usize;
        let kind = rng.next_u64() % 10;
        let formants = [
            300.0 + 600.0 * rng.unit() as f32,
            900.0 + 1600.0 * rng.unit() as f32,
            2500.0 + 1000.0 * rng.unit() as f32,
        ];
        let mut filters: Vec<Resonator> = formants
            .iter()
            .map(|&f| Resonator::new(f.min(fs * 0.45), 80.0 + f * 0.05, fs))
            .collect();
        let mut hiss = Resonator::new((5000.0f32).min(fs * 0.4), 2000.0, fs);
        let f0 = f0_base * (0.8 + 0.4 * rng.unit() as f32);
        let level = 0.1 + 0.4 * rng.unit() as f32;
        for i in 0..len.min(n - out.len()) {
            let env = (std::f32::consts::PI * i as f32 / len as f32).sin();
            let v = match kind {
                0 => 0.0,
                1 | 2 => hiss.step(rng.normal() as f32) * 2.0,
                _ => {
                    phase += f0 * (1.0 + 0.01 * rng.normal() as f32) / fs;
                    let pulse = if phase >= 1.0 {
                        phase -= 1.0;
                        1.0
                    } else {
                        0.0
                    };
                    filters
                        .iter_mut()
                        .map(|f| f.step(pulse * 20.0))
                        .sum::<f32>()
                }
            };
            out.push(level * env * v);
        }
    }
    normalise_peak(&mut out, 0.5);
    out
}

/// Music-like sound: chords of harmonic notes with attack and decay, slight vibrato,
/// and a noise burst on each beat.
pub fn music(seed: u64, rate: u32, seconds: f64) -> Vec<f32> {
    let mut rng = SplitMix(seed ^ 0x3A51C);
    let n = (seconds * f64::from(rate)) as usize;
    let fs = rate as f32;
    let mut out = vec![0.0f32; n];
    let beat = ((0.3 + 0.4 * rng.unit()) * f64::from(rate)) as usize;
    let mut start = 0;
    while start < n {
        let root = 110.0 * 2f32.powf((rng.next_u64() % 24) as f32 / 12.0);
        let chord = [0.0, 4.0 - (rng.next_u64() % 2) as f32, 7.0];
        let len = beat * (1 + (rng.next_u64() % 3) as usize);
        for semis in chord {
            let f = root * 2f32.powf(semis / 12.0);
            for i in 0..len.min(n - start) {
                let t = i as f32 / fs;
                let env = (t * 200.0).min(1.0) * (-t * 2.5).exp();
                let vib = 1.0 + 0.003 * (std::f32::consts::TAU * 5.0 * t).sin();
                let v: f32 = (1..8)
                    .filter(|&k| f * (k as f32) < fs * 0.45)
                    .map(|k| (std::f32::consts::TAU * f * k as f32 * vib * t).sin() / k as f32)
                    .sum();
                out[start + i] += 0.1 * env * v;
            }
        }
        for i in 0..(beat / 8).min(n - start) {
            out[start + i] +=
                0.2 * (-(i as f32) / (beat as f32 / 40.0)).exp() * rng.normal() as f32;
        }
        start += len;
    }
    normalise_peak(&mut out, 0.5);
    out
}

fn normalise_peak(x: &mut [f32], peak: f32) {
    let max = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    if max > 0.0 {
        x.iter_mut().for_each(|v| *v *= peak / max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sounds_have_the_asked_length_and_level() {
        for s in [speechlike(1, 16_000, 2.0), music(1, 16_000, 2.0)] {
            assert_eq!(s.len(), 32_000);
            let peak = s.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            assert!((peak - 0.5).abs() < 1e-3);
            assert!(s.iter().all(|v| v.is_finite()));
        }
    }

    #[test]
    fn pictures_are_deterministic_and_varied() {
        let a = picture(1, 96, 64);
        assert_eq!(a, picture(1, 96, 64));
        assert_ne!(a, picture(2, 96, 64));
        let distinct: std::collections::HashSet<u8> = a.pixels().iter().copied().collect();
        assert!(distinct.len() > 50);
    }
}
