//! A small scanner for the few HTML elements that carry rights signals: `<meta>`
//! (TDMRep `tdm-reservation`/`tdm-policy`, `robots` with `noai`/`noimageai`), `<link
//! rel="license" type="application/rsl+xml">` and inline `<script
//! type="application/rsl+xml">`.
//!
//! It is not an HTML parser and does not need to be: it finds tags by name outside
//! comments, reads their attributes (quoted or not, names case-insensitive, the common
//! character references decoded), and skips the content of `<script>`, `<style>` and
//! similar raw-text elements. It looks at the whole document, not only `<head>`, since
//! pages in the wild misplace meta elements. It never fails: text that is not HTML
//! yields no elements.

/// Pages larger than this are scanned only up to it.
pub const SCAN_LIMIT: usize = 16 << 20;

/// A tag with its attributes (names lower-cased, values decoded).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tag {
    pub name: String,
    pub attributes: Vec<(String, String)>,
}

impl Tag {
    /// The tag as markup, for the record of what was read.
    pub fn to_raw(&self) -> String {
        let mut out = format!("<{}", self.name);
        for (k, v) in &self.attributes {
            out.push_str(&format!(" {k}=\"{}\"", v.replace('"', "&quot;")));
        }
        out.push('>');
        out
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the scanner found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scan {
    pub metas: Vec<Tag>,
    pub links: Vec<Tag>,
    /// The text of each `<script type="application/rsl+xml">`.
    pub rsl_scripts: Vec<String>,
    pub truncated: bool,
}

const RAW_TEXT: [&str; 5] = ["script", "style", "textarea", "title", "template"];

/// Scans an HTML document.
pub fn scan(bytes: &[u8]) -> Scan {
    let truncated = bytes.len() > SCAN_LIMIT;
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(SCAN_LIMIT)]);
    let s = text.as_bytes();
    let mut out = Scan {
        truncated,
        ..Default::default()
    };
    let mut i = 0;
    while let Some(off) = s
        .get(i..)
        .and_then(|rest| rest.iter().position(|&b| b == b'<'))
    {
        i += off;
        if s[i..].starts_with(b"<!--") {
            i = find(s, i + 4, b"-->").map_or(s.len(), |e| e + 3);
            continue;
        }
        let Some((tag, end)) = read_tag(&text, i) else {
            i += 1;
            continue;
        };
        i = end;
        match tag.name.as_str() {
            "meta" => out.metas.push(with_text_content(tag, &text, i)),
            "link" => out.links.push(tag),
            name if RAW_TEXT.contains(&name) => {
                let close = find_ci(s, i, format!("</{name}").as_bytes()).unwrap_or(s.len());
                if name == "script" && is_rsl_type(tag.get("type")) {
                    out.rsl_scripts.push(text[i..close].to_owned());
                }
                i = close;
            }
            _ => {}
        }
    }
    out
}

/// EPUB 3 package documents write `<meta property="tdm:reservation">1</meta>`: the value
/// is the element's text, which is kept as its `content`.
fn with_text_content(mut tag: Tag, text: &str, after: usize) -> Tag {
    if tag.get("property").is_some() && tag.get("content").is_none() {
        let rest = &text[after..];
        let end = rest.find('<').unwrap_or(rest.len());
        tag.attributes
            .push(("content".into(), decode_entities(rest[..end].trim())));
    }
    tag
}

pub fn is_rsl_type(t: Option<&str>) -> bool {
    t.is_some_and(|t| t.trim().eq_ignore_ascii_case("application/rsl+xml"))
}

fn find(s: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    s.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

fn find_ci(s: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    s.get(from..)?
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|p| p + from)
}

/// Reads the start tag at `start` (which is `<`); returns it and the index after `>`.
fn read_tag(text: &str, start: usize) -> Option<(Tag, usize)> {
    let s = text.as_bytes();
    let mut i = start + 1;
    let name_start = i;
    while i < s.len() && s[i].is_ascii_alphanumeric() {
        i += 1;
    }
    if i == name_start {
        return None;
    }
    let mut tag = Tag {
        name: text[name_start..i].to_ascii_lowercase(),
        attributes: Vec::new(),
    };
    loop {
        while i < s.len() && (s[i].is_ascii_whitespace() || s[i] == b'/') {
            i += 1;
        }
        if i >= s.len() {
            return Some((tag, i));
        }
        if s[i] == b'>' {
            return Some((tag, i + 1));
        }
        let key_start = i;
        while i < s.len() && !s[i].is_ascii_whitespace() && !matches!(s[i], b'=' | b'>' | b'/') {
            i += 1;
        }
        let key = text[key_start..i].to_ascii_lowercase();
        while i < s.len() && s[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if i < s.len() && s[i] == b'=' {
            i += 1;
            while i < s.len() && s[i].is_ascii_whitespace() {
                i += 1;
            }
            let (v, next) = read_value(text, i);
            value = decode_entities(v);
            i = next;
        }
        if i == key_start {
            i += 1; // no progress (cannot happen today): never loop forever
        } else if !key.is_empty() {
            tag.attributes.push((key, value)); // an empty key is a stray `=value`
        }
    }
}

fn read_value(text: &str, i: usize) -> (&str, usize) {
    let s = text.as_bytes();
    match s.get(i) {
        Some(&q @ (b'"' | b'\'')) => match s[i + 1..].iter().position(|&b| b == q) {
            Some(len) => (&text[i + 1..i + 1 + len], i + len + 2),
            None => (&text[i + 1..], s.len()),
        },
        _ => {
            let len = s[i..]
                .iter()
                .position(|&b| b.is_ascii_whitespace() || b == b'>')
                .unwrap_or(s.len() - i);
            (&text[i..i + len], i + len)
        }
    }
}

/// Decodes the character references that occur in attribute values of signal tags.
pub fn decode_entities(v: &str) -> String {
    if !v.contains('&') {
        return v.to_owned();
    }
    let mut out = String::with_capacity(v.len());
    let mut rest = v;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let decoded = rest.find(';').filter(|&e| e <= 10).and_then(|end| {
            let ent = &rest[1..end];
            let c = match ent {
                "amp" => Some('&'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "lt" => Some('<'),
                "gt" => Some('>'),
                _ => ent.strip_prefix('#').and_then(|n| {
                    let code = match n.strip_prefix(['x', 'X']) {
                        Some(h) => u32::from_str_radix(h, 16).ok(),
                        None => n.parse().ok(),
                    };
                    code.and_then(char::from_u32)
                }),
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_tdmrep_meta_and_rsl_links() {
        let page = br#"<!doctype html><html><head>
            <!-- <meta name="tdm-reservation" content="0"> -->
            <META NAME="tdm-reservation" CONTENT=1>
            <meta name='tdm-policy' content='https://provider.com/policies/policy.json'/>
            <link rel="license" type="application/rsl+xml" href="https://example.com/license.xml">
            <script>var s = "<meta name='tdm-reservation' content='0'>";</script>
            <script type="application/rsl+xml"><rsl/></script>
            </head><body>x &amp; y</body></html>"#;
        let s = scan(page);
        assert_eq!(s.metas.len(), 2);
        assert_eq!(s.metas[0].get("name"), Some("tdm-reservation"));
        assert_eq!(s.metas[0].get("content"), Some("1"));
        assert_eq!(
            s.metas[1].get("content"),
            Some("https://provider.com/policies/policy.json")
        );
        assert_eq!(
            s.links[0].get("href"),
            Some("https://example.com/license.xml")
        );
        assert_eq!(s.rsl_scripts, vec!["<rsl/>".to_owned()]);
    }

    #[test]
    fn epub3_meta_elements_carry_their_value_as_text() {
        let opf = br#"<package prefix="tdm: http://www.w3.org/ns/tdmrep#"><metadata>
            <meta property="tdm:reservation">1</meta>
            <meta property="tdm:policy">https://provider.com/policies/policy.json</meta>
            <meta property="dcterms:modified"/></metadata></package>"#;
        let s = scan(opf);
        assert_eq!(s.metas[0].get("content"), Some("1"));
        assert_eq!(
            s.metas[0].to_raw(),
            r#"<meta property="tdm:reservation" content="1">"#
        );
        assert_eq!(
            s.metas[1].get("content"),
            Some("https://provider.com/policies/policy.json")
        );
        assert_eq!(s.metas[2].get("content"), Some(""));
    }

    #[test]
    fn entities_are_decoded_and_broken_ones_kept() {
        assert_eq!(
            decode_entities("a&amp;b&#65;&#x42;&bogus;&"),
            "a&bAB&bogus;&"
        );
        assert_eq!(decode_entities("&#xFFFFFFFF;"), "&#xFFFFFFFF;");
    }

    #[test]
    fn truncated_markup_does_not_panic() {
        for page in [
            &b"<meta name="[..],
            b"<meta name='x",
            b"<",
            b"<!--",
            b"<script>",
            b"<meta =>",
            b"< meta",
        ] {
            let _ = scan(page);
        }
        assert_eq!(
            scan(b"<meta name=\"robots\" content=\"noai").metas[0].get("content"),
            Some("noai")
        );
    }
}
