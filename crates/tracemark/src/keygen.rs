//! `tracemark keygen`: one command for every kind of key, written into the key store or
//! wherever `--out` says.

use std::path::{Path, PathBuf};

use serde::Serialize;
use tracemark_core::{
    KeyId, KeyKind, KeyStore,
    keyfile::{self, Replace},
};
use tracemark_credentials::{SigningAlgorithm, SigningIdentity};
use tracemark_ledger::{LogKey, ServiceKey};
use tracemark_watermark::{SchemeId, TokenizerBinding, WatermarkKey};

use crate::error::Result;

/// What to generate.
#[derive(Debug, Clone)]
pub enum KeySpec {
    /// `tokenizer` binds the key to the tokenizer it will be used with; `payload_bits`
    /// is the width of the payload its generations carry (0: none; SynthID carries none).
    Watermark {
        scheme: SchemeId,
        tokenizer: Option<TokenizerBinding>,
        payload_bits: u8,
    },
    Signing {
        algorithm: SigningAlgorithm,
        organization: String,
    },
    /// `origin` is the log's origin line, which names its checkpoints.
    Log { origin: String },
    /// `name` is the service's signed-note key name.
    Service { name: String },
}

impl KeySpec {
    pub fn kind(&self) -> KeyKind {
        match self {
            KeySpec::Watermark { .. } => KeyKind::Watermark,
            KeySpec::Signing { .. } => KeyKind::Signing,
            KeySpec::Log { .. } => KeyKind::Log,
            KeySpec::Service { .. } => KeyKind::Service,
        }
    }
}

/// Where a key goes: an explicit path, or a name in the key store.
#[derive(Debug, Clone)]
pub enum Destination {
    Path(PathBuf),
    Store { store: KeyStore, name: String },
}

/// A key that was written. Holds only public facts: never the secret.
#[derive(Debug, Clone, Serialize)]
pub struct GeneratedKey {
    pub kind: KeyKind,
    pub key_id: KeyId,
    /// The key file, or the directory of a multi-file key.
    pub path: PathBuf,
    /// The file to hand to others (a verifier key, a trust anchor), if the kind has one.
    pub public: Option<PathBuf>,
    /// Kind-specific public facts (scheme, algorithm, origin, ...).
    pub details: serde_json::Value,
}

/// Generates a key of `spec` and writes it to `destination`.
pub fn generate(
    spec: &KeySpec,
    destination: &Destination,
    replace: Replace,
) -> Result<GeneratedKey> {
    let path = match destination {
        Destination::Path(path) => path.clone(),
        Destination::Store { store, name } => store.path_of(spec.kind(), name)?,
    };
    if !spec.kind().is_directory()
        && let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && !parent.exists()
    {
        KeyStore::create_private_dir(parent)?;
    }
    let kind = spec.kind();
    let generated = |key_id, public: Option<&str>, details| GeneratedKey {
        kind,
        key_id,
        public: public.map(|f| path.join(f)),
        path: path.clone(),
        details,
    };
    Ok(match spec {
        KeySpec::Watermark {
            scheme,
            tokenizer,
            payload_bits,
        } => {
            if *payload_bits > 0 && *scheme == SchemeId::SynthId {
                return Err(crate::Error::usage(
                    "SynthID keys carry no payload",
                    Some("use kgw-selfhash-v1 or gumbel-v1 for a payload".into()),
                ));
            }
            let mut key =
                WatermarkKey::generate_with_payload(*scheme, *payload_bits, &mut rand_core::OsRng);
            key.tokenizer = tokenizer.clone();
            // Refuse a width the detector would refuse, before anything is written.
            if let Some(binding) = tokenizer {
                tracemark_watermark::watermarker::Watermarker::new(
                    &key,
                    binding.vocab_size as usize,
                )?;
            }
            keyfile::write_json(&path, &key, replace)?;
            let details = serde_json::json!({
                "scheme": scheme,
                "tokenizer": tokenizer,
                "payload_bits": payload_bits,
            });
            generated(key.key_id, None, details)
        }
        KeySpec::Signing {
            algorithm,
            organization,
        } => {
            let id = SigningIdentity::create_development(&path, *algorithm, organization, replace)?;
            let details = serde_json::json!({
                "algorithm": id.algorithm,
                "development": id.development,
                "subject": id.subject,
                "not_after": id.not_after,
                "key": path.join(&id.files.key),
                "chain": path.join(&id.files.chain),
            });
            generated(id.key_id, Some(&id.files.trust_anchor), details)
        }
        KeySpec::Log { origin } => {
            let key = LogKey::create(&path, origin, replace)?;
            generated(
                key.key_id,
                Some(LogKey::PUBLIC_FILE),
                serde_json::json!({ "origin": key.name }),
            )
        }
        KeySpec::Service { name } => {
            let key = ServiceKey::create(&path, name, replace)?;
            generated(
                key.key_id,
                Some(ServiceKey::PUBLIC_FILE),
                serde_json::json!({ "name": key.name }),
            )
        }
    })
}

/// Reads back a key of `kind` at `path`, proving it is complete and usable; returns its id.
pub fn check(kind: KeyKind, path: &Path) -> Result<KeyId> {
    Ok(match kind {
        KeyKind::Watermark => keyfile::read_json::<WatermarkKey>(path)?.key_id,
        KeyKind::Signing => {
            let id = SigningIdentity::load(path)?;
            keyfile::read_file(&path.join(&id.files.key), keyfile::Secrecy::Secret)?;
            id.key_id
        }
        KeyKind::Log => LogKey::load(path)?.key_id,
        KeyKind::Service => ServiceKey::load(path)?.key_id,
    })
}

/// Reads every key a configuration names; returns `(kind, path, key id)` for each.
pub fn check_configured(config: &crate::Config) -> Result<Vec<(KeyKind, PathBuf, KeyId)>> {
    let keys = &config.keys;
    let named = keys
        .watermark
        .iter()
        .map(|p| (KeyKind::Watermark, p))
        .chain(keys.signing.iter().map(|p| (KeyKind::Signing, p)))
        .chain(keys.log.iter().map(|p| (KeyKind::Log, p)))
        .chain(keys.service.iter().map(|p| (KeyKind::Service, p)));
    named
        .map(|(kind, path)| Ok((kind, path.clone(), check(kind, path)?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracemark_core::Diagnose;

    fn specs() -> Vec<KeySpec> {
        vec![
            KeySpec::Watermark {
                scheme: SchemeId::KgwSelfHash,
                tokenizer: None,
                payload_bits: 16,
            },
            KeySpec::Signing {
                algorithm: SigningAlgorithm::Es256,
                organization: "Example AI".into(),
            },
            KeySpec::Log {
                origin: "log.example/tracemark".into(),
            },
            KeySpec::Service {
                name: "attribution.example".into(),
            },
        ]
    }

    #[test]
    fn every_kind_goes_into_the_store_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = KeyStore::at(dir.path());
        for spec in specs() {
            let dest = Destination::Store {
                store: store.clone(),
                name: "default".into(),
            };
            let key = generate(&spec, &dest, Replace::No).unwrap();
            assert_eq!(check(spec.kind(), &key.path).unwrap(), key.key_id);
            if let Some(public) = &key.public {
                assert!(public.is_file(), "{}", public.display());
            }
            let again = generate(&spec, &dest, Replace::No).unwrap_err();
            assert_eq!(again.fault(), tracemark_core::Fault::Usage, "{again}");
        }
        assert_eq!(store.list().unwrap().len(), 4);
    }

    #[test]
    fn a_key_of_one_kind_is_refused_as_another() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wm.json");
        generate(&specs()[0], &Destination::Path(path.clone()), Replace::No).unwrap();
        let log_dir = dir.path().join("log");
        generate(
            &specs()[2],
            &Destination::Path(log_dir.clone()),
            Replace::No,
        )
        .unwrap();
        let err = check(KeyKind::Service, &log_dir).unwrap_err();
        assert!(err.to_string().contains("is a log key"), "{err}");
        assert!(check(KeyKind::Signing, &path).is_err());
    }
}
