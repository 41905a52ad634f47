//! A sharded index served by shard servers answers through a router exactly as the
//! whole index answers on one machine; a shard that does not answer makes the answer
//! `incomplete`, naming it; withdrawals apply across shards.

mod common;

use std::{
    path::{Path, PathBuf},
    sync::{Arc, mpsc},
    time::Duration,
};

use common::{base, config, post, start, workspace};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tracemark::{
    corpus,
    shards::RemoteShards,
    trace::{
        ByteTokenizer, Index, IndexTokenizer, Tombstone, TraceError, TraceOptions, trace, withdraw,
    },
};
use tracemark_server::shard::{self, ShardService};

const SHARDS: usize = 4;

/// A running shard server, stopped when dropped (or by [`Shard::stop`]).
struct Shard {
    url: String,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Shard {
    fn start(dir: &Path) -> Self {
        let service = ShardService::open(dir).unwrap();
        let (tx, rx) = mpsc::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().unwrap();
            runtime.block_on(async {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                let shutdown = async {
                    let _ = stopped.await;
                };
                shard::serve(listener, service, shutdown).await.unwrap();
            });
        });
        let addr = rx.recv_timeout(Duration::from_secs(30)).unwrap();
        Self {
            url: format!("http://{addr}"),
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
    }
}

impl Drop for Shard {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The demo corpus indexed in four shards, each served by its own server.
struct Sharded {
    _dir: tempfile::TempDir,
    path: PathBuf,
    servers: Vec<Shard>,
}

impl Sharded {
    fn start() -> Self {
        let ws = workspace();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo-sharded");
        let corpus_dir = ws.join(tracemark_demo::CORPUS_DIR).join("texts");
        let done = corpus::build_sharded(
            &path,
            &[corpus_dir],
            &ByteTokenizer,
            SHARDS,
            None,
            &mut |_| {},
        )
        .unwrap();
        assert!(done.manifest.is_some());
        let servers = (0..SHARDS)
            .map(|k| Shard::start(&path.join(format!("part-{k:05}"))))
            .collect();
        Self {
            _dir: dir,
            path,
            servers,
        }
    }

    fn urls(&self) -> Vec<String> {
        self.servers.iter().map(|s| s.url.clone()).collect()
    }

    fn remote(&self) -> RemoteShards {
        RemoteShards::new(
            self.urls(),
            Arc::new(ByteTokenizer),
            Duration::from_secs(10),
        )
    }

    /// A router service over the shard servers (no local index; the demo's corpus model
    /// still generates and tokenizes for the watermark).
    fn router(&self) -> String {
        let mut config = config();
        config.model.path = Some(config.index.paths.remove(0));
        config.index.shards = self.urls();
        start(config)
    }
}

fn whole() -> Index {
    corpus::open(&config().index.paths[0], None).unwrap()
}

/// The documents of the demo corpus as text, for queries and outputs.
fn texts(index: &Index) -> Vec<String> {
    index
        .shards()
        .iter()
        .flat_map(|s| (0..s.documents()).map(move |d| s.doc_tokens(d)))
        .map(|ids| ByteTokenizer.decode(ids).unwrap())
        .collect()
}

/// A deterministic stream of positions.
fn positions(seed: u64) -> impl Iterator<Item = usize> {
    let mut x = seed;
    std::iter::repeat_with(move || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) as usize
    })
}

/// Outputs that copy passages of two documents around new text.
fn outputs(texts: &[String]) -> Vec<String> {
    (0..12)
        .map(|k| {
            let a = &texts[(k * 5) % texts.len()];
            let b = &texts[(k * 11 + 3) % texts.len()];
            let cut = |t: &str, from: usize| {
                let mut s = from.min(t.len());
                while !t.is_char_boundary(s) {
                    s += 1;
                }
                let mut e = (s + 400).min(t.len());
                while !t.is_char_boundary(e) {
                    e -= 1;
                }
                t[s..e].to_owned()
            };
            format!(
                "Nothing here was written before. {} And then, quite apart, {} The end.",
                cut(a, a.len() / 4),
                cut(b, b.len() / 2)
            )
        })
        .collect()
}

#[test]
fn thousands_of_counts_and_every_trace_through_shard_servers_equal_the_whole_index() {
    let sharded = Sharded::start();
    let remote = sharded.remote();
    let whole = whole();
    let texts = texts(&whole);
    // Thousands of n-grams of the corpus (and of nothing), asked in batches and alone.
    let mut queries: Vec<Vec<u16>> = Vec::new();
    let mut at = positions(5);
    for _ in 0..3000 {
        let text = texts[at.next().unwrap() % texts.len()].as_bytes();
        let start = at.next().unwrap() % text.len();
        let len = 1 + at.next().unwrap() % 48;
        let mut q: Vec<u16> = text[start..(start + len).min(text.len())]
            .iter()
            .map(|&b| u16::from(b) + 1)
            .collect();
        if queries.len().is_multiple_of(10) {
            q.push(u16::from(b'~') + 1);
        }
        queries.push(q);
    }
    let expected: Vec<u64> = queries.iter().map(|q| whole.count_ids(q)).collect();
    assert!(expected.iter().filter(|&&c| c > 0).count() > 2500);
    let mut counted = Vec::new();
    for batch in queries.chunks(500) {
        counted.extend(remote.counts(batch.to_vec()).unwrap());
    }
    assert_eq!(counted, expected);
    for (q, &n) in queries.iter().zip(&expected).take(200) {
        assert_eq!(remote.counts(vec![q.clone()]).unwrap(), [n]);
    }
    // Traces: every span, its documents (at most two of them, so the shards' lists must
    // merge exactly), rights and withdrawals.
    for limit in [2, 10] {
        let options = TraceOptions {
            keep_fraction: None,
            max_documents: limit,
            ..TraceOptions::default()
        };
        for output in outputs(&texts) {
            let direct = trace(&whole, &output, &options).unwrap();
            assert!(!direct.spans.is_empty(), "{output}");
            assert_eq!(trace(&remote, &output, &options).unwrap(), direct);
        }
    }
    // The default options keep only the rarest spans, by the summed unigram counts.
    let output = &outputs(&texts)[0];
    assert_eq!(
        trace(&remote, output, &TraceOptions::default()).unwrap(),
        trace(&whole, output, &TraceOptions::default()).unwrap()
    );
}

/// Facts without how and when they were established (their times, the index's name).
fn claims(facts: &Value) -> Vec<Value> {
    facts
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let mut claim = f.clone();
            let fields = claim.as_object_mut().unwrap();
            fields.remove("method");
            fields.remove("established_at");
            claim
        })
        .collect()
}

/// The claims of a `/v1/trace` answer.
fn span_claims(answer: &Value) -> Vec<Value> {
    claims(&answer["result"]["facts"])
}

#[test]
fn a_router_answers_count_trace_and_attribute_as_the_service_on_the_whole_index() {
    let sharded = Sharded::start();
    let router = sharded.router();
    let texts = texts(&whole());
    for output in outputs(&texts).iter().take(4) {
        let (status, routed) = post(
            &format!("{router}/v1/trace"),
            None,
            &json!({"text": output}),
        );
        assert_eq!(status, 200, "{routed}");
        let (_, direct) = post(
            &format!("{}/v1/trace", base()),
            None,
            &json!({"text": output}),
        );
        let claims = span_claims(&routed);
        assert!(
            claims.iter().any(|c| c["kind"] == "source_span"),
            "{routed}"
        );
        assert_eq!(claims, span_claims(&direct));
    }
    let phrase = &texts[3][..40];
    let (status, routed) = post(
        &format!("{router}/v1/count"),
        None,
        &json!({"text": phrase}),
    );
    assert_eq!(status, 200, "{routed}");
    let (_, direct) = post(
        &format!("{}/v1/count", base()),
        None,
        &json!({"text": phrase}),
    );
    assert_eq!(routed["counts"][0]["index"], "shards");
    assert_eq!(routed["counts"][0]["count"], direct["counts"][0]["count"]);
    assert!(routed["counts"][0]["count"].as_u64().unwrap() >= 1);
    // Attribution through the router finds the same sources.
    let body = json!({"text": outputs(&texts)[1], "as_of": "2026-12-01"});
    let (status, routed) = post(&format!("{router}/v1/attribute"), None, &body);
    assert_eq!(status, 200, "{routed}");
    let (_, direct) = post(&format!("{}/v1/attribute", base()), None, &body);
    let sources = |r: &Value| -> Vec<Value> {
        claims(&r["report"]["facts"])
            .into_iter()
            .filter(|c| c["kind"] == "source_span" || c["kind"] == "rights")
            .collect()
    };
    assert!(!sources(&routed).is_empty());
    assert_eq!(sources(&routed), sources(&direct));
}

#[test]
fn a_shard_that_does_not_answer_makes_every_answer_incomplete_naming_it() {
    let mut sharded = Sharded::start();
    let router = sharded.router();
    let remote = sharded.remote();
    let texts = texts(&whole());
    let phrase = texts[0][..30].to_owned();
    assert!(remote.count(&phrase).unwrap() >= 1);
    sharded.servers[2].stop();

    let err = remote.count(&phrase).unwrap_err();
    let TraceError::Incomplete { of, missing } = &err else {
        panic!("{err}");
    };
    assert_eq!((*of, missing.len(), missing[0].0), (SHARDS, 1, 2));
    assert!(missing[0].1.contains(&sharded.servers[2].url), "{err}");
    let options = TraceOptions::default();
    assert!(matches!(
        trace(&remote, &outputs(&texts)[0], &options),
        Err(TraceError::Incomplete { .. })
    ));

    let (status, answer) = post(
        &format!("{router}/v1/count"),
        None,
        &json!({"text": phrase}),
    );
    assert_eq!(status, 503, "{answer}");
    assert_eq!(answer["error"]["code"], "incomplete");
    assert_eq!(answer["error"]["missing_shards"], json!([2]));
    // The router's answers leave the machine: shards are named by position, not address.
    assert!(!answer.to_string().contains("127.0.0.1"), "{answer}");

    let (status, answer) = post(
        &format!("{router}/v1/trace"),
        None,
        &json!({"text": outputs(&texts)[0]}),
    );
    assert_eq!(status, 200);
    let facts = answer["result"]["facts"].as_array().unwrap();
    assert_eq!(facts.len(), 1, "{answer}");
    assert_eq!(facts[0]["kind"], "unestablished");
    let reason = facts[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("incomplete: shard 2 of the index's 4"),
        "{reason}"
    );
}

#[test]
fn a_shard_slower_than_the_deadline_counts_as_not_answering() {
    let sharded = Sharded::start();
    // A server that accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut urls = sharded.urls();
    urls[1] = format!("http://{}", silent.local_addr().unwrap());
    let remote = RemoteShards::new(urls, Arc::new(ByteTokenizer), Duration::from_millis(300));
    match remote.count("the") {
        Err(TraceError::Incomplete { missing, .. }) => {
            assert_eq!(missing.iter().map(|m| m.0).collect::<Vec<_>>(), [1]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn shard_servers_that_are_not_one_index_in_order_are_refused() {
    let sharded = Sharded::start();
    let mut urls = sharded.urls();
    urls.swap(0, 1);
    let remote = RemoteShards::new(urls, Arc::new(ByteTokenizer), Duration::from_secs(10));
    let err = remote.count("the").unwrap_err().to_string();
    assert!(err.contains("is listed as shard 0 of 4"), "{err}");
    let three = RemoteShards::new(
        sharded.urls()[..3].to_vec(),
        Arc::new(ByteTokenizer),
        Duration::from_secs(10),
    );
    let err = three.count("the").unwrap_err().to_string();
    assert!(err.contains("shard 0 of 4"), "{err}");
}

#[test]
fn a_withdrawal_made_after_the_servers_started_applies_through_the_router() {
    let sharded = Sharded::start();
    let remote = sharded.remote();
    let whole = whole();
    let texts = texts(&whole);
    let options = TraceOptions {
        keep_fraction: None,
        ..TraceOptions::default()
    };
    let output = &outputs(&texts)[2];
    let before = trace(&remote, output, &options).unwrap();
    let id = before.spans[0].documents[0].id.clone();
    let tombstone = Tombstone {
        id: id.clone(),
        withdrawn_at: "2026-11-20T00:00:00Z".parse().unwrap(),
        reason: Some("the owner opted out".into()),
    };
    withdraw(&sharded.path, &tombstone).unwrap();
    let after = trace(&remote, output, &options).unwrap();
    assert!(
        after
            .spans
            .iter()
            .all(|s| s.documents.iter().all(|d| d.id != id))
    );
    assert!(after.spans[0].withdrawn.contains(&tombstone));
}
