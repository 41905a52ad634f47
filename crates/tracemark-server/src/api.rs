//! The checking endpoints (`/v1/detect`, `/v1/verify`, `/v1/count`, `/v1/trace`,
//! `/v1/attribute`),
//! the log's C2SP tiles and checkpoint, health and metrics.
//!
//! Results are signed with the service key (`tracemark.signed-result/v1`, or the
//! report's own seal), so a platform can keep a detection as evidence and anyone can
//! check it later with the service's public key.

use std::sync::Arc;

use axum::{
    Extension, Json,
    body::Bytes,
    extract::{FromRequest, Path as UrlPath, Query, Request, State, rejection::JsonRejection},
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use tracemark::{
    attribute::{
        self, Content as Examined, Request as AttributeRequest, SignedResult, WATERMARK_FPR,
        sign_result,
    },
    core::{ContentHash, Fact, Timestamp},
    credentials::strip_wrappers,
    log::AnyLedger,
    media,
    policy::{Date, EvidenceReport, Jurisdiction, render_html},
    text::DetectReport,
};

use crate::{
    blocking::blocking,
    error::{ApiError, too_large_or_invalid},
    guard::Caller,
    service::Service,
};

/// The content a checking endpoint reads: pasted text, a file's bytes in base64, or the
/// file itself as the request's body ([`Upload`]).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Content {
    pub text: Option<String>,
    pub content_base64: Option<String>,
    /// The file's name (kept in the report; its extension tells media types apart).
    pub name: Option<String>,
    /// The body itself, when it was the file.
    #[serde(skip)]
    pub raw: Option<Bytes>,
}

impl Content {
    fn bytes(&self) -> Result<Vec<u8>, ApiError> {
        match (&self.text, &self.content_base64, &self.raw) {
            (Some(text), None, None) => Ok(text.as_bytes().to_vec()),
            (None, Some(b64), None) => base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|e| ApiError::bad_request(format!("content_base64 is not base64: {e}"))),
            (None, None, Some(raw)) => Ok(raw.to_vec()),
            (_, _, Some(_)) => Err(ApiError::bad_request(
                "the body is the content: give `text` or `content_base64` only in a JSON body",
            )),
            _ => Err(ApiError::bad_request(
                "give exactly one of `text` and `content_base64`",
            )),
        }
    }
}

/// A checking endpoint's body: its JSON object, or the file itself. A body whose
/// `Content-Type` is not JSON (`image/png`, `image/jpeg`, `audio/wav`,
/// `application/octet-stream`, `text/plain`...) is the content as sent (no base64, so a
/// file may fill the body limit), and the endpoint's other fields come from the query
/// string (`?name=photo.jpg&fpr=0.001`).
#[derive(Debug)]
pub struct Upload<T> {
    fields: T,
    raw: Option<Bytes>,
}

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Send> FromRequest<S> for Upload<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|t| t.trim_start().starts_with("application/json"));
        if json {
            let Json(fields) = Json::<T>::from_request(request, state).await?;
            return Ok(Self { fields, raw: None });
        }
        let Query(fields) = Query::<T>::try_from_uri(request.uri())
            .map_err(|e| ApiError::bad_request(format!("the query string: {}", e.body_text())))?;
        let raw = Bytes::from_request(request, state).await.map_err(|e| {
            let status = e.status();
            ApiError::new(status, too_large_or_invalid(status), e.body_text())
        })?;
        Ok(Self {
            fields,
            raw: Some(raw),
        })
    }
}

/// The text a text-only endpoint reads, without any embedded credential (its invisible
/// characters are not part of what was written).
fn text_of(text: &str) -> Result<String, ApiError> {
    if text.trim().is_empty() {
        return Err(ApiError::bad_request("the text is empty"));
    }
    Ok(strip_wrappers(text))
}

/// Parses a JSON body, turning axum's rejection into the API's error.
fn body<T>(json: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    Ok(json?.0)
}

/// Runs a query's blocking work: a caller with a token at once, an anonymous one when a
/// read slot is free (twice as many as the machine has cores), so that anonymous load
/// waits in line in front of the blocking pool instead of crowding out the work of
/// callers with a token (their appends above all) on the cores.
async fn query<T: Send + 'static>(
    service: &Service,
    caller: &Caller,
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let _slot = match caller {
        Caller::Token(_) => None,
        Caller::Anonymous(_) => Some(
            service
                .read_slots
                .acquire()
                .await
                .map_err(|e| ApiError::internal("a read slot", &e))?,
        ),
    };
    blocking(work).await
}

/// The fields every signed result starts with.
#[derive(Debug, Serialize)]
struct Checked<T: Serialize> {
    content_hash: ContentHash,
    checked_at: Timestamp,
    service: String,
    #[serde(flatten)]
    findings: T,
}

fn signed<T: Serialize>(
    service: &Service,
    content: &[u8],
    findings: T,
) -> Result<SignedResult<Checked<T>>, ApiError> {
    let checked = Checked {
        content_hash: ContentHash::of_bytes(content),
        checked_at: Timestamp::now(),
        service: format!("tracemark {}", tracemark::VERSION),
        findings,
    };
    Ok(sign_result(checked, service.signer.as_ref())?)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectBody {
    /// Text to test; or `content_base64`, a file's bytes: text, or an image (PNG, JPEG)
    /// or a sound (WAV), recognised by its first bytes.
    text: Option<String>,
    content_base64: Option<String>,
    /// The file's name (not used to tell the format: the bytes do).
    name: Option<String>,
    /// The false-positive rate of the whole test (all keys together).
    fpr: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextBody {
    text: String,
}

#[derive(Debug, Serialize)]
struct Detections {
    detected: bool,
    false_positive_rate: f64,
    detections: Vec<DetectReport>,
}

/// `POST /v1/detect`: the text tested against every detection key of the service.
pub async fn detect(
    State(service): State<Arc<Service>>,
    Extension(caller): Extension<Caller>,
    Upload {
        fields: request,
        raw,
    }: Upload<DetectBody>,
) -> Result<Response, ApiError> {
    let fpr = request.fpr.unwrap_or(WATERMARK_FPR);
    if !(fpr > 0.0 && fpr < 1.0) {
        return Err(ApiError::bad_request("fpr must be between 0 and 1"));
    }
    let content = Content {
        text: request.text,
        content_base64: request.content_base64,
        name: request.name,
        raw,
    };
    let bytes = content.bytes()?;
    // An image or a sound: the media keys, and for an image the SDXL reading.
    if !matches!(media::sniff(&bytes), media::Sniffed::Other) {
        return query(&service.clone(), &caller, move || {
            let decoded = media::decode(&bytes)?;
            let report = service.attributor.media.detect(&decoded, fpr)?;
            if report.detections.is_empty() && report.sdxl.is_none() {
                return Err(ApiError::unavailable(format!(
                    "this service has no {} watermark key to detect with",
                    report.medium.as_str()
                )));
            }
            Ok(Json(signed(&service, &bytes, report)?).into_response())
        })
        .await;
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        ApiError::bad_request("the content is neither UTF-8 text nor a PNG, JPEG or WAV file")
    })?;
    let text = text_of(&text)?;
    if service.attributor.watermarks.detectors().next().is_none() {
        return Err(ApiError::unavailable(
            "this service has no watermark key to detect with",
        ));
    }
    // On a blocking thread: a text near the body limit is a million tokens, which must
    // not hold up the connections that share an async worker.
    query(&service.clone(), &caller, move || {
        let detections = service.attributor.watermarks.detect(&text, fpr)?;
        let findings = Detections {
            detected: detections.iter().any(|d| d.detected),
            false_positive_rate: fpr,
            detections,
        };
        Ok(Json(signed(&service, text.as_bytes(), findings)?).into_response())
    })
    .await
}

#[derive(Debug, Serialize)]
struct CredentialCheck {
    credential: Fact,
}

/// `POST /v1/verify`: the content's C2PA credential, checked against the trust anchors.
/// The answer's `credential` is a `credential` fact (trusted, untrusted, tampered or
/// none), or an `unestablished` one saying why there is no verdict: content the verifier
/// did not examine (over its size limit) or trust anchors that cannot be read. Either
/// way it is signed; an unestablished fact is never to be read as "none".
pub async fn verify(
    State(service): State<Arc<Service>>,
    Extension(caller): Extension<Caller>,
    Upload {
        fields: mut content,
        raw,
    }: Upload<Content>,
) -> Result<Response, ApiError> {
    content.raw = raw;
    let bytes = content.bytes()?;
    let name = content.name.clone();
    query(&service.clone(), &caller, move || {
        let credential = service
            .attributor
            .verify_credential(&Examined::new(&bytes, name.as_deref()));
        Ok(Json(signed(&service, &bytes, CredentialCheck { credential })?).into_response())
    })
    .await
}

#[derive(Debug, Serialize)]
struct Sources {
    facts: Vec<Fact>,
}

/// `POST /v1/trace`: the spans of the text found in the indexed corpus, with each
/// source's owner, licence and opt-out.
pub async fn trace(
    State(service): State<Arc<Service>>,
    Extension(caller): Extension<Caller>,
    json: Result<Json<TextBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let text = text_of(&body(json)?.text)?;
    query(&service.clone(), &caller, move || {
        let facts = service.attributor.trace(&text);
        Ok(Json(signed(&service, text.as_bytes(), Sources { facts })?).into_response())
    })
    .await
}

#[derive(Debug, Serialize)]
struct IndexCount {
    index: String,
    count: u64,
}

#[derive(Debug, Serialize)]
struct Counts {
    query: String,
    counts: Vec<IndexCount>,
}

/// `POST /v1/count`: how often the text occurs in each configured index (infini-gram's
/// count, in the index's tokens). An index whose shards did not all answer makes the
/// whole answer `incomplete` (503), naming them: a partial count would be wrong.
pub async fn count(
    State(service): State<Arc<Service>>,
    Extension(caller): Extension<Caller>,
    json: Result<Json<TextBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let text = body(json)?.text;
    if text.is_empty() {
        return Err(ApiError::bad_request("the text is empty"));
    }
    query(&service.clone(), &caller, move || {
        let counts = service
            .attributor
            .indexes
            .counts(&text)
            .map_err(ApiError::from_index)?
            .into_iter()
            .map(|(index, count)| IndexCount { index, count })
            .collect();
        Ok(Json(Counts {
            query: text,
            counts,
        })
        .into_response())
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeBody {
    text: Option<String>,
    content_base64: Option<String>,
    name: Option<String>,
    /// Default: the configured jurisdictions.
    jurisdictions: Option<Vec<Jurisdiction>>,
    /// The date the law is applied as of. Default: today.
    as_of: Option<Date>,
    /// What the caller states about AI origin.
    ai_generated: Option<bool>,
    /// Log the report (callers with a token; default yes for them).
    log: Option<bool>,
}

#[derive(Debug, Serialize)]
struct Attribution {
    report: EvidenceReport,
    html: String,
}

/// `POST /v1/attribute`: every capability on the content, the rules applied, and the
/// sealed evidence report (JSON and HTML). A caller with a token has it logged.
pub async fn attribute(
    State(service): State<Arc<Service>>,
    Extension(caller): Extension<Caller>,
    Upload {
        fields: request,
        raw,
    }: Upload<AttributeBody>,
) -> Result<Response, ApiError> {
    let content = Content {
        text: request.text,
        content_base64: request.content_base64,
        name: request.name,
        raw,
    };
    let bytes = content.bytes()?;
    if bytes.is_empty() {
        return Err(ApiError::bad_request("the content is empty"));
    }
    if request.log == Some(true) && !caller.has_token() {
        return Err(ApiError::unauthorized(
            "logging a report needs an API token",
        ));
    }
    let log = request.log.unwrap_or(true) && caller.has_token();
    query(&service.clone(), &caller, move || {
        let as_of = request.as_of.unwrap_or_else(Date::today);
        let jurisdictions = request
            .jurisdictions
            .unwrap_or_else(|| service.config.policy.jurisdictions.clone());
        let attribute_request = AttributeRequest {
            content: Examined::new(&bytes, content.name.as_deref()),
            as_of,
            jurisdictions,
            ai_generated: request.ai_generated,
            command: format!("POST /v1/attribute (as of {as_of})"),
        };
        let mut report = service.attributor.attribute(&attribute_request);
        attribute::seal_with(&mut report, service.signer.as_ref());
        if log {
            attribute::record_report(&mut report, &mut *lock_log(&service)?)?;
        }
        let html = render_html(&report);
        Ok(Json(Attribution { report, html }).into_response())
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkMediaBody {
    /// The picture (PNG, JPEG) or sound (WAV) the provider's model made, in base64.
    content_base64: String,
    /// The model that made it.
    generator: String,
    generator_version: Option<String>,
}

#[derive(Debug, Serialize)]
struct MarkedMediaAnswer {
    /// The published file: marked, with its credential embedded.
    content_base64: String,
    #[serde(flatten)]
    marked: media::MarkedMedia,
}

/// `POST /v1/media/mark` (a token required): an image or a sound marked with the
/// service's media key, its C2PA credential signed into it, its record logged; the
/// answer holds the file, the record, its log entry and the C2SP receipt.
pub async fn mark_media(
    State(service): State<Arc<Service>>,
    Extension(caller): Extension<Caller>,
    json: Result<Json<MarkMediaBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let request = body(json)?;
    if service.media_marker.is_none() {
        return Err(ApiError::unavailable(
            "this service has no image or audio watermark key, or no signing key, to mark with",
        ));
    }
    if request.generator.trim().is_empty() {
        return Err(ApiError::bad_request("the generator is empty"));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(request.content_base64.trim())
        .map_err(|e| ApiError::bad_request(format!("content_base64 is not base64: {e}")))?;
    query(&service.clone(), &caller, move || {
        let generator = media::MediaGenerator {
            name: request.generator,
            version: request.generator_version.unwrap_or_else(|| "1".into()),
        };
        let marked = service
            .media_marker
            .as_ref()
            .expect("checked above")
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .mark(&bytes, &generator)?;
        Ok(Json(MarkedMediaAnswer {
            content_base64: base64::engine::general_purpose::STANDARD.encode(&marked.bytes),
            marked,
        })
        .into_response())
    })
    .await
}

#[derive(Debug, Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
    model: Option<String>,
    detection_keys: usize,
    /// Image and audio watermark keys.
    media_detection_keys: usize,
    log: bool,
    signed_results: bool,
}

/// `GET /health`.
pub async fn health(State(service): State<Arc<Service>>) -> Json<impl Serialize> {
    Json(Health {
        status: "ok",
        version: tracemark::VERSION,
        model: service.model_name.clone(),
        detection_keys: service.attributor.watermarks.detectors().count(),
        media_detection_keys: service.attributor.media.loaded().len(),
        log: service.log.is_some(),
        signed_results: service.signer.is_some(),
    })
}

/// `GET /metrics` (Prometheus text format).
pub async fn metrics(State(service): State<Arc<Service>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        service.metrics.render(),
    )
}

/// The service's log writer, or why there is none.
fn lock_log(service: &Service) -> Result<std::sync::MutexGuard<'_, AnyLedger>, ApiError> {
    service
        .writer()
        .ok_or_else(|| ApiError::unavailable("this service has no log"))
}

/// `GET /log/checkpoint`: the log's latest signed checkpoint (C2SP tlog-checkpoint), as
/// the appending side signed it: a read never signs.
pub async fn checkpoint(
    State(service): State<Arc<Service>>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    query(&service.clone(), &caller, move || {
        let checkpoint = service
            .attributor
            .log
            .latest_checkpoint()
            .map_err(|e| ApiError::unavailable(format!("the log: {e}")))?
            .ok_or_else(|| ApiError::not_found("the log has no signed checkpoint yet"))?;
        Ok((
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            checkpoint.to_text(),
        )
            .into_response())
    })
    .await
}

/// `GET /log/tile/...`: a C2SP tlog-tiles tile of the latest checkpoint's tree. Full
/// tiles never change, so they may be cached for good; partial ones grow.
pub async fn tile(
    State(service): State<Arc<Service>>,
    Extension(caller): Extension<Caller>,
    UrlPath(path): UrlPath<String>,
) -> Result<Response, ApiError> {
    query(&service.clone(), &caller, move || {
        let resource = format!("tile/{path}");
        let bytes = service
            .attributor
            .log
            .tile(&resource)
            .map_err(|e| ApiError::not_found(format!("{resource}: {e}")))?;
        let cache = if path.contains(".p/") {
            "no-cache"
        } else {
            "public, max-age=31536000, immutable"
        };
        let mut response = bytes.into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
        Ok(response)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_given_one_way_only() {
        let content = |text: Option<&str>, b64: Option<&str>, raw: Option<&'static [u8]>| {
            Content {
                text: text.map(str::to_owned),
                content_base64: b64.map(str::to_owned),
                name: None,
                raw: raw.map(Bytes::from_static),
            }
            .bytes()
        };
        assert!(content(Some("x"), Some("eA=="), None).is_err());
        assert!(content(None, Some("not base64!"), None).is_err());
        assert_eq!(content(None, Some("aGVsbG8="), None).unwrap(), b"hello");
        assert_eq!(content(None, None, Some(b"\x89PNG")).unwrap(), b"\x89PNG");
        assert!(content(Some("x"), None, Some(b"body")).is_err());
        assert!(content(None, None, None).is_err());
    }
}
