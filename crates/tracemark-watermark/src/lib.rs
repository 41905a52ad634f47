//! Text watermarks: keyed schemes that bias sampling at generation time and the detectors
//! that test token ids for that bias with exact p-values.
//!
//! This crate is pure: it sees token ids and logits, never files, models or text, so it
//! can be reused by any generation stack and tested without one. Each scheme has a stable
//! id ([`SchemeId`]) so that text marked today stays detectable by every later version.
//!
//! * [`Watermarker`] turns a [`WatermarkKey`] into a marker for a vocabulary:
//!   [`Watermarker::start`] gives a [`WatermarkSampler`] that a sampling loop calls once
//!   per step; [`Watermarker::detect`] and [`Watermarker::detect_segments`] test token
//!   ids with exact p-values ([`detect`] documents the tests, windows and payload
//!   decoding); [`payload`] the payload's error-correcting code.
//! * [`prf`] specifies the keyed PRF (`tracemark-prf-v1`) precisely enough to reimplement.
//! * [`synthid`] is bit-compatible with Google DeepMind's SynthID-Text reference;
//!   [`transformers`] imports the SynthID configurations of HF transformers.
//! * [`deployed`] detects (and marks) the watermarks vLLM and SGLang make natively.

pub mod deployed;
pub mod detect;
pub mod error;
pub mod gumbel;
pub mod key;
pub mod kgw;
pub mod mt19937;
pub mod payload;
pub mod prf;
pub mod scheme;
pub mod stats;
pub mod synthid;
pub mod transformers;
pub mod watermarker;

pub use detect::{TokenSegment, to_byte_segments};
pub use error::WatermarkError;
pub use key::{Secret, TokenizerBinding, WatermarkKey};
pub use payload::PayloadCode;
pub use scheme::{GumbelParams, KgwParams, SchemeConfig, SchemeId, SynthIdParams};
pub use watermarker::{
    Decision, DetectOptions, Detection, Generation, Unmarked, WatermarkSampler, Watermarker,
};
