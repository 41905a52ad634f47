//! The `tracemark` command line: parses arguments, calls the `tracemark` crate, prints.
//!
//! Conventions every command keeps: `--json` prints one JSON object on stdout (errors
//! too, as `{"error": ...}`), the human form is for people; exit status 0 is success,
//! 1 a negative verdict of a check, 2 a usage error, 3 bad input, 4 an internal error.

mod commands;

use std::{io::Write, path::PathBuf, process::ExitCode, sync::LazyLock};

use clap::Parser;
use tracemark::core::Diagnose;

static LONG_VERSION: LazyLock<String> = LazyLock::new(tracemark::formats::long_version);

#[derive(Debug, Parser)]
#[command(
    name = "tracemark",
    version = tracemark::VERSION,
    long_version = LONG_VERSION.as_str(),
    about = "Attribute AI-generated content: watermarks, content credentials, a transparency log, \
             tracing into training data, and the law applied to what they find.",
)]
struct Cli {
    /// Print one JSON object on stdout instead of the human form.
    #[arg(long, global = true)]
    json: bool,
    /// The configuration file [default: ./tracemark.toml, else the key store's].
    #[arg(long, global = true, env = "TRACEMARK_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: commands::Command,
}

/// What a command produced: a JSON object, its human form, and the exit status.
#[derive(Debug)]
pub struct Output {
    pub json: serde_json::Value,
    pub human: String,
    /// 0, or 1 for a negative verdict of a check.
    pub status: u8,
}

impl Output {
    pub fn new(json: impl serde::Serialize, human: impl Into<String>) -> Self {
        let json = serde_json::to_value(json).expect("command output serialises to JSON");
        Self {
            json,
            human: human.into(),
            status: 0,
        }
    }
}

fn main() -> ExitCode {
    set_model_threads();
    let cli = Cli::parse();
    let json = cli.json;
    match commands::run(cli) {
        Ok(output) => {
            let text = if json {
                output.json.to_string()
            } else {
                output.human
            };
            // A closed pipe (e.g. `| head`) is not an error worth a message.
            let _ = writeln!(std::io::stdout(), "{}", text.trim_end());
            ExitCode::from(output.status)
        }
        Err(error) => {
            report(&error, json);
            ExitCode::from(error.fault().exit_code())
        }
    }
}

/// candle asks the system for the CPU count on every tensor operation (reading
/// `/proc/cpuinfo`: four times the model's own time on tinystories-260k) unless
/// `RAYON_NUM_THREADS` says it, so say it once, before any thread exists.
#[allow(unsafe_code)]
fn set_model_threads() {
    if std::env::var_os("RAYON_NUM_THREADS").is_none()
        && std::env::var_os("CANDLE_NUM_THREADS").is_none()
    {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        // SAFETY: called first in `main`, while the process has a single thread, so no
        // other thread can read the environment at the same time.
        unsafe { std::env::set_var("RAYON_NUM_THREADS", threads.to_string()) };
    }
}

/// Prints an error: what went wrong, and what to do about it.
fn report(error: &tracemark::Error, json: bool) {
    let hint = error.hint();
    if json {
        let object = serde_json::json!({
            "error": { "message": error.to_string(), "fault": error.fault(), "hint": hint }
        });
        let _ = writeln!(std::io::stdout(), "{object}");
    }
    let mut text = format!("error: {error}");
    if let Some(hint) = hint {
        text.push_str(&format!("\n  fix: {hint}"));
    }
    let _ = writeln!(std::io::stderr(), "{text}");
}
