//! `tracemark demo`: the README's main job, on embedded defaults.

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
};

use clap::Args;
use tracemark::{Config, Result};
use tracemark_demo::Options;

use crate::Output;

#[derive(Debug, Args)]
pub struct DemoArgs {
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
}

pub(super) fn run(args: DemoArgs, config: Option<&Path>) -> Result<Output> {
    let DemoArgs {
        out,
        model,
        corpus,
        seed,
    } = args;
    let model = match model {
        Some(m) => Some(m),
        None => Config::locate(config)?.0.model.path,
    };
    let options = Options {
        model,
        corpus,
        seed,
    };
    demo(&out, &options)
}

fn demo(out: &Path, options: &Options) -> Result<Output> {
    let summary = tracemark_demo::run(out, options)?;
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
    let m = &summary.model_identity;
    let _ = writeln!(
        human,
        "  model identity {} ({}, OMS root digest of its files)\n                 signed by {} ({}), signature {}{}\n                 release logged at index {}{}",
        m.digest,
        m.name,
        m.signer,
        m.trust.code(),
        m.signature.display(),
        if m.signed_now { " (new)" } else { " (reused)" },
        m.release_index,
        if m.logged_now { " (new)" } else { " (reused)" },
    );
    if let Some(c) = &summary.collection {
        let _ = writeln!(
            human,
            "  collection    {} documents' rights decisions at collection logged (URLs as salted commitments);\n                 prove one: tracemark --config {} rights prove --url URL",
            c.included + c.excluded,
            summary.config.display()
        );
    }
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
    let _ = writeln!(
        human,
        "\nThe provider's public summary of training content (AI Act Art. 53(1)(d)):\n  {}",
        summary.training_summary.display()
    );
    let _ = write!(
        human,
        "\nUse it with: tracemark --config {} attribute FILE",
        summary.config.display()
    );
    Ok(Output::new(&summary, human))
}
