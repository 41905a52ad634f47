//! RSL 1.0 (Really Simple Licensing) documents: `<rsl>` with `<content>` elements, each
//! with `<license>` terms (`<permits>`/`<prohibits>` of type `usage`, `user`, `geo`,
//! `<payment>`, `<reporting>`).
//!
//! How terms become permissions (RSL conflict rules, `legal.md` §3.7):
//! - a use prohibited by any licence is disallowed (`prohibits` beats `permits`);
//! - a `<permits type="usage">` list is closed: a use it does not list is disallowed;
//! - a use permitted only on conditions that an unnamed client cannot be assumed to meet
//!   (a payment other than `free`/`attribution`, `user` or `geo` restrictions, a
//!   `<reporting>` duty) counts as disallowed, with the conditions noted: a licence is
//!   needed, like a CAWG `constrained` entry;
//! - several `<license>` elements of one `<content>` are alternative offers: a use is
//!   allowed if one of them allows it without conditions and none prohibits it;
//! - of several `<content>` elements matching the asset the most specific `url` wins;
//! - a document that is not valid RSL licenses nothing: it gives no signal (the asset
//!   stays unlicensed, which is not an opt-out).
//!
//! Token lists are split on whitespace and commas (the 1.0 spec uses spaces, the
//! earlier draft commas). Element names are matched by local name, so the `rsl:`
//! prefix of RSS feeds works too.

use quick_xml::{Reader, events::Event};
use tracemark_core::rights::{AiUse, Permission};

use crate::{
    error::RightsError,
    pattern::{PathPattern, normalise_path, origin_of, path_of},
    signal::{Provenance, Signal, SignalKind},
};

/// The RSL namespace (and spec URI).
pub const NAMESPACE: &str = "https://rslstandard.org/rsl";
/// Licence documents are small; 4 MiB is far beyond any real one.
pub const LIMIT: usize = 4 << 20;
/// Deeper nesting than this is hostile, not RSL.
pub const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RslDocument {
    pub contents: Vec<RslContent>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RslContent {
    pub url: String,
    pub server: Option<String>,
    pub licenses: Vec<RslLicense>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RslLicense {
    pub permits: Vec<Terms>,
    pub prohibits: Vec<Terms>,
    /// Payment types (`free` when the element has no type).
    pub payments: Vec<String>,
    /// Whether a `<reporting>` duty is attached.
    pub reporting: bool,
}

/// A `<permits>` or `<prohibits>` element.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Terms {
    /// `usage`, `user` or `geo`.
    pub kind: String,
    pub tokens: Vec<String>,
}

/// The uses a usage token names.
fn uses_of(token: &str) -> &'static [AiUse] {
    match token {
        "all" => &AiUse::ALL,
        "ai-all" => &[
            AiUse::AiTrain,
            AiUse::GenaiTrain,
            AiUse::AiInput,
            AiUse::AiIndex,
        ],
        "ai-train" => &[AiUse::AiTrain, AiUse::GenaiTrain],
        "ai-input" => &[AiUse::AiInput],
        "ai-index" => &[AiUse::AiIndex],
        "search" => &[AiUse::Search],
        _ => &[],
    }
}

/// Parses an RSL document (or an RSS feed with `rsl:content` items).
pub fn parse(bytes: &[u8], source_name: &str) -> Result<RslDocument, RightsError> {
    if bytes.len() > LIMIT {
        return Err(RightsError::TooLarge {
            what: source_name.to_owned(),
            size: bytes.len(),
            limit: LIMIT,
        });
    }
    let err = |reason: String| RightsError::Rsl {
        source_name: source_name.to_owned(),
        reason,
    };
    let text = std::str::from_utf8(bytes).map_err(|e| err(format!("not UTF-8: {e}")))?;
    Parser::default().run(text).map_err(err)
}

/// Where the parser is: the open element names, and what is being filled in.
#[derive(Default)]
struct Parser {
    stack: Vec<String>,
    doc: RslDocument,
    saw_root: bool,
    text: String,
    terms_kind: Option<String>,
}

impl Parser {
    fn run(mut self, text: &str) -> Result<RslDocument, String> {
        let mut reader = Reader::from_str(text);
        loop {
            let event = reader
                .read_event()
                .map_err(|e| format!("at byte {}: {e}", reader.buffer_position()))?;
            match event {
                Event::Start(e) => {
                    self.open(&e)?;
                    self.stack.push(local(e.name().as_ref()));
                    if self.stack.len() > MAX_DEPTH {
                        return Err(format!("nested deeper than {MAX_DEPTH} elements"));
                    }
                }
                Event::Empty(e) => {
                    self.open(&e)?;
                    self.close(&local(e.name().as_ref()));
                }
                Event::End(_) => {
                    let name = self.stack.pop().unwrap_or_default();
                    self.close(&name);
                }
                Event::Text(t) => self.text.push_str(&t.decode().map_err(|e| e.to_string())?),
                Event::CData(t) => self.text.push_str(&t.decode().map_err(|e| e.to_string())?),
                Event::GeneralRef(r) => {
                    if let Ok(Some(c)) = r.resolve_char_ref() {
                        self.text.push(c);
                    } else {
                        self.text.push_str(match r.as_ref() {
                            b"amp" => "&",
                            b"lt" => "<",
                            b"gt" => ">",
                            b"quot" => "\"",
                            b"apos" => "'",
                            _ => "",
                        });
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        if !self.saw_root {
            return Err("no <rsl> root element".into());
        }
        Ok(self.doc)
    }

    fn open(&mut self, e: &quick_xml::events::BytesStart<'_>) -> Result<(), String> {
        let name = local(e.name().as_ref());
        let attr = |key: &str| -> Option<String> {
            e.attributes()
                .flatten()
                .find(|a| local(a.key.as_ref()) == key || a.key.as_ref() == key.as_bytes())
                .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
        };
        if self.stack.is_empty() {
            let declares_ns = e.attributes().flatten().any(|a| {
                a.key.as_ref().starts_with(b"xmlns") && a.value.as_ref() == NAMESPACE.as_bytes()
            });
            if !matches!(name.as_str(), "rsl" | "rss") {
                return Err(format!("the root element is <{name}>, not <rsl>"));
            }
            if !declares_ns {
                return Err(format!(
                    "the root does not declare the namespace {NAMESPACE}"
                ));
            }
            self.saw_root = true;
        }
        self.text.clear();
        match name.as_str() {
            "content" => self.doc.contents.push(RslContent {
                url: attr("url").unwrap_or_default(),
                server: attr("server"),
                licenses: Vec::new(),
            }),
            "license" if self.parent_is("content") => {
                if let Some(c) = self.doc.contents.last_mut() {
                    c.licenses.push(RslLicense::default());
                }
            }
            "permits" | "prohibits" => self.terms_kind = Some(attr("type").unwrap_or_default()),
            "payment" => {
                if let Some(l) = self.license() {
                    l.payments
                        .push(attr("type").unwrap_or_else(|| "free".into()));
                }
            }
            "reporting" => {
                if let Some(l) = self.license() {
                    l.reporting = true;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn close(&mut self, name: &str) {
        if !matches!(name, "permits" | "prohibits") {
            return;
        }
        let terms = Terms {
            kind: self.terms_kind.take().unwrap_or_default(),
            tokens: self
                .text
                .split(|c: char| c.is_whitespace() || c == ',')
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
        };
        let permits = name == "permits";
        if let Some(l) = self.license() {
            if permits {
                l.permits.push(terms);
            } else {
                l.prohibits.push(terms);
            }
        }
        self.text.clear();
    }

    fn parent_is(&self, name: &str) -> bool {
        self.stack.last().is_some_and(|n| n == name)
    }

    fn license(&mut self) -> Option<&mut RslLicense> {
        if !self.stack.iter().any(|n| n == "license") {
            return None;
        }
        self.doc.contents.last_mut()?.licenses.last_mut()
    }
}

fn local(qname: &[u8]) -> String {
    let name = qname.rsplit(|&b| b == b':').next().unwrap_or(qname);
    String::from_utf8_lossy(name).into_owned()
}

/// What one licence says about one use, with the reason.
fn license_permission(l: &RslLicense, usage: AiUse) -> (Permission, String) {
    let names =
        |t: &Terms| t.kind == "usage" && t.tokens.iter().any(|k| uses_of(k).contains(&usage));
    if l.prohibits.iter().any(names) {
        return (Permission::Disallowed, "prohibited".into());
    }
    let usage_lists: Vec<&Terms> = l.permits.iter().filter(|t| t.kind == "usage").collect();
    if !usage_lists.is_empty() && !usage_lists.iter().any(|t| names(t)) {
        return (
            Permission::Disallowed,
            "not in the closed permits list".into(),
        );
    }
    let mut conditions: Vec<String> = Vec::new();
    for t in l
        .permits
        .iter()
        .chain(&l.prohibits)
        .filter(|t| t.kind != "usage")
    {
        conditions.push(format!("{} {}", t.kind, t.tokens.join(" ")));
    }
    for p in &l.payments {
        if !matches!(p.as_str(), "free" | "attribution") {
            conditions.push(format!("payment {p}"));
        }
    }
    if l.reporting {
        conditions.push("reporting".into());
    }
    if conditions.is_empty() {
        (Permission::Allowed, "permitted".into())
    } else {
        (
            Permission::Disallowed,
            format!("permitted only under a licence: {}", conditions.join(", ")),
        )
    }
}

/// Whether a `<content url>` names the asset: a full URL must share the asset's origin;
/// the path is matched with RFC 9309 rules.
fn content_matches(c: &RslContent, asset_url: Option<&str>, path: &str) -> Option<usize> {
    if let (Some(content_origin), Some(asset)) = (origin_of(&c.url), asset_url)
        && origin_of(asset).is_some_and(|o| !o.eq_ignore_ascii_case(&content_origin))
    {
        return None;
    }
    let pattern = PathPattern::new(&path_of(&c.url));
    pattern
        .matches_normalised(&normalise_path(path))
        .then(|| pattern.specificity())
}

/// The signals of an RSL document for the asset at `path`.
pub fn signals(
    doc: &RslDocument,
    prov: &Provenance,
    asset_url: Option<&str>,
    path: &str,
) -> Vec<Signal> {
    let matching: Vec<(usize, &RslContent)> = doc
        .contents
        .iter()
        .filter_map(|c| content_matches(c, asset_url, path).map(|s| (s, c)))
        .collect();
    let Some(best) = matching.iter().map(|(s, _)| *s).max() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (_, content) in matching.into_iter().filter(|(s, _)| *s == best) {
        if content.licenses.is_empty() {
            continue;
        }
        for usage in uses_in_scope(content) {
            out.push(content_signal(prov, content, usage));
        }
    }
    out
}

/// TDM in general is named only by `all`; the closed list of a licence that permits
/// `ai-train` must not turn into a TDM reservation that would cover training too.
fn uses_in_scope(content: &RslContent) -> Vec<AiUse> {
    let names_all = content.licenses.iter().any(|l| {
        l.permits
            .iter()
            .chain(&l.prohibits)
            .any(|t| t.kind == "usage" && t.tokens.iter().any(|k| k == "all"))
    });
    AiUse::ALL
        .into_iter()
        .filter(|&u| u != AiUse::Tdm || names_all)
        .collect()
}

fn content_signal(prov: &Provenance, content: &RslContent, usage: AiUse) -> Signal {
    let verdicts: Vec<(Permission, String)> = content
        .licenses
        .iter()
        .map(|l| license_permission(l, usage))
        .collect();
    let prohibited = verdicts.iter().any(|(_, why)| why == "prohibited");
    let allowed = verdicts.iter().find(|(p, _)| *p == Permission::Allowed);
    let (permission, why) = match (prohibited, allowed) {
        (true, _) => (Permission::Disallowed, "prohibited".to_owned()),
        (false, Some((_, why))) => (Permission::Allowed, why.clone()),
        (false, None) => (Permission::Disallowed, verdicts[0].1.clone()),
    };
    prov.signal(
        SignalKind::Rsl,
        usage,
        permission,
        format!("<content url=\"{}\">", content.url),
    )
    .with_note(why)
}

#[cfg(test)]
mod tests;
