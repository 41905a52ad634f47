//! Tracing prose outputs to their sources with rights, withdrawal, near-duplicates, and
//! the corpus n-gram model.

mod common;

use std::{fs, path::Path, sync::Arc};

use common::*;
use tracemark_core::{Timestamp, rights::Permission};
use tracemark_trace::{
    BuildOptions, ByteTokenizer, Index, NgramModel, Tombstone, TraceOptions, build_index,
    near_duplicates, trace, withdraw,
};

const NOVEL: &str = "Nothing in this sentence was ever written down before today, I hope. ";

/// The prose corpus as JSON Lines with rights signals: harbour opted out before its
/// fetch, orchard only after it, ledger and weather never.
fn corpus(dir: &Path) -> Index {
    let optout = "User-agent: *\nContent-Usage: / train-ai=n\n";
    let lines = [
        serde_json::json!({"id": "harbour", "text": HARBOUR, "owner": "Ferry Writers", "licence": "All rights reserved",
            "url": "https://ferry.example/harbour", "fetched_at": "2026-02-01T00:00:00Z",
            "signals": [{"source": "https://ferry.example/robots.txt", "content": optout, "seen_at": "2026-01-15T00:00:00Z"}]}),
        serde_json::json!({"id": "orchard", "text": ORCHARD, "owner": "Pear Press", "licence": "CC-BY-4.0",
            "url": "https://pear.example/orchard", "fetched_at": "2026-02-01T00:00:00Z",
            "signals": [{"source": "https://pear.example/robots.txt", "content": "User-agent: *\nAllow: /\n"},
                        {"source": "https://pear.example/robots.txt", "content": optout, "seen_at": "2026-06-01T00:00:00Z"}]}),
        serde_json::json!({"id": "ledger", "text": LEDGER, "owner": "Clerk Press", "licence": "CC-BY-ND-4.0"}),
        serde_json::json!({"id": "weather", "text": WEATHER, "owner": "Met Office of Nowhere", "licence": "OGL"}),
    ];
    let path = dir.join("corpus.jsonl");
    fs::write(
        &path,
        lines.iter().map(|l| format!("{l}\n")).collect::<String>(),
    )
    .unwrap();
    let out = dir.join("idx");
    build_index(&out, &[path], &ByteTokenizer, BuildOptions::default()).unwrap();
    Index::open(&out, Arc::new(ByteTokenizer)).unwrap()
}

fn all_spans() -> TraceOptions {
    TraceOptions {
        keep_fraction: None,
        ..TraceOptions::default()
    }
}

#[test]
fn copied_passages_are_traced_to_their_sources_with_rights_at_fetch_time() {
    let dir = tempfile::tempdir().unwrap();
    let index = corpus(dir.path());
    let from_harbour = "the passengers applauded as if a play had ended";
    let from_orchard = "by February we were eating fruit wrapped in stories nobody remembered";
    let output = format!("{NOVEL}Then {from_harbour}, and {from_orchard}. {NOVEL}");
    let report = trace(&index, &output, &all_spans()).unwrap();
    assert_eq!(report.spans.len(), 2, "{:#?}", report.spans);
    for (span, copied, id) in [
        (&report.spans[0], from_harbour, "harbour"),
        (&report.spans[1], from_orchard, "orchard"),
    ] {
        assert_eq!(span.range.slice(&output).unwrap(), span.text);
        assert!(
            span.text.contains(copied) || copied.contains(span.text.trim()),
            "{:?}",
            span.text
        );
        assert_eq!(span.documents.len(), 1);
        assert_eq!(span.documents[0].id, id);
        assert_eq!(span.occurrences, 1);
    }
    let h = &report.spans[0].documents[0];
    assert_eq!(
        (h.owner.as_deref(), h.licence.as_deref()),
        (Some("Ferry Writers"), Some("All rights reserved"))
    );
    assert_eq!(h.opt_out_at_fetch, Permission::Disallowed);
    assert_eq!(h.signals_at_fetch, vec!["aipref".to_owned()]);
    let o = &report.spans[1].documents[0];
    assert_ne!(
        o.opt_out_at_fetch,
        Permission::Disallowed,
        "the opt-out came after the fetch"
    );
    assert_eq!(o.latest, Permission::Disallowed);
    let copied = (from_harbour.len() + from_orchard.len()) as f64 / output.len() as f64;
    assert!(
        report.coverage >= copied * 0.95 && report.coverage <= copied + 0.05,
        "{} vs {copied}",
        report.coverage
    );
    let findings = report.span_findings();
    assert_eq!(findings[0].documents[0].id, "harbour");
    let json = serde_json::to_value(&report).unwrap();
    assert!(json["coverage"].is_f64() && json["spans"][0]["documents"][0]["owner"].is_string());
    assert_eq!(
        json["spans"][0]["range"]["start"],
        report.spans[0].range.start()
    );
}

#[test]
fn novel_text_has_no_span_and_the_olmotrace_default_keeps_the_rarest() {
    let dir = tempfile::tempdir().unwrap();
    let index = corpus(dir.path());
    let report = trace(&index, NOVEL, &TraceOptions::default()).unwrap();
    assert!(report.spans.is_empty());
    assert_eq!(report.coverage, 0.0);
    // The whole of two documents: many maximal spans? One each, and K = ceil(0.05 L).
    let output = format!("{HARBOUR} {LEDGER}");
    let report = trace(&index, &output, &TraceOptions::default()).unwrap();
    assert_eq!(report.spans_total, 2);
    assert!(report.coverage > 0.99);
    assert_eq!(report.spans.len(), 2);
    let short = TraceOptions {
        keep_fraction: Some(1e-9),
        ..TraceOptions::default()
    };
    let one = trace(&index, &output, &short).unwrap();
    assert_eq!(one.spans.len(), 1);
    // The longer document has the lower unigram probability.
    assert_eq!(one.spans[0].documents[0].id, "ledger");
}

#[test]
fn spans_start_and_end_on_whole_words() {
    let dir = tempfile::tempdir().unwrap();
    let index = corpus(dir.path());
    // "ocking for his dog among the fish crates on the qu" is in the corpus, cut mid-word.
    let output = "xyzlooking for his dog among the fish crates on the quxyz";
    let report = trace(
        &index,
        output,
        &TraceOptions {
            min_tokens: 10,
            ..all_spans()
        },
    )
    .unwrap();
    assert_eq!(report.spans.len(), 1);
    assert_eq!(
        report.spans[0].text,
        "for his dog among the fish crates on the"
    );
    let raw = trace(
        &index,
        output,
        &TraceOptions {
            min_tokens: 10,
            whole_words: false,
            ..all_spans()
        },
    )
    .unwrap();
    assert_eq!(
        raw.spans[0].text,
        "looking for his dog among the fish crates on the qu"
    );
}

#[test]
fn withdrawn_documents_are_reported_apart_with_the_time_of_withdrawal() {
    let dir = tempfile::tempdir().unwrap();
    let index = corpus(dir.path());
    let when: Timestamp = "2026-07-01T00:00:00Z".parse().unwrap();
    withdraw(
        index.dir(),
        &Tombstone {
            id: "harbour".into(),
            withdrawn_at: when,
            reason: Some("owner request".into()),
        },
    )
    .unwrap();
    let index = Index::open(index.dir(), Arc::new(ByteTokenizer)).unwrap();
    let output = "the passengers applauded as if a play had ended";
    let report = trace(
        &index,
        output,
        &TraceOptions {
            min_tokens: 10,
            ..all_spans()
        },
    )
    .unwrap();
    assert!(report.spans[0].documents.is_empty());
    assert_eq!(report.spans[0].withdrawn[0].withdrawn_at, when);
    assert_eq!(
        index.count(output).unwrap(),
        1,
        "counts describe the immutable shards"
    );
    assert!(
        withdraw(
            dir.path(),
            &Tombstone {
                id: "x".into(),
                withdrawn_at: when,
                reason: None
            }
        )
        .is_err()
    );
}

#[test]
fn near_duplicates_find_a_paraphrase_that_exact_spans_miss() {
    let dir = tempfile::tempdir().unwrap();
    let index = corpus(dir.path());
    let edited = LEDGER
        .replace("Clerks", "Scribes")
        .replace("different ink", "another ink");
    let found = near_duplicates(&index, &edited, 0.5).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].document.id, "ledger");
    let exact = tracemark_trace::minhash::Scheme::CURRENT.exact_jaccard(LEDGER, &edited);
    assert!(
        (found[0].jaccard - exact).abs() < 0.15,
        "{} vs {exact}",
        found[0].jaccard
    );
    assert_eq!(found[0].finding().jaccard, found[0].jaccard);
    assert!(near_duplicates(&index, NOVEL, 0.1).unwrap().is_empty());
}

#[test]
fn the_smoothed_model_keeps_entropy_where_the_infinigram_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let index = corpus(dir.path());
    let text = ids(ORCHARD);
    let single = (1..text.len())
        .filter(|&i| index.infinigram_ntd(&text[..i]).counts.len() == 1)
        .count() as f64
        / (text.len() - 1) as f64;
    assert!(single > 0.8, "∞-gram single-continuation share {single}");
    let mut model = NgramModel::from_index(&index, 5).unwrap();
    let h = model.mean_entropy_bits(&text);
    assert!(h > 1.0, "mean entropy {h} bits per token");
    let logits = model.next_token_logits(&[u32::from(b't') + 1, u32::from(b'h') + 1]);
    assert_eq!(logits.len(), 257);
    let p: f64 = logits.iter().map(|&l| f64::from(l).exp()).sum();
    assert!((p - 1.0).abs() < 1e-4);
    let e = logits[usize::from(b'e') + 1];
    assert!(
        logits.iter().all(|&l| l <= e),
        "'th' is most often followed by 'e'"
    );
}

#[test]
fn byte_matches_that_end_inside_a_character_are_trimmed_to_whole_characters() {
    let dir = tempfile::tempdir().unwrap();
    let index = build(
        dir.path(),
        "i",
        vec![doc("q", "the word “alpha beta gamma” ends here")],
        1 << 20,
    );
    // ” and “ share their first two bytes: the byte-level match ends inside a character.
    let output = "the word ”alpha beta gamma“ ends here";
    for whole_words in [true, false] {
        let options = TraceOptions {
            min_tokens: 3,
            whole_words,
            ..all_spans()
        };
        let report = trace(&index, output, &options).unwrap();
        for s in &report.spans {
            assert_eq!(s.range.slice(output).unwrap(), s.text);
        }
        let texts: Vec<&str> = report.spans.iter().map(|s| s.text.as_str()).collect();
        assert!(
            texts.contains(&"alpha beta gamma"),
            "{whole_words}: {texts:?}"
        );
        assert!(texts.iter().any(|t| t.starts_with("the word")), "{texts:?}");
    }
}
