//! What a run measured: the rows of the table, serialisable.

use serde::Serialize;
use tracemark::watermark::{PayloadCode, SchemeId};

/// Detection rates at each of [`FPRS`](crate::FPRS).
#[derive(Debug, Clone, Serialize)]
pub struct Rates {
    pub condition: String,
    pub tokens: usize,
    /// Fraction detected at 1e-2 and at 1e-3.
    pub at_1e2: f64,
    pub at_1e3: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Paste {
    /// Fraction of texts where a significant segment overlaps the marked tokens.
    pub found_at_1e2: f64,
    pub found_at_1e3: f64,
    /// Mean intersection-over-union of the best overlapping segment (at 1e-3, found only).
    pub mean_iou: f64,
    /// Fraction whose whole 800 tokens test positive at 1e-3.
    pub whole_text_at_1e3: f64,
}

/// Measured false-positive rate next to the claimed one.
#[derive(Debug, Clone, Serialize)]
pub struct Calibration {
    /// The keys' payload width (0: zero-bit).
    pub payload_bits: u8,
    pub claimed: f64,
    pub tests: usize,
    pub false_positives: usize,
    pub observed: f64,
    /// observed / claimed (exact tests may be conservative: at most 1 in expectation).
    pub ratio: f64,
    /// The same for windowed detection (any segment reported).
    pub windowed_false_positives: usize,
    pub windowed_ratio: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SchemeEval {
    pub scheme: SchemeId,
    pub detection: Vec<Rates>,
    pub paste: Paste,
    pub calibration: Vec<Calibration>,
    pub perplexity: f64,
    pub distinct_4grams: f64,
    pub detect_tokens_per_s: f64,
    /// Watermark time per generation step, and as a share of the model's step time.
    pub watermark_us_per_step: f64,
    pub generation_slowdown: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PayloadCell {
    pub scheme: SchemeId,
    pub code: PayloadCode,
    pub bits: u8,
    pub tokens: usize,
    /// Detected at 1e-3 with the written payload decoded.
    pub recovered: f64,
    pub detected: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct WatermarkEval {
    pub model: String,
    pub vocab_size: usize,
    pub samples: usize,
    pub calibration_keys: usize,
    pub unmarked_perplexity: f64,
    pub unmarked_distinct_4grams: f64,
    pub model_ms_per_step: f64,
    pub schemes: Vec<SchemeEval>,
    pub payload: Vec<PayloadCell>,
    pub seconds: f64,
}
