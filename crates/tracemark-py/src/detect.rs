//! Detection: the report `tracemark detect --json` prints, for one text or many.

use pyo3::prelude::*;
use rayon::prelude::*;
use tracemark::{
    lm::Tokenizer,
    text::{self, DetectInput},
    watermark::{SchemeConfig, synthid::SynthId},
};

use crate::{
    error::{self, to_py},
    keys::{PyKey, PyTokenizer},
};

/// Token ids from Python: ints that must fit the vocabulary's `u32` ids.
pub fn token_ids(tokens: &[i64]) -> PyResult<Vec<u32>> {
    tokens
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            u32::try_from(t).map_err(|_| {
                error::usage(
                    format!("token {t} at index {i} is not a token id (ids are 0 to 2^32-1)"),
                    "pass the ids the tokenizer produced, without padding or -1 markers",
                )
            })
        })
        .collect()
}

fn report_json(report: &text::DetectReport) -> String {
    serde_json::to_string(report).expect("a detect report serialises")
}

/// Tests `text` (tokenized by `tokenizer`) or `tokens` for the key's watermark; returns
/// the JSON of `tracemark detect --json`.
#[pyfunction]
#[pyo3(signature = (key, *, text = None, tokens = None, tokenizer = None, false_positive_rate = 1e-3))]
pub fn detect(
    py: Python<'_>,
    key: &PyKey,
    text: Option<&str>,
    tokens: Option<Vec<i64>>,
    tokenizer: Option<PyRef<'_, PyTokenizer>>,
    false_positive_rate: f64,
) -> PyResult<String> {
    let vocab = key.vocab_size(tokenizer.as_deref())?;
    let tok = tokenizer.as_deref().map(|t| t.inner.clone());
    let ids = tokens.as_deref().map(token_ids).transpose()?;
    let report = py.detach(|| {
        let input = match (text, &ids, &tok) {
            (Some(text), None, Some(tok)) => DetectInput::Text(text, &**tok as &dyn Tokenizer),
            (None, Some(ids), _) => DetectInput::Tokens(ids),
            (Some(_), None, None) => {
                return Err(tracemark::Error::usage(
                    "detecting text needs its tokenizer",
                    Some(
                        "pass tokenizer=Tokenizer(MODEL_DIR) (the model that generated it)".into(),
                    ),
                ));
            }
            _ => {
                return Err(tracemark::Error::usage(
                    "give exactly one of text= and tokens=",
                    None,
                ));
            }
        };
        text::detect(&key.key, input, vocab, false_positive_rate)
    });
    report.map(|r| report_json(&r)).map_err(to_py)
}

/// [`detect`] on many texts (with their tokenizer) or token lists, in parallel (all
/// cores, the GIL released). Each item is the report's JSON, or `{"error": {...}}` for an
/// item that could not be tested, so one bad item does not lose the others.
#[pyfunction]
#[pyo3(signature = (key, texts = None, tokenizer = None, *, tokens = None, false_positive_rate = 1e-3))]
pub fn detect_many(
    py: Python<'_>,
    key: &PyKey,
    texts: Option<Vec<String>>,
    tokenizer: Option<PyRef<'_, PyTokenizer>>,
    tokens: Option<Vec<Vec<i64>>>,
    false_positive_rate: f64,
) -> PyResult<Vec<String>> {
    let vocab = key.vocab_size(tokenizer.as_deref())?;
    let detect = |input| match text::detect(&key.key, input, vocab, false_positive_rate) {
        Ok(report) => report_json(&report),
        Err(e) => error::to_json(e).to_string(),
    };
    match (texts, tokens, tokenizer) {
        (Some(texts), None, Some(tokenizer)) => {
            let tok = tokenizer.inner.clone();
            Ok(py.detach(|| {
                texts
                    .par_iter()
                    .map(|t| detect(DetectInput::Text(t, &*tok as &dyn Tokenizer)))
                    .collect()
            }))
        }
        (None, Some(lists), _) => {
            let lists = lists
                .iter()
                .map(|l| token_ids(l))
                .collect::<PyResult<Vec<_>>>()?;
            Ok(py.detach(|| {
                lists
                    .par_iter()
                    .map(|ids| detect(DetectInput::Tokens(ids)))
                    .collect()
            }))
        }
        (Some(_), None, None) => Err(error::usage(
            "detecting texts needs their tokenizer",
            "pass tokenizer=Tokenizer(MODEL_DIR) (the model that generated them)",
        )),
        _ => Err(error::usage(
            "give exactly one of texts= and tokens=",
            "texts with their tokenizer, or lists of token ids",
        )),
    }
}

/// SynthID's g-values of `tokens` as its reference detector computes them: row `p` for
/// the n-gram `tokens[p..p + ngram_len]`, one 0/1 value per tournament layer (the
/// numbers transformers' `compute_g_values` gives on the same keys).
#[pyfunction]
pub fn synthid_g_values(key: &PyKey, tokens: Vec<i64>) -> PyResult<Vec<Vec<u32>>> {
    let SchemeConfig::SynthId(params) = &key.key.config else {
        return Err(error::usage(
            format!("{} is not a SynthID key", key.key.scheme()),
            "pass a synthid-v1 key",
        ));
    };
    let synthid = SynthId::new(params).map_err(to_py)?;
    let rows = synthid.score(&token_ids(&tokens)?, None).g_values;
    // As lists of ints (a `Vec<u8>` would reach Python as `bytes`).
    Ok(rows
        .into_iter()
        .map(|r| r.into_iter().map(u32::from).collect())
        .collect())
}
