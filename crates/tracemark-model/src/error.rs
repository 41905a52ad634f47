//! The crate's error: what went wrong, whose fault it is, and how to fix it.

use std::path::PathBuf;

use tracemark_core::{Diagnose, Fault, keyfile::KeyFileError};

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error(transparent)]
    KeyFile(#[from] KeyFileError),
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// The model path is neither a regular file nor a directory.
    #[error("{path} is not a model: neither a regular file nor a directory")]
    NotAModel { path: PathBuf },
    #[error("the model {path} has no file to sign after the exclusions ({excluded})")]
    EmptyModel { path: PathBuf, excluded: String },
    #[error("`{name}` in the model is a symbolic link; OMS signatures do not cover links")]
    Symlink { name: String },
    #[error("a file name in the model is not UTF-8: {path}")]
    NonUtf8Name { path: PathBuf },
    #[error("`{name}` in the model is not a regular file or directory (a device, socket or pipe)")]
    SpecialFile { name: String },
    #[error("the model changed while it was hashed: {detail}")]
    Changed { detail: String },
    #[error("ignore path `{path}`: {why}")]
    BadIgnorePath { path: String, why: &'static str },
    #[error("key {path}: {why}")]
    Key { path: String, why: String },
    #[error("certificate {source_name}: {why}")]
    Certificate { source_name: String, why: String },
    /// The signature file cannot be read as an OMS bundle at all.
    #[error("{path}: not an OMS bundle: {why}")]
    Bundle { path: String, why: String },
    #[error("hash type `{0}` is not supported (sha256{also})", also = if cfg!(feature = "blake3") { ", blake3" } else { "" })]
    HashType(String),
    #[error("{0}")]
    Usage(String),
}

impl ModelError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        ModelError::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn bundle(path: &str, why: impl Into<String>) -> Self {
        ModelError::Bundle {
            path: path.to_owned(),
            why: why.into(),
        }
    }

    /// Whether the error says something about the model directory's content (a link, a
    /// name, a change), which a verifier reports as a failed check rather than an error.
    pub fn is_content(&self) -> bool {
        matches!(
            self,
            ModelError::Symlink { .. }
                | ModelError::NonUtf8Name { .. }
                | ModelError::SpecialFile { .. }
                | ModelError::Changed { .. }
                | ModelError::EmptyModel { .. }
        )
    }
}

impl Diagnose for ModelError {
    fn fault(&self) -> Fault {
        match self {
            ModelError::KeyFile(e) => e.fault(),
            ModelError::Usage(_) | ModelError::BadIgnorePath { .. } => Fault::Usage,
            ModelError::Io { .. }
            | ModelError::NotAModel { .. }
            | ModelError::EmptyModel { .. }
            | ModelError::Symlink { .. }
            | ModelError::NonUtf8Name { .. }
            | ModelError::SpecialFile { .. }
            | ModelError::Changed { .. }
            | ModelError::Key { .. }
            | ModelError::Certificate { .. }
            | ModelError::Bundle { .. }
            | ModelError::HashType(_) => Fault::Input,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            ModelError::KeyFile(e) => e.hint(),
            ModelError::EmptyModel { .. } => {
                Some("point at the model's directory (or file); the signature file and .git are never signed".into())
            }
            ModelError::Symlink { .. } => Some(
                "replace the link by the file it points at (cp -L), or remove it".into(),
            ),
            ModelError::NonUtf8Name { .. } => {
                Some("rename the file: OMS manifests carry names as UTF-8 JSON".into())
            }
            ModelError::Changed { .. } => Some(
                "the model must not be written to while it is signed or verified: wait for the writer, then run again".into(),
            ),
            ModelError::BadIgnorePath { .. } => Some(
                "give paths relative to the model directory, without globs (*, ?, [) or `..`".into(),
            ),
            ModelError::Key { .. } => Some(
                "OMS keys are ECDSA P-256, P-384 or P-521 in PEM (openssl ecparam -name prime256v1 -genkey -noout -out key.pem; openssl ec -in key.pem -pubout -out key.pub)".into(),
            ),
            ModelError::Bundle { .. } => Some(
                "give the model's model.sig, a Sigstore bundle (v0.3 JSON) written by tracemark model sign or model_signing".into(),
            ),
            _ => None,
        }
    }
}

pub type Result<T, E = ModelError> = std::result::Result<T, E>;
