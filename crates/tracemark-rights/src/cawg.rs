//! CAWG training-and-data-mining assertions (`cawg.training-mining`, CAWG 1.1, and the
//! C2PA 1.x `c2pa.training-mining` it replaced), already extracted from the content
//! credential by the credentials crate.

use tracemark_core::rights::{AiUse, MiningUse, Permission, TrainingMining};

use crate::signal::{Provenance, Signal, SignalKind};

/// The use an entry key speaks to, under either prefix. Other keys (custom labels) carry
/// no meaning here and are ignored.
fn use_of(key: &str) -> Option<AiUse> {
    let name = key
        .strip_prefix("cawg.")
        .or_else(|| key.strip_prefix("c2pa."))?;
    Some(match name {
        "data_mining" => AiUse::Tdm,
        "ai_inference" => AiUse::AiInput,
        "ai_generative_training" => AiUse::GenaiTrain,
        // Non-generative models only (CAWG 1.1); the decision keeps it apart from
        // generative training.
        "ai_training" => AiUse::AiTrain,
        _ => return None,
    })
}

/// One signal per recognised entry. `constrained` counts as not allowed unless the
/// caller knows the constraints are met (CAWG 1.1).
pub fn signals(tm: &TrainingMining, prov: &Provenance) -> Vec<Signal> {
    tm.entries
        .iter()
        .filter_map(|(key, entry)| {
            let usage = use_of(key)?;
            let (permission, note) = match entry.usage {
                MiningUse::Allowed => (Permission::Allowed, None),
                MiningUse::NotAllowed => (Permission::Disallowed, None),
                MiningUse::Constrained => (
                    Permission::Disallowed,
                    Some(match &entry.constraints_info {
                        Some(info) => format!("constrained ({info}): counts as notAllowed"),
                        None => "constrained: counts as notAllowed".to_owned(),
                    }),
                ),
            };
            let raw = format!("{} {key}: {:?}", tm.label, entry.usage);
            let s = prov.signal(SignalKind::Cawg, usage, permission, raw);
            Some(match note {
                Some(n) => s.with_note(n),
                None => s,
            })
        })
        .collect()
}
