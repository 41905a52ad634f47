//! The rule catalogue: one TOML file a rule under `rules/`, embedded in the binary,
//! parsed and checked when first used.
//!
//! A rule says where it comes from (instrument, article, paragraph), whom it binds, in
//! which legal order, from when (with grace periods), when it is engaged (`applies_if`),
//! what satisfies it (`requires`), which exceptions excuse it, and how to phrase each
//! outcome. The conditions are written in the small language of [`crate::condition`].

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::{
    Date, Jurisdiction, Outcome,
    condition::{Condition, ConditionError},
    context::Role,
};

/// The shipped rule files, in catalogue order.
pub const RULE_FILES: &[(&str, &str)] = &[
    (
        "EU-AIA-50-2.toml",
        include_str!("../rules/EU-AIA-50-2.toml"),
    ),
    (
        "EU-AIA-50-2-NR.toml",
        include_str!("../rules/EU-AIA-50-2-NR.toml"),
    ),
    (
        "EU-AIA-50-4.toml",
        include_str!("../rules/EU-AIA-50-4.toml"),
    ),
    (
        "EU-AIA-53-1-C.toml",
        include_str!("../rules/EU-AIA-53-1-C.toml"),
    ),
    (
        "EU-AIA-53-1-D.toml",
        include_str!("../rules/EU-AIA-53-1-D.toml"),
    ),
    ("EU-DSM-3.toml", include_str!("../rules/EU-DSM-3.toml")),
    ("EU-DSM-4-3.toml", include_str!("../rules/EU-DSM-4-3.toml")),
    (
        "EU-INFOSOC-7.toml",
        include_str!("../rules/EU-INFOSOC-7.toml"),
    ),
    ("CN-LBL-4.toml", include_str!("../rules/CN-LBL-4.toml")),
    ("CN-LBL-5.toml", include_str!("../rules/CN-LBL-5.toml")),
    ("CN-LBL-10.toml", include_str!("../rules/CN-LBL-10.toml")),
    (
        "US-CA-SB942.toml",
        include_str!("../rules/US-CA-SB942.toml"),
    ),
    (
        "US-CA-AB853-PLATFORM.toml",
        include_str!("../rules/US-CA-AB853-PLATFORM.toml"),
    ),
    (
        "US-DMCA-1202.toml",
        include_str!("../rules/US-DMCA-1202.toml"),
    ),
    (
        "US-DMCA-1202-REMOVAL.toml",
        include_str!("../rules/US-DMCA-1202-REMOVAL.toml"),
    ),
    (
        "US-COPYRIGHT-HUMAN.toml",
        include_str!("../rules/US-COPYRIGHT-HUMAN.toml"),
    ),
    ("KR-AIBA-31.toml", include_str!("../rules/KR-AIBA-31.toml")),
    ("BERNE-6BIS.toml", include_str!("../rules/BERNE-6BIS.toml")),
];

/// Where a rule comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The instrument: `Regulation (EU) 2024/1689 (AI Act)`.
    pub instrument: String,
    /// The article or section: `50`, `§ 1202`.
    pub article: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paragraph: Option<String>,
    /// The citation a reader sees: `AI Act Art. 50(2)`.
    pub citation: String,
}

/// A later date of application for cases a condition singles out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraceSpec {
    pub applies_from: Date,
    /// When the grace applies, in the condition language.
    pub when: String,
    /// The basis, for a reader.
    pub basis: String,
}

/// An exception: when it holds, the rule is engaged but the case is exempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExceptionSpec {
    pub id: String,
    pub when: String,
    /// The sentence the reason starts with when it applies.
    pub reason: String,
}

/// The lead sentence of the reason for each outcome the rule's conditions decide.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reasons {
    pub compliant: String,
    pub non_compliant: String,
    pub not_applicable: String,
    #[serde(default = "default_undetermined")]
    pub undetermined: String,
}

fn default_undetermined() -> String {
    "The facts this rule needs could not be established".to_owned()
}

/// A rule as written in its file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// The stable id (`EU-AIA-50-2`): never reused for another rule.
    pub id: String,
    pub title: String,
    pub jurisdiction: Jurisdiction,
    pub source: Source,
    pub binds: Vec<Role>,
    /// The obligation in the instrument's words (quoted or closely paraphrased).
    pub obligation: String,
    /// What engages the rule, for a reader.
    pub trigger: String,
    /// What satisfies it, for a reader.
    pub satisfied_by: String,
    /// The date of application; absent for rules long in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applies_from: Option<Date>,
    /// How a reader should read an absent `applies_from` (`in force since 1998`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_force: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grace: Vec<GraceSpec>,
    pub applies_if: String,
    pub requires: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exceptions: Vec<ExceptionSpec>,
    pub reasons: Reasons,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sanction: Option<String>,
    /// Where the facts of this rule were checked (`legal.md §1.2`, URLs).
    pub references: Vec<String>,
    /// How well the rule text is sourced: `P` primary text read, `S` secondary source,
    /// `K` background knowledge to verify (legal.md's tags).
    pub confidence: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// A rule ready to evaluate: its text and its parsed conditions.
#[derive(Debug, Clone)]
pub struct Rule {
    pub spec: RuleSpec,
    pub(crate) applies_if: Condition,
    pub(crate) requires: Condition,
    pub(crate) grace: Vec<(GraceSpec, Condition)>,
    pub(crate) exceptions: Vec<(ExceptionSpec, Condition)>,
}

impl Rule {
    pub fn id(&self) -> &str {
        &self.spec.id
    }

    /// The outcomes this rule can reach at all, given its text.
    pub fn possible_outcomes(&self) -> Vec<Outcome> {
        let mut v = vec![
            Outcome::Compliant,
            Outcome::NonCompliant,
            Outcome::NotApplicable,
            Outcome::Undetermined,
        ];
        if !self.spec.exceptions.is_empty() {
            v.push(Outcome::Exempt);
        }
        if self.spec.applies_from.is_some() {
            v.push(Outcome::NotYetApplicable);
        }
        v
    }
}

/// A rule file that is not a valid rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    #[error("rule file {file}: {message}")]
    Toml { file: String, message: String },
    #[error("rule {id}: {source}")]
    Condition {
        id: String,
        #[source]
        source: ConditionError,
    },
    #[error("rule {id}: {message}")]
    Invalid { id: String, message: String },
    #[error("rule id {0} is used twice")]
    Duplicate(String),
}

impl tracemark_core::Diagnose for CatalogueError {
    fn fault(&self) -> tracemark_core::Fault {
        tracemark_core::Fault::Internal
    }
}

/// The rules the engine evaluates.
#[derive(Debug, Clone)]
pub struct Catalogue {
    rules: Vec<Rule>,
}

impl Catalogue {
    /// The catalogue shipped with this build (parsed once).
    pub fn embedded() -> &'static Catalogue {
        static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
        CATALOGUE.get_or_init(|| {
            Catalogue::from_files(RULE_FILES.iter().copied())
                .expect("the shipped rule catalogue is checked by the crate's tests")
        })
    }

    /// Parses and checks rule files (name, TOML text).
    pub fn from_files<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, CatalogueError> {
        let mut rules: Vec<Rule> = Vec::new();
        for (file, text) in files {
            let spec: RuleSpec = toml::from_str(text).map_err(|e| CatalogueError::Toml {
                file: file.to_owned(),
                message: e.to_string(),
            })?;
            let rule = Rule::check(spec)?;
            if rules.iter().any(|r| r.id() == rule.id()) {
                return Err(CatalogueError::Duplicate(rule.spec.id));
            }
            rules.push(rule);
        }
        Ok(Self { rules })
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id() == id)
    }
}

impl Rule {
    fn check(spec: RuleSpec) -> Result<Rule, CatalogueError> {
        let id = spec.id.clone();
        let invalid = |message: &str| CatalogueError::Invalid {
            id: id.clone(),
            message: message.to_owned(),
        };
        let id_ok = !id.is_empty()
            && id
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
            && !id.starts_with('-')
            && !id.ends_with('-');
        if !id_ok {
            return Err(invalid(
                "an id is upper-case letters, digits and single dashes",
            ));
        }
        if spec.binds.is_empty() {
            return Err(invalid("a rule binds someone (`binds`)"));
        }
        for (field, text) in [
            ("title", &spec.title),
            ("obligation", &spec.obligation),
            ("trigger", &spec.trigger),
            ("satisfied_by", &spec.satisfied_by),
            ("source.citation", &spec.source.citation),
            ("reasons.compliant", &spec.reasons.compliant),
            ("reasons.non_compliant", &spec.reasons.non_compliant),
            ("reasons.not_applicable", &spec.reasons.not_applicable),
        ] {
            if text.trim().is_empty() {
                return Err(invalid(&format!("`{field}` is empty")));
            }
        }
        if spec.applies_from.is_none() && spec.in_force.is_none() {
            return Err(invalid(
                "give `applies_from`, or `in_force` for a rule long in force",
            ));
        }
        if !matches!(spec.confidence.as_str(), "P" | "S" | "K") {
            return Err(invalid("`confidence` is P, S or K"));
        }
        if spec.references.is_empty() {
            return Err(invalid("a rule names its references"));
        }
        for g in &spec.grace {
            if spec.applies_from.is_none_or(|from| g.applies_from <= from) {
                return Err(invalid("a grace period ends after the date of application"));
            }
        }
        let parse = |text: &str| {
            Condition::parse(text).map_err(|source| CatalogueError::Condition {
                id: id.clone(),
                source,
            })
        };
        Ok(Rule {
            applies_if: parse(&spec.applies_if)?,
            requires: parse(&spec.requires)?,
            grace: spec
                .grace
                .iter()
                .map(|g| Ok((g.clone(), parse(&g.when)?)))
                .collect::<Result<_, CatalogueError>>()?,
            exceptions: spec
                .exceptions
                .iter()
                .map(|e| Ok((e.clone(), parse(&e.when)?)))
                .collect::<Result<_, CatalogueError>>()?,
            spec,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_rule_parses_and_every_file_is_shipped() {
        let catalogue = Catalogue::from_files(RULE_FILES.iter().copied()).unwrap();
        assert_eq!(catalogue.rules().len(), RULE_FILES.len());
        for (file, _) in RULE_FILES {
            let id = file.trim_end_matches(".toml");
            assert!(
                catalogue.get(id).is_some(),
                "{file} does not define rule {id}"
            );
        }
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/rules");
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            assert!(
                RULE_FILES.iter().any(|(f, _)| *f == name),
                "rules/{name} is not listed in RULE_FILES"
            );
        }
    }

    /// A shipped rule whose conditions fit on one line each, and which has a grace period.
    fn base() -> &'static str {
        RULE_FILES
            .iter()
            .find(|(f, _)| *f == "EU-AIA-53-1-D.toml")
            .map(|(_, t)| *t)
            .unwrap()
    }

    fn with(field: &str, value: &str) -> String {
        let text = base();
        text.lines()
            .map(|l| {
                if l.starts_with(&format!("{field} = ")) {
                    format!("{field} = {value}")
                } else {
                    l.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn bad_rules_are_refused_with_the_reason() {
        for (field, value, says) in [
            ("requires", "\"watermark and\"", "ends too early"),
            (
                "applies_if",
                "\"declared:no_such_thing\"",
                "unknown declaration",
            ),
            ("id", "\"eu-aia\"", "upper-case"),
            ("confidence", "\"maybe\"", "P, S or K"),
            ("applies_from", "\"2027-01-01\"", "grace period"),
            ("binds", "[]", "binds someone"),
            ("jurisdiction", "\"MARS\"", "MARS"),
        ] {
            let text = with(field, value);
            let err = Catalogue::from_files([("x.toml", text.as_str())]).unwrap_err();
            assert!(err.to_string().contains(says), "{field}: {err}");
        }
        let text = base();
        let extra = format!("surprise = 1\n{text}");
        assert!(Catalogue::from_files([("x.toml", extra.as_str())]).is_err());
        let err = Catalogue::from_files([("a.toml", text), ("b.toml", text)]).unwrap_err();
        assert_eq!(err, CatalogueError::Duplicate("EU-AIA-53-1-D".into()));
    }
}
