//! Build time and count latency on a synthetic corpus (pseudo-English words drawn with
//! a Zipf-like law from a fixed seed). Timings live here, never in tests.

use std::{hint::black_box, sync::Arc};

use criterion::{Criterion, criterion_group, criterion_main};
use tracemark_trace::{
    BuildOptions, ByteTokenizer, Index, IndexBuilder, TraceOptions,
    corpus::{DocMeta, Document, IngestStats},
    trace,
};

const WORDS: &[&str] = &[
    "the", "of", "and", "a", "to", "in", "is", "was", "that", "for", "river", "lantern", "copper",
    "quietly", "harbour", "ledger", "orchard", "signal", "measure", "window", "winter", "stone",
    "letter", "promise", "engine", "across", "beneath", "seldom", "garden", "pilot", "column",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

/// Documents of about 2 KB until `bytes` are written.
fn corpus(bytes: usize) -> Vec<String> {
    let mut rng = Rng(42);
    let mut docs = Vec::new();
    let mut total = 0;
    while total < bytes {
        let mut d = String::new();
        while d.len() < 2000 {
            // Zipf-like: the square of a uniform index favours the first words.
            let u = rng.next() % 1000;
            let w = WORDS[(u * u / 1000 * WORDS.len() as u64 / 1000) as usize];
            d.push_str(w);
            d.push(if rng.next().is_multiple_of(12) {
                '.'
            } else {
                ' '
            });
        }
        total += d.len();
        docs.push(d);
    }
    docs
}

fn build(dir: &std::path::Path, name: &str, docs: &[String]) -> Index {
    let out = dir.join(name);
    let mut b = IndexBuilder::create(&out, &ByteTokenizer, BuildOptions::default()).unwrap();
    for (i, d) in docs.iter().enumerate() {
        b.add(Document {
            meta: DocMeta::new(format!("d{i}")),
            text: d.clone(),
        })
        .unwrap();
    }
    b.finish(IngestStats::default()).unwrap();
    Index::open(&out, Arc::new(ByteTokenizer)).unwrap()
}

fn benches(c: &mut Criterion) {
    let docs = corpus(4 << 20);
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    let mut g = c.benchmark_group("build");
    g.sample_size(10);
    g.bench_function("4MiB", |b| {
        b.iter(|| {
            n += 1;
            black_box(build(dir.path(), &format!("b{n}"), &docs))
        })
    });
    g.finish();
    let index = build(dir.path(), "q", &docs);
    let mut rng = Rng(7);
    let queries: Vec<String> = (0..1000)
        .map(|_| {
            let d = &docs[rng.next() as usize % docs.len()];
            let len = 2 + rng.next() as usize % 40;
            let at = rng.next() as usize % (d.len() - len);
            d[at..at + len].to_owned()
        })
        .collect();
    let mut i = 0;
    c.bench_function("count/present-2..42-bytes", |b| {
        b.iter(|| {
            i = (i + 1) % queries.len();
            black_box(index.count(&queries[i]).unwrap())
        })
    });
    let output: String = docs[3][..450].to_owned();
    c.bench_function("trace/450-bytes", |b| {
        b.iter(|| black_box(trace(&index, &output, &TraceOptions::default()).unwrap()))
    });
}

criterion_group!(group, benches);
criterion_main!(group);
