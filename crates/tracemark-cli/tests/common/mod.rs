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

/// `tracemark detect --json --model <the committed model> --key KEY FILE`, which must exit
/// with `code` (0 detected, 1 not).
#[allow(dead_code)] // each test binary compiles this module; not all of them detect
pub fn detect(dir: &Path, key: &str, file: &str, code: i32) -> Value {
    let model = tracemark_testkit::model_dir();
    json(
        tracemark(dir).args([
            "detect",
            "--model",
            model.to_str().unwrap(),
            "--key",
            key,
            file,
        ]),
        code,
    )
}

/// Checks `report` against the published schema of the evidence report.
#[allow(dead_code)] // each test binary compiles this module; not all of them attribute
pub fn assert_follows_schema(report: &Value) {
    let schema_path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tracemark-policy/schema/evidence-report-v3.schema.json");
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}
