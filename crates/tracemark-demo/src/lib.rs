//! `tracemark demo`: the README's main job, on embedded defaults, with no download and
//! no server.
//!
//! It sets up a self-contained work folder (a key store with a key of every kind, the
//! demo corpus, embedded in the binary and written out to `corpus/`, its index, and a
//! `tracemark.toml` that names them and an SQLite log beside them) and proves each part
//! usable by reading it back through the same loaders the other commands use. Nothing is
//! read from the source tree, so an installed binary runs it from any folder. Then it
//! runs the four use cases with the model (the corpus model unless one is given), each
//! ending in a sealed, logged evidence report in `reports/` (with a model directory, the
//! model is signed and its release logged first, so that the reports name it by its
//! verified identity): a provider marking its
//! output (and the same output unmarked), a rights holder tracing an output to an
//! opted-out work, an author's mixed document, and an AI image marked, signed, re-encoded as
//! JPEG and stripped of its credential. Running it again reuses the keys,
//! index and log that are there.
//!
//! Its modules: `corpus`, the demo corpus built into the binary ([`CORPUS`]);
//! `work_folder`, the work folder ([`prepare`], also what `tracemark serve` serves
//! without a configuration); `use_cases`, the four use cases, each ending in an
//! evidence report ([`UseCase`]); `summary`, what a run set up and found
//! ([`DemoSummary`]), which [`run`] returns.

use std::path::{Path, PathBuf};

use tracemark::{
    Config, Result,
    config::LogLocation,
    policy::{Date, summary::ProviderInfo},
};

mod corpus;
mod summary;
mod use_cases;
mod work_folder;

pub use corpus::{CORPUS, CORPUS_DIR};
pub use summary::{DemoKey, DemoSummary};
pub use use_cases::UseCase;
pub use work_folder::{DemoModel, Options, Workspace, prepare};

use use_cases::UseCases;

/// Runs the demo in `out`: prepares the work folder, then the four use cases.
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
    use_cases.push(cases.media_marking()?);
    let training_summary = training_summary(&ws.config, &ws.index, &model, &ws.out)?;
    Ok(DemoSummary {
        model,
        model_identity: ws.model_identity,
        collection: ws.collection,
        use_cases,
        training_summary,
        index: ws.index,
        corpus: ws.corpus,
        config: ws.config_path,
        key_store: ws.store.root().to_owned(),
        log,
        keys: ws.keys,
        out: ws.out,
    })
}

/// The demo provider's public summary of training content (AI Act Art. 53(1)(d)) for
/// the demo corpus, in `training-summary/`: what the corpus measures, what the demo's
/// configuration states (the provider, the model, the market date), the rest left to
/// fill as a real provider would have to.
fn training_summary(config: &Config, index: &Path, model: &str, out: &Path) -> Result<PathBuf> {
    let mut info = ProviderInfo::default();
    let mut state = |key: &str, value: &str| {
        info.fields.insert(key.into(), value.into());
    };
    if let Some(name) = &config.provider.name {
        state("provider", name);
    }
    state("model_names", model);
    if let Some(date) = config.provider.placed_on_market {
        state("placed_on_market", &date.to_string());
    }
    let index = tracemark::corpus::open(index, None)?;
    let census = tracemark::summary::census(std::slice::from_ref(&index), None)?;
    let written =
        tracemark::summary::write(&census, &info, Date::today(), &out.join("training-summary"))?;
    Ok(written.summary)
}

#[cfg(test)]
mod tests;
