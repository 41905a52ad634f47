//! The attribution service: the HTTP API (OpenAI-compatible marked generation, detect,
//! verify, count, trace, attribute, the log's C2SP tiles) and the web page, over the same
//! pipelines as the command line (`tracemark`); and the shard server of a sharded index
//! ([`shard`]), which a service configured with `[index] shards` asks as one index.
//!
//! The server keeps no state of its own beyond what it loads at start: generations and
//! reports go to the configured log, so several servers can run side by side in front
//! of one PostgreSQL log.

pub mod api;
pub mod blocking;
pub mod error;
pub mod guard;
pub mod openai;
pub mod openapi;
pub mod service;
pub mod shard;

use std::{net::SocketAddr, sync::Arc};

use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, State},
    http::{HeaderValue, StatusCode, header},
    middleware,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use tower_http::timeout::TimeoutLayer;

pub use service::Service;

/// The page's files, built into the binary.
const INDEX_HTML: &str = include_str!("../web/index.html");
const APP_JS: &str = include_str!("../web/app.js");
const STYLE_CSS: &str = include_str!("../web/style.css");

/// The page runs only its own script and style: the report it shows echoes the user's
/// text, which must never become markup or code.
const CSP: &str = "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; \
                   base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

async fn not_found() -> error::ApiError {
    error::ApiError::not_found("no such endpoint (the API is described at /openapi.json)")
}

/// The service's routes, with the guard (tokens, rate limits, metrics), the body size
/// limit and the request timeout.
pub fn router(service: Arc<Service>) -> Router {
    let limits = service.limits;
    Router::new()
        .route(
            "/",
            get(|| async { asset("text/html; charset=utf-8", INDEX_HTML) }),
        )
        .route(
            "/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", APP_JS) }),
        )
        .route(
            "/style.css",
            get(|| async { asset("text/css; charset=utf-8", STYLE_CSS) }),
        )
        .route("/openapi.json", get(|| async { Json(openapi::document()) }))
        .route("/health", get(api::health))
        .route("/metrics", get(api::metrics))
        .route("/v1/detect", post(api::detect))
        .route("/v1/verify", post(api::verify))
        .route("/v1/count", post(api::count))
        .route("/v1/trace", post(api::trace))
        .route("/v1/attribute", post(api::attribute))
        .route("/v1/media/mark", post(api::mark_media))
        .route("/v1/models", get(openai::models))
        .route("/v1/completions", post(openai::completions))
        .route("/v1/chat/completions", post(openai::chat_completions))
        .route("/log/checkpoint", get(api::checkpoint))
        .route("/log/tile/{*path}", get(api::tile))
        .route_layer(middleware::from_fn_with_state(
            service.clone(),
            guard::guard,
        ))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(middleware::from_fn_with_state(
            limits.max_body_bytes,
            refuse_declared_oversize,
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        .with_state(service)
}

/// Refuses a body whose declared length is over the limit before reading any of it: the
/// client learns at once, and the server reads nothing it would refuse (a body without a
/// declared length is cut off at the limit as it is read).
async fn refuse_declared_oversize(
    State(max): State<usize>,
    request: axum::extract::Request,
    next: middleware::Next,
) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return error::ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the request body is over the limit of {max} bytes"),
        )
        .into_response();
    }
    next.run(request).await
}

/// Binds `addr`, calls `on_ready` with the bound address (port 0 picks one), and serves
/// until Ctrl-C or SIGTERM, then finishes the requests in flight. Owns its runtime, so
/// the command line needs none.
pub fn run(
    addr: &str,
    service: Arc<Service>,
    on_ready: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    on_runtime(addr, on_ready, |listener| {
        serve(listener, service, stop_signal())
    })
}

/// As [`run`], for a shard server (`serve --index-shard`).
pub fn run_shard(
    addr: &str,
    shard: Arc<shard::ShardService>,
    on_ready: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    on_runtime(addr, on_ready, |listener| {
        shard::serve(listener, shard, stop_signal())
    })
}

fn on_runtime<F: Future<Output = std::io::Result<()>>>(
    addr: &str,
    on_ready: impl FnOnce(SocketAddr),
    serve: impl FnOnce(tokio::net::TcpListener) -> F,
) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        on_ready(listener.local_addr()?);
        serve(listener).await
    })
}

/// Ctrl-C or SIGTERM (what `kill` and service managers send).
async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

/// Serves until `shutdown` resolves, then finishes the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    service: Arc<Service>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let signer = tokio::spawn(sign_checkpoints(service.clone()));
    let served = axum::serve(
        listener,
        router(service).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    signer.abort();
    served
}

/// The appending side's timer: entries another writer appended without signing (a
/// batch cut short, an offline import) get a checkpoint within the interval, so that
/// readers, which never sign, can prove them.
async fn sign_checkpoints(service: Arc<Service>) {
    if service.log.is_none() {
        return;
    }
    let mut tick = tokio::time::interval(service.limits.checkpoint_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let service = service.clone();
        let signed = blocking::blocking(move || Ok(service.sign_checkpoint_if_grown())).await;
        if let Ok(Err(e)) = signed {
            eprintln!("tracemark serve: signing a checkpoint: {e}");
        }
    }
}
