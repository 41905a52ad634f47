//! The embedded SQLite backend (the default: no server).
//!
//! Durability: the database runs in WAL mode with `synchronous=FULL`, so a transaction is
//! on disk (the WAL fsynced) when `COMMIT` returns, and [`LogStore::append`] returns only
//! after its commit. A process killed mid-append loses at most the unacknowledged batch.
//!
//! Schema version 3 (PostgreSQL keeps version 2, whose look-up runs are SQL rows):
//!
//! ```sql
//! meta(key TEXT PRIMARY KEY, value TEXT)              -- schema_version = 3
//! entries(idx INTEGER PRIMARY KEY, data BLOB,         -- the entry bytes (leaf = 0x00 ‖ data)
//!         content_hash BLOB, key_id TEXT, payload TEXT, generation_id TEXT, sketch BLOB)
//! nodes(level, idx, hash) PRIMARY KEY (level, idx)    -- complete-subtree hashes, level 0 = leaves
//! lookup_runs(run INTEGER PRIMARY KEY, level, records,
//!             first_idx, end_idx,                     -- the entries first_idx..end_idx
//!             rows, checksum)                         -- its file's rows, footer checksum
//! checkpoints(size INTEGER PRIMARY KEY, note TEXT, cosignatures INTEGER)
//! ```
//!
//! and beside the database file, the directory `<database>-runs/` with one file
//! `<run>.run` per row of `lookup_runs`: the run's look-up rows, sorted, and a footer of
//! block checksums (format in [`crate::runs`]). `entries` has no secondary index: every look-up goes through the
//! runs, an append-ordered LSM-style index (see [`crate::store`]).
//!
//! Crash consistency: a run file is written (under a temporary name, then renamed)
//! inside the transaction that records it, under the database's write lock; a merged
//! run's file is fsynced before the merge commits, and the merged runs' files are deleted
//! after. So a crash leaves at worst a file that no committed row names (deleted when the
//! log is next opened) or, after a crash of the machine, the unsynced file of a recent
//! append missing or short. Opening the log checks every run file against its row (its
//! length and the checksum of its footer), and every block of a run is checked against
//! its own checksum when a look-up or a merge reads it; a missing, truncated or altered
//! file is rebuilt from the entries' key columns, which are the source of truth, with a
//! line on standard error naming the run, its entries and what was wrong.
//!
//! Versions 1 (random-key indexes on `entries` and an `lsh(band, bucket, idx)` table) and
//! 2 (the runs in a `lookup_keys` table) are upgraded in place when opened: one
//! transaction replaces the old index by runs built from the entries' key columns.
//!
//! # Readers
//!
//! [`SqliteStore::open_read_only`] opens a log for reading only, for the anonymous
//! queries of a server: the connection is opened `SQLITE_OPEN_READONLY` (and
//! `query_only`), and opening runs no upgrade, no recovery, no merge and deletes no run
//! file; appends and checkpoint saves through it are refused
//! ([`StoreError::ReadOnly`]). It reads in WAL snapshots, so it takes no lock that an
//! appender waits for, and sees each append once it has committed. What it may still
//! write is SQLite's, not the log's:
//!
//! - the `-shm` file (the WAL index, shared memory): every WAL reader records its read
//!   mark there. It holds no log data and SQLite rebuilds it from the WAL;
//! - when no writer has the log open (it closed cleanly, so the `-wal` and `-shm`
//!   files were deleted), opening a reader creates an empty `-wal` and a `-shm` beside
//!   the database, and leaves them (a read-only connection never checkpoints, so never
//!   deletes them). The database file, the WAL's contents and the run files are never
//!   written. In a directory the reader cannot write to, such a log cannot be opened
//!   (SQLite: "attempt to write a readonly database"): open it with a writer first (a
//!   server keeps its writer open, so the files exist), or make the directory
//!   writable. SQLite's `immutable` mode would avoid the files, but it assumes nobody
//!   writes the database, so it is not used: a writer may append at any time.
//!
//! A reader cannot repair a damaged run file. A look-up that finds one (a block that
//! fails its checksum, a missing file) first reads again in a new snapshot, since a run
//! whose file is gone has usually been merged away by the writer after the reader's
//! snapshot began (the new snapshot lists the merged run instead). A run still listed
//! is opened afresh (the writer may have rebuilt it) and read whole; if it is still
//! damaged, that look-up reads the run's entries' key columns (the source of truth)
//! instead, which gives the same answer more slowly, and the reader says so once on
//! standard error. The writer rebuilds the file when it next opens the log, or when a
//! look-up or merge of its own reads it.

use std::{
    cell::{Cell, RefCell},
    collections::{BTreeSet, HashMap, HashSet},
    path::Path,
};

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior, params};

use crate::{
    merkle::{Hash, ProofError, completed_subtrees, leaf_hash},
    record::{MAX_ENTRY_BYTES, TextSketch},
    runs::{RunError, RunFiles, RunInfo, io_error},
    store::{
        KeyRow, LogStore, Lookup, NewEntry, Run, StoreError, key_rows, lookup_key, lsh_buckets,
        payload_key, plan_merge, run_level, stored_key_rows,
    },
};

/// The schema this build writes and reads.
pub const SCHEMA_VERSION: &str = "3";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    idx INTEGER PRIMARY KEY,
    data BLOB NOT NULL,
    content_hash BLOB,
    key_id TEXT,
    payload TEXT,
    generation_id TEXT,
    sketch BLOB
);
CREATE TABLE IF NOT EXISTS nodes (
    level INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints (
    size INTEGER PRIMARY KEY,
    note TEXT NOT NULL,
    cosignatures INTEGER NOT NULL DEFAULT 0
);
";

/// The list of look-up runs (new in version 3: the rows themselves are in files).
const LOOKUP_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS lookup_runs (
    run INTEGER PRIMARY KEY,
    level INTEGER NOT NULL,
    records INTEGER NOT NULL,
    first_idx INTEGER NOT NULL,
    end_idx INTEGER NOT NULL,
    rows INTEGER NOT NULL,
    checksum INTEGER NOT NULL
);
";

/// Entries read at a time when a run is built from the entries (a version upgrade, a
/// damaged file): each chunk is sorted in memory, then the chunks are merged.
const BUILD_CHUNK: i64 = 16_384;

/// How many times a look-up repairs a damaged (or vanished) run file and reads again.
const REPAIR_ATTEMPTS: usize = 3;

/// How many times a reader's look-up takes a new snapshot because a run file could not
/// be read (merged away meanwhile) before it reads that run from the entries.
const READ_ATTEMPTS: usize = 8;

/// A log in one SQLite file (and its directory of look-up runs).
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
    runs: RunFiles,
    /// `Some` for a store opened read-only.
    reader: Option<Reader>,
}

/// What a read-only store keeps between look-ups.
#[derive(Debug, Default)]
struct Reader {
    /// The runs whose files this reader has opened, so that it closes those the writer
    /// has merged away (their disk space is freed only when no process holds them).
    opened: RefCell<BTreeSet<i64>>,
    /// The damaged runs already reported on standard error.
    reported: RefCell<BTreeSet<i64>>,
    /// The run directory, when it did not exist at open (every run then reads as
    /// damaged, from the entries).
    missing_dir: Option<std::path::PathBuf>,
    stats: Cell<ReadStats>,
}

/// How often a read-only store's look-ups could not use a run file (diagnostics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Look-ups read again in a new snapshot, because a run file listed in theirs was
    /// gone or damaged (a merge by the writer, usually).
    pub snapshots_retried: u64,
    /// Runs read from the entries' key columns, because their file stayed damaged.
    pub runs_read_from_entries: u64,
}

/// A row of `lookup_runs`.
#[derive(Debug, Clone, Copy)]
struct LiveRun {
    run: Run,
    /// The entries `first..end` (those with look-up keys) are in this run.
    first: i64,
    end: i64,
    file: RunInfo,
}

impl LiveRun {
    /// A new run of `records` entries among `first..end`, at the level its size gives.
    fn new(run: i64, records: i64, first: i64, end: i64, file: RunInfo) -> Self {
        let level = run_level(records as u64);
        Self {
            run: Run {
                run,
                level,
                records,
            },
            first,
            end,
            file,
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
                StoreError::Corrupt(e.to_string())
            }
            Some(ErrorCode::DatabaseBusy) => StoreError::Busy(e.to_string()),
            _ => StoreError::Backend(e.to_string()),
        }
    }
}

/// Runs `open` again, after a growing pause, while it finds the database busy in a way
/// the busy timeout does not cover: SQLite returns `SQLITE_BUSY` at once, without
/// waiting, when an opening connection meets another's WAL recovery or the clean-up of
/// the last connection to close (SQLite's WAL documentation, "Sometimes queries return
/// SQLITE_BUSY in WAL mode"), which is for the caller to retry.
fn busy_retries<T>(mut open: impl FnMut() -> Result<T, StoreError>) -> Result<T, StoreError> {
    let mut pause = std::time::Duration::from_millis(20);
    for _ in 0..6 {
        match open() {
            Err(StoreError::Busy(_)) => {
                std::thread::sleep(pause);
                pause *= 2;
            }
            done => return done,
        }
    }
    open()
}

/// Converts an index for SQLite, which stores signed 64-bit integers.
fn sql_index(i: u64) -> Result<i64, StoreError> {
    i64::try_from(i).map_err(|_| StoreError::Corrupt(format!("index {i} is out of range")))
}

impl SqliteStore {
    /// Opens (or creates) the log database at `path`, with its run files in
    /// `<path>-runs/`. A version 1 or 2 database is upgraded to version 3 in one
    /// transaction; a newer one is refused. Damaged run files are rebuilt.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        busy_retries(|| {
            let conn = Connection::open(path)?;
            let runs = RunFiles::beside(path).map_err(io_error)?;
            Self::init(conn, runs)
        })
    }

    /// A throwaway in-memory log (tests, benchmarks).
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory()?, RunFiles::in_memory())
    }

    /// Opens the log at `path` for reading only (see the module documentation, under
    /// *Readers*): `SQLITE_OPEN_READONLY`, no upgrade, recovery or merge, no run file
    /// deleted; appends and checkpoint saves are refused with [`StoreError::ReadOnly`].
    /// A missing database is [`StoreError::NoLog`]; one of an older schema version is
    /// [`StoreError::NeedsWriter`] (a writer upgrades it when it opens it), a newer one
    /// [`StoreError::Schema`].
    pub fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        busy_retries(|| Self::open_read_only_once(path))
    }

    fn open_read_only_once(path: &Path) -> Result<Self, StoreError> {
        if !path.is_file() {
            return Err(StoreError::NoLog(format!(
                "{} does not exist",
                path.display()
            )));
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.execute_batch("PRAGMA query_only=ON; PRAGMA cache_size=-16384;")?;
        match Self::stored_version(&conn)?.as_deref() {
            Some(SCHEMA_VERSION) => {}
            None => {
                return Err(StoreError::NoLog(format!(
                    "{} holds no log tables",
                    path.display()
                )));
            }
            Some(old @ ("1" | "2")) => {
                return Err(StoreError::NeedsWriter(format!(
                    "{} has schema version {old}, and this build reads version {SCHEMA_VERSION}",
                    path.display()
                )));
            }
            Some(found) => {
                return Err(StoreError::Schema {
                    found: found.to_owned(),
                    expected: SCHEMA_VERSION.into(),
                });
            }
        }
        // Every writer puts the log in WAL mode, where readers never block appends.
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::NeedsWriter(format!(
                "{} is in journal mode `{mode}`, not WAL",
                path.display()
            )));
        }
        // The run directory is never created here (that would be a write); with none,
        // every run reads as missing, and look-ups read the entries instead.
        let mut name = path.file_name().unwrap_or_default().to_owned();
        name.push("-runs");
        let dir = path.with_file_name(name);
        let (runs, missing_dir) = if dir.is_dir() {
            // On an existing directory this only checks that it is one.
            (RunFiles::beside(path).map_err(io_error)?, None)
        } else {
            (RunFiles::in_memory(), Some(dir))
        };
        Ok(Self {
            conn,
            runs,
            reader: Some(Reader {
                missing_dir,
                ..Reader::default()
            }),
        })
    }

    /// Whether this store was opened read-only.
    pub fn is_read_only(&self) -> bool {
        self.reader.is_some()
    }

    /// How often this read-only store's look-ups could not use a run file (zero for a
    /// writer, whose look-ups repair such files instead).
    pub fn read_stats(&self) -> ReadStats {
        self.reader
            .as_ref()
            .map_or_else(ReadStats::default, |r| r.stats.get())
    }

    /// Refuses a write through a read-only store.
    fn writable(&self, what: &'static str) -> Result<(), StoreError> {
        match self.reader {
            Some(_) => Err(StoreError::ReadOnly(what)),
            None => Ok(()),
        }
    }

    fn init(conn: Connection, runs: RunFiles) -> Result<Self, StoreError> {
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // journal_mode returns a row; query it rather than execute.
        let _mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        // A 64 MiB page cache keeps the hot pages in memory during appends. The WAL is
        // checkpointed into the database file every 10,000 pages (about 40 MiB) instead
        // of SQLite's default 1,000, so that the pages rewritten by consecutive batches
        // are copied back once rather than once per batch. Durability is unchanged: with
        // synchronous=FULL a commit returns only after its WAL frames are fsynced,
        // whether or not they have been checkpointed yet.
        conn.execute_batch(
            "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536;
             PRAGMA wal_autocheckpoint=10000;",
        )?;
        let mut store = Self {
            conn,
            runs,
            reader: None,
        };
        store.upgrade()?;
        store.recover()?;
        store.compact()?;
        Ok(store)
    }

    /// The stored schema version, if the database has one.
    fn stored_version(conn: &Connection) -> Result<Option<String>, StoreError> {
        let has_meta: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta')",
            [],
            |r| r.get(0),
        )?;
        if !has_meta {
            return Ok(None);
        }
        Ok(conn
            .query_row(
                "SELECT value FROM meta WHERE key='schema_version'",
                [],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Creates the schema of a new database, or upgrades a version 1 or 2 database;
    /// refuses any other version before changing anything.
    fn upgrade(&mut self) -> Result<(), StoreError> {
        if Self::stored_version(&self.conn)?.as_deref() == Some(SCHEMA_VERSION) {
            return Ok(());
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        match Self::stored_version(&tx)?.as_deref() {
            None => {
                tx.execute_batch(SCHEMA)?;
                tx.execute_batch(LOOKUP_SCHEMA)?;
                tx.execute(
                    "INSERT INTO meta(key, value) VALUES ('schema_version', ?1)",
                    [SCHEMA_VERSION],
                )?;
            }
            Some(SCHEMA_VERSION) => {}
            Some(old @ ("1" | "2")) => {
                tx.execute_batch(if old == "1" {
                    "DROP INDEX IF EXISTS entries_content_hash;
                     DROP INDEX IF EXISTS entries_payload;
                     DROP INDEX IF EXISTS entries_generation_id;
                     DROP TABLE IF EXISTS lsh;
                     ALTER TABLE checkpoints ADD COLUMN cosignatures INTEGER NOT NULL DEFAULT 0;"
                } else {
                    "DROP TABLE lookup_keys; DROP TABLE lookup_runs;"
                })?;
                tx.execute_batch(LOOKUP_SCHEMA)?;
                index_all_entries(&tx, &self.runs)?;
                tx.execute(
                    "UPDATE meta SET value = ?1 WHERE key = 'schema_version'",
                    [SCHEMA_VERSION],
                )?;
            }
            Some(found) => {
                return Err(StoreError::Schema {
                    found: found.to_owned(),
                    expected: SCHEMA_VERSION.into(),
                });
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Deletes the run files no committed run names, and checks every live run's file
    /// (its length and footer; blocks are checked when read), rebuilding a damaged one
    /// from the entries; under the write lock, so no other process is writing a run
    /// file meanwhile.
    fn recover(&mut self) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let runs = read_runs(&tx)?;
        let live: Vec<i64> = runs.iter().map(|r| r.run.run).collect();
        let removed = self.runs.remove_others(&live).map_err(io_error)?;
        if !removed.is_empty() {
            eprintln!(
                "tracemark-ledger: deleted {} look-up run file(s) that no committed run names \
                 (left by an interrupted append or merge): {}",
                removed.len(),
                removed.join(", ")
            );
        }
        for r in &runs {
            match self.runs.load(r.run.run, r.file) {
                Ok(()) => {}
                Err(RunError::Damaged(why)) => rebuild(&tx, &self.runs, r, &why)?,
                Err(e) => return Err(e.into()),
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Looks `keys` up in the runs of one read snapshot, then gives the entries found
    /// (sorted, once each) to `check` on the same snapshot, so a look-up sees one state
    /// of the index while another process appends or merges. A run found damaged is
    /// repaired and the look-up read again; so is one whose file vanished (another
    /// process merged it away after the snapshot began).
    fn find_then<T>(
        &self,
        keys: &[(i16, i64)],
        check: impl Fn(&Connection, Vec<i64>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if let Some(reader) = &self.reader {
            return self.find_then_reading(reader, keys, check);
        }
        let mut attempt = 0;
        loop {
            let tx = self.conn.unchecked_transaction()?;
            let runs = read_runs(&tx)?;
            match self.find_ids(&runs, keys)? {
                Found::Ids(ids) => {
                    let out = check(&tx, ids)?;
                    tx.finish()?;
                    return Ok(out);
                }
                Found::Damaged(_, why) if attempt == REPAIR_ATTEMPTS => {
                    return Err(StoreError::Corrupt(format!(
                        "a look-up run file stays damaged after {attempt} repairs: {why}"
                    )));
                }
                Found::Damaged(run, _) => {
                    tx.finish()?;
                    self.repair(run)?;
                    attempt += 1;
                }
            }
        }
    }

    /// [`Self::find_then`] for a read-only store, which cannot repair a run: a run it
    /// cannot read is read again in a new snapshot (it was merged away meanwhile, most
    /// likely), then, if still listed, opened afresh and read whole (the writer may have
    /// rebuilt it), and, if still damaged, read from its entries' key columns.
    fn find_then_reading<T>(
        &self,
        reader: &Reader,
        keys: &[(i16, i64)],
        check: impl Fn(&Connection, Vec<i64>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        // The run that the previous snapshot could not read.
        let mut suspect = None;
        for attempt in 0..=READ_ATTEMPTS {
            let tx = self.conn.unchecked_transaction()?;
            let runs = read_runs(&tx)?;
            self.forget_merged(reader, &runs);
            let mut ids = Vec::new();
            let mut unreadable = None;
            for r in &runs {
                let run = r.run.run;
                reader.opened.borrow_mut().insert(run);
                let found = if suspect == Some(run) {
                    self.runs.verify(run, r.file)
                } else {
                    self.runs.load(run, r.file)
                }
                .and_then(|()| {
                    keys.iter()
                        .try_for_each(|&(kind, key)| self.runs.find(run, kind, key, &mut ids))
                });
                match found {
                    Ok(()) => {}
                    Err(RunError::Damaged(mut why))
                        if suspect == Some(run) || attempt == READ_ATTEMPTS =>
                    {
                        if let Some(dir) = &reader.missing_dir {
                            why = format!("the directory {} is missing", dir.display());
                        }
                        if reader.reported.borrow_mut().insert(run) {
                            eprintln!(
                                "tracemark-ledger: look-up run {run} (entries {}..{}) is \
                                 damaged: {why}; this reader reads those entries' keys \
                                 instead until the log's writer rebuilds it (when it next \
                                 opens the log, or reads that run itself)",
                                r.first, r.end
                            );
                        }
                        find_in_entries(&tx, r, keys, &mut ids)?;
                        update(&reader.stats, |s| s.runs_read_from_entries += 1);
                    }
                    Err(RunError::Damaged(_)) => {
                        unreadable = Some(run);
                        break;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            if unreadable.is_some() {
                tx.finish()?;
                suspect = unreadable;
                update(&reader.stats, |s| s.snapshots_retried += 1);
                continue;
            }
            ids.sort_unstable();
            ids.dedup();
            let out = check(&tx, ids)?;
            tx.finish()?;
            return Ok(out);
        }
        unreachable!("the last attempt reads damaged runs from the entries")
    }

    /// Closes the files of runs this reader opened that `live` no longer lists (merged
    /// away by the writer, which deleted their files). [`RunFiles`] forgets a run without
    /// deleting its file only in `verify`, which first drops the run and then opens it
    /// again; given a description no run file matches (no rows; every run has some), it
    /// finds the file gone or not matching and keeps nothing open.
    fn forget_merged(&self, reader: &Reader, live: &[LiveRun]) {
        let live: BTreeSet<i64> = live.iter().map(|r| r.run.run).collect();
        let mut opened = reader.opened.borrow_mut();
        let gone: Vec<i64> = opened.difference(&live).copied().collect();
        for run in gone {
            let none = RunInfo {
                rows: 0,
                checksum: 0,
            };
            let _ = self.runs.verify(run, none);
            opened.remove(&run);
        }
    }

    /// The entries of `runs` with one of `keys`, or the first run found damaged.
    fn find_ids(&self, runs: &[LiveRun], keys: &[(i16, i64)]) -> Result<Found, StoreError> {
        let mut ids = Vec::new();
        for r in runs {
            let found = self.runs.load(r.run.run, r.file).and_then(|()| {
                keys.iter()
                    .try_for_each(|&(kind, key)| self.runs.find(r.run.run, kind, key, &mut ids))
            });
            match found {
                Ok(()) => {}
                Err(RunError::Damaged(why)) => return Ok(Found::Damaged(r.run.run, why)),
                Err(e) => return Err(e.into()),
            }
        }
        ids.sort_unstable();
        ids.dedup();
        Ok(Found::Ids(ids))
    }

    /// Reads the whole file of `run` under the write lock and rebuilds it from the
    /// entries if it is damaged; nothing to do if the run was merged away or repaired
    /// by another process meanwhile.
    fn repair(&self, run: i64) -> Result<(), StoreError> {
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let Some(r) = read_runs(&tx)?.into_iter().find(|r| r.run.run == run) else {
            return Ok(());
        };
        match self.runs.verify(run, r.file) {
            Ok(()) => {}
            Err(RunError::Damaged(why)) => rebuild(&tx, &self.runs, &r, &why)?,
            Err(e) => return Err(e.into()),
        }
        tx.commit()?;
        Ok(())
    }

    /// Runs `SQLite`'s own page-level check (`PRAGMA integrity_check`).
    pub fn integrity_check(&self) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
        let rows: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        if rows == ["ok"] {
            Ok(())
        } else {
            Err(StoreError::Corrupt(rows.join("; ")))
        }
    }

    /// The runs of the look-up index, oldest first (for tests and diagnostics).
    pub fn lookup_runs(&self) -> Result<Vec<Run>, StoreError> {
        Ok(read_runs(&self.conn)?.into_iter().map(|r| r.run).collect())
    }

    /// The file of a look-up run (`None` for an in-memory log).
    pub fn run_path(&self, run: i64) -> Option<std::path::PathBuf> {
        self.runs.path(run)
    }

    /// Merges the newest runs of the look-up index while [`plan_merge`] asks for it, one
    /// transaction per merge (a crash between merges leaves a valid index), and deletes
    /// the merged runs' files once the merge has committed.
    fn compact(&mut self) -> Result<(), StoreError> {
        loop {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let runs = read_runs(&tx)?;
            let levels: Vec<i64> = runs.iter().map(|r| r.run.level).collect();
            let Some(n) = plan_merge(&levels) else {
                return Ok(());
            };
            let picked = &runs[runs.len() - n..];
            let merged = merge_runs(&tx, &self.runs, picked)?;
            let gone: Vec<i64> = picked.iter().map(|r| r.run.run).collect();
            for run in &gone {
                tx.execute("DELETE FROM lookup_runs WHERE run = ?1", [run])?;
            }
            if let Some(merged) = merged {
                insert_run(&tx, &merged)?;
            }
            tx.commit()?;
            self.runs.remove(&gone).map_err(io_error)?;
        }
    }

    /// Inserts one entry and the subtree hashes it completes; `fresh` holds the hashes
    /// written earlier in this batch, so left siblings are rarely read back.
    fn insert_entry(
        tx: &Connection,
        index: u64,
        entry: &NewEntry,
        fresh: &mut HashMap<(u8, u64), Hash>,
    ) -> Result<Hash, StoreError> {
        if entry.data.len() > MAX_ENTRY_BYTES {
            return Err(StoreError::EntryTooLarge {
                index,
                size: entry.data.len(),
            });
        }
        let k = &entry.keys;
        let idx = sql_index(index)?;
        tx.prepare_cached(
            "INSERT INTO entries(idx, data, content_hash, key_id, payload, generation_id, sketch)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            idx,
            entry.data,
            k.content_hash.as_ref().map(|h| h.as_bytes().to_vec()),
            k.key_id.as_ref().map(|id| id.as_str().to_owned()),
            k.payload.as_ref().map(payload_key),
            k.generation_id,
            k.sketch.as_ref().map(TextSketch::to_bytes),
        ])?;
        let leaf = leaf_hash(&entry.data);
        let nodes = completed_subtrees(index, leaf, |level, i| match fresh.get(&(level, i)) {
            Some(h) => Ok(*h),
            None => read_hash(tx, level, i),
        })?;
        let mut stmt =
            tx.prepare_cached("INSERT INTO nodes(level, idx, hash) VALUES (?1, ?2, ?3)")?;
        for (level, i, hash) in nodes {
            stmt.execute(params![level, sql_index(i)?, hash.0.to_vec()])?;
            fresh.insert((level, i), hash);
        }
        Ok(leaf)
    }
}

/// What the runs of a snapshot hold for a look-up.
enum Found {
    Ids(Vec<i64>),
    /// The run, and what is wrong with it.
    Damaged(i64, String),
}

/// Rebuilds the damaged run `r` from the entries, in place (same run number), saying so.
fn rebuild(tx: &Connection, files: &RunFiles, r: &LiveRun, why: &str) -> Result<(), StoreError> {
    eprintln!(
        "tracemark-ledger: look-up run {} (entries {}..{}) is damaged: {why}; \
         rebuilding it from the entries",
        r.run.run, r.first, r.end
    );
    tx.execute("DELETE FROM lookup_runs WHERE run = ?1", [r.run.run])?;
    if let Some(rebuilt) = build_run(tx, files, r.run.run, r.first, r.end)? {
        insert_run(tx, &rebuilt)?;
    }
    Ok(())
}

/// Merges the runs `picked` (the newest, consecutive) into a new run. A damaged input
/// (a block that fails its checksum, a file missing) makes the merged run be built
/// from the entries.
fn merge_runs(
    tx: &Connection,
    files: &RunFiles,
    picked: &[LiveRun],
) -> Result<Option<LiveRun>, StoreError> {
    let run = next_run(tx)?;
    let (first, end) = (picked[0].first, picked[picked.len() - 1].end);
    let inputs: Vec<i64> = picked.iter().map(|r| r.run.run).collect();
    let merged = picked
        .iter()
        .try_for_each(|r| files.load(r.run.run, r.file))
        .and_then(|()| files.merge(run, &inputs));
    match merged {
        Ok(file) => {
            let records = picked.iter().map(|r| r.run.records).sum();
            Ok(Some(LiveRun::new(run, records, first, end, file)))
        }
        Err(RunError::Damaged(why)) => {
            eprintln!(
                "tracemark-ledger: a look-up run of entries {first}..{end} is damaged: {why}; \
                 building the merged run from the entries"
            );
            build_run(tx, files, run, first, end)
        }
        Err(e) => Err(e.into()),
    }
}

/// Builds the file of `run` from the key columns of the entries `first..end`, in chunks
/// of [`BUILD_CHUNK`] entries (bounded memory); `None` if none of them has a key.
fn build_run(
    conn: &Connection,
    files: &RunFiles,
    run: i64,
    first: i64,
    end: i64,
) -> Result<Option<LiveRun>, StoreError> {
    let mut chunks = Vec::new();
    let mut records = 0;
    let mut rows = Vec::new();
    for start in (first..end).step_by(BUILD_CHUNK as usize) {
        rows.clear();
        records += read_key_rows(conn, start, (start + BUILD_CHUNK).min(end), &mut rows)?;
        if !rows.is_empty() {
            chunks.push(files.chunk(&mut rows).map_err(io_error)?);
        }
    }
    if chunks.is_empty() {
        return Ok(None);
    }
    let file = files.merge_chunks(run, &chunks).map_err(io_error)?;
    Ok(Some(LiveRun::new(run, records, first, end, file)))
}

/// Appends the entries of run `r` with one of `keys`, read from their key columns (the
/// source of truth the run is built from) rather than from its file.
fn find_in_entries(
    conn: &Connection,
    r: &LiveRun,
    keys: &[(i16, i64)],
    out: &mut Vec<i64>,
) -> Result<(), StoreError> {
    let wanted: HashSet<(i16, i64)> = keys.iter().copied().collect();
    let mut rows = Vec::new();
    for start in (r.first..r.end).step_by(BUILD_CHUNK as usize) {
        rows.clear();
        read_key_rows(conn, start, (start + BUILD_CHUNK).min(r.end), &mut rows)?;
        out.extend(
            rows.iter()
                .filter(|&&(kind, key, _)| wanted.contains(&(kind, key)))
                .map(|&(_, _, idx)| idx),
        );
    }
    Ok(())
}

fn update(stats: &Cell<ReadStats>, change: impl FnOnce(&mut ReadStats)) {
    let mut s = stats.get();
    change(&mut s);
    stats.set(s);
}

/// Indexes every entry as one run (a version upgrade); later appends add smaller runs.
fn index_all_entries(tx: &Connection, files: &RunFiles) -> Result<(), StoreError> {
    let end: i64 = tx.query_row("SELECT COALESCE(MAX(idx), -1) + 1 FROM entries", [], |r| {
        r.get(0)
    })?;
    if let Some(run) = build_run(tx, files, 1, 0, end)? {
        insert_run(tx, &run)?;
    }
    Ok(())
}

/// Appends the look-up rows of the entries `start..end`, from their key columns;
/// returns how many of them have any.
fn read_key_rows(
    conn: &Connection,
    start: i64,
    end: i64,
    rows: &mut Vec<KeyRow>,
) -> Result<i64, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT idx, content_hash, payload, generation_id, sketch FROM entries
         WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
    )?;
    let mut q = stmt.query(params![start, end])?;
    let mut records = 0;
    while let Some(r) = q.next()? {
        let idx: i64 = r.get(0)?;
        let content_hash: Option<Vec<u8>> = r.get(1)?;
        let payload: Option<String> = r.get(2)?;
        let generation_id: Option<String> = r.get(3)?;
        let sketch = r
            .get::<_, Option<Vec<u8>>>(4)?
            .map(|b| {
                TextSketch::from_bytes(&b).ok_or_else(|| {
                    StoreError::Corrupt(format!("entry {idx} has an invalid sketch"))
                })
            })
            .transpose()?;
        records += i64::from(stored_key_rows(
            content_hash.as_deref(),
            payload.as_deref(),
            generation_id.as_deref(),
            sketch.as_ref(),
            idx,
            rows,
        ));
    }
    Ok(records)
}

fn read_runs(conn: &Connection) -> Result<Vec<LiveRun>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT run, level, records, first_idx, end_idx, rows, checksum FROM lookup_runs
         ORDER BY run",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(LiveRun {
            run: Run {
                run: r.get(0)?,
                level: r.get(1)?,
                records: r.get(2)?,
            },
            first: r.get(3)?,
            end: r.get(4)?,
            file: RunInfo {
                rows: r.get::<_, i64>(5)? as u64,
                checksum: r.get::<_, i64>(6)? as u64,
            },
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A run number larger than every run's, so that runs are numbered in log order.
fn next_run(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row(
        "SELECT COALESCE(MAX(run), 0) + 1 FROM lookup_runs",
        [],
        |r| r.get(0),
    )?)
}

fn insert_run(tx: &Connection, r: &LiveRun) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO lookup_runs(run, level, records, first_idx, end_idx, rows, checksum)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        r.run.run,
        r.run.level,
        r.run.records,
        r.first,
        r.end,
        r.file.rows as i64,
        r.file.checksum as i64
    ])?;
    Ok(())
}

fn read_hash(conn: &Connection, level: u8, index: u64) -> Result<Hash, StoreError> {
    let bytes: Option<Vec<u8>> = conn
        .prepare_cached("SELECT hash FROM nodes WHERE level = ?1 AND idx = ?2")?
        .query_row(params![level, sql_index(index)?], |r| r.get(0))
        .optional()?;
    match bytes {
        None => Err(ProofError::MissingHash { level, index }.into()),
        Some(b) => Hash::from_slice(&b).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "the hash at level {level}, index {index} is not 32 bytes"
            ))
        }),
    }
}

impl LogStore for SqliteStore {
    fn size(&self) -> Result<u64, StoreError> {
        let max: Option<i64> = self
            .conn
            .prepare_cached("SELECT MAX(idx) FROM entries")?
            .query_row([], |r| r.get(0))?;
        Ok(max.map_or(0, |m| m as u64 + 1))
    }

    fn append(&mut self, entries: &[NewEntry]) -> Result<u64, StoreError> {
        self.writable("append entries")?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Read the size inside the write lock, so two writers never pick one index.
        let max: Option<i64> = tx.query_row("SELECT MAX(idx) FROM entries", [], |r| r.get(0))?;
        let first = max.map_or(0, |m| m as u64 + 1);
        let mut rows = Vec::new();
        let mut records = 0;
        let mut fresh = HashMap::new();
        for (i, entry) in entries.iter().enumerate() {
            let index = first + i as u64;
            Self::insert_entry(&tx, index, entry, &mut fresh)?;
            records += i64::from(key_rows(&entry.keys, sql_index(index)?, &mut rows));
        }
        if !rows.is_empty() {
            // The batch's run file is written without an fsync: the entries are the
            // durable truth, and a file lost with the machine is rebuilt from them.
            rows.sort_unstable();
            let run = next_run(&tx)?;
            let file = self.runs.write(run, &rows, false).map_err(io_error)?;
            let first = sql_index(first)?;
            let end = first + entries.len() as i64;
            insert_run(&tx, &LiveRun::new(run, records, first, end, file))?;
        }
        tx.commit()?;
        // The append is durable and acknowledged; merging runs is housekeeping that a
        // crash may interrupt (each merge is its own transaction).
        self.compact()?;
        Ok(first)
    }

    fn stored_hash(&self, level: u8, index: u64) -> Result<Hash, StoreError> {
        read_hash(&self.conn, level, index)
    }

    fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT idx, data FROM entries WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
        )?;
        let rows = stmt.query_map(params![sql_index(start)?, sql_index(end)?], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        let mut out = Vec::new();
        for (expected, row) in (start..).zip(rows) {
            let (idx, data) = row?;
            if idx as u64 != expected {
                return Err(StoreError::Corrupt(format!("entry {expected} is missing")));
            }
            out.push(data);
        }
        Ok(out)
    }

    fn lookup(&self, query: &Lookup) -> Result<Vec<u64>, StoreError> {
        use rusqlite::types::Value;
        let (kind, key) = lookup_key(query);
        // The entry's own column is compared: equal 64-bit keys of different values
        // never match.
        let (check, args) = match query {
            Lookup::ContentHash(h) => (
                "content_hash = ?2",
                vec![Value::Blob(h.as_bytes().to_vec())],
            ),
            Lookup::Payload { payload, key_id } => (
                "payload = ?2 AND (?3 IS NULL OR key_id = ?3)",
                vec![
                    Value::Text(payload_key(payload)),
                    key_id
                        .as_ref()
                        .map_or(Value::Null, |k| Value::Text(k.as_str().to_owned())),
                ],
            ),
            Lookup::GenerationId(id) => ("generation_id = ?2", vec![Value::Text(id.clone())]),
        };
        let sql = format!("SELECT EXISTS (SELECT 1 FROM entries WHERE idx = ?1 AND {check})");
        self.find_then(&[(kind, key)], |tx, ids| {
            let mut stmt = tx.prepare_cached(&sql)?;
            let mut found = Vec::new();
            for idx in ids {
                let all = std::iter::once(Value::Integer(idx)).chain(args.iter().cloned());
                if stmt.query_row(rusqlite::params_from_iter(all), |r| r.get::<_, bool>(0))? {
                    found.push(idx as u64);
                }
            }
            Ok(found)
        })
    }

    fn similar_candidates(
        &self,
        sketch: &TextSketch,
    ) -> Result<Vec<(u64, TextSketch)>, StoreError> {
        let bands: Vec<(i16, i64)> = lsh_buckets(sketch)
            .into_iter()
            .enumerate()
            .map(|(band, bucket)| (band as i16, bucket))
            .collect();
        self.find_then(&bands, |tx, ids| {
            let mut read = tx.prepare_cached("SELECT sketch FROM entries WHERE idx = ?1")?;
            ids.into_iter()
                .map(|idx| {
                    let bytes: Option<Vec<u8>> = read.query_row([idx], |r| r.get(0))?;
                    let sketch = bytes
                        .as_deref()
                        .and_then(TextSketch::from_bytes)
                        .ok_or_else(|| {
                            StoreError::Corrupt(format!("entry {idx} has no valid sketch"))
                        })?;
                    Ok((idx as u64, sketch))
                })
                .collect()
        })
    }

    fn save_checkpoint(&mut self, size: u64, note: &str) -> Result<(), StoreError> {
        self.writable("save a checkpoint")?;
        // A checkpoint of this size already kept stays as it is, with its cosignatures
        // (see `LogStore::save_checkpoint`).
        self.conn.execute(
            "INSERT INTO checkpoints(size, note, cosignatures) VALUES (?1, ?2, 0)
             ON CONFLICT (size) DO NOTHING",
            params![sql_index(size)?, note],
        )?;
        Ok(())
    }

    fn latest_checkpoint(&self) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn checkpoint_at(&self, size: u64) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT note FROM checkpoints WHERE size = ?1",
                [sql_index(size)?],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn replace_checkpoint(
        &mut self,
        size: u64,
        old: &str,
        new: &str,
        cosignatures: usize,
    ) -> Result<bool, StoreError> {
        self.writable("replace a checkpoint")?;
        let changed = self.conn.execute(
            "UPDATE checkpoints SET note = ?3, cosignatures = ?4 WHERE size = ?1 AND note = ?2",
            params![sql_index(size)?, old, new, cosignatures as i64],
        )?;
        Ok(changed == 1)
    }

    fn latest_cosigned_checkpoint(&self, min: usize) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT note FROM checkpoints WHERE cosignatures >= ?1 ORDER BY size DESC LIMIT 1",
                [min as i64],
                |r| r.get(0),
            )
            .optional()?)
    }
}
