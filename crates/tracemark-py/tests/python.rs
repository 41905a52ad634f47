//! The Python package's own tests (`python/tests`), with the real numpy, torch and
//! transformers, behind the README's one test command: builds the wheel with maturin,
//! installs it into the pinned environment that `TRACEMARK_PYTHON` names (`.ci/run` makes
//! it from `python/requirements.txt`), and runs pytest with `TRACEMARK_CLI` naming the
//! `tracemark` binary of this build, which the Python tests check their results against.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use tracemark_testkit::{env_or_skip, repo_root};

fn run(command: &mut Command, what: &str) {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The `tracemark` binary beside this test's executable (`target/<profile>/deps/..`),
/// which `cargo test --workspace` builds before it runs any test.
fn cli_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("tests run from target/<profile>/deps");
    let cli = profile_dir.join("tracemark");
    assert!(
        cli.is_file(),
        "{} is missing: run the tests with `cargo test --workspace`, which builds it",
        cli.display()
    );
    cli
}

#[test]
fn the_python_package_passes_its_tests() {
    let Some(python) = env_or_skip(
        "TRACEMARK_PYTHON",
        "the Python of an environment with python/requirements.txt installed",
    ) else {
        return;
    };
    let root = repo_root();
    let bin_dir = Path::new(&python)
        .parent()
        .expect("python is in a bin folder");
    let path = std::env::join_paths(std::iter::once(bin_dir.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .expect("PATH entries join");

    let wheels = tempfile::tempdir().expect("temporary folder");
    run(
        Command::new(&python)
            .args(["-m", "maturin", "build", "--interpreter", &python, "--out"])
            .arg(wheels.path())
            .env("PATH", &path)
            .current_dir(&root),
        "maturin build",
    );
    let wheel = std::fs::read_dir(wheels.path())
        .expect("maturin wrote its folder")
        .map(|e| e.expect("a folder entry").path())
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .expect("maturin built a wheel");
    run(
        Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "--no-deps", "--no-index"])
            .args(["--force-reinstall"])
            .arg(&wheel),
        "pip install of the wheel",
    );
    run(
        Command::new(&python)
            .args([
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "python/tests",
            ])
            .env("TRACEMARK_CLI", cli_binary())
            .env("PATH", &path)
            .current_dir(&root),
        "pytest python/tests",
    );
}
