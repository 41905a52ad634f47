//! Parquet corpus files, read with the `parquet` crate's record reader (no Arrow).
//!
//! Only the columns named like the JSON Lines fields are read (`id`, `text`, `url`,
//! `owner`, `licence` or `license`, `fetched_at`, `signals`); any other column is left
//! unread. Each row becomes the JSON object a JSON Lines line would be, and is then read
//! exactly as one, so the two formats mean the same. Types taken:
//!
//! - strings (`UTF8`/`STRING`) and plain binary (which must be UTF-8; a `text` that is not
//!   is skipped and counted, as in JSON Lines);
//! - an integer `id` is written in decimal;
//! - `fetched_at` and a signal's `seen_at` as an RFC 3339 string or a Parquet timestamp
//!   (milli-, micro- or, for `fetched_at`, nanoseconds since the epoch, UTC; kept to the
//!   second, rounded down);
//! - `signals` as a list of structs with the JSON Lines signal fields (`source`, `path`,
//!   `content`, `seen_at`, `format`), or as a string holding that JSON array;
//! - nulls, as absent fields.
//!
//! The reader returns errors for damaged files; should the `parquet` crate panic on a
//! hostile file, the panic is caught and reported as that file's error, so a bad corpus
//! file never takes the build down with it (and, like every build error, never leaves an
//! index that looks complete).

use std::{
    fs::File,
    panic::{AssertUnwindSafe, catch_unwind},
    path::Path,
};

use parquet::{
    basic::{LogicalType, TimeUnit},
    file::reader::{FileReader, SerializedFileReader},
    record::{Field, Row},
    schema::types::Type,
};
use serde_json::{Map, Value};
use tracemark_core::Timestamp;

use super::{Document, IngestStats, MetaInput};
use crate::TraceError;

/// The columns read; the rest are projected away.
const COLUMNS: [&str; 8] = [
    "id",
    "text",
    "url",
    "owner",
    "licence",
    "license",
    "fetched_at",
    "signals",
];

/// The message of a caught panic.
fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    let what = p
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown failure".into());
    format!("the Parquet reader failed on this file ({what}); it is damaged or not Parquet")
}

/// Runs `f`, turning a panic inside the `parquet` crate into an error message.
fn guarded<T>(f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| Err(panic_message(p)))
}

/// Reads a Parquet corpus file, calling `sink` for each usable document.
pub fn read_parquet(
    path: &Path,
    stats: &mut IngestStats,
    sink: &mut dyn FnMut(Document) -> Result<(), TraceError>,
) -> Result<(), TraceError> {
    let bad = |row: Option<u64>, reason: String| TraceError::BadParquet {
        path: path.to_owned(),
        row,
        reason,
    };
    let file = File::open(path).map_err(TraceError::io("open", path))?;
    let reader = guarded(|| SerializedFileReader::new(file).map_err(|e| e.to_string()))
        .map_err(|e| bad(None, e))?;
    let schema = reader.metadata().file_metadata().schema();
    let fields: Vec<_> = schema
        .get_fields()
        .iter()
        .filter(|f| COLUMNS.contains(&f.name()))
        .cloned()
        .collect();
    for need in ["id", "text"] {
        if !fields.iter().any(|f| f.name() == need) {
            let names: Vec<&str> = schema.get_fields().iter().map(|f| f.name()).collect();
            return Err(bad(
                None,
                format!("no `{need}` column (columns: {})", names.join(", ")),
            ));
        }
    }
    // pyarrow writes pandas' nanosecond timestamps as INT64 without a converted type.
    let fetched_at_nanos = fields.iter().any(|f| {
        f.name() == "fetched_at"
            && matches!(
                f.get_basic_info().logical_type_ref(),
                Some(LogicalType::Timestamp(t)) if t.unit == TimeUnit::NANOS
            )
    });
    let projection = Type::group_type_builder(schema.name())
        .with_fields(fields)
        .build()
        .map_err(|e| bad(None, e.to_string()))?;
    let mut rows = guarded(|| {
        reader
            .get_row_iter(Some(projection))
            .map_err(|e| e.to_string())
    })
    .map_err(|e| bad(None, e))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut number = 0u64;
    loop {
        let next = guarded(|| rows.next().transpose().map_err(|e| e.to_string()));
        number += 1;
        let row = match next {
            Ok(Some(row)) => row,
            Ok(None) => return Ok(()),
            Err(e) => return Err(bad(Some(number), e)),
        };
        let place = format!("{}:row {number}", path.display());
        let object = match row_object(&row, fetched_at_nanos) {
            Ok(Some(o)) => o,
            Ok(None) => {
                stats.skip(false, place);
                continue;
            }
            Err(e) => return Err(bad(Some(number), e)),
        };
        let input: MetaInput = serde_json::from_value(Value::Object(object))
            .map_err(|e| bad(Some(number), e.to_string()))?;
        let id = input
            .id
            .clone()
            .ok_or_else(|| bad(Some(number), "`id` is null".into()))?;
        let (meta, text) = input.into_meta(id, base)?;
        let text = text.ok_or_else(|| bad(Some(number), "`text` is null".into()))?;
        if text.is_empty() {
            stats.skip(true, place);
            continue;
        }
        stats.documents += 1;
        sink(Document { meta, text })?;
    }
}

/// The JSON Lines object of a row; `None` when its text is not UTF-8.
fn row_object(row: &Row, fetched_at_nanos: bool) -> Result<Option<Map<String, Value>>, String> {
    let mut out = Map::new();
    for (name, field) in row.get_column_iter() {
        let value = match (name.as_str(), field) {
            ("text", Field::Bytes(b)) => match std::str::from_utf8(b.data()) {
                Ok(s) => Value::String(s.to_owned()),
                Err(_) => return Ok(None),
            },
            ("fetched_at", Field::Long(n)) if fetched_at_nanos => {
                timestamp(*n, 1_000_000_000).map_err(|e| format!("column `fetched_at`: {e}"))?
            }
            ("id", Field::Int(n)) => Value::String(n.to_string()),
            ("id", Field::Long(n)) => Value::String(n.to_string()),
            ("id", Field::UInt(n)) => Value::String(n.to_string()),
            ("id", Field::ULong(n)) => Value::String(n.to_string()),
            ("signals", Field::Str(s)) => serde_json::from_str(s)
                .map_err(|e| format!("`signals` is not a JSON array of signals: {e}"))?,
            (_, f) => json(f).map_err(|e| format!("column `{name}`: {e}"))?,
        };
        if !value.is_null() {
            out.insert(name.clone(), value);
        }
    }
    Ok(Some(out))
}

/// A timestamp `units` per second since the epoch, as the RFC 3339 JSON string.
fn timestamp(value: i64, per_second: i64) -> Result<Value, String> {
    Timestamp::from_unix_seconds(value.div_euclid(per_second))
        .and_then(|t| serde_json::to_value(t).ok())
        .ok_or_else(|| format!("timestamp {value} is out of range"))
}

/// A field as JSON (the types a metadata field can have).
fn json(field: &Field) -> Result<Value, String> {
    Ok(match field {
        Field::Null => Value::Null,
        Field::Bool(b) => Value::Bool(*b),
        Field::Int(n) => Value::from(*n),
        Field::Long(n) => Value::from(*n),
        Field::Str(s) => Value::String(s.clone()),
        Field::Bytes(b) => Value::String(
            std::str::from_utf8(b.data())
                .map_err(|_| "binary value is not UTF-8".to_owned())?
                .to_owned(),
        ),
        Field::TimestampMillis(ms) => timestamp(*ms, 1_000)?,
        Field::TimestampMicros(us) => timestamp(*us, 1_000_000)?,
        Field::Group(row) => {
            let mut m = Map::new();
            for (name, f) in row.get_column_iter() {
                let v = json(f).map_err(|e| format!("{name}: {e}"))?;
                if !v.is_null() {
                    m.insert(name.clone(), v);
                }
            }
            Value::Object(m)
        }
        Field::ListInternal(list) => Value::Array(
            list.elements()
                .iter()
                .map(json)
                .collect::<Result<Vec<_>, _>>()?,
        ),
        other => return Err(format!("unsupported value {other} for a metadata field")),
    })
}
