//! Tracemark's pipelines: the crates joined into what a user runs.
//!
//! The command line (`tracemark-cli`) and the service (`tracemark-server`) are thin
//! layers over this crate: configuration ([`config`]), key generation ([`keygen`]), the
//! models that generate ([`model`]), signed model releases ([`release`]), text generation and detection ([`text`]), the
//! [`mark`] and [`attribute`] pipelines, the log ([`log`]), corpus indexes ([`corpus`]),
//! and what verifiers trust ([`trust`], [`verify`]). The demo (`tracemark-demo`) and the
//! evaluation harness (`tracemark-eval`) are crates of their own built on this one.

pub mod attribute;
pub mod collection;
pub mod config;
pub mod corpus;
pub mod error;
pub mod formats;
pub mod keygen;
pub mod log;
pub mod mark;
pub mod media;
pub mod model;
pub mod release;
pub mod shards;
pub mod summary;
pub mod text;
pub mod trust;
pub mod verify;

pub use config::Config;
// The crates the pipelines join, for front ends that need their types.
pub use error::{Error, Result};
pub use tracemark_core as core;
pub use tracemark_credentials as credentials;
pub use tracemark_ledger as ledger;
pub use tracemark_lm as lm;
/// The image and audio marks (`tracemark::media` holds their pipelines).
pub use tracemark_media as mediamark;
pub use tracemark_model as oms;
pub use tracemark_policy as policy;
pub use tracemark_rights as rights;
pub use tracemark_trace as trace;
pub use tracemark_watermark as watermark;

/// This build's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
