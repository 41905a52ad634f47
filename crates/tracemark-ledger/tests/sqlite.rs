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
