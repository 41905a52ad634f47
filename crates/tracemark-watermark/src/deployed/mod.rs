//! Watermarks that serving stacks already make, read from token ids and the stack's own
//! configuration: vLLM's `gumbel` and `dual_key_gumbel` ([`vllm`], Philox4x32-10 in
//! [`philox`]) and SGLang's Aaronson-Gumbel ([`sglang`], MurmurHash3 in [`murmur3`]).
//!
//! Pure like the rest of the crate: configurations come in as JSON text, token ids in,
//! [`tracemark_core::Verdict`]s out with exact log-space tails. Each module documents the
//! upstream files and commits it follows and which known-answer vectors its tests
//! reproduce.
//!
//! Key files carry these marks as the schemes `vllm-gumbel-v1`, `vllm-dual-key-gumbel-v1`
//! and `sglang-gumbel-v1` ([`crate::scheme::VllmParams`], [`crate::scheme::SglangParams`];
//! [`crate::WatermarkKey::vllm`] and [`crate::WatermarkKey::sglang`] make them from a
//! configuration), and the [`crate::Watermarker`] marks and detects with them: the
//! whole-text verdict is the upstream detector's (vLLM's [`vllm::Dedup::Document`],
//! SGLang's combined statistic), windowed detection scans the same per-token scores, and
//! marking follows each stack's generation on the loop's warped distribution.

pub mod murmur3;
pub mod philox;
pub mod sglang;
pub mod vllm;

pub use sglang::SglangConfig;
pub use vllm::VllmConfig;

/// A deterministic xorshift generator for the tests of both stacks.
#[cfg(test)]
#[derive(Debug)]
struct TestRng(u64);

#[cfg(test)]
impl rand_core::RngCore for TestRng {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        rand_core::impls::fill_bytes_via_next(self, dest)
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}
