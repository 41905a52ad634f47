//! A corpus indexed in shards answers exactly as the same corpus indexed whole: counts,
//! documents, traces, withdrawals; and a set of parts that is not one corpus's is
//! refused.

use std::{
    fs,
    path::{Path, PathBuf},
    sync::Arc,
};

use tracemark_core::Timestamp;
use tracemark_trace::{
    BuildOptions, ByteTokenizer, DocumentsResult, Index, IndexTokenizer, Tombstone, TraceError,
    TraceOptions, build_index,
    sharded::{self, SHARDED_FILE},
    trace, withdraw,
};

/// A deterministic pseudo-random source (no dependency, same corpus everywhere).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

const WORDS: [&str; 24] = [
    "the", "harbour", "pear", "ledger", "rain", "lantern", "ferry", "orchard", "column", "promise",
    "upland", "station", "quiet", "river", "stone", "winter", "copper", "mill", "salt", "road",
    "bell", "thread", "window", "ash",
];

/// 240 documents of word salad, with passages shared between some of them (so a span
/// occurs in several documents and the parts' document lists must merge).
fn texts() -> Vec<String> {
    let mut rng = Lcg(7);
    let shared: Vec<String> = (0..6)
        .map(|_| {
            (0..12)
                .map(|_| WORDS[rng.next(WORDS.len())])
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    (0..240)
        .map(|d| {
            let mut words: Vec<String> = (0..20 + rng.next(120))
                .map(|_| WORDS[rng.next(WORDS.len())].to_owned())
                .collect();
            if d % 5 == 0 {
                words.insert(
                    rng.next(words.len()),
                    shared[rng.next(shared.len())].clone(),
                );
            }
            words.join(" ")
        })
        .collect()
}

fn write_corpus(dir: &Path, texts: &[String]) -> PathBuf {
    write_corpus_with_ids(dir, texts, |i| i)
}

/// The corpus with document `i` named `doc-{id(i)}`.
fn write_corpus_with_ids(dir: &Path, texts: &[String], id: impl Fn(usize) -> usize) -> PathBuf {
    let path = dir.join("corpus.jsonl");
    let lines: String = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let line = serde_json::json!({"id": format!("doc-{:03}", id(i)), "text": t,
                "owner": format!("owner {}", i % 7)});
            format!("{line}\n")
        })
        .collect();
    fs::write(&path, lines).unwrap();
    path
}

fn bytes() -> Arc<dyn IndexTokenizer> {
    Arc::new(ByteTokenizer)
}

/// The corpus indexed whole and in four shards.
fn whole_and_sharded(dir: &Path) -> (Index, Index, Vec<String>) {
    let texts = texts();
    let corpus = write_corpus(dir, &texts);
    let whole = dir.join("whole");
    build_index(
        &whole,
        std::slice::from_ref(&corpus),
        &ByteTokenizer,
        BuildOptions::default(),
    )
    .unwrap();
    let sharded_dir = dir.join("sharded");
    let done = sharded::build(
        &sharded_dir,
        &[corpus],
        &ByteTokenizer,
        4,
        None,
        BuildOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    let manifest = done.manifest.expect("a whole build assembles its manifest");
    assert_eq!(manifest.shards.len(), 4);
    assert_eq!(
        manifest.shards.iter().map(|s| s.documents).sum::<u64>(),
        texts.len() as u64
    );
    (
        Index::open(&whole, bytes()).unwrap(),
        Index::open(&sharded_dir, bytes()).unwrap(),
        texts,
    )
}

#[test]
fn thousands_of_counts_and_every_trace_are_identical_whole_and_in_shards() {
    let dir = tempfile::tempdir().unwrap();
    let (whole, sharded, texts) = whole_and_sharded(dir.path());
    assert_eq!(whole.total_tokens(), sharded.total_tokens());
    assert_eq!(whole.total_documents(), sharded.total_documents());
    assert_eq!(whole.unigram_counts(), sharded.unigram_counts());

    let mut rng = Lcg(11);
    let mut nonzero = 0;
    for _ in 0..4000 {
        let text = &texts[rng.next(texts.len())];
        let start = rng.next(text.len());
        let len = 1 + rng.next(40);
        let q: Vec<u16> = ByteTokenizer
            .encode_ids(&text[start..(start + len).min(text.len())])
            .unwrap();
        let count = whole.count_ids(&q);
        nonzero += usize::from(count > 0);
        assert_eq!(count, sharded.count_ids(&q), "{q:?}");
    }
    assert!(nonzero > 3000);
    // Text the corpus has never seen counts zero in both.
    assert_eq!(sharded.count("zebra quartz").unwrap(), 0);

    let options = TraceOptions {
        keep_fraction: None,
        min_tokens: 16,
        max_documents: 2,
        ..TraceOptions::default()
    };
    for k in 0..40 {
        let a = &texts[(k * 7) % texts.len()];
        let b = &texts[(k * 13 + 5) % texts.len()];
        let output = format!("{} zebra quartz {}", &a[..a.len() / 2], &b[b.len() / 3..]);
        let one = trace(&whole, &output, &options).unwrap();
        assert!(!one.spans.is_empty());
        assert_eq!(one, trace(&sharded, &output, &options).unwrap());
    }
}

#[test]
fn each_parts_documents_merge_into_the_wholes_answer() {
    let dir = tempfile::tempdir().unwrap();
    let (whole, _, texts) = whole_and_sharded(dir.path());
    let parts: Vec<Index> = (0..4)
        .map(|k| Index::open(&dir.path().join(format!("sharded/part-{k:05}")), bytes()).unwrap())
        .collect();
    let mut rng = Lcg(3);
    for _ in 0..300 {
        let text = &texts[5 * rng.next(texts.len() / 5)];
        let start = rng.next(text.len().saturating_sub(8));
        let q = ByteTokenizer
            .encode_ids(&text[start..(start + 8).min(text.len())])
            .unwrap();
        for limit in [1, 3, 50] {
            let mut first_shard = 0;
            let answers = parts.iter().map(|p| {
                let answer = (first_shard, p.documents_ids(&q, limit).unwrap());
                first_shard += p.shards().len();
                answer
            });
            let merged = DocumentsResult::merge(answers.collect::<Vec<_>>(), limit);
            let direct = whole.documents_ids(&q, limit).unwrap();
            let ids = |r: &DocumentsResult| {
                r.documents
                    .iter()
                    .map(|h| (h.meta.id.clone(), h.occurrences))
                    .collect::<Vec<_>>()
            };
            assert_eq!(ids(&merged), ids(&direct));
            assert_eq!(merged.occurrences, direct.occurrences);
            assert!(merged.complete && direct.complete);
        }
    }
}

#[test]
fn a_withdrawal_applies_to_whichever_shard_holds_the_document() {
    let dir = tempfile::tempdir().unwrap();
    let (_, _, texts) = whole_and_sharded(dir.path());
    let sharded_dir = dir.path().join("sharded");
    // A document of the last part, withdrawn through the sharded index.
    let id = format!("doc-{:03}", texts.len() - 1);
    let tombstone = Tombstone {
        id: id.clone(),
        withdrawn_at: "2026-11-01T00:00:00Z".parse::<Timestamp>().unwrap(),
        reason: Some("opted out".into()),
    };
    withdraw(&sharded_dir, &tombstone).unwrap();
    let index = Index::open(&sharded_dir, bytes()).unwrap();
    assert_eq!(index.tombstone(&id), Some(&tombstone));
    assert_eq!(index.withdrawn_files().len(), 4);
    // Each part's own reader (a shard server) applies it too.
    let last = Index::open(&sharded_dir.join("part-00003"), bytes()).unwrap();
    assert_eq!(last.tombstone(&id), Some(&tombstone));
    let q = ByteTokenizer.encode_ids(texts.last().unwrap()).unwrap();
    let found = index.documents_ids(&q, 10).unwrap();
    assert!(found.documents.iter().all(|h| h.meta.id != id));
    assert_eq!(found.withdrawn[0].meta.id, id);
}

#[test]
fn parts_built_apart_assemble_and_a_changed_part_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = write_corpus(dir.path(), &texts());
    let out = dir.path().join("apart");
    // Three machines, one part each, in any order; the last to finish assembles.
    for k in [2, 0, 1] {
        let done = sharded::build(
            &out,
            std::slice::from_ref(&corpus),
            &ByteTokenizer,
            3,
            Some(k),
            BuildOptions::default(),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(done.built.len(), 1);
        assert_eq!(done.manifest.is_some(), k == 1);
    }
    let index = Index::open(&out, bytes()).unwrap();
    assert_eq!(index.total_documents(), 240);
    // A part rebuilt since (here: its manifest edited) no longer matches its digest.
    let part = out.join("part-00001/index.json");
    let edited = fs::read_to_string(&part)
        .unwrap()
        .replace("\"of\": 3", "\"of\":3");
    fs::write(&part, edited).unwrap();
    let err = Index::open(&out, bytes()).unwrap_err();
    assert!(err.to_string().contains("digest"), "{err}");
}

#[test]
fn a_set_of_parts_that_is_not_one_corpus_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let texts = texts();
    let corpus = write_corpus(dir.path(), &texts);
    let build = |out: &Path, corpus: &Path, n, k| {
        sharded::build(
            out,
            &[corpus.to_owned()],
            &ByteTokenizer,
            n,
            Some(k),
            BuildOptions::default(),
            &mut |_| {},
        )
    };
    // A missing part: no manifest, and assembling says how many are there.
    let out = dir.path().join("missing");
    build(&out, &corpus, 3, 0).unwrap();
    build(&out, &corpus, 3, 2).unwrap();
    assert!(!out.join(SHARDED_FILE).exists());
    // A part another machine is still building is not counted as one.
    fs::create_dir(out.join("part-00001.partial")).unwrap();
    let err = sharded::assemble(&out).unwrap_err().to_string();
    assert!(err.contains("partition 2 of 3"), "{err}");
    // Parts of two different cuts of the corpus.
    let out = dir.path().join("cuts");
    build(&out, &corpus, 2, 0).unwrap();
    build(&out, &corpus, 3, 1).unwrap();
    let err = sharded::assemble(&out).unwrap_err().to_string();
    assert!(err.contains("partition 1 of 3"), "{err}");
    // The same ids in two parts: the second part built from a copy of the corpus whose
    // ids run backwards.
    let other = dir.path().join("other");
    fs::create_dir(&other).unwrap();
    let other = write_corpus_with_ids(&other, &texts, |i| texts.len() - 1 - i);
    let out = dir.path().join("twice");
    build(&out, &corpus, 2, 0).unwrap();
    let err = build(&out, &other, 2, 1).unwrap_err();
    assert!(matches!(err, TraceError::DuplicateId { .. }), "{err}");
    // A part out of its directory never opens.
    let out = dir.path().join("escape");
    fs::create_dir(&out).unwrap();
    let manifest = serde_json::json!({"format": sharded::SHARDED_FORMAT,
        "tokenizer": {"name": "bytes", "identity": ByteTokenizer.identity(), "vocab_size": 257},
        "shards": [{"path": "../whole", "digest": "00", "first_document": 0, "documents": 1, "tokens": 2}]});
    fs::write(out.join(SHARDED_FILE), manifest.to_string()).unwrap();
    let err = Index::open(&out, bytes()).unwrap_err().to_string();
    assert!(err.contains("leaves the index's directory"), "{err}");
}

#[test]
fn a_failed_whole_build_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = write_corpus(dir.path(), &texts()[..3]);
    let out = dir.path().join("too-many");
    let err = sharded::build(
        &out,
        &[corpus],
        &ByteTokenizer,
        4,
        None,
        BuildOptions::default(),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("cannot cut 3 documents into 4"),
        "{err}"
    );
    assert!(!out.exists());
    assert!(!dir.path().join("too-many.partial").exists());
}
