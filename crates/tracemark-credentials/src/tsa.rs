//! RFC 3161 time stamps over HTTP or HTTPS.
//!
//! The c2pa crate builds the request (the SHA-256 imprint of the COSE signature, a random
//! nonce, `certReq`), checks the answer (HTTP 200 with `application/timestamp-reply`, the
//! nonce reflected, the token's signature and its imprint over the signature it stamps)
//! and stores the token as the COSE `sigTst2` header. This module is the transport it is
//! handed, on `ureq` (HTTP/1.1; TLS by rustls with the ring provider, against Mozilla's
//! roots or the ones the caller gives): the query is sent as
//! `application/timestamp-query`; the answer must be HTTP 200 with the content type
//! `application/timestamp-reply` and at most [`MAX_RESPONSE`] bytes, whatever its
//! `Content-Length` or chunking says (a longer one is refused, not cut); connecting and
//! the whole exchange have timeouts; redirects are not followed.

use std::{io::Read, time::Duration};

use c2pa::{
    crypto::time_stamp::TimeStampError,
    http::{HttpResolverError, SyncHttpResolver, http},
};
use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};

use crate::{CredentialError, TrustAnchors, signer::pem_certificates};

/// Connecting (name resolution included) must take no longer than this.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The whole exchange, from connecting to the last byte of the answer.
const TOTAL_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest answer accepted. A time-stamp response is a few kilobytes (the token and
/// the authority's certificates); the signature box reserves 6 KiB for it.
pub(crate) const MAX_RESPONSE: u64 = 64 * 1024;

const QUERY_TYPE: &str = "application/timestamp-query";
const REPLY_TYPE: &str = "application/timestamp-reply";

/// Asks the time-stamp authority at `url` for a token over `message` (the COSE
/// signature), returning the DER `TimeStampResp` after the c2pa crate checked it.
/// `roots` replaces Mozilla's roots as the TLS trust for an `https://` authority.
pub(crate) fn request(
    url: &str,
    roots: Option<&TrustAnchors>,
    message: &[u8],
) -> Result<Vec<u8>, CredentialError> {
    let fail = |reason: String| CredentialError::TimeStamp {
        url: url.to_owned(),
        reason,
    };
    check_url(url).map_err(fail)?;
    let resolver = Transport::new(roots).map_err(fail)?;
    let body = c2pa::crypto::time_stamp::default_rfc3161_message(message)
        .map_err(|e| fail(e.to_string()))?;
    let context = c2pa::Context::new().with_resolver(resolver);
    c2pa::crypto::time_stamp::default_rfc3161_request(url, None, &body, message, &context)
        .map_err(|e| fail(describe(e)))
}

/// An `http://` or `https://` URL with a host.
fn check_url(url: &str) -> Result<(), String> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e| format!("not a URL ({e}); give http://HOST/PATH or https://HOST/PATH"))?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        Some(other) => {
            return Err(format!(
                "`{other}:` URLs are not supported; use http or https"
            ));
        }
        None => {
            return Err("the URL has no scheme; give http://HOST/PATH or https://HOST/PATH".into());
        }
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err("the URL has no host".into());
    }
    Ok(())
}

/// What went wrong, in words: the c2pa crate's errors are terse, and ours come back
/// wrapped in them.
fn describe(e: TimeStampError) -> String {
    match e {
        TimeStampError::HttpResolverError(HttpResolverError::Other(inner)) => inner.to_string(),
        TimeStampError::DecodeError(why) => {
            format!("the answer is not a usable RFC 3161 time-stamp response ({why})")
        }
        TimeStampError::NonceMismatch => {
            "the answer's nonce is not the request's: it answers another request".into()
        }
        TimeStampError::InvalidData => {
            "the token does not cover the signature it was asked to stamp".into()
        }
        other => other.to_string(),
    }
}

fn other(message: impl Into<String>) -> HttpResolverError {
    HttpResolverError::Other(message.into().into())
}

/// The HTTP client handed to the c2pa crate.
#[derive(Debug)]
struct Transport {
    agent: ureq::Agent,
}

impl Transport {
    fn new(roots: Option<&TrustAnchors>) -> Result<Self, String> {
        let root_certs = match roots {
            Some(anchors) => {
                let ders = pem_certificates(anchors.pem().as_bytes())
                    .map_err(|e| format!("the TLS trust roots: {e}"))?;
                let certs: Vec<Certificate<'static>> = ders
                    .iter()
                    .map(|der| Certificate::from_der(der).to_owned())
                    .collect();
                RootCerts::new_with_certs(&certs)
            }
            None => RootCerts::WebPki,
        };
        let tls = TlsConfig::builder()
            .provider(TlsProvider::Rustls)
            .root_certs(root_certs)
            .build();
        let config = ureq::Agent::config_builder()
            .tls_config(tls)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_global(Some(TOTAL_TIMEOUT))
            // Statuses are ours to judge, and a redirect is reported, not followed (a
            // POST turned into a GET would not be a time-stamp query any more).
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .max_response_header_size(16 * 1024)
            .user_agent(format!("tracemark/{}", env!("CARGO_PKG_VERSION")))
            .accept(REPLY_TYPE)
            .build();
        Ok(Self {
            agent: config.new_agent(),
        })
    }
}

impl SyncHttpResolver for Transport {
    fn http_resolve(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Box<dyn Read>>, HttpResolverError> {
        let sent_type = request
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        if sent_type != Some(QUERY_TYPE) {
            return Err(other(format!(
                "the query would go out as {sent_type:?}, not {QUERY_TYPE}"
            )));
        }
        let mut response = self
            .agent
            .run(request)
            .map_err(|e| other(format!("the request to the authority failed: {e}")))?;
        let status = response.status();
        if status != http::StatusCode::OK {
            let location = response
                .headers()
                .get(http::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(|l| format!(" (redirects to {l}; give that URL)"))
                .unwrap_or_default();
            return Err(other(format!(
                "the authority answered HTTP {status}{location}"
            )));
        }
        let content_type = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let mime = content_type
            .as_deref()
            .and_then(|t| t.split(';').next())
            .map(|t| t.trim().to_ascii_lowercase());
        if mime.as_deref() != Some(REPLY_TYPE) {
            return Err(other(format!(
                "the authority answered with content type {}, not {REPLY_TYPE}: not a time-stamp response",
                content_type.map_or("(none)".to_owned(), |t| format!("`{t}`"))
            )));
        }
        let too_long = || {
            other(format!(
                "the answer is longer than {MAX_RESPONSE} bytes, far more than a time-stamp response; refused"
            ))
        };
        if response
            .body()
            .content_length()
            .is_some_and(|n| n > MAX_RESPONSE)
        {
            return Err(too_long());
        }
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => too_long(),
                e => other(format!("reading the answer: {e}")),
            })?;
        if body.is_empty() {
            return Err(other("the authority's answer is empty"));
        }
        // Handed on with the bare content type the c2pa crate compares against.
        http::Response::builder()
            .status(http::StatusCode::OK)
            .header(http::header::CONTENT_TYPE, REPLY_TYPE)
            .header(http::header::CONTENT_LENGTH, body.len())
            .body(Box::new(std::io::Cursor::new(body)) as Box<dyn Read>)
            .map_err(HttpResolverError::Http)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_http_and_https_urls_only() {
        assert!(check_url("http://timestamp.example/tsa").is_ok());
        assert!(check_url("https://127.0.0.1:8080").is_ok());
        assert!(check_url("ftp://x/").unwrap_err().contains("ftp"));
        assert!(check_url("timestamp.example/tsa").is_err());
        assert!(check_url("http://").is_err());
        assert!(check_url("").is_err());
    }

    #[test]
    fn a_bad_url_is_a_clear_error_before_any_request() {
        let err = request("ftp://timestamp.example/", None, b"signature").unwrap_err();
        assert!(
            matches!(&err, CredentialError::TimeStamp { reason, .. } if reason.contains("not supported")),
            "{err}"
        );
    }
}
