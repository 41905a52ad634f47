//! Applying the catalogue to the facts: one [`RuleResult`] a rule, in one vocabulary.

use serde::{Deserialize, Serialize};
use tracemark_core::Fact;

use crate::{
    Catalogue, Context, Date, Jurisdiction, Outcome,
    catalogue::Rule,
    condition::{Atom, Eval, Tri},
    context::Role,
    predicates::Evidence,
};

/// What one rule says about the content: the outcome, why, and what it rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleResult {
    /// The rule's stable id (`EU-AIA-50-2`).
    pub id: String,
    pub title: String,
    pub jurisdiction: Jurisdiction,
    /// The provision, as a reader cites it (`AI Act Art. 50(2)`).
    pub citation: String,
    pub binds: Vec<Role>,
    pub outcome: Outcome,
    /// One or two sentences: the outcome and what decided it.
    pub reason: String,
    /// Indices into the facts the outcome rests on.
    pub facts: Vec<usize>,
    /// The context fields (declarations, dates) the outcome rests on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<String>,
    /// The date from which the rule applies to this case, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applies_from: Option<Date>,
}

/// Evaluates the shipped catalogue.
pub fn evaluate(facts: &[Fact], ctx: &Context) -> Vec<RuleResult> {
    Catalogue::embedded().evaluate(facts, ctx)
}

impl Catalogue {
    /// Evaluates every rule of the jurisdictions the context selects, in catalogue order.
    pub fn evaluate(&self, facts: &[Fact], ctx: &Context) -> Vec<RuleResult> {
        let evidence = Evidence::new(facts, ctx);
        self.rules()
            .iter()
            .filter(|r| ctx.covers(r.spec.jurisdiction))
            .map(|r| r.evaluate(&evidence, ctx))
            .collect()
    }
}

enum DateStatus {
    Applicable(Option<Date>),
    NotYet(Date, Eval),
    Unknown(Eval),
}

fn sentence(lead: &str, grounds: &Eval) -> String {
    let lead = lead.trim().trim_end_matches('.');
    let notes: Vec<&str> = grounds
        .notes
        .iter()
        .map(String::as_str)
        .filter(|n| !n.is_empty())
        .collect();
    if notes.is_empty() {
        format!("{lead}.")
    } else {
        format!("{lead}: {}.", notes.join("; "))
    }
}

impl Rule {
    fn date_status(&self, ctx: &Context, atom: &mut impl FnMut(&Atom) -> Eval) -> DateStatus {
        let Some(from) = self.spec.applies_from else {
            return DateStatus::Applicable(None);
        };
        let as_of = ctx.as_of;
        let when = format!("the evaluation date is {}", as_of.long());
        if as_of < from {
            let e = Eval::new(Tri::True, when).with_context("as_of");
            return DateStatus::NotYet(from, e);
        }
        for (grace, cond) in &self.grace {
            if as_of >= grace.applies_from {
                // Past the grace period: the rule applies either way.
                continue;
            }
            let e = cond.eval(atom);
            match e.value {
                Tri::True => {
                    let mut g = Eval::new(
                        Tri::True,
                        format!("{} (until {})", grace.basis, grace.applies_from.long()),
                    );
                    g.absorb(e);
                    g.absorb(Eval::new(Tri::True, when).with_context("as_of"));
                    return DateStatus::NotYet(grace.applies_from, g);
                }
                Tri::Unknown => {
                    let mut g = Eval::new(
                        Tri::Unknown,
                        format!(
                            "whether the grace period until {} applies could not be established ({})",
                            grace.applies_from.long(),
                            grace.basis
                        ),
                    );
                    g.absorb(e);
                    return DateStatus::Unknown(g);
                }
                Tri::False => {}
            }
        }
        DateStatus::Applicable(Some(from))
    }

    /// Evaluates this rule.
    pub fn evaluate(&self, evidence: &Evidence<'_>, ctx: &Context) -> RuleResult {
        let mut atom = |a: &Atom| evidence.atom(a);
        let spec = &self.spec;
        let mut result = RuleResult {
            id: spec.id.clone(),
            title: spec.title.clone(),
            jurisdiction: spec.jurisdiction,
            citation: spec.source.citation.clone(),
            binds: spec.binds.clone(),
            outcome: Outcome::Undetermined,
            reason: String::new(),
            facts: Vec::new(),
            context: Vec::new(),
            applies_from: spec.applies_from,
        };
        let finish =
            |mut result: RuleResult, outcome: Outcome, reason: String, grounds: &[&Eval]| {
                result.outcome = outcome;
                result.reason = reason;
                let mut facts = std::collections::BTreeSet::new();
                let mut context = std::collections::BTreeSet::new();
                for g in grounds {
                    facts.extend(g.facts.iter().copied());
                    context.extend(g.context.iter().cloned());
                }
                result.facts = facts.into_iter().collect();
                result.context = context.into_iter().collect();
                result
            };

        let trigger = self.applies_if.eval(&mut atom);
        if trigger.value == Tri::False {
            let reason = sentence(&spec.reasons.not_applicable, &trigger);
            return finish(result, Outcome::NotApplicable, reason, &[&trigger]);
        }
        match self.date_status(ctx, &mut atom) {
            DateStatus::NotYet(from, grounds) => {
                result.applies_from = Some(from);
                let lead = format!("{} applies from {}", spec.source.citation, from.long());
                let reason = sentence(&lead, &grounds);
                return finish(result, Outcome::NotYetApplicable, reason, &[&grounds]);
            }
            DateStatus::Unknown(mut grounds) => {
                let lead = if trigger.value == Tri::Unknown {
                    grounds.absorb(trigger.clone());
                    format!(
                        "Whether {} is engaged, and from when, could not be established",
                        spec.source.citation
                    )
                } else {
                    format!(
                        "{} applies from {}, later for some systems",
                        spec.source.citation,
                        spec.applies_from.map(|d| d.long()).unwrap_or_default()
                    )
                };
                let reason = sentence(&lead, &grounds);
                return finish(result, Outcome::Undetermined, reason, &[&trigger, &grounds]);
            }
            DateStatus::Applicable(from) => result.applies_from = from,
        }
        if trigger.value == Tri::Unknown {
            let lead = format!(
                "Whether {} is engaged could not be established",
                spec.source.citation
            );
            let reason = sentence(&lead, &trigger);
            return finish(result, Outcome::Undetermined, reason, &[&trigger]);
        }

        let required = self.requires.eval(&mut atom);
        if required.value == Tri::True {
            let reason = sentence(&spec.reasons.compliant, &required);
            return finish(result, Outcome::Compliant, reason, &[&trigger, &required]);
        }
        let mut open_exceptions = Vec::new();
        for (exception, cond) in &self.exceptions {
            let e = cond.eval(&mut atom);
            match e.value {
                Tri::True => {
                    let reason = sentence(&exception.reason, &e);
                    return finish(result, Outcome::Exempt, reason, &[&trigger, &required, &e]);
                }
                Tri::Unknown => open_exceptions.push((exception, e)),
                Tri::False => {}
            }
        }
        match required.value {
            Tri::False if open_exceptions.is_empty() => {
                let reason = sentence(&spec.reasons.non_compliant, &required);
                finish(
                    result,
                    Outcome::NonCompliant,
                    reason,
                    &[&trigger, &required],
                )
            }
            Tri::False => {
                let mut grounds = Eval::new(Tri::Unknown, "");
                grounds.notes.clear();
                for (_, e) in open_exceptions {
                    grounds.absorb(e);
                }
                let reason = format!(
                    "{} Whether an exception applies could not be established: {}.",
                    sentence(&spec.reasons.non_compliant, &required),
                    grounds.notes.join("; ")
                );
                finish(
                    result,
                    Outcome::Undetermined,
                    reason,
                    &[&trigger, &required, &grounds],
                )
            }
            _ => {
                let reason = sentence(&spec.reasons.undetermined, &required);
                finish(
                    result,
                    Outcome::Undetermined,
                    reason,
                    &[&trigger, &required],
                )
            }
        }
    }
}
