//! MinHash schemes of shards: an index written before shards named their MinHash scheme
//! (`tests/fixtures/index-minhash-unversioned`, built by the code of the time from the
//! four prose documents) still opens, reads as `minhash-sha256-w5x128-v2`, and gives the
//! near-duplicate answers it gave then; a new shard names its scheme; an unknown scheme
//! is refused.

mod common;

use std::{fs, path::Path, sync::Arc};

use common::*;
use tracemark_trace::{
    ByteTokenizer, Index, TraceError,
    minhash::{NUM_HASHES, Scheme},
    near_duplicates,
};

const FIXTURE: &str = "tests/fixtures/index-minhash-unversioned";

fn open(p: &Path) -> Result<Index, TraceError> {
    Index::open(p, Arc::new(ByteTokenizer))
}

/// The answers as `near_duplicates` gave them before the scheme was named.
fn assert_answers_of_the_time(index: &Index) {
    let edited = LEDGER
        .replace("Clerks", "Scribes")
        .replace("different ink", "another ink");
    let found = near_duplicates(index, &edited, 0.0).unwrap();
    let got: Vec<(&str, f64)> = found
        .iter()
        .map(|f| (f.document.id.as_str(), f.jaccard))
        .collect();
    assert_eq!(got, [("ledger", 0.734375)]);
    let found = near_duplicates(index, HARBOUR, 0.0).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0].document.id.as_str(), found[0].jaccard),
        ("harbour", 1.0)
    );
    assert!(
        near_duplicates(index, &ORCHARD[..200], 0.0)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn an_index_written_before_schemes_were_named_still_reads() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE);
    let manifest = fs::read_to_string(dir.join("shard-00000/manifest.json")).unwrap();
    assert!(
        !manifest.contains("minhash_scheme"),
        "the fixture is the old form"
    );
    let index = open(&dir).unwrap();
    index.verify().unwrap();
    let shard = &index.shards()[0];
    assert_eq!(shard.minhash_scheme(), Scheme::V2);
    assert_eq!(shard.manifest().minhash_scheme, Scheme::V2.id());
    // Its stored values are exactly the current scheme's values of the documents.
    for (doc, (_, text)) in PROSE.iter().enumerate() {
        assert_eq!(shard.signature(doc), Scheme::V2.sketch(text), "{doc}");
    }
    assert_answers_of_the_time(&index);
}

#[test]
fn a_new_index_names_its_scheme_and_answers_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let index = build(dir.path(), "idx", prose_docs(), 1 << 20);
    let shard = &index.shards()[0];
    assert_eq!(shard.minhash_scheme(), Scheme::CURRENT);
    let manifest = fs::read_to_string(dir.path().join("idx/shard-00000/manifest.json")).unwrap();
    assert!(
        manifest.contains("\"minhash_scheme\": \"minhash-sha256-w5x128-v2\""),
        "{manifest}"
    );
    assert_answers_of_the_time(&index);
    // The same bytes as the old build: only the manifest gained the scheme.
    let old = Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE);
    for name in ["minhash.u64", "tokens.u16", "table.sa"] {
        assert_eq!(
            fs::read(dir.path().join("idx/shard-00000").join(name)).unwrap(),
            fs::read(old.join("shard-00000").join(name)).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn a_shard_of_an_unknown_scheme_is_refused_and_a_v1_one_compares_in_v1() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), "idx", prose_docs(), 1 << 20);
    let manifest_path = dir.path().join("idx/shard-00000/manifest.json");
    let manifest = fs::read_to_string(&manifest_path).unwrap();
    let unknown = manifest.replace("minhash-sha256-w5x128-v2", "minhash-sha256-w5x128-v9");
    fs::write(&manifest_path, &unknown).unwrap();
    let err = open(&dir.path().join("idx")).unwrap_err();
    assert!(matches!(err, TraceError::ShardVersion { .. }), "{err}");
    assert!(
        err.to_string().contains("minhash-sha256-w5x128-v9"),
        "{err}"
    );

    // A shard whose values are in the log's first scheme (written here by hand, as no
    // build writes one) is compared in that scheme: the query is sketched in it.
    let shard_dir = dir.path().join("idx/shard-00000");
    let values: Vec<u8> = PROSE
        .iter()
        .flat_map(|(_, text)| *Scheme::LedgerV1.sketch(text).values())
        .flat_map(u64::to_le_bytes)
        .collect();
    assert_eq!(values.len(), PROSE.len() * NUM_HASHES * 8);
    fs::write(shard_dir.join("minhash.u64"), &values).unwrap();
    let v1 = manifest.replace("minhash-sha256-w5x128-v2", Scheme::LedgerV1.id());
    fs::write(&manifest_path, v1).unwrap();
    let index = open(&dir.path().join("idx")).unwrap();
    assert_eq!(index.shards()[0].minhash_scheme(), Scheme::LedgerV1);
    let found = near_duplicates(&index, HARBOUR, 0.5).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0].document.id.as_str(), found[0].jaccard),
        ("harbour", 1.0)
    );
}
