//! `tracemark serve --index-shard DIR`: one shard of a sharded index, served to routers
//! (`tracemark serve --shards URL...`). It answers from token ids only (what the shard
//! holds, counts, longest matches, documents), loads its index once, and applies
//! withdrawals made since (their file is watched). Shard servers belong on the private
//! network of their routers: they need no token, and a router is their only client.

use std::{net::SocketAddr, path::Path, sync::Arc, time::Duration};

use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, State, rejection::JsonRejection},
    http::StatusCode,
    routing::{get, post},
};
use serde::de::DeserializeOwned;
use tower_http::timeout::TimeoutLayer;
use tracemark::{
    corpus::WatchedIndex,
    shards::{
        CountRequest, CountResponse, DocumentsRequest, DocumentsResponse, LongestRequest,
        LongestResponse, SHARD_API, ShardInfo, answer,
    },
    trace::Index,
};

use crate::{blocking::blocking, error::ApiError};

/// The largest request a router sends: token ids of a text at the service's body limit.
const MAX_BODY: usize = 64 << 20;

/// What a shard server holds.
#[derive(Debug)]
pub struct ShardService {
    index: WatchedIndex,
}

impl ShardService {
    /// Opens the index (a part of a sharded index, or a whole one) at `dir`.
    pub fn open(dir: &Path) -> tracemark::Result<Arc<Self>> {
        Ok(Arc::new(Self {
            index: WatchedIndex::open(dir, None)?,
        }))
    }

    /// Runs `work` on the index, off the async threads.
    async fn with_index<T: Send + 'static>(
        self: Arc<Self>,
        work: impl FnOnce(&Index) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<Json<T>, ApiError> {
        blocking(move || work(&*self.index.read()?)).await.map(Json)
    }
}

fn body<T: DeserializeOwned>(json: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    Ok(json?.0)
}

async fn info(State(shard): State<Arc<ShardService>>) -> Result<Json<ShardInfo>, ApiError> {
    shard
        .with_index(|index| Ok(ShardInfo::of(index).map_err(tracemark::Error::from)?))
        .await
}

async fn count(
    State(shard): State<Arc<ShardService>>,
    json: Result<Json<CountRequest>, JsonRejection>,
) -> Result<Json<CountResponse>, ApiError> {
    let request = body(json)?;
    shard
        .with_index(move |index| Ok(answer::count(index, &request)))
        .await
}

async fn longest(
    State(shard): State<Arc<ShardService>>,
    json: Result<Json<LongestRequest>, JsonRejection>,
) -> Result<Json<LongestResponse>, ApiError> {
    let request = body(json)?;
    shard
        .with_index(move |index| Ok(answer::longest(index, &request)))
        .await
}

async fn documents(
    State(shard): State<Arc<ShardService>>,
    json: Result<Json<DocumentsRequest>, JsonRejection>,
) -> Result<Json<DocumentsResponse>, ApiError> {
    let request = body(json)?;
    shard
        .with_index(move |index| {
            Ok(answer::documents(index, &request).map_err(tracemark::Error::from)?)
        })
        .await
}

/// The shard's routes, with a body limit and a timeout.
pub fn router(shard: Arc<ShardService>) -> Router {
    Router::new()
        .route(
            "/health",
            get(|| async { Json(serde_json::json!({"status": "ok"})) }),
        )
        .route(&format!("{SHARD_API}/info"), get(info))
        .route(&format!("{SHARD_API}/count"), post(count))
        .route(&format!("{SHARD_API}/longest"), post(longest))
        .route(&format!("{SHARD_API}/documents"), post(documents))
        .fallback(|| async { ApiError::not_found("a shard server answers only /v1/shard/*") })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(60),
        ))
        .with_state(shard)
}

/// Serves the shard until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    shard: Arc<ShardService>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(shard).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
