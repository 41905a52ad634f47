//! Sketch schemes in one log: a record written with the log's first MinHash scheme
//! (`minhash-sha256-w5x128-v1`, a committed fixture made by the code of the time) beside
//! records with the current one (`minhash-sha256-w5x128-v2`), on SQLite and PostgreSQL.
//! The old record keeps its bytes, its look-up keys and its place in the similarity
//! search; a text query finds records of either scheme; sketches of different schemes
//! are never compared.

#[macro_use]
mod common;

use rand_core::RngCore;
use tracemark_core::minhash::Scheme;
use tracemark_ledger::{
    GenerationRecord, Ledger, LogStore, Lookup, PostgresStore, SqliteStore, TextSketch,
};

const FIXTURE: &[u8] = include_bytes!("fixtures/record-minhash-v1.json");

/// The text the fixture record was made for.
const FIXTURE_TEXT: &str = "Once upon a time, a little fox called Pip found a shiny red \
    ball in the tall grass near the river. Pip rolled the ball to his friend the owl, and \
    they played until the sun went down.";

fn fixture() -> GenerationRecord {
    GenerationRecord::from_json(FIXTURE).unwrap()
}

/// Appends the old record at 0 and ten current ones at 1..=10.
fn fill<S: LogStore>(ledger: &mut Ledger<S>) {
    let old = fixture();
    assert_eq!(old.sketch.scheme(), Scheme::LedgerV1);
    assert_eq!(old.canonical_bytes().unwrap(), FIXTURE);
    let mut records = vec![old];
    records.extend((1..=10).map(common::record));
    ledger.append_records(&records).unwrap();
    ledger.checkpoint().unwrap();
}

/// What every backend must answer about a log that `fill` made.
fn check<S: LogStore>(ledger: &Ledger<S>) {
    ledger.verify().unwrap();
    let old = fixture();
    assert_eq!(ledger.record(0).unwrap(), old);
    assert_eq!(ledger.entry(0).unwrap(), FIXTURE);
    assert_eq!(
        ledger
            .lookup(&Lookup::ContentHash(old.content_hash))
            .unwrap(),
        vec![0]
    );
    // A stored sketch finds its record through the look-up index, in its own scheme.
    assert_eq!(ledger.similar(&old.sketch, 0.9, 3).unwrap()[0].index, 0);
    let new = common::record(4);
    assert_eq!(new.sketch.scheme(), Scheme::CURRENT);
    assert_eq!(ledger.similar(&new.sketch, 0.9, 3).unwrap()[0].index, 4);
    // A sketch of the current scheme is never compared with the old record's.
    assert!(
        ledger
            .similar(&TextSketch::of_text(FIXTURE_TEXT), 0.0, 20)
            .unwrap()
            .iter()
            .all(|e| e.index != 0)
    );
    // A text query is sketched in every scheme: both kinds of record are found.
    let store = ledger.store();
    assert_eq!(
        store.similar_to_text(FIXTURE_TEXT, 0.5, 5).unwrap(),
        vec![(0, 1.0)]
    );
    let edited = FIXTURE_TEXT.replace("shiny red", "bright blue");
    let found = store.similar_to_text(&edited, 0.3, 5).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, 0);
    let exact = Scheme::LedgerV1.exact_jaccard(FIXTURE_TEXT, &edited);
    assert!((found[0].1 - exact).abs() < 0.18, "{found:?} vs {exact}");
    assert_eq!(
        store.similar_to_text(&common::text(7, 60), 0.5, 5).unwrap(),
        vec![(7, 1.0)]
    );
    assert!(
        store
            .similar_to_text(&common::text(99_999, 60), 0.3, 5)
            .unwrap()
            .is_empty()
    );
    assert!(store.similar_to_text("", 0.0, 5).unwrap().is_empty());
}

#[test]
fn sqlite_keeps_old_sketches_beside_new_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let signer = common::signer();
    {
        let mut ledger = Ledger::open_sqlite(&path, signer.clone()).unwrap();
        fill(&mut ledger);
        check(&ledger);
    }
    // The sketch column keeps each scheme's binary form: v1's 512 bytes as before,
    // V2's tag byte and 1,024 bytes.
    let conn = rusqlite::Connection::open(&path).unwrap();
    let lengths: Vec<(i64, usize)> = conn
        .prepare("SELECT idx, length(sketch) FROM entries ORDER BY idx")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(lengths[0], (0, 512));
    assert!(lengths[1..].iter().all(|&(_, n)| n == 1025), "{lengths:?}");
    drop(conn);
    // Opened again (the look-up runs read from their files).
    let ledger = Ledger::new(SqliteStore::open(&path).unwrap(), signer);
    check(&ledger);
}

#[test]
fn postgres_keeps_old_sketches_beside_new_ones() {
    let Some(url) = tracemark_testkit::env_or_skip(
        "TRACEMARK_TEST_POSTGRES",
        "a PostgreSQL URL (postgres://user:password@host/db) to run the PostgreSQL tests",
    ) else {
        return;
    };
    let schema = format!("tracemark_test_{:016x}", rand_core::OsRng.next_u64());
    let signer = common::signer();
    {
        let store = PostgresStore::connect_in_schema(&url, Some(&schema)).unwrap();
        let mut ledger = Ledger::new(store, signer.clone());
        fill(&mut ledger);
        check(&ledger);
    }
    let store = PostgresStore::connect_in_schema(&url, Some(&schema)).unwrap();
    check(&Ledger::new(store, signer));
}
