//! The demo corpus, built into the binary (by `build.rs`, from the repository's
//! `corpus/demo`): written out to the work folder, and read for the documents the use
//! cases quote.

use std::path::Path;

use tracemark::{
    Error, Result,
    core::keyfile::{self, Replace, Secrecy},
};

/// The demo corpus, embedded in the binary: every file of the repository's
/// `corpus/demo` as (its path there, with `/`, and its bytes), sorted by path. The texts
/// are under `texts/`, each with its rights metadata (`NAME.meta.json`), whose signal
/// files are under `signals/`.
pub static CORPUS: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/demo_corpus.rs"));

/// Where [`prepare`](crate::prepare) writes [`CORPUS`] in the work folder.
pub const CORPUS_DIR: &str = "corpus";

/// The folder of [`CORPUS`] that is indexed (its signals sit beside it).
pub(crate) const TEXTS: &str = "texts";

/// The document the second use case's output reproduces: its owner reserved text and
/// data mining before the corpus was collected.
pub(crate) const OPTED_OUT_DOCUMENT: &str = "marrow-lane-press/dear-mr-aske.txt";

/// The source the third use case's author quotes, under its CC-BY licence.
pub(crate) const QUOTED_DOCUMENT: &str = "tomas-ferreira/broa-and-the-yellow-flour.txt";

/// Writes [`CORPUS`] into `dir` (replacing what an earlier, interrupted run left).
pub(crate) fn write_corpus(dir: &Path) -> Result<()> {
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

/// A document of the corpus the demo indexed: the embedded one's from the binary, a
/// corpus folder's (`--corpus`) from the folder.
pub(crate) fn read_corpus_text(corpus: Option<&Path>, document: &str) -> Result<String> {
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
