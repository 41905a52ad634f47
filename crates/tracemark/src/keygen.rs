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
use tracemark_media::{MediaKey, MediaScheme};
use tracemark_watermark::{
    SchemeId, TokenizerBinding, WatermarkError, WatermarkKey,
    deployed::{
        SglangConfig, VllmConfig,
        vllm::{Algorithm, Mapping},
    },
    transformers,
};

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
    /// A watermark key for the mark vLLM makes natively, from the JSON given to vLLM's
    /// `--watermark-config` (read by [`VllmConfig::from_json`]; `gumbel` or
    /// `dual_key_gumbel`). `scheme`, when asked for, must be the one the configuration's
    /// `algorithm` makes (`None`: that one). `mapping` is the Philox token mapping of the
    /// vLLM build, which vLLM's version string does not tell (v1b for current builds).
    WatermarkFromVllm {
        scheme: Option<SchemeId>,
        config: PathBuf,
        mapping: Mapping,
        tokenizer: Option<TokenizerBinding>,
    },
    /// A watermark key for SGLang's native mark, from the JSON of SGLang's
    /// `--watermark-config` (read by [`SglangConfig::from_json`]); `scheme`, when asked
    /// for, must be `sglang-gumbel-v1`.
    WatermarkFromSglang {
        scheme: Option<SchemeId>,
        config: PathBuf,
        tokenizer: Option<TokenizerBinding>,
    },
    /// An image or audio watermark key (`tracemark-image-dct-v1`,
    /// `tracemark-audio-stft-v1`): the text keys' file format, a media scheme id, a
    /// 64-bit payload.
    MediaWatermark { scheme: MediaScheme },
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
            KeySpec::Watermark { .. }
            | KeySpec::WatermarkFromTransformers { .. }
            | KeySpec::WatermarkFromVllm { .. }
            | KeySpec::WatermarkFromSglang { .. }
            | KeySpec::MediaWatermark { .. } => KeyKind::Watermark,
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
            if *payload_bits > 0 && (*scheme == SchemeId::SynthId || scheme.is_deployed()) {
                let what = match scheme {
                    SchemeId::SynthId => "SynthID".to_owned(),
                    // The stack's own watermark has no payload to carry one in.
                    other => other.to_string(),
                };
                return Err(crate::Error::usage(
                    format!("{what} keys carry no payload"),
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
            let (key_id, details) = write_imported(key, tokenizer, config, facts, &path, replace)?;
            generated(key_id, None, details)
        }
        KeySpec::WatermarkFromVllm {
            scheme,
            config,
            mapping,
            tokenizer,
        } => {
            let (key, facts) = import_vllm(*scheme, config, *mapping)?;
            let (key_id, details) = write_imported(key, tokenizer, config, facts, &path, replace)?;
            generated(key_id, None, details)
        }
        KeySpec::WatermarkFromSglang {
            scheme,
            config,
            tokenizer,
        } => {
            let (key, facts) = import_sglang(*scheme, config)?;
            let (key_id, details) = write_imported(key, tokenizer, config, facts, &path, replace)?;
            generated(key_id, None, details)
        }
        KeySpec::MediaWatermark { scheme } => {
            let key = MediaKey::generate(*scheme, rng);
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
                && !parent.exists()
            {
                KeyStore::create_private_dir(parent)?;
            }
            keyfile::write_json(&path, &key, replace)?;
            let details = serde_json::json!({
                "scheme": scheme.as_str(),
                "payload_bits": tracemark_media::key::PAYLOAD_BITS,
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

/// Writes a key imported from `config`, bound to `tokenizer`; returns its id and its
/// public facts (the scheme, the tokenizer, where it came from, and `facts`).
fn write_imported(
    key: WatermarkKey,
    tokenizer: &Option<TokenizerBinding>,
    config: &Path,
    facts: serde_json::Value,
    path: &Path,
    replace: Replace,
) -> Result<(KeyId, serde_json::Value)> {
    let key = WatermarkKey {
        tokenizer: tokenizer.clone(),
        ..key
    };
    write_watermark_key(&key, path, replace)?;
    let mut details = serde_json::json!({
        "scheme": key.scheme(),
        "tokenizer": tokenizer,
        "payload_bits": 0,
        "imported_from": config,
    });
    if let (Some(details), serde_json::Value::Object(facts)) = (details.as_object_mut(), facts) {
        details.extend(facts);
    }
    Ok((key.key_id, details))
}

/// The largest configuration read: a `generation_config.json` is a few kilobytes, a bare
/// watermarking configuration (transformers', vLLM's, SGLang's) a few hundred bytes.
const MAX_CONFIG: u64 = 1 << 20;

/// Reads a configuration file of at most [`MAX_CONFIG`] bytes; `what` names what it
/// should be, `hint` how to give one, when it is larger.
fn read_config(config: &Path, action: &'static str, what: &str, hint: &str) -> Result<Vec<u8>> {
    let io = |source| crate::Error::Io {
        action,
        path: config.to_owned(),
        source,
    };
    let file = std::fs::File::open(config).map_err(io)?;
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(file, MAX_CONFIG + 1), &mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_CONFIG {
        return Err(crate::Error::input(
            format!(
                "{} is over {} KiB: not {what}",
                config.display(),
                MAX_CONFIG >> 10
            ),
            Some(hint.to_owned()),
        ));
    }
    Ok(bytes)
}

/// One message that names the file and the problem, and (as the hint) the fix.
fn in_file(config: &Path) -> impl Fn(WatermarkError) -> crate::Error + '_ {
    move |e| {
        crate::Error::input(
            format!("{}: {e}", config.display()),
            tracemark_core::Diagnose::hint(&e),
        )
    }
}

/// Refuses a scheme asked for that is not the one the configuration makes.
fn check_made_scheme(
    asked: Option<SchemeId>,
    made: SchemeId,
    flag: &str,
    config: &Path,
) -> Result<()> {
    match asked {
        Some(asked) if asked != made => Err(crate::Error::usage(
            format!("{} configures {made}, not {asked}", config.display()),
            Some(format!(
                "pass --scheme {made} with {flag}, or leave --scheme out"
            )),
        )),
        _ => Ok(()),
    }
}

/// Refuses, before reading anything, a scheme that `flag` cannot make.
fn refuse_other_scheme(asked: Option<SchemeId>, can: &[SchemeId], flag: &str) -> Result<()> {
    match asked {
        Some(asked) if !can.contains(&asked) => {
            let names: Vec<&str> = can.iter().map(|s| s.as_str()).collect();
            Err(crate::Error::usage(
                format!("{flag} makes {} keys, not {asked}", names.join(" or ")),
                Some(format!(
                    "pass --scheme {} (or leave --scheme out)",
                    names[0]
                )),
            ))
        }
        _ => Ok(()),
    }
}

/// The text of a stack's configuration file.
fn config_text<'a>(bytes: &'a [u8], config: &Path, stack: &'static str) -> Result<&'a str> {
    std::str::from_utf8(bytes).map_err(|_| {
        in_file(config)(WatermarkError::DeployedConfig {
            stack,
            message: "not UTF-8 text".into(),
        })
    })
}

/// Reads vLLM's `--watermark-config` JSON into a key; returns it with its public facts
/// (never the key).
fn import_vllm(
    scheme: Option<SchemeId>,
    config: &Path,
    mapping: Mapping,
) -> Result<(WatermarkKey, serde_json::Value)> {
    let flag = "--from-vllm";
    refuse_other_scheme(
        scheme,
        &[SchemeId::VllmGumbel, SchemeId::VllmDualKeyGumbel],
        flag,
    )?;
    let bytes = read_config(
        config,
        "read the vLLM watermark configuration",
        "a vLLM watermark configuration",
        "give the JSON passed to vLLM's --watermark-config (a few hundred bytes)",
    )?;
    let parsed =
        VllmConfig::from_json(config_text(&bytes, config, "vLLM")?).map_err(in_file(config))?;
    let made = match parsed.algorithm {
        Algorithm::Gumbel => SchemeId::VllmGumbel,
        Algorithm::DualKeyGumbel => SchemeId::VllmDualKeyGumbel,
    };
    check_made_scheme(scheme, made, flag, config)?;
    let mut facts = serde_json::json!({
        "algorithm": parsed.algorithm.as_str(),
        "mapping": mapping.as_str(),
        "context_width": parsed.context_width,
        "deduplicate_contexts": parsed.deduplicate_contexts.as_str(),
        "deduplicate_contexts_max_history": parsed.max_history,
    });
    if parsed.algorithm == Algorithm::DualKeyGumbel {
        facts["alpha"] = serde_json::json!(parsed.alpha);
    }
    Ok((WatermarkKey::vllm(&parsed, mapping), facts))
}

/// Reads SGLang's `--watermark-config` JSON into a key; returns it with its public facts
/// (never the keys).
fn import_sglang(
    scheme: Option<SchemeId>,
    config: &Path,
) -> Result<(WatermarkKey, serde_json::Value)> {
    let flag = "--from-sglang";
    refuse_other_scheme(scheme, &[SchemeId::SglangGumbel], flag)?;
    let bytes = read_config(
        config,
        "read the SGLang watermark configuration",
        "an SGLang watermark configuration",
        "give the JSON of SGLang's --watermark-config (at most 4096 bytes)",
    )?;
    let parsed =
        SglangConfig::from_json(config_text(&bytes, config, "SGLang")?).map_err(in_file(config))?;
    check_made_scheme(scheme, SchemeId::SglangGumbel, flag, config)?;
    let dual = parsed.key_b().is_some();
    let facts = serde_json::json!({
        "context_window": parsed.context_window,
        "dual_key": dual,
        "mixing_probability": dual.then_some(parsed.mixing_probability),
        "max_probability": parsed.max_probability,
    });
    Ok((WatermarkKey::sglang(&parsed), facts))
}

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
    let bytes = read_config(
        config,
        "read the transformers configuration",
        "a transformers watermarking configuration",
        "give the JSON of a SynthIDTextWatermarkingConfig (a few hundred bytes)",
    )?;
    let in_file = in_file(config);
    let import = transformers::synthid_from_json(&bytes).map_err(&in_file)?;
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
    let key = WatermarkKey::synthid(import.params).map_err(&in_file)?;
    Ok((key, facts))
}

/// Reads back a key of `kind` at `path`, proving it is complete and usable; returns its id.
pub fn check(kind: KeyKind, path: &Path) -> Result<KeyId> {
    Ok(match kind {
        // Text and media keys share the kind: either reads.
        KeyKind::Watermark => crate::media::read_watermark_key(path)?.key_id().clone(),
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

    fn binding(vocab_size: u32) -> Option<TokenizerBinding> {
        Some(TokenizerBinding {
            hash: tracemark_core::ContentHash::of_bytes(b"tokenizer"),
            vocab_size,
        })
    }

    #[test]
    fn vllm_and_sglang_configs_import_into_keys_with_their_parameters() {
        let dir = tempfile::tempdir().unwrap();
        let vllm = dir.path().join("vllm.json");
        std::fs::write(
            &vllm,
            r#"{"algorithm": "dual_key_gumbel", "key": 42, "alpha": 0.2}"#,
        )
        .unwrap();
        let spec = |scheme, mapping| KeySpec::WatermarkFromVllm {
            scheme,
            config: vllm.clone(),
            mapping,
            tokenizer: binding(512),
        };
        let out = dir.path().join("keys/vllm.json");
        let made = generate(
            &spec(None, Mapping::V1a),
            &Destination::Path(out.clone()),
            Replace::No,
        )
        .unwrap();
        assert_eq!(made.details["scheme"], "vllm-dual-key-gumbel-v1");
        assert_eq!(made.details["mapping"], "v1a");
        assert_eq!(made.details["alpha"], 0.2);
        assert!(
            !made.details.to_string().contains("42,"),
            "{}",
            made.details
        );
        let key: WatermarkKey = keyfile::read_json(&out).unwrap();
        assert_eq!(key.key_id, made.key_id);
        let tracemark_watermark::SchemeConfig::VllmDualKeyGumbel(params) = &key.config else {
            panic!("{:?}", key.config)
        };
        assert_eq!((*params.key.expose(), params.mapping), (42, Mapping::V1a));
        // The scheme it makes may be named; one configuration, one key id.
        let again = generate(
            &spec(Some(SchemeId::VllmDualKeyGumbel), Mapping::V1b),
            &Destination::Path(dir.path().join("again.json")),
            Replace::No,
        )
        .unwrap();
        assert_eq!(again.key_id, made.key_id);

        let sglang = dir.path().join("sglang.json");
        std::fs::write(&sglang, r#"{"key": "abc", "key_b": "def"}"#).unwrap();
        let made = generate(
            &KeySpec::WatermarkFromSglang {
                scheme: None,
                config: sglang,
                tokenizer: binding(512),
            },
            &Destination::Path(dir.path().join("sglang.key.json")),
            Replace::No,
        )
        .unwrap();
        assert_eq!(made.details["scheme"], "sglang-gumbel-v1");
        assert_eq!(made.details["dual_key"], true);
        assert_eq!(made.details["mixing_probability"], 0.5);
    }

    #[test]
    fn bad_stack_imports_are_one_clear_error_and_write_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("new/key.json");
        let run = |spec: &KeySpec| generate(spec, &Destination::Path(out.clone()), Replace::No);
        // Each configuration its own file: the cases are all written before any is read.
        let files = std::cell::Cell::new(0);
        let file = |stack: &str| {
            files.set(files.get() + 1);
            dir.path().join(format!("{stack}-{}.json", files.get()))
        };
        let vllm = |text: &[u8], scheme| {
            let config = file("vllm");
            std::fs::write(&config, text).unwrap();
            KeySpec::WatermarkFromVllm {
                scheme,
                config,
                mapping: Mapping::V1b,
                tokenizer: binding(512),
            }
        };
        let sglang = |text: &[u8], scheme| {
            let config = file("sglang");
            std::fs::write(&config, text).unwrap();
            KeySpec::WatermarkFromSglang {
                scheme,
                config,
                tokenizer: binding(512),
            }
        };
        let inputs = [
            (vllm(b"{\"key\": 1", None), "not JSON"),
            (
                vllm(br#"{"key": 1, "seed": 2}"#, None),
                "unknown field `seed`",
            ),
            (vllm(br#"{"key": 18446744073709551616}"#, None), "2^64-1"),
            (vllm(br#"{"key": 1, "algorithm": "sbw"}"#, None), "`sbw`"),
            (vllm(b"{\"key\": \"\xff\"}", None), "not UTF-8"),
            (vllm(&vec![b' '; 2 << 20], None), "over 1024 KiB"),
            (sglang(br#"{"key": "xyz"}"#, None), "only hex"),
            (
                sglang(br#"{"key": "1", "context_window": 0}"#, None),
                "1 to 64",
            ),
        ];
        for (spec, want) in &inputs {
            let err = run(spec).unwrap_err();
            assert_eq!(err.fault(), tracemark_core::Fault::Input, "{err}");
            assert!(err.to_string().contains(want), "{err} lacks {want}");
            assert!(err.hint().is_some(), "{err}");
        }
        let usage = [
            (
                vllm(br#"{"key": 1}"#, Some(SchemeId::SynthId)),
                "vllm-gumbel-v1 or vllm-dual-key-gumbel-v1",
            ),
            (
                vllm(br#"{"key": 1}"#, Some(SchemeId::VllmDualKeyGumbel)),
                "configures vllm-gumbel-v1",
            ),
            (
                sglang(br#"{"key": "1"}"#, Some(SchemeId::VllmGumbel)),
                "sglang-gumbel-v1",
            ),
            (
                KeySpec::Watermark {
                    scheme: SchemeId::VllmGumbel,
                    tokenizer: None,
                    payload_bits: 8,
                },
                "vllm-gumbel-v1 keys carry no payload",
            ),
        ];
        for (spec, want) in &usage {
            let err = run(spec).unwrap_err();
            assert_eq!(err.fault(), tracemark_core::Fault::Usage, "{err}");
            assert!(err.to_string().contains(want), "{err} lacks {want}");
        }
        // A tokenizer the detector would refuse refuses the key.
        let KeySpec::WatermarkFromSglang { config, .. } = sglang(br#"{"key": "1"}"#, None) else {
            unreachable!()
        };
        let err = run(&KeySpec::WatermarkFromSglang {
            scheme: None,
            config,
            tokenizer: binding(0),
        })
        .unwrap_err();
        assert!(err.to_string().contains("vocabulary size"), "{err}");
        assert!(!out.parent().unwrap().exists(), "nothing may be written");
    }
}
