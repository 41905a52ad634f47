//! A reader for the mark Stable Diffusion XL pipelines leave: `invisible-watermark`'s
//! `dwtDct` method with the fixed 48-bit message `0xB3EC907BB19E`
//! (`0b1011_0011_1110_1100_1001_0000_0111_1011_1011_0001_1001_1110`, as Stability's
//! `generative-models` and diffusers' `StableDiffusionXLWatermarker` embed it).
//!
//! The decoder follows the package (0.2.0) step for step, so it reads exactly the bits
//! the Python decoder reads from the same pixels:
//!
//! 1. BGR → YUV as OpenCV does it for 8-bit images: fixed point with 14 fractional bits,
//!    `Y = (4899 R + 9617 G + 1868 B + 2^13) >> 14`,
//!    `U = ((B − Y)·8061 + 128·2^14 + 2^13) >> 14`, clipped to 0..255. Only U carries the
//!    mark (the package's default `scales = [0, 36, 36]` is looped over two channels).
//! 2. U cropped to multiples of 4, one level of the Haar DWT: `LL ≈ (a + b + c + d) / 2`
//!    over each 2×2 square, computed in PyWavelets' order so that it rounds the same.
//! 3. LL cut into 4×4 blocks, row-major; block `n` votes for bit `n mod 48`: its
//!    largest-magnitude entry other than the first (no DCT is taken, the package's known
//!    defect) gives `1` when `|v| mod 36 > 18`.
//! 4. Each bit is the mean of its votes, `1` when `mean·255 > 127`.
//!
//! The mark has no key, so the evidence is how many of the 48 decoded bits match the
//! message. Under the null (a picture the pipeline did not mark) the decoded bits are not
//! fair coins: flat chroma decodes to all zeros, which matches the message's 21 zeros. So
//! the p-value is taken from a *measured* null, the histogram of matches on unmarked
//! pictures ([`NULL_MATCHES`]), and never smaller than the binomial tail or than the
//! resolution of that measurement.

use serde::Serialize;
use tracemark_core::PValue;
use tracemark_watermark::stats::ln_binomial_sf;

use crate::{MediaError, picture::Picture};

/// SDXL's message, first bit first.
pub const SDXL_MESSAGE: u64 = 0xB3EC_907B_B19E;
pub const SDXL_BITS: usize = 48;
/// The package's quantisation step for U.
const SCALE: f64 = 36.0;
/// The package's smallest picture: 256 × 256 pixels in all.
const MIN_PIXELS: u64 = 256 * 256;

/// Matches out of 48 on unmarked pictures: `NULL_MATCHES[m]` readings matched `m` bits.
/// Measured by `cargo bench -p tracemark-media --bench media_eval -- sd-null`: 2,393
/// readings of 1,595 unmarked pictures (1,500 synthetic of 256 to 512 pixels a side and
/// 95 tiles of 256, 512 and 1024 pixels of scikit-image's CC0 and public-domain
/// pictures; as PNG and after JPEG q90). The peaks at 21 and 27 are flat chroma (all
/// zeros) and saturated votes (all ones); the most seen is 35.
pub const NULL_MATCHES: [u32; SDXL_BITS + 1] = [
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 4, 20, 46, 60, 106, 940, 137, 116, 96, 100,
    123, 458, 80, 47, 27, 17, 7, 3, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];

/// What the reader found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SdReading {
    /// The 48 decoded bits, first bit highest.
    pub bits: u64,
    /// Decoded bits equal to SDXL's message.
    pub matching_bits: u32,
    pub total_bits: u32,
    /// `P[matches ≥ m]` under the measured null (see the module's documentation).
    #[serde(flatten)]
    pub p_value: PValue,
    /// Unmarked pictures the null was measured on (the p-value's resolution is one over
    /// this number plus one).
    pub null_pictures: u32,
    /// Stability's own reading of the count (their detection script's bands).
    pub stability_verdict: &'static str,
}

/// Decodes `len` bits of a `dwtDct` mark as the package does, first bit first.
pub fn decode_dwtdct(picture: &Picture, len: usize) -> Result<Vec<bool>, MediaError> {
    if len == 0 {
        return Err(MediaError::InvalidOption(
            "a message has at least one bit".into(),
        ));
    }
    if u64::from(picture.width()) * u64::from(picture.height()) < MIN_PIXELS {
        return Err(MediaError::TooSmall(
            "invisible-watermark reads pictures of at least 256×256 pixels".into(),
        ));
    }
    let (w, h) = (
        picture.width() as usize / 4 * 4,
        picture.height() as usize / 4 * 4,
    );
    let u = chroma_u(picture);
    let stride = picture.width() as usize;
    // LL of the Haar DWT, (w/2) × (h/2), rounded as PyWavelets rounds it: the filter
    // 1/√2 applied down the columns first, then along the rows. Not `(a+b+c+d)/2`: the
    // values sit on the decoder's threshold (`|v| mod 36 = 18`) often enough that the
    // last bit of the sum decides votes.
    let (lw, lh) = (w / 2, h / 2);
    let k = std::f64::consts::FRAC_1_SQRT_2;
    let ll: Vec<f64> = (0..lh * lw)
        .map(|i| {
            let (y, x) = (2 * (i / lw), 2 * (i % lw));
            let at = |yy: usize, xx: usize| f64::from(u[yy * stride + xx]);
            let left = k * at(y, x) + k * at(y + 1, x);
            let right = k * at(y, x + 1) + k * at(y + 1, x + 1);
            k * left + k * right
        })
        .collect();
    let mut votes = vec![(0u64, 0u64); len];
    let mut n = 0usize;
    for by in 0..lh / 4 {
        for bx in 0..lw / 4 {
            let block: Vec<f64> = (0..16)
                .map(|k| ll[(by * 4 + k / 4) * lw + bx * 4 + k % 4])
                .collect();
            // numpy's argmax: the first of equal maxima.
            let pos = (1..16).fold(1, |best, k| {
                if block[k].abs() > block[best].abs() {
                    k
                } else {
                    best
                }
            });
            let bit = block[pos].abs() % SCALE > 0.5 * SCALE;
            let v = &mut votes[n % len];
            v.0 += u64::from(bit);
            v.1 += 1;
            n += 1;
        }
    }
    Ok(votes
        .iter()
        .map(|&(ones, all)| all > 0 && (ones as f64 / all as f64) * 255.0 > 127.0)
        .collect())
}

/// U of OpenCV's 8-bit BGR → YUV, per pixel.
fn chroma_u(picture: &Picture) -> Vec<u8> {
    let c = picture.channels() as usize;
    picture
        .pixels()
        .chunks_exact(c)
        .map(|p| {
            let (r, g, b) = if c >= 3 {
                (i64::from(p[0]), i64::from(p[1]), i64::from(p[2]))
            } else {
                (i64::from(p[0]), i64::from(p[0]), i64::from(p[0]))
            };
            let descale = |v: i64| (v + (1 << 13)) >> 14;
            let y = descale(r * 4899 + g * 9617 + b * 1868);
            descale((b - y) * 8061 + (128 << 14)).clamp(0, 255) as u8
        })
        .collect()
}

/// Reads SDXL's mark.
pub fn read_sdxl(picture: &Picture) -> Result<SdReading, MediaError> {
    let bits = decode_dwtdct(picture, SDXL_BITS)?;
    let value = bits.iter().fold(0u64, |acc, &b| (acc << 1) | u64::from(b));
    let matching = SDXL_BITS as u32 - (value ^ SDXL_MESSAGE).count_ones();
    Ok(SdReading {
        bits: value,
        matching_bits: matching,
        total_bits: SDXL_BITS as u32,
        p_value: null_p_value(matching),
        null_pictures: NULL_MATCHES.iter().sum(),
        stability_verdict: stability_band(matching),
    })
}

/// `max(binomial tail, (1 + measured count ≥ m) / (N + 1))`.
fn null_p_value(matching: u32) -> PValue {
    let binomial = ln_binomial_sf(u64::from(matching), SDXL_BITS as u64, 0.5);
    let n: u32 = NULL_MATCHES.iter().sum();
    let at_least: u32 = NULL_MATCHES[matching as usize..].iter().sum();
    let measured = (f64::from(1 + at_least) / f64::from(n + 1)).ln();
    PValue::from_ln(binomial.max(measured))
}

/// Stability's `scripts/demo/detect.py` bands for the count of matching bits.
fn stability_band(matching: u32) -> &'static str {
    match matching {
        0..=20 => "unmarked",
        21..=27 => "very likely unmarked",
        28..=34 => "unsure",
        35..=41 => "very likely marked",
        _ => "marked",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_chroma_decodes_to_zeros_and_matches_the_zeros_of_the_message() {
        let gray = Picture::new(256, 256, 1, vec![100; 256 * 256]).unwrap();
        let r = read_sdxl(&gray).unwrap();
        assert_eq!(r.bits, 0);
        assert_eq!(r.matching_bits, 48 - SDXL_MESSAGE.count_ones());
        assert!(r.p_value.value() > 0.5);
    }

    #[test]
    fn small_pictures_are_refused() {
        let p = Picture::new(200, 200, 3, vec![0; 200 * 200 * 3]).unwrap();
        assert!(read_sdxl(&p).is_err());
    }

    #[test]
    fn u_matches_opencv_on_corner_cases() {
        let p = Picture::new(2, 1, 3, vec![0, 0, 255, 255, 255, 0]).unwrap();
        // Values from cv2.cvtColor(..., COLOR_BGR2YUV) on the same BGR pixels.
        let u = chroma_u(&p);
        assert_eq!(u, vec![239, 17]);
    }
}
