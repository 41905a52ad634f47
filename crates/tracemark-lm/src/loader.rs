//! Opening a model by path, whatever its format.

use std::path::Path;

use tracemark_core::ContentHash;

use crate::{
    HfModel, HfTokenizer, LanguageModel, Llama2cModel, Llama2cTokenizer, LmError, Tokenizer, hf,
};

/// A model with its tokenizer, checked to agree on the vocabulary.
pub struct LoadedModel {
    pub model: Box<dyn LanguageModel + Send>,
    pub tokenizer: Box<dyn Tokenizer + Send + Sync>,
    /// What a record or report calls the model: its format and file name.
    pub name: String,
    /// SHA-256 of the weights file.
    pub weights_hash: ContentHash,
}

impl std::fmt::Debug for LoadedModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedModel")
            .field("name", &self.name)
            .field("weights_hash", &self.weights_hash)
            .finish()
    }
}

/// Opens `path`: a directory with `config.json` (HF llama-family), a directory with
/// `model.bin` and `tokenizer.bin` (llama2.c), or a llama2.c checkpoint file with
/// `tokenizer.bin` beside it.
pub fn load(path: &Path) -> Result<LoadedModel, LmError> {
    let loaded = if path.join(hf::CONFIG_FILE).is_file() {
        let weights = path.join(hf::WEIGHTS_FILE);
        LoadedModel {
            model: Box::new(HfModel::load(path)?),
            tokenizer: Box::new(HfTokenizer::load(&path.join(hf::TOKENIZER_FILE))?),
            name: format!("hf:{}", file_name(path)),
            weights_hash: ContentHash::of_reader(std::fs::File::open(&weights).map_err(
                |source| LmError::Read {
                    path: weights.clone(),
                    source,
                },
            )?)
            .map_err(|source| LmError::Read {
                path: weights,
                source,
            })?,
        }
    } else {
        let checkpoint = if path.is_dir() {
            path.join("model.bin")
        } else {
            path.to_owned()
        };
        let dir = checkpoint.parent().unwrap_or(Path::new("."));
        let model = Llama2cModel::load(&checkpoint)?;
        LoadedModel {
            weights_hash: model.hash(),
            model: Box::new(model),
            tokenizer: Box::new(Llama2cTokenizer::load(&dir.join("tokenizer.bin"))?),
            name: format!(
                "llama2c:{}",
                file_name(if path.is_dir() { path } else { &checkpoint })
            ),
        }
    };
    let (tokenizer, model) = (loaded.tokenizer.vocab_size(), loaded.model.vocab_size());
    if tokenizer != model {
        return Err(LmError::VocabMismatch { tokenizer, model });
    }
    Ok(loaded)
}

/// Opens only the tokenizer of the model at `path` (same layouts as [`load`], or a
/// `tokenizer.json` file itself): detection needs token ids, not weights.
pub fn load_tokenizer(path: &Path) -> Result<Box<dyn Tokenizer + Send + Sync>, LmError> {
    if path.is_file() && path.extension().is_some_and(|e| e == "json") {
        return Ok(Box::new(HfTokenizer::load(path)?));
    }
    if path.join(hf::CONFIG_FILE).is_file() {
        return Ok(Box::new(HfTokenizer::load(&path.join(hf::TOKENIZER_FILE))?));
    }
    let dir = if path.is_dir() {
        path
    } else {
        path.parent().unwrap_or(Path::new("."))
    };
    Ok(Box::new(Llama2cTokenizer::load(
        &dir.join("tokenizer.bin"),
    )?))
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::model_dir;

    #[test]
    fn opens_a_directory_or_a_checkpoint() {
        let by_dir = load(&model_dir()).unwrap();
        let by_file = load(&model_dir().join("model.bin")).unwrap();
        assert_eq!(by_dir.weights_hash, by_file.weights_hash);
        assert_eq!(by_dir.name, "llama2c:tinystories-260k");
        assert_eq!(
            by_dir.weights_hash.to_hex(),
            "b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696"
        );
    }

    #[test]
    fn a_mismatched_tokenizer_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(model_dir().join("model.bin"), dir.path().join("model.bin")).unwrap();
        // A valid tokenizer with fewer tokens than the model.
        let mut small = 16i32.to_le_bytes().to_vec();
        for piece in [&b"<unk>"[..], b"<s>", b"</s>", b" ", b"a"] {
            small.extend_from_slice(&0f32.to_le_bytes());
            small.extend_from_slice(&(piece.len() as i32).to_le_bytes());
            small.extend_from_slice(piece);
        }
        std::fs::write(dir.path().join("tokenizer.bin"), small).unwrap();
        assert!(matches!(
            load(dir.path()),
            Err(LmError::VocabMismatch {
                tokenizer: 5,
                model: 512
            })
        ));
        std::fs::remove_file(dir.path().join("tokenizer.bin")).unwrap();
        assert!(matches!(load(dir.path()), Err(LmError::Read { .. })));
        assert!(load(&dir.path().join("nothing")).is_err());
    }
}
