//! Shared fixtures: a few paragraphs of original prose written for these tests, and
//! brute-force oracles.
#![allow(dead_code)]

use std::{path::Path, sync::Arc};

use tracemark_trace::{
    BuildOptions, ByteTokenizer, Index, IndexBuilder, SEP,
    corpus::{DocMeta, Document, IngestStats},
};

pub const HARBOUR: &str = "The ferry left the harbour an hour late, because the pilot had gone \
looking for his dog among the fish crates on the quay, and nobody on board thought it \
reasonable to sail without either of them. When the two came back, the dog first and the \
pilot a good way behind, the passengers applauded as if a play had ended. The captain did \
not smile. He had a timetable pinned above the wheel, and he looked at it the way some men \
look at a photograph of a house they once owned.";

pub const ORCHARD: &str = "My grandmother kept an orchard of eleven pear trees and one apple \
tree that she refused to explain. Every autumn she wrapped the pears in newspaper and laid \
them in the cellar in rows, oldest news at the bottom, so that by February we were eating \
fruit wrapped in stories nobody remembered. The apple tree she left alone. Its fruit fell \
and rotted in the grass, and the wasps grew drunk and slow on it, and she would stand at the \
kitchen window with her tea and watch them as though they were relatives.";

pub const LEDGER: &str = "A ledger is a promise written in columns. Each line says that \
something happened, to whom, and when, and the line below it may not contradict it, only \
add to it. Clerks who kept the old merchant books were forbidden to erase; a mistake was \
struck through with a single rule so that it stayed legible, and the correction was \
written beside it in a different ink. Auditors trusted those pages more than clean ones, \
because a page without a single correction usually meant that someone had copied it out \
again, and copying is where the quiet changes happen.";

pub const WEATHER: &str = "Quarterly rainfall figures for the upland stations were revised \
after the calibration error in two of the gauges came to light last spring. The revision \
raised the totals for the wettest months by about four percent and left the dry months \
almost untouched, which is what one would expect from a funnel that overflowed only in \
heavy showers. Readers who downloaded the older tables should replace them; the station \
notes now record the date of each repair and the name of the technician who made it.";

pub const PROSE: [(&str, &str); 4] = [
    ("harbour", HARBOUR),
    ("orchard", ORCHARD),
    ("ledger", LEDGER),
    ("weather", WEATHER),
];

/// Builds an index of `docs` at `dir/name` with the byte tokenizer.
pub fn build(dir: &Path, name: &str, docs: Vec<Document>, max_shard_tokens: usize) -> Index {
    let out = dir.join(name);
    let mut b = IndexBuilder::create(
        &out,
        &ByteTokenizer,
        BuildOptions {
            max_shard_tokens,
            batch: 3,
        },
    )
    .unwrap();
    for d in docs {
        b.add(d).unwrap();
    }
    b.finish(IngestStats::default()).unwrap();
    Index::open(&out, Arc::new(ByteTokenizer)).unwrap()
}

pub fn doc(id: &str, text: &str) -> Document {
    Document {
        meta: DocMeta::new(id),
        text: text.to_owned(),
    }
}

/// The prose documents with owners and licences.
pub fn prose_docs() -> Vec<Document> {
    PROSE
        .iter()
        .enumerate()
        .map(|(i, (id, text))| {
            let mut d = doc(id, text);
            d.meta.owner = Some(format!("Owner {i}"));
            d.meta.licence = Some(
                if i % 2 == 0 {
                    "CC-BY-4.0"
                } else {
                    "All rights reserved"
                }
                .into(),
            );
            d
        })
        .collect()
}

/// infini-gram's token array of documents (SEP before each, byte + 1 ids).
pub fn token_array(texts: &[&str]) -> Vec<u16> {
    let mut out = Vec::new();
    for t in texts {
        out.push(SEP);
        out.extend(t.bytes().map(|b| u16::from(b) + 1));
    }
    out
}

/// Overlapping occurrences of `q` in `arr` (infini-gram's count semantics).
pub fn brute_count(arr: &[u16], q: &[u16]) -> u64 {
    if q.is_empty() {
        return arr.len() as u64;
    }
    arr.windows(q.len()).filter(|w| *w == q).count() as u64
}

pub fn ids(text: &str) -> Vec<u16> {
    text.bytes().map(|b| u16::from(b) + 1).collect()
}
