//! What a run of the demo set up and found: [`DemoSummary`], which `tracemark demo` prints.

use std::path::PathBuf;

use serde::Serialize;
use tracemark::core::{KeyId, KeyKind};

use crate::{use_cases::UseCase, work_folder::DemoModel};

/// What the demo set up.
#[derive(Debug, Clone, Serialize)]
pub struct DemoSummary {
    pub out: PathBuf,
    pub config: PathBuf,
    pub key_store: PathBuf,
    pub log: PathBuf,
    /// The corpus folder indexed: `corpus/texts` (the embedded demo corpus, written out),
    /// or the one given.
    pub corpus: PathBuf,
    /// The index of the demo corpus.
    pub index: PathBuf,
    pub keys: Vec<DemoKey>,
    /// The model that generated the demo's texts.
    pub model: String,
    /// The model's verified identity (its signature, digest, signer and release record).
    pub model_identity: DemoModel,
    /// The collection records of the demo corpus this run logged (none when an earlier
    /// run did): what `rights prove --url` proves.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collection: Option<tracemark::collection::LoggedCollection>,
    /// The use cases, each with its sealed evidence report (in `reports/`).
    pub use_cases: Vec<UseCase>,
    /// The provider's public summary of the training corpus (`summary.json`, with its
    /// page and domain lists beside it).
    pub training_summary: PathBuf,
}

#[derive(Debug, Clone, Serialize)]
pub struct DemoKey {
    pub kind: KeyKind,
    pub key_id: KeyId,
    pub path: PathBuf,
    /// Whether an earlier run made it.
    pub reused: bool,
}
