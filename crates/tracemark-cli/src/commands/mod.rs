//! The subcommands: each turns its arguments into a call and its result into [`Output`].

mod attribute;
mod corpus;
mod credentials;
mod eval;
mod log;
mod serve;

use std::{
    fmt::Write as _,
    io::Read,
    path::{Path, PathBuf},
};

use clap::{Args, Subcommand};
use tracemark::{
    Config, Error, Result,
    config::ConfigSource,
    core::{ContentHash, KeyStore, Timestamp, keyfile::Replace},
    credentials::SigningAlgorithm,
    keygen::{self, Destination, GeneratedKey, KeySpec},
    model::ModelSource,
    watermark::SchemeId,
};

use crate::{Cli, Output};

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the demo in a work folder on embedded defaults (the README's main job).
    Demo {
        /// The work folder.
        #[arg(long, default_value = "tracemark-demo")]
        out: PathBuf,
        /// A model to generate with (e.g. models/tinystories-260k) [default: the
        /// configuration's model, else the corpus model of the demo corpus].
        #[arg(long)]
        model: Option<PathBuf>,
        /// A folder of texts to index instead of the demo corpus [default: the demo
        /// corpus, built into this binary and written to OUT/corpus].
        #[arg(long)]
        corpus: Option<PathBuf>,
        /// Make the watermark key and the marked generations from this seed, so that a
        /// fresh work folder gets the same texts and verdicts every time. The key is then
        /// known to anyone with the seed: for demonstrations, never for real marking.
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Serve the HTTP API and the web page (the OpenAPI document is at /openapi.json).
    /// With no configuration, sets up and serves the demo's work folder.
    Serve {
        /// Address to listen on [default: the configuration's, else 127.0.0.1:8080].
        #[arg(long)]
        addr: Option<String>,
        /// The demo work folder to serve when no configuration is found.
        #[arg(long, default_value = "tracemark-demo")]
        demo_dir: PathBuf,
    },
    /// Generate text with a model, watermarked with a key.
    Generate(GenerateArgs),
    /// Generate text marked in every layer: a watermark with a payload, a signed content
    /// credential, and a record in the transparency log (with its receipt).
    Mark(MarkArgs),
    /// Test a text (or token ids) for a watermark; exit status 1 when not detected.
    Detect(DetectArgs),
    /// Generate a key of any kind.
    #[command(subcommand)]
    Keygen(Keygen),
    /// Measure a capability end to end (`eval watermark`).
    #[command(subcommand)]
    Eval(eval::EvalCommand),
    /// Keys in the key store.
    #[command(subcommand)]
    Keys(Keys),
    /// List the watermark schemes and their ids.
    Schemes,
    /// Print the SHA-256 content hash of a file (`-` for standard input).
    Hash {
        file: PathBuf,
        /// Hash the NFC normal form of the text (C2PA text binding), not the raw bytes.
        #[arg(long)]
        nfc: bool,
    },
    /// Attach a signed C2PA content credential to text (embedded or sidecar) or media.
    Sign(credentials::SignArgs),
    /// Verify a content credential: trusted, untrusted, tampered (with the failing checks)
    /// or none; exit status 1 for tampered and none.
    Verify(credentials::VerifyArgs),
    /// Who owns this content: watermark, log, trace and the law, in an evidence report.
    Attribute(attribute::AttributeArgs),
    /// Evidence reports.
    #[command(subcommand)]
    Report(attribute::ReportCommand),
    /// Corpus indexes: build, inspect, withdraw documents.
    #[command(subcommand)]
    Index(corpus::IndexCommand),
    /// Count an n-gram's occurrences in an index.
    Count(corpus::CountArgs),
    /// Find every span of an output that occurs verbatim in an indexed corpus, with each
    /// source's owner, licence and opt-out.
    Trace(corpus::TraceArgs),
    /// The transparency log of generations: append, prove, checkpoint, verify receipts.
    #[command(subcommand)]
    Log(log::LogCommand),
    /// Rights signals: opt-outs and licences for text and data mining and AI uses.
    #[command(subcommand)]
    Rights(RightsCommand),
    /// Show or check the configuration in force.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Print the version and the formats this build writes.
    Version,
}

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

#[derive(Debug, Args)]
pub struct KeyOut {
    /// Where to write the key (a file for watermark keys, else a directory).
    #[arg(long, value_name = "PATH", conflicts_with = "name")]
    out: Option<PathBuf>,
    /// The key's name in the key store, when --out is not given.
    #[arg(long, default_value = KeyStore::DEFAULT_NAME)]
    name: String,
    /// Replace an existing key (the old one is lost).
    #[arg(long)]
    force: bool,
}

#[derive(Debug, Subcommand)]
pub enum Keygen {
    /// A secret watermark key (one JSON file).
    Watermark {
        /// The scheme id (`tracemark schemes` lists them) [default: kgw-selfhash-v1, or
        /// synthid-v1 with --from-transformers].
        #[arg(long)]
        scheme: Option<String>,
        /// Bind the key to this model's tokenizer (detecting with another is then an error).
        #[arg(long)]
        model: Option<PathBuf>,
        /// Bits of payload each generation carries (provider, model, generation tag;
        /// the log resolves the record from it); 0 for a zero-bit watermark. KGW and
        /// Gumbel schemes only.
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=64))]
        payload_bits: u8,
        /// Import the keys and parameters of an HF transformers
        /// `SynthIDTextWatermarkingConfig` (the JSON its `to_json_file` writes, or a
        /// `generation_config.json` holding one) instead of drawing fresh ones, so that
        /// text that transformers marked with it is detected (synthid-v1 only).
        #[arg(long, value_name = "CONFIG.json", conflicts_with = "payload_bits")]
        from_transformers: Option<PathBuf>,
        #[command(flatten)]
        out: KeyOut,
    },
    /// A content-credential signing key with a development certificate chain.
    Signing {
        /// ed25519 or es256.
        #[arg(long, default_value = "ed25519")]
        alg: String,
        /// The organisation named in the certificates.
        #[arg(long, default_value = "Tracemark development")]
        org: String,
        #[command(flatten)]
        out: KeyOut,
    },
    /// A transparency log's checkpoint key (C2SP signed-note).
    Log {
        /// The log's origin line, e.g. `log.example.com/tracemark`.
        #[arg(long, default_value = "localhost/tracemark-log")]
        origin: String,
        #[command(flatten)]
        out: KeyOut,
    },
    /// The service key that signs detection results (C2SP signed-note).
    Service {
        /// The service's key name, e.g. `attribution.example.com`.
        #[arg(long = "key-name", default_value = "localhost/tracemark")]
        key_name: String,
        #[command(flatten)]
        out: KeyOut,
    },
}

#[derive(Debug, Subcommand)]
pub enum Keys {
    /// List the keys in the key store.
    List,
}

#[derive(Debug, Subcommand)]
pub enum RightsCommand {
    /// Read one saved signal file (robots.txt, tdmrep.json, ai.txt, an RSL licence, an
    /// HTML page, or an HTTP response with headers) and print the decision per use.
    Check {
        /// The file to read.
        file: PathBuf,
        /// The asset the question is about (site-wide rules are evaluated for its path).
        #[arg(long, value_name = "URL")]
        asset: Option<String>,
        /// When the file was fetched (RFC 3339) [default: the file's modification time].
        #[arg(long, value_name = "TIME")]
        seen_at: Option<String>,
        /// The file's format when its name does not say (robots-txt, tdmrep-json, ai-txt, rsl,
        /// html, http-response, training-mining).
        #[arg(long)]
        format: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the configuration in force and where it came from.
    Show,
    /// Read the configuration and every key it names; fail on the first problem.
    Check,
}

pub fn run(cli: Cli) -> Result<Output> {
    match cli.command {
        Command::Demo {
            out,
            model,
            corpus,
            seed,
        } => {
            let model = match model {
                Some(m) => Some(m),
                None => Config::locate(cli.config.as_deref())?.0.model.path,
            };
            let options = tracemark::demo::Options {
                model,
                corpus,
                seed,
            };
            demo(&out, &options)
        }
        Command::Serve { addr, demo_dir } => serve::serve(addr, cli.config.as_deref(), &demo_dir),
        Command::Generate(args) => generate(args, cli.config.as_deref()),
        Command::Mark(args) => mark(args, cli.config.as_deref()),
        Command::Detect(args) => detect(args, cli.config.as_deref()),
        Command::Keygen(keygen) => keygen_cmd(keygen, cli.config.as_deref()),
        Command::Eval(cmd) => eval::run(cmd),
        Command::Keys(Keys::List) => keys_list(cli.config.as_deref()),
        Command::Schemes => Ok(schemes()),
        Command::Hash { file, nfc } => hash(&file, nfc),
        Command::Rights(RightsCommand::Check {
            file,
            asset,
            seen_at,
            format,
        }) => rights_check(
            &file,
            asset.as_deref(),
            seen_at.as_deref(),
            format.as_deref(),
        ),
        Command::Sign(args) => credentials::sign(args, cli.config.as_deref()),
        Command::Verify(args) => credentials::verify(args, cli.config.as_deref()),
        Command::Attribute(args) => attribute::attribute(args, cli.config.as_deref()),
        Command::Report(cmd) => attribute::report(cmd, cli.config.as_deref()),
        Command::Index(cmd) => corpus::index(cmd),
        Command::Count(args) => corpus::count(args),
        Command::Trace(args) => corpus::trace(args),
        Command::Log(cmd) => log::run(cmd, cli.config.as_deref()),
        Command::Config(cmd) => config_cmd(cmd, cli.config.as_deref()),
        Command::Version => Ok(version()),
    }
}

fn demo(out: &Path, options: &tracemark::demo::Options) -> Result<Output> {
    let summary = tracemark::demo::run(out, options)?;
    let mut human = format!("Demo work folder: {}\n", summary.out.display());
    for key in &summary.keys {
        let state = if key.reused { "reused" } else { "new" };
        let _ = writeln!(
            human,
            "  {:<9} key {}  {} ({state})",
            key.kind,
            key.key_id,
            key.path.display()
        );
    }
    let _ = writeln!(human, "  config        {}", summary.config.display());
    let _ = writeln!(human, "  corpus        {}", summary.corpus.display());
    let _ = writeln!(human, "  corpus index  {}", summary.index.display());
    let _ = writeln!(human, "  log (SQLite)  {}", summary.log.display());
    let _ = writeln!(human, "  model         {}", summary.model);
    for case in &summary.use_cases {
        let _ = writeln!(
            human,
            "\n{}\n  input:  {}\n  report: {}\n          {}",
            case.title,
            case.input.display(),
            case.report_files[0].display(),
            case.report_files[1].display()
        );
        for line in &case.answer {
            let _ = writeln!(human, "  > {line}");
        }
    }
    let _ = write!(
        human,
        "\nUse it with: tracemark --config {} attribute FILE",
        summary.config.display()
    );
    Ok(Output::new(&summary, human))
}

/// The watermark key path: the flag, else the configuration's first.
fn key_path(flag: Option<PathBuf>, config: &Config) -> Result<PathBuf> {
    flag.or_else(|| config.keys.watermark.first().cloned())
        .ok_or_else(|| {
            Error::usage(
                "no watermark key given",
                Some("pass --key KEY.json (make one with `tracemark keygen watermark`)".into()),
            )
        })
}

fn generate(args: GenerateArgs, config: Option<&Path>) -> Result<Output> {
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

fn mark(args: MarkArgs, config: Option<&Path>) -> Result<Output> {
    let (config, _) = Config::locate(config)?;
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
    let human = format!(
        "{}\n\n[{} tokens] marked by {} with {} (key {}, payload {}), credential signed, \
         logged at index {} of the log\n  text:    {}\n  record:  {}\n  receipt: {}",
        marked.text,
        marked.tokens,
        r.provider,
        r.watermark_scheme,
        r.key_id,
        r.payload,
        marked.entry.index,
        marked.text_file.display(),
        marked.record_file.display(),
        marked.receipt_file.display()
    );
    Ok(Output::new(&marked, human))
}

fn read_error(file: &Path, source: std::io::Error) -> Error {
    Error::Io {
        action: "read",
        path: file.to_owned(),
        source,
    }
}

/// `file`, or standard input for `-`.
fn open_input(file: &Path) -> Result<Box<dyn Read>> {
    if file.as_os_str() == "-" {
        return Ok(Box::new(std::io::stdin().lock()));
    }
    Ok(Box::new(
        std::fs::File::open(file).map_err(|e| read_error(file, e))?,
    ))
}

/// Inputs larger than this are refused (a detection request is text, not a corpus).
const MAX_DETECT_BYTES: u64 = 16 << 20;

fn read_input(file: &Path) -> Result<Vec<u8>> {
    let io_err = |source| read_error(file, source);
    let reader = open_input(file)?;
    let mut bytes = Vec::new();
    reader
        .take(MAX_DETECT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io_err)?;
    if bytes.len() as u64 > MAX_DETECT_BYTES {
        return Err(Error::usage(
            format!(
                "{} is larger than {} MiB",
                file.display(),
                MAX_DETECT_BYTES >> 20
            ),
            Some("split the text, or test the part in question".to_owned()),
        ));
    }
    Ok(bytes)
}

/// A text file (`-` for standard input), which must be UTF-8.
fn read_text(file: &Path) -> Result<String> {
    String::from_utf8(read_input(file)?).map_err(|e| {
        read_error(
            file,
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("not UTF-8 text ({e})"),
            ),
        )
    })
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

fn detect(args: DetectArgs, config: Option<&Path>) -> Result<Output> {
    use tracemark::text::{DetectInput, detect, load_key, vocab_size};
    let (config, _) = Config::locate(config)?;
    let key_file = key_path(args.key, &config)?;
    // An embedded content credential is invisible characters the model never wrote:
    // test the text without it (the A.8 wrapper sits at the end, so ranges hold).
    let text = tracemark::credentials::strip_wrappers(&read_text(&args.file)?);
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

fn keygen_cmd(keygen: Keygen, config: Option<&std::path::Path>) -> Result<Output> {
    let (spec, out) = match keygen {
        Keygen::Watermark {
            scheme,
            model,
            payload_bits,
            from_transformers,
            out,
        } => {
            let scheme = match (&scheme, &from_transformers) {
                (Some(scheme), _) => scheme.parse::<SchemeId>()?,
                (None, Some(_)) => SchemeId::SynthId,
                (None, None) => SchemeId::KgwSelfHash,
            };
            let tokenizer = model
                .as_deref()
                .map(|m| ModelSource::at(m).tokenizer())
                .transpose()?
                .map(|t| tracemark::watermark::TokenizerBinding {
                    hash: t.hash(),
                    vocab_size: t.vocab_size() as u32,
                });
            let spec = match from_transformers {
                Some(config) => KeySpec::WatermarkFromTransformers {
                    scheme,
                    config,
                    tokenizer,
                },
                None => KeySpec::Watermark {
                    scheme,
                    tokenizer,
                    payload_bits,
                },
            };
            (spec, out)
        }
        Keygen::Signing { alg, org, out } => {
            let algorithm = alg.parse::<SigningAlgorithm>()?;
            (
                KeySpec::Signing {
                    algorithm,
                    organization: org,
                },
                out,
            )
        }
        Keygen::Log { origin, out } => (KeySpec::Log { origin }, out),
        Keygen::Service { key_name, out } => (KeySpec::Service { name: key_name }, out),
    };
    let destination = match out.out {
        Some(path) => Destination::Path(path),
        None => Destination::Store {
            store: key_store(config)?,
            name: out.name,
        },
    };
    let replace = if out.force { Replace::Yes } else { Replace::No };
    let key = keygen::generate(&spec, &destination, replace)?;
    let human = describe_key(&key);
    Ok(Output::new(&key, human))
}

fn describe_key(key: &GeneratedKey) -> String {
    let mut human = format!(
        "Wrote a {} key to {}\n  key id: {}",
        key.kind,
        key.path.display(),
        key.key_id
    );
    if let Some(details) = key.details.as_object() {
        for (field, value) in details {
            let value = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_owned);
            let _ = write!(human, "\n  {field}: {value}");
        }
    }
    if let Some(public) = &key.public {
        let _ = write!(human, "\n  share this: {}", public.display());
    }
    human
}

/// The key store of the configuration in force.
fn key_store(config: Option<&std::path::Path>) -> Result<KeyStore> {
    let (config, _) = Config::locate(config)?;
    Ok(config.key_store()?)
}

fn keys_list(config: Option<&std::path::Path>) -> Result<Output> {
    let store = key_store(config)?;
    let keys = store.list()?;
    let mut human = format!("Key store: {}", store.root().display());
    if keys.is_empty() {
        human.push_str("\n  (no keys; make one with `tracemark keygen`)");
    }
    for key in &keys {
        let _ = write!(
            human,
            "\n  {:<9} {:<16} {}",
            key.kind,
            key.name,
            key.path.display()
        );
    }
    Ok(Output::new(
        serde_json::json!({ "store": store.root(), "keys": keys }),
        human,
    ))
}

fn schemes() -> Output {
    let list: Vec<_> = SchemeId::ALL
        .iter()
        .map(|s| serde_json::json!({ "id": s.as_str(), "summary": s.summary() }))
        .collect();
    let human = SchemeId::ALL
        .iter()
        .map(|s| format!("{:<16} {}", s.as_str(), s.summary()))
        .collect::<Vec<_>>()
        .join("\n");
    Output::new(serde_json::json!({ "schemes": list }), human)
}

fn hash(file: &std::path::Path, nfc: bool) -> Result<Output> {
    let io_err = |source| read_error(file, source);
    let reader = open_input(file)?;
    let hash = if nfc {
        let mut bytes = Vec::new();
        reader
            .take(u64::MAX)
            .read_to_end(&mut bytes)
            .map_err(io_err)?;
        let text = String::from_utf8(bytes).map_err(|e| {
            io_err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("not UTF-8 text ({e}); --nfc needs text"),
            ))
        })?;
        ContentHash::of_nfc_text(&text)
    } else {
        ContentHash::of_reader(reader).map_err(io_err)?
    };
    let json = serde_json::json!({ "hash": hash, "file": file, "normalisation": if nfc { "nfc" } else { "none" } });
    Ok(Output::new(json, format!("{hash}  {}", file.display())))
}

fn rights_check(
    file: &Path,
    asset: Option<&str>,
    seen_at: Option<&str>,
    format: Option<&str>,
) -> Result<Output> {
    use tracemark::rights::Format;
    let text = file.to_string_lossy();
    if text.starts_with("http://") || text.starts_with("https://") {
        return Err(Error::usage(
            format!("{text}: this build reads saved files, it does not fetch URLs"),
            Some(
                "save the response (e.g. `curl -si URL > robots.http`) and pass the file"
                    .to_owned(),
            ),
        ));
    }
    let seen_at = match seen_at {
        Some(t) => t
            .parse::<Timestamp>()
            .map_err(|e| Error::usage(e.to_string(), None))?,
        None => std::fs::metadata(file)
            .and_then(|m| m.modified())
            .ok()
            .map(Timestamp::from)
            .unwrap_or_else(Timestamp::now),
    };
    let format = format
        .map(str::parse::<Format>)
        .transpose()
        .map_err(|e| Error::usage(e.to_string(), None))?;
    let report = tracemark::rights::check_file(file, asset, seen_at, format)?;
    let mut human = format!(
        "{} ({:?}), seen {}\n",
        report.source, report.format, report.seen_at
    );
    for d in &report.decisions {
        let _ = writeln!(
            human,
            "  {:<12} {}",
            json_name(&d.usage),
            json_name(&d.permission)
        );
        for s in &d.signals {
            // A signal about a wider use (ai-train) also decides a narrower one.
            let via = if s.usage == d.usage {
                String::new()
            } else {
                format!(" via {}", json_name(&s.usage))
            };
            let _ = writeln!(
                human,
                "      {} {}{via}: {} ({})",
                json_name(&s.kind),
                json_name(&s.permission),
                s.raw.trim(),
                s.source
            );
        }
    }
    for a in &report.agents {
        let reserved: Vec<_> = a
            .decisions
            .iter()
            .filter(|d| d.permission == tracemark::core::rights::Permission::Disallowed)
            .collect();
        if !reserved.is_empty() {
            let uses: Vec<_> = reserved.iter().map(|d| json_name(&d.usage)).collect();
            let _ = writeln!(
                human,
                "  agent {}: reserved for {}",
                a.agent,
                uses.join(", ")
            );
        }
    }
    for note in &report.notes {
        let _ = writeln!(human, "  note: {note}");
    }
    Ok(Output::new(&report, human))
}

/// The name a value serialises to (`"genai-train"`, `"disallowed"`).
fn json_name(value: &impl serde::Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => "?".into(),
    }
}

fn config_cmd(cmd: ConfigCommand, explicit: Option<&std::path::Path>) -> Result<Output> {
    let (config, source) = Config::locate(explicit)?;
    let from = match &source {
        ConfigSource::Explicit(p)
        | ConfigSource::WorkingDirectory(p)
        | ConfigSource::KeyStore(p) => p.display().to_string(),
        ConfigSource::Defaults => "built-in defaults (no tracemark.toml found)".into(),
    };
    match cmd {
        ConfigCommand::Show => {
            let toml = config.to_toml();
            let human = format!("# from: {from}\n{toml}");
            Ok(Output::new(
                serde_json::json!({ "from": source, "config": config }),
                human,
            ))
        }
        ConfigCommand::Check => {
            let checked = tracemark::keygen::check_configured(&config)?;
            let mut human = format!("Configuration OK: {from}");
            for (kind, path, id) in &checked {
                let _ = write!(human, "\n  {kind:<9} key {id}  {}", path.display());
            }
            let keys: Vec<_> = checked
                .iter()
                .map(|(kind, path, id)| serde_json::json!({ "kind": kind, "path": path, "key_id": id }))
                .collect();
            Ok(Output::new(
                serde_json::json!({ "from": source, "ok": true, "keys": keys }),
                human,
            ))
        }
    }
}

fn version() -> Output {
    let formats: Vec<_> = tracemark::formats::WRITTEN
        .iter()
        .map(|(id, what)| serde_json::json!({ "format": id, "description": what }))
        .collect();
    let json = serde_json::json!({ "name": "tracemark", "version": tracemark::VERSION, "formats": formats });
    Output::new(
        json,
        format!("tracemark {}", tracemark::formats::long_version()),
    )
}
