//! The research exception (DSM Directive Art. 3) and human authorship: facts someone
//! states about who mined the sources and who authored the content.
//!
//! The research exception is a defence: when no one states who mined the reproduced
//! documents, its conditions are false, and Art. 4(3) governs the mining.

use tracemark_core::fact::{Claim, MiningFinding, MiningPurpose, OrganisationType};

use super::Evidence;
use crate::condition::{Atom, Eval, Tri};

/// The condition of Art. 3 a predicate reads.
#[derive(Clone, Copy)]
pub(super) enum Art3 {
    ResearchOrganisation,
    LawfulAccess,
    ScientificResearch,
}

impl<'a> Evidence<'a> {
    fn mining(&self) -> Vec<(usize, &'a MiningFinding)> {
        self.claims()
            .filter_map(|(i, c)| match c {
                Claim::Mining(m) => Some((i, m)),
                _ => None,
            })
            .collect()
    }

    /// `research_exception_invoked`: someone states who mined the sources.
    pub(super) fn research_exception_invoked(&self) -> Eval {
        let miners = self.mining();
        if miners.is_empty() {
            return Eval::new(
                Tri::False,
                "no one invokes the research exception: no one stated who mined the reproduced documents",
            );
        }
        let names: Vec<&str> = miners
            .iter()
            .map(|(_, m)| m.organisation.as_str())
            .collect();
        Eval::new(
            Tri::True,
            format!(
                "the research exception is invoked for mining by {}",
                names.join(", ")
            ),
        )
        .with_facts(miners.iter().map(|(i, _)| *i))
    }

    /// One condition of Art. 3(1), over every stated miner: all must meet it.
    pub(super) fn article_3(&self, condition: Art3) -> Eval {
        let miners = self.mining();
        if miners.is_empty() {
            return Eval::new(
                Tri::False,
                "no one stated who mined the reproduced documents under the research exception (DSM Directive Art. 3)",
            );
        }
        let mut out = Eval::new(Tri::True, "");
        out.notes.clear();
        for (i, m) in miners {
            let e = one_condition(m, condition).with_facts([i]);
            out.value = match (out.value, e.value) {
                (Tri::False, _) | (_, Tri::False) => Tri::False,
                (Tri::Unknown, _) | (_, Tri::Unknown) => Tri::Unknown,
                _ => Tri::True,
            };
            out.absorb(e);
        }
        out
    }

    /// `human_authorship`: stated, or inferred from what is shown about AI origin. AI
    /// output alone is no work: US law asks for a human author (Thaler v. Perlmutter,
    /// 130 F.4th 1039 (D.C. Cir. 2025)).
    pub(super) fn human_authorship(&self) -> Eval {
        let key = "human_authorship";
        if let Some(&stated) = self.ctx.declarations.get(key) {
            return Eval::new(
                stated.into(),
                if stated {
                    "it is stated that the content contains human authorship"
                } else {
                    "it is stated that the content contains no human authorship"
                },
            )
            .with_context(format!("declarations.{key}"));
        }
        let ai = self.atom(&Atom::AiGenerated);
        let (value, note) = match ai.value {
            Tri::True => (
                Tri::False,
                "the content is AI-generated and no one states that it contains human authorship: AI output alone is not a work (a human author is required: Thaler v. Perlmutter, D.C. Cir. 2025)",
            ),
            Tri::False => (Tri::True, "the content is stated not to be AI-generated"),
            Tri::Unknown => (
                Tri::Unknown,
                "whether the content contains human authorship is not known",
            ),
        };
        let mut e = Eval::new(value, note);
        e.facts = ai.facts;
        e.context = ai.context;
        e
    }
}

fn one_condition(m: &MiningFinding, condition: Art3) -> Eval {
    let who = &m.organisation;
    match condition {
        Art3::ResearchOrganisation => match m.organisation_type {
            Some(OrganisationType::ResearchOrganisation) => Eval::new(
                Tri::True,
                format!("{who} is a research organisation (Art. 2(1))"),
            ),
            Some(OrganisationType::CulturalHeritageInstitution) => Eval::new(
                Tri::True,
                format!("{who} is a cultural heritage institution (Art. 2(3))"),
            ),
            Some(OrganisationType::Other) => Eval::new(
                Tri::False,
                format!(
                    "{who} is neither a research organisation nor a cultural heritage institution"
                ),
            ),
            None => Eval::new(
                Tri::Unknown,
                format!("what kind of organisation {who} is was not stated"),
            ),
        },
        Art3::LawfulAccess => match m.lawful_access {
            Some(true) => Eval::new(Tri::True, format!("{who} had lawful access to the works")),
            Some(false) => Eval::new(
                Tri::False,
                format!("{who} had no lawful access to the works"),
            ),
            None => Eval::new(
                Tri::Unknown,
                format!("whether {who} had lawful access to the works was not stated"),
            ),
        },
        Art3::ScientificResearch => match m.purpose {
            Some(MiningPurpose::ScientificResearch) => Eval::new(
                Tri::True,
                format!("{who} mined the works for the purposes of scientific research"),
            ),
            Some(MiningPurpose::Other) => Eval::new(
                Tri::False,
                format!("{who} mined the works for a purpose other than scientific research"),
            ),
            None => Eval::new(
                Tri::Unknown,
                format!("the purpose of {who}'s mining was not stated"),
            ),
        },
    }
}
