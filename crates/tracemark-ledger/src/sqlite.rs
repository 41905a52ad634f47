//! The embedded SQLite backend (the default: no server).
//!
//! Durability: the database runs in WAL mode with `synchronous=FULL`, so a transaction is
//! on disk (the WAL fsynced) when `COMMIT` returns, and [`LogStore::append`] returns only
//! after its commit. A process killed mid-append loses at most the unacknowledged batch.
//!
//! Schema version 2 (one schema for every backend):
//!
//! ```sql
//! meta(key TEXT PRIMARY KEY, value TEXT)              -- schema_version = 2
//! entries(idx INTEGER PRIMARY KEY, data BLOB,         -- the entry bytes (leaf = 0x00 ‖ data)
//!         content_hash BLOB, key_id TEXT, payload TEXT, generation_id TEXT, sketch BLOB)
//! nodes(level, idx, hash) PRIMARY KEY (level, idx)    -- complete-subtree hashes, level 0 = leaves
//! lookup_runs(run INTEGER PRIMARY KEY, level, records)
//! lookup_keys(run, kind, key, idx) PRIMARY KEY (run, kind, key, idx)
//! checkpoints(size INTEGER PRIMARY KEY, note TEXT, cosignatures INTEGER)
//! ```
//!
//! `entries` has no secondary index: every look-up goes through `lookup_keys`, an
//! append-ordered LSM-style index (see [`crate::store`]). Version 1 (random-key indexes
//! on `entries` and an `lsh(band, bucket, idx)` table) is upgraded in place when opened.

use std::{collections::HashMap, path::Path};

use rusqlite::{Connection, ErrorCode, OptionalExtension, TransactionBehavior, params};

use crate::{
    merkle::{Hash, ProofError, completed_subtrees, leaf_hash},
    record::{MAX_ENTRY_BYTES, TextSketch},
    store::{
        KeyRow, LogStore, Lookup, NewEntry, Run, StoreError, key_rows, lookup_key, lsh_buckets,
        payload_key, plan_merge, run_level, stored_key_rows,
    },
};

/// The schema this build writes and reads.
pub const SCHEMA_VERSION: &str = "2";

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

/// The look-up index tables (new in version 2).
const LOOKUP_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS lookup_runs (
    run INTEGER PRIMARY KEY,
    level INTEGER NOT NULL,
    records INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS lookup_keys (
    run INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    key INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    PRIMARY KEY (run, kind, key, idx)
) WITHOUT ROWID;
";

/// Rows per multi-row `INSERT` into `lookup_keys` (4 parameters each).
const INSERT_CHUNK: usize = 200;

/// Entries read at a time when version 1 is upgraded (one run each).
const MIGRATE_CHUNK: i64 = 16_384;

/// A log in one SQLite file.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
                StoreError::Corrupt(e.to_string())
            }
            _ => StoreError::Backend(e.to_string()),
        }
    }
}

/// Converts an index for SQLite, which stores signed 64-bit integers.
fn sql_index(i: u64) -> Result<i64, StoreError> {
    i64::try_from(i).map_err(|_| StoreError::Corrupt(format!("index {i} is out of range")))
}

impl SqliteStore {
    /// Opens (or creates) the log database at `path`. A version 1 database is upgraded
    /// to version 2 in one transaction; a newer one is refused.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::init(Connection::open(path)?)
    }

    /// A throwaway in-memory log (tests, benchmarks).
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Self, StoreError> {
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // journal_mode returns a row; query it rather than execute.
        let _mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        // A 64 MiB page cache keeps the hot parts of the index in memory during appends.
        // The WAL is checkpointed into the database file every 10,000 pages (about 40 MiB)
        // instead of SQLite's default 1,000, so that the pages rewritten by consecutive
        // batches are copied back once rather than once per batch. Durability is
        // unchanged: with synchronous=FULL a commit returns only after its WAL frames are
        // fsynced, whether or not they have been checkpointed yet.
        conn.execute_batch(
            "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536;
             PRAGMA wal_autocheckpoint=10000;",
        )?;
        let mut store = Self { conn };
        store.upgrade()?;
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

    /// Creates the schema of a new database, or upgrades a version 1 database; refuses
    /// any other version before changing anything.
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
            Some("1") => migrate_v1(&tx)?,
            Some(found) => {
                return Err(StoreError::Schema {
                    found: found.to_owned(),
                    expected: SCHEMA_VERSION.into(),
                });
            }
        }
        tx.commit()?;
        self.compact()
    }

    /// Runs SQLite's own page-level check (`PRAGMA integrity_check`).
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

    /// The runs of the look-up index (for tests and diagnostics).
    pub fn lookup_runs(&self) -> Result<Vec<Run>, StoreError> {
        read_runs(&self.conn)
    }

    /// Merges runs of the look-up index while a level holds `MERGE_FANOUT` of them, one
    /// transaction per merge (a crash between merges leaves a valid index).
    fn compact(&mut self) -> Result<(), StoreError> {
        loop {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let runs = read_runs(&tx)?;
            let Some(picked) = plan_merge(&runs) else {
                return Ok(());
            };
            let records: i64 = picked.iter().map(|r| r.records).sum();
            let run = next_run(&tx)?;
            let list = picked
                .iter()
                .map(|r| r.run.to_string())
                .collect::<Vec<_>>()
                .join(",");
            tx.execute(
                "INSERT INTO lookup_runs(run, level, records) VALUES (?1, ?2, ?3)",
                params![run, run_level(records as u64), records],
            )?;
            // The run numbers are integers read from the database: safe to inline.
            tx.execute(
                &format!(
                    "INSERT INTO lookup_keys(run, kind, key, idx)
                     SELECT ?1, kind, key, idx FROM lookup_keys WHERE run IN ({list})
                     ORDER BY kind, key, idx"
                ),
                [run],
            )?;
            tx.execute(
                &format!("DELETE FROM lookup_keys WHERE run IN ({list})"),
                [],
            )?;
            tx.execute(
                &format!("DELETE FROM lookup_runs WHERE run IN ({list})"),
                [],
            )?;
            tx.commit()?;
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

/// Upgrades a version 1 database inside `tx`: drops the random-key indexes and the `lsh`
/// table, and builds the look-up index from the entries' key columns.
fn migrate_v1(tx: &Connection) -> Result<(), StoreError> {
    tx.execute_batch(
        "DROP INDEX IF EXISTS entries_content_hash;
         DROP INDEX IF EXISTS entries_payload;
         DROP INDEX IF EXISTS entries_generation_id;
         DROP TABLE IF EXISTS lsh;
         ALTER TABLE checkpoints ADD COLUMN cosignatures INTEGER NOT NULL DEFAULT 0;",
    )?;
    tx.execute_batch(LOOKUP_SCHEMA)?;
    let mut start = 0i64;
    loop {
        let mut rows = Vec::new();
        let mut records = 0u64;
        let mut last = None;
        {
            let mut stmt = tx.prepare(
                "SELECT idx, content_hash, NULL, payload, generation_id, sketch FROM entries
                 WHERE idx >= ?1 ORDER BY idx LIMIT ?2",
            )?;
            let mut q = stmt.query(params![start, MIGRATE_CHUNK])?;
            while let Some(r) = q.next()? {
                let idx: i64 = r.get(0)?;
                let content_hash: Option<Vec<u8>> = r.get(1)?;
                let payload: Option<String> = r.get(3)?;
                let generation_id: Option<String> = r.get(4)?;
                let sketch = r
                    .get::<_, Option<Vec<u8>>>(5)?
                    .map(|b| {
                        TextSketch::from_bytes(&b).ok_or_else(|| {
                            StoreError::Corrupt(format!("entry {idx} has an invalid sketch"))
                        })
                    })
                    .transpose()?;
                records += u64::from(stored_key_rows(
                    content_hash.as_deref(),
                    payload.as_deref(),
                    generation_id.as_deref(),
                    sketch.as_ref(),
                    idx,
                    &mut rows,
                ));
                last = Some(idx);
            }
        }
        let Some(last) = last else { break };
        insert_run(tx, &mut rows, records)?;
        start = last + 1;
    }
    tx.execute(
        "UPDATE meta SET value = ?1 WHERE key = 'schema_version'",
        [SCHEMA_VERSION],
    )?;
    Ok(())
}

fn read_runs(conn: &Connection) -> Result<Vec<Run>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT run, level, records FROM lookup_runs ORDER BY run")?;
    let rows = stmt.query_map([], |r| {
        Ok(Run {
            run: r.get(0)?,
            level: r.get(1)?,
            records: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A run number larger than every run's.
fn next_run(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row(
        "SELECT COALESCE(MAX(run), 0) + 1 FROM lookup_runs",
        [],
        |r| r.get(0),
    )?)
}

/// Writes `rows` (of `records` entries) as a new run, in key order, so that they land at
/// the right edge of `lookup_keys`.
fn insert_run(tx: &Connection, rows: &mut [KeyRow], records: u64) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    rows.sort_unstable();
    let run = next_run(tx)?;
    tx.prepare_cached("INSERT INTO lookup_runs(run, level, records) VALUES (?1, ?2, ?3)")?
        .execute(params![run, run_level(records), records as i64])?;
    let many = format!(
        "INSERT INTO lookup_keys(run, kind, key, idx) VALUES {}",
        vec!["(?, ?, ?, ?)"; INSERT_CHUNK].join(", ")
    );
    let mut chunks = rows.chunks_exact(INSERT_CHUNK);
    let mut stmt = tx.prepare_cached(&many)?;
    let mut args: Vec<i64> = Vec::with_capacity(INSERT_CHUNK * 4);
    for chunk in &mut chunks {
        args.clear();
        for &(kind, key, idx) in chunk {
            args.extend([run, i64::from(kind), key, idx]);
        }
        stmt.execute(rusqlite::params_from_iter(args.iter()))?;
    }
    let mut one =
        tx.prepare_cached("INSERT INTO lookup_keys(run, kind, key, idx) VALUES (?1, ?2, ?3, ?4)")?;
    for &(kind, key, idx) in chunks.remainder() {
        one.execute(params![run, kind, key, idx])?;
    }
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
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Read the size inside the write lock, so two writers never pick one index.
        let max: Option<i64> = tx.query_row("SELECT MAX(idx) FROM entries", [], |r| r.get(0))?;
        let first = max.map_or(0, |m| m as u64 + 1);
        let mut rows = Vec::new();
        let mut records = 0u64;
        let mut fresh = HashMap::new();
        for (i, entry) in entries.iter().enumerate() {
            let index = first + i as u64;
            Self::insert_entry(&tx, index, entry, &mut fresh)?;
            records += u64::from(key_rows(&entry.keys, sql_index(index)?, &mut rows));
        }
        insert_run(&tx, &mut rows, records)?;
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
        // One statement, so it reads one snapshot even while another process merges runs.
        // The entry's own column is compared: equal 64-bit keys of different values
        // never match.
        let (check, args) = match query {
            Lookup::ContentHash(h) => (
                "e.content_hash = ?3",
                vec![Value::Blob(h.as_bytes().to_vec())],
            ),
            Lookup::Payload { payload, key_id } => (
                "e.payload = ?3 AND (?4 IS NULL OR e.key_id = ?4)",
                vec![
                    Value::Text(payload_key(payload)),
                    key_id
                        .as_ref()
                        .map_or(Value::Null, |k| Value::Text(k.as_str().to_owned())),
                ],
            ),
            Lookup::GenerationId(id) => ("e.generation_id = ?3", vec![Value::Text(id.clone())]),
        };
        let sql = format!(
            "SELECT DISTINCT e.idx FROM lookup_keys k JOIN entries e ON e.idx = k.idx
             WHERE k.run IN (SELECT run FROM lookup_runs) AND k.kind = ?1 AND k.key = ?2
               AND {check}
             ORDER BY e.idx"
        );
        let mut all = vec![Value::Integer(i64::from(kind)), Value::Integer(key)];
        all.extend(args);
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(all), |r| r.get::<_, i64>(0))?;
        rows.map(|r| r.map(|i| i as u64).map_err(StoreError::from))
            .collect()
    }

    fn similar_candidates(
        &self,
        sketch: &TextSketch,
    ) -> Result<Vec<(u64, TextSketch)>, StoreError> {
        // One read transaction: one snapshot for the 32 band look-ups and the sketches.
        let tx = self.conn.unchecked_transaction()?;
        let mut ids = std::collections::BTreeSet::new();
        {
            let mut stmt = tx.prepare_cached(
                "SELECT idx FROM lookup_keys
                 WHERE run IN (SELECT run FROM lookup_runs) AND kind = ?1 AND key = ?2",
            )?;
            for (band, bucket) in lsh_buckets(sketch).into_iter().enumerate() {
                for idx in stmt.query_map(params![band as i64, bucket], |r| r.get::<_, i64>(0))? {
                    ids.insert(idx?);
                }
            }
        }
        let mut out = Vec::with_capacity(ids.len());
        {
            let mut read = tx.prepare_cached("SELECT sketch FROM entries WHERE idx = ?1")?;
            for idx in ids {
                let bytes: Option<Vec<u8>> = read.query_row([idx], |r| r.get(0))?;
                let sketch = bytes
                    .as_deref()
                    .and_then(TextSketch::from_bytes)
                    .ok_or_else(|| {
                        StoreError::Corrupt(format!("entry {idx} has no valid sketch"))
                    })?;
                out.push((idx as u64, sketch));
            }
        }
        tx.finish()?;
        Ok(out)
    }

    fn save_checkpoint(&mut self, size: u64, note: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO checkpoints(size, note, cosignatures) VALUES (?1, ?2, 0)",
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
