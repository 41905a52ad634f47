//! The use cases, each ending in a sealed, logged evidence report in `reports/`:
//! a provider marking its output, and the same output unmarked (`mark_at_the_source`),
//! a rights holder tracing an output to an opted-out work (`trace_to_training_data`),
//! an author's mixed document (`mixed_document`), and an AI image marked, signed,
//! re-encoded and stripped of its credential (`media_marking`). This module holds what they
//! share: generation with and without the mark, and the attribution of what they wrote.

mod mark_at_the_source;
mod media_marking;

pub(crate) use media_marking::{IMAGE_KEY, image_key};
mod mixed_document;
mod trace_to_training_data;

use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};
use tracemark::{
    Error, Result, attribute,
    config::Config,
    core::{
        Timestamp,
        fact::{DetectorAccess, DetectorFinding, MarkKind},
        keyfile::{self, Replace, Secrecy},
    },
    lm::{LoadedModel, sampling::SamplingParams},
    log::LogSite,
    mark::{self, MarkRequest},
    policy::EvidenceReport,
    text::{self, GenerateRequest},
};

/// What the demo's provider states about detecting its watermarks: anyone may run
/// `tracemark detect`, or query `tracemark serve`, free of charge (AI Act Art. 50(2) asks
/// that marks be detectable, and a report cannot see how a detector is offered).
fn demo_detector() -> DetectorFinding {
    DetectorFinding {
        mark: MarkKind::Watermark,
        name: "tracemark detect, and POST /v1/detect of tracemark serve".into(),
        access: DetectorAccess::Free,
        url: None,
    }
}

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

/// A prompt both a story model and the demo corpus can continue.
const PROMPT: &str = "Once upon a time";

fn write_text(path: &Path, text: &str) -> Result<()> {
    keyfile::write_file(path, text.as_bytes(), Secrecy::Public, Replace::Yes)?;
    Ok(())
}

/// The passage of `document` from its `from`-th paragraph, `count` paragraphs long.
pub(crate) fn paragraphs(document: &str, from: usize, count: usize) -> String {
    document
        .split("\n\n")
        .filter(|p| p.len() > 200)
        .skip(from)
        .take(count)
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// What every use case runs on: the demo's configuration, work folder, corpus and model.
pub(crate) struct UseCases<'a> {
    pub(crate) config: &'a Config,
    pub(crate) out: &'a Path,
    /// The corpus folder given, or none for the embedded one.
    pub(crate) corpus: Option<&'a Path>,
    pub(crate) loaded: &'a mut LoadedModel,
    pub(crate) corpus_model: bool,
    /// The seed of the generation ids, when the run is seeded.
    pub(crate) seed: Option<u64>,
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
        let as_of = today();
        let stated = if ai_generated == Some(true) {
            " --ai-generated"
        } else {
            ""
        };
        let request = attribute::Request {
            content: attribute::Content::new(content.as_bytes(), Some(name)),
            as_of,
            jurisdictions: self.config.policy.jurisdictions.clone(),
            ai_generated,
            command: format!(
                "tracemark --config tracemark.toml attribute --as-of {as_of}{stated} {name}"
            ),
        };
        let report = attribute::Attributor::load(self.config, attribute::Disclosure::Full)
            .with_detector(demo_detector())
            .attribute(&request);
        self.conclude(self.config, report, id, title, input)
    }

    /// Seals, signs and logs a use case's report and writes its files.
    fn conclude(
        &self,
        config: &Config,
        mut report: EvidenceReport,
        id: &'static str,
        title: &'static str,
        input: PathBuf,
    ) -> Result<UseCase> {
        attribute::seal(&mut report, config.keys.service.as_deref())?;
        let mut ledger = LogSite::configured(config)?.open()?;
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
}

/// Today's date (UTC), the date the use cases' reports apply the law of.
fn today() -> tracemark::policy::Date {
    Timestamp::now().to_string()[..10]
        .parse()
        .expect("an RFC 3339 time starts with a date")
}
