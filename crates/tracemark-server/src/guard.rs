//! Who may call what, and how often: API tokens for generation and writes, rate limits
//! per token (per address for anonymous reads), and the counters `/metrics` shows.
//!
//! A token is never logged or echoed: callers are named by the first digits of the
//! token's hash, or by their address.

use std::{
    collections::HashMap,
    fmt::Write as _,
    net::{IpAddr, SocketAddr},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Instant,
};

use axum::{
    extract::{ConnectInfo, MatchedPath, Request, State},
    http::{HeaderMap, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::{error::ApiError, service::Service};

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Caller {
    /// A valid API token, by its public name.
    Token(String),
    Anonymous(IpAddr),
}

impl Caller {
    pub fn has_token(&self) -> bool {
        matches!(self, Caller::Token(_))
    }
}

/// A token bucket: `rate` requests a second on average, bursts of twice that.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Rate limits per caller. The map is pruned of idle callers when it grows large, so an
/// attacker cycling addresses cannot grow it without bound.
#[derive(Debug)]
pub struct RateLimiter {
    token_rate: f64,
    anonymous_rate: f64,
    buckets: Mutex<HashMap<Caller, Bucket>>,
}

/// Callers tracked before idle ones are forgotten.
const MAX_TRACKED: usize = 100_000;

impl RateLimiter {
    pub fn new(token_rate: f64, anonymous_rate: f64) -> Self {
        Self {
            token_rate,
            anonymous_rate,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from the caller's bucket; `Err(seconds)` says when to retry.
    pub fn admit(&self, caller: &Caller, now: Instant) -> Result<(), f64> {
        let rate = match caller {
            Caller::Token(_) => self.token_rate,
            Caller::Anonymous(_) => self.anonymous_rate,
        };
        let burst = (2.0 * rate).max(1.0);
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_TRACKED {
            // A bucket idle long enough to be full again carries no state worth keeping.
            buckets.retain(|_, b| now.duration_since(b.last).as_secs_f64() * rate < burst);
        }
        let bucket = buckets.entry(caller.clone()).or_insert(Bucket {
            tokens: burst,
            last: now,
        });
        let elapsed = now.duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(burst);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err((1.0 - bucket.tokens) / rate)
        }
    }
}

/// Request counters by route and status class, for `/metrics`.
#[derive(Debug, Default)]
pub struct Metrics {
    counts: Mutex<HashMap<(String, u16), u64>>,
    pub rate_limited: AtomicU64,
    pub unauthorized: AtomicU64,
}

impl Metrics {
    fn count(&self, route: &str, status: StatusCode) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        *counts
            .entry((route.to_owned(), status.as_u16()))
            .or_default() += 1;
    }

    /// The Prometheus text exposition of the counters.
    pub fn render(&self) -> String {
        let mut out = String::from(
            "# HELP tracemark_requests_total Requests answered, by route and status.\n\
             # TYPE tracemark_requests_total counter\n",
        );
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let mut rows: Vec<_> = counts.iter().collect();
        rows.sort();
        for ((route, status), n) in rows {
            let _ = writeln!(
                out,
                "tracemark_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        for (name, help, value) in [
            (
                "tracemark_rate_limited_total",
                "Requests refused by a rate limit.",
                &self.rate_limited,
            ),
            (
                "tracemark_unauthorized_total",
                "Requests refused for a missing or invalid API token.",
                &self.unauthorized,
            ),
        ] {
            let _ = write!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}\n",
                value.load(Ordering::Relaxed)
            );
        }
        out
    }
}

/// Routes that generate or write, which need an API token.
fn needs_token(route: &str) -> bool {
    matches!(
        route,
        "/v1/completions" | "/v1/chat/completions" | "/v1/media/mark"
    )
}

/// The bearer token of a request, if it sends one.
fn bearer(request: &Request) -> Option<&str> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// The client of a request: the peer, unless the peer is a proxy the deployment trusts;
/// then the nearest address of `X-Forwarded-For` (read from the right, where each proxy
/// appends the address it saw) that is not a trusted proxy. An entry that is not an
/// address ends the walk: what lies left of it was written by an untrusted party.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    let mut client = peer;
    for entry in entries.iter().rev() {
        match entry.trim().parse::<IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => client = ip,
            Ok(ip) => return ip,
            Err(_) => break,
        }
    }
    client
}

/// The middleware in front of every route: identifies the caller, refuses what it may
/// not do or do so often, and counts the answer.
pub async fn guard(
    State(service): State<Arc<Service>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    mut request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_owned();
    let response = match admit(&service, addr, &request, &route) {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(refusal) => refusal.into_response(),
    };
    service.metrics.count(&route, response.status());
    response
}

fn admit(
    service: &Service,
    addr: SocketAddr,
    request: &Request,
    route: &str,
) -> Result<Caller, ApiError> {
    let caller = match bearer(request) {
        Some(token) => match service.tokens.check(token) {
            Some(name) => Caller::Token(name),
            None => {
                service.metrics.unauthorized.fetch_add(1, Ordering::Relaxed);
                return Err(ApiError::unauthorized("the API token is not valid"));
            }
        },
        None => Caller::Anonymous(client_address(
            addr.ip(),
            request.headers(),
            &service.config.server.trusted_proxies,
        )),
    };
    if needs_token(route) && !caller.has_token() {
        service.metrics.unauthorized.fetch_add(1, Ordering::Relaxed);
        return Err(ApiError::unauthorized(
            "this endpoint generates and logs: it needs an API token (Authorization: Bearer …)",
        ));
    }
    if let Err(wait) = service.rates.admit(&caller, Instant::now()) {
        service.metrics.rate_limited.fetch_add(1, Ordering::Relaxed);
        let mut refusal = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many requests: slow down",
        );
        refusal.retry_after = Some(wait.ceil().max(1.0) as u64);
        return Err(refusal);
    }
    Ok(caller)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let limiter = RateLimiter::new(10.0, 2.0);
        let anon = Caller::Anonymous("127.0.0.1".parse().unwrap());
        let t0 = Instant::now();
        for _ in 0..4 {
            assert!(limiter.admit(&anon, t0).is_ok());
        }
        let wait = limiter.admit(&anon, t0).unwrap_err();
        assert!((wait - 0.5).abs() < 1e-9, "{wait}");
        assert!(
            limiter
                .admit(&anon, t0 + Duration::from_millis(500))
                .is_ok()
        );
        // Another caller has its own bucket, and tokens have their own rate.
        let token = Caller::Token("abcd1234".into());
        for _ in 0..20 {
            assert!(limiter.admit(&token, t0).is_ok());
        }
        assert!(limiter.admit(&token, t0).is_err());
    }

    #[test]
    fn the_client_is_the_peer_unless_a_trusted_proxy_forwards_it() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let headers = |values: &[&str]| {
            let mut h = HeaderMap::new();
            for v in values {
                h.append("x-forwarded-for", v.parse().unwrap());
            }
            h
        };
        let proxy = ip("10.0.0.1");
        let trusted = [proxy, ip("10.0.0.2")];
        let forwarded = headers(&["203.0.113.9, 10.0.0.2"]);
        // An untrusted peer's header is ignored: anyone can send one.
        assert_eq!(
            client_address(ip("198.51.100.7"), &forwarded, &trusted),
            ip("198.51.100.7")
        );
        assert_eq!(client_address(proxy, &forwarded, &[]), proxy);
        // Through two trusted proxies, the client is the address the outer one saw.
        assert_eq!(
            client_address(proxy, &forwarded, &trusted),
            ip("203.0.113.9")
        );
        // A client cannot pick its address by prepending one: the right-most untrusted
        // entry counts, over headers split across lines too.
        let spoofed = headers(&["1.2.3.4", "203.0.113.9"]);
        assert_eq!(client_address(proxy, &spoofed, &trusted), ip("203.0.113.9"));
        // Garbage ends the walk at the last trusted hop; no header leaves the proxy.
        let garbage = headers(&["not-an-address, 10.0.0.2"]);
        assert_eq!(client_address(proxy, &garbage, &trusted), ip("10.0.0.2"));
        assert_eq!(client_address(proxy, &HeaderMap::new(), &trusted), proxy);
    }

    #[test]
    fn metrics_render_as_prometheus_text() {
        let metrics = Metrics::default();
        metrics.count("/v1/detect", StatusCode::OK);
        metrics.count("/v1/detect", StatusCode::OK);
        metrics.rate_limited.fetch_add(3, Ordering::Relaxed);
        let text = metrics.render();
        assert!(text.contains("tracemark_requests_total{route=\"/v1/detect\",status=\"200\"} 2"));
        assert!(text.contains("tracemark_rate_limited_total 3"));
    }
}
