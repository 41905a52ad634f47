//! Errors as the API returns them: a status and `{"error": {"code", "message", "hint"}}`.
//!
//! A request's own mistakes are explained; the server's failures are not (their details
//! go to the server's log, which never holds secrets), so a response reveals nothing of
//! the machine behind it.

use axum::{
    Json,
    extract::rejection::JsonRejection,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use tracemark::core::{Diagnose, Fault};

#[derive(Debug, Clone, Serialize)]
pub struct ApiError {
    #[serde(skip)]
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub hint: Option<String>,
    /// Seconds after which a refused caller may try again (`Retry-After`).
    #[serde(skip)]
    pub retry_after: Option<u64>,
    /// For an `incomplete` answer: the shards (by position) that did not answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing_shards: Option<Vec<usize>>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            hint: None,
            retry_after: None,
            missing_shards: None,
        }
    }

    /// An index's failure: an incomplete answer is `incomplete` (503) with the shards
    /// that did not answer; anything else as any failure.
    pub fn from_index(e: tracemark::Error) -> Self {
        let incomplete = match &e {
            tracemark::Error::Trace(t) => t.incomplete_public(),
            _ => None,
        };
        match incomplete {
            Some((message, missing)) => {
                eprintln!("tracemark serve: {e}");
                let mut error = Self::new(StatusCode::SERVICE_UNAVAILABLE, "incomplete", message)
                    .with_hint("ask again when every shard server answers");
                error.missing_shards = Some(missing);
                error
            }
            None => e.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "not_configured", message)
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// A failure of the server itself: logged here, named only vaguely in the response.
    pub fn internal(context: &str, detail: &dyn std::fmt::Display) -> Self {
        eprintln!("tracemark serve: {context}: {detail}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("{context} failed on the server (the details are in its log)"),
        )
    }
}

impl From<tracemark::Error> for ApiError {
    fn from(e: tracemark::Error) -> Self {
        match e.fault() {
            Fault::Usage | Fault::Input => Self {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: "unprocessable",
                message: e.to_string(),
                hint: e.hint(),
                retry_after: None,
                missing_shards: None,
            },
            Fault::Internal => Self::internal("the request", &e),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(e: JsonRejection) -> Self {
        let status = e.status();
        Self::new(status, too_large_or_invalid(status), e.body_text())
    }
}

/// The error code of a body the service could not read.
pub fn too_large_or_invalid(status: StatusCode) -> &'static str {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        "too_large"
    } else {
        "invalid_request"
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        #[derive(Serialize)]
        struct Body<'a> {
            error: &'a ApiError,
        }
        let mut response = (self.status, Json(Body { error: &self })).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
