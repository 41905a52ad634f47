//! What Tracemark's tests share (a dev-dependency only).
//!
//! - [`skip`]: the one way a test skips for want of something outside the repository (a
//!   PostgreSQL server, a Python with a package, a command). It says why on stderr and,
//!   when `CI=true`, panics instead: cargo captures a passing test's output, so a skip
//!   could otherwise pass CI unseen.
//! - [`model_dir`]: the real model committed with the repository, so that tests need
//!   nothing beside a clone.

use std::path::PathBuf;

/// Whether this run is CI's (`CI=true`, as `.ci/run` and most CI services set it).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// Skips the calling test: prints `skipped: WHY`, or panics with it when [`in_ci`].
/// The caller returns right after.
#[track_caller]
pub fn skip(why: impl std::fmt::Display) {
    if in_ci() {
        panic!("CI=true, and this test would be skipped: {why}");
    }
    eprintln!("skipped: {why}");
}

/// The value of environment variable `var` when set and not empty; otherwise [`skip`]s
/// with `why` (what the variable should name) and gives `None`.
#[track_caller]
pub fn env_or_skip(var: &str, why: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Some(v),
        _ => {
            skip(format!("set {var} to {why}"));
            None
        }
    }
}

/// Whether `program` runs (`program ARG` exits 0); otherwise [`skip`]s and gives false.
#[track_caller]
pub fn command_or_skip(program: &str, arg: &str) -> bool {
    let ok = std::process::Command::new(program)
        .arg(arg)
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        skip(format!("`{program}` is not installed"));
    }
    ok
}

/// The repository's root folder: two levels above the manifest of the crate under test,
/// which `cargo test` names at run time (a build cached from another checkout, as a
/// shared target folder holds, must not point the tests at that checkout), else above
/// this crate's own manifest.
pub fn repo_root() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .join("../..")
}

/// `models/tinystories-260k`: a real pretrained llama2.c model (MIT) committed with the
/// repository, with its 512-token tokenizer.
pub fn model_dir() -> PathBuf {
    repo_root().join("models/tinystories-260k")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_model_is_there() {
        assert!(model_dir().join("model.bin").is_file());
        assert!(model_dir().join("tokenizer.bin").is_file());
    }
}
