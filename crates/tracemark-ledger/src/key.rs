//! The log's checkpoint key on disk: `key.json` (the secret, 0600) and `key.pub` (the
//! verifier key that clients pin, one line in the standard signed-note form).

use std::path::Path;

use serde::{Deserialize, Serialize};
use tracemark_core::{
    KeyId, KeyKind, KeyStore, Timestamp,
    keyfile::{self, KeyDocument, KeyFileError, Replace, Secrecy},
};

use crate::note::{NoteError, NoteSigner};

/// A log key file (`tracemark.log-key/v1`).
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogKey {
    /// Derived from the Ed25519 public key.
    pub key_id: KeyId,
    /// The log's origin line, which is also the signed-note key name.
    pub origin: String,
    pub created: Timestamp,
    /// The signed-note signer key (`PRIVATE+KEY+...`).
    signer_key: String,
}

impl std::fmt::Debug for LogKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogKey")
            .field("key_id", &self.key_id)
            .field("origin", &self.origin)
            .finish()
    }
}

impl KeyDocument for LogKey {
    const KIND: KeyKind = KeyKind::Log;
    const VERSION: u32 = 1;
    const SECRET: bool = true;
}

/// A log key could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum LogKeyError {
    #[error(transparent)]
    Note(#[from] NoteError),
    #[error(transparent)]
    KeyFile(#[from] KeyFileError),
}

impl tracemark_core::Diagnose for LogKeyError {
    fn fault(&self) -> tracemark_core::Fault {
        match self {
            LogKeyError::Note(e) => e.fault(),
            LogKeyError::KeyFile(e) => e.fault(),
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            LogKeyError::Note(_) => {
                Some("a log origin looks like `log.example.com/tracemark`".into())
            }
            LogKeyError::KeyFile(e) => e.hint(),
        }
    }
}

impl LogKey {
    pub const SECRET_FILE: &'static str = "key.json";
    pub const PUBLIC_FILE: &'static str = "key.pub";

    /// Makes a key for the log `origin` in `dir`.
    pub fn create(dir: &Path, origin: &str, replace: Replace) -> Result<Self, LogKeyError> {
        let signer = NoteSigner::generate(origin, &mut rand_core::OsRng)?;
        let key = LogKey {
            key_id: KeyId::derive(KeyKind::Log, signer.verifier().public_key().as_bytes()),
            origin: origin.to_owned(),
            created: Timestamp::now(),
            signer_key: signer.to_signer_key(),
        };
        let secret = dir.join(Self::SECRET_FILE);
        if replace == Replace::No && secret.exists() {
            return Err(KeyFileError::Exists { path: secret }.into());
        }
        KeyStore::create_private_dir(dir)?;
        keyfile::write_json(&secret, &key, replace)?;
        let vkey = format!("{}\n", signer.verifier());
        keyfile::write_file(
            &dir.join(Self::PUBLIC_FILE),
            vkey.as_bytes(),
            Secrecy::Public,
            replace,
        )?;
        Ok(key)
    }

    /// Reads `key.json` from a log key directory (or the file itself).
    pub fn load(path: &Path) -> Result<Self, LogKeyError> {
        let file = if path.is_dir() {
            path.join(Self::SECRET_FILE)
        } else {
            path.to_owned()
        };
        let key: LogKey = keyfile::read_json(&file)?;
        let signer = key.signer()?;
        if signer.verifier().name() != key.origin {
            return Err(KeyFileError::Malformed {
                path: file,
                reason: "the signer key's name is not the log origin".into(),
            }
            .into());
        }
        Ok(key)
    }

    pub fn signer(&self) -> Result<NoteSigner, NoteError> {
        NoteSigner::parse(&self.signer_key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NoteVerifier;

    #[test]
    fn writes_a_private_signer_and_a_public_verifier() {
        let dir = tempfile::tempdir().unwrap();
        let key = LogKey::create(dir.path(), "log.example/tracemark", Replace::No).unwrap();
        let loaded = LogKey::load(dir.path()).unwrap();
        assert_eq!(loaded.key_id, key.key_id);
        let vkey = std::fs::read_to_string(dir.path().join(LogKey::PUBLIC_FILE)).unwrap();
        let verifier = NoteVerifier::parse(&vkey).unwrap();
        assert_eq!(&verifier, loaded.signer().unwrap().verifier());
        assert!(!vkey.contains("PRIVATE"));
        assert!(LogKey::create(dir.path(), "log.example/tracemark", Replace::No).is_err());
    }
}
