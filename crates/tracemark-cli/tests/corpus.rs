//! `tracemark index`, `count` and `trace` over the committed demo corpus.

mod common;

use std::path::{Path, PathBuf};

use common::{json, tracemark};

fn demo_texts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus/demo/texts")
}

fn passage(doc: &str, from: &str, bytes: usize) -> String {
    let text = std::fs::read_to_string(demo_texts().join(doc)).unwrap();
    let at = text
        .find(from)
        .unwrap_or_else(|| panic!("{from:?} not in {doc}"));
    let mut end = at + bytes;
    while !text.is_char_boundary(end) {
        end += 1;
    }
    text[at..end].to_owned()
}

fn build(dir: &Path) {
    let built = json(
        tracemark(dir)
            .args(["index", "build", "--out", "index"])
            .arg(demo_texts()),
        0,
    );
    assert!(built["documents"].as_u64().unwrap() >= 60, "{built}");
    assert_eq!(built["ingest"]["skipped_empty"], 0);
}

#[test]
fn an_output_copying_an_opted_out_story_is_traced_to_its_owner() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    build(dir);

    let info = json(
        tracemark(dir).args(["index", "info", "--verify", "index"]),
        0,
    );
    assert!(info["bytes_per_token"].as_f64().unwrap() < 8.0, "{info}");
    assert_eq!(info["withdrawn"], 0);

    // Counts: a phrase of one story occurs once, a made-up one never.
    let phrase = "two white flashes every fifteen seconds";
    let one = json(
        tracemark(dir).args(["count", "--index", "index", phrase]),
        0,
    );
    assert_eq!(one["count"], 1);
    let none = json(
        tracemark(dir).args(["count", "--index", "index", "flashes every sixteen seconds"]),
        0,
    );
    assert_eq!(none["count"], 0);

    // An "output": a sentence of its own, then 300 bytes of a Marrow Lane story (opted
    // out before the fetch), then 300 bytes of an Ines Halden essay (opted out after).
    let story = passage(
        "marrow-lane-press/the-lamp-room.txt",
        "The lens was as tall",
        300,
    );
    let essay = passage("ines-halden/sphagnum.txt", "I go up once a month", 300);
    let own = "Here is a short preface that nobody has written before, about nothing at all. ";
    let output = format!("{own}{story} {essay}");
    std::fs::write(dir.join("output.txt"), &output).unwrap();

    let report = json(
        tracemark(dir).args(["trace", "--index", "index", "--all-spans", "output.txt"]),
        0,
    );
    let coverage = report["coverage"].as_f64().unwrap();
    assert!(coverage > 0.7 && coverage < 0.95, "coverage {coverage}");
    let spans = report["spans"].as_array().unwrap();
    let owners: Vec<&str> = spans
        .iter()
        .flat_map(|s| s["documents"].as_array().unwrap())
        .map(|d| d["owner"].as_str().unwrap())
        .collect();
    assert!(owners.contains(&"Marrow Lane Press"), "{owners:?}");
    assert!(owners.contains(&"Ines Halden"), "{owners:?}");
    let lamp = spans
        .iter()
        .find(|s| {
            s["documents"][0]["id"]
                .as_str()
                .unwrap()
                .contains("the-lamp-room")
        })
        .expect("a span from The Lamp Room");
    // Byte ranges of the output, and the text they name.
    let (start, end) = (
        lamp["range"]["start"].as_u64().unwrap() as usize,
        lamp["range"]["end"].as_u64().unwrap() as usize,
    );
    assert_eq!(&output[start..end], lamp["text"].as_str().unwrap());
    assert!(start >= own.len() - 1);
    assert_eq!(lamp["documents"][0]["licence"], "All rights reserved");
    assert_eq!(lamp["documents"][0]["opt_out_at_fetch"], "disallowed");
    let moss = spans
        .iter()
        .find(|s| s["documents"][0]["owner"] == "Ines Halden")
        .unwrap();
    // Her opt-out came after the fetch: not in force then, in force now.
    assert_ne!(moss["documents"][0]["opt_out_at_fetch"], "disallowed");
    assert_eq!(moss["documents"][0]["latest"], "disallowed");

    // The human form names the owner and the decision.
    let human = tracemark(dir)
        .args(["trace", "--index", "index", "output.txt"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let human = String::from_utf8(human).unwrap();
    assert!(human.contains("found verbatim in the corpus"), "{human}");

    // Withdrawn later: no longer a live source, reported with its withdrawal.
    let id = lamp["documents"][0]["id"].as_str().unwrap().to_owned();
    tracemark(dir)
        .args([
            "index",
            "withdraw",
            "index",
            "--id",
            &id,
            "--at",
            "2026-06-01T00:00:00Z",
        ])
        .assert()
        .success();
    let report = json(
        tracemark(dir).args(["trace", "--index", "index", "--all-spans", "output.txt"]),
        0,
    );
    let withdrawn: Vec<&serde_json::Value> = report["spans"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["withdrawn"].as_array().unwrap())
        .collect();
    assert!(withdrawn.iter().any(|w| w["id"] == id.as_str()), "{report}");
    let info = json(tracemark(dir).args(["index", "info", "index"]), 0);
    assert_eq!(info["withdrawn"], 1);
}

#[test]
fn broken_indexes_and_corpora_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // A corpus that does not exist; an index that does not exist.
    json(
        tracemark(dir).args(["index", "build", "--out", "x", "no-such-corpus"]),
        2,
    );
    assert!(!dir.join("x").exists());
    json(tracemark(dir).args(["count", "--index", "nowhere", "a"]), 3);

    // A corpus with a broken metadata line fails and leaves no index behind.
    std::fs::write(
        dir.join("bad.jsonl"),
        "{\"id\": \"a\", \"text\": \"fine\"}\n{\"id\": \"b\", \"text\": 7}\n",
    )
    .unwrap();
    let out = json(
        tracemark(dir).args(["index", "build", "--out", "bad", "bad.jsonl"]),
        3,
    );
    assert!(
        out["error"]["message"].as_str().unwrap().contains("line 2"),
        "{out}"
    );
    assert!(!dir.join("bad/index.json").exists());

    // An index is never written over.
    std::fs::write(
        dir.join("ok.jsonl"),
        "{\"id\": \"a\", \"text\": \"some text\"}\n",
    )
    .unwrap();
    json(
        tracemark(dir).args(["index", "build", "--out", "ok", "ok.jsonl"]),
        0,
    );
    json(
        tracemark(dir).args(["index", "build", "--out", "ok", "ok.jsonl"]),
        2,
    );

    // A truncated token file is caught when the shard is opened.
    let shard = std::fs::read_dir(dir.join("ok"))
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("shard-"))
        .unwrap()
        .path();
    let tokens = shard.join("tokens.u16");
    let bytes = std::fs::read(&tokens).unwrap();
    std::fs::write(&tokens, &bytes[..bytes.len() - 2]).unwrap();
    let out = json(tracemark(dir).args(["count", "--index", "ok", "text"]), 3);
    assert!(
        out["error"]["message"]
            .as_str()
            .unwrap()
            .contains("corrupt"),
        "{out}"
    );
}

#[test]
fn a_parquet_corpus_is_indexed_with_its_rights_metadata_and_a_damaged_one_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tracemark-trace/tests/fixtures");
    let built = json(
        tracemark(dir)
            .args(["index", "build", "--out", "pq"])
            .arg(fixtures.join("corpus-snappy.parquet"))
            .arg(fixtures.join("corpus-zstd.parquet")),
        0,
    );
    assert_eq!(built["documents"], 5, "{built}");
    assert_eq!(built["ingest"]["skipped_empty"], 1);
    assert_eq!(built["ingest"]["skipped_invalid_utf8"], 1);
    let one = json(
        tracemark(dir).args(["count", "--index", "pq", "eleven pear trees"]),
        0,
    );
    assert_eq!(one["count"], 1);

    // A truncated Parquet file: exit 3, the file named, no index left behind.
    let bytes = std::fs::read(fixtures.join("corpus-snappy.parquet")).unwrap();
    std::fs::write(dir.join("cut.parquet"), &bytes[..bytes.len() / 2]).unwrap();
    let out = json(
        tracemark(dir).args(["index", "build", "--out", "cut", "cut.parquet"]),
        3,
    );
    let message = out["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("Parquet corpus") && message.contains("cut.parquet"),
        "{out}"
    );
    assert!(!dir.join("cut").exists() && !dir.join("cut.partial").exists());
}
