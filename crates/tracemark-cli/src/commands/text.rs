//! `tracemark generate`, `mark` and `detect`: text generated with a watermark, marked in
//! every layer, and tested for one.

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
};

use clap::Args;
use tracemark::{Config, Error, Result, model::ModelSource};

use super::input::read_input;
use crate::Output;
use tracemark::media::Sniffed;

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The model: a llama2.c checkpoint (tokenizer.bin beside it) or an HF llama directory
    /// [default: the configuration's model, else the corpus model of its first index].
    #[arg(long)]
    model: Option<PathBuf>,
    /// The watermark key [default: the configuration's first watermark key].
    #[arg(long, conflicts_with = "no_watermark")]
    key: Option<PathBuf>,
    #[command(flatten)]
    sampling: SamplingArgs,
    /// A payload to embed, in hex (needs a key configured for a payload).
    #[arg(long, conflicts_with = "no_watermark")]
    payload: Option<String>,
    /// Generate without a watermark.
    #[arg(long)]
    no_watermark: bool,
}

/// The prompt and how to sample its continuation.
#[derive(Debug, Args)]
pub struct SamplingArgs {
    #[arg(long)]
    prompt: String,
    #[arg(long, default_value_t = 200)]
    max_tokens: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Softmax temperature (0: greedy).
    #[arg(long, default_value_t = 1.0)]
    temperature: f32,
    /// Sample only from the k most likely tokens (0: all).
    #[arg(long, default_value_t = 0)]
    top_k: usize,
    /// Sample only from the most likely tokens that reach this probability (1: all).
    #[arg(long, default_value_t = 1.0)]
    top_p: f32,
}

impl SamplingArgs {
    fn params(&self) -> tracemark::lm::sampling::SamplingParams {
        tracemark::lm::sampling::SamplingParams {
            temperature: self.temperature,
            top_k: self.top_k,
            top_p: self.top_p,
            seed: self.seed,
            max_tokens: self.max_tokens,
            stop_token: None,
        }
    }
}

#[derive(Debug, Args)]
pub struct MarkArgs {
    /// The model [default: the configuration's model, else the corpus model of its first
    /// index].
    #[arg(long)]
    model: Option<PathBuf>,
    /// The model's signature (OpenSSF Model Signing) [default: `[model] signature` for
    /// the configured model, else `model.sig` in the model directory]. A signed model is
    /// named by its identity (the digest of its weights) in the credential and the log
    /// record (`tracemark.generation-record/v2`); an unsigned one by its name only (v1).
    #[arg(long, value_name = "MODEL.sig")]
    model_signature: Option<PathBuf>,
    #[command(flatten)]
    sampling: SamplingArgs,
    /// The signed text goes here; its record (`.record.json`) and log receipt
    /// (`.receipt`) beside it.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Debug, Args)]
pub struct DetectArgs {
    /// The watermark key [default: the configuration's first watermark key].
    #[arg(long)]
    key: Option<PathBuf>,
    /// The model whose tokenizer to use [default: the configuration's model, else the
    /// corpus model of its first index].
    #[arg(long)]
    model: Option<PathBuf>,
    /// Read token ids (whitespace- or comma-separated, or a JSON array) instead of text.
    #[arg(long)]
    tokens: bool,
    /// The false-positive rate the verdict guarantees.
    #[arg(long, default_value_t = 1e-3)]
    fpr: f64,
    /// The file to test (`-` for standard input).
    #[arg(default_value = "-")]
    file: PathBuf,
}

/// The watermark key path: the flag, else the configuration's first.
fn key_path(flag: Option<PathBuf>, config: &Config) -> Result<PathBuf> {
    flag.or_else(|| {
        tracemark::media::text_key_paths(config)
            .first()
            .map(|p| (*p).clone())
    })
    .ok_or_else(|| {
        Error::usage(
            "no watermark key given",
            Some("pass --key KEY.json (make one with `tracemark keygen watermark`)".into()),
        )
    })
}

pub(super) fn generate(args: GenerateArgs, config: Option<&Path>) -> Result<Output> {
    let (config, _) = Config::locate(config)?;
    let key = if args.no_watermark {
        None
    } else {
        Some(key_path(args.key, &config)?)
    };
    let mut loaded = ModelSource::choose(args.model.as_deref(), &config)?.load()?;
    let request = tracemark::text::GenerateRequest {
        prompt: &args.sampling.prompt,
        key: key.as_deref(),
        payload: args.payload.as_deref(),
        sampling: args.sampling.params(),
    };
    let generated = tracemark::text::generate(&mut loaded, &request)?;
    let mark = match (&generated.scheme, &generated.key_id) {
        (Some(scheme), Some(key_id)) => format!("watermarked with {scheme}, key {key_id}"),
        _ => "not watermarked".into(),
    };
    let human = format!(
        "{}{}\n\n[{} tokens, {mark}]",
        args.sampling.prompt,
        generated.text,
        generated.tokens.len()
    );
    Ok(Output::new(&generated, human))
}

pub(super) fn mark(args: MarkArgs, config: Option<&Path>) -> Result<Output> {
    let (mut config, _) = Config::locate(config)?;
    // The marking station names the model it loads: the flag's replaces the configured
    // one (whose configured signature is then not this model's).
    if let Some(model) = &args.model
        && config.model.path.as_deref() != Some(model.as_path())
    {
        config.model.path = Some(model.clone());
        config.model.signature = None;
    }
    if let Some(signature) = &args.model_signature {
        config.model.signature = Some(signature.clone());
    }
    let mut loaded = ModelSource::choose(args.model.as_deref(), &config)?.load()?;
    let marked = tracemark::mark::mark(
        &config,
        &mut loaded,
        &tracemark::mark::MarkRequest {
            prompt: &args.sampling.prompt,
            sampling: args.sampling.params(),
            out: &args.out,
        },
    )?;
    let r = &marked.record;
    let identity = match &r.model.digest {
        Some(d) => format!(
            "{} {d}{}",
            r.model.id,
            r.model
                .release
                .as_ref()
                .map(|rel| format!(" (release record at index {})", rel.index))
                .unwrap_or_default()
        ),
        None => format!(
            "{} by name only (the model is not signed: `tracemark model sign`)",
            r.model.id
        ),
    };
    let human = format!(
        "{}\n\n[{} tokens] marked by {} with {} (key {}, payload {}), credential signed, \
         logged at index {} of the log ({})\n  model:   {identity}\n  text:    {}\n  \
         record:  {}\n  receipt: {}",
        marked.text,
        marked.tokens,
        r.provider,
        r.watermark_scheme,
        r.key_id,
        r.payload,
        marked.entry.index,
        r.format,
        marked.text_file.display(),
        marked.record_file.display(),
        marked.receipt_file.display()
    );
    Ok(Output::new(&marked, human))
}

fn parse_tokens(text: &str) -> Result<Vec<u32>> {
    let trimmed = text.trim().trim_start_matches('[').trim_end_matches(']');
    trimmed
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
        .map(|t| {
            t.parse::<u32>().map_err(|_| {
                Error::usage(
                    format!("`{t}` is not a token id"),
                    Some("--tokens reads non-negative integers".to_owned()),
                )
            })
        })
        .collect()
}

pub(super) fn detect(args: DetectArgs, config: Option<&Path>) -> Result<Output> {
    use tracemark::text::{DetectInput, detect, load_key, vocab_size};
    let (config, _) = Config::locate(config)?;
    // An image or a sound (by its bytes) is tested with the media keys.
    let bytes = read_input(&args.file)?;
    if !args.tokens && !matches!(tracemark::media::sniff(&bytes), Sniffed::Other) {
        return super::media::detect_media(&bytes, args.key.as_deref(), &config, args.fpr);
    }
    let key_file = key_path(args.key, &config)?;
    if tracemark::media::media_scheme_of(&key_file).is_some() {
        // Said before the tokenizer is looked for: the key is the mistake.
        load_key(&key_file, None)?;
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        super::input::read_error(
            &args.file,
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("not UTF-8 text, nor a PNG, JPEG or WAV file ({e})"),
            ),
        )
    })?;
    // An embedded content credential is invisible characters the model never wrote:
    // test the text without it (the A.8 wrapper sits at the end, so ranges hold).
    let text = tracemark::credentials::strip_wrappers(&text);
    // Token ids need no tokenizer; text needs the model's (or the corpus model's).
    let tokenizer = match ModelSource::choose(args.model.as_deref(), &config) {
        Ok(source) => Some(source.tokenizer()?),
        Err(_) if args.tokens => None,
        Err(e) => return Err(e),
    };
    let tokenizer = tokenizer
        .as_deref()
        .map(|t| t as &dyn tracemark::lm::Tokenizer);
    let key = load_key(&key_file, tokenizer)?;
    let vocab = vocab_size(&key, tokenizer)?;
    let token_ids;
    let input = if args.tokens {
        token_ids = parse_tokens(&text)?;
        DetectInput::Tokens(&token_ids)
    } else {
        let tokenizer = tokenizer.ok_or_else(|| {
            Error::usage(
                "detecting text needs the model's tokenizer",
                Some("pass --model, or --tokens with token ids".into()),
            )
        })?;
        DetectInput::Text(&text, tokenizer)
    };
    let report = detect(&key, input, vocab, args.fpr)?;
    let verdict = if report.detected {
        "WATERMARK DETECTED"
    } else {
        "no watermark detected"
    };
    let mut human = format!(
        "{verdict} ({} key {}): p = {:.3e} (log10 {:.1}) over {} scored tokens, at false-positive rate {}",
        report.scheme,
        report.key_id,
        report.p_value.value(),
        report.p_value.log10(),
        report.scored_tokens,
        report.false_positive_rate
    );
    if let Some(payload) = &report.payload {
        let _ = write!(human, "\n  payload: {payload}");
    }
    for s in &report.segments {
        let where_ = s.range.map_or_else(
            || format!("tokens {}..{}", s.tokens[0], s.tokens[1]),
            |r| format!("bytes {}..{}", r.start(), r.end()),
        );
        let _ = write!(
            human,
            "\n  marked segment {where_}: p = {:.3e}",
            s.p_value.value()
        );
    }
    let mut output = Output::new(&report, human);
    output.status = if report.detected { 0 } else { 1 };
    Ok(output)
}
