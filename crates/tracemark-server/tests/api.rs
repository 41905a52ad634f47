//! The API end to end, over HTTP, against a real service (the demo's corpus model, keys
//! and SQLite log): marked generation, detection, verification, tracing, reports, the
//! log's tiles, and every way a request can be refused.

mod common;

use std::{
    io::{Read, Write},
    net::TcpStream,
    time::Duration,
};

use common::{TOKEN, base, completion, get, post, workspace};
use serde_json::{Value, json};
use tracemark::{
    credentials::strip_wrappers,
    log::{trust_policy, verify_receipt},
    trust::{Role, Trust, TrustedKeys},
    verify::{verify_report, verify_result},
};

const PROMPT: &str = "The harbour at dawn";

fn read_key(kind: &str) -> String {
    std::fs::read_to_string(workspace().join(format!("home/keys/{kind}/demo/key.pub"))).unwrap()
}

/// The demo's service and log keys, as a reader who got them from the service trusts them.
fn trusted() -> TrustedKeys {
    let mut keys = TrustedKeys::default();
    keys.add_text(Role::Service, &read_key("service"), "service key")
        .unwrap();
    keys.add_text(Role::Log, &read_key("log"), "log key")
        .unwrap();
    keys
}

#[test]
fn a_completion_is_marked_signed_logged_and_then_found_by_every_check() {
    let base = base();
    // The key is fixed (common::KEY_SEED) but the payload comes from the generation's
    // random id, so the text differs from run to run. At 600 tokens, 200 payloads spread
    // over the 16-bit space all tested at p < 1e-31 (mean 1e-50, sd 7 in log10) against
    // the threshold of 1e-3, every payload decoded; at 160 tokens, 1 in 20 was missed.
    let response = completion(base, PROMPT, 600, 7);
    assert_eq!(response["object"], "text_completion");
    let text = response["choices"][0]["text"].as_str().unwrap();
    let provenance = &response["tracemark"];
    let usage = &response["usage"];
    assert_eq!(
        usage["total_tokens"].as_u64().unwrap(),
        usage["prompt_tokens"].as_u64().unwrap() + usage["completion_tokens"].as_u64().unwrap()
    );

    // The receipt proves the record offline with only the log's public key.
    let policy = trust_policy(&read_key("log"), &[], 0).unwrap();
    let proved = verify_receipt(
        provenance["receipt"].as_str().unwrap().as_bytes(),
        &policy,
        None,
    )
    .unwrap();
    assert_eq!(proved.index, provenance["log_index"].as_u64().unwrap());
    let record = proved.record.unwrap();
    assert_eq!(
        record.generation_id,
        provenance["generation_id"].as_str().unwrap()
    );
    assert_eq!(
        record.content_hash,
        tracemark::core::ContentHash::of_bytes(strip_wrappers(text).as_bytes())
    );

    // The watermark is detected, with the payload the log recorded, in a signed result.
    let (status, detected) = post(&format!("{base}/v1/detect"), None, &json!({ "text": text }));
    assert_eq!(status, 200, "{detected}");
    let trust = |json: &Value| verify_result(&json.to_string(), &trusted()).unwrap();
    assert_eq!(trust(&detected).conclusion.trust, Trust::Trusted);
    // Checked against no key the reader chose, it is not trusted, however intact.
    let untrusted = verify_result(&detected.to_string(), &TrustedKeys::default()).unwrap();
    assert_eq!(untrusted.conclusion.trust, Trust::Untrusted);
    let result = &detected["result"];
    assert_eq!(result["detected"], true, "{result}");
    assert_eq!(
        result["detections"][0]["payload"], provenance["payload"],
        "{result}"
    );
    // A result altered after signing no longer verifies.
    let mut forged = detected.clone();
    forged["result"]["detected"] = json!(false);
    assert_eq!(trust(&forged).conclusion.trust, Trust::Tampered);

    // The embedded credential verifies: the generation's text is bound to it.
    let (status, verified) = post(&format!("{base}/v1/verify"), None, &json!({ "text": text }));
    assert_eq!(status, 200, "{verified}");
    let credential = &verified["result"]["credential"];
    assert_eq!(credential["kind"], "credential", "{credential}");
    assert_eq!(credential["state"], "trusted", "{credential}");

    // The report names the provider and the generation, sealed and logged (the caller
    // has a token), and verifies with the service's and the log's keys.
    let (status, attributed) = post(
        &format!("{base}/v1/attribute"),
        Some(TOKEN),
        &json!({ "text": text }),
    );
    assert_eq!(status, 200, "{attributed}");
    let report = &attributed["report"];
    let ai = &report["verdict"]["ai"];
    assert_eq!(ai["generation_id"], provenance["generation_id"], "{ai}");
    assert!(attributed["html"].as_str().unwrap().contains("<html"));
    let check = verify_report(&report.to_string(), &trusted()).unwrap();
    assert_eq!(check.conclusion.trust, Trust::Trusted, "{check:?}");
    assert!(check.logged.is_some(), "{check:?}");
}

#[test]
fn an_anonymous_report_is_signed_but_not_logged() {
    let (status, attributed) = post(
        &format!("{}/v1/attribute", base()),
        None,
        &json!({ "text": "A short note I wrote myself about the weather on the coast." }),
    );
    assert_eq!(status, 200, "{attributed}");
    let seal = &attributed["report"]["seal"];
    assert!(seal["signature"].is_object(), "{seal}");
    assert!(seal["receipt"].is_null(), "{seal}");
    assert!(attributed["report"]["verdict"]["ai"].is_null());
    // Asking for the log without a token is refused, not silently ignored.
    let (status, _) = post(
        &format!("{}/v1/attribute", base()),
        None,
        &json!({ "text": "Some text.", "log": true }),
    );
    assert_eq!(status, 401);
}

#[test]
fn trace_finds_a_copied_passage_with_its_owner_and_opt_out() {
    let document = "marrow-lane-press/dear-mr-aske.txt";
    // The demo corpus as the work folder holds it (written there from the binary).
    let texts = workspace().join(tracemark_demo::CORPUS_DIR).join("texts");
    let source = std::fs::read_to_string(texts.join(document)).unwrap();
    let passage: String = source.chars().skip(200).take(600).collect();
    let (status, traced) = post(
        &format!("{}/v1/trace", base()),
        None,
        &json!({ "text": passage }),
    );
    assert_eq!(status, 200, "{traced}");
    let facts = traced["result"]["facts"].as_array().unwrap();
    assert!(
        facts
            .iter()
            .any(|f| f["kind"] == "source_span" && f["documents"].to_string().contains(document)),
        "{traced}"
    );
    // The publisher reserved its works against generative training.
    assert!(
        facts.iter().any(|f| f["kind"] == "rights"
            && f["document_id"] == document
            && f["permission"] == "disallowed"),
        "{traced}"
    );
}

#[test]
fn streamed_chat_chunks_add_up_to_the_signed_text() {
    let base = base();
    let body = json!({
        "model": common::model(base),
        "messages": [{ "role": "user", "content": PROMPT }],
        "max_tokens": 80, "seed": 3, "stream": true,
    });
    let mut response = common::agent()
        .post(&format!("{base}/v1/chat/completions"))
        .header("Authorization", &format!("Bearer {TOKEN}"))
        .send_json(&body)
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        response
            .headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let stream = response.body_mut().read_to_string().unwrap();
    let events: Vec<&str> = stream
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .collect();
    assert_eq!(events.last(), Some(&"[DONE]"), "{stream}");
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    assert!(chunks.len() > 3, "{stream}");
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let id = &chunks[0]["id"];
    assert!(
        chunks
            .iter()
            .all(|c| &c["id"] == id && c["object"] == "chat.completion.chunk")
    );
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    let last = chunks.last().unwrap();
    assert!(last["choices"][0]["finish_reason"].is_string(), "{last}");
    assert!(last["tracemark"]["log_index"].is_u64(), "{last}");
    // The credential's hard binding covers the whole text: it verifies only if the
    // chunks add up to exactly what was signed.
    let (_, verified) = post(&format!("{base}/v1/verify"), None, &json!({ "text": text }));
    assert_eq!(
        verified["result"]["credential"]["state"], "trusted",
        "{verified}"
    );
}

#[test]
fn generation_needs_a_valid_token_and_never_echoes_it() {
    let base = base();
    let body = json!({ "model": common::model(base), "prompt": PROMPT, "max_tokens": 5 });
    let url = format!("{base}/v1/completions");
    let (status, refused) = post(&url, None, &body);
    assert_eq!(status, 401);
    assert_eq!(refused["error"]["code"], "unauthorized");
    let wrong = "not-the-token-but-long-enough";
    let (status, refused) = post(&url, Some(wrong), &body);
    assert_eq!(status, 401);
    assert!(!refused.to_string().contains(wrong));
    let (_, metrics) = get(&format!("{base}/metrics"));
    assert!(metrics.contains("tracemark_unauthorized_total"));
    assert!(!metrics.contains(TOKEN) && !metrics.contains(wrong));
}

#[test]
fn malformed_unsupported_and_oversized_requests_are_refused_clearly() {
    let base = base();
    let model = common::model(base);
    let cases = [
        ("/v1/detect", json!({ "text": "" }), 400),
        ("/v1/detect", json!({ "txt": "typo" }), 422),
        ("/v1/detect", json!({ "text": "x", "fpr": 2.0 }), 400),
        ("/v1/attribute", json!({}), 400),
        (
            "/v1/attribute",
            json!({ "text": "a", "content_base64": "YQ==" }),
            400,
        ),
        ("/v1/attribute", json!({ "content_base64": "%%%" }), 400),
        (
            "/v1/completions",
            json!({ "model": model, "prompt": "x", "n": 2 }),
            400,
        ),
        (
            "/v1/completions",
            json!({ "model": model, "prompt": "x", "stop": ["."] }),
            400,
        ),
        (
            "/v1/completions",
            json!({ "model": model, "prompt": "x", "max_tokens": 100_000 }),
            400,
        ),
        (
            "/v1/completions",
            json!({ "model": "gpt-4o", "prompt": "x" }),
            404,
        ),
        (
            "/v1/chat/completions",
            json!({ "model": model, "messages": [] }),
            400,
        ),
        (
            "/v1/chat/completions",
            json!({ "model": model, "messages": [{ "role": "robot", "content": "x" }] }),
            400,
        ),
    ];
    for (path, body, expected) in cases {
        let (status, answer) = post(&format!("{base}{path}"), Some(TOKEN), &body);
        assert_eq!(status, expected, "{path} {body}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(!message.is_empty(), "{path} {body}: {answer}");
    }

    // Not JSON at all, and a body over the limit (7 MiB against 6 MiB).
    let agent = common::agent();
    let mut response = agent
        .post(&format!("{base}/v1/detect"))
        .header("content-type", "application/json")
        .send("{\"text\": \"unterminated")
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let answer: Value = response.body_mut().read_json().unwrap();
    assert_eq!(answer["error"]["code"], "invalid_request");
    // Refused by its declared length, before the body is read: the client learns it
    // without sending 7 MiB (a client that does send it may find the connection
    // closed under it, as the server need not read what it refuses).
    let mut stream = TcpStream::connect(base.trim_start_matches("http://")).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "POST /v1/detect HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{{\"text\": \"aaaa",
        7 << 20
    )
    .unwrap();
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 413", "{}", String::from_utf8_lossy(&head));
    // The service is still there for everyone else.
    assert_eq!(get(&format!("{base}/health")).0, 200);
    assert_eq!(get(&format!("{base}/no/such/page")).0, 404);
}

#[test]
fn rate_limits_refuse_with_retry_after_per_caller() {
    let mut config = common::config();
    config.server.anonymous_rate = Some(1.0);
    config.server.token_rate = Some(1.0);
    let base = common::start(config);
    let url = format!("{base}/v1/detect");
    let body = json!({ "text": "One sentence to check." });
    // A burst of two, then refused.
    assert_eq!(post(&url, None, &body).0, 200);
    assert_eq!(post(&url, None, &body).0, 200);
    let response = common::agent().post(&url).send_json(&body).unwrap();
    assert_eq!(response.status().as_u16(), 429);
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
    // A token holder has a bucket of its own.
    assert_eq!(post(&url, Some(TOKEN), &body).0, 200);
}

#[test]
fn a_slow_request_is_cut_off_without_holding_up_others() {
    let mut config = common::config();
    config.server.request_timeout_secs = Some(5);
    let base = common::start(config);
    let addr = base.trim_start_matches("http://");
    // Headers promise a body that never comes.
    let mut slow = TcpStream::connect(addr).unwrap();
    slow.write_all(
        b"POST /v1/detect HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
          Content-Length: 1000\r\n\r\n{\"text\": \"",
    )
    .unwrap();
    assert_eq!(get(&format!("{base}/health")).0, 200);
    // Answered while the slow request still waits: nothing has come back on its
    // connection yet (an order of events, not a measured time).
    slow.set_nonblocking(true).unwrap();
    let pending = matches!(slow.read(&mut [0u8; 1]),
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock);
    assert!(pending, "the slow request was answered before /health was");
    slow.set_nonblocking(false).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut answer = String::new();
    let _ = slow.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

#[test]
fn the_log_serves_its_checkpoint_and_tiles() {
    let base = base();
    // At least one entry, so the tree has a tile.
    let made = completion(base, PROMPT, 20, 11);
    let (status, note) = get(&format!("{base}/log/checkpoint"));
    assert_eq!(status, 200);
    let policy = trust_policy(&read_key("log"), &[], 0).unwrap();
    let checkpoint = tracemark::ledger::SignedCheckpoint::parse(note.as_bytes())
        .unwrap()
        .verify(&policy)
        .unwrap()
        .checkpoint;
    assert!(checkpoint.size > made["tracemark"]["log_index"].as_u64().unwrap());
    // Level 0 holds the leaf hashes; the tree's first tile is partial below 256 entries.
    let width = checkpoint.size.min(256);
    let tile = if width == 256 {
        "tile/0/000".to_owned()
    } else {
        format!("tile/0/000.p/{width}")
    };
    let mut response = common::agent()
        .get(&format!("{base}/log/{tile}"))
        .call()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let bytes = response.body_mut().read_to_vec().unwrap();
    assert_eq!(bytes.len() as u64, 32 * width);
    for bad in [
        "tile/0/999",
        "tile/x/000",
        "tile/0/000.p/0",
        "tile/../../etc/passwd",
    ] {
        assert_eq!(get(&format!("{base}/log/{bad}")).0, 404, "{bad}");
    }
}

#[test]
fn the_openapi_document_and_the_page_are_served() {
    let base = base();
    let (status, doc) = get(&format!("{base}/openapi.json"));
    assert_eq!(status, 200);
    let doc: Value = serde_json::from_str(&doc).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/v1/detect",
        "/v1/count",
        "/v1/attribute",
        "/v1/chat/completions",
        "/log/checkpoint",
    ] {
        assert!(doc["paths"][path].is_object(), "{path}");
    }
    let response = common::agent().get(&format!("{base}/")).call().unwrap();
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(csp.contains("default-src 'self'"));
    let (_, js) = get(&format!("{base}/app.js"));
    assert!(js.contains("v1/attribute"));
    let (status, health) = get(&format!("{base}/health"));
    assert_eq!(status, 200);
    let health: Value = serde_json::from_str(&health).unwrap();
    assert_eq!(health["detection_keys"], 1);
    assert!(!health.to_string().contains("PRIVATE"));
}
