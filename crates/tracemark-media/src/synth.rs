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
            let shape = if rng.next_u64() % 2 == 0 {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pictures_are_deterministic_and_varied() {
        let a = picture(1, 96, 64);
        assert_eq!(a, picture(1, 96, 64));
        assert_ne!(a, picture(2, 96, 64));
        let distinct: std::collections::HashSet<u8> = a.pixels().iter().copied().collect();
        assert!(distinct.len() > 50);
    }
}
