//! The facade's error: any crate's error, still able to say whose fault it is.

use tracemark_core::{Diagnose, Fault, keyfile::KeyFileError};

use crate::config::ConfigError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    KeyFile(#[from] KeyFileError),
    #[error(transparent)]
    Identity(#[from] tracemark_credentials::identity::IdentityError),
    #[error(transparent)]
    NoteKey(#[from] tracemark_ledger::NoteKeyError),
    #[error(transparent)]
    Credential(#[from] tracemark_credentials::CredentialError),
    #[error(transparent)]
    Ledger(#[from] tracemark_ledger::LedgerError),
    #[error(transparent)]
    Receipt(#[from] tracemark_ledger::ReceiptError),
    #[error(transparent)]
    Trace(#[from] tracemark_trace::TraceError),
    #[error(transparent)]
    Lm(#[from] tracemark_lm::LmError),
    #[error(transparent)]
    Model(#[from] tracemark_model::ModelError),
    #[error(transparent)]
    Watermark(#[from] tracemark_watermark::WatermarkError),
    #[error(transparent)]
    Payload(#[from] tracemark_core::payload::PayloadError),
    #[error(transparent)]
    Media(#[from] tracemark_media::MediaError),
    #[error(transparent)]
    Rights(#[from] tracemark_rights::RightsError),
    #[error(transparent)]
    UnknownScheme(#[from] tracemark_watermark::scheme::UnknownScheme),
    /// A request a front end cannot carry out as given.
    #[error("{message}")]
    Usage {
        message: String,
        hint: Option<String>,
    },
    /// Content given to a command that it cannot use (a malformed record, say).
    #[error("{message}")]
    Input {
        message: String,
        hint: Option<String>,
    },
    /// A failure of Tracemark's own making, or of a component it drives (a bulk job's
    /// Python side, say).
    #[error("{message}")]
    Internal {
        message: String,
        hint: Option<String>,
    },
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

impl Error {
    pub fn usage(message: impl Into<String>, hint: impl Into<Option<String>>) -> Self {
        Error::Usage {
            message: message.into(),
            hint: hint.into(),
        }
    }

    pub fn input(message: impl Into<String>, hint: impl Into<Option<String>>) -> Self {
        Error::Input {
            message: message.into(),
            hint: hint.into(),
        }
    }

    pub fn internal(message: impl Into<String>, hint: impl Into<Option<String>>) -> Self {
        Error::Internal {
            message: message.into(),
            hint: hint.into(),
        }
    }

    fn inner(&self) -> Option<&dyn Diagnose> {
        Some(match self {
            Error::Config(e) => e,
            Error::KeyFile(e) => e,
            Error::Identity(e) => e,
            Error::NoteKey(e) => e,
            Error::Credential(e) => e,
            Error::Ledger(e) => e,
            Error::Receipt(e) => e,
            Error::Trace(e) => e,
            Error::Rights(e) => e,
            Error::Lm(e) => e,
            Error::Model(e) => e,
            Error::Watermark(e) => e,
            Error::Payload(e) => e,
            Error::Media(e) => e,
            Error::UnknownScheme(_)
            | Error::Usage { .. }
            | Error::Input { .. }
            | Error::Internal { .. }
            | Error::Io { .. } => return None,
        })
    }
}

impl Diagnose for Error {
    fn fault(&self) -> Fault {
        match self {
            Error::UnknownScheme(_) | Error::Usage { .. } => Fault::Usage,
            Error::Io { .. } | Error::Input { .. } => Fault::Input,
            Error::Internal { .. } => Fault::Internal,
            _ => self.inner().map_or(Fault::Internal, Diagnose::fault),
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::UnknownScheme(_) => Some("run `tracemark schemes` for the list".into()),
            Error::Usage { hint, .. }
            | Error::Input { hint, .. }
            | Error::Internal { hint, .. } => hint.clone(),
            _ => self.inner().and_then(Diagnose::hint),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
