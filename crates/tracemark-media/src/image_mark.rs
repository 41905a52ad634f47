//! The image mark `tracemark-image-dct-v1`: keyed spread spectrum with informed embedding
//! on the low-band 8×8 DCT coefficients of the luma at a canonical 512×512.
//!
//! # Embedding
//!
//! 1. The luma (BT.601) is resampled to 512×512 (tent filter), whatever the image's size
//!    or aspect ratio, and cut into 64×64 blocks of 8×8.
//! 2. Each block carries 9 units, its DCT coefficients `(u, v)` with `1 ≤ u + v ≤ 3`:
//!    the lowest AC band. Low, because (a) JPEG quantises them least, (b) a 0.5× resize
//!    of a 512-pixel image keeps frequencies below 4 cycles per block and removes the
//!    rest, and (c) they tolerate a sub-pixel misregistration after a crop.
//!    36,864 units: one in 8 is a pilot (known sign), the rest are dealt to the 140 slots
//!    of the payload's K = 7 code, about 230 units per coded bit, in a keyed order spread
//!    over the whole picture ([`crate::units`]).
//! 3. Each unit has a target sign `s` (keyed chip times coded bit). Informed embedding
//!    moves coefficient `x` to `x + s·clamp(m − s·x, 0, D)`: a coefficient that already
//!    agrees by the margin `m` is left alone, one that disagrees is pushed to agree by
//!    `m`, but never by more than `D`. The detector reads only signs, so energy goes where
//!    it flips a sign, not into coefficients that agree already: at the same PSNR this
//!    reads back far more reliably than adding `±a` everywhere (plain spread spectrum, the
//!    `m = ∞, D = a` case of the same rule, measured in the crate's README), and unlike
//!    QIM it survives contrast and gain changes, which scale coefficients and keep signs.
//! 4. The change is computed at 512×512, turned back into pixels, resampled to the
//!    image's size and added to R, G and B alike (so to luma, leaving hue); alpha is kept.
//!    A second pass measures the result, also through a half-size-and-back copy, and
//!    tops up units that rounding, clipping, the resampling or such a resize would pull
//!    below the margin (within the cap).
//!
//! # Detection
//!
//! The luma is resampled to 512×512 again, the 9 coefficients of each block read, and
//! the pilot's sign agreements give an exact p-value under the null (see
//! [`crate::units`]). A crop changes the scale and the origin of the canonical grid, so
//! when the full frame is not significant the detector tries centre crops keeping
//! 99.5 %, 99 %, …, 70 % of each side (61 alignments, Bonferroni-corrected): the cropped
//! picture is resampled onto its place inside the original's grid and blocks it does not
//! cover are left out. Crops that are not centred, or that change the aspect ratio, are
//! not searched (a stated limit: the full-frame alignment then fails beyond a few pixels).

use serde_json::json;
use tracemark_core::KeyId;
use tracemark_watermark::prf::Prf;

use crate::{
    MediaError,
    dsp::{AxisMap, Plane, dct8_basis, resample, resize},
    key::{MediaKey, MediaScheme},
    picture::Picture,
    units::{self, MediaDetection, UnitLayout},
};

/// The scheme this module implements.
pub const SCHEME: MediaScheme = MediaScheme::ImageDctV1;
/// The side of the canonical square the mark lives on.
pub const CANONICAL: usize = 512;
const SIDE_BLOCKS: usize = CANONICAL / 8;
/// The carrier coefficients `(u, v)` of each block, `u` horizontal: `1 ≤ u + v ≤ 3`.
const BANDS: [(usize, usize); 9] = [
    (1, 0),
    (0, 1),
    (2, 0),
    (1, 1),
    (0, 2),
    (3, 0),
    (2, 1),
    (1, 2),
    (0, 3),
];
const UNITS: usize = SIDE_BLOCKS * SIDE_BLOCKS * BANDS.len();
/// One unit in 8 is a pilot.
const PILOT_EVERY: usize = 8;
/// The PRF's domain tag for this scheme's layout.
const TAG: u8 = 0x20;
/// The smallest side marked or tested.
pub const MIN_SIDE: u32 = 64;
/// Centre crops tried after the full frame: `1 − 0.005·i` for `i = 1..=60`.
const CROP_STEP: f64 = 0.005;
const CROP_STEPS: usize = 60;
/// Around a crop found by the search: scale and shift (canonical pixels) refinements.
const REFINE_SCALE: [f64; 3] = [-0.002, 0.0, 0.002];
const REFINE_SHIFT: [f64; 3] = [-0.5, 0.0, 0.5];

/// How strongly to mark.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EmbedOptions {
    /// The margin `m` a unit is pushed to agree by, in DCT units (0..255 pixel scale).
    pub margin: f32,
    /// The largest change `D` of one coefficient.
    pub cap: f32,
    /// Measure-and-top-up passes (1 or 2).
    pub passes: u8,
}

impl Default for EmbedOptions {
    /// About 41 dB PSNR (see the README's table).
    fn default() -> Self {
        Self {
            margin: 4.0,
            cap: 8.0,
            passes: 2,
        }
    }
}

/// How to test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImageDetectOptions {
    /// The significance level, the false-positive rate the verdict guarantees.
    pub false_positive_rate: f64,
    /// Whether to search centre crops when the full frame is not significant.
    pub crop_search: bool,
}

impl ImageDetectOptions {
    pub fn new(false_positive_rate: f64) -> Self {
        Self {
            false_positive_rate,
            crop_search: true,
        }
    }
}

/// A key made ready to mark and test images.
#[derive(Debug, Clone)]
pub struct ImageMarker {
    key_id: KeyId,
    layout: UnitLayout,
    basis: [[f32; 8]; 8],
}

/// The key-independent part of a test: the carrier coefficients under every alignment.
/// Computed once, it can be read under many keys (false-positive measurements).
#[derive(Debug, Clone)]
pub struct ImageAnalysis {
    /// `(crop fraction, coefficients)`, the full frame first.
    candidates: Vec<(f64, Vec<f32>)>,
}

impl ImageMarker {
    pub fn new(key: &MediaKey) -> Result<Self, MediaError> {
        let secret = key.expect(SCHEME)?;
        let prf = Prf::new(&secret);
        Ok(Self {
            key_id: key.key_id.clone(),
            layout: UnitLayout::new(&prf, TAG, UNITS, PILOT_EVERY),
            basis: dct8_basis(),
        })
    }

    pub fn key_id(&self) -> &KeyId {
        &self.key_id
    }

    /// Marks `picture` with `payload` at the default strength.
    pub fn embed(&self, picture: &Picture, payload: u64) -> Result<Picture, MediaError> {
        self.embed_with(picture, payload, &EmbedOptions::default())
    }

    /// Marks `picture` with `payload`.
    pub fn embed_with(
        &self,
        picture: &Picture,
        payload: u64,
        opts: &EmbedOptions,
    ) -> Result<Picture, MediaError> {
        check_size(picture)?;
        if !(opts.margin.is_finite()
            && opts.cap.is_finite()
            && opts.margin >= 0.0
            && opts.cap >= 0.0)
        {
            return Err(MediaError::InvalidOption(
                "the margin and the cap must be finite and not negative".into(),
            ));
        }
        let targets = self.layout.targets(payload);
        let mut spent = vec![0.0f32; targets.len()];
        let mut out = picture.clone();
        for pass in 0..opts.passes.clamp(1, 2) {
            let luma = out.luma();
            let mut coefs = coefficients(&canonical(&luma, 1.0), &self.basis);
            if pass == 1 {
                worst_of_half_size(&luma, &mut coefs, &targets, &self.basis);
            }
            let deltas = informed_deltas(&coefs, &targets, &mut spent, opts);
            let residual = synthesise(&deltas, &self.basis);
            let full = resize(&residual, out.width() as usize, out.height() as usize);
            out = out.add_to_colours(&full);
        }
        Ok(out)
    }

    /// Tests `picture` for this key's mark, searching centre crops.
    pub fn detect(
        &self,
        picture: &Picture,
        false_positive_rate: f64,
    ) -> Result<MediaDetection, MediaError> {
        self.detect_with(picture, &ImageDetectOptions::new(false_positive_rate))
    }

    pub fn detect_with(
        &self,
        picture: &Picture,
        opts: &ImageDetectOptions,
    ) -> Result<MediaDetection, MediaError> {
        units::check_level(opts.false_positive_rate)?;
        check_size(picture)?;
        let luma = picture.luma();
        let fractions = crop_fractions(opts.crop_search);
        let ln_c = (fractions.len() as f64).ln();
        // The search reads pilots only; the payload is decoded once, at the end.
        let mut best: Option<(f64, f64, Vec<f32>)> = None;
        let mut tried = 0;
        // Steps since the best alignment improved, once one is significant: the first
        // significant alignment of a crop is often a neighbour of the true one, and the
        // payload reads best at the true one, so the scan goes on while it improves.
        let mut since_best: Option<usize> = None;
        for &f in &fractions {
            tried += 1;
            let coefs = coefficients(&canonical(&luma, f), &self.basis);
            let ln_p = units::ln_p_pilot(self.layout.pilot_counts(&coefs));
            let improved = best.as_ref().is_none_or(|(b, _, _)| ln_p < *b);
            if improved {
                best = Some((ln_p, f, coefs));
            }
            let b = best.as_ref().expect("set above").0;
            if b + ln_c <= opts.false_positive_rate.ln() {
                let steps = if improved {
                    0
                } else {
                    since_best.unwrap_or(0) + 1
                };
                since_best = Some(steps);
                if f == 1.0 || steps >= 3 {
                    break;
                }
            }
        }
        let (_, f, coefs) = best.expect("at least the full frame");
        let pilot = self.layout.pilot_counts(&coefs);
        // A crop keeps whole pixels, so its centre sits up to half a pixel off the grid
        // point searched: the payload is read at the best of a few nearby alignments
        // (the verdict keeps the grid's p-value; the payload's own bound pays for them).
        let (coefs, f, shift, refined) = if f < 1.0 {
            self.refine(&luma, f, coefs)
        } else {
            (coefs, f, (0.0, 0.0), 1)
        };
        let reading = self.layout.read(&coefs, soft);
        let mut detection = units::conclude(
            pilot,
            reading,
            fractions.len() as u64,
            tried,
            opts.false_positive_rate,
            SCHEME.as_str(),
            parameters(opts.crop_search),
            json!({ "crop_fraction": f, "shift": [shift.0, shift.1] }),
        );
        if refined > 1 {
            units::pay_for_alignments(&mut detection, refined, opts.false_positive_rate);
        }
        Ok(detection)
    }

    /// The alignment near `(f, 0, 0)` whose pilot agrees most, with its coefficients.
    fn refine(&self, luma: &Plane, f: f64, start: Vec<f32>) -> (Vec<f32>, f64, (f64, f64), u64) {
        let score = |coefs: &[f32]| {
            let (n, k) = self.layout.pilot_counts(coefs);
            k as f64 / n.max(1) as f64
        };
        let mut best = (score(&start), start, f, (0.0, 0.0));
        let mut tried = 1;
        for df in REFINE_SCALE {
            for dx in REFINE_SHIFT {
                for dy in REFINE_SHIFT {
                    if (df, dx, dy) == (0.0, 0.0, 0.0) {
                        continue;
                    }
                    tried += 1;
                    let g = f + df;
                    let coefs = coefficients(&canonical_at(luma, g, (dx, dy)), &self.basis);
                    let s = score(&coefs);
                    if s > best.0 {
                        best = (s, coefs, g, (dx, dy));
                    }
                }
            }
        }
        (best.1, best.2, best.3, tried)
    }

    /// The corrected `ln p` of the verdict from a prepared analysis (every alignment
    /// read): what [`Self::detect_with`] decides on, without the payload.
    pub fn ln_p_value(&self, analysis: &ImageAnalysis) -> f64 {
        let ln_c = (analysis.candidates.len() as f64).ln();
        let best = analysis
            .candidates
            .iter()
            .map(|(_, coefs)| units::ln_p_pilot(self.layout.pilot_counts(coefs)))
            .fold(0.0f64, f64::min);
        (best + ln_c).min(0.0)
    }
}

/// Reads the carrier coefficients of `picture` under every alignment the detector tries.
pub fn analyse(picture: &Picture, crop_search: bool) -> Result<ImageAnalysis, MediaError> {
    check_size(picture)?;
    let luma = picture.luma();
    let basis = dct8_basis();
    Ok(ImageAnalysis {
        candidates: crop_fractions(crop_search)
            .into_iter()
            .map(|f| (f, coefficients(&canonical(&luma, f), &basis)))
            .collect(),
    })
}

/// The weight of a reading for the payload's decoder: its sign. Informed embedding
/// leaves marked coefficients near the margin and host-dominated ones anywhere, so the
/// magnitude says little about the mark (a magnitude-damped weight decoded worse).
fn soft(y: f32) -> f32 {
    y.signum()
}

/// The public parameters every verdict carries.
fn parameters(crop_search: bool) -> serde_json::Value {
    json!({
        "canonical": CANONICAL,
        "block": 8,
        "bands": BANDS.len(),
        "units": UNITS,
        "pilot_units": UNITS / PILOT_EVERY,
        "payload_bits": crate::key::PAYLOAD_BITS,
        "payload_code": "convolutional-k7",
        "null": "pilot sign agreements ~ Binomial(n, 1/2) for content not marked with this key",
        "alignments": crop_fractions(crop_search).len(),
    })
}

fn crop_fractions(search: bool) -> Vec<f64> {
    let steps = if search { CROP_STEPS } else { 0 };
    (0..=steps).map(|i| 1.0 - CROP_STEP * i as f64).collect()
}

fn check_size(picture: &Picture) -> Result<(), MediaError> {
    if picture.width() < MIN_SIDE || picture.height() < MIN_SIDE {
        return Err(MediaError::TooSmall(format!(
            "a {}×{} image is too small to carry or show a mark: both sides need at least {MIN_SIDE} pixels",
            picture.width(),
            picture.height()
        )));
    }
    Ok(())
}

/// The luma on the canonical grid, for the alignment "this picture is the centre
/// `fraction` of each side of the original" (1: the whole original). Canonical pixels the
/// picture does not cover are `NaN`.
fn canonical(luma: &Plane, fraction: f64) -> Plane {
    canonical_at(luma, fraction, (0.0, 0.0))
}

/// [`canonical`] with the grid moved by `shift` canonical pixels.
fn canonical_at(luma: &Plane, fraction: f64, shift: (f64, f64)) -> Plane {
    let map = |len: usize, shift: f64| {
        let scale = len as f64 / (CANONICAL as f64 * fraction);
        AxisMap {
            scale,
            offset: -(len as f64) * (1.0 - fraction) / (2.0 * fraction) + shift * scale,
        }
    };
    resample(
        luma,
        CANONICAL,
        CANONICAL,
        map(luma.width, shift.0),
        map(luma.height, shift.1),
    )
}

/// The carrier coefficients of every block, unit `(block · 9 + band)`; `NaN` for a block
/// with a missing pixel.
fn coefficients(canon: &Plane, basis: &[[f32; 8]; 8]) -> Vec<f32> {
    let mut out = Vec::with_capacity(UNITS);
    for by in 0..SIDE_BLOCKS {
        for bx in 0..SIDE_BLOCKS {
            // Row transforms for u < 4 first: r[y][u] = Σ_x P[y][x] B[u][x].
            let mut rows = [[0.0f32; 4]; 8];
            let mut missing = false;
            for (y, row) in rows.iter_mut().enumerate() {
                let line = &canon.data[(by * 8 + y) * CANONICAL + bx * 8..][..8];
                missing |= line.iter().any(|v| v.is_nan());
                for (u, r) in row.iter_mut().enumerate() {
                    *r = line.iter().zip(&basis[u]).map(|(p, b)| p * b).sum();
                }
            }
            for &(u, v) in &BANDS {
                out.push(if missing {
                    f32::NAN
                } else {
                    (0..8).map(|y| rows[y][u] * basis[v][y]).sum()
                });
            }
        }
    }
    out
}

/// Informed embedding counts on the host's own coefficients, and a resize to half size
/// (or a blur) takes fine detail out of them: what agreed before may not after. So the
/// second pass reads the marked picture also through a half-size-and-back copy and, per
/// unit, keeps whichever reading agrees less with the target, to be topped up.
fn worst_of_half_size(luma: &Plane, coefs: &mut [f32], targets: &[f32], basis: &[[f32; 8]; 8]) {
    let (w, h) = (luma.width, luma.height);
    let soft = resize(&resize(luma, w.div_ceil(2), h.div_ceil(2)), w, h);
    let blurred = coefficients(&canonical(&soft, 1.0), basis);
    for ((x, b), s) in coefs.iter_mut().zip(&blurred).zip(targets) {
        if s * b < s * *x {
            *x = *b;
        }
    }
}

/// The informed change of each unit (see the module's documentation); `spent` holds what
/// earlier passes moved each unit by, so the cap bounds the total.
fn informed_deltas(
    coefs: &[f32],
    targets: &[f32],
    spent: &mut [f32],
    opts: &EmbedOptions,
) -> Vec<f32> {
    coefs
        .iter()
        .zip(targets)
        .zip(spent.iter_mut())
        .map(|((&x, &s), spent)| {
            if x.is_nan() {
                return 0.0;
            }
            let room = (opts.cap - spent.abs()).max(0.0);
            let d = s * (opts.margin - s * x).clamp(0.0, room);
            *spent += d;
            d
        })
        .collect()
}

/// The pixels of the coefficient changes on the canonical grid.
fn synthesise(deltas: &[f32], basis: &[[f32; 8]; 8]) -> Plane {
    let mut out = Plane::new(CANONICAL, CANONICAL);
    for (block, d) in deltas.chunks_exact(BANDS.len()).enumerate() {
        let (by, bx) = (block / SIDE_BLOCKS, block % SIDE_BLOCKS);
        for y in 0..8 {
            for x in 0..8 {
                let v: f32 = BANDS
                    .iter()
                    .zip(d)
                    .map(|(&(u, vv), &dk)| dk * basis[vv][y] * basis[u][x])
                    .sum();
                out.data[(by * 8 + y) * CANONICAL + bx * 8 + x] = v;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthesised_changes_read_back_exactly() {
        let basis = dct8_basis();
        let deltas: Vec<f32> = (0..UNITS).map(|i| ((i % 7) as f32) - 3.0).collect();
        let plane = synthesise(&deltas, &basis);
        let back = coefficients(&plane, &basis);
        for (a, b) in deltas.iter().zip(&back) {
            assert!((a - b).abs() < 1e-3);
        }
    }

    #[test]
    fn crop_alignment_maps_the_centre_back_onto_the_original_grid() {
        // A picture that is the centre half of a 512 ramp, read at fraction ½, lies on
        // the middle of the canonical grid with the ramp's values.
        let mut full = Plane::new(512, 512);
        for y in 0..512 {
            for x in 0..512 {
                full.data[y * 512 + x] = x as f32;
            }
        }
        let mut crop = Plane::new(256, 256);
        for y in 0..256 {
            for x in 0..256 {
                crop.data[y * 256 + x] = full.at(x + 128, y + 128);
            }
        }
        let c = canonical(&crop, 0.5);
        assert!(c.at(100, 200).is_nan());
        assert!((c.at(300, 200) - 300.0).abs() < 1e-3);
    }
}
