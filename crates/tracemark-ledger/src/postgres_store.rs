//! The PostgreSQL backend, for deployments where several servers append to one log.
//!
//! The schema of SQLite's version 2 (`BYTEA` for blobs, `BIGINT` for indexes), including
//! the append-ordered look-up index of runs in the `lookup_keys` table (see
//! [`crate::store`]; SQLite keeps its runs in files since version 3): `entries`
//! has no secondary index, so an append writes at the right edge of every B-tree.
//! Appenders (and run merges) serialise on a transaction-scoped advisory lock taken
//! before the size is read, so two appenders never pick the same index (the primary key
//! would refuse it anyway). A commit returns after PostgreSQL has flushed its WAL
//! (`synchronous_commit` is forced `on` for the session), so an acknowledged append is
//! durable. Look-ups are single statements, so each reads one snapshot even while runs
//! are being merged.
//!
//! A reader ([`PostgresStore::connect_read_only`]) runs no DDL and no upgrade, takes
//! neither the advisory lock nor any row lock (its reads are plain `SELECT`s, which take
//! only the `ACCESS SHARE` table lock that every query takes and that only DDL waits
//! for), and sets its session's `default_transaction_read_only = on`, so that the
//! server refuses any write on that connection; the store also refuses appends and
//! checkpoint saves itself ([`StoreError::ReadOnly`]). The database user of a reader
//! needs only `SELECT` on the log's tables (and `USAGE` on its schema).

use std::{
    collections::HashMap,
    sync::{Mutex, MutexGuard},
};

use postgres::{Client, Transaction};

use crate::{
    database_url::mask_password,
    merkle::{Hash, ProofError, completed_subtrees, leaf_hash},
    postgres_tls::Target,
    record::{MAX_ENTRY_BYTES, TextSketch},
    store::{
        KeyRow, LogStore, Lookup, NewEntry, Run, StoreError, key_rows, lookup_key, lsh_buckets,
        payload_key, plan_merge, run_level, stored_key_rows,
    },
};

/// The schema this backend writes and reads: SQLite's version 2, look-up runs in SQL
/// tables included (SQLite moved its runs to files in version 3).
pub const SCHEMA_VERSION: &str = "2";

/// The advisory lock key that serialises appends and merges (ASCII "tmledger"); a
/// reader never takes it.
pub const APPEND_LOCK: i64 = 0x746d_6c65_6467_6572;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    idx BIGINT PRIMARY KEY,
    data BYTEA NOT NULL,
    content_hash BYTEA,
    key_id TEXT,
    payload TEXT,
    generation_id TEXT,
    sketch BYTEA
);
CREATE TABLE IF NOT EXISTS nodes (
    level SMALLINT NOT NULL,
    idx BIGINT NOT NULL,
    hash BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
);
CREATE TABLE IF NOT EXISTS checkpoints (
    size BIGINT PRIMARY KEY,
    note TEXT NOT NULL,
    cosignatures INTEGER NOT NULL DEFAULT 0
);
";

const LOOKUP_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS lookup_runs (
    run BIGINT PRIMARY KEY,
    level BIGINT NOT NULL,
    records BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS lookup_keys (
    run BIGINT NOT NULL,
    kind SMALLINT NOT NULL,
    key BIGINT NOT NULL,
    idx BIGINT NOT NULL,
    PRIMARY KEY (run, kind, key, idx)
);
";

/// Entries read at a time when version 1 is upgraded (one run each).
const MIGRATE_CHUNK: i64 = 16_384;

/// A log in a PostgreSQL database (optionally in one schema of it).
pub struct PostgresStore {
    client: Mutex<Client>,
    read_only: bool,
}

impl std::fmt::Debug for PostgresStore {
    /// Never shows the connection string (it may hold a password).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PostgresStore")
    }
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        let corrupt = e.code().is_some_and(|c| {
            c.code().starts_with("XX") || *c == postgres::error::SqlState::DATA_CORRUPTED
        });
        let text = crate::postgres_tls::error_text(&e);
        if corrupt {
            StoreError::Corrupt(text)
        } else {
            StoreError::Backend(text)
        }
    }
}

fn sql_index(i: u64) -> Result<i64, StoreError> {
    i64::try_from(i).map_err(|_| StoreError::Corrupt(format!("index {i} is out of range")))
}

fn to_hash(bytes: &[u8], level: u8, index: u64) -> Result<Hash, StoreError> {
    Hash::from_slice(bytes).ok_or_else(|| {
        StoreError::Corrupt(format!(
            "the hash at level {level}, index {index} is not 32 bytes"
        ))
    })
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user:password@host/db`) and creates the schema.
    /// TLS follows the URL's `sslmode` and `sslrootcert` with libpq's meanings (default
    /// `prefer`; see [`crate::postgres_tls`]); errors show the URL with its password
    /// masked and say which TLS check failed.
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_in_schema(url, None)
    }

    /// Connects and keeps the log's tables in `schema` (created if absent); lets one
    /// database hold several logs, and tests run in isolation. The name must be
    /// lower-case ASCII letters, digits and `_`.
    pub fn connect_in_schema(url: &str, schema: Option<&str>) -> Result<Self, StoreError> {
        let mut client = open_client(url, schema, true)?;
        client.batch_execute("SET synchronous_commit = on")?;
        let mut tx = client.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&APPEND_LOCK])?;
        let has_meta: bool = tx
            .query_one("SELECT to_regclass('meta') IS NOT NULL", &[])?
            .get(0);
        let version: Option<String> = if has_meta {
            tx.query_opt("SELECT value FROM meta WHERE key = 'schema_version'", &[])?
                .map(|r| r.get(0))
        } else {
            None
        };
        match version.as_deref() {
            None => {
                tx.batch_execute(SCHEMA)?;
                tx.batch_execute(LOOKUP_SCHEMA)?;
                tx.execute(
                    "INSERT INTO meta(key, value) VALUES ('schema_version', $1)",
                    &[&SCHEMA_VERSION],
                )?;
            }
            Some(SCHEMA_VERSION) => {}
            Some("1") => migrate_v1(&mut tx)?,
            Some(found) => {
                return Err(StoreError::Schema {
                    found: found.to_owned(),
                    expected: SCHEMA_VERSION.into(),
                });
            }
        }
        tx.commit()?;
        let store = Self {
            client: Mutex::new(client),
            read_only: false,
        };
        store.compact()?;
        Ok(store)
    }

    /// Connects to the log at `url` for reading only; see
    /// [`PostgresStore::connect_read_only_in_schema`].
    pub fn connect_read_only(url: &str) -> Result<Self, StoreError> {
        Self::connect_read_only_in_schema(url, None)
    }

    /// Connects to the log in `schema` (or on the default `search_path`) for reading
    /// only: no DDL (the schema and tables must exist: [`StoreError::NoLog`] otherwise),
    /// no upgrade (an older schema version is [`StoreError::NeedsWriter`], a newer one
    /// [`StoreError::Schema`]), no merge, no lock, and the session set
    /// `default_transaction_read_only = on`. Appends and checkpoint saves are refused
    /// with [`StoreError::ReadOnly`]. TLS as in [`PostgresStore::connect`].
    pub fn connect_read_only_in_schema(
        url: &str,
        schema: Option<&str>,
    ) -> Result<Self, StoreError> {
        let mut client = open_client(url, schema, false)?;
        client.batch_execute("SET default_transaction_read_only = on")?;
        let place = || match schema {
            Some(schema) => format!("{} (schema {schema})", mask_password(url)),
            None => mask_password(url),
        };
        let has_meta: bool = client
            .query_one("SELECT to_regclass('meta') IS NOT NULL", &[])?
            .get(0);
        let version: Option<String> = if has_meta {
            client
                .query_opt("SELECT value FROM meta WHERE key = 'schema_version'", &[])?
                .map(|r| r.get(0))
        } else {
            None
        };
        match version.as_deref() {
            Some(SCHEMA_VERSION) => {}
            None => {
                return Err(StoreError::NoLog(format!(
                    "{} holds no log tables",
                    place()
                )));
            }
            Some(old @ "1") => {
                return Err(StoreError::NeedsWriter(format!(
                    "{} has schema version {old}, and this build reads version {SCHEMA_VERSION}",
                    place()
                )));
            }
            Some(found) => {
                return Err(StoreError::Schema {
                    found: found.to_owned(),
                    expected: SCHEMA_VERSION.into(),
                });
            }
        }
        Ok(Self {
            client: Mutex::new(client),
            read_only: true,
        })
    }

    /// Whether this store was opened read-only.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Whether the server treats this connection's transactions as read-only (`SHOW
    /// transaction_read_only`): true for a reader, whatever the store itself checks.
    pub fn session_read_only(&self) -> Result<bool, StoreError> {
        let row = self.client().query_one("SHOW transaction_read_only", &[])?;
        Ok(row.get::<_, String>(0) == "on")
    }

    /// Refuses a write through a read-only store.
    fn writable(&self, what: &'static str) -> Result<(), StoreError> {
        match self.read_only {
            true => Err(StoreError::ReadOnly(what)),
            false => Ok(()),
        }
    }

    /// The runs of the look-up index (for tests and diagnostics).
    pub fn lookup_runs(&self) -> Result<Vec<Run>, StoreError> {
        let mut client = self.client();
        let mut tx = client.transaction()?;
        read_runs(&mut tx)
    }

    /// Merges runs of the look-up index while a level holds `MERGE_FANOUT` of them, one
    /// transaction per merge, under the append lock.
    fn compact(&self) -> Result<(), StoreError> {
        let mut client = self.client();
        loop {
            let mut tx = client.transaction()?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&APPEND_LOCK])?;
            let runs = read_runs(&mut tx)?;
            let levels: Vec<i64> = runs.iter().map(|r| r.level).collect();
            let Some(n) = plan_merge(&levels) else {
                return Ok(());
            };
            let picked = &runs[runs.len() - n..];
            let records: i64 = picked.iter().map(|r| r.records).sum();
            let ids: Vec<i64> = picked.iter().map(|r| r.run).collect();
            let run = next_run(&mut tx)?;
            tx.execute(
                "INSERT INTO lookup_runs(run, level, records) VALUES ($1, $2, $3)",
                &[&run, &run_level(records as u64), &records],
            )?;
            tx.execute(
                "INSERT INTO lookup_keys(run, kind, key, idx)
                 SELECT $1, kind, key, idx FROM lookup_keys WHERE run = ANY($2)
                 ORDER BY kind, key, idx",
                &[&run, &ids],
            )?;
            tx.execute("DELETE FROM lookup_keys WHERE run = ANY($1)", &[&ids])?;
            tx.execute("DELETE FROM lookup_runs WHERE run = ANY($1)", &[&ids])?;
            tx.commit()?;
        }
    }

    fn client(&self) -> MutexGuard<'_, Client> {
        // A panic while holding the lock cannot leave the client half-used in a way
        // that matters: every operation is its own statement or transaction.
        self.client.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Connects to `url` and sets the `search_path` to `schema` (which a writer creates if
/// absent, `create`); the name must be lower-case ASCII letters, digits and `_`.
fn open_client(url: &str, schema: Option<&str>, create: bool) -> Result<Client, StoreError> {
    let target = Target::parse(url)?;
    let mut client = target
        .config
        .connect(target.connector()?)
        .map_err(|e| target.explain(&e))?;
    if let Some(schema) = schema {
        let valid = !schema.is_empty()
            && schema
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !valid {
            return Err(StoreError::Backend(format!(
                "`{schema}` is not a valid schema name"
            )));
        }
        if create {
            client.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))?;
        }
        client.batch_execute(&format!("SET search_path TO {schema}"))?;
    }
    Ok(client)
}

/// The rows one append writes, gathered in memory so that each table gets one
/// multi-row `INSERT … SELECT FROM unnest(…)` (one round trip) instead of one per row.
#[derive(Default)]
struct Rows {
    idx: Vec<i64>,
    data: Vec<Vec<u8>>,
    content_hash: Vec<Option<Vec<u8>>>,
    key_id: Vec<Option<String>>,
    payload: Vec<Option<String>>,
    generation_id: Vec<Option<String>>,
    sketch: Vec<Option<Vec<u8>>>,
    node_level: Vec<i16>,
    node_idx: Vec<i64>,
    node_hash: Vec<Vec<u8>>,
    keys: Vec<KeyRow>,
    records: u64,
}

impl Rows {
    /// Computes every row for `entries` appended at `first`; reads back only the left
    /// siblings that earlier batches wrote.
    fn build(
        tx: &mut Transaction<'_>,
        first: u64,
        entries: &[NewEntry],
    ) -> Result<Self, StoreError> {
        let read = tx.prepare("SELECT hash FROM nodes WHERE level = $1 AND idx = $2")?;
        let mut fresh: HashMap<(u8, u64), Hash> = HashMap::new();
        let mut rows = Rows::default();
        for (i, entry) in entries.iter().enumerate() {
            let index = first + i as u64;
            if entry.data.len() > MAX_ENTRY_BYTES {
                return Err(StoreError::EntryTooLarge {
                    index,
                    size: entry.data.len(),
                });
            }
            let idx = sql_index(index)?;
            rows.push_entry(idx, entry);
            let leaf = leaf_hash(&entry.data);
            let nodes = completed_subtrees(index, leaf, |level, i| {
                if let Some(h) = fresh.get(&(level, i)) {
                    return Ok(*h);
                }
                match tx.query_opt(&read, &[&i16::from(level), &sql_index(i)?])? {
                    None => Err(StoreError::Proof(ProofError::MissingHash {
                        level,
                        index: i,
                    })),
                    Some(r) => to_hash(r.get::<_, &[u8]>(0), level, i),
                }
            })?;
            for (level, i, hash) in nodes {
                rows.node_level.push(i16::from(level));
                rows.node_idx.push(sql_index(i)?);
                rows.node_hash.push(hash.0.to_vec());
                fresh.insert((level, i), hash);
            }
        }
        Ok(rows)
    }

    fn push_entry(&mut self, idx: i64, entry: &NewEntry) {
        let k = &entry.keys;
        self.idx.push(idx);
        self.data.push(entry.data.clone());
        self.content_hash
            .push(k.content_hash.as_ref().map(|h| h.as_bytes().to_vec()));
        self.key_id
            .push(k.key_id.as_ref().map(|id| id.as_str().to_owned()));
        self.payload.push(k.payload.as_ref().map(payload_key));
        self.generation_id.push(k.generation_id.clone());
        self.sketch
            .push(k.sketch.as_ref().map(TextSketch::to_bytes));
        self.records += u64::from(key_rows(k, idx, &mut self.keys));
    }

    fn insert(&mut self, tx: &mut Transaction<'_>) -> Result<(), StoreError> {
        tx.execute(
            "INSERT INTO entries(idx, data, content_hash, key_id, payload, generation_id, sketch)
             SELECT * FROM unnest($1::BIGINT[], $2::BYTEA[], $3::BYTEA[], $4::TEXT[],
                                  $5::TEXT[], $6::TEXT[], $7::BYTEA[])",
            &[
                &self.idx,
                &self.data,
                &self.content_hash,
                &self.key_id,
                &self.payload,
                &self.generation_id,
                &self.sketch,
            ],
        )?;
        tx.execute(
            "INSERT INTO nodes(level, idx, hash)
             SELECT * FROM unnest($1::SMALLINT[], $2::BIGINT[], $3::BYTEA[])",
            &[&self.node_level, &self.node_idx, &self.node_hash],
        )?;
        insert_run(tx, &mut self.keys, self.records)
    }
}

fn read_runs(tx: &mut Transaction<'_>) -> Result<Vec<Run>, StoreError> {
    Ok(tx
        .query(
            "SELECT run, level, records FROM lookup_runs ORDER BY run",
            &[],
        )?
        .iter()
        .map(|r| Run {
            run: r.get(0),
            level: r.get(1),
            records: r.get(2),
        })
        .collect())
}

/// A run number larger than every run's.
fn next_run(tx: &mut Transaction<'_>) -> Result<i64, StoreError> {
    Ok(tx
        .query_one("SELECT COALESCE(MAX(run), 0) + 1 FROM lookup_runs", &[])?
        .get(0))
}

/// Writes `rows` (of `records` entries) as a new run, in key order (one statement).
fn insert_run(
    tx: &mut Transaction<'_>,
    rows: &mut [KeyRow],
    records: u64,
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    rows.sort_unstable();
    let run = next_run(tx)?;
    tx.execute(
        "INSERT INTO lookup_runs(run, level, records) VALUES ($1, $2, $3)",
        &[&run, &run_level(records), &(records as i64)],
    )?;
    let kinds: Vec<i16> = rows.iter().map(|r| r.0).collect();
    let keys: Vec<i64> = rows.iter().map(|r| r.1).collect();
    let idxs: Vec<i64> = rows.iter().map(|r| r.2).collect();
    tx.execute(
        "INSERT INTO lookup_keys(run, kind, key, idx)
         SELECT $1, * FROM unnest($2::SMALLINT[], $3::BIGINT[], $4::BIGINT[])",
        &[&run, &kinds, &keys, &idxs],
    )?;
    Ok(())
}

/// Upgrades a version 1 schema inside `tx` (see the SQLite backend's `migrate_v1`).
fn migrate_v1(tx: &mut Transaction<'_>) -> Result<(), StoreError> {
    tx.batch_execute(
        "DROP INDEX IF EXISTS entries_content_hash;
         DROP INDEX IF EXISTS entries_payload;
         DROP INDEX IF EXISTS entries_generation_id;
         DROP TABLE IF EXISTS lsh;
         ALTER TABLE checkpoints ADD COLUMN IF NOT EXISTS cosignatures INTEGER NOT NULL DEFAULT 0;",
    )?;
    tx.batch_execute(LOOKUP_SCHEMA)?;
    let mut start = 0i64;
    loop {
        let found = tx.query(
            "SELECT idx, content_hash, payload, generation_id, sketch FROM entries
             WHERE idx >= $1 ORDER BY idx LIMIT $2",
            &[&start, &MIGRATE_CHUNK],
        )?;
        let Some(last) = found.last().map(|r| r.get::<_, i64>(0)) else {
            break;
        };
        let mut rows = Vec::new();
        let mut records = 0u64;
        for r in &found {
            let idx: i64 = r.get(0);
            let sketch = r
                .get::<_, Option<&[u8]>>(4)
                .map(|b| {
                    TextSketch::from_bytes(b).ok_or_else(|| {
                        StoreError::Corrupt(format!("entry {idx} has an invalid sketch"))
                    })
                })
                .transpose()?;
            records += u64::from(stored_key_rows(
                r.get::<_, Option<&[u8]>>(1),
                r.get::<_, Option<&str>>(2),
                r.get::<_, Option<&str>>(3),
                sketch.as_ref(),
                idx,
                &mut rows,
            ));
        }
        insert_run(tx, &mut rows, records)?;
        start = last + 1;
    }
    tx.execute(
        "UPDATE meta SET value = $1 WHERE key = 'schema_version'",
        &[&SCHEMA_VERSION],
    )?;
    Ok(())
}

impl LogStore for PostgresStore {
    fn size(&self) -> Result<u64, StoreError> {
        let row = self
            .client()
            .query_one("SELECT MAX(idx) FROM entries", &[])?;
        Ok(row.get::<_, Option<i64>>(0).map_or(0, |m| m as u64 + 1))
    }

    fn append(&mut self, entries: &[NewEntry]) -> Result<u64, StoreError> {
        self.writable("append entries")?;
        let mut client = self.client();
        let mut tx = client.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&APPEND_LOCK])?;
        let max: Option<i64> = tx.query_one("SELECT MAX(idx) FROM entries", &[])?.get(0);
        let first = max.map_or(0, |m| m as u64 + 1);
        Rows::build(&mut tx, first, entries)?.insert(&mut tx)?;
        tx.commit()?;
        drop(client);
        // Acknowledged; merging runs is housekeeping in transactions of its own.
        self.compact()?;
        Ok(first)
    }

    fn stored_hash(&self, level: u8, index: u64) -> Result<Hash, StoreError> {
        let row = self.client().query_opt(
            "SELECT hash FROM nodes WHERE level = $1 AND idx = $2",
            &[&i16::from(level), &sql_index(index)?],
        )?;
        match row {
            None => Err(ProofError::MissingHash { level, index }.into()),
            Some(r) => to_hash(r.get::<_, &[u8]>(0), level, index),
        }
    }

    fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        let rows = self.client().query(
            "SELECT idx, data FROM entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
            &[&sql_index(start)?, &sql_index(end)?],
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for (expected, row) in (start..).zip(rows) {
            if row.get::<_, i64>(0) as u64 != expected {
                return Err(StoreError::Corrupt(format!("entry {expected} is missing")));
            }
            out.push(row.get(1));
        }
        Ok(out)
    }

    fn lookup(&self, query: &Lookup) -> Result<Vec<u64>, StoreError> {
        let (kind, key) = lookup_key(query);
        const FROM: &str =
            "SELECT DISTINCT e.idx FROM lookup_keys k JOIN entries e ON e.idx = k.idx
             WHERE k.run = ANY(ARRAY(SELECT run FROM lookup_runs)) AND k.kind = $1 AND k.key = $2";
        let mut client = self.client();
        let rows = match query {
            Lookup::ContentHash(h) => client.query(
                &format!("{FROM} AND e.content_hash = $3 ORDER BY e.idx"),
                &[&kind, &key, &h.as_bytes().as_slice()],
            )?,
            Lookup::Payload { payload, key_id } => client.query(
                &format!(
                    "{FROM} AND e.payload = $3 AND ($4::TEXT IS NULL OR e.key_id = $4) ORDER BY e.idx"
                ),
                &[
                    &kind,
                    &key,
                    &payload_key(payload),
                    &key_id.as_ref().map(|k| k.as_str()),
                ],
            )?,
            Lookup::GenerationId(id) => client.query(
                &format!("{FROM} AND e.generation_id = $3 ORDER BY e.idx"),
                &[&kind, &key, id],
            )?,
        };
        Ok(rows.iter().map(|r| r.get::<_, i64>(0) as u64).collect())
    }

    fn similar_candidates(
        &self,
        sketch: &TextSketch,
    ) -> Result<Vec<(u64, TextSketch)>, StoreError> {
        let buckets = lsh_buckets(sketch);
        let bands: Vec<i16> = (0..buckets.len() as i16).collect();
        let rows = self.client().query(
            "SELECT DISTINCT e.idx, e.sketch
             FROM unnest($1::SMALLINT[], $2::BIGINT[]) AS q(kind, key)
             JOIN lookup_keys k ON k.kind = q.kind AND k.key = q.key
                               AND k.run = ANY(ARRAY(SELECT run FROM lookup_runs))
             JOIN entries e ON e.idx = k.idx
             ORDER BY e.idx",
            &[&bands, &buckets.to_vec()],
        )?;
        rows.iter()
            .map(|r| {
                let idx: i64 = r.get(0);
                let bytes: Option<&[u8]> = r.get(1);
                let sketch = bytes.and_then(TextSketch::from_bytes).ok_or_else(|| {
                    StoreError::Corrupt(format!("entry {idx} has no valid sketch"))
                })?;
                Ok((idx as u64, sketch))
            })
            .collect()
    }

    fn save_checkpoint(&mut self, size: u64, note: &str) -> Result<(), StoreError> {
        self.writable("save a checkpoint")?;
        self.client().execute(
            // A checkpoint of this size already kept stays as it is, with its
            // cosignatures (see `LogStore::save_checkpoint`).
            "INSERT INTO checkpoints(size, note, cosignatures) VALUES ($1, $2, 0)
             ON CONFLICT (size) DO NOTHING",
            &[&sql_index(size)?, &note],
        )?;
        Ok(())
    }

    fn latest_checkpoint(&self) -> Result<Option<String>, StoreError> {
        Ok(self
            .client()
            .query_opt(
                "SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1",
                &[],
            )?
            .map(|r| r.get(0)))
    }

    fn checkpoint_at(&self, size: u64) -> Result<Option<String>, StoreError> {
        Ok(self
            .client()
            .query_opt(
                "SELECT note FROM checkpoints WHERE size = $1",
                &[&sql_index(size)?],
            )?
            .map(|r| r.get(0)))
    }

    fn replace_checkpoint(
        &mut self,
        size: u64,
        old: &str,
        new: &str,
        cosignatures: usize,
    ) -> Result<bool, StoreError> {
        self.writable("replace a checkpoint")?;
        let changed = self.client().execute(
            "UPDATE checkpoints SET note = $3, cosignatures = $4 WHERE size = $1 AND note = $2",
            &[&sql_index(size)?, &old, &new, &(cosignatures as i32)],
        )?;
        Ok(changed == 1)
    }

    fn latest_cosigned_checkpoint(&self, min: usize) -> Result<Option<String>, StoreError> {
        Ok(self
            .client()
            .query_opt(
                "SELECT note FROM checkpoints WHERE cosignatures >= $1 ORDER BY size DESC LIMIT 1",
                &[&(min as i32)],
            )?
            .map(|r| r.get(0)))
    }
}
