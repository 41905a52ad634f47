//! Normalisation: one decision per document, use, actor and time (`legal.md` §3.9).
//!
//! Signals combine by the most restrictive answer (AIPREF vocab §7.1, RSL conflicts),
//! after two standard-specific steps: TDMRep's own precedence (HTML meta overrides the
//! HTTP header, which overrides `tdmrep.json`), and time. Signals are kept as
//! [`Snapshot`]s, one per fetch of a source; at time T the copy of each source that was
//! current at T is the one in force, so an opt-out added after a document was fetched
//! does not bind that fetch (AIPREF attach: preferences are not retroactive), and an
//! opt-out withdrawn later still bound the fetches made while it stood.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use tracemark_core::{
    ContentHash, Fact, Timestamp,
    fact::{Claim, Method, RightsFinding, Topic},
    rights::{AiUse, Permission},
};

use crate::{
    agents::ai_agent,
    signal::{Attachment, Signal, SignalKind},
};

/// Whose use the question is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "actor", content = "agent")]
pub enum Actor {
    /// Any crawler: only signals addressed to every agent count.
    Everyone,
    /// One crawler, by its robots.txt product token: signals for every agent and for it.
    Agent(String),
    /// The cautious reading: a block of any agent counts as a reservation against all
    /// (as Apertus applied it; `legal.md` §3.2 says this is contested).
    AnyAgent,
}

impl Actor {
    /// Whether `signal` speaks to this actor. Signals of a `*` group reach an agent only
    /// when the same source has no group of the agent's own (RFC 9309 §2.2.1), which
    /// `named` (source, lower-case agent) records.
    fn addresses(&self, signal: &Signal, named: &HashSet<(&str, String)>) -> bool {
        let Some(agent) = signal.agent.as_deref() else {
            return true;
        };
        match self {
            Actor::Everyone => agent == "*",
            Actor::AnyAgent => agent == "*" || ai_agent(agent).is_some(),
            Actor::Agent(a) if agent == "*" => {
                !named.contains(&(signal.source.as_str(), a.to_ascii_lowercase()))
            }
            Actor::Agent(a) => a.eq_ignore_ascii_case(agent),
        }
    }
}

/// The (source, agent) pairs for which a source has signals of their own.
fn named_agents(signals: &[Signal]) -> HashSet<(&str, String)> {
    signals
        .iter()
        .filter_map(|s| match s.agent.as_deref() {
            Some(a) if a != "*" => Some((s.source.as_str(), a.to_ascii_lowercase())),
            _ => None,
        })
        .collect()
}

/// The decision for one use, and every signal behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    #[serde(rename = "use")]
    pub usage: AiUse,
    pub permission: Permission,
    /// The signals that speak to this use (including ones that say `unknown`).
    pub signals: Vec<Signal>,
    /// TDMRep signals set aside because a higher-precedence TDMRep layer spoke.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overridden: Vec<Signal>,
}

/// Whether a signal speaks to `usage`. A TDM reservation covers every training use (DSM
/// Art. 4(3)); AI training covers generative training. Not for CAWG, whose entries are
/// separate by design: its `ai_training` is non-generative training only, and a
/// `data_mining` entry says nothing about the training entries beside it.
fn covers(signal: &Signal, usage: AiUse) -> bool {
    let signal_use = signal.usage;
    if signal.kind == SignalKind::Cawg {
        return signal_use == usage;
    }
    signal_use == usage
        || (signal_use == AiUse::Tdm && matches!(usage, AiUse::AiTrain | AiUse::GenaiTrain))
        || (signal_use == AiUse::AiTrain && usage == AiUse::GenaiTrain)
}

/// TDMRep §"processing priority": meta over header over file.
fn tdmrep_rank(a: Attachment) -> u8 {
    match a {
        Attachment::File => 0,
        Attachment::HttpHeader => 1,
        Attachment::HtmlMeta | Attachment::Embedded => 2,
    }
}

/// The decision for `usage` and `actor` from `signals` (all assumed in force): the most
/// restrictive answer, after TDMRep's own precedence.
pub fn decide(usage: AiUse, actor: &Actor, signals: &[Signal]) -> Decision {
    decide_among(usage, &addressed(actor, signals))
}

/// Decisions for every use.
pub fn decide_all(actor: &Actor, signals: &[Signal]) -> Vec<Decision> {
    let addressed = addressed(actor, signals);
    AiUse::ALL
        .iter()
        .map(|&u| decide_among(u, &addressed))
        .collect()
}

/// The signals that speak to `actor`.
fn addressed<'a>(actor: &Actor, signals: &'a [Signal]) -> Vec<&'a Signal> {
    let named = named_agents(signals);
    signals
        .iter()
        .filter(|s| actor.addresses(s, &named))
        .collect()
}

fn decide_among(usage: AiUse, addressed: &[&Signal]) -> Decision {
    let relevant: Vec<&Signal> = addressed
        .iter()
        .copied()
        .filter(|s| covers(s, usage))
        .collect();
    let top_tdmrep = relevant
        .iter()
        .filter(|s| s.kind == SignalKind::Tdmrep && s.permission != Permission::Unknown)
        .map(|s| tdmrep_rank(s.attachment))
        .max();
    let (mut used, mut overridden) = (Vec::new(), Vec::new());
    for s in relevant {
        let set_aside = s.kind == SignalKind::Tdmrep
            && top_tdmrep.is_some_and(|top| tdmrep_rank(s.attachment) < top);
        if set_aside {
            overridden.push(s.clone());
        } else {
            used.push(s.clone());
        }
    }
    let permission = used.iter().fold(Permission::Unknown, |acc, s| {
        acc.most_restrictive(s.permission)
    });
    Decision {
        usage,
        permission,
        signals: used,
        overridden,
    }
}

/// The signals read from one fetch of one source (a robots.txt, a response's headers).
/// A snapshot with no signals is meaningful: it records that the source said nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The URL or file fetched; later snapshots of the same source replace earlier ones.
    pub source: String,
    pub seen_at: Timestamp,
    pub sha256: ContentHash,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    pub signals: Vec<Signal>,
}

/// The rights signals seen for one document over time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RightsRecord {
    pub document_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub snapshots: Vec<Snapshot>,
}

impl RightsRecord {
    pub fn new(document_id: impl Into<String>, url: Option<String>) -> Self {
        Self {
            document_id: document_id.into(),
            url,
            snapshots: Vec::new(),
        }
    }

    pub fn add(&mut self, snapshot: Snapshot) {
        self.snapshots.push(snapshot);
    }

    /// The signals in force at `at`: from each source, the latest snapshot seen at or
    /// before `at` (with `None`, the latest of all).
    pub fn in_force(&self, at: Option<Timestamp>) -> Vec<Signal> {
        let mut current: BTreeMap<&str, &Snapshot> = BTreeMap::new();
        for snap in &self.snapshots {
            if at.is_some_and(|t| snap.seen_at > t) {
                continue;
            }
            let newer = current
                .get(snap.source.as_str())
                .is_none_or(|prev| snap.seen_at >= prev.seen_at);
            if newer {
                current.insert(&snap.source, snap);
            }
        }
        current
            .values()
            .flat_map(|s| s.signals.iter().cloned())
            .collect()
    }

    /// What was the decision for this document, `usage` and `actor` at time `at`
    /// (typically the document's fetch time)?
    pub fn decision_at(&self, usage: AiUse, actor: &Actor, at: Option<Timestamp>) -> Decision {
        decide(usage, actor, &self.in_force(at))
    }

    /// The decisions for every use at `at`, as facts for the legal engine.
    pub fn findings(&self, actor: &Actor, at: Option<Timestamp>) -> Vec<RightsFinding> {
        let signals = self.in_force(at);
        decide_all(actor, &signals)
            .into_iter()
            .map(|d| finding(&self.document_id, &d))
            .collect()
    }
}

/// The method name facts from this crate carry.
pub const METHOD: &str = "rights-most-restrictive";

impl RightsRecord {
    /// The decisions at `at` as facts for the legal engine, established at
    /// `established_at`. With no signal source fetched by `at`, the one fact is that the
    /// rights could not be established: a rule resting on them is then undetermined,
    /// never satisfied by silence.
    pub fn facts(
        &self,
        actor: &Actor,
        at: Option<Timestamp>,
        established_at: Timestamp,
    ) -> Vec<Fact> {
        let method = Method {
            name: METHOD.to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            parameters: serde_json::json!({ "actor": actor, "at": at }),
        };
        let fetched = self
            .snapshots
            .iter()
            .any(|s| at.is_none_or(|t| s.seen_at <= t));
        let claims: Vec<Claim> = if fetched {
            self.findings(actor, at)
                .into_iter()
                .map(Claim::Rights)
                .collect()
        } else {
            vec![Claim::Unestablished {
                topic: Topic::Rights,
                reason: format!(
                    "no rights signal of document {} had been fetched by {}",
                    self.document_id,
                    at.map_or_else(|| "now".to_owned(), |t| t.to_string())
                ),
            }]
        };
        claims
            .into_iter()
            .map(|claim| Fact {
                claim,
                method: method.clone(),
                established_at,
            })
            .collect()
    }
}

/// A decision as a `RightsFinding`: the kinds of the signals that gave the answer (for an
/// unknown answer, of every signal consulted), and the latest time one was seen.
pub fn finding(document_id: &str, d: &Decision) -> RightsFinding {
    let decisive: Vec<&Signal> = d
        .signals
        .iter()
        .filter(|s| d.permission == Permission::Unknown || s.permission == d.permission)
        .collect();
    let mut kinds: Vec<String> = Vec::new();
    for s in &decisive {
        let name = s.kind.name().to_owned();
        if !kinds.contains(&name) {
            kinds.push(name);
        }
    }
    RightsFinding {
        document_id: document_id.to_owned(),
        usage: d.usage,
        permission: d.permission,
        signals: kinds,
        seen_at: decisive.iter().map(|s| s.seen_at).max(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signal::Provenance;

    fn t(day: u32) -> Timestamp {
        format!("2026-05-{day:02}T00:00:00Z").parse().unwrap()
    }

    fn sig(
        source: &str,
        att: Attachment,
        kind: SignalKind,
        agent: Option<&str>,
        usage: AiUse,
        p: Permission,
    ) -> Signal {
        Provenance::new(source, att, b"raw", t(1))
            .signal(kind, usage, p, "raw")
            .for_agent(agent)
    }

    #[test]
    fn star_signals_reach_only_agents_without_a_group_of_their_own() {
        let robots = "https://e.com/robots.txt";
        let signals = [
            sig(
                robots,
                Attachment::File,
                SignalKind::Robots,
                Some("*"),
                AiUse::AiTrain,
                Permission::Disallowed,
            ),
            sig(
                robots,
                Attachment::File,
                SignalKind::Robots,
                Some("CCBot"),
                AiUse::Tdm,
                Permission::Unknown,
            ),
        ];
        let d = |actor: Actor| decide(AiUse::AiTrain, &actor, &signals).permission;
        assert_eq!(d(Actor::Everyone), Permission::Disallowed);
        assert_eq!(d(Actor::Agent("GPTBot".into())), Permission::Disallowed);
        assert_eq!(d(Actor::Agent("ccbot".into())), Permission::Unknown);
        // A `*` group of another source still reaches CCBot.
        let mut more = signals.to_vec();
        more.push(sig(
            "https://e.com/ai.txt",
            Attachment::File,
            SignalKind::AiTxt,
            Some("*"),
            AiUse::AiTrain,
            Permission::Disallowed,
        ));
        assert_eq!(
            decide(AiUse::AiTrain, &Actor::Agent("CCBot".into()), &more).permission,
            Permission::Disallowed
        );
    }

    #[test]
    fn tdmrep_layers_override_before_the_most_restrictive_rule() {
        let file = sig(
            "f",
            Attachment::File,
            SignalKind::Tdmrep,
            None,
            AiUse::Tdm,
            Permission::Disallowed,
        );
        let header = sig(
            "h",
            Attachment::HttpHeader,
            SignalKind::Tdmrep,
            None,
            AiUse::Tdm,
            Permission::Allowed,
        );
        let bad_meta = sig(
            "m",
            Attachment::HtmlMeta,
            SignalKind::Tdmrep,
            None,
            AiUse::Tdm,
            Permission::Unknown,
        );
        let d = decide(
            AiUse::GenaiTrain,
            &Actor::Everyone,
            &[file.clone(), header.clone(), bad_meta],
        );
        assert_eq!(
            d.permission,
            Permission::Allowed,
            "an unset meta does not override"
        );
        assert_eq!(d.overridden, std::slice::from_ref(&file));
        // Another standard's reservation is not overridden by TDMRep's precedence.
        let aipref = sig(
            "h",
            Attachment::HttpHeader,
            SignalKind::Aipref,
            None,
            AiUse::AiTrain,
            Permission::Disallowed,
        );
        assert_eq!(
            decide(AiUse::GenaiTrain, &Actor::Everyone, &[file, header, aipref]).permission,
            Permission::Disallowed
        );
    }

    #[test]
    fn the_latest_snapshot_of_each_source_is_in_force() {
        let snap = |day: u32, p: Permission| Snapshot {
            source: "https://e.com/robots.txt".into(),
            seen_at: t(day),
            sha256: ContentHash::of_bytes(&[day as u8]),
            http_status: None,
            signals: vec![sig(
                "https://e.com/robots.txt",
                Attachment::File,
                SignalKind::Aipref,
                Some("*"),
                AiUse::AiTrain,
                p,
            )],
        };
        let mut r = RightsRecord::new("d", None);
        r.add(snap(10, Permission::Disallowed));
        r.add(snap(3, Permission::Allowed)); // added out of order
        let at = |day| {
            r.decision_at(AiUse::AiTrain, &Actor::Everyone, Some(t(day)))
                .permission
        };
        assert_eq!(at(2), Permission::Unknown);
        assert_eq!(
            at(3),
            Permission::Allowed,
            "a signal seen at the fetch time binds it"
        );
        assert_eq!(at(9), Permission::Allowed);
        assert_eq!(at(10), Permission::Disallowed);
    }
}
