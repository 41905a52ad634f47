//! `tracemark eval watermark`: every scheme measured on a real model.
//!
//! For each scheme a fresh key (drawn from the run's seed) marks `samples` generations; the same prompts and seeds
//! without a watermark give the unmarked texts. The table reports:
//!
//! - **detection** (true-positive rate at false-positive rates 1e-2 and 1e-3) at 50, 100
//!   and 200 generated tokens, and at 200 tokens after substituting 10% or 30% of the
//!   tokens with random ones, or deleting 10%;
//! - **pasting**: 200 marked tokens inserted into 600 unmarked ones, found by windowed
//!   detection when a significant segment overlaps them (with the overlap's IoU);
//! - **calibration**: the measured false-positive rate on the unmarked texts, pooled over
//!   `keys` fresh keys, next to the claimed rate, for whole-text and windowed detection;
//! - **quality**: perplexity of marked and unmarked text under the model itself
//!   (temperature 1), and the share of distinct 4-grams over 20 generations from one
//!   prompt with different seeds (Gumbel-max alone would give one text per prompt);
//! - **cost**: detection tokens/s on one core (token ids, 100,000 of them) and the time
//!   the watermark adds to a generation step, relative to the model's own time;
//! - **payload recovery** for KGW-SelfHash and Gumbel keys of 8, 16 and 24 bits at 200,
//!   400 and 800 tokens, with the convolutional code (the default) and without: detected
//!   at 1e-3 with the written payload decoded.
//!
//! The model's context is short (512 tokens for tinystories-260k), so texts longer than
//! [`CHUNK`] tokens are several generations from different prompts, concatenated, each
//! marked with the same key and payload: a long document written in several requests.
//!
//! Its modules: `measure`, the run ([`watermark`]) and each measurement; `generator`, the
//! model with its prompts and clocks; `attack`, the edits of a marked text; `results`,
//! what a run measured ([`WatermarkEval`]); `table`, its table as Markdown
//! ([`WatermarkEval::to_markdown`]).

use tracemark::watermark::SchemeId;

mod attack;
mod generator;
mod measure;
mod results;
mod table;

pub mod media;

pub use measure::watermark;
pub use media::{MediaEval, MediaEvalOptions};
pub use results::{Calibration, Paste, PayloadCell, Rates, SchemeEval, WatermarkEval};

/// The false-positive rates every rate is reported at.
pub const FPRS: [f64; 2] = [1e-2, 1e-3];
/// The longest single generation; longer texts are concatenated generations.
pub const CHUNK: usize = 400;

/// What to evaluate.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    /// Generations per measurement.
    pub samples: usize,
    /// Fresh keys pooled for the false-positive calibration.
    pub keys: usize,
    /// Seeds the keys, the attacks and the positions (generation seeds are the sample
    /// numbers): one seed, one table, but for the timings.
    pub seed: u64,
    /// The schemes to measure (empty: all of them).
    pub schemes: Vec<SchemeId>,
}

impl EvalOptions {
    fn includes(&self, scheme: SchemeId) -> bool {
        self.schemes.is_empty() || self.schemes.contains(&scheme)
    }
}

impl Default for EvalOptions {
    fn default() -> Self {
        Self {
            samples: 100,
            keys: 100,
            seed: 1,
            schemes: Vec::new(),
        }
    }
}
