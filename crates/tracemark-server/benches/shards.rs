//! Count and trace through a router over four shard servers, against one service on the
//! whole index: the same corpus, the same requests, one at a time (concurrency 1), over
//! loopback HTTP. Reports latency percentiles and the CPU time of a request (the whole
//! process: client, router and shards, or client and service), and the per-shard figures
//! `docs/SCALE.md` extrapolates from (bytes per token, build time per token, memory).
//!
//! `cargo bench -p tracemark-server --bench shards [-- MiB]` (default 64 MiB of text).
//! Writes the figures as JSON to `target/shards-bench.json` as well.

use std::{
    path::Path,
    sync::{Arc, mpsc},
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use tracemark::{
    Config,
    trace::{
        BuildOptions, ByteTokenizer, Index, IndexBuilder,
        corpus::{DocMeta, Document, IngestStats},
        sharded,
    },
};
use tracemark_server::{
    Service,
    shard::{self, ShardService},
};

const SHARDS: usize = 4;
const REQUESTS: usize = 400;

const WORDS: &[&str] = &[
    "the", "of", "and", "a", "to", "in", "is", "was", "that", "for", "river", "lantern", "copper",
    "quietly", "harbour", "ledger", "orchard", "signal", "measure", "window", "winter", "stone",
    "letter", "promise", "engine", "across", "beneath", "seldom", "garden", "pilot", "column",
    "meadow", "silver", "thunder", "archive", "bicycle", "canal", "doorway", "ember", "falcon",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

/// Documents of about 4 KB of Zipf-distributed words until `bytes` are written.
fn corpus(bytes: usize) -> Vec<String> {
    let mut rng = Rng(42);
    let mut docs = Vec::new();
    let mut total = 0;
    while total < bytes {
        let mut d = String::new();
        while d.len() < 4000 {
            let u = rng.next() % 1000;
            d.push_str(WORDS[(u * u / 1000 * WORDS.len() as u64 / 1000) as usize]);
            d.push(if rng.next().is_multiple_of(12) {
                '.'
            } else {
                ' '
            });
        }
        total += d.len();
        docs.push(d);
    }
    docs
}

/// Process CPU time (user + system) so far, from /proc (Linux).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks: u64 = fields
        .get(11..13)
        .map_or(0, |f| f.iter().filter_map(|t| t.parse::<u64>().ok()).sum());
    Duration::from_secs_f64(ticks as f64 / 100.0)
}

/// Resident memory of the process, in MiB.
fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

fn start_service(config: Config) -> String {
    let service = Service::open(config).unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        tracemark_server::run("127.0.0.1:0", service, |addr| tx.send(addr).unwrap()).unwrap();
    });
    format!("http://{}", rx.recv().unwrap())
}

fn start_shard(dir: &Path) -> String {
    let shard = ShardService::open(dir).unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            shard::serve(listener, shard, std::future::pending())
                .await
                .unwrap();
        });
    });
    format!("http://{}", rx.recv().unwrap())
}

fn config(paths: Vec<std::path::PathBuf>, shards: Vec<String>) -> Config {
    let mut config = Config::default();
    config.index.paths = paths;
    config.index.shards = shards;
    config.server.anonymous_rate = Some(1e9);
    config
}

/// Latency percentiles and CPU per request of `bodies` POSTed to `url` one at a time.
fn measure(agent: &ureq::Agent, url: &str, bodies: &[Value]) -> Value {
    let mut latencies = Vec::with_capacity(bodies.len());
    let cpu = cpu_time();
    for body in bodies {
        let started = Instant::now();
        let mut response = agent.post(url).send_json(body).unwrap();
        assert_eq!(response.status(), 200);
        response.body_mut().read_to_vec().unwrap();
        latencies.push(started.elapsed().as_secs_f64() * 1e3);
    }
    let cpu_ms = (cpu_time() - cpu).as_secs_f64() * 1e3 / bodies.len() as f64;
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
    json!({"p50_ms": at(0.5), "p99_ms": at(0.99), "mean_ms": latencies.iter().sum::<f64>() / latencies.len() as f64, "cpu_ms_per_request": cpu_ms})
}

fn main() {
    let mib: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(64);
    let docs = corpus(mib << 20);
    let bytes: usize = docs.iter().map(String::len).sum();
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("corpus.jsonl");
    let lines: String = docs
        .iter()
        .enumerate()
        .map(|(i, d)| format!("{}\n", json!({"id": format!("d{i}"), "text": d})))
        .collect();
    std::fs::write(&jsonl, lines).unwrap();

    let rss_before = rss_mib();
    let started = Instant::now();
    let whole = dir.path().join("whole");
    let mut builder =
        IndexBuilder::create(&whole, &ByteTokenizer, BuildOptions::default()).unwrap();
    for (i, d) in docs.iter().enumerate() {
        builder
            .add(Document {
                meta: DocMeta::new(format!("d{i}")),
                text: d.clone(),
            })
            .unwrap();
    }
    let summary = builder.finish(IngestStats::default()).unwrap();
    let whole_build = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let parts = dir.path().join("sharded");
    sharded::build(
        &parts,
        &[jsonl],
        &ByteTokenizer,
        SHARDS,
        None,
        BuildOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    let sharded_build = started.elapsed().as_secs_f64();

    let index = Index::open(&whole, Arc::new(ByteTokenizer)).unwrap();
    let direct = start_service(config(vec![whole.clone()], Vec::new()));
    let urls: Vec<String> = (0..SHARDS)
        .map(|k| start_shard(&parts.join(sharded::part_name(k))))
        .collect();
    let router = start_service(config(Vec::new(), urls));
    let rss_serving = rss_mib() - rss_before;

    // Requests: n-grams of 2 to 12 words for counts; outputs of 600 bytes mixing two
    // passages with new text for traces.
    let mut rng = Rng(7);
    let mut pick = |len: usize| {
        let d = &docs[rng.next() as usize % docs.len()];
        let mut s = rng.next() as usize % (d.len() - len);
        while !d.is_char_boundary(s) {
            s += 1;
        }
        d[s..s + len].to_owned()
    };
    let counts: Vec<Value> = (0..REQUESTS)
        .map(|k| json!({"text": pick(10 + k % 60)}))
        .collect();
    let traces: Vec<Value> = (0..REQUESTS)
        .map(|_| json!({"text": format!("{} zebra quartz {} never before.", pick(300), pick(300))}))
        .collect();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    // Warm both paths (connections, page cache) before measuring.
    measure(&agent, &format!("{direct}/v1/trace"), &traces[..20]);
    measure(&agent, &format!("{router}/v1/trace"), &traces[..20]);
    let result = json!({
        "corpus": {"bytes": bytes, "documents": docs.len(), "tokens": summary.tokens},
        "whole_index": {
            "bytes_on_disk": summary.bytes_on_disk,
            "bytes_per_token": summary.bytes_on_disk as f64 / summary.tokens as f64,
            "build_seconds": whole_build,
            "build_ns_per_token": whole_build * 1e9 / summary.tokens as f64,
        },
        "sharded_build_seconds": sharded_build,
        "serving_rss_mib": rss_serving,
        "requests_each": REQUESTS,
        "count": {
            "direct": measure(&agent, &format!("{direct}/v1/count"), &counts),
            "router": measure(&agent, &format!("{router}/v1/count"), &counts),
        },
        "trace": {
            "direct": measure(&agent, &format!("{direct}/v1/trace"), &traces),
            "router": measure(&agent, &format!("{router}/v1/trace"), &traces),
        },
        "in_process_count_check": index.count(&pick(20)).unwrap() >= 1,
    });
    let p99 = |op: &str, side: &str| result[op][side]["p99_ms"].as_f64().unwrap();
    println!("{}", serde_json::to_string_pretty(&result).unwrap());
    println!(
        "count p99: router {:.2} ms, direct {:.2} ms (target: router ≤ direct + 5 ms: {})",
        p99("count", "router"),
        p99("count", "direct"),
        p99("count", "router") <= p99("count", "direct") + 5.0
    );
    println!(
        "trace p99: router {:.2} ms, direct {:.2} ms, ratio {:.2} (target ≤ 2.5: {})",
        p99("trace", "router"),
        p99("trace", "direct"),
        p99("trace", "router") / p99("trace", "direct"),
        p99("trace", "router") <= 2.5 * p99("trace", "direct")
    );
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    let _ = std::fs::write(
        Path::new(&target).join("shards-bench.json"),
        serde_json::to_vec_pretty(&result).unwrap(),
    );
}
