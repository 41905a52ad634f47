//! A decoded picture: 8 bits per channel, gray, gray + alpha, RGB or RGBA. The marks work
//! on this type (pure: no files); [`crate::imageio`] turns PNG and JPEG bytes into it and
//! back.

use crate::{MediaError, dsp::Plane};

/// An 8-bit picture, row-major, channels interleaved.
#[derive(Clone, PartialEq, Eq)]
pub struct Picture {
    width: u32,
    height: u32,
    channels: u8,
    pixels: Vec<u8>,
}

impl std::fmt::Debug for Picture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Picture({}×{}×{})",
            self.width, self.height, self.channels
        )
    }
}

impl Picture {
    /// A picture from its pixels: `channels` is 1 (gray), 2 (gray, alpha), 3 (RGB) or
    /// 4 (RGBA), and `pixels` holds exactly `width · height · channels` bytes.
    pub fn new(width: u32, height: u32, channels: u8, pixels: Vec<u8>) -> Result<Self, MediaError> {
        if !(1..=4).contains(&channels) {
            return Err(MediaError::Unsupported {
                media: "image",
                what: format!("{channels} channels"),
            });
        }
        let expected = width as usize * height as usize * channels as usize;
        if pixels.len() != expected {
            return Err(MediaError::Decode {
                format: "pixel buffer",
                reason: format!("{} bytes for {width}×{height}×{channels}", pixels.len()),
            });
        }
        Ok(Self {
            width,
            height,
            channels,
            pixels,
        })
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    pub fn channels(&self) -> u8 {
        self.channels
    }

    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    pub fn into_pixels(self) -> Vec<u8> {
        self.pixels
    }

    pub fn has_alpha(&self) -> bool {
        self.channels == 2 || self.channels == 4
    }

    /// Colour channels (alpha excluded).
    pub fn colour_channels(&self) -> usize {
        if self.channels >= 3 { 3 } else { 1 }
    }

    /// Luma `Y = 0.299 R + 0.587 G + 0.114 B` (BT.601, JPEG's), or the gray value.
    pub fn luma(&self) -> Plane {
        let c = self.channels as usize;
        let data = self
            .pixels
            .chunks_exact(c)
            .map(|p| {
                if c >= 3 {
                    0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])
                } else {
                    f32::from(p[0])
                }
            })
            .collect();
        Plane {
            width: self.width as usize,
            height: self.height as usize,
            data,
        }
    }

    /// The picture with `delta` added to every colour channel (so to luma, as the
    /// coefficients sum to 1), rounded and clipped; alpha untouched.
    pub fn add_to_colours(&self, delta: &Plane) -> Picture {
        let c = self.channels as usize;
        let colours = self.colour_channels();
        let mut pixels = self.pixels.clone();
        for (p, d) in pixels.chunks_exact_mut(c).zip(&delta.data) {
            for v in &mut p[..colours] {
                *v = (f32::from(*v) + d).round().clamp(0.0, 255.0) as u8;
            }
        }
        Picture {
            pixels,
            ..self.clone()
        }
    }

    /// Applies `f` to every colour sample (attacks), alpha untouched.
    pub fn map_colours(&self, f: impl Fn(f32) -> f32) -> Picture {
        let c = self.channels as usize;
        let colours = self.colour_channels();
        let mut pixels = self.pixels.clone();
        for p in pixels.chunks_exact_mut(c) {
            for v in &mut p[..colours] {
                *v = f(f32::from(*v)).round().clamp(0.0, 255.0) as u8;
            }
        }
        Picture {
            pixels,
            ..self.clone()
        }
    }

    /// One channel as a plane.
    pub fn channel(&self, k: usize) -> Plane {
        let c = self.channels as usize;
        Plane {
            width: self.width as usize,
            height: self.height as usize,
            data: self
                .pixels
                .chunks_exact(c)
                .map(|p| f32::from(p[k]))
                .collect(),
        }
    }

    /// A picture from one plane per channel, rounded and clipped.
    pub fn from_planes(planes: &[Plane]) -> Result<Picture, MediaError> {
        let first = planes
            .first()
            .ok_or_else(|| MediaError::TooSmall("no planes".into()))?;
        let n = first.width * first.height;
        let mut pixels = Vec::with_capacity(n * planes.len());
        for i in 0..n {
            for p in planes {
                pixels.push(p.data[i].round().clamp(0.0, 255.0) as u8);
            }
        }
        Picture::new(
            first.width as u32,
            first.height as u32,
            planes.len() as u8,
            pixels,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_must_match_their_shape() {
        assert!(Picture::new(2, 2, 3, vec![0; 12]).is_ok());
        assert!(Picture::new(2, 2, 3, vec![0; 11]).is_err());
        assert!(Picture::new(2, 2, 5, vec![0; 20]).is_err());
    }

    #[test]
    fn colours_change_and_alpha_stays() {
        let p = Picture::new(1, 2, 4, vec![10, 20, 30, 77, 250, 250, 250, 0]).unwrap();
        let d = Plane {
            width: 1,
            height: 2,
            data: vec![2.4, 10.0],
        };
        let q = p.add_to_colours(&d);
        assert_eq!(q.pixels(), &[12, 22, 32, 77, 255, 255, 255, 0]);
        let planes: Vec<Plane> = (0..4).map(|k| q.channel(k)).collect();
        assert_eq!(Picture::from_planes(&planes).unwrap(), q);
    }
}
