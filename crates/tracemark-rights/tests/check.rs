//! End-to-end: one file in, decisions per use out, with the standards' own examples.

use tracemark_core::{
    Diagnose, Fault, Timestamp,
    rights::{AiUse, Permission},
};
use tracemark_rights::{
    Actor, Attachment, CheckReport, CheckRequest, Format, RightsError, RightsRecord, SignalKind,
    check, check_file,
};

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn run(bytes: &[u8], source: &str, asset: Option<&str>) -> CheckReport {
    check(&CheckRequest {
        bytes,
        source,
        asset_url: asset,
        seen_at: at("2026-03-01T00:00:00Z"),
        format: None,
    })
    .unwrap()
}

use Permission::{Allowed, Disallowed, Unknown};

#[test]
fn ai_crawler_blocks_reserve_for_that_operator_only() {
    // legal.md §3.2.
    let r = run(
        b"User-agent: GPTBot\nDisallow: /\n\nUser-agent: Google-Extended\nDisallow: /\n",
        "https://example.com/robots.txt",
        Some("https://example.com/article"),
    );
    assert_eq!(r.format, Format::RobotsTxt);
    for u in AiUse::ALL {
        assert_eq!(
            r.permission(u),
            Unknown,
            "{u:?}: no group for every crawler"
        );
    }
    assert_eq!(r.permission_for("gptbot", AiUse::GenaiTrain), Disallowed);
    assert_eq!(r.permission_for("GPTBot", AiUse::Search), Unknown);
    assert_eq!(
        r.permission_for("Google-Extended", AiUse::AiInput),
        Disallowed
    );
    assert_eq!(r.permission_for("CCBot", AiUse::AiTrain), Unknown);
    let any = |u: AiUse| {
        r.any_ai_agent
            .iter()
            .find(|d| d.usage == u)
            .unwrap()
            .permission
    };
    assert_eq!(any(AiUse::AiTrain), Disallowed);
    assert_eq!(any(AiUse::Search), Unknown);
    let d = r.agents.iter().find(|a| a.agent == "GPTBot").unwrap();
    let s = &d
        .decisions
        .iter()
        .find(|d| d.usage == AiUse::AiTrain)
        .unwrap()
        .signals[0];
    assert_eq!(s.raw, "Disallow: / (line 2)");
    assert_eq!(
        s.sha256,
        tracemark_core::ContentHash::of_bytes(
            b"User-agent: GPTBot\nDisallow: /\n\nUser-agent: Google-Extended\nDisallow: /\n"
        )
    );
}

#[test]
fn a_block_for_every_crawler_reserves_every_use_but_named_groups_escape_it() {
    let r = run(
        b"User-agent: *\nDisallow: /\n\nUser-agent: CCBot\nAllow: /\n",
        "robots.txt",
        None,
    );
    for u in AiUse::ALL {
        assert_eq!(r.permission(u), Disallowed);
    }
    assert_eq!(r.permission_for("CCBot", AiUse::Tdm), Unknown);
    assert!(r.notes.iter().any(|n| n.contains("no asset URL")));
}

#[test]
fn aipref_and_content_signal_rules_in_robots_txt() {
    let robots = b"User-Agent: *\nAllow: /\nDisallow: /never/\nContent-Usage: / train-ai=n\nContent-Usage: /ai-ok/ train-ai=y\nContent-Signal: search=yes, ai-input=no\n\nUser-Agent: ExampleBot\nAllow: /\nContent-Usage: / train-ai=y\n";
    let test = run(robots, "robots.txt", Some("https://example.com/test"));
    assert_eq!(test.permission(AiUse::AiTrain), Disallowed);
    assert_eq!(test.permission(AiUse::Search), Allowed);
    assert_eq!(test.permission(AiUse::AiInput), Disallowed);
    assert_eq!(test.permission_for("ExampleBot", AiUse::AiTrain), Allowed);
    let train = test
        .decisions
        .iter()
        .find(|d| d.usage == AiUse::AiTrain)
        .unwrap();
    assert!(
        train.signals.iter().all(|s| s.kind == SignalKind::Aipref),
        "\"may crawl\" is not a signal about use"
    );
    let ok = run(robots, "robots.txt", Some("https://example.com/ai-ok/test"));
    assert_eq!(ok.permission(AiUse::AiTrain), Allowed);
    let never = run(robots, "robots.txt", Some("https://example.com/never/test"));
    // Not crawlable: no preference applies, and the crawl block reserves everything.
    assert!(
        never
            .decisions
            .iter()
            .flat_map(|d| &d.signals)
            .all(|s| s.kind == SignalKind::Robots)
    );
    assert_eq!(never.permission(AiUse::AiTrain), Disallowed);
    // Conflicting rules on the same path combine most restrictively.
    let both = run(
        b"User-Agent: *\nContent-Usage: / train-ai=y\nContent-Usage: / train-ai=n\n",
        "robots.txt",
        None,
    );
    assert_eq!(both.permission(AiUse::AiTrain), Disallowed);
}

#[test]
fn tdmrep_well_known_file_for_an_asset() {
    let file = br#"[
      {"location": "/directory-a/", "tdm-reservation": 1},
      {"location": "/directory-b/html/", "tdm-reservation": 1, "tdm-policy": "https://provider.com/policies/policy.json"},
      {"location": "/directory-b/images/*.jpg", "tdm-reservation": 0}
    ]"#;
    let src = "https://provider.com/.well-known/tdmrep.json";
    let r = run(
        file,
        src,
        Some("https://provider.com/directory-a/page.html"),
    );
    assert_eq!(r.permission(AiUse::Tdm), Disallowed);
    assert_eq!(
        r.permission(AiUse::GenaiTrain),
        Disallowed,
        "a TDM reservation covers training"
    );
    assert_eq!(r.permission(AiUse::Search), Unknown);
    let jpg = run(
        file,
        src,
        Some("https://provider.com/directory-b/images/cat.jpg"),
    );
    assert_eq!(jpg.permission(AiUse::AiTrain), Allowed);
    let none = run(file, src, Some("https://provider.com/other"));
    assert_eq!(none.permission(AiUse::Tdm), Unknown);
}

#[test]
fn an_http_response_with_headers_and_meta() {
    let resp = b"HTTP/1.1 200 OK\r\nContent-type: text/html\r\ntdm-reservation: 1\r\ntdm-policy: https://provider.com/policies/policy.json\r\nContent-Usage: train-ai=n, search=y\r\nX-Robots-Tag: noai\r\nLink: <https://example.com/license.xml>; rel=\"license\"; type=\"application/rsl+xml\"\r\n\r\n<html><head><meta name=\"tdm-reservation\" content=\"0\"></head></html>";
    let r = run(resp, "saved.http", Some("https://example.com/page"));
    assert_eq!(r.format, Format::HttpResponse);
    // TDMRep: the HTML meta overrides the header, so TDM itself is not reserved ...
    let tdm = r.decisions.iter().find(|d| d.usage == AiUse::Tdm).unwrap();
    assert_eq!(tdm.permission, Allowed);
    assert_eq!(tdm.overridden.len(), 1);
    assert_eq!(tdm.overridden[0].attachment, Attachment::HttpHeader);
    // ... but AIPREF and noai still reserve training, and the most restrictive wins.
    assert_eq!(r.permission(AiUse::AiTrain), Disallowed);
    assert_eq!(r.permission(AiUse::Search), Allowed);
    let kinds: Vec<SignalKind> = r
        .decisions
        .iter()
        .find(|d| d.usage == AiUse::GenaiTrain)
        .unwrap()
        .signals
        .iter()
        .map(|s| s.kind)
        .collect();
    assert!(kinds.contains(&SignalKind::Aipref) && kinds.contains(&SignalKind::Noai));
    assert!(
        r.discovered
            .iter()
            .any(|d| d.rel == "rsl-license" && d.url == "https://example.com/license.xml")
    );
    assert!(r.discovered.iter().any(|d| d.rel == "tdm-policy"));
}

#[test]
fn aipref_header_examples() {
    let r = run(b"HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Usage: train-ai=n\n\nThis is some content.", "r.http", None);
    assert_eq!(r.permission(AiUse::AiTrain), Disallowed);
    let bad = run(
        b"HTTP/1.1 200 OK\nContent-Usage: Train-AI=n\n\n",
        "r.http",
        None,
    );
    assert_eq!(bad.permission(AiUse::AiTrain), Unknown);
    assert!(bad.notes.iter().any(|n| n.contains("no known preference")));
}

#[test]
fn html_pages_with_noai_and_rsl() {
    let page = br#"<html><head>
        <meta name="robots" content="noai, noimageai">
        <meta name="tdm-reservation" content="1">
        <link rel="license" type="application/rsl+xml" href="https://example.com/license.xml">
        <script type="application/rsl+xml"><rsl xmlns="https://rslstandard.org/rsl"><content url="https://example.com/page"><license><prohibits type="usage">ai-input</prohibits></license></content></rsl></script>
        </head></html>"#;
    let r = run(page, "page.html", Some("https://example.com/page"));
    assert_eq!(r.permission(AiUse::AiTrain), Disallowed);
    assert_eq!(r.permission(AiUse::AiInput), Disallowed);
    assert_eq!(
        r.permission(AiUse::Search),
        Allowed,
        "the inline licence permits search"
    );
    let noimage = r
        .decisions
        .iter()
        .flat_map(|d| &d.signals)
        .find(|s| {
            s.raw.contains("noimageai") && s.note.as_deref().unwrap_or("").contains("not one")
        })
        .unwrap();
    assert_eq!(noimage.permission, Unknown);
    assert!(r.discovered.iter().any(|d| d.found_in.contains("<link")));
    let img = run(
        b"<meta name=robots content=noimageai>",
        "page.html",
        Some("https://example.com/cat.PNG"),
    );
    assert_eq!(img.permission(AiUse::AiTrain), Disallowed);
}

#[test]
fn spawning_ai_txt_and_its_namesake() {
    let spawning = b"# Spawning AI\n# Prevent datasets from using the following file types\nUser-Agent: *\nDisallow: /\nDisallow: *\n";
    let r = run(
        spawning,
        "https://example.com/ai.txt",
        Some("https://example.com/photo.jpg"),
    );
    assert_eq!(r.format, Format::AiTxt);
    assert_eq!(r.permission(AiUse::GenaiTrain), Disallowed);
    assert_eq!(r.permission(AiUse::Search), Unknown);
    let per_type = b"User-Agent: *\nAllow: *.txt\nDisallow: *.jpg\n";
    assert_eq!(
        run(per_type, "ai.txt", Some("https://e.com/a.jpg")).permission(AiUse::AiTrain),
        Disallowed
    );
    assert_eq!(
        run(per_type, "ai.txt", Some("https://e.com/a.txt")).permission(AiUse::AiTrain),
        Allowed
    );
    let markdown = run(b"# ai.txt\n\nThis site is about cats.\n", "ai.txt", None);
    assert!(markdown.decisions.iter().all(|d| d.signals.is_empty()));
    assert!(markdown.notes.iter().any(|n| n.contains("not Spawning")));
}

#[test]
fn rsl_files_are_evaluated_for_the_asset() {
    let doc = br#"<rsl xmlns="https://rslstandard.org/rsl"><content url="/"><license><prohibits type="usage">ai-all</prohibits></license></content></rsl>"#;
    let r = run(
        doc,
        "https://example.com/license.xml",
        Some("https://example.com/a"),
    );
    assert_eq!(r.format, Format::Rsl);
    assert_eq!(r.permission(AiUse::AiIndex), Disallowed);
    assert_eq!(r.permission(AiUse::Search), Allowed);
    let err = check(&CheckRequest {
        bytes: b"<rsl>",
        source: "bad.rsl",
        asset_url: None,
        seen_at: at("2026-03-01T00:00:00Z"),
        format: None,
    })
    .unwrap_err();
    assert!(matches!(err, RightsError::Rsl { .. }));
    assert_eq!(err.fault(), Fault::Input);
    assert!(err.hint().unwrap().contains("rslstandard.org"));
}

#[test]
fn cawg_assertions_keep_their_entries_apart() {
    // The example of legal.md §3.6, as the credentials crate extracts it.
    let json = br#"{"label":"cawg.training-mining","entries":{
        "cawg.ai_generative_training":{"use":"notAllowed"},
        "cawg.ai_training":{"use":"constrained","constraints_info":"https://example.com/licence"},
        "cawg.ai_inference":{"use":"allowed"},
        "cawg.data_mining":{"use":"notAllowed"}}}"#;
    let r = run(json, "manifest-assertion.json", None);
    assert_eq!(r.format, Format::TrainingMining);
    assert_eq!(r.permission(AiUse::GenaiTrain), Disallowed);
    assert_eq!(
        r.permission(AiUse::AiTrain),
        Disallowed,
        "constrained counts as notAllowed"
    );
    assert_eq!(r.permission(AiUse::AiInput), Allowed);
    assert_eq!(r.permission(AiUse::Tdm), Disallowed);
    let legacy = br#"{"label":"c2pa.training-mining","entries":{
        "c2pa.data_mining":{"use":"notAllowed"},
        "c2pa.ai_generative_training":{"use":"allowed"},
        "com.example.custom":{"use":"notAllowed"}}}"#;
    let r = run(legacy, "a.json", None);
    assert_eq!(
        r.permission(AiUse::GenaiTrain),
        Allowed,
        "data_mining does not cover training entries"
    );
    assert_eq!(r.permission(AiUse::AiInput), Unknown);
}

#[test]
fn opt_outs_bind_only_fetches_made_while_they_stood() {
    let day = |d: u32| at(&format!("2026-01-{d:02}T00:00:00Z"));
    let robots = |bytes: &[u8], d: u32| {
        check(&CheckRequest {
            bytes,
            source: "https://example.com/robots.txt",
            asset_url: Some("https://example.com/essay"),
            seen_at: day(d),
            format: None,
        })
        .unwrap()
        .snapshot()
    };
    let mut record = RightsRecord::new("doc-1", Some("https://example.com/essay".into()));
    record.add(robots(b"User-agent: *\nAllow: /\n", 1));
    record.add(robots(b"User-agent: GPTBot\nDisallow: /\n", 10));
    record.add(robots(b"User-agent: *\nAllow: /\n", 20));
    let gpt = Actor::Agent("GPTBot".into());
    assert_eq!(
        record
            .decision_at(AiUse::AiTrain, &gpt, Some(day(5)))
            .permission,
        Unknown,
        "set after the fetch"
    );
    assert_eq!(
        record
            .decision_at(AiUse::AiTrain, &gpt, Some(day(15)))
            .permission,
        Disallowed
    );
    assert_eq!(
        record
            .decision_at(AiUse::AiTrain, &gpt, Some(day(25)))
            .permission,
        Unknown,
        "withdrawn later"
    );
    assert_eq!(
        record.decision_at(AiUse::AiTrain, &gpt, None).permission,
        Unknown
    );
    assert_eq!(
        record
            .decision_at(AiUse::AiTrain, &Actor::AnyAgent, Some(day(15)))
            .permission,
        Disallowed
    );
    assert_eq!(
        record
            .decision_at(AiUse::AiTrain, &Actor::Everyone, Some(day(15)))
            .permission,
        Unknown
    );
    // A header of the document itself is a separate source and stays in force.
    let header = check(&CheckRequest {
        bytes: b"HTTP/1.1 200 OK\ntdm-reservation: 1\n\n",
        source: "https://example.com/essay",
        asset_url: None,
        seen_at: day(12),
        format: None,
    })
    .unwrap();
    record.add(header.snapshot());
    let findings = record.findings(&Actor::Everyone, Some(day(25)));
    let genai = findings
        .iter()
        .find(|f| f.usage == AiUse::GenaiTrain)
        .unwrap();
    assert_eq!(genai.permission, Disallowed);
    assert_eq!(genai.signals, ["tdmrep"]);
    assert_eq!(genai.seen_at, Some(day(12)));
    assert_eq!(genai.document_id, "doc-1");
    assert_eq!(
        record
            .findings(&Actor::Everyone, Some(day(11)))
            .iter()
            .find(|f| f.usage == AiUse::Tdm)
            .unwrap()
            .permission,
        Unknown
    );
}

#[test]
fn reports_serialise_and_read_back() {
    let r = run(
        b"User-agent: *\nDisallow: /private/\nContent-Usage: train-ai=n\n",
        "robots.txt",
        Some("https://e.com/private/x"),
    );
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["format"], "robots-txt");
    assert_eq!(json["decisions"][0]["use"], "tdm");
    assert_eq!(json["decisions"][0]["permission"], "disallowed");
    let s = &json["decisions"][0]["signals"][0];
    assert_eq!(s["kind"], "robots");
    assert_eq!(s["agent"], "*");
    assert!(s["sha256"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(s["seen_at"], "2026-03-01T00:00:00Z");
    let back: CheckReport = serde_json::from_value(json).unwrap();
    assert_eq!(back, r);
    let record_json = serde_json::to_string(&RightsRecord {
        document_id: "d".into(),
        url: None,
        snapshots: vec![r.snapshot()],
    })
    .unwrap();
    assert!(record_json.contains("\"snapshots\""));
}

#[test]
fn formats_come_from_the_caller_the_name_or_the_content() {
    assert_eq!(
        Format::from_name("/srv/site/.well-known/tdmrep.json"),
        Some(Format::TdmrepJson)
    );
    assert_eq!(Format::from_name("ROBOTS.TXT"), Some(Format::RobotsTxt));
    assert_eq!(Format::from_name("notes.md"), None);
    assert_eq!(Format::from_name("OEBPS/content.opf"), Some(Format::Html));
    assert_eq!(
        Format::sniff(b"HTTP/1.1 200 OK\n\n"),
        Some(Format::HttpResponse)
    );
    assert_eq!(
        Format::sniff(b"\xEF\xBB\xBF  [ ]"),
        Some(Format::TdmrepJson)
    );
    assert_eq!(
        Format::sniff(b"<?xml version=\"1.0\"?><rsl/>"),
        Some(Format::Rsl)
    );
    assert_eq!(Format::sniff(b"<!doctype html>"), Some(Format::Html));
    assert_eq!(Format::sniff(b"user-agent: *"), Some(Format::RobotsTxt));
    let err = check(&CheckRequest {
        bytes: b"hello",
        source: "x.bin",
        asset_url: None,
        seen_at: at("2026-03-01T00:00:00Z"),
        format: None,
    })
    .unwrap_err();
    assert!(matches!(err, RightsError::UnknownFormat { .. }));
    let forced = check(&CheckRequest {
        bytes: b"User-agent: *\nDisallow: /\n",
        source: "x.bin",
        asset_url: None,
        seen_at: at("2026-03-01T00:00:00Z"),
        format: Some(Format::AiTxt),
    })
    .unwrap();
    assert_eq!(forced.format, Format::AiTxt);
    for f in Format::ALL {
        assert_eq!(f.name().parse::<Format>().unwrap(), f);
        assert_eq!(serde_json::to_value(f).unwrap(), f.name());
    }
    let bad = "robots".parse::<Format>().unwrap_err();
    assert_eq!(bad.fault(), Fault::Usage);
    assert!(bad.hint().unwrap().contains("robots-txt"));
}

#[test]
fn a_site_file_of_another_origin_is_flagged() {
    let r = run(
        b"User-agent: *\nDisallow: /\n",
        "https://a.example/robots.txt",
        Some("https://b.example/x"),
    );
    assert!(r.notes.iter().any(|n| n.contains("own origin")));
    let same = run(
        b"User-agent: *\nDisallow: /\n",
        "https://a.example/robots.txt",
        Some("https://A.example/x"),
    );
    assert!(same.notes.is_empty());
}

#[test]
fn check_file_reads_from_disk_and_names_missing_files() {
    let dir = std::env::temp_dir().join(format!("tracemark-rights-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("robots.txt");
    std::fs::write(&path, b"User-agent: *\nDisallow: /\n").unwrap();
    let r = check_file(&path, None, at("2026-03-01T00:00:00Z"), None).unwrap();
    assert_eq!(r.permission(AiUse::AiTrain), Disallowed);
    assert_eq!(r.source, path.display().to_string());
    let missing = check_file(
        &dir.join("nope.txt"),
        None,
        at("2026-03-01T00:00:00Z"),
        None,
    )
    .unwrap_err();
    assert!(matches!(missing, RightsError::Io { .. }));
    assert!(missing.to_string().contains("nope.txt"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn saved_robots_responses_follow_the_status() {
    let ok = run(
        b"HTTP/1.1 200 OK\nContent-Type: text/plain\n\nUser-agent: *\nDisallow: /\n",
        "robots.http",
        None,
    );
    assert_eq!(ok.http_status, Some(200));
    assert_eq!(ok.permission(AiUse::AiTrain), Disallowed);
    assert_eq!(ok.snapshot().http_status, Some(200));
    let gone = run(
        b"HTTP/1.1 404 Not Found\nContent-Type: text/plain\n\nUser-agent: *\nDisallow: /\n",
        "robots.http",
        None,
    );
    assert_eq!(gone.permission(AiUse::AiTrain), Unknown);
    assert!(gone.notes.iter().any(|n| n.contains("4xx")));
    let down = run(
        b"HTTP/1.1 503 Service Unavailable\n\nUser-agent: *\nDisallow: /\n",
        "robots.http",
        None,
    );
    assert_eq!(down.permission(AiUse::AiTrain), Unknown);
    assert!(down.notes.iter().any(|n| n.contains("5xx")));
}

#[test]
fn fetched_resources_are_checked_like_saved_ones() {
    let res = tracemark_rights::FetchedResource {
        url: "https://example.com/robots.txt".into(),
        status: Some(200),
        headers: vec![("Content-Type".into(), "text/plain".into())],
        body: b"User-agent: *\nDisallow: /private/\n".to_vec(),
        fetched_at: at("2026-03-01T00:00:00Z"),
    };
    let private =
        tracemark_rights::check_resource(&res, Some("https://example.com/private/a")).unwrap();
    assert_eq!(private.permission(AiUse::Search), Disallowed);
    let public =
        tracemark_rights::check_resource(&res, Some("https://example.com/public")).unwrap();
    assert_eq!(public.permission(AiUse::Search), Unknown);
}

#[test]
fn records_become_facts_and_silence_is_unestablished() {
    use tracemark_core::fact::{Claim, Topic};
    let mut record = RightsRecord::new("doc-9", None);
    let now = at("2026-06-01T00:00:00Z");
    let facts = record.facts(&Actor::Everyone, Some(at("2026-01-01T00:00:00Z")), now);
    assert_eq!(facts.len(), 1);
    assert!(matches!(
        &facts[0].claim,
        Claim::Unestablished {
            topic: Topic::Rights,
            ..
        }
    ));
    let report = run(
        b"User-agent: *\nContent-Usage: train-ai=n\n",
        "robots.txt",
        None,
    );
    record.add(report.snapshot());
    let early = record.facts(&Actor::Everyone, Some(at("2026-01-01T00:00:00Z")), now);
    assert!(
        matches!(&early[0].claim, Claim::Unestablished { .. }),
        "fetched after the time asked about"
    );
    let facts = record.facts(&Actor::Everyone, Some(at("2026-04-01T00:00:00Z")), now);
    assert_eq!(facts.len(), AiUse::ALL.len());
    assert_eq!(facts[0].method.name, tracemark_rights::METHOD);
    assert_eq!(facts[0].established_at, now);
    let Claim::Rights(train) = &facts[1].claim else {
        panic!("a rights claim")
    };
    assert_eq!(
        (train.usage, train.permission),
        (AiUse::AiTrain, Disallowed)
    );
    assert_eq!(train.signals, ["aipref"]);
    assert_eq!(report.findings("doc-9")[1], *train);
    let json = serde_json::to_value(&facts[1]).unwrap();
    assert_eq!(json["kind"], "rights");
    assert_eq!(json["method"]["parameters"]["actor"]["actor"], "everyone");
}

#[test]
fn a_tdm_policy_is_ignored_when_rights_are_not_reserved() {
    let page = br#"<meta name="tdm-reservation" content="0"><meta name="tdm-policy" content="https://p.example/policy.json">"#;
    let r = run(page, "page.html", None);
    assert_eq!(r.permission(AiUse::Tdm), Allowed);
    assert!(r.discovered.is_empty());
    let reserved = run(br#"<meta name="tdm-reservation" content="1"><meta name="tdm-policy" content="https://p.example/policy.json">"#, "page.html", None);
    assert_eq!(reserved.discovered[0].url, "https://p.example/policy.json");
    let bad = run(
        br#"<meta name="tdm-reservation" content="yes">"#,
        "page.html",
        None,
    );
    let tdm = bad
        .decisions
        .iter()
        .find(|d| d.usage == AiUse::Tdm)
        .unwrap();
    assert_eq!(tdm.permission, Unknown);
    assert!(tdm.signals[0].note.as_deref().unwrap().contains("unset"));
}

#[test]
fn epub_package_documents_carry_tdmrep() {
    let opf =
        br#"<?xml version="1.0"?><package prefix="tdm: http://www.w3.org/ns/tdmrep#"><metadata>
        <meta property="tdm:reservation">1</meta></metadata></package>"#;
    let r = run(opf, "book/content.opf", None);
    assert_eq!(r.format, Format::Html);
    assert_eq!(r.permission(AiUse::AiTrain), Disallowed);
    let epub2 = run(
        br#"<meta name="tdm:reservation" content="1"/>"#,
        "book.opf",
        None,
    );
    assert_eq!(epub2.permission(AiUse::Tdm), Disallowed);
}
