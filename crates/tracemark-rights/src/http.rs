//! Saved HTTP responses (status line, headers, blank line, body) and the rights
//! signals in response headers: TDMRep `tdm-reservation`/`tdm-policy`, AIPREF
//! `Content-Usage`, `X-Robots-Tag` with `noai`/`noimageai`, and RSL `Link` discovery.

use serde::{Deserialize, Serialize};
use tracemark_core::Timestamp;

use crate::error::RightsError;

/// The header section of a saved response may not exceed this.
pub const HEAD_LIMIT: usize = 256 << 10;

/// A resource as fetched: what a network fetcher returns, and what a saved response
/// file is read into, so that both are checked the same way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchedResource {
    /// The URL it was fetched from, or the file it was read from.
    pub url: String,
    pub status: Option<u16>,
    /// Header fields in order, names as sent.
    pub headers: Vec<(String, String)>,
    #[serde(skip)]
    pub body: Vec<u8>,
    pub fetched_at: Timestamp,
}

impl FetchedResource {
    /// All values of a header, combined with `, ` as HTTP allows for list-valued
    /// fields (RFC 9110 §5.3), names compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<String> {
        let values: Vec<&str> = self
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    }

    /// The media type of `Content-Type`, lower-cased, without parameters.
    pub fn media_type(&self) -> Option<String> {
        self.header("content-type").map(|v| {
            v.split([';', ','])
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
    }
}

/// Something that can fetch a URL. Tracemark ships no network fetcher (checks run on
/// saved files); a front end with network access implements this and passes the
/// result to [`crate::check_resource`].
pub trait Fetch {
    fn fetch(&self, url: &str) -> Result<FetchedResource, RightsError>;
}

/// Reads a saved HTTP/1.x response. Lenient about line ends (CRLF or LF), folded
/// header lines (joined with a space) and header lines without a colon (skipped);
/// strict about the status line, since without it the file is something else.
pub fn parse_response(
    bytes: &[u8],
    source: &str,
    fetched_at: Timestamp,
) -> Result<FetchedResource, RightsError> {
    let err = |reason: &str| RightsError::Http {
        source_name: source.to_owned(),
        reason: reason.to_owned(),
    };
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let (head, body) =
        split_head(bytes).ok_or_else(|| err("no blank line ends the header section"))?;
    if head.len() > HEAD_LIMIT {
        return Err(RightsError::TooLarge {
            what: format!("the header section of {source}"),
            size: head.len(),
            limit: HEAD_LIMIT,
        });
    }
    let head = String::from_utf8_lossy(head);
    let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let status_line = lines.next().unwrap_or("");
    let status = parse_status(status_line)
        .ok_or_else(|| err("the first line is not an HTTP status line"))?;
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = headers.last_mut() {
                v.push(' ');
                v.push_str(line.trim());
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    Ok(FetchedResource {
        url: source.to_owned(),
        status: Some(status),
        headers,
        body: body.to_vec(),
        fetched_at,
    })
}

fn split_head(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let crlf = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| (p, p + 4));
    let lf = bytes
        .windows(2)
        .position(|w| w == b"\n\n")
        .map(|p| (p, p + 2));
    let (end, body) = match (crlf, lf) {
        (Some(a), Some(b)) => {
            if a.0 < b.0 {
                a
            } else {
                b
            }
        }
        (Some(a), None) | (None, Some(a)) => a,
        // A response with headers only, and no blank line before the end of file.
        (None, None) => (bytes.len(), bytes.len()),
    };
    Some((&bytes[..end], &bytes[body..]))
}

fn parse_status(line: &str) -> Option<u16> {
    let mut parts = line.split_whitespace();
    let version = parts.next()?;
    if !version.starts_with("HTTP/") {
        return None;
    }
    let code = parts.next()?;
    (code.len() == 3).then(|| code.parse().ok())?
}

/// A `Link` header entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkValue {
    pub target: String,
    pub rel: Vec<String>,
    pub media_type: Option<String>,
}

/// Reads a `Link` header (RFC 8288): `<uri>; rel="license"; type="..."`, comma
/// separated. Entries without `<...>` are skipped.
pub fn parse_link_header(value: &str) -> Vec<LinkValue> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(open) = rest.find('<') {
        let Some(close) = rest[open..].find('>') else {
            break;
        };
        let target = rest[open + 1..open + close].trim().to_owned();
        rest = &rest[open + close + 1..];
        let params_end = rest.find('<').unwrap_or(rest.len());
        let (mut rel, mut media_type) = (Vec::new(), None);
        for param in rest[..params_end].split(';') {
            let Some((k, v)) = param.split_once('=') else {
                continue;
            };
            let v = v.trim().trim_end_matches(',').trim().trim_matches('"');
            match k.trim().to_ascii_lowercase().as_str() {
                "rel" => rel = v.split_whitespace().map(str::to_ascii_lowercase).collect(),
                "type" => media_type = Some(v.to_ascii_lowercase()),
                _ => {}
            }
        }
        out.push(LinkValue {
            target,
            rel,
            media_type,
        });
        rest = &rest[params_end..];
    }
    out
}

/// Reads `X-Robots-Tag` (or robots meta) directives: `(agent, directive)` pairs, with
/// `agent` set for the `googlebot: noindex` form.
pub fn robots_directives(value: &str) -> Vec<(Option<String>, String)> {
    let mut out = Vec::new();
    let mut agent: Option<String> = None;
    for part in value.split(',') {
        let mut part = part.trim();
        if let Some((a, d)) = part.split_once(':') {
            let a = a.trim();
            let is_directive_with_value = matches!(
                a.to_ascii_lowercase().as_str(),
                "max-snippet" | "max-image-preview" | "max-video-preview" | "unavailable_after"
            );
            if !is_directive_with_value && !a.is_empty() && !a.contains(' ') {
                agent = Some(a.to_owned());
                part = d.trim();
            }
        }
        for token in part.split_whitespace() {
            out.push((agent.clone(), token.to_ascii_lowercase()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> Timestamp {
        "2026-01-01T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn reads_the_tdmrep_header_example() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-type: text/html\r\ntdm-reservation: 1\r\ntdm-policy: https://provider.com/policies/policy.json\r\n\r\n<html></html>";
        let r = parse_response(raw, "resp.http", t()).unwrap();
        assert_eq!(r.status, Some(200));
        assert_eq!(r.header("TDM-Reservation").as_deref(), Some("1"));
        assert_eq!(r.media_type().as_deref(), Some("text/html"));
        assert_eq!(r.body, b"<html></html>");
    }

    #[test]
    fn folded_and_repeated_headers_combine() {
        let raw = b"HTTP/1.1 200 OK\nContent-Usage: train-ai=n,\n search=y\nContent-Usage: ai-use=n\nnonsense\n\n";
        let r = parse_response(raw, "r", t()).unwrap();
        assert_eq!(
            r.header("content-usage").as_deref(),
            Some("train-ai=n, search=y, ai-use=n")
        );
    }

    #[test]
    fn a_missing_status_line_is_an_error() {
        assert!(parse_response(b"hello\n\n", "r", t()).is_err());
        assert!(parse_response(b"", "r", t()).is_err());
        assert!(parse_response(b"HTTP/1.1 2000 OK\n\n", "r", t()).is_err());
        assert!(parse_response(b"HTTP/2 204\n", "r", t()).is_ok());
    }

    #[test]
    fn link_headers_name_rsl_licences() {
        let l = parse_link_header(
            r#"<https://example.com/license.xml>; rel="license"; type="application/rsl+xml", <https://example.com/>; rel=canonical"#,
        );
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].target, "https://example.com/license.xml");
        assert_eq!(l[0].rel, vec!["license"]);
        assert_eq!(l[0].media_type.as_deref(), Some("application/rsl+xml"));
        assert_eq!(l[1].rel, vec!["canonical"]);
        assert!(parse_link_header("<unterminated").is_empty());
    }

    #[test]
    fn robots_directives_read_agent_prefixes() {
        let d = robots_directives("noai, noimageai");
        assert_eq!(d, vec![(None, "noai".into()), (None, "noimageai".into())]);
        let d = robots_directives("GPTBot: noai, max-snippet: 20");
        assert_eq!(d[0], (Some("GPTBot".into()), "noai".into()));
    }
}
