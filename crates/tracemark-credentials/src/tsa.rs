//! RFC 3161 time stamps over plain HTTP.
//!
//! This build of the c2pa crate has no HTTP client (no default features), so the
//! time-stamp request goes through a small HTTP/1.1 client of our own, handed to the
//! c2pa crate as its resolver; the c2pa crate builds the request, checks the token
//! against the signature it stamps, and stores it as the COSE `sigTst2` header. Most
//! public time-stamp authorities serve plain `http://`; `https://` is refused with a
//! clear error (there is no TLS stack in this build).

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{TcpStream, ToSocketAddrs},
    time::Duration,
};

use c2pa::http::{HttpResolverError, SyncHttpResolver, http};

use crate::CredentialError;

const TIMEOUT: Duration = Duration::from_secs(20);
const MAX_RESPONSE: u64 = 1 << 20;

/// Asks the time-stamp authority at `url` for a token over `message` (the COSE
/// signature), returning the DER `TimeStampResp` after the c2pa crate checked it.
pub(crate) fn request(url: &str, message: &[u8]) -> Result<Vec<u8>, CredentialError> {
    let fail = |reason: String| CredentialError::TimeStamp {
        url: url.to_owned(),
        reason,
    };
    let body = c2pa::crypto::time_stamp::default_rfc3161_message(message)
        .map_err(|e| fail(e.to_string()))?;
    let context = c2pa::Context::new().with_resolver(PlainHttp);
    c2pa::crypto::time_stamp::default_rfc3161_request(url, None, &body, message, &context)
        .map_err(|e| fail(e.to_string()))
}

/// Splits `http://host[:port]/path` into its parts.
pub(crate) fn parse_http_url(url: &str) -> Result<(String, u16, String), String> {
    let rest = url.strip_prefix("http://").ok_or_else(|| {
        if url.starts_with("https://") {
            "https time-stamp authorities are not supported by this build; use the authority's http:// URL".to_owned()
        } else {
            "not an http:// URL".to_owned()
        }
    })?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() {
        return Err("the URL has no host".into());
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => {
            let port = p.parse().map_err(|_| format!("bad port `{p}`"))?;
            (h.to_owned(), port)
        }
        _ => (authority.to_owned(), 80),
    };
    Ok((host, port, path.to_owned()))
}

#[derive(Debug)]
struct PlainHttp;

fn other(e: impl std::fmt::Display) -> HttpResolverError {
    HttpResolverError::Other(e.to_string().into())
}

impl SyncHttpResolver for PlainHttp {
    fn http_resolve(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Box<dyn Read>>, HttpResolverError> {
        let url = request.uri().to_string();
        let (host, port, path) = parse_http_url(&url).map_err(other)?;
        let addr = (host.as_str(), port)
            .to_socket_addrs()
            .map_err(other)?
            .next()
            .ok_or_else(|| other(format!("cannot resolve {host}")))?;
        let mut stream = TcpStream::connect_timeout(&addr, TIMEOUT).map_err(other)?;
        stream.set_read_timeout(Some(TIMEOUT)).map_err(other)?;
        stream.set_write_timeout(Some(TIMEOUT)).map_err(other)?;
        let mut head = format!(
            "{} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
            request.method(),
            request.body().len()
        );
        for (name, value) in request.headers() {
            if let Ok(v) = value.to_str() {
                head.push_str(&format!("{name}: {v}\r\n"));
            }
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).map_err(other)?;
        stream.write_all(request.body()).map_err(other)?;

        let mut reader = BufReader::new(stream.take(MAX_RESPONSE));
        let mut status_line = String::new();
        reader.read_line(&mut status_line).map_err(other)?;
        let status: u16 = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| other(format!("not an HTTP response: {status_line:?}")))?;
        let mut builder = http::Response::builder().status(status);
        let mut content_length = None;
        let mut chunked = false;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).map_err(other)? == 0 {
                break;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                let value = value.trim();
                if name.eq_ignore_ascii_case("content-length") {
                    content_length = value.parse::<u64>().ok();
                }
                if name.eq_ignore_ascii_case("transfer-encoding")
                    && value.eq_ignore_ascii_case("chunked")
                {
                    chunked = true;
                }
                builder = builder.header(name, value);
            }
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                let mut size_line = String::new();
                reader.read_line(&mut size_line).map_err(other)?;
                let size =
                    usize::from_str_radix(size_line.trim().split(';').next().unwrap_or(""), 16)
                        .map_err(|_| other("bad chunk size"))?;
                if size == 0 {
                    break;
                }
                let start = body.len();
                body.resize(start + size, 0);
                reader.read_exact(&mut body[start..]).map_err(other)?;
                let mut crlf = [0u8; 2];
                reader.read_exact(&mut crlf).map_err(other)?;
            }
        } else if let Some(n) = content_length {
            body.resize(usize::try_from(n.min(MAX_RESPONSE)).unwrap_or(0), 0);
            reader.read_exact(&mut body).map_err(other)?;
        } else {
            reader.read_to_end(&mut body).map_err(other)?;
        }
        builder
            .body(Box::new(std::io::Cursor::new(body)) as Box<dyn Read>)
            .map_err(HttpResolverError::Http)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn parses_http_urls_and_refuses_https() {
        assert_eq!(
            parse_http_url("http://timestamp.example/tsa").unwrap(),
            ("timestamp.example".into(), 80, "/tsa".into())
        );
        assert_eq!(
            parse_http_url("http://127.0.0.1:8080").unwrap(),
            ("127.0.0.1".into(), 8080, "/".into())
        );
        assert!(parse_http_url("https://x/").unwrap_err().contains("https"));
        assert!(parse_http_url("ftp://x/").is_err());
        assert!(parse_http_url("http://").is_err());
    }

    #[test]
    fn a_failing_authority_is_a_clear_error() {
        // A local server that answers every request with an HTTP error.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            if let Ok((mut s, _)) = listener.accept() {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                let _ = s.write_all(
                    b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\nnope",
                );
            }
        });
        let url = format!("http://127.0.0.1:{port}/tsa");
        let err = request(&url, b"signature bytes").unwrap_err();
        assert!(matches!(err, CredentialError::TimeStamp { .. }), "{err}");
        server.join().unwrap();
        // Nobody listening.
        let closed = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        assert!(request(&format!("http://127.0.0.1:{port}/"), b"x").is_err());
    }
}
