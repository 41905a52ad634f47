//! The media crate's errors. Every bad input is one of these, never a panic.

use tracemark_core::{Diagnose, Fault};

/// What went wrong while reading, marking or detecting media.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MediaError {
    /// The bytes are not a format this crate reads.
    #[error("unsupported {media} format: {what}")]
    Unsupported { media: &'static str, what: String },
    /// The bytes claim to be a supported format but cannot be decoded.
    #[error("cannot decode the {format}: {reason}")]
    Decode {
        format: &'static str,
        reason: String,
    },
    /// Within the format, but over a limit that keeps memory and time bounded.
    #[error("{what} exceeds the limit of {limit}")]
    TooLarge { what: String, limit: String },
    /// Too small to carry or to test for a mark.
    #[error("{0}")]
    TooSmall(String),
    #[error("cannot encode the {format}: {reason}")]
    Encode {
        format: &'static str,
        reason: String,
    },
    #[error("invalid media watermark key: {0}")]
    InvalidKey(String),
    #[error("this key is for `{key}`, not for {media}")]
    WrongScheme { key: String, media: &'static str },
    #[error("invalid option: {0}")]
    InvalidOption(String),
}

impl Diagnose for MediaError {
    fn fault(&self) -> Fault {
        match self {
            MediaError::InvalidOption(_) | MediaError::WrongScheme { .. } => Fault::Usage,
            MediaError::Encode { .. } => Fault::Internal,
            _ => Fault::Input,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            MediaError::Unsupported { media: "image", .. } => {
                Some("convert the image to PNG or JPEG (8 bits per channel)".into())
            }
            MediaError::Unsupported { .. } => {
                Some("convert the audio to WAV (16-bit, 24-bit or float PCM)".into())
            }
            MediaError::TooLarge { .. } => Some("scale the input down first".into()),
            MediaError::WrongScheme { .. } => {
                Some("use a key made with the matching --scheme".into())
            }
            _ => None,
        }
    }
}
