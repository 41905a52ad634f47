//! Text pipelines: generate with a watermark, and detect one.
//!
//! Generation runs a model ([`tracemark_lm::load`]) through the sampling loop with a
//! watermark key's scheme; detection needs only the key and a tokenizer (the model's),
//! since every scheme is tested on token ids. Positions come back as byte ranges of the
//! text the user gave.

use std::path::Path;

use serde::Serialize;
use tracemark_core::{ByteRange, ContentHash, KeyId, PValue, Payload, Segment, keyfile};
use tracemark_lm::{
    LoadedModel, Tokenizer,
    sampling::{self, SamplingParams},
};
use tracemark_watermark::{
    SchemeId, WatermarkKey,
    watermarker::{DetectOptions, Unmarked, Watermarker},
};

use crate::error::{Error, Result};

/// Reads a watermark key, checking that it was made for `tokenizer` when it says which.
pub fn load_key(path: &Path, tokenizer: Option<&dyn Tokenizer>) -> Result<WatermarkKey> {
    if let Some(scheme) = crate::media::media_scheme_of(path) {
        return Err(Error::usage(
            format!(
                "{} is a media watermark key ({scheme}): it marks and tests images or sound, not text",
                path.display()
            ),
            Some("give a text watermark key (`tracemark keygen watermark --scheme kgw-selfhash-v1`), or an image or a WAV file to test".to_owned()),
        ));
    }
    let key: WatermarkKey = keyfile::read_json(path)?;
    if let (Some(binding), Some(tokenizer)) = (&key.tokenizer, tokenizer)
        && (binding.hash != tokenizer.hash()
            || binding.vocab_size as usize != tokenizer.vocab_size())
    {
        return Err(Error::usage(
            format!(
                "{} was made for the tokenizer {} ({} tokens), not {} ({} tokens)",
                path.display(),
                binding.hash,
                binding.vocab_size,
                tokenizer.hash(),
                tokenizer.vocab_size()
            ),
            Some("pass the --model whose tokenizer the key was made for".to_owned()),
        ));
    }
    Ok(key)
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenerateRequest<'a> {
    pub prompt: &'a str,
    /// `None` generates without a watermark.
    pub key: Option<&'a Path>,
    /// Hex; must fit the key's payload width.
    pub payload: Option<&'a str>,
    pub sampling: SamplingParams,
}

/// A generation and everything needed to record and later attribute it.
#[derive(Debug, Clone, Serialize)]
pub struct Generated {
    /// The generated continuation (without the prompt).
    pub text: String,
    /// The generated token ids.
    pub tokens: Vec<u32>,
    /// Token ids of the prompt as the model saw it (BOS first).
    pub prompt_tokens: Vec<u32>,
    pub model: String,
    pub model_hash: ContentHash,
    pub content_hash: ContentHash,
    pub scheme: Option<SchemeId>,
    pub key_id: Option<KeyId>,
    pub payload: Option<Payload>,
    pub seed: u64,
}

/// Generates a continuation of `request.prompt`, marked with the key unless none is given.
pub fn generate(loaded: &mut LoadedModel, request: &GenerateRequest<'_>) -> Result<Generated> {
    generate_streaming(loaded, request, &mut |_| {})
}

/// [`generate`], calling `on_token` with each token id as soon as it is chosen.
pub fn generate_streaming(
    loaded: &mut LoadedModel,
    request: &GenerateRequest<'_>,
    on_token: &mut dyn FnMut(u32),
) -> Result<Generated> {
    let tokenizer = loaded.tokenizer.as_ref();
    let mut prompt_tokens: Vec<u32> = tokenizer.bos().into_iter().collect();
    prompt_tokens.extend(
        tokenizer
            .encode(request.prompt)?
            .into_iter()
            .map(|(id, _)| id),
    );
    let mut params = request.sampling.clone();
    params.stop_token = params.stop_token.or(tokenizer.eos());

    let (tokens, scheme, key_id, payload) = match request.key {
        None => {
            if request.payload.is_some() {
                return Err(Error::usage(
                    "a payload needs a watermark",
                    Some("drop --payload or --no-watermark".into()),
                ));
            }
            let tokens = sampling::generate(
                loaded.model.as_mut(),
                &prompt_tokens,
                &params,
                &mut Unmarked,
                &mut *on_token,
            )?;
            (tokens, None, None, None)
        }
        Some(path) => {
            let key = load_key(path, Some(tokenizer))?;
            let watermarker = Watermarker::new(&key, tokenizer.vocab_size())?;
            let payload = request
                .payload
                .map(|hex| Payload::from_hex(hex, watermarker.payload_bits().max(1)))
                .transpose()?;
            let mut marker = watermarker.start(&prompt_tokens, payload)?;
            let tokens = sampling::generate(
                loaded.model.as_mut(),
                &prompt_tokens,
                &params,
                &mut marker,
                &mut *on_token,
            )?;
            (
                tokens,
                Some(key.scheme()),
                Some(key.key_id.clone()),
                payload,
            )
        }
    };
    let text = loaded.tokenizer.decode(&tokens)?;
    Ok(Generated {
        content_hash: ContentHash::of_bytes(text.as_bytes()),
        text,
        tokens,
        prompt_tokens,
        model: loaded.name.clone(),
        model_hash: loaded.weights_hash,
        scheme,
        key_id,
        payload,
        seed: params.seed,
    })
}

/// What to test for a watermark.
#[derive(Clone, Copy)]
pub enum DetectInput<'a> {
    /// Text, tokenized with the given tokenizer; segments are byte ranges of it.
    Text(&'a str, &'a dyn Tokenizer),
    /// Token ids as they are.
    Tokens(&'a [u32]),
}

impl std::fmt::Debug for DetectInput<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DetectInput::Text(text, _) => write!(f, "Text({} bytes)", text.len()),
            DetectInput::Tokens(tokens) => write!(f, "Tokens({} ids)", tokens.len()),
        }
    }
}

/// A detection with the key's identity and the marked segments found.
#[derive(Debug, Clone, Serialize)]
pub struct DetectReport {
    pub detected: bool,
    #[serde(flatten)]
    pub p_value: PValue,
    pub false_positive_rate: f64,
    pub scored_tokens: u64,
    pub scheme: SchemeId,
    pub key_id: KeyId,
    /// Hex of the decoded payload, when the key carries one and the text is marked.
    pub payload: Option<String>,
    /// Marked passages found by windowed detection (byte ranges for text input).
    pub segments: Vec<DetectedSegment>,
    pub mean_score: f64,
    /// The full verdict, with the method's parameters.
    pub verdict: tracemark_core::Verdict,
    /// The decoded payload, as the log looks it up.
    #[serde(skip)]
    pub decoded_payload: Option<Payload>,
    /// The marked passages as byte ranges with their verdicts (text input only).
    #[serde(skip)]
    pub byte_segments: Vec<Segment>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DetectedSegment {
    /// Byte range of the text (absent for token input).
    pub range: Option<ByteRange>,
    /// Token range `start..end` in the detector's tokenization.
    pub tokens: [usize; 2],
    #[serde(flatten)]
    pub p_value: PValue,
}

/// The vocabulary size detection must assume: the key's tokenizer's, else the one given.
/// Green lists and payload digits depend on it, so it is never guessed.
pub fn vocab_size(key: &WatermarkKey, tokenizer: Option<&dyn Tokenizer>) -> Result<usize> {
    match (&key.tokenizer, tokenizer) {
        (_, Some(t)) => Ok(t.vocab_size()),
        (Some(binding), None) => Ok(binding.vocab_size as usize),
        (None, None) => Err(Error::usage(
            "the key does not say which tokenizer it was made for",
            Some("pass --model with the model whose tokenizer generated the text".to_owned()),
        )),
    }
}

/// Tests `input` for the watermark of `key` at false-positive rate `fpr`, for a
/// vocabulary of `vocab_size` tokens (see [`vocab_size`]).
pub fn detect(
    key: &WatermarkKey,
    input: DetectInput<'_>,
    vocab_size: usize,
    fpr: f64,
) -> Result<DetectReport> {
    let (tokens, offsets): (Vec<u32>, Option<Vec<ByteRange>>) = match input {
        DetectInput::Tokens(tokens) => (tokens.to_vec(), None),
        DetectInput::Text(text, tokenizer) => {
            let encoded = tokenizer.encode(text)?;
            let offsets = encoded
                .iter()
                // The tokenizer library is not ours to trust: order each range ourselves.
                .map(|(_, r)| ByteRange::new(r.start.min(r.end), r.end).expect("start <= end"))
                .collect();
            (
                encoded.into_iter().map(|(id, _)| id).collect(),
                Some(offsets),
            )
        }
    };
    let watermarker = Watermarker::new(key, vocab_size)?;
    let options = DetectOptions::new(fpr);
    let (detection, token_segments) = watermarker.detect_with_segments(&tokens, &options)?;
    let byte_segments: Option<Vec<Segment>> = offsets
        .as_deref()
        .map(|offsets| tracemark_watermark::to_byte_segments(&token_segments, offsets))
        .transpose()?;
    let segments = token_segments
        .iter()
        .enumerate()
        .map(|(i, s)| DetectedSegment {
            range: byte_segments.as_ref().map(|b| b[i].range),
            tokens: [s.tokens.start, s.tokens.end],
            p_value: s.verdict.p_value,
        })
        .collect();
    let verdict = detection.verdict;
    Ok(DetectReport {
        decoded_payload: detection.payload,
        byte_segments: byte_segments.unwrap_or_default(),
        detected: verdict.detected,
        p_value: verdict.p_value,
        false_positive_rate: verdict.false_positive_rate,
        scored_tokens: verdict.scored,
        scheme: key.scheme(),
        key_id: key.key_id.clone(),
        payload: detection.payload.map(|p| p.to_string()),
        segments,
        mean_score: detection.mean_score,
        verdict,
    })
}
