//! Which model generates: a real one (llama2.c or HF llama-family), or the embedded
//! default, the corpus model: an interpolated Kneser-Ney word model of an indexed corpus.
//!
//! The corpus model needs no download and no GPU, and it generates text in the corpus's
//! own words, which is what the tracing use case needs (an output that reproduces parts
//! of a rights holder's work). Its tokenizer is a word tokenizer learnt from the corpus,
//! so that a watermark has a word-sized choice at every step rather than a byte-sized
//! one.

use std::path::{Path, PathBuf};

use tracemark_core::ContentHash;
use tracemark_lm::{LoadedModel, Tokenizer, word::WordTokenizer};
use tracemark_trace::{ByteTokenizer, IndexTokenizer, NgramModel};

use crate::{Config, Error, Result, corpus};

/// The order of the corpus model: trigrams interpolated down to unigrams (higher orders
/// on a corpus of a few hundred KB mostly copy it verbatim and leave a watermark no room).
pub const CORPUS_MODEL_ORDER: usize = 3;

/// Where a model comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    /// A llama2.c checkpoint or an HF model directory.
    Path(PathBuf),
    /// The corpus model of a byte-level index.
    Corpus(PathBuf),
}

impl ModelSource {
    /// A model path, or a corpus index directory (its corpus model).
    pub fn at(path: &Path) -> Self {
        if tracemark_trace::index::manifest_file(path).is_file() {
            ModelSource::Corpus(path.to_owned())
        } else {
            ModelSource::Path(path.to_owned())
        }
    }

    /// The flag's model, else the configuration's, else the corpus model of the first
    /// configured index.
    pub fn choose(flag: Option<&Path>, config: &Config) -> Result<Self> {
        if let Some(path) = flag.or(config.model.path.as_deref()) {
            return Ok(Self::at(path));
        }
        match config.index.paths.first() {
            Some(index) => Ok(ModelSource::Corpus(index.clone())),
            None => Err(Error::usage(
                "no model given and no corpus index configured",
                Some(
                    "pass --model (e.g. models/tinystories-260k), or set [model] path \
                     or [index] paths in tracemark.toml (`tracemark demo` writes one)"
                        .into(),
                ),
            )),
        }
    }

    pub fn load(&self) -> Result<LoadedModel> {
        match self {
            ModelSource::Path(path) => Ok(tracemark_lm::load(path)?),
            ModelSource::Corpus(index) => corpus_model(index),
        }
    }

    /// Only the tokenizer (what detection needs).
    pub fn tokenizer(&self) -> Result<Box<dyn Tokenizer + Send + Sync>> {
        match self {
            ModelSource::Path(path) => Ok(tracemark_lm::load_tokenizer(path)?),
            ModelSource::Corpus(index) => Ok(Box::new(corpus_texts(index)?.0)),
        }
    }
}

/// The documents of a byte-level index (whole or sharded) as text, and the word tokenizer learnt from them.
fn corpus_texts(dir: &Path) -> Result<(WordTokenizer, Vec<String>)> {
    let index = corpus::open(dir, None)?;
    let texts: Vec<String> = index
        .shards()
        .iter()
        .flat_map(|s| (0..s.documents()).map(move |d| s.doc_tokens(d)))
        .map(|ids| ByteTokenizer.decode(ids).unwrap_or_default())
        .collect();
    Ok((
        WordTokenizer::train(texts.iter().map(String::as_str)),
        texts,
    ))
}

/// The Kneser-Ney word model of the corpus in a byte-level index.
/// What records and reports call the corpus model (`corpus-kn3`).
pub fn corpus_model_name() -> String {
    format!("corpus-kn{CORPUS_MODEL_ORDER}")
}

pub fn corpus_model(dir: &Path) -> Result<LoadedModel> {
    let (tokenizer, texts) = corpus_texts(dir)?;
    let docs = texts
        .iter()
        .map(|t| {
            tokenizer.encode(t).map(|ids| {
                ids.into_iter()
                    .map(|(id, _)| id as u16)
                    .collect::<Vec<u16>>()
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let model = NgramModel::from_documents(
        docs.iter().map(Vec::as_slice),
        CORPUS_MODEL_ORDER,
        tokenizer.vocab_size(),
    )?;
    let manifest_path = tracemark_trace::index::manifest_file(dir);
    let manifest = std::fs::read(&manifest_path).map_err(|source| Error::Io {
        action: "read",
        path: manifest_path,
        source,
    })?;
    Ok(LoadedModel {
        model: Box::new(model),
        tokenizer: Box::new(tokenizer),
        name: corpus_model_name(),
        weights_hash: ContentHash::of_bytes(&manifest),
    })
}
