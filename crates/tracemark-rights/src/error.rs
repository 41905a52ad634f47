//! The errors of the rights crate: what could not be read, and why.

use tracemark_core::{Diagnose, Fault};

/// A signal file, header or document that could not be used.
///
/// Most malformed signals are not errors: the standards say how to read them leniently
/// (an unknown AIPREF value is "unknown", a bad `tdm-reservation` is "unset"). These
/// errors are for input that cannot be read as the format at all.
#[derive(Debug, thiserror::Error)]
pub enum RightsError {
    /// The input is larger than the limit for its format.
    #[error("{what} is {size} bytes, over the {limit}-byte limit for this format")]
    TooLarge {
        what: String,
        size: usize,
        limit: usize,
    },
    /// A TDMRep `/.well-known/tdmrep.json` that is not a JSON array of rules.
    #[error("{source_name} is not a TDMRep rule file: {reason}")]
    TdmRep { source_name: String, reason: String },
    /// An RSL document that is not well-formed XML with an `<rsl>` root.
    #[error("{source_name} is not a valid RSL 1.0 document: {reason}")]
    Rsl { source_name: String, reason: String },
    /// A training-mining JSON document that does not have the core type's shape.
    #[error("{source_name} is not a training-mining assertion: {reason}")]
    TrainingMining { source_name: String, reason: String },
    /// A saved HTTP response whose head cannot be read.
    #[error("{source_name} is not a saved HTTP response: {reason}")]
    Http { source_name: String, reason: String },
    /// The input matched no signal format that this crate reads.
    #[error("{source_name}: cannot tell which rights-signal format this is")]
    UnknownFormat { source_name: String },
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl Diagnose for RightsError {
    fn fault(&self) -> Fault {
        Fault::Input
    }

    fn hint(&self) -> Option<String> {
        Some(
            match self {
                RightsError::TooLarge { .. } => {
                    "signal files are small; check that this is the right file"
                }
                RightsError::TdmRep { .. } => {
                    "a tdmrep.json is a JSON array of objects with `location` and `tdm-reservation`"
                }
                RightsError::Rsl { .. } => {
                    "an RSL document is XML with an <rsl xmlns=\"https://rslstandard.org/rsl\"> root"
                }
                RightsError::TrainingMining { .. } => {
                    "expected {\"label\": \"cawg.training-mining\", \"entries\": {\"cawg.ai_training\": {\"use\": \"notAllowed\"}, ...}}"
                }
                RightsError::Http { .. } => {
                    "a saved response starts with a status line such as `HTTP/1.1 200 OK`, then headers"
                }
                RightsError::UnknownFormat { .. } => {
                    "name the file robots.txt, tdmrep.json, ai.txt, *.rsl/*.xml, *.html or *.http, or pass the format explicitly"
                }
                RightsError::Io { .. } => "check that the path exists and is readable",
            }
            .to_owned(),
        )
    }
}
