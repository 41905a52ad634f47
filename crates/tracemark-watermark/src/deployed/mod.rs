//! Watermarks that serving stacks already make, read from token ids and the stack's own
//! configuration: vLLM's `gumbel` and `dual_key_gumbel` ([`vllm`], Philox4x32-10 in
//! [`philox`]) and SGLang's Aaronson-Gumbel ([`sglang`], MurmurHash3 in [`murmur3`]).
//!
//! Pure like the rest of the crate: configurations come in as JSON text, token ids in,
//! [`tracemark_core::Verdict`]s out with exact log-space tails. Each module documents the
//! upstream files and commits it follows and which known-answer vectors its tests
//! reproduce. Nothing here is wired into key files or the command line yet.

pub mod murmur3;
pub mod philox;
pub mod sglang;
pub mod vllm;

pub use sglang::SglangConfig;
pub use vllm::VllmConfig;
