//! Statistical verdicts: what a detector decided, with the evidence a reader needs to
//! judge it.

use serde::{Deserialize, Serialize};

/// A p-value held as its natural logarithm.
///
/// Watermark evidence routinely reaches p-values like 1e-400, which underflow an `f64`;
/// every computation stays in log space and only the printed value is exponentiated.
/// Serialised as `p_value` (which may print as 0) beside `log10_p_value` (which never
/// underflows).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(into = "PValueJson", from = "PValueJson")]
pub struct PValue {
    ln: f64,
}

impl PValue {
    pub const ONE: PValue = PValue { ln: 0.0 };

    /// From `ln p`; values above 0 (rounding above p = 1) are clamped to 1, and NaN is
    /// taken as 1, the verdict that claims nothing.
    pub fn from_ln(ln: f64) -> Self {
        Self {
            ln: if ln.is_nan() { 0.0 } else { ln.min(0.0) },
        }
    }

    pub fn from_log10(log10: f64) -> Self {
        Self::from_ln(log10 * std::f64::consts::LN_10)
    }

    pub fn new(p: f64) -> Self {
        Self::from_ln(p.ln())
    }

    pub fn ln(&self) -> f64 {
        self.ln
    }

    pub fn log10(&self) -> f64 {
        self.ln / std::f64::consts::LN_10
    }

    pub fn value(&self) -> f64 {
        self.ln.exp()
    }

    /// Bonferroni correction for `tests` tests: `min(1, p · tests)`, in log space.
    pub fn bonferroni(&self, tests: u64) -> Self {
        Self::from_ln(self.ln + (tests.max(1) as f64).ln())
    }

    /// Whether the p-value is at most `alpha`, compared in log space so that tiny values
    /// are compared exactly rather than as zeros.
    pub fn significant_at(&self, alpha: f64) -> bool {
        self.ln <= alpha.ln()
    }
}

#[derive(Serialize, Deserialize)]
struct PValueJson {
    p_value: f64,
    log10_p_value: f64,
}

impl From<PValue> for PValueJson {
    fn from(p: PValue) -> Self {
        Self {
            p_value: p.value(),
            log10_p_value: p.log10(),
        }
    }
}

impl From<PValueJson> for PValue {
    fn from(json: PValueJson) -> Self {
        PValue::from_log10(json.log10_p_value)
    }
}

/// A detector's decision about one piece of content, with what it rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// Whether the null hypothesis ("not produced with this key") was rejected.
    pub detected: bool,
    #[serde(flatten)]
    pub p_value: PValue,
    /// The false-positive rate at the threshold the decision used: the significance level
    /// an exact test guarantees (its real rate may be lower, never higher).
    pub false_positive_rate: f64,
    /// The method's stable id, for example a watermark scheme id (`kgw-selfhash-v1`).
    pub method: String,
    /// The method's parameters, so that anyone can repeat the test.
    pub parameters: serde_json::Value,
    /// How many observations (scored tokens) the statistic used.
    pub scored: u64,
}

impl Verdict {
    /// Decides at significance level `false_positive_rate`.
    pub fn decide(
        p_value: PValue,
        false_positive_rate: f64,
        method: impl Into<String>,
        parameters: serde_json::Value,
        scored: u64,
    ) -> Self {
        Self {
            detected: p_value.significant_at(false_positive_rate),
            p_value,
            false_positive_rate,
            method: method.into(),
            parameters,
            scored,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiny_p_values_survive_serialisation() {
        let p = PValue::from_log10(-400.0);
        assert_eq!(p.value(), 0.0);
        let v = Verdict::decide(
            p,
            1e-3,
            "kgw-selfhash-v1",
            serde_json::json!({"gamma": 0.25}),
            200,
        );
        assert!(v.detected);
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(json["p_value"], 0.0);
        assert_eq!(json["log10_p_value"], -400.0);
        assert_eq!(json["scored"], 200);
        let back: Verdict = serde_json::from_value(json).unwrap();
        assert!((back.p_value.log10() + 400.0).abs() < 1e-9);
    }

    #[test]
    fn decision_and_correction() {
        let p = PValue::new(2e-4);
        assert!(p.significant_at(1e-3));
        assert!(!p.bonferroni(10).significant_at(1e-3));
        assert_eq!(PValue::new(0.5).bonferroni(4), PValue::ONE);
        assert_eq!(PValue::from_ln(f64::NAN), PValue::ONE);
        assert_eq!(PValue::from_ln(1e-12), PValue::ONE);
    }
}
