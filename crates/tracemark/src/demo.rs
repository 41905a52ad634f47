//! `tracemark demo`: the README's main job, on embedded defaults, with no download and
//! no server.
//!
//! It sets up a self-contained work folder (a key store with a key of every kind and a
//! `tracemark.toml` that names them and an SQLite log beside them) and proves each part
//! usable by reading it back through the same loaders the other commands use. Running it
//! again reuses what is there. The use cases join it as their capabilities land.

use std::path::{Path, PathBuf};

use serde::Serialize;
use tracemark_core::{
    KeyId, KeyKind, KeyStore,
    keyfile::{self, Replace, Secrecy},
};
use tracemark_credentials::SigningAlgorithm;
use tracemark_watermark::SchemeId;

use crate::{
    config::{Config, LogLocation},
    error::{Error, Result},
    keygen::{self, Destination, KeySpec},
};

/// The key name the demo uses in its store.
const NAME: &str = "demo";

/// What the demo set up.
#[derive(Debug, Clone, Serialize)]
pub struct DemoSummary {
    pub out: PathBuf,
    pub config: PathBuf,
    pub key_store: PathBuf,
    pub log: PathBuf,
    pub keys: Vec<DemoKey>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DemoKey {
    pub kind: KeyKind,
    pub key_id: KeyId,
    pub path: PathBuf,
    /// Whether an earlier run made it.
    pub reused: bool,
}

fn specs() -> [KeySpec; 4] {
    [
        KeySpec::Watermark {
            scheme: SchemeId::KgwSelfHash,
            tokenizer: None,
        },
        KeySpec::Signing {
            algorithm: SigningAlgorithm::Ed25519,
            organization: "Tracemark demo provider".into(),
        },
        KeySpec::Log {
            origin: "demo.tracemark.invalid/log".into(),
        },
        KeySpec::Service {
            name: "demo.tracemark.invalid/service".into(),
        },
    ]
}

/// The demo's configuration; paths are relative to the work folder.
fn config_text(store: &KeyStore) -> Result<String> {
    let rel = |kind| -> Result<String> {
        let path = store.path_of(kind, NAME)?;
        Ok(path
            .strip_prefix(store.root().parent().unwrap_or(Path::new("")))
            .unwrap_or(&path)
            .display()
            .to_string())
    };
    Ok(format!(
        "# Written by `tracemark demo`. Paths are relative to this file.\n\
         [keys]\nstore = \"home\"\nwatermark = [\"{}\"]\nsigning = \"{}\"\nlog = \"{}\"\nservice = \"{}\"\n\n\
         [log]\nsqlite = \"ledger.db\"\n\n\
         [policy]\njurisdictions = [\"EU\", \"CN\", \"US-CA\"]\n",
        rel(KeyKind::Watermark)?,
        rel(KeyKind::Signing)?,
        rel(KeyKind::Log)?,
        rel(KeyKind::Service)?,
    ))
}

/// Sets up (or reuses) the demo work folder `out`.
pub fn run(out: &Path) -> Result<DemoSummary> {
    KeyStore::create_private_dir(out)?;
    let out = out.canonicalize().map_err(|source| Error::Io {
        action: "open",
        path: out.to_owned(),
        source,
    })?;
    let store = KeyStore::at(out.join("home"));

    let mut keys = Vec::new();
    for spec in specs() {
        let kind = spec.kind();
        let path = store.path_of(kind, NAME)?;
        let reused = path.exists();
        let key_id = if reused {
            keygen::check(kind, &path)?
        } else {
            let dest = Destination::Store {
                store: store.clone(),
                name: NAME.into(),
            };
            keygen::generate(&spec, &dest, Replace::No)?.key_id
        };
        keys.push(DemoKey {
            kind,
            key_id,
            path,
            reused,
        });
    }

    let config_path = out.join(crate::config::FILE_NAME);
    if !config_path.exists() {
        keyfile::write_file(
            &config_path,
            config_text(&store)?.as_bytes(),
            Secrecy::Public,
            Replace::No,
        )?;
    }
    // Read everything back the way every other command will.
    let config = Config::load(&config_path)?;
    for key in &keys {
        let configured = match key.kind {
            KeyKind::Watermark => config.keys.watermark.first(),
            KeyKind::Signing => config.keys.signing.as_ref(),
            KeyKind::Log => config.keys.log.as_ref(),
            KeyKind::Service => config.keys.service.as_ref(),
        };
        let path = configured.unwrap_or(&key.path);
        keygen::check(key.kind, path)?;
    }
    let log = match config.log.location() {
        LogLocation::Sqlite(path) => path.to_owned(),
        _ => out.join("ledger.db"),
    };
    Ok(DemoSummary {
        config: config_path,
        key_store: store.root().to_owned(),
        log,
        keys,
        out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_up_a_usable_work_folder_and_reuses_it() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("demo");
        let first = run(&out).unwrap();
        assert_eq!(first.keys.len(), 4);
        assert!(first.keys.iter().all(|k| !k.reused));
        let config = Config::load(&first.config).unwrap();
        assert_eq!(
            config.keys.store.as_deref(),
            Some(first.key_store.as_path())
        );

        let second = run(&out).unwrap();
        assert!(second.keys.iter().all(|k| k.reused));
        let ids = |s: &DemoSummary| s.keys.iter().map(|k| k.key_id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&first), ids(&second));
    }

    #[test]
    fn a_damaged_key_is_reported_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let summary = run(dir.path()).unwrap();
        let wm = &summary.keys[0].path;
        keyfile::write_file(wm, b"{", Secrecy::Secret, Replace::Yes).unwrap();
        let err = run(dir.path()).unwrap_err();
        assert!(
            err.to_string().contains("not a Tracemark key file"),
            "{err}"
        );
        assert_eq!(std::fs::read(wm).unwrap(), b"{");
    }
}
