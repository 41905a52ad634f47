//! Signal pieces both marks share: an image resampler that maps one grid onto another
//! through a scale and an offset (so the same code resizes, and re-registers a crop), and
//! the orthonormal 8×8 DCT basis.

/// A plane of samples, row-major. `NaN` marks a sample the source did not cover.
#[derive(Debug, Clone, PartialEq)]
pub struct Plane {
    pub width: usize,
    pub height: usize,
    pub data: Vec<f32>,
}

impl Plane {
    pub fn new(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            data: vec![0.0; width * height],
        }
    }

    #[inline]
    pub fn at(&self, x: usize, y: usize) -> f32 {
        self.data[y * self.width + x]
    }
}

/// How a destination axis reads its source: destination sample `d` (centre `d + ½`)
/// lies at source coordinate `offset + (d + ½)·scale` (pixel centres at `i + ½`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AxisMap {
    pub scale: f64,
    pub offset: f64,
}

impl AxisMap {
    /// `dst` samples spanning the whole of `src`.
    pub fn fit(src: usize, dst: usize) -> Self {
        Self {
            scale: src as f64 / dst as f64,
            offset: 0.0,
        }
    }
}

/// The source samples and weights of one destination sample; `None` when the
/// destination lies outside the source.
type Taps = Option<(usize, Vec<f32>)>;

/// Tent (linear) filter taps. When shrinking, the tent widens to the source step so that
/// every source sample contributes (area-like averaging, no aliasing of the fine detail
/// a JPEG or a resize leaves); when enlarging it is plain linear interpolation.
fn axis_taps(src: usize, dst: usize, map: AxisMap) -> Vec<Taps> {
    let radius = map.scale.max(1.0);
    (0..dst)
        .map(|d| {
            let s = map.offset + (d as f64 + 0.5) * map.scale;
            if src == 0 || s < 0.0 || s > src as f64 {
                return None;
            }
            let lo = (s - radius - 0.5).floor().max(0.0) as usize;
            let hi = ((s + radius - 0.5).ceil() as usize).min(src - 1);
            let mut weights: Vec<f32> = (lo..=hi)
                .map(|i| (1.0 - ((i as f64 + 0.5 - s).abs() / radius)).max(0.0) as f32)
                .collect();
            let sum: f32 = weights.iter().sum();
            if sum <= 0.0 {
                return None;
            }
            weights.iter_mut().for_each(|w| *w /= sum);
            Some((lo, weights))
        })
        .collect()
}

fn apply(taps: &Taps, sample: impl Fn(usize) -> f32) -> f32 {
    match taps {
        Some((lo, weights)) => weights
            .iter()
            .enumerate()
            .map(|(k, w)| w * sample(lo + k))
            .sum(),
        None => f32::NAN,
    }
}

/// Resamples `src` to `width × height` through one map per axis (separable: rows, then
/// columns).
pub fn resample(src: &Plane, width: usize, height: usize, mx: AxisMap, my: AxisMap) -> Plane {
    let tx = axis_taps(src.width, width, mx);
    let ty = axis_taps(src.height, height, my);
    let mut rows = Plane::new(width, src.height);
    for y in 0..src.height {
        let line = &src.data[y * src.width..][..src.width];
        for (x, taps) in tx.iter().enumerate() {
            rows.data[y * width + x] = apply(taps, |i| line[i]);
        }
    }
    let mut out = Plane::new(width, height);
    for (y, taps) in ty.iter().enumerate() {
        for x in 0..width {
            out.data[y * width + x] = apply(taps, |i| rows.data[i * width + x]);
        }
    }
    out
}

/// Resamples `src` to fill `width × height`.
pub fn resize(src: &Plane, width: usize, height: usize) -> Plane {
    resample(
        src,
        width,
        height,
        AxisMap::fit(src.width, width),
        AxisMap::fit(src.height, height),
    )
}

/// `B[u][x]`, the orthonormal DCT-II basis of length 8: coefficient `(u, v)` of a block
/// `P` is `Σ_y Σ_x P[y][x] B[v][y] B[u][x]`, so adding `δ·B[v][y]B[u][x]` to the block
/// moves that coefficient by exactly `δ` and no other. It is JPEG's scaling too.
pub fn dct8_basis() -> [[f32; 8]; 8] {
    let mut b = [[0.0; 8]; 8];
    for (u, row) in b.iter_mut().enumerate() {
        let c = if u == 0 { (1.0f64 / 8.0).sqrt() } else { 0.5 };
        for (x, v) in row.iter_mut().enumerate() {
            *v = (c * ((2 * x + 1) as f64 * u as f64 * std::f64::consts::PI / 16.0).cos()) as f32;
        }
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_basis_is_orthonormal() {
        let b = dct8_basis();
        for u in 0..8 {
            for v in 0..8 {
                let dot: f32 = (0..8).map(|x| b[u][x] * b[v][x]).sum();
                let want = if u == v { 1.0 } else { 0.0 };
                assert!((dot - want).abs() < 1e-5, "{u} {v} {dot}");
            }
        }
    }

    #[test]
    fn resizing_keeps_constants_and_ramps() {
        let mut p = Plane::new(40, 30);
        for y in 0..30 {
            for x in 0..40 {
                p.data[y * 40 + x] = 7.0 + x as f32;
            }
        }
        let q = resize(&p, 20, 15);
        // Shrinking by 2 averages pairs: x' = 2x + ½ in source units.
        assert!((q.at(5, 3) - (7.0 + 10.5)).abs() < 1e-4);
        let r = resize(&p, 80, 60);
        assert!((r.at(20, 10) - (7.0 + 9.75)).abs() < 1e-4);
        assert!(r.data.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn samples_outside_the_source_are_missing() {
        let p = Plane {
            width: 4,
            height: 4,
            data: vec![1.0; 16],
        };
        let map = AxisMap {
            scale: 1.0,
            offset: -2.0,
        };
        let q = resample(&p, 8, 4, map, AxisMap::fit(4, 4));
        assert!(q.at(0, 0).is_nan() && q.at(1, 0).is_nan());
        assert_eq!(q.at(2, 0), 1.0);
        assert!(q.at(7, 0).is_nan());
    }
}
