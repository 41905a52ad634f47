//! The legal framework engine.
//!
//! A catalogue of rules with stable ids (`EU-AIA-50-2`, `EU-DSM-4-3`, `CN-LBL-...`,
//! `US-CA-SB942`, ...), shipped as data, evaluated on the [`tracemark_core::Fact`]s the
//! other crates establish, and written into an evidence report.
//!
//! ```no_run
//! use tracemark_policy::{Context, Jurisdiction, evaluate};
//! # let facts: Vec<tracemark_core::Fact> = Vec::new();
//! let ctx = Context::new("2026-09-01".parse().unwrap()).with_jurisdictions([Jurisdiction::Eu]);
//! for r in evaluate(&facts, &ctx) {
//!     println!("{} {:?}: {}", r.id, r.outcome, r.reason);
//! }
//! ```

pub mod catalogue;
pub mod condition;
pub mod context;
mod date;
mod engine;
pub mod html;
pub mod predicates;
pub mod report;
pub mod statement;
pub mod summary;
pub mod text;

use std::{fmt, str::FromStr};

pub use catalogue::{Catalogue, CatalogueError, Rule, RuleSpec};
pub use context::{Actor, ContentKind, Context, EditorialResponsibility, Role};
pub use date::{Date, ParseDateError};
pub use engine::{RuleResult, evaluate};
pub use html::render_html;
pub use report::{
    AiOrigin, AttributedSegment, EvidenceReport, Input, Measurement, Origin,
    READABLE_REPORT_FORMATS, REPORT_FORMAT, REPORT_SCHEMA, REPORT_SCHEMA_V2, ReportError,
    ReportRequest, ReportSeal, ReportVerdict, SealSignature, SourceShare, Subject, Tool,
    canonical_report_bytes, verify_report_hash,
};
pub use statement::{AttributionStatement, attribution_statement};

use serde::{Deserialize, Serialize};

/// The outcome of applying one rule to the facts: one vocabulary for every rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Compliant,
    NonCompliant,
    /// The rule applies but an exception covers the case.
    Exempt,
    /// The rule does not apply to this content or actor.
    NotApplicable,
    /// The rule applies, but not yet on the evaluation date.
    NotYetApplicable,
    /// The facts the rule needs could not be established.
    Undetermined,
}

impl Outcome {
    pub const ALL: [Outcome; 6] = [
        Outcome::Compliant,
        Outcome::NonCompliant,
        Outcome::Exempt,
        Outcome::NotApplicable,
        Outcome::NotYetApplicable,
        Outcome::Undetermined,
    ];

    /// The name in the report (`non_compliant`).
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Compliant => "compliant",
            Outcome::NonCompliant => "non_compliant",
            Outcome::Exempt => "exempt",
            Outcome::NotApplicable => "not_applicable",
            Outcome::NotYetApplicable => "not_yet_applicable",
            Outcome::Undetermined => "undetermined",
        }
    }

    /// For a reader: `non-compliant`.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Compliant => "compliant",
            Outcome::NonCompliant => "non-compliant",
            Outcome::Exempt => "exempt",
            Outcome::NotApplicable => "not applicable",
            Outcome::NotYetApplicable => "not yet applicable",
            Outcome::Undetermined => "undetermined",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.code())
    }
}

/// A legal order whose rules the engine can apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Jurisdiction {
    /// The European Union (AI Act, DSM Directive).
    #[serde(rename = "EU")]
    Eu,
    /// The People's Republic of China (labelling measures, GB 45438-2025).
    #[serde(rename = "CN")]
    Cn,
    /// The United States, federal law (DMCA §1202, Copyright Office guidance).
    #[serde(rename = "US")]
    Us,
    /// California (SB 942, AI Transparency Act).
    #[serde(rename = "US-CA")]
    UsCa,
    /// The Republic of Korea (AI Basic Act).
    #[serde(rename = "KR")]
    Kr,
    /// Berne Convention members (attribution right, Art. 6bis).
    #[serde(rename = "BERNE")]
    Berne,
}

impl Jurisdiction {
    pub const ALL: [Jurisdiction; 6] = [
        Jurisdiction::Eu,
        Jurisdiction::Cn,
        Jurisdiction::Us,
        Jurisdiction::UsCa,
        Jurisdiction::Kr,
        Jurisdiction::Berne,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Jurisdiction::Eu => "EU",
            Jurisdiction::Cn => "CN",
            Jurisdiction::Us => "US",
            Jurisdiction::UsCa => "US-CA",
            Jurisdiction::Kr => "KR",
            Jurisdiction::Berne => "BERNE",
        }
    }
}

impl fmt::Display for Jurisdiction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.code())
    }
}

/// A code that names no supported jurisdiction.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown jurisdiction `{0}`; supported: EU, CN, US, US-CA, KR, BERNE")]
pub struct UnknownJurisdiction(pub String);

impl FromStr for Jurisdiction {
    type Err = UnknownJurisdiction;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Jurisdiction::ALL
            .into_iter()
            .find(|j| j.code().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownJurisdiction(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jurisdiction_codes_round_trip() {
        for j in Jurisdiction::ALL {
            assert_eq!(j.code().parse::<Jurisdiction>(), Ok(j));
            assert_eq!(serde_json::to_value(j).unwrap(), j.code());
        }
        assert_eq!("us-ca".parse::<Jurisdiction>(), Ok(Jurisdiction::UsCa));
        assert!("XX".parse::<Jurisdiction>().is_err());
    }
}
