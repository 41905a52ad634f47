//! The opt-out and licence signals of the web, normalised to one decision per document
//! and use.
//!
//! Parsers for robots.txt (RFC 9309, AI user agents, AIPREF `Content-Usage`), W3C TDMRep,
//! ai.txt and RSL 1.0 turn each signal into [`Signal`]s; [`decide`] combines them by the
//! most restrictive answer. CAWG training-mining assertions arrive already extracted by
//! the credentials crate, as [`tracemark_core::rights::TrainingMining`].

use serde::{Deserialize, Serialize};
use tracemark_core::{
    Timestamp,
    rights::{AiUse, Permission},
};

/// What one signal says about one use, and where it was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signal {
    /// Which standard the signal follows (`robots`, `tdmrep`, `aipref`, `ai.txt`, `rsl`, `cawg`).
    pub kind: String,
    /// Where it was read (a URL, a header name, a file).
    pub source: String,
    #[serde(rename = "use")]
    pub usage: AiUse,
    pub permission: Permission,
    pub seen_at: Option<Timestamp>,
}

/// The decision for `usage` from every signal that speaks to it: the most restrictive
/// answer, with the signals that contributed to it. A TDM reservation covers every
/// training use (DSM Art. 4(3)), so it counts for the training uses too.
pub fn decide(usage: AiUse, signals: &[Signal]) -> (Permission, Vec<&Signal>) {
    let covers = |s: &Signal| {
        s.usage == usage
            || (s.usage == AiUse::Tdm && matches!(usage, AiUse::AiTrain | AiUse::GenaiTrain))
            || (s.usage == AiUse::AiTrain && usage == AiUse::GenaiTrain)
    };
    let relevant: Vec<&Signal> = signals.iter().filter(|s| covers(s)).collect();
    let permission = relevant.iter().fold(Permission::Unknown, |acc, s| {
        acc.most_restrictive(s.permission)
    });
    (permission, relevant)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signal(kind: &str, usage: AiUse, permission: Permission) -> Signal {
        Signal {
            kind: kind.into(),
            source: "test".into(),
            usage,
            permission,
            seen_at: None,
        }
    }

    #[test]
    fn a_tdm_reservation_reserves_generative_training() {
        let signals = [
            signal("robots", AiUse::GenaiTrain, Permission::Allowed),
            signal("tdmrep", AiUse::Tdm, Permission::Disallowed),
            signal("rsl", AiUse::Search, Permission::Allowed),
        ];
        let (permission, used) = decide(AiUse::GenaiTrain, &signals);
        assert_eq!(permission, Permission::Disallowed);
        assert_eq!(used.len(), 2);
        assert_eq!(decide(AiUse::Search, &signals).0, Permission::Allowed);
        assert_eq!(decide(AiUse::AiInput, &signals).0, Permission::Unknown);
    }
}
