//! Keyed, classical watermarks for images and audio with a 64-bit payload, and a reader
//! for the mark Stable Diffusion's `invisible-watermark` leaves.
pub mod attack;
pub mod audio;
pub mod audio_mark;
pub mod audioio;
pub mod dsp;
pub mod error;
pub mod image_mark;
pub mod imageio;
pub mod key;
pub mod picture;
pub mod sd;
pub mod synth;
pub mod units;

pub use error::MediaError;
pub use key::{MediaKey, MediaScheme};
pub use picture::Picture;
pub use units::MediaDetection;
