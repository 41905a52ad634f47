use tracemark_core::{
    Timestamp,
    rights::{AiUse, Permission},
};

use super::*;
use crate::signal::Attachment;

/// The document of `legal.md` §3.7.
const LEGAL_EXAMPLE: &str = r#"<rsl xmlns="https://rslstandard.org/rsl" max-age="7">
  <content url="/" server="https://license.example.com" lastmod="2026-01-01T00:00:00Z">
    <license>
      <permits type="usage">search ai-input</permits>
      <prohibits type="usage">ai-train</prohibits>
      <permits type="user">non-commercial education</permits>
      <permits type="geo">US EU</permits>
      <payment type="crawl"><amount currency="USD">0.015</amount>
        <standard>https://example.com/licenses/pay-per-crawl</standard></payment>
      <legal type="warranty">ownership authority</legal>
    </license>
    <copyright type="organization" contactEmail="legal@example.com"/>
    <terms>https://example.com/terms</terms>
  </content>
</rsl>"#;

fn prov() -> Provenance {
    let t: Timestamp = "2026-02-01T00:00:00Z".parse().unwrap();
    Provenance::new("https://example.com/license.xml", Attachment::File, b"x", t)
}

fn permission(doc: &RslDocument, path: &str, usage: AiUse) -> Permission {
    signals(doc, &prov(), None, path)
        .iter()
        .find(|s| s.usage == usage)
        .map_or(Permission::Unknown, |s| s.permission)
}

#[test]
fn reads_the_legal_md_example() {
    let doc = parse(LEGAL_EXAMPLE.as_bytes(), "x").unwrap();
    assert_eq!(doc.contents.len(), 1);
    let c = &doc.contents[0];
    assert_eq!(c.url, "/");
    assert_eq!(c.server.as_deref(), Some("https://license.example.com"));
    let l = &c.licenses[0];
    assert_eq!(l.permits[0].tokens, ["search", "ai-input"]);
    assert_eq!(l.prohibits[0].tokens, ["ai-train"]);
    assert_eq!(l.payments, ["crawl"]);
    // Prohibited outright.
    assert_eq!(
        permission(&doc, "/a", AiUse::AiTrain),
        Permission::Disallowed
    );
    assert_eq!(
        permission(&doc, "/a", AiUse::GenaiTrain),
        Permission::Disallowed
    );
    // Not in the closed usage list.
    assert_eq!(
        permission(&doc, "/a", AiUse::AiIndex),
        Permission::Disallowed
    );
    // Listed, but only for some users, places and a per-crawl payment: a licence is needed.
    let s = signals(&doc, &prov(), None, "/a");
    let search = s.iter().find(|s| s.usage == AiUse::Search).unwrap();
    assert_eq!(search.permission, Permission::Disallowed);
    assert!(search.note.as_deref().unwrap().contains("payment crawl"));
    // `all` is not named, so TDM in general is left to other signals.
    assert!(s.iter().all(|s| s.usage != AiUse::Tdm));
}

#[test]
fn the_spec_site_wide_prohibition_reserves_every_ai_use() {
    let doc = parse(
        br#"<rsl xmlns="https://rslstandard.org/rsl"><content url="/"><license>
            <prohibits type="usage">ai-all</prohibits></license></content></rsl>"#,
        "x",
    )
    .unwrap();
    for u in [
        AiUse::AiTrain,
        AiUse::GenaiTrain,
        AiUse::AiInput,
        AiUse::AiIndex,
    ] {
        assert_eq!(permission(&doc, "/any/page", u), Permission::Disallowed);
    }
    // No usage permits list: search is permitted, for free.
    assert_eq!(
        permission(&doc, "/any/page", AiUse::Search),
        Permission::Allowed
    );
}

#[test]
fn prohibits_beats_permits_and_specific_content_wins() {
    let doc = parse(
        br#"<rsl xmlns="https://rslstandard.org/rsl">
          <content url="/"><license><permits type="usage">all</permits></license></content>
          <content url="/premium/"><license>
            <permits type="usage">ai-train,search</permits>
            <prohibits type="usage">ai-train</prohibits></license>
          </content></rsl>"#,
        "x",
    )
    .unwrap();
    assert_eq!(
        permission(&doc, "/free", AiUse::AiTrain),
        Permission::Allowed
    );
    assert_eq!(permission(&doc, "/free", AiUse::Tdm), Permission::Allowed);
    assert_eq!(
        permission(&doc, "/premium/x", AiUse::AiTrain),
        Permission::Disallowed
    );
    assert_eq!(
        permission(&doc, "/premium/x", AiUse::Search),
        Permission::Allowed
    );
    assert_eq!(
        permission(&doc, "/premium/x", AiUse::AiInput),
        Permission::Disallowed
    );
}

#[test]
fn alternative_licences_allow_what_one_of_them_allows_freely() {
    let doc = parse(
        br#"<rsl xmlns="https://rslstandard.org/rsl"><content url="/">
          <license><permits type="usage">ai-train</permits><payment type="training"/></license>
          <license><permits type="usage">search</permits></license>
          <license><permits type="usage">ai-input</permits><payment type="attribution"/></license>
          <license><permits type="usage">ai-index</permits><reporting type="audit"/></license>
        </content></rsl>"#,
        "x",
    )
    .unwrap();
    assert_eq!(
        permission(&doc, "/", AiUse::AiTrain),
        Permission::Disallowed
    );
    assert_eq!(permission(&doc, "/", AiUse::Search), Permission::Allowed);
    assert_eq!(permission(&doc, "/", AiUse::AiInput), Permission::Allowed);
    assert_eq!(
        permission(&doc, "/", AiUse::AiIndex),
        Permission::Disallowed
    );
}

#[test]
fn full_urls_must_share_the_asset_origin() {
    let doc = parse(
        br#"<rsl xmlns="https://rslstandard.org/rsl"><content url="https://example.com/news/*">
          <license><prohibits type="usage">all</prohibits></license></content></rsl>"#,
        "x",
    )
    .unwrap();
    let on = signals(&doc, &prov(), Some("https://example.com/news/a"), "/news/a");
    assert!(on.iter().all(|s| s.permission == Permission::Disallowed) && on.len() == 6);
    assert!(signals(&doc, &prov(), Some("https://other.org/news/a"), "/news/a").is_empty());
    assert!(signals(&doc, &prov(), Some("https://example.com/sport"), "/sport").is_empty());
}

#[test]
fn rss_feeds_with_the_rsl_module_are_read() {
    let doc = parse(
        br#"<rss xmlns:rsl="https://rslstandard.org/rsl" version="2.0"><channel><item>
          <rsl:content url="/post/1"><rsl:license><rsl:prohibits type="usage">ai-train</rsl:prohibits>
          </rsl:license></rsl:content></item></channel></rss>"#,
        "feed",
    )
    .unwrap();
    assert_eq!(
        permission(&doc, "/post/1", AiUse::AiTrain),
        Permission::Disallowed
    );
}

#[test]
fn invalid_documents_are_errors_and_license_nothing() {
    for bad in [
        &b""[..],
        b"<rsl>",
        b"<rsl xmlns=\"https://rslstandard.org/rsl\"><content></rsl>",
        b"<notrsl xmlns=\"https://rslstandard.org/rsl\"/>",
        b"<rsl/>",
        b"\xff\xfe<rsl/>",
        b"plain text",
    ] {
        assert!(
            parse(bad, "x").is_err(),
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
    let deep = format!(
        "<rsl xmlns=\"{NAMESPACE}\">{}{}</rsl>",
        "<a>".repeat(MAX_DEPTH + 5),
        "</a>".repeat(MAX_DEPTH + 5)
    );
    assert!(
        parse(deep.as_bytes(), "x")
            .unwrap_err()
            .to_string()
            .contains("nested")
    );
    let huge = vec![b' '; LIMIT + 1];
    assert!(matches!(
        parse(&huge, "x"),
        Err(RightsError::TooLarge { .. })
    ));
}

#[test]
fn entities_in_token_lists_are_decoded_and_unknown_ones_dropped() {
    let doc = parse(
        br#"<!DOCTYPE rsl [<!ENTITY x "ai-train">]><rsl xmlns="https://rslstandard.org/rsl"><content url="/"><license>
          <prohibits type="usage">&#115;earch &x;</prohibits></license></content></rsl>"#,
        "x",
    )
    .unwrap();
    assert_eq!(doc.contents[0].licenses[0].prohibits[0].tokens, ["search"]);
}
