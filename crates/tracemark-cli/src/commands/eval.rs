//! `tracemark eval ...`: measurements that back the claims the tools make.

use std::{io::Write as _, path::PathBuf};

use clap::{Args, Subcommand};
use tracemark::{Error, Result, watermark::SchemeId};
use tracemark_eval::EvalOptions;

use crate::Output;

#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Measure every watermark scheme on a model: detection at fixed false-positive
    /// rates, after edits and inside unmarked text; the false-positive rate measured
    /// against the claimed one; perplexity, diversity, speed and payload recovery.
    Watermark(WatermarkArgs),
    /// Measure the image and audio marks: quality (PSNR, SSIM, SNR), payload recovery
    /// after each attack of the media crate's table, wrong-key false positives, time per
    /// megapixel (the invisible-watermark baseline stays a script: it needs torch).
    Media(MediaArgs),
}

#[derive(Debug, Args)]
pub struct MediaArgs {
    /// Synthetic pictures of 512×512.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(0..=10_000))]
    pictures: u32,
    /// A folder of PNG/JPEG pictures to add, cut into 512×512 tiles (e.g. scikit-image's
    /// data folder).
    #[arg(long, value_name = "DIR")]
    natural: Option<PathBuf>,
    /// Wrong keys tried on each unmarked picture.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(0..=100_000))]
    keys: u32,
    /// Synthetic sound clips of 20 s.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=1_000))]
    clips: u32,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(Debug, Args)]
pub struct WatermarkArgs {
    /// The model to generate with (e.g. models/tinystories-260k).
    #[arg(long)]
    model: PathBuf,
    /// Generations per measurement.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    samples: u32,
    /// Fresh keys pooled for the false-positive calibration.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    keys: u32,
    /// Seed of the keys, edits and paste positions: one seed, one table (but for the
    /// timings).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Measure only this scheme (repeatable; default: every scheme). The payload
    /// matrix covers the payload schemes among them.
    #[arg(long = "scheme", value_name = "SCHEME")]
    schemes: Vec<SchemeId>,
}

pub fn run(command: EvalCommand) -> Result<Output> {
    let args = match command {
        EvalCommand::Watermark(args) => args,
        EvalCommand::Media(args) => return media(args),
    };
    // The serving stacks' marks are not Tracemark's to tune: asking to measure one would
    // otherwise measure nothing and say nothing.
    if let Some(s) = args.schemes.iter().find(|s| !SchemeId::ALL.contains(s)) {
        return Err(Error::usage(
            format!("`tracemark eval watermark` measures Tracemark's own schemes, not {s}"),
            Some(format!(
                "pick among {}; a serving stack's mark is checked against its own detector \
                 (python/benchmarks/vllm_crosscheck.py)",
                SchemeId::ALL.map(SchemeId::as_str).join(", ")
            )),
        ));
    }
    let options = EvalOptions {
        samples: args.samples as usize,
        keys: args.keys as usize,
        seed: args.seed,
        schemes: args.schemes,
    };
    let result = tracemark_eval::watermark(&args.model, &options, &mut |stage| {
        let _ = writeln!(std::io::stderr(), "eval: {stage}");
    })?;
    let human = result.to_markdown();
    Ok(Output::new(result, human))
}

fn media(args: MediaArgs) -> Result<Output> {
    let options = tracemark_eval::MediaEvalOptions {
        pictures: args.pictures as usize,
        natural: args.natural,
        keys: args.keys as usize,
        clips: args.clips as usize,
        seed: args.seed,
    };
    let result = tracemark_eval::media::media(&options, &mut |stage| {
        let _ = writeln!(std::io::stderr(), "eval media: {stage}");
    })?;
    if result.pictures == 0 && result.clips == 0 {
        return Err(Error::usage(
            "nothing to measure",
            Some("give --pictures, --natural or --clips".into()),
        ));
    }
    let human = result.to_markdown();
    Ok(Output::new(result, human))
}
