//! Parquet corpus files: the same documents and metadata as their JSON Lines twins (files
//! written by pyarrow, committed in `fixtures/`, and files written by the `parquet`
//! crate), and damaged, truncated or hostile files as clear errors that never panic and
//! never leave an index behind.
#![cfg(feature = "parquet")]

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
    sync::Arc,
};

use parquet::{
    basic::Compression,
    data_type::{ByteArray, ByteArrayType, Int32Type, Int64Type},
    file::{properties::WriterProperties, writer::SerializedFileWriter},
    schema::parser::parse_message_type,
};
use tracemark_core::{
    Timestamp,
    rights::{AiUse, Permission},
};
use tracemark_rights::Actor;
use tracemark_trace::{
    BuildOptions, BuildSummary, ByteTokenizer, Index, TraceError, build_index,
    corpus::{CorpusFormat, DocMeta, detect_format},
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn build(out: &Path, corpus: &Path) -> Result<BuildSummary, TraceError> {
    build_index(
        out,
        &[corpus.to_owned()],
        &ByteTokenizer,
        BuildOptions::default(),
    )
}

/// Every document's metadata by id.
fn metas(index: &Index) -> BTreeMap<String, DocMeta> {
    index
        .addresses()
        .map(|a| {
            let m = index.doc_meta(a).unwrap();
            (m.id.clone(), m)
        })
        .collect()
}

fn at(s: &str) -> Timestamp {
    serde_json::from_value(serde_json::json!(s)).unwrap()
}

/// Indexes the Parquet fixture and its JSON Lines twin; both must hold the same.
fn same_as_twin(parquet: &str, jsonl: &str) -> (tempfile::TempDir, Index, BuildSummary) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    assert_eq!(
        detect_format(&fixture(parquet)).unwrap(),
        CorpusFormat::Parquet
    );
    assert_eq!(
        detect_format(&fixture(jsonl)).unwrap(),
        CorpusFormat::JsonLines
    );
    let sp = build(&dir.join("p"), &fixture(parquet)).unwrap();
    let sj = build(&dir.join("j"), &fixture(jsonl)).unwrap();
    let open = |p: &str| Index::open(&dir.join(p), Arc::new(ByteTokenizer)).unwrap();
    let (ip, ij) = (open("p"), open("j"));
    assert_eq!(
        metas(&ip),
        metas(&ij),
        "same metadata as the JSON Lines twin"
    );
    assert_eq!(
        ip.shards()[0].tokens(),
        ij.shards()[0].tokens(),
        "same texts"
    );
    assert_eq!(
        (sp.documents, sp.tokens),
        (sj.documents, sj.tokens),
        "same sizes"
    );
    (tmp, ip, sp)
}

#[test]
fn a_pyarrow_file_with_nested_signals_reads_as_its_json_lines_twin() {
    let (_tmp, index, summary) = same_as_twin("corpus-snappy.parquet", "corpus-snappy.jsonl");
    assert_eq!(summary.documents, 3);
    assert_eq!(summary.ingest.skipped_empty, 1);
    assert!(summary.ingest.skipped_examples[0].ends_with("corpus-snappy.parquet:row 3"));
    let m = metas(&index);
    let harbour = &m["harbour"];
    assert_eq!(harbour.owner.as_deref(), Some("Ferry Writers"));
    assert_eq!(harbour.licence.as_deref(), Some("All rights reserved"));
    assert_eq!(
        harbour.url.as_deref(),
        Some("https://ferry.example/harbour")
    );
    assert_eq!(harbour.fetched_at, Some(at("2026-02-01T00:00:00Z")));
    // The opt-out was seen before the fetch: it stood when the document was collected.
    let d = harbour
        .rights
        .decision_at(AiUse::AiTrain, &Actor::Everyone, harbour.fetched_at);
    assert_eq!(d.permission, Permission::Disallowed, "{:?}", harbour.rights);
    let orchard = &m["orchard"];
    assert_eq!(orchard.owner, None, "a null is an absent field");
    assert_eq!(orchard.fetched_at, Some(at("2026-02-01T12:30:00Z")));
    assert_eq!(orchard.rights.snapshots.len(), 2);
    assert_eq!(m["ledger"].rights.snapshots.len(), 0);
    assert_eq!(index.count("pear trees").unwrap(), 1);
}

#[test]
fn a_zstd_file_with_integer_ids_binary_text_nanosecond_times_and_json_signals() {
    let (_tmp, index, summary) = same_as_twin("corpus-zstd.parquet", "corpus-zstd.jsonl");
    assert_eq!(summary.documents, 2);
    assert_eq!(summary.ingest.skipped_invalid_utf8, 1, "row 2 is not UTF-8");
    let m = metas(&index);
    assert_eq!(m["17"].licence.as_deref(), Some("OGL"), "`license` read");
    assert_eq!(m["17"].fetched_at, Some(at("2026-03-04T05:06:07Z")));
    assert_eq!(m["17"].rights.snapshots.len(), 1);
}

/// One row group's ids, texts, owners and fetch times.
type RowGroup<'a> = (
    &'a [&'a str],
    &'a [&'a str],
    &'a [Option<&'a str>],
    &'a [Option<i64>],
);

/// Writes a Parquet file with the `parquet` crate: required `id`/`text`, optional
/// `owner`, a millisecond `fetched_at`, over two row groups.
fn write_with_parquet_crate(path: &Path, compression: Compression) {
    let schema = Arc::new(
        parse_message_type(
            "message corpus {
                required binary id (STRING);
                required binary text (STRING);
                optional binary owner (STRING);
                optional int64 fetched_at (TIMESTAMP(MILLIS,true));
            }",
        )
        .unwrap(),
    );
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(compression)
            .build(),
    );
    let mut w = SerializedFileWriter::new(fs::File::create(path).unwrap(), schema, props).unwrap();
    let groups: [RowGroup; 2] = [
        (
            &["a", "b"],
            &[
                "first document text",
                "second document, written by the crate",
            ],
            &[Some("Ada"), None],
            &[Some(1_767_225_600_000), None],
        ),
        (
            &["c"],
            &["third document"],
            &[Some("Grace")],
            &[Some(1_767_225_600_999)],
        ),
    ];
    for (ids, texts, owners, times) in groups {
        let mut rg = w.next_row_group().unwrap();
        let bytes = |v: &[&str]| v.iter().map(|s| ByteArray::from(*s)).collect::<Vec<_>>();
        for values in [bytes(ids), bytes(texts)] {
            let mut col = rg.next_column().unwrap().unwrap();
            col.typed::<ByteArrayType>()
                .write_batch(&values, None, None)
                .unwrap();
            col.close().unwrap();
        }
        let def = |present: Vec<bool>| present.iter().map(|&p| i16::from(p)).collect::<Vec<_>>();
        let mut col = rg.next_column().unwrap().unwrap();
        let present: Vec<ByteArray> = owners
            .iter()
            .flatten()
            .map(|s| ByteArray::from(*s))
            .collect();
        col.typed::<ByteArrayType>()
            .write_batch(
                &present,
                Some(&def(owners.iter().map(Option::is_some).collect())),
                None,
            )
            .unwrap();
        col.close().unwrap();
        let mut col = rg.next_column().unwrap().unwrap();
        let present: Vec<i64> = times.iter().flatten().copied().collect();
        col.typed::<Int64Type>()
            .write_batch(
                &present,
                Some(&def(times.iter().map(Option::is_some).collect())),
                None,
            )
            .unwrap();
        col.close().unwrap();
        rg.close().unwrap();
    }
    w.close().unwrap();
}

#[test]
fn files_written_by_the_parquet_crate_are_read_with_every_codec() {
    let dir = tempfile::tempdir().unwrap();
    for (name, codec) in [
        ("none", Compression::UNCOMPRESSED),
        ("snappy", Compression::SNAPPY),
        ("lz4", Compression::LZ4_RAW),
        ("gzip", Compression::GZIP(Default::default())),
        ("zstd", Compression::ZSTD(Default::default())),
    ] {
        // No `.parquet` name: found by its magic.
        let file = dir.path().join(format!("corpus-{name}.bin"));
        write_with_parquet_crate(&file, codec);
        assert_eq!(detect_format(&file).unwrap(), CorpusFormat::Parquet);
        let out = dir.path().join(format!("idx-{name}"));
        let s = build(&out, &file).unwrap();
        assert_eq!(s.documents, 3, "{name}");
        let index = Index::open(&out, Arc::new(ByteTokenizer)).unwrap();
        let m = metas(&index);
        assert_eq!(m["a"].owner.as_deref(), Some("Ada"));
        assert_eq!(m["a"].fetched_at, Some(at("2026-01-01T00:00:00Z")));
        assert_eq!(m["b"].owner, None);
        assert_eq!(m["b"].fetched_at, None);
        assert_eq!(
            m["c"].fetched_at,
            Some(at("2026-01-01T00:00:00Z")),
            "kept to the second"
        );
        assert_eq!(index.count("document").unwrap(), 3);
    }
}

/// Builds `bytes` as a corpus file; it must fail with a Parquet error (never panic) and
/// leave no index behind.
fn must_fail(dir: &Path, name: &str, bytes: &[u8]) -> TraceError {
    let file = dir.join(format!("{name}.parquet"));
    fs::write(&file, bytes).unwrap();
    let out = dir.join(format!("idx-{name}"));
    let err = build(&out, &file).unwrap_err();
    assert!(!out.exists(), "{name}: a failed build leaves no index");
    assert!(
        !dir.join(format!("idx-{name}.partial")).exists(),
        "{name}: nor its partial directory"
    );
    err
}

#[test]
fn truncated_and_garbage_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = fs::read(fixture("corpus-snappy.parquet")).unwrap();
    for cut in [
        0,
        3,
        4,
        8,
        100,
        good.len() / 2,
        good.len() - 9,
        good.len() - 1,
    ] {
        let err = must_fail(dir.path(), &format!("cut{cut}"), &good[..cut]);
        assert!(
            matches!(err, TraceError::BadParquet { .. }),
            "cut at {cut}: {err}"
        );
        assert!(err.to_string().contains("Parquet corpus"), "{err}");
    }
    // The magic at both ends around junk, and a footer length beyond the file.
    let mut junk = b"PAR1".to_vec();
    junk.extend_from_slice(&[0x5a; 64]);
    junk.extend_from_slice(&u32::MAX.to_le_bytes());
    junk.extend_from_slice(b"PAR1");
    let err = must_fail(dir.path(), "junk", &junk);
    assert!(
        matches!(err, TraceError::BadParquet { row: None, .. }),
        "{err}"
    );
    // JSON Lines named .parquet is read as Parquet, and refused as such.
    let err = must_fail(
        dir.path(),
        "notparquet",
        b"{\"id\": \"a\", \"text\": \"b\"}\n",
    );
    assert!(matches!(err, TraceError::BadParquet { .. }), "{err}");
}

#[test]
fn flipped_bytes_anywhere_never_panic_and_never_leave_an_index() {
    let dir = tempfile::tempdir().unwrap();
    let good = fs::read(fixture("corpus-snappy.parquet")).unwrap();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut ok, mut failed) = (0, 0);
    for round in 0..300 {
        let mut bytes = good.clone();
        for _ in 0..1 + round % 3 {
            let at = next() as usize % bytes.len();
            bytes[at] ^= 1 << (next() % 8);
        }
        let file = dir.path().join(format!("flip{round}.parquet"));
        fs::write(&file, &bytes).unwrap();
        let out = dir.path().join(format!("idx-flip{round}"));
        match build(&out, &file) {
            Ok(_) => ok += 1, // a flip inside a text or an unused column
            Err(e) => {
                failed += 1;
                assert!(!out.exists(), "round {round}: {e}");
                assert!(!e.to_string().is_empty());
            }
        }
    }
    assert!(failed > 0 && ok + failed == 300, "{ok} ok, {failed} failed");
}

#[test]
fn missing_columns_and_wrong_types_name_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, message: &str, ints: bool| -> PathBuf {
        let file = dir.path().join(name);
        let schema = Arc::new(parse_message_type(message).unwrap());
        let mut w = SerializedFileWriter::new(
            fs::File::create(&file).unwrap(),
            schema,
            Arc::new(WriterProperties::builder().build()),
        )
        .unwrap();
        let mut rg = w.next_row_group().unwrap();
        let mut col = rg.next_column().unwrap().unwrap();
        col.typed::<ByteArrayType>()
            .write_batch(&[ByteArray::from("x")], None, None)
            .unwrap();
        col.close().unwrap();
        let mut col = rg.next_column().unwrap().unwrap();
        if ints {
            col.typed::<Int32Type>()
                .write_batch(&[7], None, None)
                .unwrap();
        } else {
            col.typed::<ByteArrayType>()
                .write_batch(&[ByteArray::from("y")], None, None)
                .unwrap();
        }
        col.close().unwrap();
        rg.close().unwrap();
        w.close().unwrap();
        file
    };
    let no_text = write(
        "no-text.parquet",
        "message m { required binary id (STRING); required binary body (STRING); }",
        false,
    );
    let err = build(&dir.path().join("i1"), &no_text).unwrap_err();
    assert!(
        err.to_string()
            .contains("no `text` column (columns: id, body)"),
        "{err}"
    );
    let int_text = write(
        "int-text.parquet",
        "message m { required binary id (STRING); required int32 text; }",
        true,
    );
    let err = build(&dir.path().join("i2"), &int_text).unwrap_err();
    assert!(
        matches!(err, TraceError::BadParquet { row: Some(1), .. }),
        "{err}"
    );
    assert!(err.to_string().contains("row 1"), "{err}");
    assert!(!dir.path().join("i1").exists() && !dir.path().join("i2").exists());
}
