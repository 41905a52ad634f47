//! `tracemark mark-media`, and `tracemark detect` on an image or a sound.
//!
//! Marking media is its own command rather than `mark` on an image: `mark` runs a
//! language model on a prompt, while an image or a sound comes from the provider's own
//! model, already made; `mark-media` takes that file and the model's name, and marks,
//! signs and logs it.

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
};

use clap::Args;
use tracemark::{
    Config, Result,
    media::{self, MediaDetectReport, MediaDetector, MediaGenerator},
};

use super::input::read_limited;
use crate::Output;

#[derive(Debug, Args)]
pub struct MarkMediaArgs {
    /// The name of the model that made the image or sound (named in the credential and
    /// the log record).
    #[arg(long = "generator", value_name = "NAME")]
    generator: String,
    /// Its version.
    #[arg(
        long = "generator-version",
        value_name = "VERSION",
        default_value = "1"
    )]
    generator_version: String,
    /// The marked, signed file goes here (same format as the input); its record
    /// (`.record.json`) and log receipt (`.receipt`) beside it.
    #[arg(long)]
    out: PathBuf,
    /// The image (PNG, JPEG) or sound (WAV) to mark (`-` for standard input).
    file: PathBuf,
}

pub(super) fn mark_media(args: MarkMediaArgs, config: Option<&Path>) -> Result<Output> {
    let (config, _) = Config::locate(config)?;
    let bytes = read_limited(&args.file, media::MAX_MEDIA_BYTES)?;
    let same = match (args.file.canonicalize(), args.out.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same {
        return Err(tracemark::Error::usage(
            "--out is the input file",
            Some("write the marked file elsewhere".to_owned()),
        ));
    }
    let generator = MediaGenerator {
        name: args.generator,
        version: args.generator_version,
    };
    let written = media::mark_file(&config, &bytes, &generator, &args.out, None)?;
    let m = &written.marked;
    let human = format!(
        "{} marked by {} with {} (key {}, payload {}; {} {:.1} dB), credential signed \
         ({} bytes), logged at index {} of the log ({})\n  file:    {}\n  record:  {}\n  receipt: {}",
        m.description,
        m.record.provider,
        m.scheme,
        m.key_id,
        m.payload,
        m.quality_measure.to_uppercase(),
        m.quality_db,
        m.manifest_len,
        m.entry.index,
        m.record.format,
        written.media_file.display(),
        written.record_file.display(),
        written.receipt_file.display()
    );
    Ok(Output::new(&written, human))
}

/// `tracemark detect` on media: every configured media key of its medium (or `--key`),
/// and for images the Stable Diffusion XL reading.
pub(super) fn detect_media(
    bytes: &[u8],
    key: Option<&Path>,
    config: &Config,
    fpr: f64,
) -> Result<Output> {
    let content = media::decode(bytes)?;
    let detectors: Vec<MediaDetector> = match key {
        Some(path) => vec![MediaDetector::load(path)?],
        None => media::media_key_paths(config)
            .into_iter()
            .map(|p| MediaDetector::load(p))
            .collect::<Result<_>>()?,
    };
    let refs: Vec<&MediaDetector> = detectors.iter().collect();
    let report = media::detect(&content, &refs, fpr)?;
    let human = describe(&report);
    let mut output = Output::new(&report, human);
    output.status = if report.detected { 0 } else { 1 };
    Ok(output)
}

fn describe(report: &MediaDetectReport) -> String {
    let mut human = format!(
        "{} ({}): {}",
        report.description,
        report.media_type,
        if report.detected {
            "WATERMARK DETECTED"
        } else {
            "no watermark detected"
        }
    );
    if report.detections.is_empty() {
        let _ = write!(
            human,
            "\n  no {} watermark key is configured (make one with `tracemark keygen watermark --scheme {}`)",
            report.medium.as_str(),
            if report.medium == tracemark::core::fact::Medium::Audio {
                "tracemark-audio-stft-v1"
            } else {
                "tracemark-image-dct-v1"
            }
        );
    }
    for d in &report.detections {
        let v = &d.detection.verdict;
        let _ = write!(
            human,
            "\n  {} key {}: {} p = {:.3e} (log10 {:.1}) over {} pilot units, at false-positive rate {}",
            d.scheme,
            d.key_id,
            if v.detected {
                "detected,"
            } else {
                "not detected,"
            },
            v.p_value.value(),
            v.p_value.log10(),
            v.scored,
            v.false_positive_rate
        );
        if let Some(p) = &d.detection.payload {
            let _ = write!(human, "\n    payload: {p}");
        }
    }
    if let Some(sd) = &report.sdxl {
        let _ = write!(human, "\n  Stable Diffusion XL mark: {}", sd.statement);
    }
    human
}
