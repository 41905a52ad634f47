//! The look-up runs of the SQLite backend, as immutable sorted files beside the database.
//!
//! A run holds the look-up rows `(kind, key, idx)` of a contiguous range of entries (see
//! [`crate::store`]), sorted, as fixed-width rows of [`ROW_BYTES`] bytes: `kind` (u8),
//! `key` (i64) and `idx` (i64), big-endian. The rows are cut into blocks of
//! [`BLOCK_ROWS`]; after them comes a footer of one entry per block, laid out like a row:
//! the `kind` and `key` of the block's first row and a 64-bit checksum of the block's
//! rows. The database's `lookup_runs` row of a run (its range, row count and the
//! checksum of the footer) is what makes it live: the set of live runs is whatever the
//! last committed transaction says, and a file no row names is an orphan, deleted when
//! the log is next opened. A file is written under a temporary name and renamed into
//! place, and is never changed afterwards.
//!
//! Damage is found in two steps, so that opening a log reads only the footers (1/129 of
//! the files): opening checks each file's length and footer, and every block is checked
//! against its checksum when it is read (by a look-up or a merge). A run that fails
//! either check is rebuilt from the entries' key columns, which stay the source of
//! truth.
//!
//! Why files: merging runs is a sequential k-way merge of sorted files, where rewriting
//! the rows through SQL `INSERT … SELECT` and `DELETE` cost about 54 µs per record and
//! level and halved the append rate. A look-up binary-searches the footer (kept in
//! memory) and reads one block of about 2 kB per run with a positioned read.

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

/// Rows per block: the unit a look-up reads and a checksum covers.
pub const BLOCK_ROWS: usize = 128;

/// Blocks read at a time when a run is read sequentially (verified or merged).
const READ_BLOCKS: usize = 32;

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

/// A block of [`BLOCK_ROWS`] rows (fewer in the last): the key of its first row and the
/// checksum of its rows, as the footer lists it.
#[derive(Debug, Clone, Copy)]
struct Block {
    first: (i16, i64),
    checksum: u64,
}

impl Block {
    /// A footer entry has the layout of a row: `(kind, key, checksum)`.
    fn to_row(self) -> KeyRow {
        (self.first.0, self.first.1, self.checksum as i64)
    }

    fn from_row((kind, key, checksum): KeyRow) -> Self {
        Self {
            first: (kind, key),
            checksum: checksum as u64,
        }
    }
}

/// The checksum of a footer, which the database keeps.
fn footer_checksum(blocks: &[Block]) -> u64 {
    let mut sum = Checksum::default();
    blocks.iter().for_each(|b| sum.add(&b.to_row()));
    sum.0
}

/// A run ready for look-ups: its bytes and its footer.
#[derive(Debug)]
struct Loaded {
    info: RunInfo,
    bytes: Bytes,
    blocks: Vec<Block>,
}

impl Loaded {
    /// Opens a run from its footer, checking the file's length and the footer's checksum
    /// against `info`; the blocks are checked as they are read.
    fn open(bytes: Bytes, info: RunInfo) -> Result<Self, RunError> {
        let blocks = info.rows.div_ceil(BLOCK_ROWS as u64);
        let expected = (info.rows + blocks) * ROW_BYTES as u64;
        let len = bytes.len()?;
        if len != expected {
            return Err(RunError::Damaged(format!(
                "it has {len} bytes instead of {expected}"
            )));
        }
        let mut footer = vec![0u8; blocks as usize * ROW_BYTES];
        bytes.read_at(&mut footer, info.rows * ROW_BYTES as u64)?;
        let blocks: Vec<Block> = footer
            .chunks_exact(ROW_BYTES)
            .map(|b| Block::from_row(decode(b)))
            .collect();
        if footer_checksum(&blocks) != info.checksum {
            return Err(RunError::Damaged(
                "its footer does not match its checksum".into(),
            ));
        }
        Ok(Self {
            info,
            bytes,
            blocks,
        })
    }

    /// Appends the rows of blocks `first..first + count` to `out`, checking each block
    /// against its checksum.
    fn read_blocks(
        &self,
        first: usize,
        count: usize,
        out: &mut Vec<KeyRow>,
    ) -> Result<(), RunError> {
        let start = first * BLOCK_ROWS;
        let rows = ((first + count) * BLOCK_ROWS).min(self.info.rows as usize) - start;
        let mut buf = vec![0u8; rows * ROW_BYTES];
        self.bytes.read_at(&mut buf, (start * ROW_BYTES) as u64)?;
        for (i, block) in buf.chunks(BLOCK_ROWS * ROW_BYTES).enumerate() {
            let mut sum = Checksum::default();
            for row in block.chunks_exact(ROW_BYTES).map(decode) {
                sum.add(&row);
                out.push(row);
            }
            if sum.0 != self.blocks[first + i].checksum {
                return Err(RunError::Damaged(format!(
                    "block {} does not match its checksum",
                    first + i
                )));
            }
        }
        Ok(())
    }

    /// Appends the `idx` of every row with this kind and key.
    fn find(&self, kind: i16, key: i64, out: &mut Vec<i64>) -> Result<(), RunError> {
        let target = (kind, key);
        // The first match is in the last block that starts below the target, or in the
        // first block if none does.
        let mut block = self
            .blocks
            .partition_point(|b| b.first < target)
            .saturating_sub(1);
        let mut rows = Vec::with_capacity(BLOCK_ROWS);
        while block < self.blocks.len() {
            rows.clear();
            self.read_blocks(block, 1, &mut rows)?;
            for &(row_kind, row_key, idx) in &rows {
                match (row_kind, row_key).cmp(&target) {
                    std::cmp::Ordering::Less => {}
                    std::cmp::Ordering::Equal => out.push(idx),
                    std::cmp::Ordering::Greater => return Ok(()),
                }
            }
            block += 1;
        }
        Ok(())
    }
}

/// Reads the rows of a run in order, [`READ_BLOCKS`] blocks at a time.
struct Rows<'a> {
    run: &'a Loaded,
    next_block: usize,
    buf: Vec<KeyRow>,
    pos: usize,
}

impl<'a> Rows<'a> {
    fn new(run: &'a Loaded) -> Self {
        Self {
            run,
            next_block: 0,
            buf: Vec::new(),
            pos: 0,
        }
    }

    fn next_row(&mut self) -> Result<Option<KeyRow>, RunError> {
        if self.pos == self.buf.len() {
            let count = (self.run.blocks.len() - self.next_block).min(READ_BLOCKS);
            if count == 0 {
                return Ok(None);
            }
            self.buf.clear();
            self.run
                .read_blocks(self.next_block, count, &mut self.buf)?;
            self.next_block += count;
            self.pos = 0;
        }
        self.pos += 1;
        Ok(Some(self.buf[self.pos - 1]))
    }
}

/// Writes a run's rows (in key order), then its footer.
struct Writer {
    out: Out,
    buf: Vec<u8>,
    rows: u64,
    blocks: Vec<Block>,
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
            rows: 0,
            blocks: Vec::new(),
        }
    }

    fn write(&mut self, row: &KeyRow) -> io::Result<()> {
        self.buf.clear();
        encode(row, &mut self.buf);
        match &mut self.out {
            Out::File(w, _) => w.write_all(&self.buf),
            Out::Memory(v) => {
                v.extend_from_slice(&self.buf);
                Ok(())
            }
        }
    }

    fn push(&mut self, row: &KeyRow) -> io::Result<()> {
        if (self.rows as usize).is_multiple_of(BLOCK_ROWS) {
            self.blocks.push(Block {
                first: (row.0, row.1),
                checksum: 0,
            });
        }
        let block = self.blocks.last_mut().expect("a block was started");
        let mut sum = Checksum(block.checksum);
        sum.add(row);
        block.checksum = sum.0;
        self.rows += 1;
        self.write(row)
    }

    /// Writes the footer and finishes the run; a file is synced first if `durable`,
    /// and renamed to `path`.
    fn finish(mut self, path: Option<&Path>, durable: bool) -> io::Result<Loaded> {
        for block in std::mem::take(&mut self.blocks) {
            self.write(&block.to_row())?;
            self.blocks.push(block);
        }
        let info = RunInfo {
            rows: self.rows,
            checksum: footer_checksum(&self.blocks),
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
            blocks: self.blocks,
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
/// process has opened (footers checked), ready for look-ups.
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
    /// block of the inputs as it is read (a damaged input fails the merge).
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
        let mut readers: Vec<Rows> = sources.iter().map(|s| Rows::new(s)).collect();
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
        Ok(w)
    }

    /// Makes `run` ready for look-ups: opens its file and checks its length and footer
    /// against `info`, unless this process has it open already with the same checksum.
    /// (Its blocks are checked as they are read.)
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
        let loaded = Loaded::open(Bytes::File(file), info).map_err(|e| self.name(run, e))?;
        self.loaded.borrow_mut().insert(run, loaded);
        Ok(())
    }

    /// Opens `run` afresh from its file and reads every block of it.
    pub fn verify(&self, run: i64, info: RunInfo) -> Result<(), RunError> {
        if self.dir.is_some() {
            self.loaded.borrow_mut().remove(&run);
        }
        self.load(run, info)?;
        let loaded = self.loaded.borrow();
        let mut rows = Rows::new(&loaded[&run]);
        while rows.next_row().map_err(|e| self.name(run, e))?.is_some() {}
        Ok(())
    }

    /// Names the file of `run` in the description of its damage.
    fn name(&self, run: i64, e: RunError) -> RunError {
        match (e, self.path(run)) {
            (RunError::Damaged(why), Some(path)) => {
                RunError::Damaged(format!("{}: {why}", path.display()))
            }
            (e, _) => e,
        }
    }

    /// Appends the `idx` of every row with this kind and key in the (loaded) `run`.
    pub fn find(&self, run: i64, kind: i16, key: i64, out: &mut Vec<i64>) -> Result<(), RunError> {
        let loaded = self.loaded.borrow();
        let l = loaded
            .get(&run)
            .ok_or_else(|| RunError::Damaged(format!("run {run} is not loaded")))?;
        l.find(kind, key, out).map_err(|e| self.name(run, e))
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

    fn find(files: &RunFiles, runs: &[i64], kind: i16, key: i64) -> Vec<i64> {
        let mut found = Vec::new();
        for &run in runs {
            files.find(run, kind, key, &mut found).unwrap();
        }
        found
    }

    fn find_all(files: &RunFiles, runs: &[i64], all: &[KeyRow]) {
        for &(kind, key, _) in all {
            let mut found = find(files, runs, kind, key);
            found.sort_unstable();
            let mut expected: Vec<i64> = all
                .iter()
                .filter(|r| (r.0, r.1) == (kind, key))
                .map(|r| r.2)
                .collect();
            expected.sort_unstable();
            assert_eq!(found, expected, "kind {kind} key {key}");
        }
        assert!(find(files, runs, 200, 0).is_empty());
        assert!(find(files, runs, -1, 0).is_empty());
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
                // Opened from the file, as another process (or a reopened log) would.
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

    #[test]
    fn a_damaged_block_is_found_when_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let files = RunFiles::beside(&dir.path().join("log.db")).unwrap();
        let all = rows(1, 1000);
        let info = files.write(1, &all, true).unwrap();
        let path = files.path(1).unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        // Row 300 is in block 2 of 8; the footer follows the 1,000 rows.
        assert_eq!(bytes.len(), (1000 + 8) * ROW_BYTES);
        bytes[300 * ROW_BYTES + 12] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        files.loaded.borrow_mut().clear();
        // Opening reads the footer only; the block is checked when a look-up reads it.
        files.load(1, info).unwrap();
        let (kind, key, _) = all[300];
        let mut found = Vec::new();
        let err = files.find(1, kind, key, &mut found).unwrap_err();
        assert!(
            matches!(&err, RunError::Damaged(why) if why.contains("block 2")),
            "{err:?}"
        );
        assert!(matches!(files.verify(1, info), Err(RunError::Damaged(_))));
    }
}
