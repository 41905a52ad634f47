//! Work that blocks (models, SQLite, PostgreSQL's client, suffix-array queries) runs off
//! the async threads, so that it never holds up the connections sharing a worker.

use crate::error::ApiError;

/// Runs blocking work (models, SQLite, PostgreSQL's client) off the async threads.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::internal("a worker", &e))?
}
