//! California's latent disclosure (Bus. & Prof. Code § 22757.3(b)), element by element.
//!
//! The disclosure may convey its information "either directly or through a link to a
//! permanent internet website": a content credential conveys it directly; a watermark
//! whose payload resolves, in a public transparency log, to the generation record conveys
//! it through the log. A credential removed after generation still counts for the
//! provider when a record shows it was there.

use tracemark_core::{
    Timestamp,
    fact::{CredentialFinding, CredentialState, LogFinding, MarkKind},
};

use super::Evidence;
use crate::condition::{Atom, Eval, LatentElement, Tri};

/// What one carrier of the disclosure states.
struct Carrier {
    /// How a reader names it: `the credential`, `log record 41 (reached by the watermark)`.
    name: String,
    facts: Vec<usize>,
    provider: Option<String>,
    system: Option<String>,
    time: Option<Timestamp>,
    identifier: Option<String>,
}

impl Carrier {
    fn of_credential(i: usize, c: &CredentialFinding) -> Carrier {
        let d = c.latent_disclosure.as_deref().cloned().unwrap_or_default();
        let system = match (d.system_name, d.system_version) {
            (Some(n), Some(v)) => Some(format!("{n} {v}")),
            // The claim generator names the model and its version.
            _ => c.generator.clone(),
        };
        Carrier {
            name: "the content credential".into(),
            facts: vec![i],
            provider: d.provider.or_else(|| c.signer.clone()),
            system,
            time: d.time.or(c.signed_at),
            identifier: d.unique_id.or_else(|| c.manifest_id.clone()),
        }
    }

    fn of_log(i: usize, l: &LogFinding, how: &str) -> Carrier {
        Carrier {
            name: format!("generation record {} of log {} ({how})", l.index, l.origin),
            facts: vec![i],
            provider: l.provider.clone(),
            system: l.model.clone(),
            time: l.logged_at,
            identifier: l.generation_id.clone(),
        }
    }

    fn element(&self, element: LatentElement) -> Option<String> {
        match element {
            LatentElement::ProviderName => self.provider.clone(),
            LatentElement::SystemNameAndVersion => self.system.clone(),
            LatentElement::TimeOfCreation => self.time.map(|t| t.to_string()),
            LatentElement::UniqueIdentifier => self.identifier.clone(),
            _ => None,
        }
    }
}

fn element_words(element: LatentElement) -> &'static str {
    match element {
        LatentElement::ProviderName => "the provider's name",
        LatentElement::SystemNameAndVersion => "the system's name and version",
        LatentElement::TimeOfCreation => "the time of creation",
        LatentElement::UniqueIdentifier => "a unique identifier",
        LatentElement::Detectable => "detectability by the provider's detection tool",
        LatentElement::IndustryStandard => "an industry standard",
        LatentElement::Permanent => "permanence",
    }
}

impl<'a> Evidence<'a> {
    /// The carriers of a latent disclosure: a valid credential, and the verified log
    /// record a detected watermark leads to or that shows a credential since removed.
    fn carriers(&self) -> Vec<Carrier> {
        let mut out: Vec<Carrier> = self
            .credential_findings()
            .into_iter()
            .filter(|(_, c)| {
                matches!(
                    c.state,
                    CredentialState::Trusted | CredentialState::Untrusted
                )
            })
            .map(|(i, c)| Carrier::of_credential(i, c))
            .collect();
        let watermark = self.atom(&Atom::Watermark).value == Tri::True;
        let credential_then = self.marked_at_generation(MarkKind::Credential).value == Tri::True;
        let how = match (watermark, credential_then) {
            (true, _) => "reached by the watermark's payload",
            (false, true) => "naming the credential the content carried when generated",
            (false, false) => return out,
        };
        out.extend(
            self.log_records()
                .into_iter()
                .filter(|(_, l)| l.inclusion_verified)
                .map(|(i, l)| Carrier::of_log(i, l, how)),
        );
        out
    }

    /// `latent_disclosure:ELEMENT`.
    pub(super) fn latent_disclosure(&self, element: LatentElement) -> Eval {
        match element {
            LatentElement::Detectable => self.latent_detectable(),
            LatentElement::IndustryStandard => self.latent_standard(),
            LatentElement::Permanent => self.latent_permanent(),
            _ => self.latent_information(element),
        }
    }

    /// (b)(1)(A)–(D): the information conveyed.
    fn latent_information(&self, element: LatentElement) -> Eval {
        let carriers = self.carriers();
        let words = element_words(element);
        if let Some((c, value)) = carriers
            .iter()
            .find_map(|c| c.element(element).map(|v| (c, v)))
        {
            return Eval::new(Tri::True, format!("{} states {words}: {value}", c.name))
                .with_facts(c.facts.clone());
        }
        if !carriers.is_empty() {
            let names: Vec<&str> = carriers.iter().map(|c| c.name.as_str()).collect();
            return Eval::new(
                Tri::False,
                format!("{} does not state {words}", names.join(" or ")),
            )
            .with_facts(carriers.iter().flat_map(|c| c.facts.clone()));
        }
        // No carrier: no valid credential, and no watermark leading to a verified record.
        let credential = self.atom(&Atom::Credential);
        let watermark = self.atom(&Atom::Watermark);
        let record = self.atom(&Atom::LogRecord);
        let no_link = watermark.value == Tri::False || record.value == Tri::False;
        if credential.value == Tri::False && no_link {
            let mut e = Eval::new(
                Tri::False,
                format!(
                    "no latent disclosure conveys {words}: no valid credential, and no watermark leading to a generation record"
                ),
            );
            for part in [credential, watermark, record] {
                if part.value == Tri::False {
                    e.absorb(part);
                }
            }
            return e;
        }
        let mut e = Eval::new(
            Tri::Unknown,
            format!("whether a latent disclosure conveys {words} was not established"),
        );
        for part in [credential, watermark, record] {
            if part.value == Tri::Unknown {
                e.absorb(part);
            }
        }
        e
    }

    /// (b)(2): detectable by the provider's detection tool: a watermark its key detects,
    /// or a detection tool the provider offers.
    fn latent_detectable(&self) -> Eval {
        let watermark = self.atom(&Atom::Watermark);
        if watermark.value == Tri::True {
            return watermark;
        }
        let offered = [MarkKind::Watermark, MarkKind::Credential].map(|k| self.detector(k));
        if let Some(e) = offered.iter().find(|e| e.value == Tri::True) {
            return e.clone();
        }
        let mut e = Eval::new(
            if offered.iter().all(|e| e.value == Tri::False) && watermark.value == Tri::False {
                Tri::False
            } else {
                Tri::Unknown
            },
            "",
        );
        e.notes.clear();
        e.absorb(watermark);
        for o in offered {
            e.absorb(o);
        }
        e
    }

    /// (b)(3): consistent with widely accepted industry standards: a C2PA content
    /// credential, now or when generated.
    fn latent_standard(&self) -> Eval {
        let now = self.atom(&Atom::Credential);
        if now.value == Tri::True {
            let mut e = Eval::new(
                Tri::True,
                "the disclosure is a C2PA content credential, a widely adopted industry standard",
            );
            e.absorb(now);
            return e;
        }
        let then = self.marked_at_generation(MarkKind::Credential);
        if then.value == Tri::True {
            return then;
        }
        let mut e = Eval::new(
            now.value,
            "no disclosure in a widely accepted industry standard (a C2PA content credential) was found",
        );
        e.absorb(now);
        e
    }

    /// (b)(4): permanent or extraordinarily difficult to remove, as far as technically
    /// feasible. Metadata alone is stripped by any re-encoding; a watermark in the
    /// content itself is what survives, so the watermark decides.
    fn latent_permanent(&self) -> Eval {
        let watermark = self.atom(&Atom::Watermark);
        if watermark.value == Tri::True {
            let mut e = Eval::new(
                Tri::True,
                "a watermark in the content itself carries the disclosure's link",
            );
            e.absorb(watermark);
            return e;
        }
        let then = self.marked_at_generation(MarkKind::Watermark);
        if then.value == Tri::True {
            return then;
        }
        let mut e = Eval::new(
            watermark.value,
            "metadata alone is easily stripped, and no watermark makes the disclosure permanent",
        );
        e.absorb(watermark);
        e
    }
}
