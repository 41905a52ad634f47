//! The store suite on PostgreSQL, plus concurrent appenders.
//!
//! Needs a server: `TRACEMARK_TEST_POSTGRES=postgres://user:password@host/db` (each test
//! works in a fresh schema of that database). Without it the tests are skipped with a
//! message (`tracemark_testkit::env_or_skip`), which fails instead under `CI=true`, so
//! that a missing server cannot pass CI silently.

#[macro_use]
mod common;

use rand_core::RngCore;
use tracemark_ledger::{Ledger, LogStore, Lookup, PostgresStore};

struct Postgres;

/// The server's URL, or `None` after a skip.
fn url() -> Option<String> {
    tracemark_testkit::env_or_skip(
        "TRACEMARK_TEST_POSTGRES",
        "a PostgreSQL URL (postgres://user:password@host/db) to run the PostgreSQL tests",
    )
}

fn fresh_store() -> PostgresStore {
    let url = url().expect("TRACEMARK_TEST_POSTGRES");
    let schema = format!("tracemark_test_{:016x}", rand_core::OsRng.next_u64());
    PostgresStore::connect_in_schema(&url, Some(&schema)).unwrap_or_else(|e| {
        panic!("cannot use the PostgreSQL server in TRACEMARK_TEST_POSTGRES: {e}")
    })
}

impl common::suite::Backend for Postgres {
    type Store = PostgresStore;

    fn available() -> bool {
        url().is_some()
    }

    fn make() -> PostgresStore {
        fresh_store()
    }

    fn shared() -> common::suite::Opener<PostgresStore> {
        let url = url().expect("TRACEMARK_TEST_POSTGRES");
        let schema = format!("tracemark_test_{:016x}", rand_core::OsRng.next_u64());
        std::sync::Arc::new(move || {
            PostgresStore::connect_in_schema(&url, Some(&schema)).unwrap_or_else(|e| {
                panic!("cannot use the PostgreSQL server in TRACEMARK_TEST_POSTGRES: {e}")
            })
        })
    }
}

store_suite!(Postgres);

/// Four appenders on four connections to one log: every entry lands at its own index,
/// nothing is lost, and the tree verifies.
#[test]
fn concurrent_appenders_never_share_an_index() {
    use common::suite::Backend;
    if !Postgres::available() {
        return;
    }
    let url = url().unwrap();
    let schema = format!("tracemark_test_{:016x}", rand_core::OsRng.next_u64());
    let signer = common::signer();
    PostgresStore::connect_in_schema(&url, Some(&schema)).unwrap();
    let writers: Vec<_> = (0..4u64)
        .map(|w| {
            let (url, schema, signer) = (url.clone(), schema.clone(), signer.clone());
            std::thread::spawn(move || {
                let store = PostgresStore::connect_in_schema(&url, Some(&schema)).unwrap();
                let mut ledger = Ledger::new(store, signer);
                for batch in 0..10u64 {
                    let records: Vec<_> = (0..5)
                        .map(|i| common::record(w * 1000 + batch * 10 + i))
                        .collect();
                    ledger.append_records(&records).unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let store = PostgresStore::connect_in_schema(&url, Some(&schema)).unwrap();
    assert_eq!(store.size().unwrap(), 200);
    let ledger = Ledger::new(store, signer);
    ledger.verify().unwrap();
    for w in 0..4u64 {
        for n in [w * 1000, w * 1000 + 94] {
            let found = ledger
                .lookup(&Lookup::GenerationId(format!("gen-{n}")))
                .unwrap();
            assert_eq!(found.len(), 1, "gen-{n}");
        }
    }
}
