//! The store suite on SQLite, and the SQLite-specific fault tests (altered rows, a
//! corrupted file).

#[macro_use]
mod common;

use std::path::{Path, PathBuf};

use common::{record, signer};
use tracemark_core::{Diagnose, Fault};
use tracemark_ledger::{
    Ledger, LedgerError, Lookup, SqliteStore, StoreError, TextSketch,
    merkle::{self, MemoryTree, leaf_hash},
    store::stored_key_rows,
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

    fn shared() -> common::suite::Opener<SqliteStore> {
        let dir = tempfile::tempdir().unwrap();
        std::sync::Arc::new(move || SqliteStore::open(&dir.path().join("ledger.db")).unwrap())
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

/// The run files directory of the database at `path` (`<path>-runs`).
fn runs_dir(path: &Path) -> PathBuf {
    path.with_file_name(format!(
        "{}-runs",
        path.file_name().unwrap().to_string_lossy()
    ))
}

/// The names of the files in the run files directory, sorted.
fn run_files(path: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(runs_dir(path))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Turns a version 3 database back into the version 1 layout (random-key indexes on
/// `entries`, an `lsh` table, no look-up runs), as a log written before runs existed.
fn downgrade_to_v1(path: &Path) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "DROP TABLE lookup_runs;
         ALTER TABLE checkpoints DROP COLUMN cosignatures;
         CREATE INDEX entries_content_hash ON entries(content_hash);
         CREATE INDEX entries_payload ON entries(payload, key_id);
         CREATE INDEX entries_generation_id ON entries(generation_id);
         CREATE TABLE lsh (band INTEGER NOT NULL, bucket INTEGER NOT NULL, idx INTEGER NOT NULL,
                           PRIMARY KEY (band, bucket, idx)) WITHOUT ROWID;
         UPDATE meta SET value = '1' WHERE key = 'schema_version';",
    )
    .unwrap();
    std::fs::remove_dir_all(runs_dir(path)).unwrap();
}

/// Turns a version 3 database back into the version 2 layout: the look-up runs as rows
/// of a `lookup_keys` table (here one run of every entry), no run files.
fn downgrade_to_v2(path: &Path) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "DROP TABLE lookup_runs;
         CREATE TABLE lookup_runs (run INTEGER PRIMARY KEY, level INTEGER NOT NULL,
                                   records INTEGER NOT NULL);
         CREATE TABLE lookup_keys (run INTEGER NOT NULL, kind INTEGER NOT NULL,
                                   key INTEGER NOT NULL, idx INTEGER NOT NULL,
                                   PRIMARY KEY (run, kind, key, idx)) WITHOUT ROWID;
         UPDATE meta SET value = '2' WHERE key = 'schema_version';",
    )
    .unwrap();
    let mut rows = Vec::new();
    let mut records = 0;
    {
        let mut stmt = conn
            .prepare("SELECT idx, content_hash, payload, generation_id, sketch FROM entries")
            .unwrap();
        let mut q = stmt.query([]).unwrap();
        while let Some(r) = q.next().unwrap() {
            let sketch: Vec<u8> = r.get(4).unwrap();
            records += i64::from(stored_key_rows(
                r.get::<_, Option<Vec<u8>>>(1).unwrap().as_deref(),
                r.get::<_, Option<String>>(2).unwrap().as_deref(),
                r.get::<_, Option<String>>(3).unwrap().as_deref(),
                TextSketch::from_bytes(&sketch).as_ref(),
                r.get(0).unwrap(),
                &mut rows,
            ));
        }
    }
    conn.execute("INSERT INTO lookup_runs VALUES (1, 0, ?1)", [records])
        .unwrap();
    for (kind, key, idx) in rows {
        conn.execute(
            "INSERT INTO lookup_keys VALUES (1, ?1, ?2, ?3)",
            rusqlite::params![kind, key, idx],
        )
        .unwrap();
    }
    drop(conn);
    std::fs::remove_dir_all(runs_dir(path)).unwrap();
}

/// Every look-up of the records `0..n` answers as it should.
fn assert_lookups<S: tracemark_ledger::LogStore>(ledger: &Ledger<S>, n: u64) {
    for i in 0..n {
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
        let by_payload = Lookup::Payload {
            payload: r.payload,
            key_id: Some(r.key_id.clone()),
        };
        assert_eq!(ledger.lookup(&by_payload).unwrap(), vec![i]);
        let found = ledger.similar(&r.sketch, 0.9, 1).unwrap();
        assert_eq!(found[0].index, i);
    }
    assert!(
        ledger
            .similar(&TextSketch::of_text(&common::text(9_999, 60)), 0.3, 5)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn version_1_and_2_logs_are_upgraded_in_place_and_a_newer_one_refused() {
    let dir = tempfile::tempdir().unwrap();
    let signer = signer();
    for (name, downgrade) in [
        ("v1.db", downgrade_to_v1 as fn(&Path)),
        ("v2.db", downgrade_to_v2),
    ] {
        let path = dir.path().join(name);
        {
            let mut ledger = Ledger::open_sqlite(&path, signer.clone()).unwrap();
            ledger
                .append_records(&(0..40).map(record).collect::<Vec<_>>())
                .unwrap();
            ledger.checkpoint().unwrap();
        }
        downgrade(&path);
        let ledger = Ledger::open_sqlite(&path, signer.clone()).unwrap();
        ledger.verify().unwrap();
        assert_lookups(&ledger, 40);
        assert_eq!(run_files(&path), ["1.run"], "{name}");
        drop(ledger);
        let conn = rusqlite::Connection::open(&path).unwrap();
        let version: String = conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(version, tracemark_ledger::sqlite::SCHEMA_VERSION);
    }

    // A version this build does not know is refused before anything is changed.
    let path = dir.path().join("v1.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        "UPDATE meta SET value = '4' WHERE key = 'schema_version'",
        [],
    )
    .unwrap();
    drop(conn);
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::Schema { .. }), "{err}");
    assert!(err.to_string().contains("schema version 4"), "{err}");
    assert!(err.hint().unwrap().contains("Tracemark version"), "{err:?}");
}

/// A log of 70 records in three runs: 56 (eight batches merged), 7 and 7.
fn log_with_runs(path: &Path) -> Ledger<SqliteStore> {
    let mut ledger = Ledger::open_sqlite(path, signer()).unwrap();
    for batch in 0..10u64 {
        let records: Vec<_> = (batch * 7..batch * 7 + 7).map(record).collect();
        ledger.append_records(&records).unwrap();
    }
    ledger
}

#[test]
fn a_truncated_altered_or_missing_run_file_is_rebuilt_from_the_entries() {
    type Damage = fn(&Path);
    fn flip(p: &Path, at: fn(usize) -> usize) {
        let mut bytes = std::fs::read(p).unwrap();
        let i = at(bytes.len());
        bytes[i] ^= 0x20;
        std::fs::write(p, bytes).unwrap();
    }
    // Opening finds a wrong length or footer; a look-up finds a damaged block.
    let damages: [(&str, Damage); 5] = [
        ("truncated", |p| {
            let len = std::fs::metadata(p).unwrap().len();
            let f = std::fs::OpenOptions::new().write(true).open(p).unwrap();
            f.set_len(len - 5).unwrap();
        }),
        ("a flipped byte in a block", |p| flip(p, |len| len / 2)),
        ("a flipped byte in the footer", |p| flip(p, |len| len - 3)),
        ("deleted", |p| std::fs::remove_file(p).unwrap()),
        ("emptied", |p| std::fs::write(p, b"").unwrap()),
    ];
    for (what, damage) in damages {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.db");
        let ledger = log_with_runs(&path);
        let runs = ledger.store().lookup_runs().unwrap();
        assert_eq!(
            runs.iter().map(|r| r.records).collect::<Vec<_>>(),
            [56, 7, 7],
            "{what}"
        );
        let files: Vec<PathBuf> = runs
            .iter()
            .map(|r| ledger.store().run_path(r.run).unwrap())
            .collect();
        let originals: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
        drop(ledger);
        for (file, original) in files.iter().zip(&originals) {
            damage(file);
            let ledger = Ledger::open_sqlite(&path, signer()).unwrap();
            assert_lookups(&ledger, 70);
            // Rebuilt from the entries: the same bytes as before the damage.
            assert_eq!(&std::fs::read(file).unwrap(), original, "{what}");
            assert_eq!(ledger.store().lookup_runs().unwrap(), runs, "{what}");
        }
    }
}

#[test]
fn files_left_by_an_interrupted_merge_are_deleted_when_the_log_opens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let ledger = log_with_runs(&path);
    let runs = ledger.store().lookup_runs().unwrap();
    let live = run_files(&path);
    assert_eq!(live.len(), runs.len());
    let next = runs.last().unwrap().run + 1;
    drop(ledger);
    // A merge killed after writing its file but before recording it leaves a file under
    // the next run number (or its temporary name); one killed after recording it but
    // before deleting the merged runs' files leaves those; an append killed after
    // writing its file but before committing leaves one too.
    let runs_dir = runs_dir(&path);
    let first = std::fs::read(runs_dir.join(&live[0])).unwrap();
    std::fs::write(runs_dir.join(format!("{next}.run")), &first).unwrap();
    std::fs::write(runs_dir.join(format!("{}.tmp", next + 1)), b"partial").unwrap();
    std::fs::write(runs_dir.join("1.run"), &first[..first.len() / 2]).unwrap();
    assert!(!live.contains(&"1.run".to_owned()), "{live:?}");

    let mut ledger = Ledger::open_sqlite(&path, signer()).unwrap();
    assert_eq!(run_files(&path), live);
    assert_eq!(ledger.store().lookup_runs().unwrap(), runs);
    assert_lookups(&ledger, 70);
    // The next run number is used afresh, not taken from the stale file.
    ledger.append_records(&[record(70)]).unwrap();
    assert_lookups(&ledger, 71);
    ledger.verify().unwrap();
}

/// Look-ups from another process's connection see the runs it appends and merges,
/// including runs whose files it has deleted since this one loaded them.
#[test]
fn a_second_connection_follows_appends_and_merges() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let signer = signer();
    let mut writer = Ledger::open_sqlite(&path, signer.clone()).unwrap();
    let reader = Ledger::open_sqlite(&path, signer).unwrap();
    let mut n = 0;
    for batch in 0..30u64 {
        let size = 1 + batch % 4;
        writer
            .append_records(&(n..n + size).map(record).collect::<Vec<_>>())
            .unwrap();
        n += size;
        let last = record(n - 1);
        assert_eq!(
            reader
                .lookup(&Lookup::ContentHash(last.content_hash))
                .unwrap(),
            vec![n - 1]
        );
    }
    assert_lookups(&reader, n);
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

/// Four appenders on four connections to one SQLite log (as four processes would be):
/// every entry lands at its own index, and every look-up finds it through run files
/// that the other connections wrote, merged and deleted.
#[test]
fn concurrent_appenders_share_the_run_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let signer = signer();
    drop(Ledger::open_sqlite(&path, signer.clone()).unwrap());
    let writers: Vec<_> = (0..4u64)
        .map(|w| {
            let (path, signer) = (path.clone(), signer.clone());
            std::thread::spawn(move || {
                let mut ledger = Ledger::open_sqlite(&path, signer).unwrap();
                for batch in 0..12u64 {
                    let first = w * 1000 + batch * 10;
                    let records: Vec<_> = (first..first + 1 + batch % 5).map(record).collect();
                    ledger.append_records(&records).unwrap();
                    let found = ledger
                        .lookup(&Lookup::GenerationId(format!("gen-{first}")))
                        .unwrap();
                    assert_eq!(found.len(), 1, "gen-{first}");
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let ledger = Ledger::open_sqlite(&path, signer).unwrap();
    ledger.verify().unwrap();
    let mut found = Vec::new();
    for w in 0..4u64 {
        for batch in 0..12u64 {
            for n in 0..1 + batch % 5 {
                let id = format!("gen-{}", w * 1000 + batch * 10 + n);
                found.extend(ledger.lookup(&Lookup::GenerationId(id)).unwrap());
            }
        }
    }
    found.sort_unstable();
    assert_eq!(found, (0..ledger.size().unwrap()).collect::<Vec<_>>());
    assert_eq!(
        run_files(&path).len(),
        ledger.store().lookup_runs().unwrap().len()
    );
}
