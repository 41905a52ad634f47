//! `tracemark batch detect|verify|trace|attribute --ray ADDRESS|local IN OUT`: a bulk job
//! on a Ray cluster. Ray has no Rust client, so this front checks the arguments, resolves
//! what the configuration supplies (keys, model, trust anchors, the configuration file
//! itself) into absolute paths, checks that the Python it is given has the `tracemark`
//! package (of this version) and Ray Data, and runs `python -m tracemark.ray` there. Ray's
//! progress goes to standard error; the job's answer (or error) comes back as JSON.

use std::{
    io::ErrorKind,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use clap::{Args, Subcommand};
use tracemark::{
    Config, Error, Result,
    config::{ConfigSource, LogLocation},
    core::Timestamp,
    model::ModelSource,
    policy::{Date, Jurisdiction},
};

use crate::Output;

#[derive(Debug, Subcommand)]
pub enum BatchCommand {
    /// Test every text for a watermark (as `tracemark detect`).
    Detect {
        /// The watermark key [default: the configuration's first watermark key].
        #[arg(long)]
        key: Option<PathBuf>,
        /// The model whose tokenizer the key is bound to [default: the configuration's
        /// model, else the corpus model of its first index].
        #[arg(long)]
        model: Option<PathBuf>,
        /// The false-positive rate each verdict guarantees.
        #[arg(long, default_value_t = 1e-3)]
        fpr: f64,
        #[command(flatten)]
        job: JobArgs,
    },
    /// Verify every text's content credential (as `tracemark verify`).
    Verify {
        /// A trust anchor (PEM), besides the configuration's (repeatable).
        #[arg(long = "trust", value_name = "PEM")]
        trust: Vec<PathBuf>,
        #[command(flatten)]
        job: JobArgs,
    },
    /// Trace every text into a corpus index (as `tracemark trace`).
    Trace {
        #[arg(long)]
        index: PathBuf,
        /// The index's tokenizer, when it is not byte-level.
        #[arg(long, value_name = "PATH")]
        tokenizer: Option<PathBuf>,
        /// Shortest span reported, in index tokens [default: 32].
        #[arg(long)]
        min_tokens: Option<usize>,
        /// Report every maximal span, not only the rarest 5%.
        #[arg(long)]
        all_spans: bool,
        /// The use whose opt-outs are reported [default: genai-train].
        #[arg(long)]
        usage: Option<String>,
        #[command(flatten)]
        job: JobArgs,
    },
    /// An evidence report for every text (as `tracemark attribute`), with its hash. The
    /// reports are logged to the configured log, which must then be PostgreSQL (SQLite
    /// has one writer), unless --no-log.
    Attribute {
        /// The date the rules are applied on (YYYY-MM-DD) [default: today].
        #[arg(long)]
        as_of: Option<Date>,
        /// A legal order to apply (repeatable) [default: the configuration's].
        #[arg(long = "jurisdiction", value_name = "J")]
        jurisdictions: Vec<Jurisdiction>,
        /// State that the contents are AI-generated.
        #[arg(long)]
        ai_generated: bool,
        /// The reports' time (RFC 3339) [default: now, each its own]: with it fixed, each
        /// report and hash is that of `tracemark attribute --generated-at` on the row.
        #[arg(long, value_name = "TIME")]
        generated_at: Option<Timestamp>,
        /// Do not record the reports in the configured log.
        #[arg(long)]
        no_log: bool,
        #[command(flatten)]
        job: JobArgs,
    },
}

/// What every bulk job takes.
#[derive(Debug, Args)]
pub struct JobArgs {
    /// The Ray cluster: its address (host:port, ray://host:port, auto), or `local` to
    /// start one on this machine for the job.
    #[arg(long = "ray", value_name = "ADDRESS|local")]
    ray: String,
    /// The Python with the `tracemark` package and Ray Data.
    #[arg(long, env = "TRACEMARK_PYTHON", default_value = "python3")]
    python: PathBuf,
    /// Workers (actors, one CPU each) [default: from 1 up to the cluster's CPUs].
    #[arg(long)]
    workers: Option<u32>,
    /// Rows per call of a worker.
    #[arg(long, default_value_t = 64)]
    batch_size: u32,
    /// Rows per block read (the unit a worker takes at a time).
    #[arg(long, default_value_t = 256)]
    block_rows: u32,
    /// The records' id field (JSON Lines) or column (Parquet) [default: id; records
    /// without one are named FILE:N].
    #[arg(long, default_value = "id")]
    id_field: String,
    /// The records' text field or column.
    #[arg(long, default_value = "text")]
    text_field: String,
    /// Larger texts get an error instead of a verdict.
    #[arg(long, default_value_t = 16 << 20)]
    max_bytes: u64,
    /// The texts: a JSON Lines or Parquet file, or a folder of them.
    input: PathBuf,
    /// The folder of Parquet files to write (new): one row per input record, with its
    /// id, an `error` column and the verdict columns.
    output: PathBuf,
}

/// Python's side of the check that the environment can run the job.
const PROBE: &str = r#"
import json, sys
found = {"python": sys.version.split()[0]}
try:
    import tracemark
    found["tracemark"] = tracemark.__version__
except Exception as e:
    found["tracemark_error"] = f"{type(e).__name__}: {e}"
else:
    try:
        import ray, ray.data, tracemark.ray
        found["ray"] = ray.__version__
    except Exception as e:
        found["ray_error"] = f"{type(e).__name__}: {e}"
print(json.dumps(found))
"#;

pub fn run(cmd: BatchCommand, config_flag: Option<&Path>) -> Result<Output> {
    let (config, source) = Config::locate(config_flag)?;
    let mut argv: Vec<String> = Vec::new();
    let arg = |argv: &mut Vec<String>, name: &str, value: &dyn std::fmt::Display| {
        argv.push(name.to_owned());
        argv.push(value.to_string());
    };
    let job = match cmd {
        BatchCommand::Detect {
            key,
            model,
            fpr,
            job,
        } => {
            argv.push("detect".into());
            let key = key
                .or_else(|| {
                    tracemark::media::text_key_paths(&config)
                        .first()
                        .map(|p| (*p).clone())
                })
                .ok_or_else(|| {
                    Error::usage(
                        "no watermark key given",
                        Some(
                            "pass --key KEY.json (make one with `tracemark keygen watermark`)"
                                .into(),
                        ),
                    )
                })?;
            let model = match ModelSource::choose(model.as_deref(), &config)? {
                ModelSource::Path(path) | ModelSource::Corpus(path) => path,
            };
            arg(&mut argv, "--key", &absolute(&key)?.display());
            arg(&mut argv, "--model", &absolute(&model)?.display());
            arg(&mut argv, "--fpr", &fpr);
            job
        }
        BatchCommand::Verify { trust, job } => {
            argv.push("verify".into());
            // The trust rule of every verifier: the anchors given and the configuration's.
            for anchor in trust.iter().chain(&config.keys.trust) {
                arg(&mut argv, "--trust", &absolute(anchor)?.display());
            }
            job
        }
        BatchCommand::Trace {
            index,
            tokenizer,
            min_tokens,
            all_spans,
            usage,
            job,
        } => {
            argv.push("trace".into());
            arg(&mut argv, "--index", &absolute(&index)?.display());
            if let Some(t) = tokenizer {
                arg(&mut argv, "--tokenizer", &absolute(&t)?.display());
            }
            if let Some(n) = min_tokens {
                arg(&mut argv, "--min-tokens", &n);
            }
            if all_spans {
                argv.push("--all-spans".into());
            }
            if let Some(u) = usage {
                arg(&mut argv, "--usage", &u);
            }
            job
        }
        BatchCommand::Attribute {
            as_of,
            jurisdictions,
            ai_generated,
            generated_at,
            no_log,
            job,
        } => {
            argv.push("attribute".into());
            let logs = !no_log && config.keys.log.is_some();
            if logs && !matches!(config.log.location(), LogLocation::Postgres(_)) {
                return Err(Error::usage(
                    "a bulk job cannot log its reports to a SQLite log: SQLite has a single \
                     writer, and the job's workers append at the same time",
                    Some(
                        "log to PostgreSQL ([log] postgres = \"postgres://...\" in \
                         tracemark.toml), or pass --no-log"
                            .into(),
                    ),
                ));
            }
            // The workers read the very configuration this command found.
            match &source {
                ConfigSource::Explicit(path)
                | ConfigSource::WorkingDirectory(path)
                | ConfigSource::KeyStore(path) => {
                    arg(&mut argv, "--config", &absolute(path)?.display());
                }
                ConfigSource::Defaults => {}
            }
            if let Some(date) = as_of {
                arg(&mut argv, "--as-of", &date);
            }
            for j in &jurisdictions {
                arg(&mut argv, "--jurisdiction", j);
            }
            if ai_generated {
                argv.push("--ai-generated".into());
            }
            if let Some(at) = generated_at {
                arg(&mut argv, "--generated-at", &at);
            }
            if !logs {
                argv.push("--no-log".into());
            }
            job
        }
    };
    arg(&mut argv, "--ray", &job.ray);
    if let Some(n) = job.workers {
        arg(&mut argv, "--workers", &n);
    }
    arg(&mut argv, "--batch-size", &job.batch_size);
    arg(&mut argv, "--block-rows", &job.block_rows);
    arg(&mut argv, "--id-field", &job.id_field);
    arg(&mut argv, "--text-field", &job.text_field);
    arg(&mut argv, "--max-bytes", &job.max_bytes);
    argv.push("--json".into());
    argv.push(absolute(&job.input)?.display().to_string());
    argv.push(absolute(&job.output)?.display().to_string());

    check_python(&job.python)?;
    launch(&job.python, &argv)
}

fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).map_err(|source| Error::Io {
        action: "resolve",
        path: path.to_owned(),
        source,
    })
}

/// The fix for an environment without what the job needs.
fn install_hint(python: &Path, what: &str) -> String {
    format!(
        "install {what} into that Python ({} -m pip install ...; from a clone of Tracemark, \
         `pip install -r python/requirements.txt` and `pip install .`), or name another \
         Python with --python or TRACEMARK_PYTHON",
        python.display()
    )
}

/// Checks that `python` runs and has the `tracemark` package of this version and Ray Data.
fn check_python(python: &Path) -> Result<()> {
    let out = Command::new(python)
        .args(["-c", PROBE])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            let what = if e.kind() == ErrorKind::NotFound {
                format!("no Python at `{}`", python.display())
            } else {
                format!("cannot run Python `{}`: {e}", python.display())
            };
            Error::usage(
                what,
                Some(
                    "install Python 3.9 or later with the tracemark package and Ray Data, and \
                     name it with --python or TRACEMARK_PYTHON"
                        .into(),
                ),
            )
        })?;
    let found: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|_| {
        Error::usage(
            format!(
                "`{}` did not run as a Python ({}): {}",
                python.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            Some("name a Python 3.9 or later with --python or TRACEMARK_PYTHON".into()),
        )
    })?;
    let text = |key: &str| found.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    let version = text("python").unwrap_or_default();
    if let Some(error) = text("tracemark_error") {
        return Err(Error::usage(
            format!(
                "the Python at {} ({version}) has no tracemark package ({error})",
                python.display()
            ),
            Some(install_hint(python, "the tracemark package")),
        ));
    }
    let package = text("tracemark").unwrap_or_default();
    if package != tracemark::VERSION {
        return Err(Error::usage(
            format!(
                "the tracemark package in {} is version {package}, this command {}: their \
                 verdicts could differ",
                python.display(),
                tracemark::VERSION
            ),
            Some(install_hint(python, "the package of this version")),
        ));
    }
    if let Some(error) = text("ray_error") {
        return Err(Error::usage(
            format!(
                "the Python at {} ({version}) has the tracemark package but not Ray Data \
                 ({error})",
                python.display()
            ),
            Some(install_hint(python, "Ray Data (`ray[data]`)")),
        ));
    }
    Ok(())
}

/// Runs the job and reads its answer: the summary, or the error with its fault.
fn launch(python: &Path, argv: &[String]) -> Result<Output> {
    let out = Command::new(python)
        .args(["-m", "tracemark.ray"])
        .args(argv)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| {
            Error::internal(
                format!("cannot run {}: {e}", python.display()),
                Some("check the Python named by --python or TRACEMARK_PYTHON".to_owned()),
            )
        })?;
    let answer = String::from_utf8_lossy(&out.stdout);
    let json: Option<serde_json::Value> = answer
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .and_then(|l| serde_json::from_str(l).ok());
    let Some(json) = json else {
        return Err(Error::internal(
            format!(
                "the job's Python side ended ({}) without an answer",
                out.status
            ),
            Some("its messages are above, on standard error".to_owned()),
        ));
    };
    if let Some(error) = json.get("error") {
        let field = |k: &str| error.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        let message = field("message").unwrap_or_else(|| "the job failed".into());
        let hint = field("hint");
        return Err(match field("fault").as_deref() {
            Some("usage") => Error::usage(message, hint),
            Some("input") => Error::input(message, hint),
            _ => Error::internal(message, hint),
        });
    }
    if !out.status.success() {
        return Err(Error::internal(
            format!("the job's Python side ended with {}", out.status),
            Some("its messages are above, on standard error".to_owned()),
        ));
    }
    let count = |k: &str| json.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
    let mut human = format!(
        "{} rows ({} with an error) written to {} in {:.1} s on {} Ray node(s)",
        count("rows"),
        count("errors"),
        json.get("output").and_then(|v| v.as_str()).unwrap_or("?"),
        json.get("seconds")
            .and_then(serde_json::Value::as_f64)
            .unwrap_or(0.0),
        count("nodes"),
    );
    for problem in json
        .get("problems")
        .and_then(|p| p.as_array())
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_str())
    {
        human.push_str(&format!("\n  not loaded: {problem}"));
    }
    Ok(Output::new(json, human))
}
