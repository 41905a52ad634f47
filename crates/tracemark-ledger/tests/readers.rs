//! Readers: a log opened read-only (`SqliteStore::open_read_only`,
//! `PostgresStore::connect_read_only_in_schema`) behind a `LogReader`, which holds only
//! the verifier key. It answers as the writer does, proves against the latest kept
//! checkpoint, refuses writes, and leaves the log's files byte for byte as they were,
//! also while a writer appends, merges and signs at the same time.
//!
//! The PostgreSQL tests need `TRACEMARK_TEST_POSTGRES` (see `tests/postgres.rs`) and
//! skip without it (a failure under `CI=true`).

#[macro_use]
mod common;

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use common::{record, signer};
use sha2::{Digest, Sha256};
use tracemark_core::{Diagnose, Fault};
use tracemark_ledger::{
    Ledger, LedgerError, LogReader, LogRecord, LogStore, Lookup, NoteSigner, PostgresStore,
    RecordKind, ReportRecord, SqliteStore, StoreError, TrustPolicy,
    store::{EntryKeys, NewEntry},
};

/// The batches appended: sizes 1 to 9 in turn, so that level-0 runs are merged often.
fn batches(count: u64) -> Vec<Vec<u64>> {
    let mut next = 0;
    (0..count)
        .map(|b| {
            let n = 1 + (b * 5) % 9;
            let batch = (next..next + n).collect();
            next += n;
            batch
        })
        .collect()
}

fn append(ledger: &mut Ledger<impl LogStore>, indexes: &[u64]) {
    let records: Vec<_> = indexes.iter().map(|&i| record(i)).collect();
    let appended = ledger.append_records(&records).unwrap();
    assert_eq!(appended[0].index, indexes[0]);
}

/// SHA-256 of every file of the log that holds its data: the database, its WAL, and
/// the run files (by name). Not the `-shm` file: SQLite's shared-memory WAL index,
/// where every WAL reader records its read mark.
fn log_files(db: &Path) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    let mut add = |name: String, path: &Path| {
        let bytes = std::fs::read(path).unwrap();
        files.insert(name, hex::encode(Sha256::digest(&bytes)));
    };
    add("db".into(), db);
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    if wal.exists() {
        add("db-wal".into(), &wal);
    }
    let runs = PathBuf::from(format!("{}-runs", db.display()));
    for entry in std::fs::read_dir(&runs).unwrap() {
        let path = entry.unwrap().path();
        add(
            format!("runs/{}", path.file_name().unwrap().to_string_lossy()),
            &path,
        );
    }
    files
}

fn reader_of(db: &Path, signer: &NoteSigner) -> LogReader<SqliteStore> {
    LogReader::open_sqlite(db, signer.verifier().clone()).unwrap()
}

/// The verifier as a client has it: parsed from the `key.pub` text.
fn public_policy(signer: &NoteSigner) -> TrustPolicy {
    TrustPolicy::from_log_vkey(&format!("{}\n", signer.verifier())).unwrap()
}

/// Every read a query makes, checked against what the writer answers.
fn same_answers<A: LogStore, B: LogStore>(writer: &mut Ledger<A>, reader: &LogReader<B>) {
    let size = writer.size().unwrap();
    assert_eq!(reader.size().unwrap(), size);
    assert_eq!(
        reader.latest_checkpoint().unwrap().unwrap().to_text(),
        writer.latest_checkpoint().unwrap().unwrap().to_text()
    );
    for i in 0..size {
        let r = record(i);
        for q in [
            Lookup::ContentHash(r.content_hash),
            Lookup::GenerationId(r.generation_id.clone()),
            Lookup::Payload {
                payload: r.payload,
                key_id: Some(r.key_id.clone()),
            },
        ] {
            assert_eq!(reader.lookup(&q).unwrap(), writer.lookup(&q).unwrap());
        }
        assert_eq!(
            reader.similar(&r.sketch, 0.2, 5).unwrap(),
            writer.similar(&r.sketch, 0.2, 5).unwrap()
        );
        assert_eq!(reader.record(i).unwrap(), r);
        assert_eq!(reader.log_record(i).unwrap(), LogRecord::Generation(r));
        // The writer's `prove` signs nothing on an unchanged log: the same receipt.
        assert_eq!(
            reader.prove_latest(i).unwrap().to_text(),
            writer.prove(i).unwrap().to_text()
        );
    }
    for (old, new) in [(1, size), (size / 3, size / 2), (size, size)] {
        assert_eq!(
            reader.consistency_proof(old, new).unwrap(),
            writer.consistency_proof(old, new).unwrap()
        );
    }
    for path in [
        "tile/0/000",
        "tile/0/000.p/5",
        "tile/1/000.p/1",
        "tile/entries/000.p/7",
    ] {
        let ours = reader.tile(path);
        let theirs = writer.tile(path);
        match (ours, theirs) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{path}"),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{path}"),
            (a, b) => panic!("{path}: {a:?} against {b:?}"),
        }
    }
    assert_eq!(reader.verify().unwrap(), writer.verify().unwrap());
    assert_eq!(reader.origin(), writer.origin());
}

/// Every read a server's anonymous queries make, many times.
fn read_everything(reader: &LogReader<impl LogStore>, rounds: usize) -> usize {
    let size = reader.size().unwrap();
    let policy = reader.policy();
    let mut reads = 0;
    for round in 0..rounds {
        for i in 0..size {
            let r = record(i);
            assert_eq!(
                reader.lookup(&Lookup::ContentHash(r.content_hash)).unwrap(),
                vec![i]
            );
            assert_eq!(reader.similar(&r.sketch, 0.9, 2).unwrap()[0].index, i);
            match reader.prove_latest(i) {
                Ok(receipt) => {
                    receipt.verify(&policy, None).unwrap();
                }
                Err(LedgerError::NotYetCheckpointed { .. }) => {}
                Err(e) => panic!("{e}"),
            }
            reads += 3;
        }
        let _ = reader.tile("tile/0/000.p/3");
        if round == 0 {
            reader.verify().unwrap();
        }
    }
    reads
}

#[test]
fn a_reader_answers_as_the_writer_does() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("log.db");
    let signer = signer();
    let mut writer = Ledger::open_sqlite(&db, signer.clone()).unwrap();
    for batch in batches(24) {
        append(&mut writer, &batch);
    }
    writer.checkpoint().unwrap();
    let runs = writer.store().lookup_runs().unwrap();
    assert!(
        runs.len() > 1 && runs.iter().any(|r| r.level > 0),
        "{runs:?}"
    );
    let reader = reader_of(&db, &signer);
    assert!(reader.store().is_read_only());
    same_answers(&mut writer, &reader);
    // The reader follows later appends without being reopened.
    let next = writer.size().unwrap();
    append(&mut writer, &[next]);
    writer.checkpoint().unwrap();
    same_answers(&mut writer, &reader);
    // A writer's own read side is a LogReader too.
    assert_eq!(writer.reader().size().unwrap(), reader.size().unwrap());
}

#[test]
fn prove_latest_needs_a_checkpoint_that_includes_the_entry() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("log.db");
    let signer = signer();
    let mut writer = Ledger::open_sqlite(&db, signer.clone()).unwrap();
    append(&mut writer, &(0..10).collect::<Vec<_>>());
    let reader = reader_of(&db, &signer);
    let err = reader.prove_latest(3).unwrap_err();
    assert!(
        matches!(
            err,
            LedgerError::NotYetCheckpointed {
                index: 3,
                checkpoint_size: 0
            }
        ),
        "{err}"
    );
    writer.checkpoint().unwrap();
    append(&mut writer, &(10..15).collect::<Vec<_>>());
    let err = reader.prove_latest(12).unwrap_err();
    assert!(
        matches!(
            err,
            LedgerError::NotYetCheckpointed {
                index: 12,
                checkpoint_size: 10
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("entry 12") && err.to_string().contains("10 entries"));
    assert_eq!(err.fault(), Fault::Input);
    assert!(err.hint().unwrap().contains("checkpoint"));
    // Beyond the log, it is no such entry.
    assert!(matches!(
        reader.prove_latest(15),
        Err(LedgerError::NoSuchEntry {
            index: 15,
            size: 15
        })
    ));
    // Entries of the checkpoint are proved against it, and the receipt verifies with
    // only the public key.
    let receipt = reader.prove_latest(9).unwrap();
    let verified = receipt
        .verify(
            &public_policy(&signer),
            Some(&record(9).canonical_bytes().unwrap()),
        )
        .unwrap();
    assert_eq!(verified.checkpoint.checkpoint.size, 10);
    // The writer signs on its timer; then the newer entries are proved.
    let before = log_files(&db);
    let kept = writer.checkpoint().unwrap();
    assert_ne!(log_files(&db), before, "a grown log's checkpoint is kept");
    let signed_at = log_files(&db);
    // On an unchanged log, `checkpoint` (a timer's call) returns the kept one and
    // writes nothing.
    assert_eq!(writer.checkpoint().unwrap().to_text(), kept.to_text());
    assert_eq!(log_files(&db), signed_at);
    let receipt = reader.prove_latest(12).unwrap();
    assert_eq!(receipt.checkpoint.to_text(), kept.to_text());
    receipt.verify(&public_policy(&signer), None).unwrap();
}

#[test]
fn writes_through_a_reader_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("log.db");
    let signer = signer();
    let mut writer = Ledger::open_sqlite(&db, signer.clone()).unwrap();
    append(&mut writer, &[0, 1, 2]);
    let note = writer.checkpoint().unwrap().to_text();
    let before = log_files(&db);
    // Through the trait object a front end holds, as for any backend.
    let mut store: Box<dyn LogStore + Send> = Box::new(SqliteStore::open_read_only(&db).unwrap());
    let entry = NewEntry {
        data: b"not allowed".to_vec(),
        keys: EntryKeys::default(),
    };
    for err in [
        store.append(std::slice::from_ref(&entry)).unwrap_err(),
        store.save_checkpoint(7, "note").unwrap_err(),
        store.replace_checkpoint(3, &note, "other", 1).unwrap_err(),
    ] {
        assert!(matches!(err, StoreError::ReadOnly(_)), "{err}");
        assert!(err.to_string().contains("read-only"), "{err}");
    }
    // A writer over a reader's store is refused too (at its first write).
    let mut misused = Ledger::new(SqliteStore::open_read_only(&db).unwrap(), signer.clone());
    assert!(matches!(
        misused.append_entries(&[entry]),
        Err(LedgerError::Store(StoreError::ReadOnly(_)))
    ));
    assert_eq!(log_files(&db), before);
    assert_eq!(writer.size().unwrap(), 3);
}

#[test]
fn a_reader_refuses_what_only_a_writer_can_open() {
    let dir = tempfile::tempdir().unwrap();
    // No database: refused, and nothing is created.
    let missing = dir.path().join("missing.db");
    let err = SqliteStore::open_read_only(&missing).unwrap_err();
    assert!(matches!(err, StoreError::NoLog(_)), "{err}");
    assert!(err.to_string().contains("does not exist"), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    // An SQLite file without a log.
    let empty = dir.path().join("empty.db");
    rusqlite::Connection::open(&empty)
        .unwrap()
        .execute_batch("CREATE TABLE other(x)")
        .unwrap();
    let err = SqliteStore::open_read_only(&empty).unwrap_err();
    assert!(matches!(err, StoreError::NoLog(_)), "{err}");
    // An older schema version: a writer upgrades it, a reader does not.
    let db = dir.path().join("log.db");
    let signer = signer();
    {
        let mut writer = Ledger::open_sqlite(&db, signer.clone()).unwrap();
        append(&mut writer, &[0, 1]);
    }
    let set_version = |v: &str| {
        rusqlite::Connection::open(&db)
            .unwrap()
            .execute(
                "UPDATE meta SET value = ?1 WHERE key = 'schema_version'",
                [v],
            )
            .unwrap();
    };
    set_version("2");
    let err = SqliteStore::open_read_only(&db).unwrap_err();
    assert!(matches!(err, StoreError::NeedsWriter(_)), "{err}");
    assert!(err.hint().unwrap().contains("writer"), "{err}");
    assert!(err.to_string().contains("schema version 2"), "{err}");
    // A newer one: refused as by a writer.
    set_version("4");
    let err = SqliteStore::open_read_only(&db).unwrap_err();
    assert!(matches!(err, StoreError::Schema { .. }), "{err}");
    set_version("3");
    assert_eq!(reader_of(&db, &signer).size().unwrap(), 2);
}

/// Many reads, with the writer open and idle, leave the database, its WAL and the run
/// files byte for byte as they were; answering the old way (a writer opened per query,
/// proving with `Ledger::prove`) does not, which shows that the check can fail.
#[test]
fn reads_leave_the_log_files_as_they_were() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("log.db");
    let signer = signer();
    let mut writer = Ledger::open_sqlite(&db, signer.clone()).unwrap();
    let all = batches(30);
    for batch in &all[..20] {
        append(&mut writer, batch);
    }
    writer.checkpoint().unwrap();
    for batch in &all[20..] {
        append(&mut writer, batch);
    }
    // Entries after the latest checkpoint: a reader cannot prove them, and must not
    // sign.
    let before = log_files(&db);
    assert!(before.contains_key("db-wal"), "{before:?}");
    let mut reads = 0;
    for _ in 0..3 {
        let reader = reader_of(&db, &signer);
        reads += read_everything(&reader, 2);
        assert_eq!(reader.store().read_stats(), Default::default());
    }
    assert!(reads > 1000);
    assert_eq!(log_files(&db), before);

    // The old way of answering: open the log as a writer and prove.
    let last = writer.size().unwrap() - 1;
    let mut per_query = Ledger::open_sqlite(&db, signer.clone()).unwrap();
    per_query.prove(last).unwrap();
    drop(per_query);
    assert_ne!(
        log_files(&db),
        before,
        "the writer's prove signed a checkpoint"
    );
}

/// Readers reading while the writer appends, merges runs and signs after every batch
/// leave the log as the writer alone leaves it: the same appends and checkpoints, with
/// no reader in one log and three in another, give byte-identical files (after the
/// writer, closing last, has checkpointed the WAL into the database).
#[test]
fn reads_during_appends_write_nothing() {
    let signer = signer();
    let schedule = batches(60);
    let run = |readers: usize| -> (BTreeMap<String, String>, usize) {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("log.db");
        let mut writer = Ledger::open_sqlite(&db, signer.clone()).unwrap();
        append(&mut writer, &schedule[0]);
        writer.checkpoint().unwrap();
        let done = Arc::new(AtomicBool::new(false));
        let threads: Vec<_> = (0..readers)
            .map(|t| {
                let (db, signer, done) = (db.clone(), signer.clone(), done.clone());
                std::thread::spawn(move || {
                    let reader = reader_of(&db, &signer);
                    let policy = reader.policy();
                    let mut reads = 0usize;
                    let mut k = t as u64;
                    while !done.load(Ordering::SeqCst) || reads < 100 {
                        let size = reader.size().unwrap();
                        k = (k * 7919 + 13) % size;
                        let r = record(k);
                        assert_eq!(
                            reader
                                .lookup(&Lookup::GenerationId(r.generation_id.clone()))
                                .unwrap(),
                            vec![k]
                        );
                        assert_eq!(reader.similar(&r.sketch, 0.9, 2).unwrap()[0].index, k);
                        match reader.prove_latest(k) {
                            Ok(receipt) => {
                                receipt
                                    .verify(&policy, Some(&r.canonical_bytes().unwrap()))
                                    .unwrap();
                            }
                            Err(LedgerError::NotYetCheckpointed { .. }) => {}
                            Err(e) => panic!("{e}"),
                        }
                        reads += 1;
                    }
                    let stats = reader.store().read_stats();
                    // A run merged away after a look-up's snapshot began is found by
                    // reading again, never by falling back to the entries.
                    assert_eq!(stats.runs_read_from_entries, 0, "{stats:?}");
                    (reads, stats.snapshots_retried)
                })
            })
            .collect();
        for batch in &schedule[1..] {
            append(&mut writer, batch);
            writer.checkpoint().unwrap();
            std::thread::sleep(Duration::from_millis(2));
        }
        done.store(true, Ordering::SeqCst);
        let mut reads = 0;
        let mut retried = 0;
        for t in threads {
            let (r, s) = t.join().unwrap();
            reads += r;
            retried += s;
        }
        writer.verify().unwrap();
        drop(writer);
        // Whatever is left in the WAL goes into the database file.
        rusqlite::Connection::open(&db)
            .unwrap()
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
        let files = log_files(&db);
        eprintln!("{readers} readers: {reads} reads, {retried} look-ups read again");
        (files, reads)
    };
    let (alone, _) = run(0);
    let (again, _) = run(0);
    assert_eq!(alone, again, "the writer alone is deterministic");
    let (with_readers, reads) = run(3);
    assert!(reads >= 300);
    assert_eq!(with_readers, alone);
}

/// A reader cannot repair a damaged run file: it answers from the entries' key columns,
/// leaves the file as it is, and uses the file again once the writer has rebuilt it.
#[test]
fn a_reader_reads_around_damaged_run_files_and_repairs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("log.db");
    let signer = signer();
    let mut writer = Ledger::open_sqlite(&db, signer.clone()).unwrap();
    for batch in batches(20) {
        append(&mut writer, &batch);
    }
    writer.checkpoint().unwrap();
    let size = writer.size().unwrap();
    let reader = reader_of(&db, &signer);
    let check_all = || {
        for i in 0..size {
            let r = record(i);
            assert_eq!(reader.similar(&r.sketch, 0.9, 2).unwrap()[0].index, i);
            assert_eq!(
                reader.lookup(&Lookup::ContentHash(r.content_hash)).unwrap(),
                vec![i]
            );
        }
    };
    check_all();
    let runs = reader.store().lookup_runs().unwrap();
    let biggest = runs.iter().max_by_key(|r| r.records).unwrap().run;
    let path = reader.store().run_path(biggest).unwrap();

    // A flipped byte in a block (the footer still matches): found when read.
    let good = std::fs::read(&path).unwrap();
    let mut bad = good.clone();
    bad[10 * 17 + 12] ^= 1;
    std::fs::write(&path, &bad).unwrap();
    let damaged = log_files(&db);
    check_all();
    let stats = reader.store().read_stats();
    assert!(stats.runs_read_from_entries > 0, "{stats:?}");
    assert_eq!(log_files(&db), damaged, "the reader repaired nothing");
    // The writer repairs the run when a look-up of its own reads it (in place, the same
    // bytes as before); the reader, which holds the damaged file open, reopens it.
    for i in 0..size {
        writer.similar(&record(i).sketch, 0.9, 1).unwrap();
    }
    assert_eq!(std::fs::read(&path).unwrap(), good);
    check_all();
    let after = reader.store().read_stats();
    assert_eq!(
        after.runs_read_from_entries, stats.runs_read_from_entries,
        "{after:?}"
    );

    // A deleted file (for a reader that has not opened it: one that has reads it
    // still): read from the entries until a writer opens the log again.
    drop(reader);
    let reader = reader_of(&db, &signer);
    let check_all = || {
        for i in 0..size {
            let r = record(i);
            assert_eq!(reader.similar(&r.sketch, 0.9, 2).unwrap()[0].index, i);
            assert_eq!(
                reader
                    .lookup(&Lookup::GenerationId(r.generation_id))
                    .unwrap(),
                vec![i]
            );
        }
    };
    let smallest = runs.iter().min_by_key(|r| r.records).unwrap().run;
    let path = reader.store().run_path(smallest).unwrap();
    let good = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let damaged = log_files(&db);
    check_all();
    let stats = reader.store().read_stats();
    assert!(stats.runs_read_from_entries > 0, "{stats:?}");
    assert_eq!(log_files(&db), damaged);
    drop(writer);
    let _writer = Ledger::open_sqlite(&db, signer.clone()).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), good);
    check_all();
    assert_eq!(
        reader.store().read_stats().runs_read_from_entries,
        stats.runs_read_from_entries
    );
}

/// A long-lived reader does not keep the files of runs that the writer merged away
/// open (which would keep their disk space).
#[cfg(target_os = "linux")]
#[test]
fn a_reader_closes_the_files_of_runs_merged_away() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("log.db");
    let signer = signer();
    let mut writer = Ledger::open_sqlite(&db, signer.clone()).unwrap();
    let reader = reader_of(&db, &signer);
    let runs_dir = format!("{}-runs", db.display());
    let deleted_open = || {
        std::fs::read_dir("/proc/self/fd")
            .unwrap()
            .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
            .map(|p| p.display().to_string())
            .filter(|p| p.starts_with(&runs_dir) && p.ends_with("(deleted)"))
            .count()
    };
    let mut merges = 0;
    for (b, batch) in batches(40).iter().enumerate() {
        let before = writer.store().lookup_runs().unwrap().len();
        append(&mut writer, batch);
        if writer.store().lookup_runs().unwrap().len() <= before {
            merges += 1;
        }
        // The reader opens every run's file.
        let r = record(batch[0]);
        assert_eq!(
            reader.similar(&r.sketch, 0.9, 1).unwrap()[0].index,
            batch[0]
        );
        assert_eq!(deleted_open(), 0, "after batch {b}");
    }
    assert!(merges >= 4, "{merges}");
}

#[test]
fn a_reader_of_a_closed_log_writes_nothing_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("log.db");
    let signer = signer();
    {
        let mut writer = Ledger::open_sqlite(&db, signer.clone()).unwrap();
        for batch in batches(12) {
            append(&mut writer, &batch);
        }
        writer.checkpoint().unwrap();
    }
    // The writer closed last: SQLite checkpointed and deleted the WAL.
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    assert!(!wal.exists());
    let before = log_files(&db);
    let reader = reader_of(&db, &signer);
    read_everything(&reader, 1);
    drop(reader);
    // SQLite made an empty WAL (and a -shm) to read through; the log is unchanged.
    assert_eq!(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0), 0);
    let mut after = log_files(&db);
    after.remove("db-wal");
    assert_eq!(after, before);
    // A writer opens it as before.
    let writer = Ledger::open_sqlite(&db, signer).unwrap();
    writer.verify().unwrap();
}

#[test]
fn the_registry_reads_every_kind_of_entry() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("log.db");
    let signer = signer();
    let mut writer = Ledger::open_sqlite(&db, signer.clone()).unwrap();
    append(&mut writer, &[0]);
    let report = ReportRecord::new(
        "sha256:abcd",
        record(0).content_hash,
        "2026-12-01T00:00:00Z".parse().unwrap(),
    );
    writer.append_entries(&[report.entry().unwrap()]).unwrap();
    writer
        .append_entries(&[NewEntry {
            data: br#"{"format":"tracemark.collection-record/v9","x":1}"#.to_vec(),
            keys: EntryKeys::default(),
        }])
        .unwrap();
    writer.checkpoint().unwrap();
    let reader = reader_of(&db, &signer);
    assert_eq!(reader.log_record(0).unwrap().kind(), RecordKind::Generation);
    assert_eq!(reader.log_record(1).unwrap(), LogRecord::Report(report));
    let err = reader.log_record(2).unwrap_err();
    assert!(
        err.to_string().contains("tracemark.collection-record/v9"),
        "{err}"
    );
    // Proofs do not depend on what an entry is.
    let receipt = reader.prove_latest(1).unwrap();
    let verified = receipt.verify(&public_policy(&signer), None).unwrap();
    assert_eq!(
        LogRecord::parse(verified.entry.as_deref().unwrap())
            .unwrap()
            .kind(),
        RecordKind::Report
    );
    assert!(reader.record(1).is_err(), "not a generation record");
}

// PostgreSQL.

fn postgres_url() -> Option<String> {
    tracemark_testkit::env_or_skip(
        "TRACEMARK_TEST_POSTGRES",
        "a PostgreSQL URL (postgres://user:password@host/db) to run the PostgreSQL tests",
    )
}

fn fresh_schema() -> String {
    use rand_core::RngCore;
    format!("tracemark_test_{:016x}", rand_core::OsRng.next_u64())
}

/// A plain client on the test database, in `schema`.
fn raw_client(url: &str, schema: &str) -> postgres::Client {
    let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
    client
        .batch_execute(&format!("SET search_path TO {schema}"))
        .unwrap();
    client
}

#[test]
fn a_postgres_reader_answers_as_the_writer_does_and_cannot_write() {
    let Some(url) = postgres_url() else { return };
    let schema = fresh_schema();
    let signer = signer();
    let store = PostgresStore::connect_in_schema(&url, Some(&schema)).unwrap();
    let mut writer = Ledger::new(store, signer.clone());
    let all = batches(20);
    for batch in &all[..16] {
        append(&mut writer, batch);
    }
    writer.checkpoint().unwrap();
    let reader = LogReader::open_postgres(&url, Some(&schema), signer.verifier().clone()).unwrap();
    assert!(reader.store().is_read_only());
    assert!(reader.store().session_read_only().unwrap());
    assert!(!writer.store().session_read_only().unwrap());
    same_answers(&mut writer, &reader);
    for batch in &all[16..] {
        append(&mut writer, batch);
    }
    let checkpointed = writer.latest_checkpoint().unwrap().unwrap();
    let n = checkpointed.checkpoint_unverified().size;
    assert!(matches!(
        reader.prove_latest(n),
        Err(LedgerError::NotYetCheckpointed { index, checkpoint_size }) if index == n && checkpoint_size == n
    ));
    writer.checkpoint().unwrap();
    same_answers(&mut writer, &reader);

    let mut store: Box<dyn LogStore + Send> =
        Box::new(PostgresStore::connect_read_only_in_schema(&url, Some(&schema)).unwrap());
    let entry = NewEntry {
        data: b"not allowed".to_vec(),
        keys: EntryKeys::default(),
    };
    for err in [
        store.append(&[entry]).unwrap_err(),
        store.save_checkpoint(1, "note").unwrap_err(),
        store.replace_checkpoint(1, "a", "b", 1).unwrap_err(),
    ] {
        assert!(matches!(err, StoreError::ReadOnly(_)), "{err}");
    }
    // The server refuses writes on a reader's session, whatever the store checks.
    assert!(reader.store().session_read_only().unwrap());
}

#[test]
fn a_postgres_reader_refuses_what_only_a_writer_can_open() {
    let Some(url) = postgres_url() else { return };
    let schema = fresh_schema();
    // No such schema: refused, and not created.
    let err = PostgresStore::connect_read_only_in_schema(&url, Some(&schema)).unwrap_err();
    assert!(matches!(err, StoreError::NoLog(_)), "{err}");
    let mut client = raw_client(&url, &schema);
    let exists: bool = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)",
            &[&schema],
        )
        .unwrap()
        .get(0);
    assert!(!exists);
    let mut writer = Ledger::new(
        PostgresStore::connect_in_schema(&url, Some(&schema)).unwrap(),
        signer(),
    );
    append(&mut writer, &[0]);
    for (version, old) in [("1", true), ("3", false)] {
        client
            .execute(
                "UPDATE meta SET value = $1 WHERE key = 'schema_version'",
                &[&version],
            )
            .unwrap();
        let err = PostgresStore::connect_read_only_in_schema(&url, Some(&schema)).unwrap_err();
        if old {
            assert!(matches!(err, StoreError::NeedsWriter(_)), "{err}");
        } else {
            assert!(matches!(err, StoreError::Schema { .. }), "{err}");
        }
    }
    client
        .execute(
            "UPDATE meta SET value = '2' WHERE key = 'schema_version'",
            &[],
        )
        .unwrap();
    assert!(PostgresStore::connect_read_only_in_schema(&url, Some(&schema)).is_ok());
}

/// A reader connects and reads while another session holds the append lock and locks
/// every table of the log against writes (`EXCLUSIVE` lets only plain reads through):
/// it takes neither the advisory lock nor any row lock, and writes nothing. A writer
/// connecting meanwhile waits (it takes the append lock), which shows the locks hold.
#[test]
fn a_postgres_reader_takes_no_lock_a_writer_takes() {
    let Some(url) = postgres_url() else { return };
    let schema = fresh_schema();
    let signer = signer();
    let mut writer = Ledger::new(
        PostgresStore::connect_in_schema(&url, Some(&schema)).unwrap(),
        signer.clone(),
    );
    for batch in batches(12) {
        append(&mut writer, &batch);
    }
    writer.checkpoint().unwrap();
    let size = writer.size().unwrap();
    drop(writer);

    let mut locker = raw_client(&url, &schema);
    locker
        .query(
            "SELECT pg_advisory_lock($1)",
            &[&tracemark_ledger::postgres_store::APPEND_LOCK],
        )
        .unwrap();
    let mut tx = locker.transaction().unwrap();
    tx.batch_execute(
        "LOCK TABLE meta, entries, nodes, checkpoints, lookup_runs, lookup_keys IN EXCLUSIVE MODE",
    )
    .unwrap();

    let (sent, reads) = std::sync::mpsc::channel();
    {
        let (url, schema, signer) = (url.clone(), schema.clone(), signer.clone());
        std::thread::spawn(move || {
            let reader =
                LogReader::open_postgres(&url, Some(&schema), signer.verifier().clone()).unwrap();
            let n = read_everything(&reader, 1);
            assert_eq!(reader.size().unwrap(), size);
            sent.send(n).unwrap();
        });
    }
    let n = reads
        .recv_timeout(Duration::from_secs(60))
        .expect("the reader waited for a lock");
    assert!(n > 0);

    let (sent, connected) = std::sync::mpsc::channel();
    {
        let (url, schema) = (url.clone(), schema.clone());
        std::thread::spawn(move || {
            let store = PostgresStore::connect_in_schema(&url, Some(&schema));
            let _ = sent.send(store.is_ok());
        });
    }
    assert!(
        connected.recv_timeout(Duration::from_secs(1)).is_err(),
        "a writer connects only after the lock is released"
    );
    tx.commit().unwrap();
    locker
        .query(
            "SELECT pg_advisory_unlock($1)",
            &[&tracemark_ledger::postgres_store::APPEND_LOCK],
        )
        .unwrap();
    assert!(connected.recv_timeout(Duration::from_secs(60)).unwrap());
}
