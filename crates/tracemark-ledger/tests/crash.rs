//! Kill a writer with SIGKILL in the middle of batched appends (and the merges of look-up
//! runs among them), many times: no acknowledged entry is lost, the tree verifies, the
//! look-ups answer, and the log restarts cleanly with one file per live run.
//!
//! The writer is this test binary itself, re-run with `--ignored --exact crash_child`
//! and the database path in `TRACEMARK_CRASH_DB`.

mod common;

use std::{
    io::{BufRead, BufReader, Write},
    process::{Command, Stdio},
    time::Duration,
};

use common::record;
use tracemark_ledger::{Ledger, Lookup, NoteSigner};

const BATCH: u64 = 25;

/// The child: append batches forever, printing `ack <size>` after each commit returns,
/// and sign a checkpoint every few batches.
#[test]
#[ignore = "run by crash_mid_append_loses_no_acknowledged_entry as a child process"]
fn crash_child() {
    // Run by hand (`--include-ignored`) it has nothing to do.
    let (Ok(db), Ok(skey)) = (
        std::env::var("TRACEMARK_CRASH_DB"),
        std::env::var("TRACEMARK_CRASH_SIGNER"),
    ) else {
        eprintln!(
            "crash_child runs only as the child of crash_mid_append_loses_no_acknowledged_entry"
        );
        return;
    };
    let signer = NoteSigner::parse(&skey).unwrap();
    let mut ledger = Ledger::open_sqlite(db.as_ref(), signer).unwrap();
    let mut out = std::io::stdout().lock();
    for round in 0u64.. {
        let start = ledger.size().unwrap();
        let records: Vec<_> = (start..start + BATCH).map(record).collect();
        let appended = ledger.append_records(&records).unwrap();
        writeln!(out, "ack {}", appended.last().unwrap().index + 1).unwrap();
        out.flush().unwrap();
        if round % 3 == 0 {
            ledger.checkpoint().unwrap();
        }
    }
}

#[test]
fn crash_mid_append_loses_no_acknowledged_entry() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    let signer = common::signer();
    let exe = std::env::current_exe().unwrap();
    let mut acknowledged = 0u64;
    for round in 0..8u64 {
        let mut child = Command::new(&exe)
            .args([
                "--ignored",
                "--exact",
                "crash_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("TRACEMARK_CRASH_DB", &db)
            .env("TRACEMARK_CRASH_SIGNER", signer.to_signer_key())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // Let a varying number of batches through, then kill at a varying moment.
        let wait_for = 2 + round * 3;
        let mut seen = 0;
        while seen < wait_for {
            let line = lines.next().expect("the writer exited early").unwrap();
            if let Some(n) = line.strip_prefix("ack ") {
                acknowledged = acknowledged.max(n.parse().unwrap());
                seen += 1;
            }
        }
        std::thread::sleep(Duration::from_micros(500 * (round % 4)));
        child.kill().unwrap(); // SIGKILL on Unix
        // Acknowledgements already written before the kill count too.
        for line in lines.map_while(Result::ok) {
            if let Some(n) = line.strip_prefix("ack ") {
                acknowledged = acknowledged.max(n.parse().unwrap());
            }
        }
        child.wait().unwrap();

        let ledger = Ledger::open_sqlite(&db, signer.clone()).unwrap();
        let size = ledger.size().unwrap();
        assert!(
            size >= acknowledged,
            "round {round}: {acknowledged} entries were acknowledged, {size} survived"
        );
        assert_eq!(size % BATCH, 0, "round {round}: a batch was half-written");
        let report = ledger.verify().unwrap();
        assert_eq!(report.size, size);
        let last = acknowledged - 1;
        assert_eq!(
            ledger
                .lookup(&Lookup::GenerationId(format!("gen-{last}")))
                .unwrap(),
            vec![last]
        );
        assert_eq!(
            ledger.similar(&record(last).sketch, 0.9, 1).unwrap()[0].index,
            last
        );
        // Opening deleted whatever a killed append or merge left: one file per live run.
        let mut files: Vec<String> = std::fs::read_dir(dir.path().join("ledger.db-runs"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        let mut live: Vec<String> = ledger
            .store()
            .lookup_runs()
            .unwrap()
            .iter()
            .map(|r| format!("{}.run", r.run))
            .collect();
        live.sort();
        assert_eq!(files, live, "round {round}");
    }
    assert!(acknowledged >= 8 * 2 * BATCH);
}
