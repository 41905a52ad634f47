//! Hostile input for every parser: empty, truncated, binary, huge, deeply nested, very
//! long lines, and random bytes (property tests). Nothing may panic; where a format
//! has a limit, going over it is a typed error or a documented truncation.

use proptest::prelude::*;
use tracemark_core::{Timestamp, rights::AiUse};
use tracemark_rights::{
    CheckRequest, Format, RightsError, check, html, http, parse_content_signal, parse_usage_pref,
    pattern::PathPattern, robots::RobotsTxt, rsl, tdmrep,
};

fn t() -> Timestamp {
    "2026-03-01T00:00:00Z".parse().unwrap()
}

const FORMATS: [Format; 7] = [
    Format::RobotsTxt,
    Format::AiTxt,
    Format::TdmrepJson,
    Format::Rsl,
    Format::Html,
    Format::HttpResponse,
    Format::TrainingMining,
];

/// Every parser on the same input; errors are fine, panics are not.
fn all_parsers(bytes: &[u8]) {
    let robots = RobotsTxt::parse(bytes);
    let _ = robots.verdict(Some("GPTBot"), "/a/b.gif");
    let _ = parse_usage_pref(bytes);
    let _ = parse_content_signal(&String::from_utf8_lossy(bytes));
    let _ = tdmrep::parse_well_known(bytes, "f");
    let _ = rsl::parse(bytes, "f");
    let _ = html::scan(bytes);
    let _ = http::parse_response(bytes, "f", t());
    let _ = http::parse_link_header(&String::from_utf8_lossy(bytes));
    let _ = http::robots_directives(&String::from_utf8_lossy(bytes));
    let _ = PathPattern::new(&String::from_utf8_lossy(bytes)).matches("/some/path?q=1");
    for format in FORMATS.into_iter().map(Some).chain([None]) {
        let _ = check(&CheckRequest {
            bytes,
            source: "input",
            asset_url: Some("https://example.com/a/b.jpg"),
            seen_at: t(),
            format,
        });
    }
}

#[test]
fn empty_and_tiny_inputs() {
    for input in [
        &b""[..],
        b"\n",
        b"\r\n\r\n",
        b":",
        b"#",
        b"<",
        b"[",
        b"{",
        b"\xEF\xBB\xBF",
        b"\0",
        b"HTTP/",
    ] {
        all_parsers(input);
    }
    // Empty files are valid robots.txt (allow all) but not valid TDMRep or RSL.
    assert!(RobotsTxt::parse(b"").verdict(None, "/").allowed);
    assert!(tdmrep::parse_well_known(b"", "f").is_err());
    assert!(rsl::parse(b"", "f").is_err());
}

#[test]
fn truncated_examples() {
    let samples: [&[u8]; 5] = [
        b"User-agent: GPTBot\nDisallow: /\nContent-Usage: / train-ai=n, search=y\n",
        br#"[{"location": "/directory-a/", "tdm-reservation": 1}]"#,
        br#"<rsl xmlns="https://rslstandard.org/rsl"><content url="/"><license><prohibits type="usage">ai-all</prohibits></license></content></rsl>"#,
        b"HTTP/1.1 200 OK\r\ntdm-reservation: 1\r\nContent-Type: text/html\r\n\r\n<meta name=\"tdm-reservation\" content=\"1\">",
        br#"{"label":"cawg.training-mining","entries":{"cawg.ai_training":{"use":"notAllowed"}}}"#,
    ];
    for sample in samples {
        for cut in 0..=sample.len() {
            all_parsers(&sample[..cut]);
        }
    }
}

#[test]
fn binary_and_invalid_utf8() {
    let mut junk: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
    all_parsers(&junk);
    junk.splice(
        0..0,
        b"User-agent: *\n\xff\xfe: x\nDisallow: /\n".iter().copied(),
    );
    let txt = RobotsTxt::parse(&junk);
    assert!(
        !txt.verdict(None, "/anything").allowed,
        "a bad byte spoils only its own line"
    );
    assert!(
        rsl::parse(
            b"<rsl xmlns=\"https://rslstandard.org/rsl\">\xff</rsl>",
            "f"
        )
        .is_err()
    );
}

#[test]
fn inputs_over_the_limits() {
    let huge = vec![b'a'; tdmrep::WELL_KNOWN_LIMIT + 1];
    assert!(matches!(
        tdmrep::parse_well_known(&huge, "f"),
        Err(RightsError::TooLarge { .. })
    ));
    let huge = vec![b'a'; rsl::LIMIT + 1];
    assert!(matches!(
        rsl::parse(&huge, "f"),
        Err(RightsError::TooLarge { .. })
    ));
    let huge = vec![b'a'; tracemark_rights::FILE_LIMIT + 1];
    let err = check(&CheckRequest {
        bytes: &huge,
        source: "robots.txt",
        asset_url: None,
        seen_at: t(),
        format: None,
    })
    .unwrap_err();
    assert!(matches!(err, RightsError::TooLarge { .. }));
    let mut head = b"HTTP/1.1 200 OK\n".to_vec();
    head.extend(
        std::iter::repeat_n(
            b"X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n".as_slice(),
            10_000,
        )
        .flatten(),
    );
    head.extend_from_slice(b"\n");
    assert!(matches!(
        http::parse_response(&head, "f", t()),
        Err(RightsError::TooLarge { .. })
    ));
    // robots.txt over 500 KiB is cut, not refused (RFC 9309 §2.5), and says so.
    let mut robots = b"User-agent: *\nDisallow: /\n".to_vec();
    robots.resize(tracemark_rights::robots::PARSE_LIMIT * 2, b'\n');
    let r = check(&CheckRequest {
        bytes: &robots,
        source: "robots.txt",
        asset_url: None,
        seen_at: t(),
        format: None,
    })
    .unwrap();
    assert!(r.notes.iter().any(|n| n.contains("RFC 9309")));
    assert_eq!(
        r.permission(AiUse::AiTrain),
        tracemark_core::rights::Permission::Disallowed
    );
}

#[test]
fn deeply_nested_and_malformed_xml_and_json() {
    let nested = format!(
        "<rsl xmlns=\"https://rslstandard.org/rsl\">{}",
        "<content>".repeat(100_000)
    );
    assert!(rsl::parse(nested.as_bytes(), "f").is_err());
    let json = format!("{}{}", "[".repeat(50_000), "]".repeat(50_000));
    assert!(tdmrep::parse_well_known(json.as_bytes(), "f").is_err());
    for bad in [
        &b"<rsl xmlns=\"https://rslstandard.org/rsl\"><content url=\"/\"></license></rsl>"[..],
        b"<rsl xmlns=\"https://rslstandard.org/rsl\" <content>",
        b"<rsl xmlns=\"https://rslstandard.org/rsl\"><![CDATA[",
        b"<rsl xmlns=\"https://rslstandard.org/rsl\"><!-- ",
        b"<?xml version=\"1.0\"?><!DOCTYPE rsl [<!ENTITY a \"&a;&a;\">]><rsl xmlns=\"https://rslstandard.org/rsl\">&a;</rsl>",
    ] {
        let _ = rsl::parse(bad, "f");
    }
    let html = "<div>".repeat(200_000);
    assert!(html::scan(html.as_bytes()).metas.is_empty());
}

#[test]
fn tens_of_thousands_of_agents_are_capped_with_a_note() {
    let mut robots = String::from("User-agent: GPTBot\n");
    for i in 0..20_000 {
        robots.push_str(&format!("User-agent: bot{i}\n"));
    }
    robots.push_str("Disallow: /\n");
    let r = check(&CheckRequest {
        bytes: robots.as_bytes(),
        source: "robots.txt",
        asset_url: None,
        seen_at: t(),
        format: None,
    })
    .unwrap();
    assert_eq!(r.agents.len(), tracemark_rights::robots::MAX_AGENTS);
    assert_eq!(r.agents[0].agent, "GPTBot", "known AI agents come first");
    assert!(r.notes.iter().any(|n| n.contains("20001 user agents")));
}

#[test]
fn very_long_lines_and_pathological_patterns() {
    let long = format!(
        "User-agent: *\nDisallow: /{}\nAllow: /{}\n",
        "a".repeat(1_000_000),
        "*a".repeat(2_000)
    );
    let txt = RobotsTxt::parse(long.as_bytes());
    assert!(txt.truncated);
    let path = format!("/{}b", "a".repeat(4_000));
    let _ = txt.verdict(None, &path);
    let stars = PathPattern::new(&format!("{}b$", "*a".repeat(500)));
    assert!(!stars.matches(&"a".repeat(5_000)));
    let header = format!(
        "HTTP/1.1 200 OK\nContent-Usage: {}\nLink: {}\n\n",
        "train-ai=n, ".repeat(10_000),
        "<x>;".repeat(10_000)
    );
    let _ = check(&CheckRequest {
        bytes: header.as_bytes(),
        source: "r.http",
        asset_url: None,
        seen_at: t(),
        format: None,
    });
    let meta = format!(
        "<meta name=\"robots\" content=\"{}\">",
        "noai ".repeat(100_000)
    );
    let _ = html::scan(meta.as_bytes());
}

/// Lines built from the keywords and punctuation the parsers care about, so that random
/// input reaches deep into them rather than failing at the first byte.
fn robots_like() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "User-agent:",
        "Disallow:",
        "Allow:",
        "Content-Usage:",
        "Content-Signal:",
        "License:",
        "Sitemap:",
        " ",
        "\t",
        "\n",
        "\r\n",
        "#",
        "*",
        "$",
        "/",
        "%",
        "%2F",
        "%e3",
        "GPTBot",
        "*",
        "train-ai=n",
        "search=y",
        "=",
        ",",
        ";",
        "\"",
        "(",
        ")",
        "?1",
        "y",
        "n",
        "yes",
        "no",
        "ai-train",
        "\u{30c4}",
    ]);
    prop::collection::vec(piece, 0..64).prop_map(|v| v.concat())
}

fn markup_like() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "<",
        ">",
        "/",
        "</",
        "<rsl xmlns=\"https://rslstandard.org/rsl\">",
        "<content url=\"/\">",
        "</content>",
        "<license>",
        "</license>",
        "<permits type=\"usage\">",
        "</permits>",
        "<prohibits type=\"usage\">",
        "</prohibits>",
        "<payment type=\"crawl\"/>",
        "ai-train",
        "search",
        "all",
        "&amp;",
        "&#",
        ";",
        "<![CDATA[",
        "]]>",
        "<!--",
        "-->",
        "<meta name=\"tdm-reservation\" content=\"1\">",
        "<script>",
        "</script>",
        "'",
        "\"",
        "=",
        " ",
        "<link rel=license type=application/rsl+xml href=x>",
        "<meta name=robots content=noai>",
    ]);
    prop::collection::vec(piece, 0..64).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        all_parsers(&bytes);
    }

    #[test]
    fn random_robots_like_text_never_panics(text in robots_like(), path in "/[a-z*$%/.]{0,20}") {
        let txt = RobotsTxt::parse(text.as_bytes());
        let _ = txt.verdict(None, &path);
        let _ = txt.verdict(Some("GPTBot"), &path);
        all_parsers(text.as_bytes());
    }

    #[test]
    fn random_markup_never_panics(text in markup_like()) {
        all_parsers(text.as_bytes());
    }

    #[test]
    fn every_decision_is_the_most_restrictive_of_its_signals(text in robots_like()) {
        let r = check(&CheckRequest { bytes: text.as_bytes(), source: "robots.txt", asset_url: Some("https://e.com/x"), seen_at: t(), format: None }).unwrap();
        for d in &r.decisions {
            let fold = d.signals.iter().fold(tracemark_core::rights::Permission::Unknown, |a, s| a.most_restrictive(s.permission));
            prop_assert_eq!(fold, d.permission);
        }
    }

    #[test]
    fn well_formed_preferences_read_back(train in prop::option::of(prop::bool::ANY), search in prop::option::of(prop::bool::ANY), noise in "[a-z][a-z0-9-]{0,8}") {
        use tracemark_core::rights::Permission;
        let yn = |b: bool| if b { "y" } else { "n" };
        let mut members = vec![format!("{noise}=?1")];
        members.extend(train.map(|b| format!("train-ai={}", yn(b))));
        members.extend(search.map(|b| format!("search={};p=1", yn(b))));
        let prefs = parse_usage_pref(members.join(", ").as_bytes());
        let expect = |o: Option<bool>| o.map_or(Permission::Unknown, |b| if b { Permission::Allowed } else { Permission::Disallowed });
        prop_assert_eq!(prefs.get(AiUse::AiTrain), expect(train));
        prop_assert_eq!(prefs.get(AiUse::Search), expect(search));
    }

    #[test]
    fn a_prefix_pattern_matches_every_extension_of_its_literal(prefix in "/[a-z/]{0,12}", rest in "[a-z/]{0,12}") {
        let p = PathPattern::new(&prefix);
        let path = format!("{prefix}{rest}");
        prop_assert!(p.matches(&path));
        let anchored = PathPattern::new(&format!("{prefix}$"));
        prop_assert_eq!(anchored.matches(&path), rest.is_empty());
    }
}
