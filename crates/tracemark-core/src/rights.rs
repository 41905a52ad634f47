//! The rights vocabulary shared by the crates that read opt-out signals.
//!
//! Signals come in many syntaxes (robots.txt, TDMRep, AIPREF, RSL, CAWG assertions); the
//! rights crate normalises them to a [`Permission`] per [`AiUse`]. The CAWG
//! training-mining assertion lives inside C2PA manifests, which only the credentials crate
//! reads: it extracts the assertion into [`TrainingMining`] so that the rights crate never
//! parses C2PA itself.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A use of content that opt-out signals distinguish (`legal.md` §3.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AiUse {
    /// Text and data mining in general (DSM Directive Art. 4): covers every training use.
    Tdm,
    /// Training any AI model.
    AiTrain,
    /// Training a generative model.
    GenaiTrain,
    /// Use as model input at inference time (RAG, grounding, summaries).
    AiInput,
    /// Indexing for AI retrieval.
    AiIndex,
    /// Classic search indexing (links and short excerpts).
    Search,
}

impl AiUse {
    pub const ALL: [AiUse; 6] = [
        AiUse::Tdm,
        AiUse::AiTrain,
        AiUse::GenaiTrain,
        AiUse::AiInput,
        AiUse::AiIndex,
        AiUse::Search,
    ];
}

/// The normalised answer of a rights signal for one use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    Allowed,
    /// Reserved by the rights holder (an opt-out).
    Disallowed,
    /// No signal speaks to this use.
    Unknown,
}

impl Permission {
    /// Signals combine by the most restrictive answer (AIPREF §7.1, RSL conflicts): a
    /// reservation anywhere wins, and an explicit permission beats silence.
    pub fn most_restrictive(self, other: Permission) -> Permission {
        use Permission::*;
        match (self, other) {
            (Disallowed, _) | (_, Disallowed) => Disallowed,
            (Allowed, _) | (_, Allowed) => Allowed,
            (Unknown, Unknown) => Unknown,
        }
    }
}

/// The form a reservation takes. For content made publicly available online, DSM
/// Directive Art. 4(3) asks for "an appropriate manner, such as machine-readable means";
/// a reservation in prose (terms of service, an imprint) is at best contested (OLG
/// Hamburg, 10 December 2025, 5 U 104/24: not machine-readable; LG Hamburg, 27 September
/// 2024, 310 O 227/23, obiter: it may be).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReservationForm {
    /// A protocol software reads and follows without a person (robots.txt, TDMRep,
    /// AIPREF, RSL, CAWG assertions).
    MachineReadable,
    /// Natural language a person reads (terms of service, an imprint).
    Prose,
}

/// The signal names (as in `RightsFinding::signals`) of machine-readable protocols.
pub const MACHINE_READABLE_SIGNALS: &[&str] = &[
    "robots",
    "aipref",
    "content-signal",
    "tdmrep",
    "ai.txt",
    "noai",
    "rsl",
    "cawg",
];

/// The signal names of reservations written in prose.
pub const PROSE_SIGNALS: &[&str] = &["terms-of-service", "imprint"];

impl ReservationForm {
    /// The form of a signal by its name; `None` for a name this build does not know.
    pub fn of_signal(name: &str) -> Option<ReservationForm> {
        if MACHINE_READABLE_SIGNALS.contains(&name) {
            Some(ReservationForm::MachineReadable)
        } else if PROSE_SIGNALS.contains(&name) {
            Some(ReservationForm::Prose)
        } else {
            None
        }
    }
}

/// A CAWG training-and-data-mining assertion (`cawg.training-mining`, or the C2PA 1.x
/// `c2pa.training-mining` it replaced), as found in a content credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainingMining {
    /// The assertion label it was read from.
    pub label: String,
    /// Entries by key (`cawg.ai_generative_training`, `c2pa.data_mining`, ...).
    pub entries: BTreeMap<String, TrainingMiningEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainingMiningEntry {
    #[serde(rename = "use")]
    pub usage: MiningUse,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraints_info: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MiningUse {
    Allowed,
    NotAllowed,
    /// Allowed under constraints the assertion points to; without more information it
    /// counts as not allowed (CAWG 1.1).
    Constrained,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_restrictive_wins() {
        use Permission::*;
        assert_eq!(Allowed.most_restrictive(Disallowed), Disallowed);
        assert_eq!(Unknown.most_restrictive(Allowed), Allowed);
        assert_eq!(Unknown.most_restrictive(Unknown), Unknown);
    }

    #[test]
    fn signals_have_a_form() {
        assert_eq!(
            ReservationForm::of_signal("tdmrep"),
            Some(ReservationForm::MachineReadable)
        );
        assert_eq!(
            ReservationForm::of_signal("terms-of-service"),
            Some(ReservationForm::Prose)
        );
        assert_eq!(ReservationForm::of_signal("a letter"), None);
        for name in MACHINE_READABLE_SIGNALS {
            assert!(!PROSE_SIGNALS.contains(name), "{name} has two forms");
        }
    }

    #[test]
    fn reads_the_cawg_example() {
        let json = r#"{"label":"cawg.training-mining","entries":{
            "cawg.ai_generative_training":{"use":"notAllowed"},
            "cawg.ai_training":{"use":"constrained","constraints_info":"https://example.com/licence"},
            "cawg.ai_inference":{"use":"allowed"}}}"#;
        let tm: TrainingMining = serde_json::from_str(json).unwrap();
        assert_eq!(
            tm.entries["cawg.ai_generative_training"].usage,
            MiningUse::NotAllowed
        );
        assert_eq!(tm.entries["cawg.ai_training"].usage, MiningUse::Constrained);
        assert_eq!(
            serde_json::to_value(AiUse::GenaiTrain).unwrap(),
            "genai-train"
        );
    }
}
