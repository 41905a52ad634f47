//! Text watermarks: keyed schemes that bias sampling at generation time and the detectors
//! that test token ids for that bias with exact p-values.
//!
//! This crate is pure: it sees token ids and logits, never files, models or text, so it
//! can be reused by any generation stack and tested without one. Each scheme has a stable
//! id ([`SchemeId`]) so that text marked today stays detectable by every later version.

pub mod key;
pub mod scheme;

pub use key::{Secret, TokenizerBinding, WatermarkKey};
pub use scheme::{GumbelParams, KgwParams, SchemeConfig, SchemeId, SynthIdParams};
