//! `tracemark demo`: the README's main job, on embedded defaults, with no download and
//! no server.
//!
//! It sets up a self-contained work folder (a key store with a key of every kind, the
//! demo corpus, embedded in the binary and written out to `corpus/`, its index, and a
//! `tracemark.toml` that names them and an SQLite log beside them) and proves each part
//! usable by reading it back through the same loaders the other commands use. Nothing is
//! read from the source tree, so an installed binary runs it from any folder. Then it runs the three use cases with the model (the corpus model
//! unless one is given), each ending in a sealed, logged evidence report in `reports/`:
//! a provider marking its output (and the same output unmarked), a rights holder tracing
//! an output to an opted-out work, and an author's mixed document. Running it again
//! reuses the keys, index and log that are there.

use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};
use tracemark_core::{
    KeyId, KeyKind, KeyStore, Timestamp,
    keyfile::{self, Replace, Secrecy},
};
use tracemark_credentials::SigningAlgorithm;
use tracemark_lm::{LoadedModel, sampling::SamplingParams};
use tracemark_policy::EvidenceReport;
use tracemark_watermark::{SchemeId, TokenizerBinding};

use crate::{
    attribute,
    config::{Config, LogLocation},
    error::{Error, Result},
    keygen::{self, Destination, KeySpec, SeededKeyRng},
    log::LogSite,
    mark::{self, MarkRequest},
    model::ModelSource,
    text::{self, GenerateRequest},
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
    /// The corpus folder indexed: `corpus/texts` (the embedded demo corpus, written out),
    /// or the one given.
    pub corpus: PathBuf,
    /// The index of the demo corpus.
    pub index: PathBuf,
    pub keys: Vec<DemoKey>,
    /// The model that generated the demo's texts.
    pub model: String,
    /// The use cases, each with its sealed evidence report (in `reports/`).
    pub use_cases: Vec<UseCase>,
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
            payload_bits: PAYLOAD_BITS,
        },
        KeySpec::Signing {
            algorithm: SigningAlgorithm::Ed25519,
            organization: PROVIDER.into(),
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
         [policy]\njurisdictions = [\"EU\", \"CN\", \"US-CA\"]\n\n\
         # The demo provider placed its system on the EU market after 2 August 2026, so\n\
         # Art. 50(2) applies to it without the grace period for older systems.\n\
         [provider]\nname = \"{PROVIDER}\"\nplaced_on_market = \"2026-09-01\"\n{}",
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

/// The demo corpus, embedded in the binary: every file of the repository's
/// `corpus/demo` as (its path there, with `/`, and its bytes), sorted by path. The texts
/// are under `texts/`, each with its rights metadata (`NAME.meta.json`), whose signal
/// files are under `signals/`.
pub static CORPUS: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/demo_corpus.rs"));

/// Where [`prepare`] writes [`CORPUS`] in the work folder.
pub const CORPUS_DIR: &str = "corpus";

/// The folder of [`CORPUS`] that is indexed (its signals sit beside it).
const TEXTS: &str = "texts";

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

/// The id of a marked generation of a seeded demo: from the seed and the log's size
/// before it is recorded, so that it is the same in every fresh work folder and unique
/// in this one's log (a run on a used folder gets new ids).
fn seeded_generation_id(seed: u64, log_size: u64) -> String {
    let mut h = Sha256::new();
    h.update(b"tracemark demo: generation id\0");
    h.update(seed.to_be_bytes());
    h.update(log_size.to_be_bytes());
    hex::encode(&h.finalize()[..16])
}

/// Writes [`CORPUS`] into `dir` (replacing what an earlier, interrupted run left).
fn write_corpus(dir: &Path) -> Result<()> {
    for (name, bytes) in CORPUS {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| Error::Io {
                action: "create",
                path: parent.to_owned(),
                source,
            })?;
        }
        keyfile::write_file(&path, bytes, Secrecy::Public, Replace::Yes)?;
    }
    Ok(())
}

/// A prompt both a story model and the demo corpus can continue.
const PROMPT: &str = "Once upon a time";

/// The demo provider, as its configuration names it.
const PROVIDER: &str = "Tracemark demo provider";

/// Payload bits of the demo's watermark key: a 16-bit generation tag, which the log
/// resolves (with the text's sketch) to the full record.
const PAYLOAD_BITS: u8 = 16;

/// The document the second use case's output reproduces: its owner reserved text and
/// data mining before the corpus was collected.
const OPTED_OUT_DOCUMENT: &str = "marrow-lane-press/dear-mr-aske.txt";

/// The source the third use case's author quotes, under its CC-BY licence.
const QUOTED_DOCUMENT: &str = "tomas-ferreira/broa-and-the-yellow-flour.txt";

/// The third use case's author's own paragraphs (written for the demo; in no corpus).
const AUTHOR_OPENING: &str = "I keep a notebook of the stories my daughter asks for at \
bedtime. Most nights she wants a new one, and some nights I am too tired to invent it, so \
this autumn I began asking an assistant for a first draft and reading it aloud with my own \
changes. What follows is one of those evenings, written up the next morning.\n\n";
const AUTHOR_BRIDGE: &str = "\n\nShe fell asleep before the end, as usual. Over breakfast \
she asked why the bread in the story was yellow, and I found the answer in a cookery column \
I had saved:\n\n";
const AUTHOR_CLOSING: &str = "\n\nWe baked a small loaf that afternoon. It cracked across \
the top and was too salty, and she declared it the best bread in the county.\n";

/// One use case's input and evidence report.
#[derive(Debug, Clone, Serialize)]
pub struct UseCase {
    /// `1-mark-at-the-source`, `2-trace-to-training-data`, `3-mixed-document`, and the
    /// first's counter-example `1b-unmarked-output`.
    pub id: &'static str,
    pub title: &'static str,
    /// The content attributed.
    pub input: PathBuf,
    /// The sealed report, JSON and HTML.
    pub report_files: [PathBuf; 2],
    /// The report's answer, a sentence a line.
    pub answer: Vec<String>,
    #[serde(skip)]
    pub report: EvidenceReport,
}

fn write_text(path: &Path, text: &str) -> Result<()> {
    keyfile::write_file(path, text.as_bytes(), Secrecy::Public, Replace::Yes)?;
    Ok(())
}

/// A document of the corpus the demo indexed: the embedded one's from the binary, a
/// corpus folder's (`--corpus`) from the folder.
fn read_corpus_text(corpus: Option<&Path>, document: &str) -> Result<String> {
    let Some(folder) = corpus else {
        let name = format!("{TEXTS}/{document}");
        let (_, bytes) = CORPUS
            .iter()
            .find(|(n, _)| *n == name)
            .expect("the embedded corpus holds the use cases' documents (a test reads them)");
        return Ok(String::from_utf8_lossy(bytes).into_owned());
    };
    let path = folder.join(document);
    std::fs::read_to_string(&path).map_err(|source| Error::Io {
        action: "read",
        path,
        source,
    })
}

/// What a reader does to a text before reposting it: drop a sentence, add one of their
/// own. The watermark and the log's sketch survive it.
fn edit(text: &str) -> String {
    let sentences: Vec<&str> = text.split_inclusive(". ").collect();
    let kept: String = sentences
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != 1 || sentences.len() < 4)
        .map(|(_, s)| *s)
        .collect();
    format!("A story for tonight, shared from my phone. {kept}")
}

/// The passage of `document` from its `from`-th paragraph, `count` paragraphs long.
fn paragraphs(document: &str, from: usize, count: usize) -> String {
    document
        .split("\n\n")
        .filter(|p| p.len() > 200)
        .skip(from)
        .take(count)
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// What every use case runs on: the demo's configuration, work folder, corpus and model.
struct UseCases<'a> {
    config: &'a Config,
    out: &'a Path,
    /// The corpus folder given, or none for the embedded one.
    corpus: Option<&'a Path>,
    loaded: &'a mut LoadedModel,
    corpus_model: bool,
    /// The seed of the generation ids, when the run is seeded.
    seed: Option<u64>,
}

impl UseCases<'_> {
    /// The demo's sampling: the corpus model's tail is its unigram back-off, so cut it
    /// to keep the text to the corpus's phrases (and still leave the watermark its
    /// choices).
    fn sampling(&self, seed: u64, max_tokens: usize) -> SamplingParams {
        let mut sampling = SamplingParams {
            max_tokens,
            seed,
            ..Default::default()
        };
        if self.corpus_model {
            sampling.temperature = 0.8;
            sampling.top_k = 40;
        }
        sampling
    }

    /// The model's continuation of [`PROMPT`], with the prompt, unmarked.
    fn unmarked(&mut self, seed: u64, max_tokens: usize) -> Result<String> {
        let request = GenerateRequest {
            prompt: PROMPT,
            key: None,
            payload: None,
            sampling: self.sampling(seed, max_tokens),
        };
        let generated = text::generate(self.loaded, &request)?;
        Ok(format!("{PROMPT}{}", generated.text.trim_end()))
    }

    /// `tracemark mark` on [`PROMPT`]: the signed text goes to `out`; gives the text as
    /// generated, with the prompt and without the credential.
    fn marked(&mut self, seed: u64, out: &Path) -> Result<String> {
        let request = MarkRequest {
            prompt: PROMPT,
            sampling: self.sampling(seed, 300),
            out,
        };
        let marked = match self.seed {
            Some(seed) => {
                let log_size = LogSite::configured(self.config)?
                    .open()?
                    .size()
                    .map_err(Error::Ledger)?;
                let id = seeded_generation_id(seed, log_size);
                mark::mark_as(id, self.config, self.loaded, &request)?
            }
            None => mark::mark(self.config, self.loaded, &request)?,
        };
        Ok(format!("{PROMPT}{}", marked.text.trim_end()))
    }

    /// Writes `content` to `name` in the work folder and attributes it with the demo's
    /// configuration; the report is sealed, logged and written to `reports/ID.{json,html}`.
    fn attribute(
        &self,
        id: &'static str,
        title: &'static str,
        name: &str,
        content: &str,
        ai_generated: Option<bool>,
    ) -> Result<UseCase> {
        let input = self.out.join(name);
        write_text(&input, content)?;
        let as_of = Timestamp::now().to_string()[..10]
            .parse()
            .expect("an RFC 3339 time starts with a date");
        let stated = if ai_generated == Some(true) {
            " --ai-generated"
        } else {
            ""
        };
        let request = attribute::Request {
            content: content.as_bytes(),
            path: Some(&input),
            name: Some(name.to_owned()),
            as_of,
            jurisdictions: self.config.policy.jurisdictions.clone(),
            ai_generated,
            command: format!(
                "tracemark --config tracemark.toml attribute --as-of {as_of}{stated} {name}"
            ),
        };
        let mut report = attribute::attribute(self.config, &request)?;
        attribute::seal(&mut report, self.config.keys.service.as_deref())?;
        let mut ledger = LogSite::configured(self.config)?.open()?;
        attribute::record_report(&mut report, &mut ledger)?;
        let (json, html) = attribute::write_report(&report, &self.out.join("reports"), id)?;
        Ok(UseCase {
            id,
            title,
            input,
            report_files: [json, html],
            answer: report.verdict.summary.clone(),
            report,
        })
    }

    /// Use case 1: a provider marks its output in every layer; a reader strips the
    /// credential and edits the text; attribution still names the provider, model and
    /// generation. Its counter-example: the same model's unmarked output, which the
    /// provider states is AI-generated, breaches the marking duty.
    fn mark_at_the_source(&mut self) -> Result<[UseCase; 2]> {
        let marked = self.marked(1, &self.out.join("1-mark-at-the-source.signed.txt"))?;
        let unmarked = self.unmarked(2, 300)?;
        Ok([
            self.attribute(
                "1-mark-at-the-source",
                "Mark at the source: the credential stripped and the text edited",
                "1-mark-at-the-source.txt",
                &edit(&marked),
                None,
            )?,
            self.attribute(
                "1b-unmarked-output",
                "The same model without the watermark: the marking is missing",
                "1b-unmarked-output.txt",
                &unmarked,
                Some(true),
            )?,
        ])
    }

    /// Use case 2: an output that reproduces passages of a document whose owner had
    /// reserved text and data mining before it was collected (as a model that memorised
    /// it would: the demo splices two of its passages into the model's text).
    fn trace_to_training_data(&mut self) -> Result<UseCase> {
        let source = read_corpus_text(self.corpus, OPTED_OUT_DOCUMENT)?;
        let output = format!(
            "{}\n\n{}\n\n{}\n\n{}\n",
            self.unmarked(3, 60)?,
            paragraphs(&source, 0, 1),
            self.unmarked(4, 60)?,
            paragraphs(&source, 2, 1),
        );
        self.attribute(
            "2-trace-to-training-data",
            "Trace to the training data: an output reproducing an opted-out work",
            "2-trace-to-training-data.txt",
            &output,
            None,
        )
    }

    /// Use case 3: an author's document with their own paragraphs, an AI draft (marked
    /// by its provider, credential stripped in the copy-paste) and a quoted, licensed
    /// source.
    fn mixed_document(&mut self) -> Result<UseCase> {
        let draft = self.marked(5, &self.out.join("3-mixed-document.draft.signed.txt"))?;
        let quoted = paragraphs(&read_corpus_text(self.corpus, QUOTED_DOCUMENT)?, 1, 1);
        let document = format!(
            "{AUTHOR_OPENING}{draft}{AUTHOR_BRIDGE}{quoted}\n(Tomás Ferreira, \"Broa and the \
             yellow flour\", CC BY 4.0){AUTHOR_CLOSING}"
        );
        self.attribute(
            "3-mixed-document",
            "Who owns a mixed document: the author's, the AI's and a quoted source's parts",
            "3-mixed-document.txt",
            &document,
            None,
        )
    }
}

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
    if !index.join(tracemark_trace::index::INDEX_FILE).exists() {
        if options.corpus.is_none() {
            write_corpus(&out.join(CORPUS_DIR))?;
        }
        let corpora = [corpus.clone()];
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
    let loaded = source.load()?;
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
    })
}

/// Runs the demo in `out`: prepares the work folder, then the three use cases.
pub fn run(out: &Path, options: &Options) -> Result<DemoSummary> {
    let mut ws = prepare(out, options)?;
    let log = match ws.config.log.location() {
        LogLocation::Sqlite(path) => path.to_owned(),
        _ => ws.out.join("ledger.db"),
    };
    let model = ws.loaded.name.clone();
    let mut cases = UseCases {
        config: &ws.config,
        out: &ws.out,
        corpus: options.corpus.as_deref(),
        loaded: &mut ws.loaded,
        corpus_model: ws.corpus_model,
        seed: options.seed,
    };
    let mut use_cases = Vec::from(cases.mark_at_the_source()?);
    use_cases.push(cases.trace_to_training_data()?);
    use_cases.push(cases.mixed_document()?);
    Ok(DemoSummary {
        model,
        use_cases,
        index: ws.index,
        corpus: ws.corpus,
        config: ws.config_path,
        key_store: ws.store.root().to_owned(),
        log,
        keys: ws.keys,
        out: ws.out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracemark_core::{
        fact::{Claim, CredentialState},
        rights::Permission,
    };
    use tracemark_policy::{Outcome, report::Origin};

    fn case<'a>(summary: &'a DemoSummary, id: &str) -> &'a EvidenceReport {
        &summary
            .use_cases
            .iter()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("no use case {id}"))
            .report
    }

    fn outcome(report: &EvidenceReport, rule: &str) -> Outcome {
        report
            .rules
            .iter()
            .find(|r| r.id == rule)
            .unwrap_or_else(|| panic!("no rule {rule}"))
            .outcome
    }

    #[derive(serde::Deserialize)]
    struct GenerationRecordFile {
        generation_id: String,
    }

    fn claims(report: &EvidenceReport) -> impl Iterator<Item = &Claim> {
        report.facts.iter().map(|f| &f.claim)
    }

    /// The seeded run's watermark verdict is not borderline: p < 1e-10 against a threshold
    /// of 1e-3 (so a change that erodes the margin shows here, not as a flake later).
    fn assert_far_below_threshold(report: &EvidenceReport) {
        let p = claims(report)
            .find_map(|c| match c {
                Claim::Watermark(w) => Some(w.verdict.p_value.log10()),
                _ => None,
            })
            .expect("a watermark finding");
        assert!(p < -10.0, "log10 p = {p}: the seed's margin is gone");
    }

    /// Use case 1: the stripped, edited copy still leads to the provider's log record
    /// through the watermark's payload; the marking duty is met. Unmarked output breaches it.
    fn assert_mark_at_the_source(summary: &DemoSummary) {
        let report = case(summary, "1-mark-at-the-source");
        assert!(claims(report).any(|c| matches!(c, Claim::Watermark(w) if w.verdict.detected)));
        assert_far_below_threshold(report);
        assert!(
            claims(report)
                .any(|c| matches!(c, Claim::Credential(cr) if cr.state == CredentialState::None))
        );
        let Some(Claim::LogEntry(entry)) = claims(report).find(|c| matches!(c, Claim::LogEntry(_)))
        else {
            panic!("the log record is not found: {:?}", report.facts);
        };
        // The record of the very generation that was marked.
        let record: GenerationRecordFile = serde_json::from_slice(
            &std::fs::read(summary.out.join("1-mark-at-the-source.signed.record.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(entry.generation_id.as_ref(), Some(&record.generation_id));
        assert_eq!(entry.provider.as_deref(), Some(PROVIDER));
        assert!(entry.inclusion_verified && entry.generation_id.is_some());
        assert!(
            entry
                .model
                .as_deref()
                .is_some_and(|m| m.starts_with("corpus-kn3"))
        );
        assert_eq!(outcome(report, "EU-AIA-50-2"), Outcome::Compliant);

        let unmarked = case(summary, "1b-unmarked-output");
        assert!(!claims(unmarked).any(|c| matches!(c, Claim::Watermark(w) if w.verdict.detected)));
        assert_eq!(outcome(unmarked, "EU-AIA-50-2"), Outcome::NonCompliant);
    }

    /// Use case 2: the spans name the opted-out document, its owner and its reservation.
    fn assert_traced_to_opted_out_work(summary: &DemoSummary) {
        let report = case(summary, "2-trace-to-training-data");
        let copied = report
            .verdict
            .sources
            .iter()
            .find(|s| s.document_id == OPTED_OUT_DOCUMENT)
            .expect("the opted-out document is named");
        assert!(copied.share > 0.3, "{copied:?}");
        assert!(claims(report).any(|c| matches!(c,
            Claim::Rights(r) if r.document_id == OPTED_OUT_DOCUMENT
                && r.permission == Permission::Disallowed && r.seen_at.is_some())));
        assert_eq!(outcome(report, "EU-DSM-4-3"), Outcome::NonCompliant);
    }

    /// Use case 3: the author's paragraphs stay unattributed, the draft is the AI's and
    /// the quotation the source's, each as byte ranges of the document.
    fn assert_mixed_document_split(summary: &DemoSummary) {
        let report = case(summary, "3-mixed-document");
        let text = report.subject.text.as_deref().unwrap();
        let origin_at = |needle: &str| {
            let at = text.find(needle).unwrap() + needle.len() / 2;
            report
                .segments
                .iter()
                .find(|s| s.range.start() <= at && at < s.range.end())
                .map(|s| s.origin)
        };
        assert_eq!(
            origin_at("notebook of the stories"),
            Some(Origin::Unattributed)
        );
        // To its last sentence: the AI segment starts after the author's opening.
        assert_eq!(
            origin_at("What follows is one of those evenings"),
            Some(Origin::Unattributed),
            "{:?}",
            report.segments
        );
        assert_far_below_threshold(report);
        assert_eq!(
            origin_at("declared it the best bread"),
            Some(Origin::Unattributed)
        );
        let quoted = paragraphs(&read_corpus_text(None, QUOTED_DOCUMENT).unwrap(), 1, 1);
        assert_eq!(origin_at(&quoted[..80]), Some(Origin::Source));
        let ai = report.verdict.ai_share;
        assert!(
            ai > 0.3 && report.verdict.source_share > 0.05,
            "{:?}",
            report.verdict
        );
        assert!(report.verdict.unattributed_share > 0.1);
    }

    /// The seed the tests run the demo with: its key and generation ids are fixed, so its
    /// verdicts are the same every run (with fresh ones, the mixed document's AI segment
    /// took in the author's opening in about 1 run in 50). Chosen among seeds 1 to 30 for
    /// the widest margins, which the asserts below keep: the marked texts test at
    /// p < 1e-13 in both runs (the threshold is 1e-3; some seeds gave 1e-3.3), and the AI
    /// segment starts after the author's opening (some seeds started it 100 bytes inside).
    const SEED: u64 = 5;

    fn seeded() -> Options {
        Options {
            seed: Some(SEED),
            ..Options::default()
        }
    }

    #[test]
    fn runs_the_three_use_cases_and_reuses_its_work_folder() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("demo");
        let first = run(&out, &seeded()).unwrap();
        assert_eq!(first.keys.len(), 4);
        assert_eq!(first.model, "corpus-kn3");
        assert_mark_at_the_source(&first);
        assert_traced_to_opted_out_work(&first);
        assert_mixed_document_split(&first);
        // Every report is sealed, signed with the service key and logged: trusted by a
        // reader who trusts the work folder's configuration.
        let trusted =
            crate::trust::TrustedKeys::configured(&Config::load(&first.config).unwrap()).unwrap();
        for case in &first.use_cases {
            let json = std::fs::read_to_string(&case.report_files[0]).unwrap();
            let check = crate::verify::verify_report(&json, &trusted).unwrap();
            assert_eq!(
                check.conclusion.trust,
                crate::trust::Trust::Trusted,
                "{}",
                case.id
            );
            assert!(check.logged.is_some(), "{}", case.id);
            let html = std::fs::read_to_string(&case.report_files[1]).unwrap();
            assert!(html.contains("EU-AIA-50-2"));
        }
        assert!(first.keys.iter().all(|k| !k.reused));
        let config = Config::load(&first.config).unwrap();
        assert_eq!(
            config.keys.store.as_deref(),
            Some(first.key_store.as_path())
        );

        let second = run(&out, &seeded()).unwrap();
        assert!(second.keys.iter().all(|k| k.reused));
        let ids = |s: &DemoSummary| s.keys.iter().map(|k| k.key_id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&first), ids(&second));
        assert_mark_at_the_source(&second);
    }

    #[test]
    fn with_a_model_the_marked_output_is_attributed() {
        let dir = tempfile::tempdir().unwrap();
        let options = Options {
            model: Some(tracemark_testkit::model_dir()),
            ..seeded()
        };
        let summary = run(dir.path(), &options).unwrap();
        let report = case(&summary, "1-mark-at-the-source");
        // The 260k-parameter model leaves the watermark little room (its edited text
        // tests anywhere from p ~ 2e-2 to 1e-8 under a 16-bit payload's correction), so
        // this asks only what holds every time: the log record of this model's
        // generation is found (by payload or sketch) and names the provider.
        assert!(
            claims(report).any(|c| matches!(c, Claim::LogEntry(e)
                if e.provider.as_deref() == Some(PROVIDER)
                    && e.model.as_deref().is_some_and(|m| m.contains("tinystories-260k")))),
            "{:?}",
            report.facts
        );
        assert_eq!(
            outcome(case(&summary, "1b-unmarked-output"), "EU-AIA-50-2"),
            Outcome::NonCompliant
        );
    }

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
        let index = crate::corpus::open(&ws.index, None).unwrap();
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

    #[test]
    fn a_damaged_key_is_reported_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let summary = run(dir.path(), &Options::default()).unwrap();
        let wm = &summary.keys[0].path;
        keyfile::write_file(wm, b"{", Secrecy::Secret, Replace::Yes).unwrap();
        let err = run(dir.path(), &Options::default()).unwrap_err();
        assert!(
            err.to_string().contains("not a Tracemark key file"),
            "{err}"
        );
        assert_eq!(std::fs::read(wm).unwrap(), b"{");
    }
}
