//! The demo's work folder: a key store with a key of every kind, the demo corpus and its
//! index, a `tracemark.toml` that names them and an SQLite log beside them, each read
//! back through the loaders every other command uses; reused when it is there.
//!
//! The demo also plays the model's publisher: it makes a model-signing key (ECDSA P-256
//! with a development chain), signs the model (OpenSSF Model Signing) into the work
//! folder (`model/NAME.sig`, leaving the model's own directory untouched: a model
//! directory such as `models/tinystories-260k`, or the corpus model's index, whose
//! withdrawal list the signature leaves out), logs the release (a model-release record),
//! and configures the signature and the publisher's root as trusted, so that its records
//! and reports name the model by its verified identity.

use std::path::{Path, PathBuf};

use tracemark::{
    Error, Result,
    config::Config,
    core::{
        KeyKind, KeyStore,
        keyfile::{self, Replace, Secrecy},
    },
    credentials::SigningAlgorithm,
    keygen::{self, Destination, KeySpec, SeededKeyRng},
    lm::LoadedModel,
    model::ModelSource,
    watermark::{SchemeId, TokenizerBinding},
};

use crate::{
    corpus::{CORPUS_DIR, TEXTS, write_corpus},
    summary::DemoKey,
    use_cases::IMAGE_KEY,
};

/// The key name the demo uses in its store.
const NAME: &str = "demo";

/// The name of the demo's model-signing key (a signing identity, ES256) in its store.
const MODEL_KEY_NAME: &str = "demo-model";

/// The demo's model publisher, as its model-signing certificates name it.
pub(crate) const MODEL_PUBLISHER: &str = "Tracemark demo model publisher";

/// The keys the demo makes, with their names in its store: one of every kind, and the
/// model publisher's model-signing key.
fn specs(tokenizer: Option<TokenizerBinding>) -> Vec<(KeySpec, &'static str)> {
    vec![
        (
            KeySpec::Watermark {
                scheme: SchemeId::KgwSelfHash,
                tokenizer,
                payload_bits: PAYLOAD_BITS,
            },
            NAME,
        ),
        (
            KeySpec::Signing {
                algorithm: SigningAlgorithm::Ed25519,
                organization: PROVIDER.into(),
            },
            NAME,
        ),
        (
            KeySpec::Log {
                origin: "demo.tracemark.invalid/log".into(),
            },
            NAME,
        ),
        (
            KeySpec::Service {
                name: "demo.tracemark.invalid/service".into(),
            },
            NAME,
        ),
        // OpenSSF Model Signing has no Ed25519: ECDSA P-256.
        (
            KeySpec::Signing {
                algorithm: SigningAlgorithm::Es256,
                organization: MODEL_PUBLISHER.into(),
            },
            MODEL_KEY_NAME,
        ),
    ]
}

/// Where the demo writes a model's signature: in the work folder, never in the model's
/// own directory.
fn signature_path(model: &Path) -> PathBuf {
    PathBuf::from("model").join(format!(
        "{}.sig",
        tracemark::oms::manifest::model_name(model)
    ))
}

/// The path of a key of the store, relative to the work folder.
fn rel_name(store: &KeyStore, kind: KeyKind, name: &str) -> Result<String> {
    let path = store.path_of(kind, name)?;
    Ok(path
        .strip_prefix(store.root().parent().unwrap_or(Path::new("")))
        .unwrap_or(&path)
        .display()
        .to_string())
}

/// The demo's configuration; paths are relative to the work folder. The model is the
/// user's (its path as given), or the corpus model of the demo's index (signed as its
/// index).
fn config_text(store: &KeyStore, model: Option<&Path>) -> Result<String> {
    let rel = |kind| rel_name(store, kind, NAME);
    let model = model.unwrap_or(Path::new("index"));
    Ok(format!(
        "# Written by `tracemark demo`. Paths are relative to this file.\n\
         [keys]\nstore = \"home\"\nwatermark = [\"{}\", \"{IMAGE_KEY}\"]\nsigning = \"{}\"\nlog = \"{}\"\nservice = \"{}\"\n\
         # The demo trusts its own development root; a deployment lists real anchors.\n\
         trust = [\"{}/root.pem\"]\n\n\
         [log]\nsqlite = \"ledger.db\"\n\n\
         [index]\npaths = [\"index\"]\n\n\
         [policy]\njurisdictions = [\"EU\", \"CN\", \"US-CA\"]\n\n\
         # The demo provider placed its system on the EU market after 2 August 2026, so\n\
         # Art. 50(2) applies to it without the grace period for older systems.\n\
         [provider]\nname = \"{PROVIDER}\"\nplaced_on_market = \"2026-09-01\"\n\n\
         [model]\npath = {}\n\
         # The demo signed the model (OpenSSF Model Signing) into the work folder and\n\
         # trusts its own model publisher's root; a deployment names the publisher's.\n\
         signature = {}\ntrusted_roots = [\"{}/root.pem\"]\n",
        rel(KeyKind::Watermark)?,
        rel(KeyKind::Signing)?,
        rel(KeyKind::Log)?,
        rel(KeyKind::Service)?,
        rel(KeyKind::Signing)?,
        toml::Value::String(model.display().to_string()),
        toml::Value::String(signature_path(model).display().to_string()),
        rel_name(store, KeyKind::Signing, MODEL_KEY_NAME)?,
    ))
}

/// How the demo is set up: what `tracemark demo`'s flags say.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// A model to generate with (a model path, or a corpus index for its corpus model);
    /// absent, the corpus model of the demo corpus.
    pub model: Option<PathBuf>,
    /// A folder of texts to index instead of the embedded demo corpus. The use cases
    /// quote two of the demo corpus's documents, so it must hold them.
    pub corpus: Option<PathBuf>,
    /// Draws the watermark key (when one is made) and the ids, hence the payloads, of
    /// the marked generations from this seed instead of the system's randomness: a fresh
    /// work folder then gets the same texts and verdicts every time (times, signatures
    /// and the other keys still differ). Whoever knows the seed can remake the key, so
    /// this is for demonstrations and tests, never for marking what is published.
    pub seed: Option<u64>,
}

/// The purpose under which a seed draws the demo's watermark key.
const KEY_PURPOSE: &str = "tracemark demo: watermark key";

/// The demo provider, as its configuration names it.
pub(crate) const PROVIDER: &str = "Tracemark demo provider";

/// Payload bits of the demo's watermark key: a 16-bit generation tag, which the log
/// resolves (with the text's sketch) to the full record.
const PAYLOAD_BITS: u8 = 16;

/// The demo's work folder, ready to use: the corpus indexed, the keys made, the
/// configuration written and read back, and the model loaded.
#[derive(Debug)]
pub struct Workspace {
    pub out: PathBuf,
    pub config_path: PathBuf,
    pub config: Config,
    pub store: KeyStore,
    pub index: PathBuf,
    pub keys: Vec<DemoKey>,
    pub loaded: LoadedModel,
    /// Whether the model is the corpus's own (not one given with `--model`).
    pub corpus_model: bool,
    /// The corpus folder indexed: `corpus/texts` in the work folder, or `--corpus`.
    pub corpus: PathBuf,
    /// The signed model's verified identity and its release.
    pub model_identity: DemoModel,
    /// The collection records this run logged (none when the index's were logged before).
    pub collection: Option<tracemark::collection::LoggedCollection>,
}

/// Sets up (or reuses) the demo's work folder in `out`: what `tracemark demo` runs its
/// use cases in, and what `tracemark serve` serves when no configuration is given. The
/// embedded corpus is written to `corpus/` when the index is built from it.
pub fn prepare(out: &Path, options: &Options) -> Result<Workspace> {
    let model = options.model.as_deref();
    KeyStore::create_private_dir(out)?;
    let out = out.canonicalize().map_err(|source| Error::Io {
        action: "open",
        path: out.to_owned(),
        source,
    })?;
    let corpus = match &options.corpus {
        Some(folder) => folder.clone(),
        None => out.join(CORPUS_DIR).join(TEXTS),
    };
    let index = out.join("index");
    if !index.join(tracemark::trace::index::INDEX_FILE).exists() {
        if options.corpus.is_none() {
            write_corpus(&out.join(CORPUS_DIR))?;
        }
        let corpora = [corpus.clone()];
        tracemark::corpus::build(
            &index,
            &corpora,
            &tracemark::trace::ByteTokenizer,
            None,
            &mut |_| {},
        )?;
    }
    let source = match model {
        Some(path) => ModelSource::at(path),
        None => ModelSource::Corpus(index.clone()),
    };
    let loaded = source.load()?;
    let corpus_model = matches!(source, ModelSource::Corpus(_));
    let tokenizer = Some(TokenizerBinding {
        hash: loaded.tokenizer.hash(),
        vocab_size: loaded.tokenizer.vocab_size() as u32,
    });
    let store = KeyStore::at(out.join("home"));

    let (ModelSource::Path(model_dir) | ModelSource::Corpus(model_dir)) = &source;
    let model_dir = std::path::absolute(model_dir).unwrap_or_else(|_| model_dir.clone());
    let mut keys = Vec::new();
    for (spec, name) in specs(tokenizer) {
        let kind = spec.kind();
        let path = store.path_of(kind, name)?;
        let reused = path.exists();
        let key_id = if reused {
            keygen::check(kind, &path)?
        } else {
            let dest = Destination::Store {
                store: store.clone(),
                name: name.into(),
            };
            match options.seed {
                Some(seed) => {
                    let mut rng = SeededKeyRng::new(KEY_PURPOSE, seed);
                    keygen::generate_with_rng(&spec, &dest, Replace::No, &mut rng)?.key_id
                }
                None => keygen::generate(&spec, &dest, Replace::No)?.key_id,
            }
        };
        keys.push(DemoKey {
            kind,
            key_id,
            path,
            reused,
        });
    }

    let absolute_model = model
        .map(std::path::absolute)
        .transpose()
        .map_err(|source| Error::Io {
            action: "resolve",
            path: model.unwrap_or(Path::new("")).to_owned(),
            source,
        })?;
    // The image key is made before the configuration that lists it is read.
    crate::use_cases::image_key(&out, options.seed)?;
    let config_path = out.join(tracemark::config::FILE_NAME);
    if !config_path.exists() {
        keyfile::write_file(
            &config_path,
            // The configuration's relative paths are taken relative to it, in the work
            // folder: the model's path is written absolute.
            config_text(&store, absolute_model.as_deref())?.as_bytes(),
            Secrecy::Public,
            Replace::No,
        )?;
    }
    // Read everything back the way every other command will.
    let mut config = Config::load(&config_path)?;
    for key in keys.iter().take(4) {
        let configured = match key.kind {
            KeyKind::Watermark => config.keys.watermark.first(),
            KeyKind::Signing => config.keys.signing.as_ref(),
            KeyKind::Log => config.keys.log.as_ref(),
            KeyKind::Service => config.keys.service.as_ref(),
        };
        let path = configured.unwrap_or(&key.path);
        keygen::check(key.kind, path)?;
    }
    // The demo provider records each document's rights decision at collection, so that
    // `rights prove` answers for the demo corpus's URLs (its reserved essays included:
    // the demo's provider did not honour every reservation).
    let collection = match tracemark::collection::CollectionLog::of_index(&index)? {
        Some(_) => None,
        None => Some(tracemark::collection::log_index(
            &tracemark::log::LogSite::configured(&config)?,
            &index,
            "*",
            false,
        )?),
    };
    let key = store.path_of(KeyKind::Signing, MODEL_KEY_NAME)?;
    let model_identity = publish_model(&out, &mut config, &model_dir, &key)?;
    Ok(Workspace {
        out,
        config_path,
        config,
        store,
        index,
        keys,
        loaded,
        corpus_model,
        corpus,
        model_identity,
        collection,
    })
}

/// What the demo's model publisher did: the signed model's verified identity, and the
/// log entry of its release record.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DemoModel {
    pub name: String,
    /// `sha256:HEX`: the OMS root digest of the model's weights (its identity).
    pub digest: tracemark::core::ContentHash,
    pub signature: PathBuf,
    /// The signing certificate's subject.
    pub signer: String,
    /// The signature's outcome under the demo's trust (`trusted`).
    pub trust: tracemark::trust::Trust,
    /// The leaf index of the model-release record.
    pub release_index: u64,
    /// Whether this run signed the model (else it reused a signature that still holds).
    pub signed_now: bool,
    /// Whether this run logged the release (else the log already held it).
    pub logged_now: bool,
}

/// Signs the model at `dir` with the demo's model-signing key (`key`, a signing
/// identity's directory) into the work folder, unless a signature there still holds;
/// logs its release unless the log holds it; and makes `config` name the signature and
/// trust the key's root (as the written configuration does). The model's own directory
/// is only read.
fn publish_model(out: &Path, config: &mut Config, dir: &Path, key: &Path) -> Result<DemoModel> {
    use tracemark::release::{self, Identified, ModelTrust, VerifyRequest};
    let signature = out.join(signature_path(dir));
    let root = key.join("root.pem");
    // A configuration written by a run with another model (or none) names the model in
    // use here, in memory.
    config.model.path = Some(dir.to_owned());
    config.model.signature = Some(signature.clone());
    if !config.model.trusted_roots.contains(&root) {
        config.model.trusted_roots.push(root.clone());
    }
    let trust = ModelTrust::configured(&config.model);
    let holds = signature.exists()
        && matches!(
            release::identify(Some(dir), &trust),
            Ok(Identified::Signed(id)) if id.conclusion.trust == tracemark::trust::Trust::Trusted
        );
    if !holds {
        if let Some(parent) = signature.parent() {
            std::fs::create_dir_all(parent).map_err(|source| Error::Io {
                action: "create",
                path: parent.to_owned(),
                source,
            })?;
        }
        release::sign(
            dir,
            &key.join("key.pem"),
            Some(&key.join("chain.pem")),
            tracemark::oms::HashOptions::default(),
            Some(&signature),
        )?;
    }
    let Identified::Signed(id) = release::identify(Some(dir), &trust)? else {
        unreachable!("the signature was just written");
    };
    let mut ledger = tracemark::log::LogSite::configured(config)?.open()?;
    let (release_index, logged_now) = match release::find_release(&ledger, &id.digest)? {
        Some((at, _)) => (at.index, false),
        None => {
            let roots = [root];
            let verified = release::verify(
                dir,
                &VerifyRequest {
                    signature: Some(&signature),
                    trust: &roots,
                    ..VerifyRequest::default()
                },
            )?;
            let logged = release::log_release(&mut ledger, dir, &verified, None, None)?;
            (logged.entry.index, true)
        }
    };
    Ok(DemoModel {
        name: id.name.clone(),
        digest: id.digest,
        signature,
        signer: id.signer.clone(),
        trust: id.conclusion.trust,
        release_index,
        signed_now: !holds,
        logged_now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::{CORPUS, OPTED_OUT_DOCUMENT, read_corpus_text};

    /// Every file under `dir`, as its path relative to `dir` with `/`, sorted.
    fn files_under(dir: &Path) -> Vec<String> {
        fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(root, &path, out);
                } else {
                    let relative = path.strip_prefix(root).unwrap().to_str().unwrap();
                    out.push(relative.replace(std::path::MAIN_SEPARATOR, "/"));
                }
            }
        }
        let mut out = Vec::new();
        walk(dir, dir, &mut out);
        out.sort();
        out
    }

    /// The demo needs nothing from the source tree at run time: `prepare` writes the
    /// corpus built into the binary to `corpus/`, file for file and byte for byte the
    /// repository's `corpus/demo`, and indexes that copy.
    #[test]
    fn prepare_writes_the_embedded_corpus_byte_for_byte_and_indexes_it() {
        let repository = tracemark_testkit::repo_root().join("corpus/demo");
        let dir = tempfile::tempdir().unwrap();
        let ws = prepare(&dir.path().join("demo"), &Options::default()).unwrap();
        let written = ws.out.join(CORPUS_DIR);
        let names = files_under(&repository);
        assert!(names.len() > 100, "{names:?}");
        assert_eq!(files_under(&written), names);
        let embedded: Vec<&str> = CORPUS.iter().map(|(name, _)| *name).collect();
        assert_eq!(embedded, names);
        for name in &names {
            assert!(
                std::fs::read(repository.join(name)).unwrap()
                    == std::fs::read(written.join(name)).unwrap(),
                "{name} differs from the repository's"
            );
        }
        assert_eq!(ws.corpus, written.join(TEXTS));
        let index = tracemark::corpus::open(&ws.index, None).unwrap();
        let texts = names
            .iter()
            .filter(|n| n.starts_with("texts/") && !n.ends_with(".meta.json"))
            .count();
        assert_eq!(index.total_documents(), texts as u64);
        let opening: String = read_corpus_text(None, OPTED_OUT_DOCUMENT)
            .unwrap()
            .chars()
            .take(120)
            .collect();
        assert_eq!(index.count(&opening).unwrap(), 1, "{opening}");
    }
}
