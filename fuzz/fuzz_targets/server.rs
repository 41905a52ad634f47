#![no_main]
//! The service's HTTP request bodies, through the real axum router in-process: the demo's
//! work folder (`tracemark_demo::prepare` in a temporary directory, as `tracemark serve`
//! without a configuration and the server's own tests use), `Service::open`, and
//! `tracemark_server::router` with its guard, body limit and timeout, built once.
//!
//! The first byte picks the route (`/v1/detect`, `/v1/verify`, `/v1/trace`,
//! `/v1/attribute`, `/v1/completions`, `/v1/chat/completions`), whether the caller sends
//! the API token, and whether the body is declared JSON; the rest is the body of the
//! POST. A malformed body must be answered with a 4xx, never a 500, and nothing panics.

use std::{
    net::SocketAddr,
    path::PathBuf,
    sync::{Arc, OnceLock},
};

use axum::{
    Router,
    body::Body,
    extract::ConnectInfo,
    http::{Request, StatusCode, header},
};
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;
use tracemark::core::keyfile::{self, Replace, Secrecy};

const TOKEN: &str = "fuzz-token-0c6a1d2e9b7f4e3a8d5c";

const ROUTES: [&str; 6] = [
    "/v1/detect",
    "/v1/verify",
    "/v1/trace",
    "/v1/attribute",
    "/v1/completions",
    "/v1/chat/completions",
];

struct Server {
    runtime: tokio::runtime::Runtime,
    router: Router,
}

fn server() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(|| {
        let base = std::env::var_os("TRACEMARK_FUZZ_TMP")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let dir = tempfile::Builder::new()
            .prefix("tracemark-fuzz-server-")
            .tempdir_in(base)
            .expect("a temporary directory")
            .keep();
        let ws = tracemark_demo::prepare(&dir.join("demo"), &tracemark_demo::Options::default())
            .expect("the demo work folder");
        let tokens = ws.out.join("tokens");
        keyfile::write_file(
            &tokens,
            format!("# fuzz\n{TOKEN}\n").as_bytes(),
            Secrecy::Secret,
            Replace::No,
        )
        .expect("the tokens file");
        let mut config = ws.config.clone();
        config.server.tokens_file = Some(tokens);
        config.server.token_rate = Some(1e9);
        config.server.anonymous_rate = Some(1e9);
        let service = tracemark_server::Service::open(config).expect("the service opens");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .max_blocking_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        Server {
            runtime,
            router: tracemark_server::router(Arc::clone(&service)),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let s = server();
    let route = ROUTES[usize::from(selector & 0x0f) % ROUTES.len()];
    let mut request = Request::post(route);
    if selector & 0x10 == 0 {
        request = request.header(header::AUTHORIZATION, format!("Bearer {TOKEN}"));
    }
    if selector & 0x20 == 0 {
        request = request.header(header::CONTENT_TYPE, "application/json");
    }
    let mut request = request.body(Body::from(body.to_vec())).expect("a request");
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
    let (status, text) = s.runtime.block_on(async {
        let response = s.router.clone().oneshot(request).await.expect("infallible");
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 64 << 20)
            .await
            .unwrap_or_default();
        (status, bytes)
    });
    assert!(
        status != StatusCode::INTERNAL_SERVER_ERROR,
        "{route} answered 500: {}",
        String::from_utf8_lossy(&text)
    );
});
