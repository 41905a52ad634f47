//! `tracemark demo`: the README's main job, on embedded defaults, with no download and
//! no server.
//!
//! It sets up a self-contained work folder (a key store with a key of every kind, an index
//! of the demo corpus, and a `tracemark.toml` that names them and an SQLite log beside
//! them) and proves each part usable by reading it back through the same loaders the
//! other commands use. Then it generates text with the model (the corpus model unless
//! one is given) with and without the watermark, and detects it in one only. Running it
//! again reuses what is there.

use std::path::{Path, PathBuf};

use serde::Serialize;
use tracemark_core::{
    KeyId, KeyKind, KeyStore, Timestamp,
    keyfile::{self, Replace, Secrecy},
};
use tracemark_credentials::SigningAlgorithm;
use tracemark_lm::{LoadedModel, sampling::SamplingParams};
use tracemark_watermark::{SchemeId, TokenizerBinding};

use crate::{
    attribute,
    config::{Config, LogLocation},
    error::{Error, Result},
    keygen::{self, Destination, KeySpec},
    model::ModelSource,
    text::{self, DetectInput, DetectReport, GenerateRequest},
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
    /// The index of the demo corpus.
    pub index: PathBuf,
    pub keys: Vec<DemoKey>,
    pub marking: MarkingDemo,
    /// The evidence report on the marked text (JSON and HTML).
    pub report: [PathBuf; 2],
}

#[derive(Debug, Clone, Serialize)]
pub struct DemoKey {
    pub kind: KeyKind,
    pub key_id: KeyId,
    pub path: PathBuf,
    /// Whether an earlier run made it.
    pub reused: bool,
}

fn specs(tokenizer: Option<TokenizerBinding>) -> [KeySpec; 4] {
    [
        KeySpec::Watermark {
            scheme: SchemeId::KgwSelfHash,
            tokenizer,
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
fn config_text(store: &KeyStore, model: Option<&Path>) -> Result<String> {
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
         [keys]\nstore = \"home\"\nwatermark = [\"{}\"]\nsigning = \"{}\"\nlog = \"{}\"\nservice = \"{}\"\n\
         # The demo trusts its own development root; a deployment lists real anchors.\n\
         trust = [\"{}/root.pem\"]\n\n\
         [log]\nsqlite = \"ledger.db\"\n\n\
         [index]\npaths = [\"index\"]\n\n\
         [policy]\njurisdictions = [\"EU\", \"CN\", \"US-CA\"]\n{}",
        rel(KeyKind::Watermark)?,
        rel(KeyKind::Signing)?,
        rel(KeyKind::Log)?,
        rel(KeyKind::Service)?,
        rel(KeyKind::Signing)?,
        match model {
            // The model is the user's: its path as given, quoted for TOML.
            Some(path) => format!(
                "\n[model]\npath = {}\n",
                toml::Value::String(path.display().to_string())
            ),
            None => String::new(),
        }
    ))
}

/// The demo corpus: `corpus/demo/texts` of the working directory (a checkout's root),
/// else of the source tree this binary was built from.
pub fn default_corpus() -> PathBuf {
    let here = Path::new("corpus/demo/texts");
    if here.is_dir() {
        return here.to_owned();
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus/demo/texts")
}

/// The first use case in miniature: text generated with the demo's watermark key is
/// detected; the same model's unmarked text is not.
#[derive(Debug, Clone, Serialize)]
pub struct MarkingDemo {
    pub model: String,
    pub prompt: String,
    pub marked: PathBuf,
    pub unmarked: PathBuf,
    pub marked_detection: DetectReport,
    pub unmarked_detection: DetectReport,
}

/// A prompt both a story model and the demo corpus can continue.
const PROMPT: &str = "Once upon a time";

fn marking(
    out: &Path,
    loaded: &mut LoadedModel,
    key_path: &Path,
    corpus_model: bool,
) -> Result<MarkingDemo> {
    let mut sampling = SamplingParams {
        max_tokens: 200,
        seed: 1,
        ..Default::default()
    };
    if corpus_model {
        // The trigram model's tail is its unigram back-off: cut it, so that the text
        // keeps to the corpus's phrases (and still leaves the watermark its choices).
        sampling.temperature = 0.8;
        sampling.top_k = 40;
    }
    let mut run = |key: Option<&Path>, file: &str| -> Result<(PathBuf, String)> {
        let request = GenerateRequest {
            prompt: PROMPT,
            key,
            payload: None,
            sampling: sampling.clone(),
        };
        let generated = text::generate(loaded, &request)?;
        let path = out.join(file);
        keyfile::write_file(
            &path,
            generated.text.as_bytes(),
            Secrecy::Public,
            Replace::Yes,
        )?;
        Ok((path, generated.text))
    };
    let (marked, marked_text) = run(Some(key_path), "marked.txt")?;
    let (unmarked, unmarked_text) = run(None, "unmarked.txt")?;
    let tokenizer = loaded.tokenizer.as_ref();
    let key = text::load_key(key_path, Some(tokenizer))?;
    let detect = |t: &str| {
        text::detect(
            &key,
            DetectInput::Text(t, tokenizer),
            tokenizer.vocab_size(),
            1e-3,
        )
    };
    Ok(MarkingDemo {
        model: loaded.name.clone(),
        prompt: PROMPT.into(),
        marked,
        unmarked,
        marked_detection: detect(&marked_text)?,
        unmarked_detection: detect(&unmarked_text)?,
    })
}

/// Attributes the marked text with the demo's configuration and writes the sealed report.
fn report(config: &Config, file: &Path, dir: &Path) -> Result<[PathBuf; 2]> {
    let content = std::fs::read(file).map_err(|source| Error::Io {
        action: "read",
        path: file.to_owned(),
        source,
    })?;
    let as_of = Timestamp::now().to_string()[..10]
        .parse()
        .expect("an RFC 3339 time starts with a date");
    let request = attribute::Request {
        content: &content,
        path: Some(file),
        name: file.file_name().map(|n| n.to_string_lossy().into_owned()),
        as_of,
        jurisdictions: config.policy.jurisdictions.clone(),
        command: format!("tracemark attribute --as-of {as_of} {}", file.display()),
    };
    let mut report = attribute::attribute(config, &request)?;
    attribute::seal(&mut report, config.keys.service.as_deref())?;
    let (json, html) = attribute::write_report(&report, dir, "marked")?;
    Ok([json, html])
}

/// Sets up (or reuses) the demo work folder `out`, indexes `corpus` there, and
/// generates marked and unmarked text with `model` (default: the corpus model).
pub fn run(out: &Path, model: Option<&Path>, corpus: &Path) -> Result<DemoSummary> {
    KeyStore::create_private_dir(out)?;
    let out = out.canonicalize().map_err(|source| Error::Io {
        action: "open",
        path: out.to_owned(),
        source,
    })?;
    let index = out.join("index");
    if !index.join(tracemark_trace::index::INDEX_FILE).exists() {
        let corpora = [corpus.to_owned()];
        crate::corpus::build(
            &index,
            &corpora,
            &tracemark_trace::ByteTokenizer,
            &mut |_| {},
        )?;
    }
    let source = match model {
        Some(path) => ModelSource::at(path),
        None => ModelSource::Corpus(index.clone()),
    };
    let mut loaded = source.load()?;
    let corpus_model = matches!(source, ModelSource::Corpus(_));
    let tokenizer = Some(TokenizerBinding {
        hash: loaded.tokenizer.hash(),
        vocab_size: loaded.tokenizer.vocab_size() as u32,
    });
    let store = KeyStore::at(out.join("home"));

    let mut keys = Vec::new();
    for spec in specs(tokenizer) {
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
            config_text(&store, model)?.as_bytes(),
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
    let marking = marking(&out, &mut loaded, &keys[0].path, corpus_model)?;
    drop(loaded);
    let report = report(&config, &marking.marked, &out.join("reports"))?;
    Ok(DemoSummary {
        marking,
        report,
        index,
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

    /// The model's marked text is detected; its unmarked text is not flagged.
    fn assert_marked_only(marking: &MarkingDemo) {
        assert!(
            marking.marked_detection.detected,
            "{:?}",
            marking.marked_detection
        );
        assert!(
            !marking.unmarked_detection.detected,
            "{:?}",
            marking.unmarked_detection
        );
    }

    #[test]
    fn sets_up_a_usable_work_folder_and_reuses_it() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("demo");
        let first = run(&out, None, &default_corpus()).unwrap();
        assert_eq!(first.keys.len(), 4);
        assert_eq!(first.marking.model, "corpus-kn3");
        assert_marked_only(&first.marking);
        // The report on the marked text is sealed with the service key and names the model.
        let json = std::fs::read_to_string(&first.report[0]).unwrap();
        assert!(
            attribute::verify_report(&json, None)
                .unwrap()
                .signature_valid
        );
        assert!(
            std::fs::read_to_string(&first.report[1])
                .unwrap()
                .contains("EU-AIA-50-2")
        );
        assert!(first.keys.iter().all(|k| !k.reused));
        let config = Config::load(&first.config).unwrap();
        assert_eq!(
            config.keys.store.as_deref(),
            Some(first.key_store.as_path())
        );

        let second = run(&out, None, &default_corpus()).unwrap();
        assert!(second.keys.iter().all(|k| k.reused));
        let ids = |s: &DemoSummary| s.keys.iter().map(|k| k.key_id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&first), ids(&second));
    }

    #[test]
    fn with_a_model_marked_text_is_detected_and_unmarked_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let model = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/models/tinystories-260k");
        let marking = run(dir.path(), Some(&model), &default_corpus())
            .unwrap()
            .marking;
        assert_marked_only(&marking);
        assert!(std::fs::read_to_string(&marking.marked).unwrap().len() > 200);
    }

    #[test]
    fn a_damaged_key_is_reported_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let summary = run(dir.path(), None, &default_corpus()).unwrap();
        let wm = &summary.keys[0].path;
        keyfile::write_file(wm, b"{", Secrecy::Secret, Replace::Yes).unwrap();
        let err = run(dir.path(), None, &default_corpus()).unwrap_err();
        assert!(
            err.to_string().contains("not a Tracemark key file"),
            "{err}"
        );
        assert_eq!(std::fs::read(wm).unwrap(), b"{");
    }
}
