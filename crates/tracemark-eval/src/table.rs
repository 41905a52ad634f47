//! The evaluation's table as Markdown.

use crate::results::WatermarkEval;

impl WatermarkEval {
    /// The table as Markdown, for people and for closing notes.
    pub fn to_markdown(&self) -> String {
        let pct = |x: f64| format!("{:.1}%", 100.0 * x);
        let mut out = format!(
            "Watermark evaluation on {} (vocabulary {}), {} generations per cell, \
             calibration over {} keys; model step {:.3} ms; {:.0} s.\n",
            self.model,
            self.vocab_size,
            self.samples,
            self.calibration_keys,
            self.model_ms_per_step,
            self.seconds
        );
        table(
            &mut out,
            &["scheme", "condition", "tokens", "TPR @1e-2", "TPR @1e-3"],
        );
        for s in &self.schemes {
            let id = s.scheme.as_str().to_owned();
            for r in &s.detection {
                let tokens = r.tokens.to_string();
                row(
                    &mut out,
                    &[&id, &r.condition, &tokens, &pct(r.at_1e2), &pct(r.at_1e3)],
                );
            }
            let paste = format!(
                "200 pasted into 600 (windowed; IoU {:.2})",
                s.paste.mean_iou
            );
            let (at_1e2, at_1e3) = (pct(s.paste.found_at_1e2), pct(s.paste.found_at_1e3));
            row(&mut out, &[&id, &paste, "800", &at_1e2, &at_1e3]);
        }
        table(
            &mut out,
            &[
                "scheme",
                "payload bits",
                "claimed FPR",
                "tests",
                "false positives",
                "ratio",
                "windowed ratio",
            ],
        );
        for s in &self.schemes {
            for c in &s.calibration {
                row(
                    &mut out,
                    &[
                        s.scheme.as_str(),
                        &c.payload_bits.to_string(),
                        &c.claimed.to_string(),
                        &c.tests.to_string(),
                        &c.false_positives.to_string(),
                        &format!("{:.2}", c.ratio),
                        &format!("{:.2}", c.windowed_ratio),
                    ],
                );
            }
        }
        let perplexity = format!("perplexity (unmarked {:.2})", self.unmarked_perplexity);
        let diversity = format!(
            "distinct 4-grams (unmarked {})",
            pct(self.unmarked_distinct_4grams)
        );
        table(
            &mut out,
            &[
                "scheme",
                &perplexity,
                &diversity,
                "detection tokens/s",
                "watermark µs/step",
                "generation slowdown",
            ],
        );
        for s in &self.schemes {
            row(
                &mut out,
                &[
                    s.scheme.as_str(),
                    &format!("{:.2}", s.perplexity),
                    &pct(s.distinct_4grams),
                    &format!("{:.1} M", s.detect_tokens_per_s / 1e6),
                    &format!("{:.1}", s.watermark_us_per_step),
                    &pct(s.generation_slowdown),
                ],
            );
        }
        table(
            &mut out,
            &[
                "scheme",
                "code",
                "payload bits",
                "tokens",
                "recovered",
                "detected",
            ],
        );
        for c in &self.payload {
            row(
                &mut out,
                &[
                    c.scheme.as_str(),
                    c.code.as_str(),
                    &c.bits.to_string(),
                    &c.tokens.to_string(),
                    &pct(c.recovered),
                    &pct(c.detected),
                ],
            );
        }
        out
    }
}

/// Starts a Markdown table with its header.
fn table(out: &mut String, header: &[&str]) {
    out.push('\n');
    row(out, header);
    row(out, &vec!["---"; header.len()]);
}

fn row(out: &mut String, cells: &[&str]) {
    out.push_str("| ");
    out.push_str(&cells.join(" | "));
    out.push_str(" |\n");
}
