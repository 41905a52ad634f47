//! Helpers shared by the end-to-end tests.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

/// A `tracemark` command isolated in `dir`: its own key store and working directory.
pub fn tracemark(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("tracemark").unwrap();
    cmd.current_dir(dir)
        .env("TRACEMARK_HOME", dir.join("home"))
        .env_remove("TRACEMARK_CONFIG");
    cmd
}

/// Runs with `--json` and parses stdout, which must be exactly one JSON object.
pub fn json(cmd: &mut Command, code: i32) -> Value {
    let out = cmd
        .arg("--json")
        .assert()
        .code(code)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(
        text.trim().lines().count(),
        1,
        "not one line of JSON: {text}"
    );
    let value: Value = serde_json::from_str(&text).unwrap();
    assert!(value.is_object());
    value
}
