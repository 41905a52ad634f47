//! The service's read path, over HTTP, against a service of its own (a fresh demo work
//! folder, so that the log's files and the index are this test's alone): anonymous
//! queries never write to the log, also while authenticated appends run, and a
//! withdrawal made while the server runs applies to its next query.

mod common;

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use common::{TOKEN, completion, get, post};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tracemark::{
    Config,
    core::{
        ContentHash, Timestamp,
        keyfile::{self, Replace, Secrecy},
    },
    credentials::strip_wrappers,
    ledger::ReportRecord,
    log::{LogSite, Storage},
    trace::{Tombstone, withdraw},
};

/// A demo work folder of its own, and its configuration for a test service.
fn own_workspace() -> (tempfile::TempDir, Config) {
    let dir = tempfile::tempdir().unwrap();
    let options = tracemark_demo::Options {
        seed: Some(common::KEY_SEED),
        ..Default::default()
    };
    let ws = tracemark_demo::prepare(&dir.path().join("demo"), &options).unwrap();
    let tokens = ws.out.join("tokens");
    keyfile::write_file(
        &tokens,
        format!("{TOKEN}\n").as_bytes(),
        Secrecy::Secret,
        Replace::No,
    )
    .unwrap();
    let mut config = Config::load(&ws.out.join("tracemark.toml")).unwrap();
    config.server.tokens_file = Some(tokens);
    config.server.token_rate = Some(10_000.0);
    config.server.anonymous_rate = Some(10_000.0);
    (dir, config)
}

/// The SQLite file of the configured log.
fn log_database(config: &Config) -> PathBuf {
    match LogSite::configured(config).unwrap().storage {
        Storage::Sqlite(path) => path,
        other => panic!("the demo's log is SQLite, not {other}"),
    }
}

/// SHA-256 of every file of the log: the database, its write-ahead log and its look-up
/// run files. Not `-shm`: SQLite's shared-memory index, where every reader of a WAL
/// database records its read mark (it holds no data of the log).
fn log_files(database: &Path) -> BTreeMap<String, String> {
    let dir = database.parent().unwrap();
    let stem = database.file_name().unwrap().to_string_lossy().into_owned();
    let mut files = BTreeMap::new();
    let mut visit = vec![dir.to_owned()];
    while let Some(d) = visit.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            let name = path
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if !name.starts_with(&stem) || name.ends_with("-shm") {
                continue;
            }
            if path.is_dir() {
                visit.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                files.insert(name, hex::encode(Sha256::digest(&bytes)));
            }
        }
    }
    assert!(files.contains_key(&stem), "{files:?}");
    files
}

/// One round of every anonymous read, each answered 200 without a path of the server's
/// machine (`private`, the work folder, appears nowhere): the report of a logged text (its
/// record found and proved), its trace, credential check and detection, and the log's
/// checkpoint and tiles.
fn read_everything(base: &str, text: &str, private: &str) {
    let (status, attributed) = post(
        &format!("{base}/v1/attribute"),
        None,
        &json!({ "text": text }),
    );
    assert_eq!(status, 200, "{attributed}");
    assert!(!attributed.to_string().contains(private), "{attributed}");
    let facts = attributed["report"]["facts"].as_array().unwrap();
    assert!(
        facts
            .iter()
            .any(|f| f["kind"] == "log_entry" && f["inclusion_verified"] == true),
        "{attributed}"
    );
    assert!(attributed["report"]["seal"]["receipt"].is_null());
    for (route, body) in [
        ("/v1/trace", json!({ "text": text })),
        ("/v1/verify", json!({ "text": text })),
        ("/v1/detect", json!({ "text": text })),
    ] {
        let (status, answer) = post(&format!("{base}{route}"), None, &body);
        assert_eq!(status, 200, "{route}: {answer}");
        assert!(!answer.to_string().contains(private), "{route}: {answer}");
    }
    let (status, checkpoint) = get(&format!("{base}/log/checkpoint"));
    assert_eq!(status, 200, "{checkpoint}");
    let size: u64 = checkpoint.lines().nth(1).unwrap().parse().unwrap();
    let tile = if size >= 256 {
        "0/000".to_owned()
    } else {
        format!("0/000.p/{size}")
    };
    let response = common::agent()
        .get(&format!("{base}/log/tile/{tile}"))
        .call()
        .unwrap();
    assert_eq!(response.status(), 200, "tile {tile}");
}

/// Appends a report record as another writer would, without signing a checkpoint; its
/// index.
fn append_unsigned(log: &LogSite, digit: &str) -> u64 {
    let entry = ReportRecord::new(
        digit.repeat(64),
        ContentHash::of_bytes(b"x"),
        Timestamp::now(),
    )
    .entry()
    .unwrap();
    log.open().unwrap().append_entries(&[entry]).unwrap()[0].index
}

/// The size of the log's latest signed checkpoint (0 before the first).
fn checkpoint_size(base: &str) -> u64 {
    let (status, checkpoint) = get(&format!("{base}/log/checkpoint"));
    if status == 404 {
        return 0;
    }
    checkpoint.lines().nth(1).unwrap().parse().unwrap()
}

#[test]
fn anonymous_reads_never_write_to_the_log_even_while_appends_run() {
    let (dir, mut config) = own_workspace();
    // The server's own timer would sign the other writer's entry below: this test is
    // about what reads do.
    config.server.checkpoint_interval_secs = Some(3600);
    let private = dir.path().to_string_lossy().into_owned();
    let database = log_database(&config);
    let log = LogSite::configured(&config).unwrap();
    let base = common::start(config);
    let generated = completion(&base, "The harbour at dawn", 300, 3);
    let text = strip_wrappers(generated["choices"][0]["text"].as_str().unwrap());

    // Another writer's entry, not yet in a signed checkpoint: a read that signed
    // checkpoints (as reads once did, to prove) would sign one now.
    append_unsigned(&log, "0");

    // Reads alone leave every file of the log as it was.
    let before = log_files(&database);
    for _ in 0..10 {
        read_everything(&base, &text, &private);
    }
    assert_eq!(
        log_files(&database),
        before,
        "anonymous reads wrote to the log"
    );

    // Reads while authenticated reports are logged: every append is there, signed by
    // the appending side; the reads, all answered, added nothing.
    let entries = log.open_reader().unwrap().size().unwrap();
    let appends = 6;
    std::thread::scope(|s| {
        let writer = s.spawn(|| {
            for i in 0..appends {
                let (status, logged) = post(
                    &format!("{base}/v1/attribute"),
                    Some(TOKEN),
                    &json!({ "text": format!("Report number {i} on the state of the harbour."), "log": true }),
                );
                assert_eq!(status, 200, "{logged}");
                assert!(logged["report"]["seal"]["receipt"].is_string(), "{logged}");
            }
        });
        while !writer.is_finished() {
            read_everything(&base, &text, &private);
        }
        writer.join().unwrap();
    });
    let verified = log.open_reader().unwrap().verify().unwrap();
    assert_eq!(verified.size, entries + appends);
    assert_eq!(checkpoint_size(&base), entries + appends);

    let after_appends = log_files(&database);
    for _ in 0..5 {
        read_everything(&base, &text, &private);
    }
    assert_eq!(
        log_files(&database),
        after_appends,
        "anonymous reads wrote to the log"
    );
}

/// A document withdrawn by its rights holder while the server runs is no longer given
/// as a source by the server's next trace: the running server sees the withdrawal.
#[test]
fn a_withdrawal_applies_to_the_running_server() {
    let (dir, config) = own_workspace();
    let index = config.index.paths[0].clone();
    let base = common::start(config);
    let document = "marrow-lane-press/dear-mr-aske.txt";
    let texts = dir
        .path()
        .join("demo")
        .join(tracemark_demo::CORPUS_DIR)
        .join("texts");
    let source = std::fs::read_to_string(texts.join(document)).unwrap();
    let passage: String = source.chars().skip(200).take(600).collect();
    let sources = || -> Vec<Value> {
        let (status, traced) = post(
            &format!("{base}/v1/trace"),
            None,
            &json!({ "text": passage }),
        );
        assert_eq!(status, 200, "{traced}");
        traced["result"]["facts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["kind"] == "source_span" && f["documents"].to_string().contains(document))
            .cloned()
            .collect()
    };
    assert!(!sources().is_empty());
    withdraw(
        &index,
        &Tombstone {
            id: document.into(),
            withdrawn_at: Timestamp::now(),
            reason: Some("withdrawn by its rights holder".into()),
        },
    )
    .unwrap();
    assert_eq!(sources(), Vec::<Value>::new());
}

/// An entry another writer appended without signing is covered by a checkpoint the
/// server signs within its interval (reads never sign one), and then proved.
#[test]
fn entries_another_writer_left_unsigned_are_checkpointed_by_the_server() {
    let (_dir, mut config) = own_workspace();
    config.server.checkpoint_interval_secs = Some(1);
    let log = LogSite::configured(&config).unwrap();
    let base = common::start(config);
    let index = append_unsigned(&log, "1");
    let reader = log.open_reader().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while checkpoint_size(&base) <= index {
        assert!(
            std::time::Instant::now() < deadline,
            "no checkpoint was signed"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    reader.prove_latest(index).unwrap();
}
