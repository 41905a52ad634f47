//! `tracemark summary`: the public summary of training content of an indexed corpus, on
//! the demo corpus and on a corpus of thousands of domains, whose list must be exactly
//! the top 10 % by bytes.

mod common;

use std::{collections::BTreeMap, fmt::Write as _, path::Path};

use common::{json, tracemark};
use serde_json::Value;

fn field<'a>(summary: &'a Value, key: &str) -> &'a Value {
    summary["sections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["fields"].as_array().unwrap())
        .find(|f| f["key"] == key)
        .unwrap_or_else(|| panic!("no field {key}"))
}

/// `tracemark summary --index index --provider-info INFO --out OUT`, exiting with `code`.
fn summary(dir: &Path, info: &str, out: &str, code: i32) -> Value {
    json(
        tracemark(dir).args([
            "summary",
            "--index",
            "index",
            "--provider-info",
            info,
            "--out",
            out,
        ]),
        code,
    )
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn the_demo_corpus_gives_a_summary_with_what_it_measured_and_what_is_left_to_fill() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let texts = tracemark_testkit::repo_root().join("corpus/demo/texts");
    let built = json(
        tracemark(dir)
            .args(["index", "build", "--out", "index"])
            .arg(&texts),
        0,
    );
    let out = json(
        tracemark(dir).args([
            "summary",
            "--index",
            "index",
            "--date",
            "2026-12-07",
            "--out",
            "s",
        ]),
        0,
    );
    let summary = read_json(&dir.join("s/summary.json"));
    assert_eq!(summary["format"], "tracemark.training-summary/v1");
    assert_eq!(summary["last_update"], "2026-12-07");
    let size = &field(&summary, "text_size")["value"];
    assert_eq!(size["tokens"], built["tokens"], "{built}");
    assert_eq!(size["bin"], "less than 1 billion tokens");

    // The collection period is that of the sidecars' fetch times, as MM/YYYY.
    let mut fetched: Vec<String> = walk(&texts)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".meta.json"))
        .filter_map(|p| read_json(&p)["fetched_at"].as_str().map(str::to_owned))
        .collect();
    fetched.sort();
    let mm_yyyy = |t: &str| format!("{}/{}", &t[5..7], &t[..4]);
    assert_eq!(
        field(&summary, "collection_period")["value"],
        format!(
            "{}–{}",
            mm_yyyy(&fetched[0]),
            mm_yyyy(fetched.last().unwrap())
        )
    );
    // The demo's holders publish robots.txt and TDMRep; some reserve their works.
    let protocols = &field(&summary, "protocols_read")["value"];
    assert!(protocols["robots"].as_u64().unwrap() > 0, "{protocols}");
    assert!(protocols["tdmrep"].as_u64().unwrap() > 0, "{protocols}");
    assert!(
        field(&summary, "reserved_at_collection")["value"]["documents"]
            .as_u64()
            .unwrap()
            > 0
    );
    // Nothing the corpus cannot know is filled in.
    let provider = field(&summary, "provider");
    assert_eq!(provider["from"], "to_fill");
    assert!(provider["value"].is_null());
    assert!(
        out["to_fill"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k == "provider")
    );
    let html = std::fs::read_to_string(dir.join("s/summary.html")).unwrap();
    assert!(html.contains("2.3 Data crawled and scraped from online sources"));
    assert!(html.contains("to be filled by the provider"));
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// 2,345 registrable domains under several public suffixes (`co.uk`, `com.au`, and a
/// private one, `github.io`), reached through subdomains, ports and upper case, with
/// sizes that tie: the list holds exactly ⌈0.1·N⌉ = 235 of them, ranked by bytes then
/// name, as computed here from what was generated.
#[test]
fn the_domain_list_is_exactly_the_top_tenth_by_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let suffixes = ["co.uk", "com", "com.au", "github.io", "org"];
    let mut jsonl = String::new();
    let mut expected: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut state = 7u64;
    for n in 0..2345u64 {
        let domain = format!("site{n:04}.{}", suffixes[n as usize % suffixes.len()]);
        // One to three documents a domain; sizes from a few values, so that many tie.
        for d in 0..(1 + n % 3) {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let words = 3 + (state >> 60) as usize;
            let text = vec!["harbour"; words].join(" ");
            let host = match d {
                0 => domain.clone(),
                1 => format!("www.{}", domain.to_uppercase()),
                _ => format!("news.{domain}:8443"),
            };
            let record = serde_json::json!({
                "id": format!("d{n}-{d}"),
                "url": format!("https://{host}/page/{d}"),
                "fetched_at": "2025-03-01T00:00:00Z",
                "text": text,
            });
            writeln!(jsonl, "{record}").unwrap();
            let entry = expected.entry(domain.clone()).or_default();
            entry.0 += text.len() as u64;
            entry.1 += 1;
        }
    }
    std::fs::write(dir.join("crawl.jsonl"), jsonl).unwrap();
    json(
        tracemark(dir).args(["index", "build", "--out", "index", "crawl.jsonl"]),
        0,
    );
    json(
        tracemark(dir).args(["summary", "--index", "index", "--out", "s"]),
        0,
    );
    let mut ranked: Vec<(String, (u64, u64))> = expected.into_iter().collect();
    ranked.sort_by(|a, b| b.1.0.cmp(&a.1.0).then_with(|| a.0.cmp(&b.0)));
    let csv = |k: usize| {
        let mut s = String::from("rank,domain,bytes,documents\n");
        for (rank, (domain, (bytes, docs))) in ranked[..k].iter().enumerate() {
            writeln!(s, "{},{domain},{bytes},{docs}", rank + 1).unwrap();
        }
        s
    };
    let listed = std::fs::read_to_string(dir.join("s/top-domains.csv")).unwrap();
    assert_eq!(listed.lines().count(), 1 + 235);
    assert_eq!(listed, csv(235));
    // The SME variant: the top 5 %, ⌈0.05·2345⌉ = 118.
    assert_eq!(
        std::fs::read_to_string(dir.join("s/top-domains-sme.csv")).unwrap(),
        csv(118)
    );
    let summary = read_json(&dir.join("s/summary.json"));
    let top = &field(&summary, "top_domains")["value"];
    assert_eq!(top["domains_in_corpus"], 2345);
    assert_eq!(top["listed"], 235);
    assert_eq!(
        top["file_sha256"],
        tracemark::core::ContentHash::of_bytes(listed.as_bytes()).to_hex()
    );
}

/// The provider's file fills what the corpus cannot know, and chains a new version to
/// the one before by its hash; a field it may not state, or misspelt, is refused.
#[test]
fn the_provider_fills_its_fields_and_each_version_names_the_one_before() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let texts = tracemark_testkit::repo_root().join("corpus/demo/texts");
    json(
        tracemark(dir)
            .args(["index", "build", "--out", "index"])
            .arg(&texts),
        0,
    );
    std::fs::write(
        dir.join("provider.toml"),
        "version = \"1.0\"\ncrawler_agent = \"ExampleBot\"\n[fields]\n\
         provider = \"Example AI SA, legal@example.ai\"\ncrawlers_used = true\n\
         crawlers = [\"ExampleBot/1.0\"]\n",
    )
    .unwrap();
    let first = summary(dir, "provider.toml", "v1", 0);
    let v1 = read_json(&dir.join("v1/summary.json"));
    assert_eq!(field(&v1, "provider")["from"], "provider");
    assert_eq!(
        field(&v1, "crawlers")["value"],
        serde_json::json!(["ExampleBot/1.0"])
    );
    assert_eq!(
        field(&v1, "reserved_at_collection")["value"]["for"],
        "the crawler ExampleBot"
    );
    assert!(v1.get("previous").is_none());

    std::fs::write(
        dir.join("provider.toml"),
        "version = \"1.1\"\nprevious = \"v1/summary.json\"\n[fields]\nprovider = \"Example AI SA\"\n",
    )
    .unwrap();
    summary(dir, "provider.toml", "v2", 0);
    let v2 = read_json(&dir.join("v2/summary.json"));
    assert_eq!(v2["previous"]["version"], "1.0");
    assert_eq!(v2["previous"]["sha256"], first["sha256"]);

    // A measured field, a misspelt one, and a previous version that is not a summary.
    for (file, says) in [
        (
            "[fields]\ntop_domains = \"example.com\"",
            "measured from the corpus",
        ),
        ("[fields]\nprovder = \"A\"", "not a field of the template"),
        ("previous = \"provider.toml\"", "previous summary"),
    ] {
        std::fs::write(dir.join("bad.toml"), file).unwrap();
        let error = summary(dir, "bad.toml", "bad", 3);
        let message = error["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{message}");
    }
    assert!(!dir.join("bad").exists());
}
