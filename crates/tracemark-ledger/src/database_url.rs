//! Database URLs: the one function that masks their passwords for printing
//! ([`mask_password`]), and the TLS parameters this crate reads from them (`sslmode`,
//! `sslrootcert`, libpq's names) before the rest goes to the PostgreSQL driver.

use std::borrow::Cow;

/// What stands for a password in printed URLs.
const MASK: &str = "***";

/// `url` with every password in it replaced by `***`, for printing and error messages:
/// the password of the user information (`postgres://user:***@host/db`) and the value
/// of a `password` query parameter (`?password=***`, `&password=***`, the name also
/// matched percent-encoded and in any case). A key/value connection string
/// (`host=db password=secret`) has its `password` value masked.
///
/// It masks more rather than less when a URL is ambiguous: the user information runs
/// to the last `@` of the URL (a password may hold a raw `@`, `/` or `?`, and the driver
/// itself takes everything up to the first `@` as user and password), so a URL whose
/// path or query holds an `@` after a `:` prints masked from that `:` to that `@`.
pub fn mask_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return mask_key_value_password(url);
    };
    let (scheme, rest) = url.split_at(scheme_end);
    if let Some(at) = rest.rfind('@') {
        let user_info = &rest[..at];
        if let Some(colon) = user_info.find(':') {
            return format!(
                "{scheme}{}:{MASK}@{}",
                &user_info[..colon],
                mask_query_password(&rest[at + 1..])
            );
        }
    }
    format!("{scheme}{}", mask_query_password(rest))
}

/// The part of a URL after `scheme://` (or after its user information) with the value
/// of every `password` parameter masked: every piece between `?` and `&` separators
/// whose name is `password` (pieces that are not parameters, like the host and path,
/// never have that name, and a `?` inside another parameter's value only masks more).
fn mask_query_password(rest: &str) -> String {
    let mut out = String::with_capacity(rest.len());
    let mut start = 0;
    let separators = rest.match_indices(['?', '&']);
    for (end, sep) in separators.chain([(rest.len(), "")]) {
        let piece = &rest[start..end];
        let key = piece.split_once('=').map_or(piece, |(k, _)| k);
        if is_password_key(key) {
            out.push_str(key);
            out.push('=');
            out.push_str(MASK);
        } else {
            out.push_str(piece);
        }
        out.push_str(sep);
        start = end + sep.len();
    }
    out
}

fn is_password_key(raw: &str) -> bool {
    percent_decode(raw).trim().eq_ignore_ascii_case("password")
}

/// A libpq key/value string (`host=db password='se cret'`) with the value of
/// `password` masked. Values are single-quoted (with `\'` and `\\` escapes) or run to
/// the next space; a string that does not parse is masked from the first `password`
/// on, whatever follows.
fn mask_key_value_password(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    loop {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i == bytes.len() {
            out.push_str(&s[start..]);
            return out;
        }
        let key_start = i;
        while i < bytes.len() && bytes[i] != b'=' && !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let key = &s[key_start..i];
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i == bytes.len() || bytes[i] != b'=' {
            return mask_rest_from_password(s, &mut out, start);
        }
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let value_start = i;
        if i < bytes.len() && bytes[i] == b'\'' {
            i += 1;
            loop {
                match bytes.get(i) {
                    None => return mask_rest_from_password(s, &mut out, start),
                    Some(b'\\') => i += 2,
                    Some(b'\'') => {
                        i += 1;
                        break;
                    }
                    Some(_) => i += 1,
                }
            }
        } else {
            while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                i += 1;
            }
        }
        out.push_str(&s[start..value_start]);
        if key.eq_ignore_ascii_case("password") {
            out.push_str(MASK);
        } else {
            out.push_str(&s[value_start..i.min(s.len())]);
        }
        i = i.min(s.len());
    }
}

/// The fallback of [`mask_key_value_password`]: `out` plus `s[from..]` cut at the first
/// `password` (any case), masked after it.
fn mask_rest_from_password(s: &str, out: &mut String, from: usize) -> String {
    let rest = &s[from..];
    match rest.to_ascii_lowercase().find("password") {
        Some(p) => {
            out.push_str(&rest[..p + "password".len()]);
            out.push('=');
            out.push_str(MASK);
        }
        None => out.push_str(rest),
    }
    std::mem::take(out)
}

/// Percent-decodes `s` as the driver does: `%` and two hex digits is a byte, anything
/// else is itself; bytes that are not UTF-8 are replaced (for comparing names only).
fn percent_decode(s: &str) -> Cow<'_, str> {
    if !s.contains('%') {
        return Cow::Borrowed(s);
    }
    Cow::Owned(String::from_utf8_lossy(&percent_decode_bytes(s)).into_owned())
}

fn percent_decode_bytes(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// The TLS parameters of a `postgres://` URL, taken out of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TlsParams {
    /// `sslmode`, if given (the last one, when repeated).
    pub sslmode: Option<String>,
    /// `sslrootcert`, if given, percent-decoded.
    pub sslrootcert: Option<String>,
}

/// Splits a `postgres://` or `postgresql://` URL into the URL for the driver (without
/// `sslmode` and `sslrootcert`, which it does not know or reads otherwise) and those
/// parameters. Other strings (libpq key/value strings) are returned unchanged, with no
/// parameters: the driver reads them whole. Parses as the driver does: the user
/// information runs to the first `@`, the query from the first `?` after it, and each
/// parameter is a name up to `=` and a value up to `&`.
pub(crate) fn take_tls_params(url: &str) -> Result<(String, TlsParams), String> {
    let Some(rest) = ["postgres://", "postgresql://"]
        .iter()
        .find_map(|p| url.strip_prefix(p))
    else {
        return Ok((url.to_owned(), TlsParams::default()));
    };
    let prefix_len = url.len() - rest.len();
    let after_user = rest.find('@').map_or(0, |at| at + 1);
    let Some(q) = rest[after_user..]
        .find('?')
        .map(|q| prefix_len + after_user + q)
    else {
        return Ok((url.to_owned(), TlsParams::default()));
    };
    let mut params = TlsParams::default();
    let mut kept: Vec<&str> = Vec::new();
    let mut query = &url[q + 1..];
    while !query.is_empty() {
        // As the driver reads it: the name runs to the next `=` (an unterminated one is
        // left for the driver to refuse), the value to the next `&`.
        let Some(eq) = query.find('=') else {
            kept.push(query);
            break;
        };
        let end = query[eq + 1..]
            .find('&')
            .map_or(query.len(), |a| eq + 1 + a);
        let (param, key, value) = (&query[..end], &query[..eq], &query[eq + 1..end]);
        query = query.get(end + 1..).unwrap_or("");
        let decode = |what: &str, v: &str| {
            String::from_utf8(percent_decode_bytes(v))
                .map_err(|_| format!("the value of `{what}` is not UTF-8 once percent-decoded"))
        };
        match &*percent_decode(key) {
            "sslmode" => params.sslmode = Some(decode("sslmode", value)?),
            "sslrootcert" => params.sslrootcert = Some(decode("sslrootcert", value)?),
            _ => kept.push(param),
        }
    }
    let mut driver_url = url[..q].to_owned();
    if !kept.is_empty() {
        driver_url.push('?');
        driver_url.push_str(&kept.join("&"));
    }
    Ok((driver_url, params))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_the_user_information_are_masked() {
        for (url, shown) in [
            (
                "postgres://tm:hunter2@db:5432/tracemark",
                "postgres://tm:***@db:5432/tracemark",
            ),
            ("postgresql://tm:x@db", "postgresql://tm:***@db"),
            ("postgres://tm@db/tracemark", "postgres://tm@db/tracemark"),
            ("postgres://db/tracemark", "postgres://db/tracemark"),
            ("postgres://tm:@db/x", "postgres://tm:***@db/x"),
            // Percent-encoded characters, and raw ones a careless URL holds.
            (
                "postgres://t%40m:p%40ss%2Fw%3Ard@db/x%2Fy",
                "postgres://t%40m:***@db/x%2Fy",
            ),
            ("postgres://tm:p@ss@db/x", "postgres://tm:***@db/x"),
            ("postgres://tm:pa/ss?w@db/x", "postgres://tm:***@db/x"),
            (
                "postgres://tm:pa:ss@[::1]:5433/x",
                "postgres://tm:***@[::1]:5433/x",
            ),
        ] {
            assert_eq!(mask_password(url), shown, "{url}");
        }
    }

    #[test]
    fn password_query_parameters_are_masked() {
        for (url, shown) in [
            (
                "postgres://db/x?password=hunter2",
                "postgres://db/x?password=***",
            ),
            (
                "postgres://tm@db/x?sslmode=require&password=hunter2&application_name=a",
                "postgres://tm@db/x?sslmode=require&password=***&application_name=a",
            ),
            (
                "postgres://tm:one@db/x?password=two",
                "postgres://tm:***@db/x?password=***",
            ),
            // Percent-encoded values and names, any case.
            (
                "postgres://db/x?password=s%26cr%3Det&sslrootcert=%2Fetc%2Fca%20file.pem",
                "postgres://db/x?password=***&sslrootcert=%2Fetc%2Fca%20file.pem",
            ),
            (
                "postgres://db/x?pass%77ord=hunter2",
                "postgres://db/x?pass%77ord=***",
            ),
            (
                "postgres://db/x?PASSWORD=hunter2",
                "postgres://db/x?PASSWORD=***",
            ),
            ("postgres://db?password", "postgres://db?password=***"),
            ("postgres://db/x?passwords=a", "postgres://db/x?passwords=a"),
        ] {
            let masked = mask_password(url);
            assert_eq!(masked, shown, "{url}");
            assert!(!masked.contains("hunter2") && !masked.contains("s%26cr"));
        }
    }

    #[test]
    fn ambiguous_urls_are_masked_more_never_less() {
        // An `@` after the host: the driver would take `5432/x?application_name=me`
        // for the password, and so does the mask.
        let masked = mask_password("postgres://db:5432/x?application_name=me@home");
        assert_eq!(masked, "postgres://db:***@home");
        let masked = mask_password("postgres://tm:se@cr/et@db/x?a=b@c&password=two");
        assert!(
            !masked.contains("se") && !masked.contains("two"),
            "{masked}"
        );
    }

    #[test]
    fn key_value_strings_have_their_password_masked() {
        for (s, shown) in [
            (
                "host=db user=tm password=hunter2 dbname=x",
                "host=db user=tm password=*** dbname=x",
            ),
            (
                "host=db password = 'hun ter\\'2' sslmode=require",
                "host=db password = *** sslmode=require",
            ),
            ("host=db PASSWORD=hunter2", "host=db PASSWORD=***"),
            ("host=db", "host=db"),
            // Unparsable: masked from `password` on.
            ("host=db password='hunter2", "host=db password=***"),
            ("host=db junk password hunter2", "host=db junk password=***"),
        ] {
            assert_eq!(mask_password(s), shown, "{s}");
        }
    }

    #[test]
    fn tls_parameters_are_taken_out_of_urls() {
        let (driver, params) = take_tls_params(
            "postgres://tm:p%3Fw@db/x?application_name=a&sslmode=verify-full&sslrootcert=%2Ftmp%2Fmy%20ca.pem&connect_timeout=5",
        )
        .unwrap();
        assert_eq!(
            driver,
            "postgres://tm:p%3Fw@db/x?application_name=a&connect_timeout=5"
        );
        assert_eq!(params.sslmode.as_deref(), Some("verify-full"));
        assert_eq!(params.sslrootcert.as_deref(), Some("/tmp/my ca.pem"));

        let (driver, params) =
            take_tls_params("postgresql://tm:pa?ss@db/x?sslmode=disable").unwrap();
        assert_eq!(driver, "postgresql://tm:pa?ss@db/x");
        assert_eq!(params.sslmode.as_deref(), Some("disable"));

        // Repeated: the last one counts. Nothing to take: unchanged.
        let (_, params) = take_tls_params("postgres://db?sslmode=require&sslmode=prefer").unwrap();
        assert_eq!(params.sslmode.as_deref(), Some("prefer"));
        for url in [
            "postgres://db/x",
            "postgres://db/x?application_name=a",
            "host=db sslmode=require",
        ] {
            assert_eq!(
                take_tls_params(url).unwrap(),
                (url.to_owned(), TlsParams::default())
            );
        }
        let err = take_tls_params("postgres://db?sslrootcert=%FF").unwrap_err();
        assert!(err.contains("sslrootcert"), "{err}");
    }
}
