//! `tracemark keygen`: one command for every kind of key, written into the key store or
//! wherever `--out` says.

use std::path::{Path, PathBuf};

use rand_core::{CryptoRng, RngCore};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tracemark_core::{
    KeyId, KeyKind, KeyStore,
    keyfile::{self, Replace},
};
use tracemark_credentials::{SigningAlgorithm, SigningIdentity};
use tracemark_ledger::{LogKey, ServiceKey};
use tracemark_watermark::{SchemeId, TokenizerBinding, WatermarkKey, transformers};

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
    /// A watermark key whose keys and parameters are imported from an HF transformers
    /// configuration rather than drawn fresh: a `SynthIDTextWatermarkingConfig` as JSON
    /// (see [`tracemark_watermark::transformers`] for the fields read, defaulted and
    /// ignored). `scheme` is the one asked for: anything but SynthID is refused.
    WatermarkFromTransformers {
        scheme: SchemeId,
        config: PathBuf,
        tokenizer: Option<TokenizerBinding>,
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
            KeySpec::Watermark { .. } | KeySpec::WatermarkFromTransformers { .. } => {
                KeyKind::Watermark
            }
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
    generate_with_rng(spec, destination, replace, &mut rand_core::OsRng)
}

/// [`generate`], with a watermark key's secret drawn from `rng` (a [`SeededKeyRng`] for
/// a reproducible run). Signing, log and service keys draw their own from the system.
pub fn generate_with_rng(
    spec: &KeySpec,
    destination: &Destination,
    replace: Replace,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<GeneratedKey> {
    let path = match destination {
        Destination::Path(path) => path.clone(),
        Destination::Store { store, name } => store.path_of(spec.kind(), name)?,
    };
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
            let mut key = WatermarkKey::generate_with_payload(*scheme, *payload_bits, rng);
            key.tokenizer = tokenizer.clone();
            write_watermark_key(&key, &path, replace)?;
            let details = serde_json::json!({
                "scheme": scheme,
                "tokenizer": tokenizer,
                "payload_bits": payload_bits,
            });
            generated(key.key_id, None, details)
        }
        KeySpec::WatermarkFromTransformers {
            scheme,
            config,
            tokenizer,
        } => {
            let (key, facts) = import_transformers(*scheme, config)?;
            let key = WatermarkKey {
                tokenizer: tokenizer.clone(),
                ..key
            };
            write_watermark_key(&key, &path, replace)?;
            let mut details = serde_json::json!({
                "scheme": scheme,
                "tokenizer": tokenizer,
                "payload_bits": 0,
                "imported_from": config,
            });
            if let (Some(details), serde_json::Value::Object(facts)) =
                (details.as_object_mut(), facts)
            {
                details.extend(facts);
            }
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

/// The randomness of a reproducible run's keys (`tracemark demo --seed`, `tracemark eval
/// watermark --seed`): SHA-256 in counter mode over a purpose and a seed. What it draws
/// is as secret as the seed, so not at all once the seed is told: keys for
/// demonstrations, measurements and tests, never for marking what is published.
#[derive(Clone)]
pub struct SeededKeyRng {
    state: [u8; 32],
    counter: u64,
    block: [u8; 32],
    used: usize,
}

impl SeededKeyRng {
    /// The generator for `purpose` (a label that keeps one use's draws apart from
    /// another's) and `seed`.
    pub fn new(purpose: &str, seed: u64) -> Self {
        let mut h = Sha256::new();
        h.update(b"tracemark.seeded-key-rng/v1\0");
        h.update((purpose.len() as u64).to_be_bytes());
        h.update(purpose.as_bytes());
        h.update(seed.to_be_bytes());
        Self {
            state: h.finalize().into(),
            counter: 0,
            block: [0; 32],
            used: 32,
        }
    }
}

impl std::fmt::Debug for SeededKeyRng {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Its state is the keys it will make.
        f.debug_struct("SeededKeyRng").finish_non_exhaustive()
    }
}

impl RngCore for SeededKeyRng {
    fn next_u32(&mut self) -> u32 {
        let mut bytes = [0; 4];
        self.fill_bytes(&mut bytes);
        u32::from_le_bytes(bytes)
    }

    fn next_u64(&mut self) -> u64 {
        let mut bytes = [0; 8];
        self.fill_bytes(&mut bytes);
        u64::from_le_bytes(bytes)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for byte in dest {
            if self.used == self.block.len() {
                let mut h = Sha256::new();
                h.update(self.state);
                h.update(self.counter.to_be_bytes());
                self.block = h.finalize().into();
                self.counter += 1;
                self.used = 0;
            }
            *byte = self.block[self.used];
            self.used += 1;
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> std::result::Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

/// SHA-256 of a secret state and a counter: as unpredictable as the seed behind it.
impl CryptoRng for SeededKeyRng {}

/// Writes a watermark key file, creating its folder (private) if need be, after proving
/// that the detector accepts the key for the tokenizer it is bound to.
fn write_watermark_key(key: &WatermarkKey, path: &Path, replace: Replace) -> Result<()> {
    // Refuse a width the detector would refuse, before anything is written.
    if let Some(binding) = &key.tokenizer {
        tracemark_watermark::watermarker::Watermarker::new(key, binding.vocab_size as usize)?;
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && !parent.exists()
    {
        KeyStore::create_private_dir(parent)?;
    }
    keyfile::write_json(path, key, replace)?;
    Ok(())
}

/// The largest transformers configuration read: a `generation_config.json` is a few
/// kilobytes, a bare watermarking configuration a few hundred bytes.
const MAX_TRANSFORMERS_CONFIG: u64 = 1 << 20;

/// Reads a transformers watermarking configuration into a SynthID key; returns it with
/// its public facts (never the keys or the table seed, which are the secret), among them
/// the accepted but ignored fields that the file sets to true.
fn import_transformers(
    scheme: SchemeId,
    config: &Path,
) -> Result<(WatermarkKey, serde_json::Value)> {
    if scheme != SchemeId::SynthId {
        return Err(crate::Error::usage(
            format!(
                "--from-transformers imports a SynthID configuration, so it makes \
                 synthid-v1 keys, not {scheme}"
            ),
            Some(format!(
                "pass --scheme {} (or leave --scheme out)",
                SchemeId::SynthId
            )),
        ));
    }
    let io = |source| crate::Error::Io {
        action: "read the transformers configuration",
        path: config.to_owned(),
        source,
    };
    let file = std::fs::File::open(config).map_err(io)?;
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(file, MAX_TRANSFORMERS_CONFIG + 1),
        &mut bytes,
    )
    .map_err(io)?;
    if bytes.len() as u64 > MAX_TRANSFORMERS_CONFIG {
        return Err(crate::Error::input(
            format!(
                "{} is over {} KiB: not a transformers watermarking configuration",
                config.display(),
                MAX_TRANSFORMERS_CONFIG >> 10
            ),
            Some("give the JSON of a SynthIDTextWatermarkingConfig (a few hundred bytes)".into()),
        ));
    }
    // One message that names the file, the problem, and (as the hint) the fix.
    let in_file = |e: tracemark_watermark::WatermarkError| {
        crate::Error::input(
            format!("{}: {e}", config.display()),
            tracemark_core::Diagnose::hint(&e),
        )
    };
    let import = transformers::synthid_from_json(&bytes).map_err(in_file)?;
    let params = &import.params;
    // Only a field set to true changes what transformers does (and then not detection).
    let ignored: Vec<&str> = import
        .ignored
        .iter()
        .filter(|(_, set)| *set)
        .map(|(field, _)| field.as_str())
        .collect();
    let facts = serde_json::json!({
        "depth": params.keys.expose().len(),
        "ngram_len": params.ngram_len,
        "sampling_table_size": params.sampling_table_size,
        "context_history_size": params.context_history_size,
        "ignored": ignored,
    });
    let key = WatermarkKey::synthid(import.params).map_err(in_file)?;
    Ok((key, facts))
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
    fn a_seeded_key_is_the_same_for_a_seed_and_differs_across_seeds_and_purposes() {
        let key = |purpose: &str, seed| {
            let mut rng = SeededKeyRng::new(purpose, seed);
            WatermarkKey::generate_with_payload(SchemeId::KgwSelfHash, 16, &mut rng).key_id
        };
        assert_eq!(key("demo", 1), key("demo", 1));
        assert_ne!(key("demo", 1), key("demo", 2));
        assert_ne!(key("demo", 1), key("eval", 1));
        // Draws do not depend on how they are cut into calls.
        let (mut a, mut b) = (SeededKeyRng::new("x", 3), SeededKeyRng::new("x", 3));
        let mut whole = [0u8; 80];
        a.fill_bytes(&mut whole);
        let mut parts = [0u8; 80];
        let (first, rest) = parts.split_at_mut(5);
        b.fill_bytes(first);
        rest[..8].copy_from_slice(&b.next_u64().to_le_bytes());
        b.fill_bytes(&mut rest[8..]);
        assert_eq!(whole, parts);
        assert!(!format!("{a:?}").contains(&format!("{:?}", a.state)));
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

    /// The reference vectors' first configuration (made by transformers itself).
    fn reference_input() -> serde_json::Value {
        let doc: serde_json::Value = serde_json::from_str(include_str!(
            "../../tracemark-watermark/tests/data/synthid-reference-vectors.json"
        ))
        .unwrap();
        doc["cases"][0]["input"].clone()
    }

    /// `reference_input` as transformers' `to_json_file` writes it.
    fn transformers_config(input: &serde_json::Value) -> serde_json::Value {
        serde_json::json!({
            "context_history_size": input["context_history_size"],
            "debug_mode": false,
            "keys": input["keys"],
            "ngram_len": input["ngram_len"],
            "sampling_table_seed": input["sampling_table_seed"],
            "sampling_table_size": input["sampling_table_size"],
            "skip_first_ngram_calls": true,
        })
    }

    fn import_spec(scheme: SchemeId, config: &Path, vocab_size: u32) -> KeySpec {
        KeySpec::WatermarkFromTransformers {
            scheme,
            config: config.to_owned(),
            tokenizer: Some(TokenizerBinding {
                hash: tracemark_core::ContentHash::of_bytes(b"tokenizer"),
                vocab_size,
            }),
        }
    }

    #[test]
    fn a_transformers_synthid_config_imports_into_the_reference_key() {
        let dir = tempfile::tempdir().unwrap();
        let input = reference_input();
        let config = dir.path().join("synthid.json");
        std::fs::write(&config, transformers_config(&input).to_string()).unwrap();
        let out = dir.path().join("keys/imported.json");
        let spec = import_spec(SchemeId::SynthId, &config, 512);
        let made = generate(&spec, &Destination::Path(out.clone()), Replace::No).unwrap();
        assert_eq!(made.kind, KeyKind::Watermark);
        assert_eq!(made.details["ngram_len"], 5);
        assert_eq!(made.details["depth"], 30);
        assert_eq!(
            made.details["ignored"],
            serde_json::json!(["skip_first_ngram_calls"])
        );
        let shown = made.details.to_string();
        assert!(!shown.contains(&input["keys"][0].to_string()), "{shown}");

        let key: WatermarkKey = keyfile::read_json(&out).unwrap();
        assert_eq!(key.key_id, made.key_id);
        assert_eq!(key.tokenizer.as_ref().unwrap().vocab_size, 512);
        let keys = input["keys"].as_array().unwrap();
        let want = tracemark_watermark::SynthIdParams {
            keys: tracemark_watermark::Secret::new(
                keys.iter().map(|k| k.as_u64().unwrap()).collect(),
            ),
            ngram_len: 5,
            sampling_table_size: 65536,
            sampling_table_seed: 0,
            context_history_size: 1024,
        };
        assert_eq!(key.config, tracemark_watermark::SchemeConfig::SynthId(want));
        // One configuration, one key id; and into the store like any other key.
        let store = KeyStore::at(dir.path().join("store"));
        let dest = Destination::Store {
            store: store.clone(),
            name: "from-transformers".into(),
        };
        let again = generate(&spec, &dest, Replace::No).unwrap();
        assert_eq!(again.key_id, made.key_id);
        assert_eq!(check(KeyKind::Watermark, &again.path).unwrap(), made.key_id);
    }

    #[test]
    fn bad_transformers_imports_are_one_clear_error_and_write_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let good = transformers_config(&reference_input());
        let with = |field: &str, value: serde_json::Value| {
            let mut v = good.clone();
            v[field] = value;
            v.to_string()
        };
        let mut without_keys = good.clone();
        without_keys.as_object_mut().unwrap().remove("keys");
        let cases: Vec<(String, &str)> = vec![
            ("{\"keys\": [1, 2".into(), "is not JSON"),
            ("".into(), "is not JSON"),
            (without_keys.to_string(), "`keys` is missing"),
            (with("keys", serde_json::json!([])), "`keys` is empty"),
            (
                with("keys", serde_json::json!("1,2")),
                "`keys` must be a list",
            ),
            (
                with("ngram_len", serde_json::json!("5")),
                "`ngram_len` must be an integer",
            ),
            (
                with("ngram_len", serde_json::json!(1)),
                "`ngram_len` = 1 is out of range",
            ),
            (
                with("ngram_len", serde_json::json!(4096)),
                "`ngram_len` = 4096 is out of range",
            ),
            (
                with("context_history_size", serde_json::json!(0)),
                "`context_history_size` = 0",
            ),
            ("x".repeat(2 << 20), "over 1024 KiB"),
        ];
        let out = dir.path().join("new/key.json");
        for (i, (text, want)) in cases.iter().enumerate() {
            let config = dir.path().join(format!("config-{i}.json"));
            std::fs::write(&config, text).unwrap();
            let spec = import_spec(SchemeId::SynthId, &config, 512);
            let err = generate(&spec, &Destination::Path(out.clone()), Replace::No).unwrap_err();
            assert_eq!(err.fault(), tracemark_core::Fault::Input, "{err}");
            let message = err.to_string();
            assert!(message.contains(want), "{message:?} lacks {want:?}");
            assert!(err.hint().is_some(), "{message}");
            if i < cases.len() - 1 {
                assert!(message.contains(&config.display().to_string()), "{message}");
            }
        }
        let missing = dir.path().join("nowhere.json");
        let err = generate(
            &import_spec(SchemeId::SynthId, &missing, 512),
            &Destination::Path(out.clone()),
            Replace::No,
        )
        .unwrap_err();
        assert_eq!(err.fault(), tracemark_core::Fault::Input, "{err}");
        assert!(err.to_string().contains("nowhere.json"), "{err}");

        // Another scheme is refused before the file is even read.
        let err = generate(
            &import_spec(SchemeId::KgwSelfHash, &missing, 512),
            &Destination::Path(out.clone()),
            Replace::No,
        )
        .unwrap_err();
        assert_eq!(err.fault(), tracemark_core::Fault::Usage, "{err}");
        assert!(err.to_string().contains("synthid-v1"), "{err}");

        // A tokenizer the detector would refuse (no vocabulary) refuses the key.
        let config = dir.path().join("good.json");
        std::fs::write(&config, good.to_string()).unwrap();
        let err = generate(
            &import_spec(SchemeId::SynthId, &config, 0),
            &Destination::Path(out.clone()),
            Replace::No,
        )
        .unwrap_err();
        assert!(err.to_string().contains("vocabulary size"), "{err}");
        assert!(!out.parent().unwrap().exists(), "nothing may be written");
    }
}
