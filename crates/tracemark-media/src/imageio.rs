//! PNG and JPEG in and out, through the `image` crate, with limits.
//!
//! Decoding reads the header first and refuses, before any pixel buffer is allocated, a
//! format other than PNG or JPEG, a picture over [`MAX_PIXELS`] or [`MAX_SIDE`], or a
//! sample type other than 8 bits (gray, gray + alpha, RGB, RGBA; palettes expand to RGB
//! or RGBA). A truncated or corrupt file is an error from the decoder, never a panic.

use std::io::Cursor;

use image::{
    ColorType, DynamicImage, ImageDecoder, ImageEncoder, ImageReader, Limits,
    codecs::{jpeg::JpegEncoder, png::PngEncoder},
};

use crate::{MediaError, picture::Picture};

/// The largest picture read: 40 megapixels (the canonical-grid work of a picture is a
/// few `f32` planes of its size).
pub const MAX_PIXELS: u64 = 40_000_000;
/// The longest side read.
pub const MAX_SIDE: u32 = 16_384;
/// The decoder's own allocation limit.
const MAX_ALLOC: u64 = 256 * 1024 * 1024;

/// The formats read and written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Jpeg,
}

impl ImageFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ImageFormat::Png => "PNG",
            ImageFormat::Jpeg => "JPEG",
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpeg => "image/jpeg",
        }
    }
}

fn decode_error(format: ImageFormat, e: impl std::fmt::Display) -> MediaError {
    MediaError::Decode {
        format: format.as_str(),
        reason: e.to_string(),
    }
}

/// Decodes PNG or JPEG bytes (recognised by their signature) into a picture.
pub fn decode_image(bytes: &[u8]) -> Result<(Picture, ImageFormat), MediaError> {
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| MediaError::Unsupported {
            media: "image",
            what: e.to_string(),
        })?;
    let format = match reader.format() {
        Some(image::ImageFormat::Png) => ImageFormat::Png,
        Some(image::ImageFormat::Jpeg) => ImageFormat::Jpeg,
        Some(other) => {
            return Err(MediaError::Unsupported {
                media: "image",
                what: format!("{other:?} (PNG and JPEG are read)"),
            });
        }
        None => {
            return Err(MediaError::Unsupported {
                media: "image",
                what: "the bytes are not a PNG or JPEG file".into(),
            });
        }
    };
    let mut decoder = reader.into_decoder().map_err(|e| decode_error(format, e))?;
    let (width, height) = decoder.dimensions();
    check_dimensions(width, height)?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    decoder
        .set_limits(limits)
        .map_err(|e| decode_error(format, e))?;
    let channels = match decoder.color_type() {
        ColorType::L8 => 1,
        ColorType::La8 => 2,
        ColorType::Rgb8 => 3,
        ColorType::Rgba8 => 4,
        other => {
            return Err(MediaError::Unsupported {
                media: "image",
                what: format!("{other:?} samples (8-bit gray, gray + alpha, RGB or RGBA are read)"),
            });
        }
    };
    let image = DynamicImage::from_decoder(decoder).map_err(|e| decode_error(format, e))?;
    let picture = Picture::new(width, height, channels, image.into_bytes())?;
    Ok((picture, format))
}

/// Refuses empty and oversized pictures.
pub fn check_dimensions(width: u32, height: u32) -> Result<(), MediaError> {
    if width == 0 || height == 0 {
        return Err(MediaError::TooSmall(format!(
            "the image is {width}×{height}: it has no pixels"
        )));
    }
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(MediaError::TooLarge {
            what: format!("a {width}×{height} image"),
            limit: format!("{MAX_SIDE} pixels a side"),
        });
    }
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(MediaError::TooLarge {
            what: format!("a {width}×{height} image"),
            limit: format!("{MAX_PIXELS} pixels"),
        });
    }
    Ok(())
}

fn colour_type(picture: &Picture) -> image::ExtendedColorType {
    match picture.channels() {
        1 => image::ExtendedColorType::L8,
        2 => image::ExtendedColorType::La8,
        3 => image::ExtendedColorType::Rgb8,
        _ => image::ExtendedColorType::Rgba8,
    }
}

/// Encodes a picture as PNG (any channels, alpha kept).
pub fn encode_png(picture: &Picture) -> Result<Vec<u8>, MediaError> {
    let mut out = Vec::new();
    PngEncoder::new(&mut out)
        .write_image(
            picture.pixels(),
            picture.width(),
            picture.height(),
            colour_type(picture),
        )
        .map_err(|e| MediaError::Encode {
            format: "PNG",
            reason: e.to_string(),
        })?;
    Ok(out)
}

/// Encodes a picture as JPEG at `quality` (1–100). JPEG has no alpha channel: a picture
/// with one is refused rather than silently flattened.
pub fn encode_jpeg(picture: &Picture, quality: u8) -> Result<Vec<u8>, MediaError> {
    if picture.has_alpha() {
        return Err(MediaError::Encode {
            format: "JPEG",
            reason: "the image has an alpha channel, which JPEG cannot store; write PNG".into(),
        });
    }
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality.clamp(1, 100))
        .write_image(
            picture.pixels(),
            picture.width(),
            picture.height(),
            colour_type(picture),
        )
        .map_err(|e| MediaError::Encode {
            format: "JPEG",
            reason: e.to_string(),
        })?;
    Ok(out)
}

/// Encodes in `format`; JPEG at quality 95, which keeps the mark (and the picture) well.
pub fn encode_image(picture: &Picture, format: ImageFormat) -> Result<Vec<u8>, MediaError> {
    match format {
        ImageFormat::Png => encode_png(picture),
        ImageFormat::Jpeg => encode_jpeg(picture, 95),
    }
}
