//! Models: a llama2.c checkpoint exported for HF transformers.

use std::path::PathBuf;

use pyo3::prelude::*;
use tracemark::lm::{bpe::Llama2cTokenizer, convert, llama2c::Weights};

use crate::error::{to_py, usage};

/// Writes the llama2.c model in `model_dir` (`model.bin`, `tokenizer.bin`) as an HF
/// llama folder `out_dir` (`config.json`, `model.safetensors`, `tokenizer.json`) that
/// `transformers.AutoModelForCausalLM.from_pretrained` loads.
#[pyfunction]
pub fn llama2c_to_hf(py: Python<'_>, model_dir: PathBuf, out_dir: PathBuf) -> PyResult<()> {
    py.detach(|| {
        let checkpoint = model_dir.join("model.bin");
        let bytes = std::fs::read(&checkpoint).map_err(|e| {
            usage(
                format!("cannot read {}: {e}", checkpoint.display()),
                "pass a llama2.c model folder (model.bin and tokenizer.bin)",
            )
        })?;
        let weights = Weights::parse(&bytes).map_err(|reason| {
            usage(
                format!(
                    "{} is not a llama2.c checkpoint: {reason}",
                    checkpoint.display()
                ),
                "pass a llama2.c model folder (model.bin and tokenizer.bin)",
            )
        })?;
        let tokenizer = Llama2cTokenizer::load(&model_dir.join("tokenizer.bin")).map_err(to_py)?;
        convert::llama2c_to_hf(&weights, &tokenizer, &out_dir).map_err(to_py)
    })
}
