//! `cargo run -p tracemark-rights --example check -- FILE [ASSET-URL]`: what
//! `tracemark rights check` will print with `--json`, until the CLI wires it.

use std::{path::Path, process::ExitCode};

use tracemark_core::{Diagnose, Timestamp};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(file) = args.first() else {
        eprintln!("usage: check FILE [ASSET-URL]");
        return ExitCode::from(2);
    };
    match tracemark_rights::check_file(
        Path::new(file),
        args.get(1).map(String::as_str),
        Timestamp::now(),
        None,
    ) {
        Ok(report) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&report).unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            if let Some(hint) = e.hint() {
                eprintln!("hint: {hint}");
            }
            ExitCode::from(e.fault().exit_code())
        }
    }
}
