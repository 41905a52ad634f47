//! Tokenizers and watermark keys: the very files the CLI reads and writes.

use std::{path::PathBuf, sync::Arc};

use pyo3::prelude::*;
use tracemark::{
    core::keyfile::Replace,
    keygen::{self, Destination, KeySpec},
    watermark::{SchemeId, TokenizerBinding, WatermarkKey, Watermarker, deployed::vllm::Mapping},
};

use crate::error::{to_py, usage};

pub type SharedTokenizer = Arc<dyn tracemark::lm::Tokenizer + Send + Sync>;

/// A tokenizer: a `tokenizer.json`, a llama2.c `tokenizer.bin`, or a model folder (an HF
/// folder with `config.json`, or a llama2.c folder).
#[pyclass(name = "Tokenizer", module = "tracemark", frozen)]
pub struct PyTokenizer {
    pub inner: SharedTokenizer,
    path: PathBuf,
}

impl std::fmt::Debug for PyTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.__repr__())
    }
}

#[pymethods]
impl PyTokenizer {
    #[new]
    fn new(path: PathBuf) -> PyResult<Self> {
        // As the CLI's `--model`: a model, or a corpus index (its corpus model's tokenizer).
        let inner = tracemark::model::ModelSource::at(&path)
            .tokenizer()
            .map_err(to_py)?;
        Ok(Self {
            inner: Arc::from(inner),
            path,
        })
    }

    /// Tokens in the vocabulary.
    #[getter]
    fn vocab_size(&self) -> usize {
        self.inner.vocab_size()
    }

    /// `sha256:` hash of the tokenizer file, which binds watermark keys to it.
    #[getter]
    fn hash(&self) -> String {
        self.inner.hash().to_string()
    }

    #[getter]
    fn bos(&self) -> Option<u32> {
        self.inner.bos()
    }

    #[getter]
    fn eos(&self) -> Option<u32> {
        self.inner.eos()
    }

    /// The token ids of `text`.
    fn encode(&self, py: Python<'_>, text: &str) -> PyResult<Vec<u32>> {
        let encoded = py.detach(|| self.inner.encode(text)).map_err(to_py)?;
        Ok(encoded.into_iter().map(|(id, _)| id).collect())
    }

    /// The token ids of `text`, each with the byte range `(start, end)` of `text` it covers.
    fn encode_with_offsets(
        &self,
        py: Python<'_>,
        text: &str,
    ) -> PyResult<Vec<(u32, usize, usize)>> {
        let encoded = py.detach(|| self.inner.encode(text)).map_err(to_py)?;
        Ok(encoded
            .into_iter()
            .map(|(id, r)| (id, r.start, r.end))
            .collect())
    }

    /// The text of `ids`, as the tokenizer's own decoder writes it.
    fn decode(&self, ids: Vec<u32>) -> PyResult<String> {
        self.inner.decode(&ids).map_err(to_py)
    }

    fn __repr__(&self) -> String {
        format!(
            "Tokenizer({:?}, vocab_size={})",
            self.path.display().to_string(),
            self.inner.vocab_size()
        )
    }
}

/// A watermark key (`tracemark.watermark-key/v1`). Its secret never leaves Rust: no
/// attribute, `repr` or error shows it.
#[derive(Debug)]
#[pyclass(name = "WatermarkKey", module = "tracemark", frozen)]
pub struct PyKey {
    pub key: Arc<WatermarkKey>,
    path: PathBuf,
}

impl PyKey {
    /// The vocabulary the key marks and detects in: the tokenizer's when one is given
    /// (it must be the bound one), else the bound tokenizer's.
    pub fn vocab_size(&self, tokenizer: Option<&PyTokenizer>) -> PyResult<usize> {
        let tokenizer = tokenizer.map(|t| &*t.inner as &dyn tracemark::lm::Tokenizer);
        tracemark::text::vocab_size(&self.key, tokenizer).map_err(to_py)
    }

    /// The key made ready for `vocab_size` tokens.
    pub fn watermarker(&self, vocab_size: usize) -> PyResult<Watermarker> {
        Watermarker::new(&self.key, vocab_size).map_err(to_py)
    }
}

#[pymethods]
impl PyKey {
    /// Reads a key file; with `tokenizer`, checks that the key was made for it.
    #[staticmethod]
    #[pyo3(signature = (path, tokenizer = None))]
    fn load(path: PathBuf, tokenizer: Option<PyRef<'_, PyTokenizer>>) -> PyResult<Self> {
        let tokenizer = tokenizer
            .as_deref()
            .map(|t| &*t.inner as &dyn tracemark::lm::Tokenizer);
        let key = tracemark::text::load_key(&path, tokenizer).map_err(to_py)?;
        Ok(Self {
            key: Arc::new(key),
            path,
        })
    }

    /// Makes a fresh key and writes it to `path` (as `tracemark keygen watermark --out`),
    /// bound to `tokenizer` when given.
    #[staticmethod]
    #[pyo3(signature = (path, *, scheme = "kgw-selfhash-v1", payload_bits = 0, tokenizer = None, force = false))]
    fn generate(
        py: Python<'_>,
        path: PathBuf,
        scheme: &str,
        payload_bits: u8,
        tokenizer: Option<PyRef<'_, PyTokenizer>>,
        force: bool,
    ) -> PyResult<Self> {
        let scheme: SchemeId = scheme.parse().map_err(to_py)?;
        let tokenizer = tokenizer.as_deref().map(binding);
        let spec = KeySpec::Watermark {
            scheme,
            tokenizer,
            payload_bits,
        };
        let replace = if force { Replace::Yes } else { Replace::No };
        py.detach(|| keygen::generate(&spec, &Destination::Path(path.clone()), replace))
            .map_err(to_py)?;
        Self::load(path, None)
    }

    /// Imports a serving stack's watermark configuration (a JSON file) as a key written
    /// to `path`, as `tracemark keygen watermark --from-vllm | --from-sglang |
    /// --from-transformers`: `stack` is `"vllm"` (its `--watermark-config`; `mapping` the
    /// build's Philox token mapping, `"v1b"` for current builds, `"v1a"` for older ones),
    /// `"sglang"`, or `"transformers"` (a `SynthIDTextWatermarkingConfig`).
    #[staticmethod]
    #[pyo3(signature = (path, *, stack, config, mapping = "v1b", tokenizer = None, force = false))]
    fn import_config(
        py: Python<'_>,
        path: PathBuf,
        stack: &str,
        config: PathBuf,
        mapping: &str,
        tokenizer: Option<PyRef<'_, PyTokenizer>>,
        force: bool,
    ) -> PyResult<Self> {
        let tokenizer = tokenizer.as_deref().map(binding);
        let spec = match stack {
            "vllm" => KeySpec::WatermarkFromVllm {
                scheme: None,
                config,
                mapping: mapping.parse::<Mapping>().map_err(|_| {
                    usage(
                        format!("unknown vLLM token mapping {mapping:?}"),
                        "pass mapping=\"v1b\" (current vLLM builds) or \"v1a\" (older ones)",
                    )
                })?,
                tokenizer,
            },
            "sglang" => KeySpec::WatermarkFromSglang {
                scheme: None,
                config,
                tokenizer,
            },
            "transformers" => KeySpec::WatermarkFromTransformers {
                scheme: SchemeId::SynthId,
                config,
                tokenizer,
            },
            other => {
                return Err(usage(
                    format!("unknown serving stack {other:?}"),
                    "pass stack=\"vllm\", \"sglang\" or \"transformers\"",
                ));
            }
        };
        let replace = if force { Replace::Yes } else { Replace::No };
        py.detach(|| keygen::generate(&spec, &Destination::Path(path.clone()), replace))
            .map_err(to_py)?;
        Self::load(path, None)
    }

    /// The scheme id (`tracemark schemes` lists them).
    #[getter]
    fn scheme(&self) -> &'static str {
        self.key.scheme().as_str()
    }

    #[getter]
    fn key_id(&self) -> String {
        self.key.key_id.to_string()
    }

    /// Bits of payload each generation carries (0: zero-bit).
    #[getter]
    fn payload_bits(&self) -> PyResult<u8> {
        // The width does not depend on the vocabulary: any size the key accepts will do.
        let vocab = self
            .key
            .tokenizer
            .as_ref()
            .map_or(1 << 16, |b| b.vocab_size);
        Ok(self.watermarker(vocab as usize)?.payload_bits())
    }

    /// The vocabulary size of the tokenizer the key is bound to (None: unbound).
    #[getter]
    fn vocab_size_bound(&self) -> Option<u32> {
        self.key.tokenizer.as_ref().map(|b| b.vocab_size)
    }

    /// The `sha256:` hash of the tokenizer the key is bound to (None: unbound).
    #[getter]
    fn tokenizer_hash(&self) -> Option<String> {
        self.key.tokenizer.as_ref().map(|b| b.hash.to_string())
    }

    #[getter]
    fn path(&self) -> PathBuf {
        self.path.clone()
    }

    /// Keys are immutable: a copy is the key itself (transformers deep-copies
    /// generation configurations, and the watermarking configuration holds a key).
    fn __copy__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __deepcopy__(slf: Py<Self>, _memo: Bound<'_, PyAny>) -> Py<Self> {
        slf
    }

    fn __repr__(&self) -> String {
        format!(
            "WatermarkKey(scheme={:?}, key_id={:?})",
            self.key.scheme().as_str(),
            self.key.key_id.to_string()
        )
    }
}

/// What binds a key to `tokenizer`.
fn binding(tokenizer: &PyTokenizer) -> TokenizerBinding {
    TokenizerBinding {
        hash: tokenizer.inner.hash(),
        vocab_size: tokenizer.inner.vocab_size() as u32,
    }
}

/// The scheme ids with one line each, as `tracemark schemes` lists them.
#[pyfunction]
pub fn schemes() -> Vec<(&'static str, &'static str)> {
    SchemeId::EVERY
        .iter()
        .map(|s| (s.as_str(), s.summary()))
        .collect()
}
