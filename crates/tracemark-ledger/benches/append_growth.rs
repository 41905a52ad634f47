//! A plain timing loop beside the criterion benchmark: batches of 1,000 distinct
//! generation records (full records: MinHash sketch, content hash, payload, generation
//! id) appended to a fresh log until it holds `TRACEMARK_GROWTH_RECORDS` (default
//! 100,000), printing records/s for every 10,000 and overall, the bytes written to disk
//! (from `/proc/self/io`), the process CPU time of the appends (from `/proc/self/stat`),
//! the mean latency of look-ups on the grown log, and the storage per record. SQLite always; PostgreSQL too when
//! `TRACEMARK_BENCH_POSTGRES` names a database (a fresh schema is used and dropped).
//!
//! Run with `cargo bench -p tracemark-ledger --bench append_growth`.

use std::time::{Duration, Instant};

use tracemark_core::{ContentHash, KeyId, KeyKind, Payload};
use tracemark_ledger::{
    GenerationRecord, Ledger, LogStore, ModelRef, NoteSigner, PostgresStore, TextSketch,
    record::GENERATION_RECORD_V1,
};

const BATCH: u64 = 1000;
const REPORT_EVERY: u64 = 10_000;

fn record(n: u64) -> GenerationRecord {
    let text: String = (0..60)
        .map(|i| format!("w{} ", (n * 7919 + i * 104_729) % 1_000_003))
        .collect();
    GenerationRecord {
        format: GENERATION_RECORD_V1.into(),
        content_hash: ContentHash::of_bytes(text.as_bytes()),
        watermark_scheme: "kgw-selfhash-v1".into(),
        key_id: KeyId::derive(KeyKind::Watermark, b"bench"),
        payload: Payload::new(n % (1 << 24), 24).unwrap(),
        model: ModelRef {
            id: "tinystories-260k".into(),
            version: "1".into(),
            digest: None,
            release: None,
        },
        provider: "provider.example".into(),
        credential_hash: None,
        time: "2026-11-29T12:00:00Z".parse().unwrap(),
        generation_id: format!("gen-{n}"),
        sketch: TextSketch::of_text(&text),
        media: None,
    }
}

fn written_bytes() -> Option<u64> {
    let io = std::fs::read_to_string("/proc/self/io").ok()?;
    io.lines()
        .find_map(|l| l.strip_prefix("write_bytes: "))
        .and_then(|v| v.trim().parse().ok())
}

/// User + system CPU time of this process, in seconds (Linux clock ticks of 10 ms).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// The mean time of `f` over the records `0, step, 2·step, …` (`SAMPLES` of them).
fn mean_latency(total: u64, mut f: impl FnMut(u64)) -> Duration {
    const SAMPLES: u64 = 200;
    let step = (total / SAMPLES).max(1);
    let start = Instant::now();
    for i in 0..SAMPLES.min(total) {
        f(i * step);
    }
    start.elapsed() / SAMPLES.min(total) as u32
}

fn run<S: LogStore>(name: &str, ledger: &mut Ledger<S>, total: u64) {
    let mut spent = Duration::ZERO;
    let mut segment = Duration::ZERO;
    let mut cpu = 0.0;
    let written_at_start = written_bytes();
    let mut n = 0;
    while n < total {
        // Records are made outside the timing (the sketch is the caller's work).
        let batch: Vec<GenerationRecord> = (n..n + BATCH).map(record).collect();
        let (start, cpu_start) = (Instant::now(), cpu_seconds());
        ledger.append_records(&batch).unwrap();
        let took = start.elapsed();
        cpu += cpu_seconds().zip(cpu_start).map_or(0.0, |(b, a)| b - a);
        spent += took;
        segment += took;
        n += BATCH;
        if n % REPORT_EVERY == 0 {
            eprintln!(
                "{name}: records {:>7}..{n:<7} {:>7.0} records/s",
                n - REPORT_EVERY,
                REPORT_EVERY as f64 / segment.as_secs_f64()
            );
            segment = Duration::ZERO;
        }
    }
    let written = written_bytes()
        .zip(written_at_start)
        .map(|(a, b)| {
            format!(
                ", {:.1} MB written to disk ({} bytes/record)",
                (a - b) as f64 / 1e6,
                (a - b) / total.max(1)
            )
        })
        .unwrap_or_default();
    eprintln!(
        "{name}: {total} records in batches of {BATCH}: {:.0} records/s overall{written}",
        total as f64 / spent.as_secs_f64()
    );
    eprintln!(
        "{name}: appends used {cpu:.2} s of CPU (user + system) in {:.2} s: {:.1} µs of CPU per record",
        spent.as_secs_f64(),
        cpu * 1e6 / total.max(1) as f64
    );
    // Look-ups still answer on the grown log (records made before the timing).
    let records: Vec<GenerationRecord> = (0..total)
        .step_by(((total / 200).max(1)) as usize)
        .map(record)
        .collect();
    let mut sample = records.iter();
    let exact = mean_latency(total, |i| {
        let r = sample.next().unwrap();
        let hits = ledger
            .lookup(&tracemark_ledger::Lookup::ContentHash(r.content_hash))
            .unwrap();
        assert_eq!(hits, vec![i]);
    });
    let mut sample = records.iter();
    let similar = mean_latency(total, |i| {
        let near = ledger
            .similar(&sample.next().unwrap().sketch, 0.9, 5)
            .unwrap();
        // Beyond ~200,000 records some texts of the benchmark are one word apart
        // (Jaccard 59/61), and a near-duplicate's estimate can tie with the record's own.
        assert!(near.iter().any(|e| e.index == i && e.similarity == 1.0));
    });
    eprintln!(
        "{name}: look-up by content hash {:.0} µs, by similarity {:.0} µs (means of 200)",
        exact.as_secs_f64() * 1e6,
        similar.as_secs_f64() * 1e6
    );
}

/// The bytes of the files at `paths`, and of the files directly in the directories.
fn storage(paths: &[std::path::PathBuf]) -> u64 {
    paths
        .iter()
        .map(|p| match std::fs::read_dir(p) {
            Ok(dir) => dir
                .filter_map(|e| e.ok()?.metadata().ok())
                .map(|m| m.len())
                .sum(),
            Err(_) => std::fs::metadata(p).map_or(0, |m| m.len()),
        })
        .sum()
}

fn main() {
    let total: u64 = std::env::var("TRACEMARK_GROWTH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
        / BATCH
        * BATCH;
    let signer = NoteSigner::generate("bench.example/log", &mut rand_core::OsRng).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("growth.db");
    let mut ledger = Ledger::open_sqlite(&db, signer.clone()).unwrap();
    run("sqlite", &mut ledger, total);
    // Opening verifies every run file (length and checksum) before the first look-up.
    drop(ledger);
    let start = Instant::now();
    let ledger = Ledger::open_sqlite(&db, signer.clone()).unwrap();
    eprintln!(
        "sqlite: reopening the log took {:.0} ms (run files verified, in the page cache)",
        start.elapsed().as_secs_f64() * 1e3
    );
    let runs = storage(&[db.with_extension("db-runs")]);
    let bytes = storage(&[db.clone(), db.with_extension("db-wal")]) + runs;
    eprintln!(
        "sqlite: storage {bytes} bytes incl. WAL and {runs} bytes of run files ({} bytes/record)",
        bytes / total.max(1)
    );
    drop(ledger);

    if let Ok(url) = std::env::var("TRACEMARK_BENCH_POSTGRES") {
        let schema = format!("tracemark_growth_{}", std::process::id());
        let store = PostgresStore::connect_in_schema(&url, Some(&schema)).unwrap();
        let mut ledger = Ledger::new(store, signer);
        run("postgres", &mut ledger, total);
        drop(ledger);
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let size: i64 = client
            .query_one(
                "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::BIGINT FROM pg_class c
                 JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = $1 AND c.relkind = 'r'",
                &[&schema],
            )
            .unwrap()
            .get(0);
        eprintln!(
            "postgres: storage {size} bytes (tables with indexes and TOAST; {} bytes/record)",
            size as u64 / total.max(1)
        );
        client
            .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
            .unwrap();
    } else {
        eprintln!("postgres: set TRACEMARK_BENCH_POSTGRES to run");
    }
}
