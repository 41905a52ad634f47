//! `tracemark serve` as a user starts it: one command, no configuration (it sets up the
//! demo's work folder and a tokens file), and killed with SIGKILL in the middle of
//! generations: every acknowledged generation is in the log, the log verifies, and the
//! server starts again on the same folder.

mod common;

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
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

/// Counts a client out when it ends.
struct Done<'a>(&'a AtomicUsize);

impl Drop for Done<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Kills a server process and waits for it.
fn stop(mut child: Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

/// The demo's configuration with its log moved to PostgreSQL (schema `schema`), written
/// beside it as `pg.toml`.
fn postgres_config(dir: &Path, url: &str, schema: &str) -> String {
    let demo = std::fs::read_to_string(dir.join("demo/tracemark.toml")).unwrap();
    let mut kept = String::new();
    let mut in_log = false;
    for line in demo.lines() {
        if line.trim_start().starts_with('[') {
            in_log = line.trim() == "[log]";
        }
        if !in_log {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    kept.push_str(&format!(
        "\n[log]\npostgres = \"{url}\"\nschema = \"{schema}\"\n\n[server]\ntokens_file = \"api-tokens\"\n"
    ));
    std::fs::write(dir.join("demo/pg.toml"), kept).unwrap();
    "demo/pg.toml".to_owned()
}

#[test]
fn four_servers_on_one_postgres_log_append_concurrently_and_a_kill_loses_no_acknowledged_record() {
    let Some(url) = tracemark_testkit::env_or_skip(
        "TRACEMARK_TEST_POSTGRES",
        "a PostgreSQL database URL to run the PostgreSQL tests",
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    stop(serve(dir).0); // sets up the demo's work folder and its tokens
    let config = postgres_config(dir, &url, &format!("servers_{}", std::process::id()));
    // The first server creates the log; the others open it.
    let servers: Vec<(Child, String)> = (0..4)
        .map(|_| serve_with(dir, &["--config", &config]))
        .collect();
    let token = token(dir);
    let model = model(&servers[0].1);

    // Two clients a server generate; server 3 is killed once 24 generations were
    // acknowledged, the others go on to 48.
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let mut servers = servers;
    let bases: Vec<String> = servers.iter().map(|(_, b)| b.clone()).collect();
    let (victim, _) = servers.pop().unwrap();
    let clients = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for (k, base) in bases.iter().enumerate() {
            for client in 0..2u64 {
                let (acknowledged, token, model, clients) =
                    (&acknowledged, &token, &model, &clients);
                clients.fetch_add(1, Ordering::SeqCst);
                s.spawn(move || {
                    // Counted out however the client ends (a failed assertion too).
                    let _done = Done(clients);
                    for n in 0.. {
                        if acknowledged.lock().unwrap().len() >= 48 {
                            break;
                        }
                        let seed = (k as u64 * 10 + client) * 1000 + n;
                        match complete(base, token, model, seed) {
                            Some(made) => acknowledged.lock().unwrap().push(made),
                            None => break,
                        }
                    }
                });
            }
        }
        while acknowledged.lock().unwrap().len() < 24 && clients.load(Ordering::SeqCst) > 0 {
            std::thread::sleep(Duration::from_millis(20));
        }
        stop(victim);
    });

    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 48, "{}", acknowledged.len());
    // Every acknowledged record is in the one log, at its own index.
    let mut indexes: Vec<u64> = acknowledged
        .iter()
        .map(|m| m["tracemark"]["log_index"].as_u64().unwrap())
        .collect();
    indexes.sort();
    indexes.dedup();
    assert_eq!(
        indexes.len(),
        acknowledged.len(),
        "two records at one index"
    );
    for made in &acknowledged {
        let index = made["tracemark"]["log_index"].as_u64().unwrap().to_string();
        let found = json(
            tracemark(dir).args(["--config", &config, "log", "get", "--index", &index]),
            0,
        );
        let id = made["tracemark"]["generation_id"].as_str().unwrap();
        assert!(found.to_string().contains(id), "{found}");
    }
    json(
        tracemark(dir).args(["--config", &config, "log", "verify"]),
        0,
    );
    // Every receipt verifies offline under the log's key.
    for (n, made) in acknowledged.iter().enumerate() {
        let receipt = dir.join(format!("receipt-{n}"));
        std::fs::write(&receipt, made["tracemark"]["receipt"].as_str().unwrap()).unwrap();
        let checked = json(
            tracemark(dir)
                .args([
                    "log",
                    "verify-receipt",
                    "--key",
                    "demo/home/keys/log/demo/key.pub",
                ])
                .arg(&receipt),
            0,
        );
        assert_eq!(checked["verified"], true, "{checked}");
    }
    for (child, _) in servers {
        stop(child);
    }
}

/// A `POST` of `body` to `url`: the status and the JSON answer.
fn post(url: &str, body: &Value) -> (u16, Value) {
    let mut response = agent().post(url).send_json(body).unwrap();
    let status = response.status().as_u16();
    (status, response.body_mut().read_json().unwrap())
}

#[test]
fn a_router_over_four_shard_servers_counts_as_the_whole_index_and_names_a_silent_shard() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let corpus = tracemark_testkit::repo_root().join("corpus/demo/texts");
    let corpus = corpus.to_str().unwrap();
    json(
        tracemark(dir).args(["index", "build", "--out", "whole", corpus]),
        0,
    );
    let built = json(
        tracemark(dir).args([
            "index", "build", "--shards", "4", "--out", "sharded", corpus,
        ]),
        0,
    );
    assert_eq!(built["manifest"]["shards"].as_array().unwrap().len(), 4);
    let shards: Vec<(Child, String)> = (0..4)
        .map(|k| serve_with(dir, &["--index-shard", &format!("sharded/part-{k:05}")]))
        .collect();
    let urls: Vec<&str> = shards.iter().map(|(_, u)| u.as_str()).collect();
    let mut args = vec!["--demo-dir", "demo", "--shards"];
    args.extend(&urls);
    let (router, base) = serve_with(dir, &args);

    let text = std::fs::read_to_string(
        std::fs::read_dir(tracemark_testkit::repo_root().join("corpus/demo/texts/quay-ledger"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "txt"))
            .unwrap(),
    )
    .unwrap();
    let phrases: Vec<&str> = text
        .split_inclusive(['.', ','])
        .filter(|p| p.len() > 3)
        .take(12)
        .chain(["the", "harbour", "zebra quartz"])
        .collect();
    for phrase in &phrases {
        let whole = json(
            tracemark(dir).args(["count", "--index", "whole", phrase]),
            0,
        );
        let local = json(
            tracemark(dir).args(["count", "--index", "sharded", phrase]),
            0,
        );
        let (status, routed) = post(&format!("{base}/v1/count"), &json!({"text": phrase}));
        assert_eq!(status, 200, "{routed}");
        assert_eq!(routed["counts"][0]["count"], whole["count"], "{phrase:?}");
        assert_eq!(local["count"], whole["count"], "{phrase:?}");
    }

    // A shard server gone: the router names it, by position, instead of a smaller count.
    let mut shards = shards;
    let (gone, _) = shards.remove(1);
    stop(gone);
    let (status, answer) = post(&format!("{base}/v1/count"), &json!({"text": "the"}));
    assert_eq!(status, 503, "{answer}");
    assert_eq!(answer["error"]["code"], "incomplete");
    assert_eq!(answer["error"]["missing_shards"], json!([1]));
    stop(router);
    for (child, _) in shards {
        stop(child);
    }
}
