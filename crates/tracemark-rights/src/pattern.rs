//! RFC 9309 path patterns: `*` matches any sequence of octets, a final `$` anchors the
//! end, and everything else is a prefix match on the percent-normalised path.
//!
//! The same matching serves robots.txt `Allow`/`Disallow`/`Content-Usage`, TDMRep
//! `location` patterns and RSL `<content url>` paths, since all three standards defer to
//! RFC 9309 §2.2.2.

/// A path pattern, normalised once so that it can be compared octet by octet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathPattern {
    raw: String,
    normalised: Vec<u8>,
    anchored: bool,
}

impl PathPattern {
    pub fn new(raw: &str) -> Self {
        let mut normalised = normalise(raw);
        let anchored = normalised.last() == Some(&b'$');
        if anchored {
            normalised.pop();
        }
        Self {
            raw: raw.to_owned(),
            normalised,
            anchored,
        }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// How specific the pattern is: RFC 9309 says the match with the most octets wins,
    /// counted on the (normalised) pattern.
    pub fn specificity(&self) -> usize {
        self.normalised.len() + usize::from(self.anchored)
    }

    /// Whether the pattern matches `path` (which must already be normalised with
    /// [`normalise_path`]).
    pub fn matches_normalised(&self, path: &[u8]) -> bool {
        glob(&self.normalised, path, self.anchored)
    }

    pub fn matches(&self, path: &str) -> bool {
        self.matches_normalised(&normalise_path(path))
    }
}

/// Normalises a path or pattern for comparison (RFC 9309 §2.2.2): octets outside
/// US-ASCII are percent-encoded, `%XX` of an unreserved character is decoded, and the
/// remaining escapes use upper-case hex, so that `/a%7e` and `/a~` compare equal but
/// `%2F` stays distinct from `/`.
pub fn normalise(input: &str) -> Vec<u8> {
    normalise_with(input, false)
}

/// Normalises a path to be matched (not a pattern): a literal `*` or `$` in a path is
/// escaped, so that the percent-encoded pattern `/a-%2A` matches the path `/a-*` as
/// RFC 9309 §2.2.3 shows, while `*` in a pattern stays a wildcard.
pub fn normalise_path(input: &str) -> Vec<u8> {
    normalise_with(input, true)
}

fn normalise_with(input: &str, is_path: bool) -> Vec<u8> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            let decoded = h * 16 + l;
            if is_unreserved(decoded) {
                out.push(decoded);
            } else {
                push_escape(&mut out, decoded);
            }
            i += 3;
            continue;
        }
        if b >= 0x80 || b == b' ' || (is_path && matches!(b, b'*' | b'$')) {
            push_escape(&mut out, b);
        } else {
            out.push(b);
        }
        i += 1;
    }
    out
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn push_escape(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
}

/// Wildcard matching with `*`; without `anchored` the pattern need only match a prefix
/// of `text`. The classic two-pointer algorithm: linear in the common case and
/// O(pattern × text) at worst, never recursive (hostile patterns cannot overflow the
/// stack).
fn glob(pattern: &[u8], text: &[u8], anchored: bool) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if p == pattern.len() && (!anchored || t == text.len()) {
            return true;
        }
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
            continue;
        }
        if p < pattern.len() && t < text.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
            continue;
        }
        match star {
            Some((sp, st)) if st < text.len() => {
                star = Some((sp, st + 1));
                p = sp + 1;
                t = st + 1;
            }
            _ => return false,
        }
    }
}

/// The path (with query) of a URL, or the input itself when it is already a path: what
/// robots.txt, TDMRep and RSL patterns are matched against.
pub fn path_of(url: &str) -> String {
    let without_fragment = url.split('#').next().unwrap_or("");
    let after_scheme = match without_fragment.find("://") {
        Some(i) => &without_fragment[i + 3..],
        None => return ensure_slash(without_fragment),
    };
    match after_scheme.find(['/', '?']) {
        Some(i) => ensure_slash(&after_scheme[i..]),
        None => "/".to_owned(),
    }
}

/// The origin (`scheme://host[:port]`) of an absolute URL.
pub fn origin_of(url: &str) -> Option<String> {
    let i = url.find("://")?;
    let rest = &url[i + 3..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(format!("{}{}", &url[..i + 3], &rest[..end]))
}

fn ensure_slash(path: &str) -> String {
    if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_and_end_anchor_follow_rfc_9309() {
        // RFC 9309 §2.2.3 special characters: escaped in a pattern they match literally.
        assert!(PathPattern::new("/path/file-with-a-%2A.html").matches("/path/file-with-a-*.html"));
        assert!(
            !PathPattern::new("/path/file-with-a-%2A.html").matches("/path/file-with-a-x.html")
        );
        assert!(PathPattern::new("/path/foo-%24").matches("/path/foo-$"));
        assert!(PathPattern::new("/path/*.html").matches("/path/anything.html"));
        let exact = PathPattern::new("/this/path/exactly$");
        assert!(exact.matches("/this/path/exactly"));
        assert!(!exact.matches("/this/path/exactly/not"));
        let gif = PathPattern::new("*.gif$");
        assert!(gif.matches("/a/b.gif"));
        assert!(!gif.matches("/a/b.gif?x=1"));
        assert!(PathPattern::new("/").matches("/anything"));
        assert!(!PathPattern::new("/tmp/").matches("/tmp"));
    }

    #[test]
    fn percent_encoding_is_normalised_as_rfc_9309_shows() {
        // RFC 9309 §2.2.2 table: non-ASCII is encoded, unreserved escapes are decoded,
        // reserved escapes stay escaped.
        assert_eq!(normalise("/foo/bar/\u{30c4}"), b"/foo/bar/%E3%83%84");
        assert_eq!(normalise("/foo/bar/%e3%83%84"), b"/foo/bar/%E3%83%84");
        assert_eq!(normalise("/foo/bar/%62%61%7A"), b"/foo/bar/baz");
        assert!(!PathPattern::new("/a%2Fb").matches("/a/b"));
        assert!(PathPattern::new("/~joe").matches("/%7Ejoe/index.html"));
    }

    #[test]
    fn a_truncated_escape_is_kept_literally() {
        assert_eq!(normalise("/a%4"), b"/a%4");
        assert_eq!(normalise("%"), b"%");
    }

    #[test]
    fn specificity_counts_octets() {
        assert!(
            PathPattern::new("/example/page/").specificity() > PathPattern::new("/").specificity()
        );
    }

    #[test]
    fn paths_are_taken_from_urls() {
        assert_eq!(path_of("https://example.com/a/b?c=d#e"), "/a/b?c=d");
        assert_eq!(path_of("https://example.com"), "/");
        assert_eq!(path_of("https://example.com?q"), "/?q");
        assert_eq!(path_of("a/b"), "/a/b");
        assert_eq!(
            origin_of("https://example.com:8080/x").as_deref(),
            Some("https://example.com:8080")
        );
        assert_eq!(origin_of("/x"), None);
    }
}
