//! Marks over time: which marks a record shows the content carried, whether they were
//! removed and by whom, and whether a detector for them is offered.
//!
//! A duty to mark binds the provider at generation; a prohibition on removing binds
//! whoever removed. So an absent mark that a record shows was there does not breach the
//! provider's duty ([`Evidence::marked_at_generation`]), and a removal rule names the
//! remover or stays undetermined ([`Evidence::removed`]).

use tracemark_core::fact::{
    Claim, DetectorAccess, MarkHistoryFinding, MarkKind, Party, PartyRole, Topic,
};

use super::Evidence;
use crate::condition::{Atom, Eval, Remover, Tri};

/// "a watermark", "an AIGC implicit label".
fn a(kind: MarkKind) -> String {
    let words = kind.words();
    let article = if words.starts_with(['A', 'E', 'I', 'O', 'U', 'a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {words}")
}

fn party_words(p: &Party) -> String {
    let role = p.role.name().replace('_', " ");
    match &p.name {
        Some(name) => format!("{name} ({role})"),
        None => format!("a {role}"),
    }
}

fn matches(who: Remover, p: &Party) -> bool {
    match who {
        Remover::Anyone => true,
        Remover::Role(role) => p.role == role,
    }
}

fn remover_words(who: Remover) -> String {
    match who {
        Remover::Anyone => "someone identified".to_owned(),
        Remover::Role(role) => format!("a {}", role.name().replace('_', " ")),
    }
}

fn access_words(access: DetectorAccess) -> &'static str {
    match access {
        DetectorAccess::Free => "free of charge to anyone",
        DetectorAccess::Public => "publicly, not free of charge",
        DetectorAccess::OnRequest => {
            "on request only (the Code of Practice's Measure 2.1 asks for a free detector)"
        }
        DetectorAccess::None => "not at all",
    }
}

impl<'a> Evidence<'a> {
    fn histories(&self, kind: MarkKind) -> Vec<(usize, &'a MarkHistoryFinding)> {
        self.claims()
            .filter_map(|(i, c)| match c {
                Claim::MarkHistory(h) if h.mark == kind => Some((i, h)),
                _ => None,
            })
            .collect()
    }

    /// Whether the content carries a mark of this kind now (true only: the predicates of
    /// each mark say more).
    fn carries_now(&self, kind: MarkKind) -> Option<Eval> {
        let now = match kind {
            MarkKind::Watermark => self.atom(&Atom::Watermark),
            MarkKind::Credential => self.atom(&Atom::Credential),
            MarkKind::AigcLabel => self.atom(&Atom::AigcLabel),
            MarkKind::Disclosure => self.atom(&Atom::Disclosure),
            // A work's rights-management information has no test of its own yet.
            MarkKind::RightsManagementInformation => return None,
        };
        (now.value == Tri::True).then_some(now)
    }

    /// `removed:KIND`: a record shows a mark of this kind was there and it is gone.
    fn removal(&self, kind: MarkKind) -> Eval {
        let histories = self.histories(kind);
        let gone: Vec<_> = histories.iter().filter(|(_, h)| !h.still_present).collect();
        if !gone.is_empty() {
            let mut e = Eval::new(Tri::True, "").with_facts(gone.iter().map(|(i, _)| *i));
            e.notes = gone
                .iter()
                .map(|(_, h)| {
                    let who = h
                        .removed_by
                        .as_ref()
                        .map(|p| format!("removed by {}", party_words(p)))
                        .unwrap_or_else(|| "who removed it is not known".into());
                    format!(
                        "{} shows the content carried {}, which it no longer carries ({who})",
                        h.shown_by,
                        a(kind)
                    )
                })
                .collect();
            return e;
        }
        if let Some(u) = self.unestablished(Topic::Removal) {
            return u;
        }
        if let Some((i, h)) = histories.first() {
            return Eval::new(
                Tri::False,
                format!(
                    "the content still carries the {} that {} shows",
                    kind.words(),
                    h.shown_by
                ),
            )
            .with_facts([*i]);
        }
        if let Some(now) = self.carries_now(kind) {
            let mut e = Eval::new(Tri::False, format!("the content carries {}", a(kind)));
            e.facts = now.facts;
            return e;
        }
        // A record of the content's marks names each mark it shows (one history a mark):
        // one that names others but not this kind shows no such mark to remove.
        if let Some((i, h)) = self.any_history() {
            return Eval::new(
                Tri::False,
                format!("{} shows no {} to remove", h.shown_by, kind.words()),
            )
            .with_facts([i]);
        }
        Eval::new(
            Tri::Unknown,
            format!(
                "no record shows whether the content carried {} that was removed",
                a(kind)
            ),
        )
    }

    fn any_history(&self) -> Option<(usize, &'a MarkHistoryFinding)> {
        self.claims().find_map(|(i, c)| match c {
            Claim::MarkHistory(h) => Some((i, h)),
            _ => None,
        })
    }

    /// `removed:KIND[:WHO]`: removed at all, or by someone of a role (or identified).
    pub(super) fn removed(&self, kind: MarkKind, who: Option<Remover>) -> Eval {
        let removal = self.removal(kind);
        let Some(who) = who else {
            return removal;
        };
        if removal.value != Tri::True {
            return removal;
        }
        let gone: Vec<(usize, &MarkHistoryFinding)> = self
            .histories(kind)
            .into_iter()
            .filter(|(_, h)| !h.still_present)
            .collect();
        let facts = gone.iter().map(|(i, _)| *i);
        if let Some((_, h)) = gone
            .iter()
            .find(|(_, h)| h.removed_by.as_ref().is_some_and(|p| matches(who, p)))
        {
            let by = h.removed_by.as_ref().map(party_words).unwrap_or_default();
            return Eval::new(
                Tri::True,
                format!(
                    "{by} removed the {} that {} shows",
                    kind.words(),
                    h.shown_by
                ),
            )
            .with_facts(facts);
        }
        if gone.iter().all(|(_, h)| h.removed_by.is_some()) {
            let by: Vec<String> = gone
                .iter()
                .filter_map(|(_, h)| h.removed_by.as_ref().map(party_words))
                .collect();
            return Eval::new(
                Tri::False,
                format!(
                    "the {} was removed by {}, not by {}",
                    kind.words(),
                    by.join(" and "),
                    remover_words(who)
                ),
            )
            .with_facts(facts);
        }
        Eval::new(
            Tri::Unknown,
            format!(
                "the {} was removed, but who removed it is not stated",
                kind.words()
            ),
        )
        .with_facts(facts)
    }

    /// `marked_at_generation:KIND`: the output carried the mark when generated, and the
    /// provider is not said to have removed it. Nothing shown is false: the absence of a
    /// mark then counts against the provider, as it did before records were read.
    pub(super) fn marked_at_generation(&self, kind: MarkKind) -> Eval {
        let histories = self.histories(kind);
        let by_provider = |h: &MarkHistoryFinding| {
            h.removed_by.as_ref().map(|p| p.role) == Some(PartyRole::Provider)
        };
        if let Some((i, h)) = histories.iter().find(|(_, h)| !by_provider(h)) {
            let later = if h.still_present {
                String::new()
            } else {
                let who = h
                    .removed_by
                    .as_ref()
                    .map(party_words)
                    .unwrap_or_else(|| "someone not identified".into());
                format!("; it was removed afterwards by {who}, which does not undo the marking")
            };
            return Eval::new(
                Tri::True,
                format!(
                    "the output carried {} when it was generated ({}){later}",
                    a(kind),
                    h.shown_by
                ),
            )
            .with_facts([*i]);
        }
        if let Some((i, h)) = histories.first() {
            return Eval::new(
                Tri::False,
                format!(
                    "the provider itself removed the {} that {} shows",
                    kind.words(),
                    h.shown_by
                ),
            )
            .with_facts([*i]);
        }
        if let Some(u) = self.unestablished(Topic::Removal) {
            return u;
        }
        Eval::new(
            Tri::False,
            format!(
                "no record shows the output carried {} when it was generated",
                a(kind)
            ),
        )
    }

    /// `detector:KIND`: a detector for the mark is offered to others.
    pub(super) fn detector(&self, kind: MarkKind) -> Eval {
        let offered: Vec<_> = self
            .claims()
            .filter_map(|(i, c)| match c {
                Claim::Detector(d) if d.mark == kind => Some((i, d)),
                _ => None,
            })
            .collect();
        let facts = offered.iter().map(|(i, _)| *i);
        let available: Vec<_> = offered
            .iter()
            .filter(|(_, d)| d.access != DetectorAccess::None)
            .collect();
        if !available.is_empty() {
            let mut e = Eval::new(Tri::True, "").with_facts(available.iter().map(|(i, _)| *i));
            e.notes = available
                .iter()
                .map(|(_, d)| {
                    let at = d
                        .url
                        .as_deref()
                        .map(|u| format!(" at {u}"))
                        .unwrap_or_default();
                    format!(
                        "a detector for the {} is offered {}: {}{at}",
                        kind.words(),
                        access_words(d.access),
                        d.name
                    )
                })
                .collect();
            return e;
        }
        if !offered.is_empty() {
            return Eval::new(
                Tri::False,
                format!("no detector for the {} is offered to others", kind.words()),
            )
            .with_facts(facts);
        }
        Eval::new(
            Tri::Unknown,
            format!(
                "whether a detector for the {} is offered to others (free, public or on request) was not established",
                kind.words()
            ),
        )
    }
}
