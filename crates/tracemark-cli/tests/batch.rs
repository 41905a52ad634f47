//! `tracemark batch`: what it refuses before it starts a job. The jobs themselves run on a
//! real Ray cluster in the Python package's tests (`python/tests/test_ray.py`), which
//! drive this binary with `--ray local` end to end.

mod common;

use common::tracemark;

fn stderr(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}

#[test]
fn a_missing_python_is_named_with_its_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(
        dir.join("in.jsonl"),
        "{\"id\": \"a\", \"text\": \"words\"}\n",
    )
    .unwrap();
    let done = tracemark(dir)
        .args(["batch", "trace", "--ray", "local", "--index", "index"])
        .args(["--python", "no-such-python-here", "in.jsonl", "out"])
        .assert()
        .code(2);
    let text = stderr(&done);
    assert!(
        text.contains("no Python at `no-such-python-here`"),
        "{text}"
    );
    assert!(text.contains("--python or TRACEMARK_PYTHON"), "{text}");
    assert!(!dir.join("out").exists());
}

#[test]
fn bulk_attribution_refuses_to_log_to_sqlite() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(
        dir.join("tracemark.toml"),
        "[keys]\nlog = \"log\"\n[log]\nsqlite = \"ledger.db\"\n",
    )
    .unwrap();
    let done = tracemark(dir)
        .args(["batch", "attribute", "--ray", "local"])
        .args(["--python", "no-such-python-here", "in.jsonl", "out"])
        .assert()
        .code(2);
    let text = stderr(&done);
    assert!(text.contains("SQLite has a single writer"), "{text}");
    assert!(text.contains("--no-log"), "{text}");
    // With --no-log the log is no obstacle: the next check is the Python's.
    let done = tracemark(dir)
        .args(["batch", "attribute", "--no-log", "--ray", "local"])
        .args(["--python", "no-such-python-here", "in.jsonl", "out"])
        .assert()
        .code(2);
    assert!(stderr(&done).contains("no Python at"), "{}", stderr(&done));
}
