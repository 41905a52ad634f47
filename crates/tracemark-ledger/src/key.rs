//! Signed-note keys on disk: `key.json` (the secret, 0600) and `key.pub` (the verifier
//! key that clients pin, one line in the standard signed-note form).
//!
//! Two kinds of keys sign notes: the log's checkpoint key ([`LogKey`], named by the log
//! origin) and the attribution service's key ([`ServiceKey`], which signs detection
//! results). They share one file layout and differ only in kind.

use std::{marker::PhantomData, path::Path};

use serde::{Deserialize, Serialize};
use tracemark_core::{
    KeyId, KeyKind, KeyStore, Timestamp,
    keyfile::{self, KeyDocument, KeyFileError, Replace, Secrecy},
};

use crate::note::{NoteError, NoteSigner};

/// Which kind of key a [`NoteKey`] is.
pub trait NoteKeyKind {
    const KIND: KeyKind;
}

/// Marker for the log's checkpoint key.
#[derive(Debug, Clone, Copy)]
pub enum Log {}

/// Marker for the attribution service's key.
#[derive(Debug, Clone, Copy)]
pub enum Service {}

impl NoteKeyKind for Log {
    const KIND: KeyKind = KeyKind::Log;
}

impl NoteKeyKind for Service {
    const KIND: KeyKind = KeyKind::Service;
}

/// A log key file (`tracemark.log-key/v1`); its name is the log origin.
pub type LogKey = NoteKey<Log>;

/// A service key file (`tracemark.service-key/v1`).
pub type ServiceKey = NoteKey<Service>;

/// A signed-note key file of kind `K`.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, bound = "")]
pub struct NoteKey<K: NoteKeyKind> {
    /// Derived from the Ed25519 public key.
    pub key_id: KeyId,
    /// The signed-note key name: the log's origin line, or the service's name.
    pub name: String,
    pub created: Timestamp,
    /// The signed-note signer key (`PRIVATE+KEY+...`).
    signer_key: String,
    #[serde(skip)]
    kind: PhantomData<K>,
}

impl<K: NoteKeyKind> std::fmt::Debug for NoteKey<K> {
    /// Shows only public fields.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NoteKey")
            .field("kind", &K::KIND)
            .field("key_id", &self.key_id)
            .field("name", &self.name)
            .finish()
    }
}

impl<K: NoteKeyKind> KeyDocument for NoteKey<K> {
    const KIND: KeyKind = K::KIND;
    const VERSION: u32 = 1;
    const SECRET: bool = true;
}

/// A signed-note key could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum NoteKeyError {
    #[error(transparent)]
    Note(#[from] NoteError),
    #[error(transparent)]
    KeyFile(#[from] KeyFileError),
}

impl tracemark_core::Diagnose for NoteKeyError {
    fn fault(&self) -> tracemark_core::Fault {
        match self {
            NoteKeyError::Note(e) => e.fault(),
            NoteKeyError::KeyFile(e) => e.fault(),
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            NoteKeyError::Note(_) => {
                Some("a key name looks like `log.example.com/tracemark`".into())
            }
            NoteKeyError::KeyFile(e) => e.hint(),
        }
    }
}

impl<K: NoteKeyKind> NoteKey<K> {
    pub const SECRET_FILE: &'static str = "key.json";
    pub const PUBLIC_FILE: &'static str = "key.pub";

    /// Makes a key named `name` in `dir`.
    pub fn create(dir: &Path, name: &str, replace: Replace) -> Result<Self, NoteKeyError> {
        let signer = NoteSigner::generate(name, &mut rand_core::OsRng)?;
        let key = NoteKey {
            key_id: KeyId::derive(K::KIND, signer.verifier().public_key().as_bytes()),
            name: name.to_owned(),
            created: Timestamp::now(),
            signer_key: signer.to_signer_key(),
            kind: PhantomData,
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

    /// Reads `key.json` from a key directory (or the file itself).
    pub fn load(path: &Path) -> Result<Self, NoteKeyError> {
        let file = if path.is_dir() {
            path.join(Self::SECRET_FILE)
        } else {
            path.to_owned()
        };
        let key: Self = keyfile::read_json(&file)?;
        let signer = key.signer()?;
        if signer.verifier().name() != key.name {
            return Err(KeyFileError::Malformed {
                path: file,
                reason: "the signer key's name is not the key's name".into(),
            }
            .into());
        }
        Ok(key)
    }

    pub fn signer(&self) -> Result<NoteSigner, NoteError> {
        NoteSigner::parse(&self.signer_key)
    }
}

impl LogKey {
    /// The salt of `url`'s collection records ([`crate::url_key`]): HMAC-SHA256 keyed by
    /// the log's secret, so that the operator recomputes it for any URL without keeping a
    /// table, and revealing one URL's salt reveals nothing of another's.
    pub fn collection_salt(&self, url: &str) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(self.signer_key.as_bytes())
            .expect("HMAC takes a key of any length");
        mac.update(b"tracemark.collection-salt/v1\n");
        mac.update(url.as_bytes());
        mac.finalize().into_bytes().into()
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

    #[test]
    fn a_service_key_is_not_a_log_key() {
        let dir = tempfile::tempdir().unwrap();
        ServiceKey::create(dir.path(), "attribution.example", Replace::No).unwrap();
        let err = LogKey::load(dir.path()).unwrap_err();
        assert!(err.to_string().contains("is a service key"), "{err}");
        assert_eq!(
            ServiceKey::load(dir.path()).unwrap().name,
            "attribution.example"
        );
    }
}
