//! Marking inside someone else's generation loop, one step at a time.
//!
//! [`BatchMarker`] is what the transformers adapters call: each step it gets the batch's
//! `input_ids` (prompt included) and the next-token scores, as numpy arrays that share
//! memory with torch's CPU tensors, and marks the scores in place with the GIL released.
//! Only ids and the marked scores cross: the vocabulary-wide rows are never copied.
//! [`Sampler`] is Tracemark's own sampling loop ([`tracemark::lm::sampling::step`]) for a
//! model that Python runs.

use std::sync::Arc;

use numpy::{
    PyArray1, PyReadonlyArray1, PyReadonlyArray2, PyReadwriteArray2, PyUntypedArrayMethods,
};
use pyo3::prelude::*;
use rayon::prelude::*;
use tracemark::{
    core::Payload,
    lm::sampling::{self, SamplingParams, SeededRng},
    watermark::{Decision, WatermarkError, WatermarkSampler, Watermarker, watermarker::Generation},
};

use crate::{
    error::{to_py, usage},
    keys::PyKey,
};

fn payload(watermarker: &Watermarker, hex: Option<&str>) -> PyResult<Option<Payload>> {
    hex.map(|h| Payload::from_hex(h, watermarker.payload_bits().max(1)))
        .transpose()
        .map_err(to_py)
}

/// One row of the batch: its generation, and the ids it had at the last step (padding
/// included), which tell a continued row from a new `generate()` call.
#[derive(Debug)]
struct Row {
    generation: Generation<'static>,
    ids: Vec<i64>,
    /// The row received the pad id after it finished: nothing more to mark.
    finished: bool,
}

/// Per-`generate()` marking state for a batch (see the module docs).
#[derive(Debug)]
#[pyclass(name = "BatchMarker", module = "tracemark")]
pub struct BatchMarker {
    watermarker: Arc<Watermarker>,
    payload: Option<Payload>,
    pad: Option<i64>,
    rows: Vec<Row>,
}

impl BatchMarker {
    /// Which rows continue the last step: `Some(true)` all, `Some(false)` none (a new
    /// generation), `None` some but not all (rows were reordered or replaced).
    fn continues(&self, ids: &[&[i64]]) -> Option<bool> {
        if self.rows.len() != ids.len() {
            return Some(false);
        }
        let continued = self
            .rows
            .iter()
            .zip(ids)
            .filter(|(row, now)| now.len() == row.ids.len() + 1 && now.starts_with(&row.ids))
            .count();
        match continued {
            n if n == ids.len() => Some(true),
            0 => Some(false),
            _ => None,
        }
    }

    /// Starts one generation per row, after the row's left padding.
    fn start(&mut self, ids: &[&[i64]]) -> PyResult<()> {
        let mut rows = Vec::with_capacity(ids.len());
        for (b, row) in ids.iter().enumerate() {
            let pads = self
                .pad
                .map_or(0, |pad| row.iter().take_while(|&&t| t == pad).count());
            if self.pad.is_some_and(|pad| row[pads..].contains(&pad)) {
                return Err(usage(
                    format!("row {b} has padding after its first token"),
                    "pad on the left (tokenizer padding_side='left'), as generation needs",
                ));
            }
            let prompt = self.token_ids(b, &row[pads..])?;
            let generation = self
                .watermarker
                .start_shared(&prompt, self.payload)
                .map_err(to_py)?;
            rows.push(Row {
                generation,
                ids: row.to_vec(),
                finished: false,
            });
        }
        self.rows = rows;
        Ok(())
    }

    fn token_ids(&self, row: usize, ids: &[i64]) -> PyResult<Vec<u32>> {
        let vocab = self.watermarker.vocab_size();
        ids.iter()
            .map(|&t| match u32::try_from(t) {
                Ok(id) if (id as usize) < vocab => Ok(id),
                _ => Err(out_of_vocab(row, t, vocab)),
            })
            .collect()
    }

    /// Feeds each row the token the last step chose.
    fn accept(&mut self, ids: &[&[i64]]) -> PyResult<()> {
        let vocab = self.watermarker.vocab_size();
        for (b, (row, now)) in self.rows.iter_mut().zip(ids).enumerate() {
            let token = *now.last().expect("a continued row is longer");
            row.ids.push(token);
            if row.finished {
                continue;
            }
            match u32::try_from(token) {
                Ok(id) if (id as usize) < vocab => row.generation.accept(id).map_err(to_py)?,
                // transformers appends the pad id to rows that have finished.
                _ if Some(token) == self.pad => row.finished = true,
                _ => return Err(out_of_vocab(b, token, vocab)),
            }
        }
        Ok(())
    }
}

fn out_of_vocab(row: usize, token: i64, vocab: usize) -> PyErr {
    usage(
        format!("row {row} holds token id {token}, outside the key's vocabulary of {vocab}"),
        "bind the key to the model's tokenizer (WatermarkKey.generate(..., tokenizer=...)), \
         and pass pad_token_id if the batch is padded with an id outside it",
    )
}

/// Marks one row of scores: the first `vocab` entries by the scheme, the model's padding
/// columns beyond the tokenizer's vocabulary removed (no tokenizer id maps to them).
fn mark_row(
    generation: &mut Generation<'_>,
    scores: &mut [f32],
    vocab: usize,
) -> Result<(), WatermarkError> {
    let (marked, padding) = scores.split_at_mut(vocab);
    padding.fill(f32::NEG_INFINITY);
    if let Decision::Token(t) = generation.step(marked)? {
        marked.fill(f32::NEG_INFINITY);
        marked[t as usize] = 0.0;
    }
    Ok(())
}

#[pymethods]
impl BatchMarker {
    /// A marker for `vocab_size` tokens (the key's tokenizer's), writing `payload` (hex)
    /// into each generation; rows are left-padded with `pad_token_id`, if given.
    #[new]
    #[pyo3(signature = (key, vocab_size, *, payload = None, pad_token_id = None))]
    fn new(
        key: &PyKey,
        vocab_size: usize,
        payload: Option<&str>,
        pad_token_id: Option<i64>,
    ) -> PyResult<Self> {
        let watermarker = Arc::new(key.watermarker(vocab_size)?);
        let payload = self::payload(&watermarker, payload)?;
        // A payload the key cannot carry fails here, not at the first step.
        watermarker.start(&[], payload).map_err(to_py)?;
        Ok(Self {
            watermarker,
            payload,
            pad: pad_token_id,
            rows: Vec::new(),
        })
    }

    #[getter]
    fn vocab_size(&self) -> usize {
        self.watermarker.vocab_size()
    }

    #[getter]
    fn scheme(&self) -> &'static str {
        self.watermarker.scheme().as_str()
    }

    /// Forgets every row: the next step starts new generations.
    fn reset(&mut self) {
        self.rows.clear();
    }

    /// Marks `scores` (B, V ≥ vocab_size, float32, C-contiguous) in place for the rows
    /// of `input_ids` (B, L, int64). A scheme that chooses the token (Gumbel-max) leaves
    /// its row `-inf` but for the chosen id, which is 0.
    fn step(
        &mut self,
        py: Python<'_>,
        input_ids: PyReadonlyArray2<'_, i64>,
        mut scores: PyReadwriteArray2<'_, f32>,
    ) -> PyResult<()> {
        let vocab = self.watermarker.vocab_size();
        let [batch, columns] = [scores.shape()[0], scores.shape()[1]];
        if input_ids.shape()[0] != batch {
            return Err(usage(
                format!(
                    "input_ids has {} rows but scores has {batch}",
                    input_ids.shape()[0]
                ),
                "pass the input_ids and scores of the same step",
            ));
        }
        if columns < vocab {
            return Err(usage(
                format!("scores have {columns} columns, fewer than the key's {vocab} tokens"),
                "use the key made for this model's tokenizer",
            ));
        }
        let ids_view = input_ids.as_array();
        let ids: Vec<&[i64]> = ids_view
            .rows()
            .into_iter()
            .map(|r| {
                r.to_slice()
                    .expect("rows of a C-contiguous array are slices")
            })
            .collect();
        match self.continues(&ids) {
            Some(true) => self.accept(&ids)?,
            Some(false) => self.start(&ids)?,
            None => {
                return Err(usage(
                    "the batch's rows do not continue the previous step's rows",
                    "beam search and row reordering are not supported: generate with \
                     num_beams=1, or call reset() between generate() calls",
                ));
            }
        }
        let scores = scores.as_slice_mut().map_err(|_| {
            usage(
                "scores are not C-contiguous",
                "pass scores.contiguous() (the processors do)",
            )
        })?;
        let rows = &mut self.rows;
        py.detach(|| {
            rows.par_iter_mut()
                .zip(scores.par_chunks_mut(columns))
                .filter(|(row, _)| !row.finished)
                .try_for_each(|(row, s)| mark_row(&mut row.generation, s, vocab))
        })
        .map_err(to_py)
    }
}

/// Tracemark's own sampling loop, one step at a time, for a model Python runs: the same
/// warpers, watermark step and seeded draw as `tracemark generate`.
#[derive(Debug)]
#[pyclass(name = "Sampler", module = "tracemark")]
pub struct Sampler {
    generation: Generation<'static>,
    vocab: usize,
    params: SamplingParams,
    rng: SeededRng,
}

impl Sampler {
    fn logits(&self, logits: &PyReadonlyArray1<'_, f32>) -> PyResult<Vec<f32>> {
        let logits = logits.as_slice().map_err(|_| {
            usage(
                "logits are not contiguous",
                "pass a contiguous float32 array",
            )
        })?;
        if logits.len() != self.vocab {
            return Err(usage(
                format!("{} logits for a vocabulary of {}", logits.len(), self.vocab),
                "pass the model's logits over the key's tokenizer vocabulary",
            ));
        }
        Ok(logits.to_vec())
    }
}

#[pymethods]
impl Sampler {
    #[new]
    #[pyo3(signature = (key, vocab_size, prompt, *, temperature = 1.0, top_k = 0, top_p = 1.0, seed = 0, payload = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        key: &PyKey,
        vocab_size: usize,
        prompt: Vec<i64>,
        temperature: f32,
        top_k: usize,
        top_p: f32,
        seed: u64,
        payload: Option<&str>,
    ) -> PyResult<Self> {
        let params = SamplingParams {
            temperature,
            top_k,
            top_p,
            seed,
            ..SamplingParams::default()
        };
        params.check().map_err(to_py)?;
        let watermarker = Arc::new(key.watermarker(vocab_size)?);
        let payload = self::payload(&watermarker, payload)?;
        let prompt = crate::detect::token_ids(&prompt)?;
        let generation = watermarker.start_shared(&prompt, payload).map_err(to_py)?;
        Ok(Self {
            generation,
            vocab: vocab_size,
            params,
            rng: SeededRng::new(seed),
        })
    }

    /// The loop's whole step on the model's `logits` (float32, vocab_size): the token.
    fn next(&mut self, py: Python<'_>, logits: PyReadonlyArray1<'_, f32>) -> PyResult<u32> {
        let mut logits = self.logits(&logits)?;
        let Self {
            generation,
            params,
            rng,
            ..
        } = self;
        py.detach(|| sampling::step(&mut logits, params, rng, generation))
            .map_err(to_py)
    }

    /// The warpers and the watermark's step without the draw: the token the scheme chose
    /// (or None), and the logits to sample from. Follow with `accept(token)`.
    fn propose<'py>(
        &mut self,
        py: Python<'py>,
        logits: PyReadonlyArray1<'_, f32>,
    ) -> PyResult<(Option<u32>, Bound<'py, PyArray1<f32>>)> {
        let mut logits = self.logits(&logits)?;
        sampling::warp(&mut logits, &self.params);
        let chosen = match self.generation.step(&mut logits).map_err(to_py)? {
            Decision::Token(t) => Some(t),
            Decision::Logits => None,
        };
        Ok((chosen, PyArray1::from_vec(py, logits)))
    }

    /// Tells the watermark which token was emitted.
    fn accept(&mut self, token: u32) -> PyResult<()> {
        self.generation.accept(token).map_err(to_py)
    }
}
