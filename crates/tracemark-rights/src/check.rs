//! The entry point a front end calls: one signal file, header set or page in, the
//! decision per use out, with every signal behind it.

use std::path::Path;

use serde::{Deserialize, Serialize};
use tracemark_core::{
    ContentHash, Timestamp,
    rights::{AiUse, Permission, TrainingMining},
};

use crate::{
    cawg,
    decision::{Actor, Decision, Snapshot, decide_all},
    error::RightsError,
    html,
    http::{self, FetchedResource},
    pattern::{origin_of, path_of},
    robots::{self, Reading, RobotsTxt},
    rsl,
    signal::{Attachment, Provenance, Signal, SignalKind},
    tdmrep,
};

/// Files larger than this are refused before reading (the per-format limits are lower
/// or apply while parsing).
pub const FILE_LIMIT: usize = 32 << 20;

/// The formats `check` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    RobotsTxt,
    AiTxt,
    TdmrepJson,
    Rsl,
    /// An HTML page, or an EPUB package document (`.opf`), whose `<meta>` elements carry
    /// TDMRep the same way.
    Html,
    HttpResponse,
    /// A `TrainingMining` JSON document, as the credentials crate extracts it.
    TrainingMining,
}

impl Format {
    pub const ALL: [Format; 7] = [
        Format::RobotsTxt,
        Format::AiTxt,
        Format::TdmrepJson,
        Format::Rsl,
        Format::Html,
        Format::HttpResponse,
        Format::TrainingMining,
    ];

    /// The name used on the command line and in JSON (`robots-txt`, `tdmrep-json`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Format::RobotsTxt => "robots-txt",
            Format::AiTxt => "ai-txt",
            Format::TdmrepJson => "tdmrep-json",
            Format::Rsl => "rsl",
            Format::Html => "html",
            Format::HttpResponse => "http-response",
            Format::TrainingMining => "training-mining",
        }
    }

    /// The format a file name implies, if any.
    pub fn from_name(name: &str) -> Option<Format> {
        let lower = name.to_ascii_lowercase();
        let file = lower.rsplit(['/', '\\']).next().unwrap_or(&lower);
        Some(match file {
            f if f.ends_with("robots.txt") => Format::RobotsTxt,
            f if f.ends_with("ai.txt") => Format::AiTxt,
            f if f.ends_with("tdmrep.json") => Format::TdmrepJson,
            f if f.ends_with(".rsl") || f.ends_with(".xml") => Format::Rsl,
            f if [".html", ".htm", ".xhtml", ".opf"]
                .iter()
                .any(|e| f.ends_with(e)) =>
            {
                Format::Html
            }
            f if f.ends_with(".http") || f.ends_with(".response") => Format::HttpResponse,
            _ => return None,
        })
    }

    /// The format the content looks like: used when the name says nothing.
    pub fn sniff(bytes: &[u8]) -> Option<Format> {
        let head = &bytes[..bytes.len().min(4096)];
        let text = String::from_utf8_lossy(head);
        let t = text.trim_start_matches('\u{feff}').trim_start();
        let lower = t.to_ascii_lowercase();
        if t.starts_with("HTTP/") {
            Some(Format::HttpResponse)
        } else if t.starts_with('[') {
            Some(Format::TdmrepJson)
        } else if t.starts_with('{') && lower.contains("\"entries\"") {
            Some(Format::TrainingMining)
        } else if lower.contains("<rsl") {
            Some(Format::Rsl)
        } else if lower.starts_with('<') {
            Some(Format::Html)
        } else if lower.contains("user-agent") || lower.contains("disallow") {
            Some(Format::RobotsTxt)
        } else {
            None
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Format {
    type Err = ParseFormatError;

    /// Reads a format name as [`Format::name`] writes it (a `--format` flag).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| ParseFormatError(s.to_owned()))
    }
}

/// A `--format` value that names no format: the caller's mistake.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a rights-signal format")]
pub struct ParseFormatError(String);

impl tracemark_core::Diagnose for ParseFormatError {
    fn fault(&self) -> tracemark_core::Fault {
        tracemark_core::Fault::Usage
    }

    fn hint(&self) -> Option<String> {
        let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
        Some(format!("use one of: {}", names.join(", ")))
    }
}

/// What to check.
#[derive(Debug, Clone)]
pub struct CheckRequest<'a> {
    pub bytes: &'a [u8],
    /// Where the bytes came from (a file path or URL); it names the signals' source.
    pub source: &'a str,
    /// The asset the question is about; site-wide files are evaluated for its path.
    pub asset_url: Option<&'a str>,
    /// When the bytes were fetched (for a local file: its modification time, or now).
    pub seen_at: Timestamp,
    /// The format, when the caller knows it; otherwise from the name, then the content.
    pub format: Option<Format>,
}

/// A link to more rights information found on the way (RSL licences, TDM policies).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discovered {
    /// `rsl-license` or `tdm-policy`.
    pub rel: String,
    pub url: String,
    /// Where it was found (`robots.txt line`, `Link header`, `<link>`, ...).
    pub found_in: String,
}

/// The decisions of one agent whose group or directive names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentDecisions {
    pub agent: String,
    pub decisions: Vec<Decision>,
}

/// What a check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckReport {
    pub format: Format,
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset: Option<String>,
    /// The path the site-wide rules were evaluated for.
    pub path: String,
    pub sha256: ContentHash,
    pub seen_at: Timestamp,
    /// The HTTP status of a saved or fetched response (`legal.md` §3.9 keeps it as
    /// evidence: a robots.txt answered 404 means "no restrictions").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// The decision per use for crawlers in general (signals for every agent).
    pub decisions: Vec<Decision>,
    /// The decision per use for each agent that the file names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agents: Vec<AgentDecisions>,
    /// The cautious reading: a block of any AI agent counts against all.
    pub any_ai_agent: Vec<Decision>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub discovered: Vec<Discovered>,
    /// What the reader had to overlook or assume.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl CheckReport {
    /// The decision for `usage` for crawlers in general.
    pub fn permission(&self, usage: AiUse) -> Permission {
        self.decisions
            .iter()
            .find(|d| d.usage == usage)
            .map_or(Permission::Unknown, |d| d.permission)
    }

    /// The decision for `usage` for one agent (crawlers in general if it has none).
    pub fn permission_for(&self, agent: &str, usage: AiUse) -> Permission {
        self.agents
            .iter()
            .find(|a| a.agent.eq_ignore_ascii_case(agent))
            .and_then(|a| a.decisions.iter().find(|d| d.usage == usage))
            .map_or_else(|| self.permission(usage), |d| d.permission)
    }

    /// The decisions for crawlers in general as findings about `document_id`.
    pub fn findings(&self, document_id: &str) -> Vec<tracemark_core::fact::RightsFinding> {
        self.decisions
            .iter()
            .map(|d| crate::decision::finding(document_id, d))
            .collect()
    }

    /// Every signal read, as a snapshot for a [`crate::RightsRecord`].
    pub fn snapshot(&self) -> Snapshot {
        let mut signals: Vec<Signal> = Vec::new();
        let all = self
            .decisions
            .iter()
            .chain(self.agents.iter().flat_map(|a| &a.decisions))
            .chain(&self.any_ai_agent)
            .flat_map(|d| d.signals.iter().chain(&d.overridden));
        for s in all {
            if !signals.contains(s) {
                signals.push(s.clone());
            }
        }
        Snapshot {
            source: self.source.clone(),
            seen_at: self.seen_at,
            sha256: self.sha256,
            http_status: self.http_status,
            signals,
        }
    }
}

/// Signals and side findings collected while reading.
#[derive(Debug, Default)]
struct Found {
    http_status: Option<u16>,
    signals: Vec<Signal>,
    discovered: Vec<Discovered>,
    notes: Vec<String>,
}

/// Reads a local file and checks it.
pub fn check_file(
    path: &Path,
    asset_url: Option<&str>,
    seen_at: Timestamp,
    format: Option<Format>,
) -> Result<CheckReport, RightsError> {
    let io = |source| RightsError::Io {
        path: path.display().to_string(),
        source,
    };
    let size = std::fs::metadata(path).map_err(io)?.len();
    if size > FILE_LIMIT as u64 {
        return Err(RightsError::TooLarge {
            what: path.display().to_string(),
            size: usize::try_from(size).unwrap_or(usize::MAX),
            limit: FILE_LIMIT,
        });
    }
    let bytes = std::fs::read(path).map_err(io)?;
    let source = path.display().to_string();
    check(&CheckRequest {
        bytes: &bytes,
        source: &source,
        asset_url,
        seen_at,
        format,
    })
}

/// Checks one signal file, saved response or page.
pub fn check(req: &CheckRequest<'_>) -> Result<CheckReport, RightsError> {
    if req.bytes.len() > FILE_LIMIT {
        return Err(RightsError::TooLarge {
            what: req.source.to_owned(),
            size: req.bytes.len(),
            limit: FILE_LIMIT,
        });
    }
    let format = req
        .format
        .or_else(|| Format::from_name(req.source))
        .or_else(|| Format::sniff(req.bytes))
        .ok_or_else(|| RightsError::UnknownFormat {
            source_name: req.source.to_owned(),
        })?;
    let path = req.asset_url.map_or_else(|| "/".to_owned(), path_of);
    let mut found = Found::default();
    scope_notes(req, format, &mut found);
    read(req, format, &path, &mut found)?;
    Ok(report(req, format, path, found))
}

/// Notes on what a site-wide file can say about the asset.
fn scope_notes(req: &CheckRequest<'_>, format: Format, found: &mut Found) {
    if req.asset_url.is_none()
        && matches!(
            format,
            Format::RobotsTxt | Format::AiTxt | Format::TdmrepJson | Format::Rsl
        )
    {
        found
            .notes
            .push("no asset URL given: the site-wide rules were evaluated for `/`".into());
    }
    if let (Some(site), Some(asset)) = (origin_of(req.source), req.asset_url.and_then(origin_of))
        && !site.eq_ignore_ascii_case(&asset)
        && matches!(
            format,
            Format::RobotsTxt | Format::AiTxt | Format::TdmrepJson
        )
    {
        found.notes.push(format!(
            "the signal file is from {site} but the asset is on {asset}: site-wide files speak only for their own origin"
        ));
    }
}

/// Reads the signals of one format.
fn read(
    req: &CheckRequest<'_>,
    format: Format,
    path: &str,
    found: &mut Found,
) -> Result<(), RightsError> {
    let prov = Provenance::new(req.source, Attachment::File, req.bytes, req.seen_at);
    match format {
        Format::RobotsTxt => read_robots(req.bytes, &prov, path, found),
        Format::AiTxt => read_ai_txt(req.bytes, &prov, path, found),
        Format::TdmrepJson => {
            let rules = tdmrep::parse_well_known(req.bytes, req.source)?;
            found.signals = tdmrep::well_known_signals(&rules, &prov, path);
        }
        Format::Rsl => {
            let doc = rsl::parse(req.bytes, req.source)?;
            found.signals = rsl::signals(&doc, &prov, req.asset_url, path);
        }
        Format::Html => {
            let meta = Provenance {
                attachment: Attachment::HtmlMeta,
                ..prov
            };
            read_html(req.bytes, &meta, req.asset_url, path, found);
        }
        Format::HttpResponse => {
            let res = http::parse_response(req.bytes, req.source, req.seen_at)?;
            read_resource(&res, req.asset_url, path, found)?;
        }
        Format::TrainingMining => {
            let tm: TrainingMining =
                serde_json::from_slice(req.bytes).map_err(|e| RightsError::TrainingMining {
                    source_name: req.source.to_owned(),
                    reason: e.to_string(),
                })?;
            let embedded = Provenance {
                attachment: Attachment::Embedded,
                ..prov
            };
            found.signals = cawg::signals(&tm, &embedded);
        }
    }
    Ok(())
}

/// Checks a fetched resource (from a [`http::Fetch`] implementation or a saved
/// response): its headers, then its body by media type or URL.
pub fn check_resource(
    res: &FetchedResource,
    asset_url: Option<&str>,
) -> Result<CheckReport, RightsError> {
    let path = path_of(asset_url.unwrap_or(&res.url));
    let mut found = Found::default();
    read_resource(res, asset_url.or(Some(&res.url)), &path, &mut found)?;
    let req = CheckRequest {
        bytes: &res.body,
        source: &res.url,
        asset_url,
        seen_at: res.fetched_at,
        format: Some(Format::HttpResponse),
    };
    Ok(report(&req, Format::HttpResponse, path, found))
}

fn report(req: &CheckRequest<'_>, format: Format, path: String, found: Found) -> CheckReport {
    let mut agents: Vec<String> = Vec::new();
    for a in found.signals.iter().filter_map(|s| s.agent.as_deref()) {
        if a != "*" && !agents.iter().any(|x| x.eq_ignore_ascii_case(a)) {
            agents.push(a.to_owned());
        }
    }
    CheckReport {
        format,
        source: req.source.to_owned(),
        asset: req.asset_url.map(str::to_owned),
        path,
        sha256: ContentHash::of_bytes(req.bytes),
        seen_at: req.seen_at,
        http_status: found.http_status,
        decisions: decide_all(&Actor::Everyone, &found.signals),
        agents: agents
            .into_iter()
            .map(|a| AgentDecisions {
                decisions: decide_all(&Actor::Agent(a.clone()), &found.signals),
                agent: a,
            })
            .collect(),
        any_ai_agent: decide_all(&Actor::AnyAgent, &found.signals),
        discovered: found.discovered,
        notes: found.notes,
    }
}

fn read_robots(bytes: &[u8], prov: &Provenance, path: &str, found: &mut Found) {
    let txt = RobotsTxt::parse(bytes);
    if txt.truncated {
        found.notes.push(format!(
            "robots.txt is longer than {} bytes: the rest was ignored (RFC 9309 §2.5)",
            robots::PARSE_LIMIT
        ));
    }
    note_agent_cap(&txt, found);
    found.signals = txt.signals(prov, path, robots::ROBOTS);
    let mut licenses: Vec<(String, &str)> = txt
        .licenses
        .iter()
        .map(|l| (l.clone(), "robots.txt License line"))
        .collect();
    for g in &txt.groups {
        licenses.extend(
            g.licenses
                .iter()
                .map(|l| (l.clone(), "robots.txt License line in a group")),
        );
    }
    for (url, found_in) in licenses {
        found.discovered.push(Discovered {
            rel: "rsl-license".into(),
            url,
            found_in: found_in.into(),
        });
    }
}

fn note_agent_cap(txt: &RobotsTxt, found: &mut Found) {
    let named = txt.named_agents().len();
    if named > robots::MAX_AGENTS {
        found.notes.push(format!(
            "the file names {named} user agents: verdicts were recorded for {} of them (every known AI agent first)",
            robots::MAX_AGENTS
        ));
    }
}

/// A fetched robots.txt: RFC 9309 §2.3.1 makes the status decide before the body does.
fn read_robots_response(res: &FetchedResource, prov: &Provenance, path: &str, found: &mut Found) {
    match res.status {
        Some(400..=499) => found.notes.push(
            "robots.txt was unavailable (4xx): crawlers may access everything (RFC 9309 §2.3.1.3)".into(),
        ),
        Some(500..=599) => found.notes.push(
            "robots.txt was unreachable (5xx): crawlers must assume complete disallow (RFC 9309 §2.3.1.4); that is a crawl rule, not an opt-out, so no signal".into(),
        ),
        _ => read_robots(&res.body, prov, path, found),
    }
}

/// Spawning's ai.txt: the robots syntax, read at media download time, about training.
const AI_TXT: Reading = Reading {
    kind: SignalKind::AiTxt,
    star_uses: &[AiUse::AiTrain],
    allow_permits: true,
};

fn read_ai_txt(bytes: &[u8], prov: &Provenance, path: &str, found: &mut Found) {
    let txt = RobotsTxt::parse(bytes);
    if !txt.has_robots_lines {
        found.notes.push(
            "this ai.txt has no User-Agent/Allow/Disallow lines: not Spawning's opt-out format (perhaps the unrelated Markdown ai.txt), so no signal".into(),
        );
        return;
    }
    note_agent_cap(&txt, found);
    found.signals = txt
        .signals(prov, path, AI_TXT)
        .into_iter()
        .filter(|s| s.kind == SignalKind::AiTxt)
        .collect();
}

fn read_html(
    bytes: &[u8],
    prov: &Provenance,
    asset_url: Option<&str>,
    path: &str,
    found: &mut Found,
) {
    let scan = html::scan(bytes);
    if scan.truncated {
        found.notes.push(format!(
            "the page is longer than {} bytes: the rest was not scanned",
            html::SCAN_LIMIT
        ));
    }
    // HTML names them `tdm-reservation`/`tdm-policy`; EPUB 2 `name="tdm:reservation"`,
    // EPUB 3 `property="tdm:reservation"`.
    let meta_tag = |names: [&str; 2]| {
        scan.metas.iter().find(|m| {
            let key = m.get("name").or_else(|| m.get("property")).unwrap_or("");
            names.iter().any(|n| key.eq_ignore_ascii_case(n))
        })
    };
    let reservation_tag = meta_tag(["tdm-reservation", "tdm:reservation"]);
    let reservation = reservation_tag.and_then(|m| m.get("content"));
    let policy = meta_tag(["tdm-policy", "tdm:policy"]).and_then(|m| m.get("content"));
    if let (Some(value), Some(tag)) = (reservation, reservation_tag) {
        let raw = tag.to_raw();
        found.signals.push(tdmrep::signal(
            prov,
            tdmrep::parse_reservation(value),
            policy,
            &raw,
        ));
    }
    push_policy(
        policy,
        reservation.and_then(tdmrep::parse_reservation),
        "<meta name=\"tdm-policy\">",
        found,
    );
    for m in &scan.metas {
        let name = m.get("name").unwrap_or("");
        if name.eq_ignore_ascii_case("robots") {
            let raw = format!(
                "<meta name=\"robots\" content=\"{}\">",
                m.get("content").unwrap_or("")
            );
            let directives: Vec<(Option<String>, String)> = m
                .get("content")
                .unwrap_or("")
                .split([',', ' '])
                .map(|d| (None, d.trim().to_ascii_lowercase()))
                .collect();
            found
                .signals
                .extend(noai_signals(prov, &directives, &raw, path));
        }
    }
    for link in &scan.links {
        let rel_license = link.get("rel").is_some_and(|r| {
            r.split_whitespace()
                .any(|t| t.eq_ignore_ascii_case("license"))
        });
        if rel_license
            && html::is_rsl_type(link.get("type"))
            && let Some(href) = link.get("href")
        {
            found.discovered.push(Discovered {
                rel: "rsl-license".into(),
                url: href.to_owned(),
                found_in: "<link rel=\"license\">".into(),
            });
        }
    }
    for script in &scan.rsl_scripts {
        match rsl::parse(
            script.trim().as_bytes(),
            "inline <script type=\"application/rsl+xml\">",
        ) {
            Ok(doc) => {
                // An inline licence is about this page, whatever its `url` says.
                let doc = rsl::RslDocument {
                    contents: doc
                        .contents
                        .into_iter()
                        .map(|c| rsl::RslContent {
                            url: "/".into(),
                            ..c
                        })
                        .collect(),
                };
                found
                    .signals
                    .extend(rsl::signals(&doc, prov, asset_url, path));
            }
            Err(e) => found.notes.push(format!("{e}: it licenses nothing")),
        }
    }
}

fn push_policy(policy: Option<&str>, reservation: Option<u8>, found_in: &str, found: &mut Found) {
    // TDMRep: ignore tdm-policy when tdm-reservation is 0.
    if let (Some(url), Some(1) | None) = (policy, reservation) {
        found.discovered.push(Discovered {
            rel: "tdm-policy".into(),
            url: url.to_owned(),
            found_in: found_in.into(),
        });
    }
}

/// `noai` reserves AI training of the page's content; `noimageai` only of its images,
/// so it counts for the asset only when the asset is an image.
fn noai_signals(
    prov: &Provenance,
    directives: &[(Option<String>, String)],
    raw: &str,
    path: &str,
) -> Vec<Signal> {
    let is_image = {
        let p = path.split('?').next().unwrap_or("").to_ascii_lowercase();
        [
            ".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif", ".svg", ".tif", ".tiff", ".bmp",
            ".heic",
        ]
        .iter()
        .any(|e| p.ends_with(e))
    };
    let mut out = Vec::new();
    for (agent, d) in directives {
        let (permission, note) = match d.as_str() {
            "noai" => (Permission::Disallowed, "`noai`: AI training reserved"),
            "noimageai" if is_image => (
                Permission::Disallowed,
                "`noimageai`: AI training on images reserved",
            ),
            "noimageai" => (
                Permission::Unknown,
                "`noimageai` speaks only to images; the asset is not one",
            ),
            _ => continue,
        };
        out.push(
            prov.signal(SignalKind::Noai, AiUse::AiTrain, permission, raw)
                .for_agent(agent.as_deref())
                .with_note(note),
        );
    }
    out
}

fn read_resource(
    res: &FetchedResource,
    asset_url: Option<&str>,
    path: &str,
    found: &mut Found,
) -> Result<(), RightsError> {
    found.http_status = res.status;
    let header_prov = |name: &str, value: &str| {
        Provenance::new(
            format!("{} (header {name})", res.url),
            Attachment::HttpHeader,
            value.as_bytes(),
            res.fetched_at,
        )
    };
    let reservation = res.header("tdm-reservation");
    let policy = res.header("tdm-policy");
    if let Some(v) = &reservation {
        let prov = header_prov("tdm-reservation", v);
        found.signals.push(tdmrep::signal(
            &prov,
            tdmrep::parse_reservation(v),
            policy.as_deref(),
            &format!("tdm-reservation: {v}"),
        ));
    }
    push_policy(
        policy.as_deref(),
        reservation.as_deref().and_then(tdmrep::parse_reservation),
        "tdm-policy header",
        found,
    );
    for legacy in ["tdm-a", "tdm-b"] {
        if let Some(v) = res.header(legacy) {
            found.notes.push(format!("legacy TDMRep header `{legacy}: {v}` recorded but not mapped (its 0/1/2 values are not specified in the Final Report)"));
        }
    }
    if let Some(v) = res.header("content-usage") {
        let prov = header_prov("content-usage", &v);
        let prefs = crate::aipref::parse_usage_pref(v.as_bytes());
        if prefs.stated.is_empty() {
            found.notes.push(format!(
                "Content-Usage `{v}` states no known preference: every use is unknown"
            ));
        }
        found.signals.extend(prefs.signals(
            &prov,
            SignalKind::Aipref,
            &format!("Content-Usage: {v}"),
        ));
    }
    if let Some(v) = res.header("x-robots-tag") {
        let prov = header_prov("x-robots-tag", &v);
        found.signals.extend(noai_signals(
            &prov,
            &http::robots_directives(&v),
            &format!("X-Robots-Tag: {v}"),
            path,
        ));
    }
    if let Some(v) = res.header("link") {
        for link in http::parse_link_header(&v) {
            if link.rel.iter().any(|r| r == "license")
                && link.media_type.as_deref() == Some("application/rsl+xml")
            {
                found.discovered.push(Discovered {
                    rel: "rsl-license".into(),
                    url: link.target,
                    found_in: "Link header".into(),
                });
            }
        }
    }
    let body_prov = Provenance::new(res.url.clone(), Attachment::File, &res.body, res.fetched_at);
    match res.media_type().as_deref() {
        Some("text/html" | "application/xhtml+xml") => {
            let meta = Provenance {
                attachment: Attachment::HtmlMeta,
                ..body_prov
            };
            read_html(&res.body, &meta, asset_url, path, found);
        }
        Some("application/rsl+xml") => {
            let doc = rsl::parse(&res.body, &res.url)?;
            found
                .signals
                .extend(rsl::signals(&doc, &body_prov, asset_url, path));
        }
        Some("application/tdmrep+json") => {
            let rules = tdmrep::parse_well_known(&res.body, &res.url)?;
            found
                .signals
                .extend(tdmrep::well_known_signals(&rules, &body_prov, path));
        }
        _ if res.url.ends_with("robots.txt")
            || (res.media_type().is_none_or(|m| m == "text/plain")
                && Format::sniff(&res.body) == Some(Format::RobotsTxt)) =>
        {
            read_robots_response(res, &body_prov, path, found)
        }
        _ if res.url.ends_with("/.well-known/tdmrep.json") => {
            let rules = tdmrep::parse_well_known(&res.body, &res.url)?;
            found
                .signals
                .extend(tdmrep::well_known_signals(&rules, &body_prov, path));
        }
        _ => {}
    }
    Ok(())
}
