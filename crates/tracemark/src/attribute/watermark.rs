//! The watermark test of attribution: every configured key, with the tokenizer of the
//! model that generates, loaded once.

use std::path::Path;

use tracemark_core::{
    Fact,
    fact::{Claim, Medium, Topic, WatermarkFinding},
};
use tracemark_lm::Tokenizer;
use tracemark_policy::Input;
use tracemark_watermark::WatermarkKey;

use super::{Disclosure, WATERMARK_FPR, fact, label, unestablished};
use crate::{
    Config, Error, Result,
    model::ModelSource,
    text::{self, DetectInput, DetectReport},
};

/// A watermark key the service detects with.
#[derive(Debug)]
pub struct Detector {
    pub key: WatermarkKey,
    /// The vocabulary detection assumes (the tokenizer's).
    pub vocab_size: usize,
    /// The key file's fingerprint, so its holder can show which key was used (SHA-256
    /// reveals nothing of a 256-bit secret).
    input: Input,
}

/// The configured watermark keys and the tokenizer they were made for.
pub struct Watermarks {
    /// Whether any key is configured (else there is nothing to test, and no problem).
    configured: bool,
    tokenizer: std::result::Result<Box<dyn Tokenizer + Send + Sync>, String>,
    /// One per configured key, or why it could not be loaded.
    detectors: Vec<std::result::Result<Detector, String>>,
    disclosure: Disclosure,
}

impl std::fmt::Debug for Watermarks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watermarks")
            .field("tokenizer", &self.tokenizer.as_ref().map(|t| t.hash()))
            .field("detectors", &self.detectors)
            .finish()
    }
}

impl Watermarks {
    /// Loads every key of `[keys] watermark` and the model's tokenizer (learnt from the
    /// corpus when the model is the corpus model: once, here, never per request).
    pub fn load(config: &Config, disclosure: Disclosure) -> Self {
        // Media keys are the media capability's ([`crate::media::MediaDetectors`]).
        let text_keys = crate::media::text_key_paths(config);
        if text_keys.is_empty() {
            return Self {
                configured: false,
                tokenizer: Err("no watermark key is configured ([keys] watermark)".into()),
                detectors: Vec::new(),
                disclosure,
            };
        }
        let tokenizer = ModelSource::choose(None, config)
            .and_then(|s| s.tokenizer())
            .map_err(|e| disclosure.reason("no tokenizer to test the watermark with", e));
        let detectors = match &tokenizer {
            Ok(t) => text_keys
                .iter()
                .map(|path| {
                    Detector::load(path, t.as_ref())
                        .map_err(|e| disclosure.reason(format!("watermark key {}", label(path)), e))
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        Self {
            configured: true,
            tokenizer,
            detectors,
            disclosure,
        }
    }

    /// The tokenizer, or why there is none.
    pub fn tokenizer(&self) -> std::result::Result<&(dyn Tokenizer + Send + Sync), &str> {
        self.tokenizer.as_deref().map_err(String::as_str)
    }

    /// The keys that loaded.
    pub fn detectors(&self) -> impl Iterator<Item = &Detector> {
        self.detectors.iter().filter_map(|d| d.as_ref().ok())
    }

    /// Why each key that did not load failed, and why there is no tokenizer.
    pub fn problems(&self) -> Vec<&str> {
        let tokenizer = self.tokenizer.as_ref().err().filter(|_| self.configured);
        tokenizer
            .into_iter()
            .chain(self.detectors.iter().filter_map(|d| d.as_ref().err()))
            .map(String::as_str)
            .collect()
    }

    /// Tests `text` against every key that loaded, at `fpr` for the whole search: each
    /// key is a separate test, so each runs at `fpr` over their number (Bonferroni).
    pub fn detect(&self, text: &str, fpr: f64) -> Result<Vec<DetectReport>> {
        let tokenizer = self.tokenizer().map_err(|why| Error::usage(why, None))?;
        let per_key = fpr / self.detectors().count().max(1) as f64;
        self.detectors()
            .map(|d| d.detect(text, tokenizer, per_key))
            .collect()
    }

    /// One fact per configured key (or why it could not be tested), the key files'
    /// inputs, and the text's length in the generating model's tokens, which the marking
    /// rules measure (a detector scores fewer: it skips repeated contexts).
    pub(super) fn facts(&self, text: &str, inputs: &mut Vec<Input>) -> (Vec<Fact>, Option<u64>) {
        let tokenizer = match self.tokenizer() {
            Ok(t) => t,
            Err(why) => return (vec![unestablished(Topic::Watermark, why)], None),
        };
        let tokens = tokenizer.encode(text).ok().map(|e| e.len() as u64);
        let per_key = WATERMARK_FPR / self.detectors().count().max(1) as f64;
        let facts = self
            .detectors
            .iter()
            .map(|loaded| match loaded {
                Ok(d) => match d.detect(text, tokenizer, per_key) {
                    Ok(report) => {
                        inputs.push(d.input.clone());
                        watermark_fact(&report, tokenizer)
                    }
                    Err(e) => unestablished(
                        Topic::Watermark,
                        self.disclosure
                            .reason(format!("watermark key {}", d.key.key_id), e),
                    ),
                },
                Err(why) => unestablished(Topic::Watermark, why.as_str()),
            })
            .collect();
        (facts, tokens)
    }
}

impl Detector {
    fn load(path: &Path, tokenizer: &dyn Tokenizer) -> Result<Self> {
        let key = text::load_key(path, Some(tokenizer))?;
        let file = std::fs::read(path).map_err(|source| Error::Io {
            action: "read",
            path: path.to_owned(),
            source,
        })?;
        Ok(Self {
            input: Input::of_bytes("watermark-key", key.key_id.as_str(), &file),
            vocab_size: tokenizer.vocab_size(),
            key,
        })
    }

    /// Tests `text` for this key's watermark at false-positive rate `fpr`.
    pub fn detect(&self, text: &str, tokenizer: &dyn Tokenizer, fpr: f64) -> Result<DetectReport> {
        text::detect(
            &self.key,
            DetectInput::Text(text, tokenizer),
            self.vocab_size,
            fpr,
        )
    }
}

fn watermark_fact(report: &DetectReport, tokenizer: &dyn Tokenizer) -> Fact {
    let parameters = serde_json::json!({
        "fpr": report.verdict.false_positive_rate,
        "tokenizer": tokenizer.hash(),
    });
    fact(
        Claim::Watermark(WatermarkFinding {
            scheme: report.scheme.to_string(),
            key_id: report.key_id.clone(),
            payload: report.decoded_payload,
            segments: report.byte_segments.clone(),
            verdict: report.verdict.clone(),
            medium: Some(Medium::Text),
        }),
        &report.scheme.to_string(),
        parameters,
    )
}
