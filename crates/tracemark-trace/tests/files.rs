//! Bad input: corrupt and truncated shards, another tokenizer, failed builds, corpus
//! files with invalid UTF-8, empty documents and malformed lines.

mod common;

use std::{fs, io::Write, ops::Range, path::Path, sync::Arc};

use common::*;
use tracemark_core::{Diagnose, Fault};
use tracemark_trace::{
    BuildOptions, ByteTokenizer, Index, IndexBuilder, IndexTokenizer, TraceError, build_index,
    corpus::IngestStats,
};

fn open(p: &Path) -> Result<Index, TraceError> {
    Index::open(p, Arc::new(ByteTokenizer))
}

fn prose_index(dir: &Path) -> std::path::PathBuf {
    build(dir, "idx", prose_docs(), 1 << 20);
    dir.join("idx")
}

#[test]
fn a_truncated_file_is_detected_at_open() {
    for name in [
        "tokens.u16",
        "table.sa",
        "docs.u64",
        "meta.jsonl",
        "meta.idx",
        "minhash.u64",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let idx = prose_index(dir.path());
        let f = idx.join("shard-00000").join(name);
        let len = fs::metadata(&f).unwrap().len();
        fs::OpenOptions::new()
            .write(true)
            .open(&f)
            .unwrap()
            .set_len(len - 1)
            .unwrap();
        let err = open(&idx).unwrap_err();
        assert!(
            matches!(err, TraceError::CorruptShard { .. }),
            "{name}: {err}"
        );
        assert!(err.to_string().contains(name), "{err}");
        assert_eq!(err.fault(), Fault::Input);
        assert!(err.hint().unwrap().contains("rebuild"));
    }
}

#[test]
fn a_flipped_byte_is_caught_by_the_checksums() {
    let dir = tempfile::tempdir().unwrap();
    let idx = prose_index(dir.path());
    assert!(open(&idx).unwrap().verify().is_ok());
    let f = idx.join("shard-00000/tokens.u16");
    let mut bytes = fs::read(&f).unwrap();
    bytes[100] ^= 0x20; // a letter's case, inside the first document
    fs::write(&f, bytes).unwrap();
    let index = open(&idx).unwrap();
    let err = index.verify().unwrap_err();
    assert!(
        err.to_string()
            .contains("tokens.u16 does not match its SHA-256"),
        "{err}"
    );
}

#[test]
fn damaged_manifests_and_document_tables_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let idx = prose_index(dir.path());
    let docs = idx.join("shard-00000/docs.u64");
    let mut bytes = fs::read(&docs).unwrap();
    bytes[8] ^= 1; // the second document no longer starts at a separator
    fs::write(&docs, &bytes).unwrap();
    assert!(matches!(
        open(&idx).unwrap_err(),
        TraceError::CorruptShard { .. }
    ));

    let manifest = idx.join("shard-00000/manifest.json");
    let text = fs::read_to_string(&manifest).unwrap();
    fs::write(&manifest, text.replace("trace-shard/v1", "trace-shard/v9")).unwrap();
    assert!(matches!(
        open(&idx).unwrap_err(),
        TraceError::ShardVersion { .. }
    ));
    fs::write(&manifest, "{not json").unwrap();
    assert!(matches!(
        open(&idx).unwrap_err(),
        TraceError::CorruptShard { .. }
    ));
    fs::remove_dir_all(idx.join("shard-00000")).unwrap();
    assert!(matches!(open(&idx).unwrap_err(), TraceError::Io { .. }));
    assert!(matches!(
        open(dir.path()).unwrap_err(),
        TraceError::NoShards { .. }
    ));
}

/// A tokenizer with the byte mapping but another identity.
struct OtherTokenizer;

impl IndexTokenizer for OtherTokenizer {
    fn identity(&self) -> String {
        "sha256:0000".into()
    }
    fn name(&self) -> String {
        "other".into()
    }
    fn vocab_size(&self) -> usize {
        257
    }
    fn encode(&self, text: &str) -> Result<Vec<(u16, Range<usize>)>, TraceError> {
        ByteTokenizer.encode(text)
    }
}

#[test]
fn querying_with_another_tokenizer_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let idx = prose_index(dir.path());
    let err = Index::open(&idx, Arc::new(OtherTokenizer)).unwrap_err();
    assert!(matches!(err, TraceError::TokenizerMismatch { .. }), "{err}");
    assert!(err.to_string().contains("tracemark.byte-plus-one/v1"));
}

#[test]
fn a_failed_build_leaves_no_index_and_an_index_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("idx");
    let mut b = IndexBuilder::create(
        &out,
        &ByteTokenizer,
        BuildOptions {
            max_shard_tokens: 50,
            batch: 1,
        },
    )
    .unwrap();
    b.add(doc("a", HARBOUR)).unwrap();
    b.add(doc("b", ORCHARD)).unwrap(); // the first shard is written here
    assert!(matches!(
        b.add(doc("a", LEDGER)),
        Err(TraceError::DuplicateId { .. })
    ));
    assert!(dir.path().join("idx.partial/shard-00000").exists());
    drop(b);
    assert!(
        !out.exists(),
        "a failed build must not leave an index that looks valid"
    );
    assert!(
        !dir.path().join("idx.partial").exists(),
        "nor its partial directory"
    );
    let idx = build(dir.path(), "idx", prose_docs(), 1 << 20);
    assert_eq!(idx.total_documents(), 4);
    let err = IndexBuilder::create(&out, &ByteTokenizer, BuildOptions::default()).unwrap_err();
    assert_eq!(err.fault(), Fault::Usage);
    let empty = IndexBuilder::create(
        &dir.path().join("e"),
        &ByteTokenizer,
        BuildOptions::default(),
    )
    .unwrap();
    assert!(matches!(
        empty.finish(IngestStats::default()),
        Err(TraceError::EmptyCorpus { .. })
    ));
}

#[test]
fn small_shards_split_the_corpus_and_still_count_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let index = build(dir.path(), "idx", prose_docs(), 600);
    assert!(index.shards().len() >= 3, "{} shards", index.shards().len());
    let arr = token_array(&PROSE.map(|(_, t)| t));
    for q in ["the ", "pear", "a ", "ledger", "n", "zzz"] {
        assert_eq!(index.count(q).unwrap(), brute_count(&arr, &ids(q)), "{q}");
    }
    for s in index.shards() {
        let m = s.manifest();
        let bytes: u64 = ["tokens.u16", "table.sa"]
            .iter()
            .map(|f| m.files[*f].bytes)
            .sum();
        assert!(
            bytes as f64 / m.tokens as f64 <= 3.5,
            "tokens and suffix array only"
        );
    }
}

#[test]
fn jsonl_ingest_skips_invalid_utf8_and_empty_documents_with_counts() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("c.jsonl");
    let mut f = fs::File::create(&corpus).unwrap();
    writeln!(
        f,
        "{}",
        serde_json::json!({"id": "h", "text": HARBOUR, "owner": "Ferry Co", "licence": "CC-BY-4.0"})
    )
    .unwrap();
    f.write_all(b"{\"id\": \"bad\", \"text\": \"caf\xe9\"}\n")
        .unwrap();
    writeln!(f, "{}", serde_json::json!({"id": "e", "text": ""})).unwrap();
    writeln!(f).unwrap();
    writeln!(f, "{}", serde_json::json!({"id": "o", "text": ORCHARD})).unwrap();
    drop(f);
    let out = dir.path().join("idx");
    let summary = build_index(
        &out,
        std::slice::from_ref(&corpus),
        &ByteTokenizer,
        BuildOptions::default(),
    )
    .unwrap();
    assert_eq!(summary.documents, 2);
    assert_eq!(
        (
            summary.ingest.skipped_invalid_utf8,
            summary.ingest.skipped_empty
        ),
        (1, 1)
    );
    assert!(summary.ingest.skipped_examples[0].ends_with("c.jsonl:2"));
    let index = open(&out).unwrap();
    assert_eq!(index.count("pear trees").unwrap(), 1);

    fs::write(
        &corpus,
        format!(
            "{}\n{{\"id\": 3\n",
            serde_json::json!({"id": "h", "text": "x"})
        ),
    )
    .unwrap();
    let err = build_index(
        &dir.path().join("i2"),
        std::slice::from_ref(&corpus),
        &ByteTokenizer,
        BuildOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(err, TraceError::BadCorpusLine { line: 2, .. }),
        "{err}"
    );
    fs::write(&corpus, "{\"text\": \"no id\"}\n").unwrap();
    let err = build_index(
        &dir.path().join("i3"),
        &[corpus],
        &ByteTokenizer,
        BuildOptions::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("no `id`"), "{err}");
    assert!(!dir.path().join("i2").exists() && !dir.path().join("i3").exists());
}

#[test]
fn folder_ingest_reads_sidecars_and_skips_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("docs");
    fs::create_dir_all(root.join("sub")).unwrap();
    fs::write(root.join("ledger.txt"), LEDGER).unwrap();
    fs::write(
        root.join("ledger.txt.meta.json"),
        serde_json::json!({"id": "ledger-essay", "owner": "Clerk Press", "licence": "CC-BY-ND-4.0",
            "url": "https://clerk.example/ledger", "fetched_at": "2026-01-10T00:00:00Z"})
        .to_string(),
    )
    .unwrap();
    fs::write(root.join("sub/weather.txt"), WEATHER).unwrap();
    fs::write(root.join("empty.txt"), "").unwrap();
    fs::write(root.join("binary.bin"), [0xff, 0xfe, 0x00]).unwrap();
    let out = dir.path().join("idx");
    let s = build_index(
        &out,
        std::slice::from_ref(&root),
        &ByteTokenizer,
        BuildOptions::default(),
    )
    .unwrap();
    assert_eq!(
        (
            s.documents,
            s.ingest.skipped_empty,
            s.ingest.skipped_invalid_utf8
        ),
        (2, 1, 1)
    );
    let index = open(&out).unwrap();
    let hits = index.documents_ids(&ids("single rule"), 10).unwrap();
    let meta = &hits.documents[0].meta;
    assert_eq!(meta.id, "ledger-essay");
    assert_eq!(meta.owner.as_deref(), Some("Clerk Press"));
    let hits = index.documents_ids(&ids("upland"), 10).unwrap();
    assert_eq!(hits.documents[0].meta.id, "sub/weather.txt");

    fs::write(root.join("ledger.txt.meta.json"), "{").unwrap();
    let err = build_index(
        &dir.path().join("i2"),
        &[root],
        &ByteTokenizer,
        BuildOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, TraceError::BadMetadata { .. }), "{err}");
}

#[test]
fn an_infinigram_token_file_is_indexed_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let mut arr = token_array(&[HARBOUR, "", ORCHARD]);
    let file = dir.path().join("corpus.u16");
    fs::write(&file, bytemuck_bytes(&arr)).unwrap();
    let out = dir.path().join("idx");
    let s = tracemark_trace::build_from_token_file(
        &out,
        &file,
        &ByteTokenizer,
        BuildOptions::default(),
    )
    .unwrap();
    assert_eq!(s.documents, 3, "the empty document is kept");
    assert_eq!(
        fs::read(out.join("shard-00000/tokens.u16")).unwrap(),
        fs::read(&file).unwrap()
    );
    let index = open(&out).unwrap();
    assert_eq!(index.count_ids(&[]), arr.len() as u64);
    assert_eq!(
        index.count_ids(&[tracemark_trace::SEP, tracemark_trace::SEP]),
        1
    );
    let found = tracemark_trace::near_duplicates(&index, ORCHARD, 0.9).unwrap();
    assert_eq!(found[0].document.id, "doc-2", "decoded and signed");
    arr.remove(0);
    fs::write(&file, bytemuck_bytes(&arr)).unwrap();
    let err = tracemark_trace::build_from_token_file(
        &dir.path().join("i2"),
        &file,
        &ByteTokenizer,
        BuildOptions::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("separator"), "{err}");
}

fn bytemuck_bytes(v: &[u16]) -> Vec<u8> {
    v.iter().flat_map(|t| t.to_le_bytes()).collect()
}
