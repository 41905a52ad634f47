//! Keyed, classical watermarks for images and audio that carry a 64-bit payload, and a
//! reader for the mark Stable Diffusion XL pipelines leave with `invisible-watermark`.
//!
//! * [`image_mark`] (`tracemark-image-dct-v1`) and [`audio_mark`]
//!   (`tracemark-audio-stft-v1`) mark and test decoded pictures ([`Picture`]) and sounds
//!   ([`audio::Audio`]); [`units`] holds what both share: the keyed layout, the exact
//!   p-value under the null "not marked with this key", and [`MediaDetection`], the
//!   verdict in the text marks' shape.
//! * [`key`]: [`MediaKey`], in the text keys' file format with a media scheme id.
//! * [`imageio`] (PNG, JPEG) and [`audioio`] (WAV) decode and encode with limits: bad
//!   input is a [`MediaError`], never a panic or an unbounded allocation.
//! * [`sd`]: the SDXL `dwtDct` reader, bit-exact with the reference package.
//! * [`attack`], [`synth`]: the edits, measures and content of the evaluation
//!   (`benches/media_eval.rs`) and the tests.
//!
//! Pure computation apart from the codecs: no files, no network, no model.

pub mod attack;
pub mod audio;
pub mod audio_mark;
pub mod audioio;
pub mod dsp;
pub mod error;
pub mod fingerprint;
pub mod image_mark;
pub mod imageio;
pub mod key;
pub mod picture;
pub mod sd;
pub mod synth;
pub mod units;

pub use audio::Audio;
pub use audio_mark::AudioMarker;
pub use error::MediaError;
pub use image_mark::ImageMarker;
pub use key::{MediaKey, MediaScheme};
pub use picture::Picture;
pub use units::MediaDetection;
