//! The infini-gram export: every file checked against infini-gram's format from first
//! principles (byte offsets sorted by `memcmp` of the little-endian token bytes), on a
//! byte-level index and on one with token ids above 255 (whose byte order differs).

mod common;

use std::{fs, path::Path, sync::Arc};

use tracemark_trace::{
    BuildOptions, ByteTokenizer, Index, build_from_token_file,
    corpus::{DocMeta, Document},
    infinigram::{export, pointer_bytes},
};

/// Reads an exported shard and checks it is infini-gram's index of `tokens`.
fn check_export(dir: &Path, k: usize, tokens: &[u16], doc_starts: &[u64]) {
    let ds = fs::read(dir.join(format!("tokenized.{k}"))).unwrap();
    let want: Vec<u8> = tokens.iter().flat_map(|t| t.to_le_bytes()).collect();
    assert_eq!(ds, want, "tokenized.{k} is the token file");
    let table = fs::read(dir.join(format!("table.{k}"))).unwrap();
    let ptr = pointer_bytes(ds.len() as u64) as usize;
    assert_eq!(
        table.len(),
        tokens.len() * ptr,
        "engine derives ptr = size / tokens"
    );
    let ptrs: Vec<usize> = table
        .chunks_exact(ptr)
        .map(|c| {
            let mut b = [0u8; 8];
            b[..ptr].copy_from_slice(c);
            u64::from_le_bytes(b) as usize
        })
        .collect();
    // A permutation of every even byte offset, in memcmp order of the suffixes.
    let mut seen = ptrs.clone();
    seen.sort_unstable();
    assert_eq!(seen, (0..tokens.len()).map(|i| 2 * i).collect::<Vec<_>>());
    for w in ptrs.windows(2) {
        assert!(
            ds[w[0]..] < ds[w[1]..],
            "suffixes at {} and {} out of byte order",
            w[0],
            w[1]
        );
    }
    let od = fs::read(dir.join(format!("offset.{k}"))).unwrap();
    let offs: Vec<u64> = od
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(offs, doc_starts.iter().map(|s| 2 * s).collect::<Vec<_>>());
    for &o in &offs {
        assert_eq!(&ds[o as usize..o as usize + 2], &[0xFF, 0xFF]);
    }
    let om = fs::read(dir.join(format!("metaoff.{k}"))).unwrap();
    assert_eq!(
        om.len(),
        8 * doc_starts.len(),
        "one metadata offset per document"
    );
    let mt = fs::read(dir.join(format!("metadata.{k}"))).unwrap();
    assert_eq!(mt.iter().filter(|&&b| b == b'\n').count(), doc_starts.len());
}

fn doc_starts(tokens: &[u16]) -> Vec<u64> {
    (0..tokens.len() as u64)
        .filter(|&i| tokens[i as usize] == tracemark_trace::SEP)
        .collect()
}

#[test]
fn byte_level_index_exports_its_own_suffix_array_in_infinigram_order() {
    let dir = tempfile::tempdir().unwrap();
    let docs = common::PROSE
        .iter()
        .map(|(id, text)| Document {
            meta: DocMeta::new(*id),
            text: (*text).into(),
        })
        .collect();
    let index = common::build(dir.path(), "idx", docs, 700);
    assert!(index.shards().len() > 1, "several shards");
    let out = dir.path().join("ig");
    let s = export(&index, &out).unwrap();
    assert_eq!(s.shards, index.shards().len());
    assert!(s.resorted.is_empty(), "byte-level ids need no re-sort");
    for (k, shard) in index.shards().iter().enumerate() {
        check_export(&out, k, shard.tokens(), &doc_starts(shard.tokens()));
    }
    assert!(!dir.path().join("ig.partial").exists());
}

#[test]
fn ids_above_255_get_a_byte_order_suffix_array() {
    let dir = tempfile::tempdir().unwrap();
    // 0x0102 < 0x0201 as numbers but [02 01] > [01 02] as little-endian bytes.
    let mut state = 99u64;
    let tokens: Vec<u16> = (0..5 * 201)
        .map(|i| {
            if i % 201 == 0 {
                return tracemark_trace::SEP;
            }
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
            [0x0102u16, 0x0201, 0x00FF, 0x0100, 0x0001][(state >> 60) as usize % 5]
        })
        .collect();
    let file = dir.path().join("t.u16");
    fs::write(
        &file,
        tokens
            .iter()
            .flat_map(|t| t.to_le_bytes())
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let idx = dir.path().join("idx");
    build_from_token_file(&idx, &file, &ByteTokenizer, BuildOptions::default()).unwrap();
    let index = Index::open(&idx, Arc::new(ByteTokenizer)).unwrap();
    let out = dir.path().join("ig");
    let s = export(&index, &out).unwrap();
    assert_eq!(s.resorted, vec![0]);
    check_export(&out, 0, &tokens, &doc_starts(&tokens));
    // Counts are order-independent: the index still agrees with a scan.
    let q = [0x0102u16, 0x0201];
    let scan = tokens.windows(2).filter(|w| *w == q).count() as u64;
    assert_eq!(index.count_ids(&q), scan);
}

#[test]
fn export_refuses_paths_the_engine_would_misread_and_existing_directories() {
    let dir = tempfile::tempdir().unwrap();
    let docs = vec![Document {
        meta: DocMeta::new("a"),
        text: common::HARBOUR.into(),
    }];
    let index = common::build(dir.path(), "idx", docs, 1 << 20);
    let err = export(&index, &dir.path().join("my-table-export")).unwrap_err();
    assert!(err.to_string().contains("`table`"), "{err}");
    fs::create_dir(dir.path().join("there")).unwrap();
    let err = export(&index, &dir.path().join("there")).unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
}
