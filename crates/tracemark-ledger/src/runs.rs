//! The look-up runs of the SQLite backend, as immutable sorted files beside the database.
//!
//! A run holds the look-up rows `(kind, key, idx)` of a contiguous range of entries (see
//! [`crate::store`]), sorted, as fixed-width rows of [`ROW_BYTES`] bytes: `kind` (u8),
//! `key` (i64) and `idx` (i64), big-endian, and nothing else. The database's
//! `lookup_runs` row of a run (its range, row count and checksum) is what makes it live:
//! the set of live runs is whatever the last committed transaction says, and a file no
//! row names is an orphan, deleted when the log is next opened. A file is written under a
//! temporary name and renamed into place, and is never changed afterwards; one that is
//! missing, of the wrong length or with the wrong checksum is rebuilt from the entries'
//! key columns, which stay the source of truth.
//!
//! Why files: merging runs is a sequential k-way merge of sorted files (about a
//! microsecond per record and level), where rewriting the rows through SQL `INSERT …
//! SELECT` and `DELETE` cost about 54 µs per record and level and halved the append rate.
//!
//! A look-up reads a run with positioned reads: an in-memory fence of every
//! [`FENCE_ROWS`]th row's key (built when the file is written or verified) narrows a
//! search to one block of about 2 kB.

use std::{
    cell::RefCell,
    cmp::Reverse,
    collections::{BinaryHeap, HashMap},
    fs::{File, OpenOptions},
    io::{self, BufWriter, Write},
    path::{Path, PathBuf},
};

use crate::store::{KeyRow, StoreError};

/// The bytes of one row: kind (1), key (8), idx (8).
pub const ROW_BYTES: usize = 17;

/// One fence entry (the key of a row) per this many rows.
pub const FENCE_ROWS: usize = 128;

/// Rows read at a time when a run is read sequentially (verified or merged).
const READ_ROWS: usize = 4096;

/// Bytes buffered when a run is written.
const WRITE_BUFFER: usize = 1 << 20;

/// What the database records of a run's file: enough to tell a damaged file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunInfo {
    pub rows: u64,
    pub checksum: u64,
}

/// A run file that cannot be used as the database describes it, or an I/O failure.
#[derive(Debug)]
pub enum RunError {
    /// Missing, truncated or altered: rebuild it from the entries.
    Damaged(String),
    Io(io::Error),
}

impl From<io::Error> for RunError {
    fn from(e: io::Error) -> Self {
        RunError::Io(e)
    }
}

impl From<RunError> for StoreError {
    fn from(e: RunError) -> Self {
        match e {
            RunError::Damaged(why) => StoreError::Corrupt(why),
            RunError::Io(e) => io_error(e),
        }
    }
}

/// An I/O failure on the run files, as a store error.
pub fn io_error(e: io::Error) -> StoreError {
    StoreError::Backend(format!("the look-up run files could not be used: {e}"))
}

fn encode(&(kind, key, idx): &KeyRow, out: &mut Vec<u8>) {
    // Kinds are 0–34 (32 LSH bands and three exact kinds), so one byte holds them.
    out.push(kind as u8);
    out.extend_from_slice(&key.to_be_bytes());
    out.extend_from_slice(&idx.to_be_bytes());
}

fn decode(b: &[u8]) -> KeyRow {
    let word = |at: usize| i64::from_be_bytes(b[at..at + 8].try_into().expect("8 bytes"));
    (i16::from(b[0]), word(1), word(9))
}

/// A checksum of a run's rows. Not cryptographic: it detects damage, and every step is
/// a bijection of the state for a given row, so a change to any one row always changes
/// it (the file's length is checked separately).
#[derive(Debug, Clone, Copy, Default)]
struct Checksum(u64);

impl Checksum {
    fn add(&mut self, &(kind, key, idx): &KeyRow) {
        for word in [kind as u64, key as u64, idx as u64] {
            self.0 = (self.0 ^ word)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .rotate_left(31);
        }
    }
}

/// The bytes of a run: a file, or memory for an in-memory log.
#[derive(Debug)]
enum Bytes {
    File(File),
    Memory(Vec<u8>),
}

impl Bytes {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        match self {
            Bytes::File(f) => read_exact_at(f, buf, offset),
            Bytes::Memory(v) => {
                let start = usize::try_from(offset).map_err(io::Error::other)?;
                let src = v
                    .get(start..start + buf.len())
                    .ok_or(io::ErrorKind::UnexpectedEof)?;
                buf.copy_from_slice(src);
                Ok(())
            }
        }
    }

    fn len(&self) -> io::Result<u64> {
        match self {
            Bytes::File(f) => Ok(f.metadata()?.len()),
            Bytes::Memory(v) => Ok(v.len() as u64),
        }
    }
}

#[cfg(unix)]
fn read_exact_at(f: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(f, buf, offset)
}

#[cfg(windows)]
fn read_exact_at(f: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    while !buf.is_empty() {
        match std::os::windows::fs::FileExt::seek_read(f, buf, offset)? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
        }
    }
    Ok(())
}

/// A run ready for look-ups: its bytes and the fence over them.
#[derive(Debug)]
struct Loaded {
    info: RunInfo,
    bytes: Bytes,
    /// The `(kind, key)` of rows 0, `FENCE_ROWS`, 2·`FENCE_ROWS`, …
    fence: Vec<(i16, i64)>,
}

impl Loaded {
    /// Reads the file of a run, checking its length and checksum against `info`.
    fn verify(bytes: Bytes, info: RunInfo) -> Result<Self, RunError> {
        let len = bytes.len()?;
        if len != info.rows * ROW_BYTES as u64 {
            return Err(RunError::Damaged(format!(
                "it has {len} bytes instead of {}",
                info.rows * ROW_BYTES as u64
            )));
        }
        let mut fence = Vec::new();
        let mut rows = Rows::new(&bytes, info.rows);
        let mut n = 0usize;
        while let Some(row) = rows.next_row()? {
            if n.is_multiple_of(FENCE_ROWS) {
                fence.push((row.0, row.1));
            }
            n += 1;
        }
        if rows.checksum.0 != info.checksum {
            return Err(RunError::Damaged("its checksum does not match".into()));
        }
        Ok(Self { info, bytes, fence })
    }

    /// Appends the `idx` of every row with this kind and key.
    fn find(&self, kind: i16, key: i64, out: &mut Vec<i64>) -> io::Result<()> {
        let target = (kind, key);
        // The first match is in the last block that starts below the target, or in the
        // first block if none does.
        let mut block = self
            .fence
            .partition_point(|f| *f < target)
            .saturating_sub(1);
        let mut buf = vec![0u8; FENCE_ROWS * ROW_BYTES];
        while (block * FENCE_ROWS) < self.info.rows as usize {
            let start = block * FENCE_ROWS;
            let count = FENCE_ROWS.min(self.info.rows as usize - start);
            let buf = &mut buf[..count * ROW_BYTES];
            self.bytes.read_at(buf, (start * ROW_BYTES) as u64)?;
            for row in buf.chunks_exact(ROW_BYTES).map(decode) {
                match (row.0, row.1).cmp(&target) {
                    std::cmp::Ordering::Less => {}
                    std::cmp::Ordering::Equal => out.push(row.2),
                    std::cmp::Ordering::Greater => return Ok(()),
                }
            }
            block += 1;
        }
        Ok(())
    }
}

/// Reads the rows of a run in order, summing their checksum.
struct Rows<'a> {
    bytes: &'a Bytes,
    total: u64,
    read: u64,
    buf: Vec<u8>,
    pos: usize,
    checksum: Checksum,
}

impl<'a> Rows<'a> {
    fn new(bytes: &'a Bytes, total: u64) -> Self {
        Self {
            bytes,
            total,
            read: 0,
            buf: Vec::new(),
            pos: 0,
            checksum: Checksum::default(),
        }
    }

    fn next_row(&mut self) -> io::Result<Option<KeyRow>> {
        if self.pos == self.buf.len() {
            let count = (self.total - self.read).min(READ_ROWS as u64) as usize;
            if count == 0 {
                return Ok(None);
            }
            self.buf.resize(count * ROW_BYTES, 0);
            self.bytes
                .read_at(&mut self.buf, self.read * ROW_BYTES as u64)?;
            self.read += count as u64;
            self.pos = 0;
        }
        let row = decode(&self.buf[self.pos..self.pos + ROW_BYTES]);
        self.pos += ROW_BYTES;
        self.checksum.add(&row);
        Ok(Some(row))
    }
}

/// Writes a run's rows (in key order), keeping its count, checksum and fence.
struct Writer {
    out: Out,
    buf: Vec<u8>,
    info: RunInfo,
    checksum: Checksum,
    fence: Vec<(i16, i64)>,
}

enum Out {
    /// A file being written under a temporary name (`None`: already unlinked).
    File(BufWriter<File>, Option<PathBuf>),
    Memory(Vec<u8>),
}

impl Writer {
    fn new(out: Out) -> Self {
        Self {
            out,
            buf: Vec::with_capacity(ROW_BYTES),
            info: RunInfo {
                rows: 0,
                checksum: 0,
            },
            checksum: Checksum::default(),
            fence: Vec::new(),
        }
    }

    fn push(&mut self, row: &KeyRow) -> io::Result<()> {
        if (self.info.rows as usize).is_multiple_of(FENCE_ROWS) {
            self.fence.push((row.0, row.1));
        }
        self.buf.clear();
        encode(row, &mut self.buf);
        match &mut self.out {
            Out::File(w, _) => w.write_all(&self.buf)?,
            Out::Memory(v) => v.extend_from_slice(&self.buf),
        }
        self.checksum.add(row);
        self.info.rows += 1;
        Ok(())
    }

    /// Finishes the run; a file is synced first if `durable`, and renamed to `path`.
    fn finish(self, path: Option<&Path>, durable: bool) -> io::Result<Loaded> {
        let info = RunInfo {
            checksum: self.checksum.0,
            ..self.info
        };
        let bytes = match self.out {
            Out::Memory(v) => Bytes::Memory(v),
            Out::File(w, tmp) => {
                let file = w.into_inner().map_err(io::IntoInnerError::into_error)?;
                if durable {
                    file.sync_all()?;
                }
                if let (Some(tmp), Some(path)) = (tmp, path) {
                    std::fs::rename(tmp, path)?;
                    if durable {
                        sync_dir(path.parent().expect("a run file is in a directory"))?;
                    }
                }
                Bytes::File(file)
            }
        };
        Ok(Loaded {
            info,
            bytes,
            fence: self.fence,
        })
    }
}

/// Makes a rename or a new file in `dir` durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Sorted rows in a scratch file (or memory): what [`RunFiles::merge_chunks`] merges.
#[derive(Debug)]
pub struct Chunk(Loaded);

/// The run files of one log: a directory beside the database (`<database>-runs/`,
/// one `<run>.run` per live run), or memory for an in-memory log; and the runs this
/// process has verified, ready for look-ups.
#[derive(Debug)]
pub struct RunFiles {
    dir: Option<PathBuf>,
    loaded: RefCell<HashMap<i64, Loaded>>,
}

impl RunFiles {
    /// The run files beside the database at `db` (the directory is created if absent).
    pub fn beside(db: &Path) -> io::Result<Self> {
        let mut name = db.file_name().unwrap_or_default().to_owned();
        name.push("-runs");
        let dir = db.with_file_name(name);
        std::fs::create_dir_all(&dir)?;
        Ok(Self {
            dir: Some(dir),
            loaded: RefCell::default(),
        })
    }

    /// Runs kept in memory, for an in-memory log.
    pub fn in_memory() -> Self {
        Self {
            dir: None,
            loaded: RefCell::default(),
        }
    }

    /// The file of a live run.
    pub fn path(&self, run: i64) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join(format!("{run}.run")))
    }

    /// A writer to a temporary file named `tmp` in the directory (memory if none).
    fn writer(&self, tmp: &str, keep_name: bool) -> io::Result<Writer> {
        let Some(dir) = &self.dir else {
            return Ok(Writer::new(Out::Memory(Vec::new())));
        };
        let path = dir.join(tmp);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)?;
        let name = if keep_name {
            Some(path)
        } else {
            // A scratch file lives only as long as its handle.
            std::fs::remove_file(&path)?;
            None
        };
        Ok(Writer::new(Out::File(
            BufWriter::with_capacity(WRITE_BUFFER, file),
            name,
        )))
    }

    /// Writes `rows` (sorted) as the file of `run` and keeps it ready for look-ups. A
    /// `durable` file is on disk before this returns; otherwise a crash of the machine
    /// (not of the process) may lose it, and it is rebuilt when the log is next opened.
    pub fn write(&self, run: i64, rows: &[KeyRow], durable: bool) -> io::Result<RunInfo> {
        let mut w = self.writer(&format!("{run}.tmp"), true)?;
        for row in rows {
            w.push(row)?;
        }
        self.install(run, w, durable)
    }

    fn install(&self, run: i64, w: Writer, durable: bool) -> io::Result<RunInfo> {
        let loaded = w.finish(self.path(run).as_deref(), durable)?;
        let info = loaded.info;
        self.loaded.borrow_mut().insert(run, loaded);
        Ok(info)
    }

    /// Sorts `rows` into a scratch chunk for [`RunFiles::merge_chunks`] (an unlinked
    /// file, so that a large run is built from the entries in bounded memory).
    pub fn chunk(&self, rows: &mut [KeyRow]) -> io::Result<Chunk> {
        rows.sort_unstable();
        let mut w = self.writer("chunk.tmp", false)?;
        for row in rows.iter() {
            w.push(row)?;
        }
        Ok(Chunk(w.finish(None, false)?))
    }

    /// Merges chunks into the durable file of `run`.
    pub fn merge_chunks(&self, run: i64, chunks: &[Chunk]) -> io::Result<RunInfo> {
        let sources: Vec<&Loaded> = chunks.iter().map(|c| &c.0).collect();
        let w = match self.merge_into(run, &sources) {
            Ok(w) => w,
            Err(RunError::Io(e)) => return Err(e),
            Err(RunError::Damaged(why)) => return Err(io::Error::other(why)),
        };
        self.install(run, w, true)
    }

    /// Merges the loaded runs `inputs` into the durable file of `run`, checking each
    /// input's checksum as it is read (a damaged input fails the merge).
    pub fn merge(&self, run: i64, inputs: &[i64]) -> Result<RunInfo, RunError> {
        let loaded = self.loaded.borrow();
        let sources = inputs
            .iter()
            .map(|r| {
                loaded
                    .get(r)
                    .ok_or_else(|| RunError::Damaged(format!("run {r} is not loaded")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let w = self.merge_into(run, &sources)?;
        drop(loaded);
        Ok(self.install(run, w, true)?)
    }

    /// The k-way merge: one sequential pass over each source, one sequential write (to
    /// be installed by the caller).
    fn merge_into(&self, run: i64, sources: &[&Loaded]) -> Result<Writer, RunError> {
        let mut w = self.writer(&format!("{run}.tmp"), true)?;
        let mut readers: Vec<Rows> = sources
            .iter()
            .map(|s| Rows::new(&s.bytes, s.info.rows))
            .collect();
        let mut heap = BinaryHeap::new();
        for (i, r) in readers.iter_mut().enumerate() {
            if let Some(row) = r.next_row()? {
                heap.push(Reverse((row, i)));
            }
        }
        while let Some(Reverse((row, i))) = heap.pop() {
            w.push(&row)?;
            if let Some(next) = readers[i].next_row()? {
                heap.push(Reverse((next, i)));
            }
        }
        if let Some(i) =
            (0..sources.len()).find(|&i| readers[i].checksum.0 != sources[i].info.checksum)
        {
            return Err(RunError::Damaged(format!(
                "merge input {i} does not match its checksum"
            )));
        }
        Ok(w)
    }

    /// Makes `run` ready for look-ups: verifies its file against `info` unless this
    /// process has it loaded already (written or verified) with the same checksum.
    pub fn load(&self, run: i64, info: RunInfo) -> Result<(), RunError> {
        if self
            .loaded
            .borrow()
            .get(&run)
            .is_some_and(|l| l.info == info)
        {
            return Ok(());
        }
        let Some(path) = self.path(run) else {
            return Err(RunError::Damaged(format!("run {run} is not in memory")));
        };
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(RunError::Damaged(format!("{} is missing", path.display())));
            }
            Err(e) => return Err(e.into()),
        };
        let loaded = Loaded::verify(Bytes::File(file), info).map_err(|e| match e {
            RunError::Damaged(why) => RunError::Damaged(format!("{}: {why}", path.display())),
            e => e,
        })?;
        self.loaded.borrow_mut().insert(run, loaded);
        Ok(())
    }

    /// Appends the `idx` of every row with this kind and key in the (loaded) `runs`.
    pub fn find(&self, runs: &[i64], kind: i16, key: i64, out: &mut Vec<i64>) -> io::Result<()> {
        let loaded = self.loaded.borrow();
        for run in runs {
            let l = loaded
                .get(run)
                .ok_or_else(|| io::Error::other(format!("run {run} is not loaded")))?;
            l.find(kind, key, out)?;
        }
        Ok(())
    }

    /// Forgets runs that were merged away and deletes their files.
    pub fn remove(&self, runs: &[i64]) -> io::Result<()> {
        for run in runs {
            self.loaded.borrow_mut().remove(run);
            if let Some(path) = self.path(*run) {
                remove_if_present(&path)?;
            }
        }
        Ok(())
    }

    /// Deletes every file of the directory that is not the file of a `live` run: the
    /// output of a merge that crashed before it was recorded, the inputs of one that
    /// crashed before deleting them, temporary files. Call it only under the database's
    /// write lock (every run file is written under it), so no other process is writing.
    /// Returns the names deleted.
    pub fn remove_others(&self, live: &[i64]) -> io::Result<Vec<String>> {
        self.loaded.borrow_mut().retain(|run, _| live.contains(run));
        let Some(dir) = &self.dir else {
            return Ok(Vec::new());
        };
        let mut removed = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            let is_live = name
                .strip_suffix(".run")
                .and_then(|n| n.parse::<i64>().ok())
                .is_some_and(|run| live.contains(&run));
            let ours = name.ends_with(".run") || name.ends_with(".tmp");
            if ours && !is_live {
                removed.push(name.into_owned());
                remove_if_present(&path)?;
            }
        }
        removed.sort();
        Ok(removed)
    }
}

fn remove_if_present(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(seed: i64, n: i64) -> Vec<KeyRow> {
        let mut v: Vec<KeyRow> = (0..n)
            .map(|i| {
                (
                    ((i * 7 + seed) % 35) as i16,
                    (i * 7919 + seed) % 97 - 48,
                    i + seed * 1000,
                )
            })
            .collect();
        v.sort_unstable();
        v
    }

    fn find_all(files: &RunFiles, runs: &[i64], all: &[KeyRow]) {
        for &(kind, key, _) in all {
            let mut found = Vec::new();
            files.find(runs, kind, key, &mut found).unwrap();
            found.sort_unstable();
            let mut expected: Vec<i64> = all
                .iter()
                .filter(|r| (r.0, r.1) == (kind, key))
                .map(|r| r.2)
                .collect();
            expected.sort_unstable();
            assert_eq!(found, expected, "kind {kind} key {key}");
        }
        let mut none = Vec::new();
        files.find(runs, 200, 0, &mut none).unwrap();
        files.find(runs, -1, 0, &mut none).unwrap();
        assert!(none.is_empty());
    }

    #[test]
    fn runs_written_merged_and_reloaded_find_every_row() {
        let dir = tempfile::tempdir().unwrap();
        for files in [
            RunFiles::beside(&dir.path().join("log.db")).unwrap(),
            RunFiles::in_memory(),
        ] {
            let (a, b) = (rows(1, 1000), rows(2, 333));
            files.write(1, &a, false).unwrap();
            files.write(2, &b, false).unwrap();
            let all = [a, b].concat();
            find_all(&files, &[1, 2], &all);
            let info = files.merge(3, &[1, 2]).unwrap();
            assert_eq!(info.rows, all.len() as u64);
            files.remove(&[1, 2]).unwrap();
            find_all(&files, &[3], &all);
            if files.dir.is_some() {
                // Verified from the file, as another process (or a reopened log) would.
                files.loaded.borrow_mut().clear();
                files.load(3, info).unwrap();
                find_all(&files, &[3], &all);
                let wrong = RunInfo {
                    checksum: info.checksum ^ 1,
                    ..info
                };
                files.loaded.borrow_mut().clear();
                assert!(matches!(files.load(3, wrong), Err(RunError::Damaged(_))));
            }
            let chunks = [
                files.chunk(&mut all[..700].to_vec()).unwrap(),
                files.chunk(&mut all[700..].to_vec()).unwrap(),
            ];
            assert_eq!(files.merge_chunks(4, &chunks).unwrap(), info);
        }
    }
}
