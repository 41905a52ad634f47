//! `tracemark serve` as a user starts it: one command, no configuration (it sets up the
//! demo's work folder and a tokens file), and killed with SIGKILL in the middle of
//! generations: every acknowledged generation is in the log, the log verifies, and the
//! server starts again on the same folder.

mod common;

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

use common::{json, tracemark};
use serde_json::{Value, json};

/// Starts `tracemark serve` in `dir` with no configuration; the child and its base URL.
fn serve(dir: &Path) -> (Child, String) {
    serve_with(dir, &["--demo-dir", "demo"])
}

/// Starts `tracemark serve --addr 127.0.0.1:0 ARGS...` in `dir`; the child and its base
/// URL (read from its first line).
fn serve_with(dir: &Path, args: &[&str]) -> (Child, String) {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("tracemark"))
        .current_dir(dir)
        .env("TRACEMARK_HOME", dir.join("home"))
        .env_remove("TRACEMARK_CONFIG")
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    // Keep reading, as a terminal would, so the server never writes to a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let base = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_owned();
    (child, base)
}

/// The token `serve` wrote for the demo (the last line of its tokens file).
fn token(dir: &Path) -> String {
    let text = std::fs::read_to_string(dir.join("demo/api-tokens")).unwrap();
    text.lines().last().unwrap().trim().to_owned()
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// One completion; `None` when the server is gone.
fn complete(base: &str, token: &str, model: &str, seed: u64) -> Option<Value> {
    let mut response = agent()
        .post(&format!("{base}/v1/completions"))
        .header("Authorization", &format!("Bearer {token}"))
        .send_json(json!({ "model": model, "prompt": "Once", "max_tokens": 8, "seed": seed }))
        .ok()?;
    assert_eq!(response.status().as_u16(), 200);
    response.body_mut().read_json().ok()
}

fn model(base: &str) -> String {
    let list: Value = agent()
        .get(&format!("{base}/v1/models"))
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    list["data"][0]["id"].as_str().unwrap().to_owned()
}

#[test]
fn serve_starts_with_one_command_and_a_kill_loses_no_acknowledged_generation() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let (mut child, base) = serve(dir);
    let token = token(dir);
    let model = model(&base);
    let mode = std::fs::metadata(dir.join("demo/api-tokens")).unwrap();
    #[cfg(unix)]
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o077,
        0
    );

    // Four clients generate until the server dies; it is killed after ten answers.
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    std::thread::scope(|s| {
        for client in 0..4u64 {
            let (acknowledged, base, token, model) = (&acknowledged, &base, &token, &model);
            s.spawn(move || {
                for n in 0.. {
                    match complete(base, token, model, client * 1000 + n) {
                        Some(made) => acknowledged.lock().unwrap().push(made),
                        None => break,
                    }
                }
            });
        }
        while acknowledged.lock().unwrap().len() < 10 {
            std::thread::sleep(Duration::from_millis(20));
        }
        child.kill().unwrap();
        child.wait().unwrap();
    });

    // Every acknowledged generation is in the log, at its index, and the log verifies.
    let config = dir.join("demo/tracemark.toml");
    let acknowledged = acknowledged.lock().unwrap().clone();
    for made in &acknowledged {
        let index = made["tracemark"]["log_index"].as_u64().unwrap().to_string();
        let found = json(
            tracemark(dir)
                .args(["--config", config.to_str().unwrap()])
                .args(["log", "get", "--index", &index]),
            0,
        );
        let id = made["tracemark"]["generation_id"].as_str().unwrap();
        assert!(found.to_string().contains(id), "{found}");
    }
    json(
        tracemark(dir)
            .args(["--config", config.to_str().unwrap()])
            .args(["log", "verify"]),
        0,
    );

    // The server starts again on the same folder and goes on where the log stopped.
    let (mut child, base) = serve(dir);
    let last = acknowledged
        .iter()
        .map(|m| m["tracemark"]["log_index"].as_u64().unwrap())
        .max()
        .unwrap();
    let next = complete(&base, &token, &model, 99).unwrap();
    assert!(next["tracemark"]["log_index"].as_u64().unwrap() > last);
    child.kill().unwrap();
    child.wait().unwrap();
}
