//! The embedded SQLite backend (the default: no server).
//!
//! Durability: the database runs in WAL mode with `synchronous=FULL`, so a transaction is
//! on disk (the WAL fsynced) when `COMMIT` returns, and [`LogStore::append`] returns only
//! after its commit. A process killed mid-append loses at most the unacknowledged batch.
//!
//! Schema version 1 (one schema for every backend):
//!
//! ```sql
//! meta(key TEXT PRIMARY KEY, value TEXT)              -- schema_version = 1
//! entries(idx INTEGER PRIMARY KEY, data BLOB,         -- the entry bytes (leaf = 0x00 ‖ data)
//!         content_hash BLOB, key_id TEXT, payload TEXT, generation_id TEXT, sketch BLOB)
//! nodes(level, idx, hash) PRIMARY KEY (level, idx)    -- complete-subtree hashes, level 0 = leaves
//! lsh(band, bucket, idx) PRIMARY KEY (band, bucket, idx)
//! checkpoints(size INTEGER PRIMARY KEY, note TEXT)
//! ```

use std::{collections::HashMap, path::Path};

use rusqlite::{Connection, ErrorCode, OptionalExtension, TransactionBehavior, params};

use crate::{
    merkle::{Hash, ProofError, completed_subtrees, leaf_hash},
    record::{MAX_ENTRY_BYTES, TextSketch},
    store::{LogStore, Lookup, NewEntry, StoreError, lsh_buckets, payload_key},
};

/// The schema this build writes and reads.
pub const SCHEMA_VERSION: &str = "1";

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
CREATE INDEX IF NOT EXISTS entries_content_hash ON entries(content_hash);
CREATE INDEX IF NOT EXISTS entries_payload ON entries(payload, key_id);
CREATE INDEX IF NOT EXISTS entries_generation_id ON entries(generation_id);
CREATE TABLE IF NOT EXISTS nodes (
    level INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS lsh (
    band INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    PRIMARY KEY (band, bucket, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints (size INTEGER PRIMARY KEY, note TEXT NOT NULL);
";

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
    /// Opens (or creates) the log database at `path`.
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
        // A 64 MiB page cache keeps the hot parts of the indexes in memory during appends.
        // The WAL is checkpointed into the database file every 10,000 pages (about 40 MiB)
        // instead of SQLite's default 1,000: a batch of generation records dirties more
        // than 1,000 pages (mostly LSH index pages), so with the default every batch paid
        // for a checkpoint (copy back and fsync of the database file) on top of its own
        // WAL fsync, and pages rewritten by consecutive batches were copied back once per
        // batch. Durability is unchanged: with synchronous=FULL a commit returns only after
        // its WAL frames are fsynced, whether or not they have been checkpointed yet.
        conn.execute_batch(
            "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536;
             PRAGMA wal_autocheckpoint=10000;",
        )?;
        conn.execute_batch(SCHEMA)?;
        let version: Option<String> = conn
            .query_row(
                "SELECT value FROM meta WHERE key='schema_version'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        match version {
            None => {
                conn.execute(
                    "INSERT INTO meta(key, value) VALUES ('schema_version', ?1)",
                    [SCHEMA_VERSION],
                )?;
            }
            Some(v) if v == SCHEMA_VERSION => {}
            Some(found) => {
                return Err(StoreError::Schema {
                    found,
                    expected: SCHEMA_VERSION.into(),
                });
            }
        }
        Ok(Self { conn })
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
        let mut lsh = Vec::new();
        let mut fresh = HashMap::new();
        for (i, entry) in entries.iter().enumerate() {
            let index = first + i as u64;
            Self::insert_entry(&tx, index, entry, &mut fresh)?;
            if let Some(sketch) = &entry.keys.sketch {
                let idx = sql_index(index)?;
                lsh.extend(
                    lsh_buckets(sketch)
                        .into_iter()
                        .enumerate()
                        .map(|(band, bucket)| (band as i64, bucket, idx)),
                );
            }
        }
        // In key order, B-tree inserts touch each page once per batch instead of once per row.
        lsh.sort_unstable();
        let mut stmt =
            tx.prepare_cached("INSERT INTO lsh(band, bucket, idx) VALUES (?1, ?2, ?3)")?;
        for (band, bucket, idx) in lsh {
            stmt.execute(params![band, bucket, idx])?;
        }
        drop(stmt);
        tx.commit()?;
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
        let (sql, args) = match query {
            Lookup::ContentHash(h) => (
                "SELECT idx FROM entries WHERE content_hash = ?1 ORDER BY idx",
                vec![Value::Blob(h.as_bytes().to_vec())],
            ),
            Lookup::Payload { payload, key_id } => (
                "SELECT idx FROM entries WHERE payload = ?1 AND (?2 IS NULL OR key_id = ?2) ORDER BY idx",
                vec![
                    Value::Text(payload_key(payload)),
                    key_id
                        .as_ref()
                        .map_or(Value::Null, |k| Value::Text(k.as_str().to_owned())),
                ],
            ),
            Lookup::GenerationId(id) => (
                "SELECT idx FROM entries WHERE generation_id = ?1 ORDER BY idx",
                vec![Value::Text(id.clone())],
            ),
        };
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args), |r| r.get::<_, i64>(0))?;
        rows.map(|r| r.map(|i| i as u64).map_err(StoreError::from))
            .collect()
    }

    fn similar_candidates(
        &self,
        sketch: &TextSketch,
    ) -> Result<Vec<(u64, TextSketch)>, StoreError> {
        let mut ids = std::collections::BTreeSet::new();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT idx FROM lsh WHERE band = ?1 AND bucket = ?2")?;
        for (band, bucket) in lsh_buckets(sketch).into_iter().enumerate() {
            for idx in stmt.query_map(params![band as i64, bucket], |r| r.get::<_, i64>(0))? {
                ids.insert(idx?);
            }
        }
        let mut read = self
            .conn
            .prepare_cached("SELECT sketch FROM entries WHERE idx = ?1")?;
        let mut out = Vec::with_capacity(ids.len());
        for idx in ids {
            let bytes: Option<Vec<u8>> = read.query_row([idx], |r| r.get(0))?;
            let sketch = bytes
                .as_deref()
                .and_then(TextSketch::from_bytes)
                .ok_or_else(|| StoreError::Corrupt(format!("entry {idx} has no valid sketch")))?;
            out.push((idx as u64, sketch));
        }
        Ok(out)
    }

    fn save_checkpoint(&mut self, size: u64, note: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO checkpoints(size, note) VALUES (?1, ?2)",
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
}
