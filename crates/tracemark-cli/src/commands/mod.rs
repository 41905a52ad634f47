//! The subcommands: each turns its arguments into a call and its result into [`Output`].
//!
//! A command family has a file with its arguments and its handlers: `text` (generate,
//! mark, detect), `media` (mark-media, detect on media), `keys` (keygen, keys, schemes), `credentials` (sign, verify),
//! `attribute` (attribute, report), `corpus` (index, count, trace), `batch` (bulk jobs
//! on Ray), `log`, `model` (sign, verify, bom, digest, log), `rights`, `summary`, `config`, `demo`,
//! `serve`, `eval`, `hash` and `version`; `input` reads what they are given and `print`
//! holds what they share to print. This file holds only the commands and their dispatch.

mod attribute;
mod batch;
mod config;
mod corpus;
mod credentials;
mod demo;
mod eval;
mod hash;
mod input;
mod keys;
mod log;
mod media;
mod model;
mod print;
mod rights;
mod serve;
mod summary;
mod text;
mod version;

use clap::Subcommand;
use tracemark::Result;

use crate::{Cli, Output};

// `attribute` reads its input through these (`use super::{read_input, read_text}`).
use input::{read_input, read_text};

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the demo in a work folder on embedded defaults (the README's main job).
    Demo(demo::DemoArgs),
    /// Serve the HTTP API and the web page (the OpenAPI document is at /openapi.json).
    /// With no configuration, sets up and serves the demo's work folder.
    Serve(serve::ServeArgs),
    /// Generate text with a model, watermarked with a key.
    Generate(text::GenerateArgs),
    /// Generate text marked in every layer: a watermark with a payload, a signed content
    /// credential, and a record in the transparency log (with its receipt).
    Mark(text::MarkArgs),
    /// Mark an image (PNG, JPEG) or a sound (WAV) in every layer: a watermark with a
    /// 64-bit payload, a signed C2PA credential embedded in the file, and a record in
    /// the transparency log (with its receipt).
    MarkMedia(media::MarkMediaArgs),
    /// Test a text (or token ids), an image (PNG, JPEG) or a sound (WAV), recognised by
    /// its bytes, for a watermark; exit status 1 when not detected.
    Detect(text::DetectArgs),
    /// Generate a key of any kind.
    #[command(subcommand)]
    Keygen(keys::Keygen),
    /// Measure a capability end to end (`eval watermark`).
    #[command(subcommand)]
    Eval(eval::EvalCommand),
    /// Keys in the key store.
    #[command(subcommand)]
    Keys(keys::Keys),
    /// List the watermark schemes and their ids.
    Schemes,
    /// Print the SHA-256 content hash of a file (`-` for standard input).
    Hash(hash::HashArgs),
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
    /// Bulk jobs on a Ray cluster: detect, verify, trace or attribute a dataset of texts
    /// (JSON Lines or Parquet in, Parquet out, one row per input with its id). Runs the
    /// Python package's `python -m tracemark.ray` (--python or TRACEMARK_PYTHON).
    #[command(subcommand)]
    Batch(batch::BatchCommand),
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
    /// Signed model releases (OpenSSF Model Signing): sign, verify, the ML-BOM, the
    /// model's identity.
    #[command(subcommand)]
    Model(model::ModelCommand),
    /// Rights signals: opt-outs and licences for text and data mining and AI uses.
    #[command(subcommand)]
    Rights(rights::RightsCommand),
    /// The public summary of a training corpus (AI Act Art. 53(1)(d)) on the AI Office's
    /// template: JSON, an HTML page and the top domains by content size.
    Summary(summary::SummaryArgs),
    /// Show or check the configuration in force.
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// Print the version and the formats this build writes.
    Version,
}

pub fn run(cli: Cli) -> Result<Output> {
    let config = cli.config.as_deref();
    match cli.command {
        Command::Demo(args) => demo::run(args, config),
        Command::Serve(args) => serve::serve(args, config),
        Command::Generate(args) => text::generate(args, config),
        Command::Mark(args) => text::mark(args, config),
        Command::MarkMedia(args) => media::mark_media(args, config),
        Command::Detect(args) => text::detect(args, config),
        Command::Keygen(keygen) => keys::keygen(keygen, config),
        Command::Eval(cmd) => eval::run(cmd),
        Command::Keys(keys::Keys::List) => keys::list(config),
        Command::Schemes => Ok(keys::schemes()),
        Command::Hash(args) => hash::hash(args),
        Command::Rights(cmd) => rights::run(cmd, config),
        Command::Sign(args) => credentials::sign(args, config),
        Command::Verify(args) => credentials::verify(args, config),
        Command::Attribute(args) => attribute::attribute(args, config),
        Command::Report(cmd) => attribute::report(cmd, config),
        Command::Batch(cmd) => batch::run(cmd, config),
        Command::Index(cmd) => corpus::index(cmd, config),
        Command::Count(args) => corpus::count(args),
        Command::Trace(args) => corpus::trace(args),
        Command::Log(cmd) => log::run(cmd, config),
        Command::Model(cmd) => model::run(cmd, config),
        Command::Summary(args) => summary::run(args),
        Command::Config(cmd) => config::run(cmd, config),
        Command::Version => Ok(version::version()),
    }
}
