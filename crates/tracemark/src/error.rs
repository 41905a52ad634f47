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
    UnknownScheme(#[from] tracemark_watermark::scheme::UnknownScheme),
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

impl Error {
    fn inner(&self) -> Option<&dyn Diagnose> {
        Some(match self {
            Error::Config(e) => e,
            Error::KeyFile(e) => e,
            Error::Identity(e) => e,
            Error::NoteKey(e) => e,
            Error::UnknownScheme(_) | Error::Io { .. } => return None,
        })
    }
}

impl Diagnose for Error {
    fn fault(&self) -> Fault {
        match self {
            Error::UnknownScheme(_) => Fault::Usage,
            Error::Io { .. } => Fault::Input,
            _ => self.inner().map_or(Fault::Internal, Diagnose::fault),
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::UnknownScheme(_) => Some("run `tracemark schemes` for the list".into()),
            _ => self.inner().and_then(Diagnose::hint),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
