//! Corpus ingest: JSON Lines and plain-text folders, each document with its rights
//! metadata.
//!
//! A JSON Lines corpus has one object per line:
//!
//! ```json
//! {"id": "essay-1", "text": "…", "url": "https://example.com/essay", "owner": "Ada",
//!  "licence": "CC-BY-4.0", "fetched_at": "2026-03-01T00:00:00Z",
//!  "signals": [{"source": "https://example.com/robots.txt",
//!               "content": "User-agent: *\nDisallow: /", "seen_at": "2026-02-28T00:00:00Z"},
//!              {"path": "saved/tdmrep.json"}]}
//! ```
//!
//! Each signal is a saved rights file (robots.txt, TDMRep, ai.txt, RSL, headers, …), given
//! inline (`content`) or by `path` (relative to the corpus file); it is parsed with
//! `tracemark_rights::check` at ingest and kept as a [`Snapshot`], so the index can say
//! what the document's opt-out status was at its fetch time. `seen_at` defaults to
//! `fetched_at`; `format` (a `tracemark_rights::Format` name) defaults to detection.
//!
//! A folder corpus has one document per file (read recursively, in sorted order); the
//! id is the path relative to the folder. A sidecar `NAME.meta.json` beside `NAME` holds
//! the same metadata fields (without `text`).
//!
//! Documents that are not valid UTF-8, or are empty, are skipped and counted in
//! [`IngestStats`]; a line that is not a JSON object with `id` and `text`, or a
//! duplicate id, is an error naming the line.
//!
//! A Parquet corpus (feature `parquet`, on by default) has one document a row, with
//! columns named as the JSON Lines fields; each row is read as the JSON Lines object it
//! stands for (see [`read_parquet`] for the column types taken). A file is Parquet when it
//! starts with the `PAR1` magic or its name ends in `.parquet`.

use std::{
    fs,
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};
use tracemark_core::{Timestamp, fact::DocumentRef};
use tracemark_rights::{CheckRequest, RightsRecord, check};

use crate::TraceError;

#[cfg(feature = "parquet")]
mod parquet_input;
#[cfg(feature = "parquet")]
pub use parquet_input::read_parquet;

/// Per-document metadata, as stored in a shard's metadata store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocMeta {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The rights holder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licence: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetched_at: Option<Timestamp>,
    /// The document's size in UTF-8 bytes, set when it is indexed from its text (indexes
    /// built before it was recorded have none). The training summary ranks domains by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// The rights signals seen for the document, as snapshots over time.
    pub rights: RightsRecord,
}

impl DocMeta {
    pub fn document_ref(&self) -> DocumentRef {
        DocumentRef {
            id: self.id.clone(),
            owner: self.owner.clone(),
            licence: self.licence.clone(),
            source_url: self.url.clone(),
            fetched_at: self.fetched_at,
        }
    }
}

/// A document ready to index.
#[derive(Debug, Clone)]
pub struct Document {
    pub meta: DocMeta,
    pub text: String,
}

/// What ingest skipped, and why.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IngestStats {
    pub documents: u64,
    pub skipped_invalid_utf8: u64,
    pub skipped_empty: u64,
    /// Where the first few skips happened (`file:line` or a path).
    pub skipped_examples: Vec<String>,
}

impl IngestStats {
    fn skip(&mut self, empty: bool, place: String) {
        if empty {
            self.skipped_empty += 1;
        } else {
            self.skipped_invalid_utf8 += 1;
        }
        if self.skipped_examples.len() < 10 {
            self.skipped_examples.push(place);
        }
    }

    pub fn skipped(&self) -> u64 {
        self.skipped_empty + self.skipped_invalid_utf8
    }
}

/// A rights file seen for a document, inline or on disk.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignalInput {
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    path: Option<PathBuf>,
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    seen_at: Option<Timestamp>,
    #[serde(default)]
    format: Option<String>,
}

/// The metadata fields of a JSON Lines record or a sidecar file.
#[derive(Debug, Deserialize)]
struct MetaInput {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    owner: Option<String>,
    #[serde(default, alias = "license")]
    licence: Option<String>,
    #[serde(default)]
    fetched_at: Option<Timestamp>,
    #[serde(default)]
    signals: Vec<SignalInput>,
}

impl MetaInput {
    /// The stored metadata, with every signal file parsed into a snapshot.
    fn into_meta(self, id: String, base: &Path) -> Result<(DocMeta, Option<String>), TraceError> {
        let mut rights = RightsRecord::new(id.clone(), self.url.clone());
        for s in self.signals {
            rights.add(read_signal(s, base, self.fetched_at, self.url.as_deref())?);
        }
        let meta = DocMeta {
            id,
            url: self.url,
            owner: self.owner,
            licence: self.licence,
            fetched_at: self.fetched_at,
            bytes: None,
            rights,
        };
        Ok((meta, self.text))
    }
}

fn read_signal(
    s: SignalInput,
    base: &Path,
    fetched_at: Option<Timestamp>,
    url: Option<&str>,
) -> Result<tracemark_rights::Snapshot, TraceError> {
    let (bytes, source) = match (&s.content, &s.path) {
        (Some(c), _) => (
            c.clone().into_bytes(),
            s.source.clone().unwrap_or_else(|| "inline".into()),
        ),
        (None, Some(p)) => {
            let full = base.join(p);
            let bytes = fs::read(&full).map_err(TraceError::io("read signal file", &full))?;
            (
                bytes,
                s.source.clone().unwrap_or_else(|| p.display().to_string()),
            )
        }
        (None, None) => {
            return Err(TraceError::Signal {
                source_name: s.source.unwrap_or_default(),
                reason: "neither `content` nor `path` is given".into(),
            });
        }
    };
    let bad = |reason: String| TraceError::Signal {
        source_name: source.clone(),
        reason,
    };
    let seen_at = s
        .seen_at
        .or(fetched_at)
        .ok_or_else(|| bad("no `seen_at` and no document `fetched_at`".into()))?;
    let format = match &s.format {
        Some(f) => Some(
            f.parse()
                .map_err(|e: tracemark_rights::ParseFormatError| bad(e.to_string()))?,
        ),
        None => None,
    };
    let report = check(&CheckRequest {
        bytes: &bytes,
        source: &source,
        asset_url: url,
        seen_at,
        format,
    })
    .map_err(|e| bad(e.to_string()))?;
    Ok(report.snapshot())
}

/// Reads a JSON Lines corpus, calling `sink` for each usable document.
pub fn read_jsonl(
    path: &Path,
    stats: &mut IngestStats,
    sink: &mut dyn FnMut(Document) -> Result<(), TraceError>,
) -> Result<(), TraceError> {
    let file = fs::File::open(path).map_err(TraceError::io("open", path))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut reader = BufReader::new(file);
    let mut line = Vec::new();
    let mut number = 0u64;
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(TraceError::io("read", path))?;
        if n == 0 {
            return Ok(());
        }
        number += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let place = format!("{}:{number}", path.display());
        if std::str::from_utf8(&line).is_err() {
            stats.skip(false, place);
            continue;
        }
        let bad = |reason: String| TraceError::BadCorpusLine {
            path: path.to_owned(),
            line: number,
            reason,
        };
        let input: MetaInput = serde_json::from_slice(&line).map_err(|e| bad(e.to_string()))?;
        let id = input.id.clone().ok_or_else(|| bad("no `id`".into()))?;
        let (meta, text) = input.into_meta(id, base)?;
        let text = text.ok_or_else(|| bad("no `text`".into()))?;
        if text.is_empty() {
            stats.skip(true, place);
            continue;
        }
        stats.documents += 1;
        sink(Document { meta, text })?;
    }
}

/// The files of a folder corpus, recursively, sorted, without sidecars.
fn folder_files(root: &Path) -> Result<Vec<PathBuf>, TraceError> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).map_err(TraceError::io("list", &dir))? {
            let entry = entry.map_err(TraceError::io("list", &dir))?;
            let p = entry.path();
            let kind = entry.file_type().map_err(TraceError::io("stat", &p))?;
            if kind.is_dir() {
                stack.push(p);
            } else if kind.is_file() && !p.to_string_lossy().ends_with(".meta.json") {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Reads a folder corpus (one document per file, optional `NAME.meta.json` sidecars).
pub fn read_folder(
    root: &Path,
    stats: &mut IngestStats,
    sink: &mut dyn FnMut(Document) -> Result<(), TraceError>,
) -> Result<(), TraceError> {
    for file in folder_files(root)? {
        let bytes = fs::read(&file).map_err(TraceError::io("read", &file))?;
        let rel = file
            .strip_prefix(root)
            .unwrap_or(&file)
            .to_string_lossy()
            .into_owned();
        let Ok(text) = String::from_utf8(bytes) else {
            stats.skip(false, file.display().to_string());
            continue;
        };
        if text.is_empty() {
            stats.skip(true, file.display().to_string());
            continue;
        }
        let sidecar = PathBuf::from(format!("{}.meta.json", file.display()));
        let input = match fs::read(&sidecar) {
            Ok(b) => {
                serde_json::from_slice::<MetaInput>(&b).map_err(|e| TraceError::BadMetadata {
                    path: sidecar.clone(),
                    reason: e.to_string(),
                })?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => MetaInput {
                id: None,
                text: None,
                url: None,
                owner: None,
                licence: None,
                fetched_at: None,
                signals: Vec::new(),
            },
            Err(e) => return Err(TraceError::io("read", &sidecar)(e)),
        };
        let id = input.id.clone().unwrap_or(rel);
        let base = file.parent().unwrap_or(root).to_owned();
        let (meta, _) = input.into_meta(id, &base)?;
        stats.documents += 1;
        sink(Document { meta, text })?;
    }
    Ok(())
}

/// The formats of corpus paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CorpusFormat {
    /// A folder of text files.
    Folder,
    /// A JSON Lines file.
    JsonLines,
    /// A Parquet file.
    Parquet,
}

/// The format of a corpus path: a folder, a Parquet file (the `PAR1` magic at its start,
/// or a name ending in `.parquet`), otherwise JSON Lines.
pub fn detect_format(path: &Path) -> Result<CorpusFormat, TraceError> {
    use std::io::Read;
    if path.is_dir() {
        return Ok(CorpusFormat::Folder);
    }
    let named = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
    let mut magic = [0u8; 4];
    let mut file = fs::File::open(path).map_err(TraceError::io("open", path))?;
    let mut got = 0;
    while got < 4 {
        match file.read(&mut magic[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(TraceError::io("read", path)(e)),
        }
    }
    Ok(if named || (got == 4 && &magic == b"PAR1") {
        CorpusFormat::Parquet
    } else {
        CorpusFormat::JsonLines
    })
}

/// Reads a corpus path: a folder, a Parquet file, or a JSON Lines file
/// (see [`detect_format`]).
pub fn read_corpus(
    path: &Path,
    stats: &mut IngestStats,
    sink: &mut dyn FnMut(Document) -> Result<(), TraceError>,
) -> Result<(), TraceError> {
    match detect_format(path)? {
        CorpusFormat::Folder => read_folder(path, stats, sink),
        CorpusFormat::JsonLines => read_jsonl(path, stats, sink),
        #[cfg(feature = "parquet")]
        CorpusFormat::Parquet => read_parquet(path, stats, sink),
        #[cfg(not(feature = "parquet"))]
        CorpusFormat::Parquet => Err(TraceError::BadParquet {
            path: path.to_owned(),
            row: None,
            reason: "this build reads no Parquet (tracemark-trace's `parquet` feature is off)"
                .into(),
        }),
    }
}

impl DocMeta {
    /// Metadata with only an id.
    pub fn new(id: impl Into<String>) -> Self {
        let id = id.into();
        DocMeta {
            rights: RightsRecord::new(id.clone(), None),
            id,
            url: None,
            owner: None,
            licence: None,
            fetched_at: None,
            bytes: None,
        }
    }
}
