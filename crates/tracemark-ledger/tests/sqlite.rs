//! The store suite on SQLite, and the SQLite-specific fault tests (altered rows, a
//! corrupted file).

#[macro_use]
mod common;

use common::{record, signer};
use tracemark_core::{Diagnose, Fault};
use tracemark_ledger::{
    Ledger, LedgerError, SqliteStore, StoreError,
    merkle::{self, MemoryTree, leaf_hash},
};

struct Sqlite;

impl common::suite::Backend for Sqlite {
    type Store = SqliteStore;

    fn available() -> bool {
        true
    }

    fn make() -> SqliteStore {
        SqliteStore::in_memory().unwrap()
    }
}

store_suite!(Sqlite);

#[test]
fn an_altered_entry_or_hash_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let signer = signer();
    {
        let mut ledger = Ledger::open_sqlite(&path, signer.clone()).unwrap();
        ledger
            .append_records(&(0..30).map(record).collect::<Vec<_>>())
            .unwrap();
        ledger.checkpoint().unwrap();
        ledger.verify().unwrap();
    }
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        "UPDATE entries SET data = CAST(replace(CAST(data AS TEXT), 'gen-7', 'gen-X') AS BLOB) WHERE idx = 7",
        [],
    )
    .unwrap();
    drop(conn);
    let ledger = Ledger::open_sqlite(&path, signer.clone()).unwrap();
    let err = ledger.verify().unwrap_err();
    assert!(matches!(err, LedgerError::Inconsistent(_)), "{err}");
    assert_eq!(err.fault(), Fault::Input);
    assert!(err.hint().is_some());

    // Rewriting the hashes to match does not help: the signed checkpoint disagrees.
    let conn = rusqlite::Connection::open(&path).unwrap();
    let entries: Vec<Vec<u8>> = conn
        .prepare("SELECT data FROM entries ORDER BY idx")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut rebuilt = MemoryTree::new();
    for e in &entries {
        rebuilt.push(leaf_hash(e));
    }
    for level in 0..5u8 {
        for i in 0..(30u64 >> level) {
            let h = merkle::HashReader::stored_hash(&rebuilt, level, i).unwrap();
            conn.execute(
                "UPDATE nodes SET hash = ?1 WHERE level = ?2 AND idx = ?3",
                rusqlite::params![h.0.to_vec(), level, i as i64],
            )
            .unwrap();
        }
    }
    drop(conn);
    let ledger = Ledger::open_sqlite(&path, signer).unwrap();
    let err = ledger.verify().unwrap_err();
    assert!(err.to_string().contains("signed checkpoint"), "{err}");
}

#[test]
fn a_corrupted_database_file_gives_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let signer = signer();
    {
        let mut ledger = Ledger::open_sqlite(&path, signer.clone()).unwrap();
        ledger
            .append_records(&(0..200).map(record).collect::<Vec<_>>())
            .unwrap();
        ledger.checkpoint().unwrap();
    }
    // Overwrite every page after the header page with garbage.
    let mut bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 8192, "the database should span several pages");
    for (i, b) in bytes.iter_mut().enumerate().skip(4096) {
        *b = (i as u8).wrapping_mul(31) ^ 0x5a;
    }
    std::fs::write(&path, &bytes).unwrap();
    let result = Ledger::open_sqlite(&path, signer).and_then(|l| l.verify().map(|_| ()));
    let err = result.expect_err("a corrupted database must not verify");
    assert!(
        matches!(
            err,
            LedgerError::Store(StoreError::Corrupt(_)) | LedgerError::Inconsistent(_)
        ),
        "{err:?}"
    );
    assert_eq!(err.fault(), Fault::Input);

    // A file that is not a database at all.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"this is not an SQLite database, just text").unwrap();
    let err = SqliteStore::open(&junk).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
}

/// Turns a version 2 database back into the version 1 layout (random-key indexes on
/// `entries`, an `lsh` table, no look-up runs), as a log written before the change has.
fn downgrade_to_v1(path: &std::path::Path) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "DROP TABLE lookup_keys; DROP TABLE lookup_runs;
         ALTER TABLE checkpoints DROP COLUMN cosignatures;
         CREATE INDEX entries_content_hash ON entries(content_hash);
         CREATE INDEX entries_payload ON entries(payload, key_id);
         CREATE INDEX entries_generation_id ON entries(generation_id);
         CREATE TABLE lsh (band INTEGER NOT NULL, bucket INTEGER NOT NULL, idx INTEGER NOT NULL,
                           PRIMARY KEY (band, bucket, idx)) WITHOUT ROWID;
         UPDATE meta SET value = '1' WHERE key = 'schema_version';",
    )
    .unwrap();
}

#[test]
fn a_version_1_log_is_upgraded_in_place_and_a_newer_one_refused() {
    use tracemark_ledger::{Lookup, TextSketch};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let signer = signer();
    {
        let mut ledger = Ledger::open_sqlite(&path, signer.clone()).unwrap();
        ledger
            .append_records(&(0..40).map(record).collect::<Vec<_>>())
            .unwrap();
        ledger.checkpoint().unwrap();
    }
    downgrade_to_v1(&path);
    let ledger = Ledger::open_sqlite(&path, signer.clone()).unwrap();
    ledger.verify().unwrap();
    for i in [0, 17, 39] {
        let r = record(i);
        assert_eq!(
            ledger.lookup(&Lookup::ContentHash(r.content_hash)).unwrap(),
            vec![i]
        );
        assert_eq!(
            ledger
                .lookup(&Lookup::GenerationId(format!("gen-{i}")))
                .unwrap(),
            vec![i]
        );
        let found = ledger.similar(&r.sketch, 0.9, 1).unwrap();
        assert_eq!(found[0].index, i);
    }
    assert!(
        ledger
            .similar(&TextSketch::of_text(&common::text(9_999, 60)), 0.3, 5)
            .unwrap()
            .is_empty()
    );
    drop(ledger);

    // A version this build does not know is refused before anything is changed.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        "UPDATE meta SET value = '3' WHERE key = 'schema_version'",
        [],
    )
    .unwrap();
    drop(conn);
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::Schema { .. }), "{err}");
    assert!(err.to_string().contains("schema version 3"), "{err}");
    assert!(err.hint().unwrap().contains("Tracemark version"), "{err:?}");
}

#[test]
fn appends_write_runs_and_merges_keep_them_few() {
    use tracemark_ledger::store::MERGE_FANOUT;
    let mut ledger = Ledger::new(SqliteStore::in_memory().unwrap(), signer());
    for i in 0..100u64 {
        ledger.append_records(&[record(i)]).unwrap();
        let runs = ledger.store().lookup_runs().unwrap();
        // 100 single appends: at most FANOUT − 1 runs at each of levels 0, 1 and 2.
        assert!(runs.len() < 3 * MERGE_FANOUT as usize, "{runs:?}");
        assert_eq!(
            runs.iter().map(|r| r.records).sum::<i64>(),
            i as i64 + 1,
            "every record is in exactly one run"
        );
    }
    let runs = ledger.store().lookup_runs().unwrap();
    assert!(runs.iter().any(|r| r.level == 2), "{runs:?}");
}
