//! Two servers side by side in front of one PostgreSQL log: generations from both get
//! distinct indexes in one tree, and each server's checkpoint covers the other's records.
//! Needs `TRACEMARK_TEST_POSTGRES`; without it the test skips (and fails under `CI=true`).

mod common;

use std::collections::BTreeSet;

use common::{completion, get};
use tracemark::{config::DatabaseUrl, log::trust_policy};

#[test]
fn two_servers_append_to_one_postgres_log() {
    let Some(url) = tracemark_testkit::env_or_skip(
        "TRACEMARK_TEST_POSTGRES",
        "a PostgreSQL database URL to run the PostgreSQL tests",
    ) else {
        return;
    };
    let mut config = common::config();
    config.log.sqlite = None;
    config.log.postgres = Some(DatabaseUrl::parse(url).unwrap());
    config.log.schema = Some(format!("server_test_{}", std::process::id()));
    let servers = [common::start(config.clone()), common::start(config)];

    // Both servers generate at once, four requests each.
    let made: Vec<serde_json::Value> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let base = &servers[i % 2];
                s.spawn(move || completion(base, "The harbour at dawn", 12, i as u64))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let indexes: BTreeSet<u64> = made
        .iter()
        .map(|m| m["tracemark"]["log_index"].as_u64().unwrap())
        .collect();
    assert_eq!(
        indexes.len(),
        8,
        "two generations share an index: {indexes:?}"
    );

    // Each server's checkpoint covers every generation, whichever server made it.
    let log_key =
        std::fs::read_to_string(common::workspace().join("home/keys/log/demo/key.pub")).unwrap();
    let policy = trust_policy(&log_key, &[], 0).unwrap();
    for base in &servers {
        let (status, note) = get(&format!("{base}/log/checkpoint"));
        assert_eq!(status, 200, "{note}");
        let checkpoint = tracemark::ledger::SignedCheckpoint::parse(note.as_bytes())
            .unwrap()
            .verify(&policy)
            .unwrap()
            .checkpoint;
        assert!(checkpoint.size > *indexes.last().unwrap());
    }
}
