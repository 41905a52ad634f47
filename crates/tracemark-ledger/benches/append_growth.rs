//! A plain timing loop beside the criterion benchmark: batches of 1,000 distinct
//! generation records (full records: MinHash sketch, content hash, payload, generation
//! id) appended to a fresh log until it holds `TRACEMARK_GROWTH_RECORDS` (default
//! 100,000), printing records/s for every 10,000 and overall, the bytes written to disk
//! (from `/proc/self/io`) and the storage per record. SQLite always; PostgreSQL too when
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
        },
        provider: "provider.example".into(),
        credential_hash: None,
        time: "2026-11-29T12:00:00Z".parse().unwrap(),
        generation_id: format!("gen-{n}"),
        sketch: TextSketch::of_text(&text),
    }
}

fn written_bytes() -> Option<u64> {
    let io = std::fs::read_to_string("/proc/self/io").ok()?;
    io.lines()
        .find_map(|l| l.strip_prefix("write_bytes: "))
        .and_then(|v| v.trim().parse().ok())
}

fn run<S: LogStore>(name: &str, ledger: &mut Ledger<S>, total: u64) {
    let mut spent = Duration::ZERO;
    let mut segment = Duration::ZERO;
    let written_at_start = written_bytes();
    let mut n = 0;
    while n < total {
        // Records are made outside the timing (the sketch is the caller's work).
        let batch: Vec<GenerationRecord> = (n..n + BATCH).map(record).collect();
        let start = Instant::now();
        ledger.append_records(&batch).unwrap();
        let took = start.elapsed();
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
        .map(|(a, b)| format!(", {:.1} MB written to disk", (a - b) as f64 / 1e6))
        .unwrap_or_default();
    eprintln!(
        "{name}: {total} records in batches of {BATCH}: {:.0} records/s overall{written}",
        total as f64 / spent.as_secs_f64()
    );
    // Look-ups still answer on the grown log.
    let r = record(total / 2);
    let start = Instant::now();
    let hits = ledger
        .lookup(&tracemark_ledger::Lookup::ContentHash(r.content_hash))
        .unwrap();
    let exact = start.elapsed();
    let start = Instant::now();
    let near = ledger.similar(&r.sketch, 0.9, 5).unwrap();
    let similar = start.elapsed();
    assert_eq!(hits, vec![total / 2]);
    assert_eq!(near[0].index, total / 2);
    eprintln!(
        "{name}: look-up by content hash {:.0} µs, by similarity {:.0} µs",
        exact.as_secs_f64() * 1e6,
        similar.as_secs_f64() * 1e6
    );
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
    let bytes: u64 = [db.clone(), db.with_extension("db-wal")]
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    eprintln!(
        "sqlite: storage {bytes} bytes incl. WAL ({} bytes/record)",
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
