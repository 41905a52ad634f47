//! Appends per second on SQLite (one by one and batched), and inclusion and consistency
//! proof times at one million entries (in memory and from SQLite).
//!
//! Run with `cargo bench -p tracemark-ledger`.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use tracemark_core::{ContentHash, KeyId, KeyKind, Payload};
use tracemark_ledger::{
    GenerationRecord, Ledger, ModelRef, NoteSigner, SqliteStore, TextSketch,
    merkle::{self, MemoryTree, leaf_hash},
    record::GENERATION_RECORD_V1,
    store::{EntryKeys, NewEntry},
};

const MILLION: u64 = 1_000_000;

fn record(n: u64) -> GenerationRecord {
    let text: String = (0..60)
        .map(|i| format!("w{} ", (n * 31 + i) % 5003))
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

fn signer() -> NoteSigner {
    NoteSigner::generate("bench.example/log", &mut rand_core::OsRng).unwrap()
}

fn appends(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open_sqlite(&dir.path().join("bench.db"), signer()).unwrap();
    let records: Vec<GenerationRecord> = (0..1000).map(record).collect();
    let mut group = c.benchmark_group("sqlite_append");
    group.sample_size(10);
    group.throughput(Throughput::Elements(1));
    group.bench_function("single", |b| {
        let mut i = 0;
        b.iter(|| {
            ledger
                .append_records(std::slice::from_ref(&records[i % 1000]))
                .unwrap();
            i += 1;
        })
    });
    group.throughput(Throughput::Elements(1000));
    group.bench_function("batch_1000", |b| {
        b.iter(|| ledger.append_records(&records).unwrap())
    });
    group.finish();
    report_storage(&ledger, &dir.path().join("bench.db"));
}

/// Prints the storage cost of generation records (entry, hashes, WAL, look-up run files).
fn report_storage(ledger: &Ledger<SqliteStore>, db: &std::path::Path) {
    let entries = ledger.size().unwrap();
    let wal = db.with_extension("db-wal");
    let runs = std::fs::read_dir(db.with_extension("db-runs"))
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok()?.metadata().ok());
    let bytes = [db, wal.as_path()]
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .chain(runs)
        .map(|m| m.len())
        .sum::<u64>();
    if let Some(per) = bytes.checked_div(entries) {
        eprintln!(
            "SQLite storage: {bytes} bytes for {entries} generation records ({per} bytes/record)"
        );
    }
}

/// The same appends on PostgreSQL, when `TRACEMARK_BENCH_POSTGRES` names a database.
fn postgres_appends(c: &mut Criterion) {
    let Ok(url) = std::env::var("TRACEMARK_BENCH_POSTGRES") else {
        eprintln!("postgres_append: set TRACEMARK_BENCH_POSTGRES to run");
        return;
    };
    let schema = format!("tracemark_bench_{}", std::process::id());
    let store = tracemark_ledger::PostgresStore::connect_in_schema(&url, Some(&schema)).unwrap();
    let mut ledger = Ledger::new(store, signer());
    let records: Vec<GenerationRecord> = (0..1000).map(record).collect();
    let mut group = c.benchmark_group("postgres_append");
    group.sample_size(10);
    group.throughput(Throughput::Elements(1));
    group.bench_function("single", |b| {
        let mut i = 0;
        b.iter(|| {
            ledger
                .append_records(std::slice::from_ref(&records[i % 1000]))
                .unwrap();
            i += 1;
        })
    });
    group.throughput(Throughput::Elements(1000));
    group.bench_function("batch_1000", |b| {
        b.iter(|| ledger.append_records(&records).unwrap())
    });
    group.finish();
}

fn proofs_in_memory(c: &mut Criterion) {
    let mut tree = MemoryTree::new();
    for i in 0..MILLION {
        tree.push(leaf_hash(&i.to_be_bytes()));
    }
    let mut group = c.benchmark_group("proof_1m_memory");
    group.bench_function("inclusion", |b| {
        let mut i = 0u64;
        b.iter(|| {
            i = (i + 7919) % MILLION;
            black_box(merkle::inclusion_proof(&tree, i, MILLION).unwrap())
        })
    });
    group.bench_function("consistency", |b| {
        let mut old = 1u64;
        b.iter(|| {
            old = (old + 7919) % (MILLION - 1) + 1;
            black_box(merkle::consistency_proof(&tree, old, MILLION).unwrap())
        })
    });
    let root = tree.root();
    let proof = merkle::inclusion_proof(&tree, 123_456, MILLION).unwrap();
    let leaf = leaf_hash(&123_456u64.to_be_bytes());
    group.bench_function("verify_inclusion", |b| {
        b.iter(|| merkle::verify_inclusion(&leaf, 123_456, MILLION, &proof, &root).unwrap())
    });
    group.finish();
}

fn proofs_from_sqlite(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open_sqlite(&dir.path().join("million.db"), signer()).unwrap();
    for start in (0..MILLION).step_by(50_000) {
        let batch: Vec<NewEntry> = (start..start + 50_000)
            .map(|i| NewEntry {
                data: i.to_be_bytes().to_vec(),
                keys: EntryKeys::default(),
            })
            .collect();
        ledger.append_entries(&batch).unwrap();
    }
    let db_bytes = std::fs::metadata(dir.path().join("million.db"))
        .map(|m| m.len())
        .unwrap_or(0);
    eprintln!(
        "SQLite storage: {} bytes for {MILLION} 8-byte entries ({} bytes/entry, tree hashes included)",
        db_bytes,
        db_bytes / MILLION
    );
    let mut group = c.benchmark_group("proof_1m_sqlite");
    group.bench_function("inclusion", |b| {
        let mut i = 0u64;
        b.iter(|| {
            i = (i + 7919) % MILLION;
            black_box(merkle_inclusion(&ledger, i))
        })
    });
    group.bench_function("consistency", |b| {
        let mut old = 1u64;
        b.iter(|| {
            old = (old + 7919) % (MILLION - 1) + 1;
            black_box(ledger.consistency_proof(old, MILLION).unwrap())
        })
    });
    group.bench_function("receipt", |b| {
        b.iter_batched(
            || (),
            |_| black_box(ledger.prove(424_242).unwrap()),
            BatchSize::SmallInput,
        )
    });
    let receipt = ledger.prove(424_242).unwrap().to_text();
    eprintln!(
        "receipt size at 1M entries: {} bytes (8-byte entry as extra)",
        receipt.len()
    );
    group.finish();
}

fn merkle_inclusion(ledger: &Ledger<SqliteStore>, index: u64) -> Vec<merkle::Hash> {
    // The same computation `prove` does, without signing a checkpoint.
    ledger.inclusion_proof(index, MILLION).unwrap()
}

criterion_group!(
    benches,
    appends,
    postgres_appends,
    proofs_in_memory,
    proofs_from_sqlite
);
criterion_main!(benches);
