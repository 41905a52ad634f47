//! `tracemark demo`: the README's main job, on embedded defaults, with no download and
//! no server.
//!
//! It sets up a self-contained work folder (a key store with a key of every kind, the
//! demo corpus, embedded in the binary and written out to `corpus/`, its index, and a
//! `tracemark.toml` that names them and an SQLite log beside them) and proves each part
//! usable by reading it back through the same loaders the other commands use. Nothing is
//! read from the source tree, so an installed binary runs it from any folder. Then it
//! runs the three use cases with the model (the corpus model unless one is given), each
//! ending in a sealed, logged evidence report in `reports/` (with a model directory, the
//! model is signed and its release logged first, so that the reports name it by its
//! verified identity): a provider marking its
//! output (and the same output unmarked), a rights holder tracing an output to an
//! opted-out work, and an author's mixed document. Running it again reuses the keys,
//! index and log that are there.
//!
//! Its modules: `corpus`, the demo corpus built into the binary ([`CORPUS`]);
//! `work_folder`, the work folder ([`prepare`], also what `tracemark serve` serves
//! without a configuration); `use_cases`, the three use cases, each ending in an
//! evidence report ([`UseCase`]); `summary`, what a run set up and found
//! ([`DemoSummary`]), which [`run`] returns.

use std::path::Path;

use tracemark::{Result, config::LogLocation};

mod corpus;
mod summary;
mod use_cases;
mod work_folder;

pub use corpus::{CORPUS, CORPUS_DIR};
pub use summary::{DemoKey, DemoSummary};
pub use use_cases::UseCase;
pub use work_folder::{DemoModel, Options, Workspace, prepare};

use use_cases::UseCases;

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
        model_identity: ws.model_identity,
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
mod tests;
