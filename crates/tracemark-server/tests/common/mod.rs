//! A real service for the tests: the demo's work folder (the demo corpus, its corpus
//! model, a watermark key from a fixed seed and fresh keys of the other kinds, a SQLite
//! log), served on a free loopback port by the same code `tracemark serve` runs.

#![allow(dead_code)]

use std::{
    path::{Path, PathBuf},
    sync::{OnceLock, mpsc},
    time::Duration,
};

use serde_json::Value;
use tracemark::{
    Config,
    core::keyfile::{self, Replace, Secrecy},
};

/// The API token the test services accept.
pub const TOKEN: &str = "test-token-6b1f0e2a9c4d4f0fa1c3";

/// The seed of the demo's watermark key, fixed so that a test's verdict does not depend
/// on the key drawn. A marked completion's payload still comes from its random
/// generation id: the tests that detect one were checked across payloads with this key
/// (see `a_completion_is_marked_signed_logged_and_then_found_by_every_check`).
pub const KEY_SEED: u64 = 1;

/// The demo work folder, set up once per test binary.
pub fn workspace() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap().keep();
        let options = tracemark_demo::Options {
            seed: Some(KEY_SEED),
            ..Default::default()
        };
        let ws = tracemark_demo::prepare(&dir.join("demo"), &options).unwrap();
        keyfile::write_file(
            &ws.out.join("tokens"),
            format!("# test\n{TOKEN}\n").as_bytes(),
            Secrecy::Secret,
            Replace::No,
        )
        .unwrap();
        ws.out
    })
}

/// The workspace's configuration with its tokens file and limits high enough that the
/// tests are never rate limited (unless they say otherwise).
pub fn config() -> Config {
    let dir = workspace();
    let mut config = Config::load(&dir.join("tracemark.toml")).unwrap();
    config.server.tokens_file = Some(dir.join("tokens"));
    config.server.token_rate = Some(10_000.0);
    config.server.anonymous_rate = Some(10_000.0);
    config
}

/// Starts a service on a free port for the rest of the test binary; its base URL.
pub fn start(config: Config) -> String {
    let service = tracemark_server::Service::open(config).unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        tracemark_server::run("127.0.0.1:0", service, |addr| tx.send(addr).unwrap()).unwrap();
    });
    let addr = rx.recv_timeout(Duration::from_secs(60)).unwrap();
    format!("http://{addr}")
}

/// The service with the default test configuration, shared by the tests of a binary.
pub fn base() -> &'static str {
    static BASE: OnceLock<String> = OnceLock::new();
    BASE.get_or_init(|| start(config()))
}

/// An HTTP client that returns error statuses as responses, not errors.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into()
}

/// A response's status and JSON body.
pub fn post(url: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
    let mut request = agent().post(url);
    if let Some(token) = token {
        request = request.header("Authorization", &format!("Bearer {token}"));
    }
    let mut response = request.send_json(body).unwrap();
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap();
    let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, json)
}

pub fn get(url: &str) -> (u16, String) {
    let mut response = agent().get(url).call().unwrap();
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_string().unwrap())
}

/// The model name the service generates with.
pub fn model(base: &str) -> String {
    let (_, body) = get(&format!("{base}/v1/models"));
    let list: Value = serde_json::from_str(&body).unwrap();
    list["data"][0]["id"].as_str().unwrap().to_owned()
}

/// A marked completion of `tokens` tokens: the response JSON.
pub fn completion(base: &str, prompt: &str, tokens: usize, seed: u64) -> Value {
    let (status, body) = post(
        &format!("{base}/v1/completions"),
        Some(TOKEN),
        &serde_json::json!({
            "model": model(base), "prompt": prompt, "max_tokens": tokens,
            "temperature": 0.8, "seed": seed,
        }),
    );
    assert_eq!(status, 200, "{body}");
    body
}

/// The Python with the client libraries (openai, selenium), when the machine has it;
/// otherwise the test skips (and fails under `CI=true`).
#[track_caller]
pub fn web_python() -> Option<PathBuf> {
    tracemark_testkit::env_or_skip("TRACEMARK_WEB_PYTHON", "a Python with openai and selenium")
        .map(PathBuf::from)
}
