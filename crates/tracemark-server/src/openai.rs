//! OpenAI-compatible generation: `POST /v1/completions`, `POST /v1/chat/completions` (both
//! with `stream`), and `GET /v1/models`.
//!
//! Every generation is watermarked with the service's key and a payload naming it, its
//! C2PA credential is embedded in the returned text (invisible characters at its end), and
//! its record is in the log before the last chunk is sent. The wire format is OpenAI's;
//! what Tracemark adds is one extra object, `tracemark`, in the response (and in the
//! final chunk of a stream): the generation id, the log index and leaf hash, and the
//! C2SP receipt. Client libraries ignore fields they do not know.
//!
//! Parameters that would change the output in a way not implemented here (`n` > 1,
//! `stop`, `logprobs`, `echo`, `best_of`, tools) are refused, not ignored.

use std::{convert::Infallible, sync::Arc};

use axum::{
    Json,
    extract::{State, rejection::JsonRejection},
    response::{
        IntoResponse, Response,
        sse::{Event, KeepAlive, Sse},
    },
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_stream::{StreamExt as _, wrappers::ReceiverStream};
use tracemark::{
    lm::{Tokenizer, sampling::SamplingParams},
    mark::MarkedText,
};

use crate::{blocking::blocking, error::ApiError, service::Service};

/// `prompt` as OpenAI accepts it: a string or a list holding one.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Prompt {
    One(String),
    Many(Vec<String>),
}

/// The parameters both endpoints share.
#[derive(Debug, Deserialize)]
pub struct Common {
    model: String,
    max_tokens: Option<usize>,
    /// The chat endpoint's newer name for `max_tokens`.
    max_completion_tokens: Option<usize>,
    temperature: Option<f32>,
    top_p: Option<f32>,
    seed: Option<u64>,
    #[serde(default)]
    stream: bool,
    n: Option<u32>,
    stop: Option<Value>,
    logprobs: Option<Value>,
    echo: Option<bool>,
    best_of: Option<u32>,
    tools: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub struct CompletionBody {
    prompt: Prompt,
    #[serde(flatten)]
    common: Common,
}

#[derive(Debug, Deserialize)]
pub struct Message {
    role: String,
    content: Value,
}

#[derive(Debug, Deserialize)]
pub struct ChatBody {
    messages: Vec<Message>,
    #[serde(flatten)]
    common: Common,
}

/// Which wire format to answer in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Completion,
    Chat,
}

/// A generation request, checked.
#[derive(Debug)]
struct Job {
    kind: Kind,
    prompt: String,
    sampling: SamplingParams,
    stream: bool,
}

/// Checks the parameters against what the service does and can do.
fn job(service: &Service, kind: Kind, prompt: String, c: Common) -> Result<Job, ApiError> {
    let Some(model) = &service.model_name else {
        return Err(ApiError::unavailable(
            "this service has no model, watermark key and signing key to generate with",
        ));
    };
    if &c.model != model {
        return Err(
            ApiError::not_found(format!("no model `{}` here", c.model)).with_hint(format!(
                "this service generates with `{model}` (GET /v1/models)"
            )),
        );
    }
    let unsupported = [
        ("n", c.n.is_some_and(|n| n != 1)),
        ("stop", c.stop.as_ref().is_some_and(|v| !v.is_null())),
        (
            "logprobs",
            c.logprobs
                .as_ref()
                .is_some_and(|v| v != &json!(false) && !v.is_null()),
        ),
        ("echo", c.echo == Some(true)),
        ("best_of", c.best_of.is_some_and(|n| n != 1)),
        ("tools", c.tools.is_some()),
    ];
    if let Some((name, _)) = unsupported.iter().find(|(_, set)| *set) {
        return Err(ApiError::bad_request(format!(
            "`{name}` is not supported by this service"
        )));
    }
    let max_tokens = c
        .max_completion_tokens
        .or(c.max_tokens)
        .unwrap_or(match kind {
            // OpenAI's default for completions.
            Kind::Completion => 16,
            Kind::Chat => 256,
        });
    if max_tokens == 0 || max_tokens > service.limits.max_completion_tokens {
        return Err(ApiError::bad_request(format!(
            "max_tokens must be between 1 and {}",
            service.limits.max_completion_tokens
        )));
    }
    let temperature = c.temperature.unwrap_or(1.0);
    if !(0.0..=2.0).contains(&temperature) {
        return Err(ApiError::bad_request("temperature must be between 0 and 2"));
    }
    let top_p = c.top_p.unwrap_or(1.0);
    if !(top_p > 0.0 && top_p <= 1.0) {
        return Err(ApiError::bad_request("top_p must be in (0, 1]"));
    }
    let seed = c.seed.unwrap_or_else(random_u64);
    Ok(Job {
        kind,
        prompt,
        sampling: SamplingParams {
            temperature,
            top_p,
            seed,
            max_tokens,
            ..SamplingParams::default()
        },
        stream: c.stream,
    })
}

/// `POST /v1/completions`.
pub async fn completions(
    State(service): State<Arc<Service>>,
    json: Result<Json<CompletionBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let body = json?.0;
    let prompt = match body.prompt {
        Prompt::One(p) => p,
        Prompt::Many(mut list) if list.len() == 1 => list.remove(0),
        Prompt::Many(_) => {
            return Err(ApiError::bad_request("give one prompt per request"));
        }
    };
    let job = job(&service, Kind::Completion, prompt, body.common)?;
    run(service, job).await
}

/// `POST /v1/chat/completions`. The tiny models served here have no chat template: the
/// prompt is the messages' text, one paragraph each.
pub async fn chat_completions(
    State(service): State<Arc<Service>>,
    json: Result<Json<ChatBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let body = json?.0;
    if body.messages.is_empty() {
        return Err(ApiError::bad_request("messages is empty"));
    }
    let mut parts = Vec::new();
    for m in &body.messages {
        if !matches!(
            m.role.as_str(),
            "system" | "developer" | "user" | "assistant"
        ) {
            return Err(ApiError::bad_request(format!("unknown role `{}`", m.role)));
        }
        parts.push(message_text(&m.content)?);
    }
    let job = job(&service, Kind::Chat, parts.join("\n\n"), body.common)?;
    run(service, job).await
}

/// A message's text: a string, or the text parts of a list of content parts.
fn message_text(content: &Value) -> Result<String, ApiError> {
    match content {
        Value::String(s) => Ok(s.clone()),
        Value::Array(parts) => parts
            .iter()
            .map(
                |p| match (p.get("type").and_then(Value::as_str), p.get("text")) {
                    (Some("text"), Some(Value::String(t))) => Ok(t.clone()),
                    _ => Err(ApiError::bad_request(
                        "only text content parts are supported",
                    )),
                },
            )
            .collect::<Result<Vec<_>, _>>()
            .map(|t| t.join("")),
        _ => Err(ApiError::bad_request("a message's content must be text")),
    }
}

/// What Tracemark adds to an OpenAI response.
#[derive(Debug, Serialize)]
struct Provenance<'a> {
    generation_id: &'a str,
    provider: &'a str,
    scheme: &'a str,
    key_id: &'a str,
    payload: String,
    log_index: u64,
    leaf_hash: &'a str,
    /// The C2SP tlog-proof of the record: checkable offline with the log's public key.
    receipt: &'a str,
    /// The record's format: `tracemark.generation-record/v2` when it names the model by
    /// its identity, v1 otherwise.
    record_format: &'a str,
    /// The identity of the model's weights (`sha256:HEX`, its OMS root digest), when the
    /// model is signed.
    #[serde(skip_serializing_if = "Option::is_none")]
    model_digest: Option<String>,
}

fn provenance(m: &MarkedText) -> Provenance<'_> {
    Provenance {
        record_format: &m.record.format,
        model_digest: m.record.model.digest.map(|d| d.to_string()),
        generation_id: &m.record.generation_id,
        provider: &m.record.provider,
        scheme: &m.record.watermark_scheme,
        key_id: m.record.key_id.as_str(),
        payload: m.record.payload.to_string(),
        log_index: m.entry.index,
        leaf_hash: &m.entry.leaf_hash,
        receipt: &m.receipt,
    }
}

fn finish_reason(m: &MarkedText, job: &Job) -> &'static str {
    if m.tokens < job.sampling.max_tokens {
        "stop"
    } else {
        "length"
    }
}

/// A response id in OpenAI's form: a fresh random one, since a stream names its chunks
/// before the generation (and its id) exists. The generation id is in `tracemark`.
fn response_id(kind: Kind) -> String {
    let prefix = match kind {
        Kind::Completion => "cmpl",
        Kind::Chat => "chatcmpl",
    };
    format!("{prefix}-{:016x}", random_u64())
}

fn random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
    u64::from_le_bytes(bytes)
}

/// The whole response of a request without `stream`.
fn full_response(job: &Job, model: &str, m: &MarkedText) -> Value {
    let created = m.record.time.unix_seconds();
    let usage = json!({
        "prompt_tokens": m.prompt_tokens,
        "completion_tokens": m.tokens,
        "total_tokens": m.prompt_tokens + m.tokens,
    });
    let finish = finish_reason(m, job);
    let choice = match job.kind {
        Kind::Completion => json!({
            "index": 0, "text": m.signed, "logprobs": null, "finish_reason": finish,
        }),
        Kind::Chat => json!({
            "index": 0, "message": { "role": "assistant", "content": m.signed },
            "logprobs": null, "finish_reason": finish,
        }),
    };
    json!({
        "id": response_id(job.kind),
        "object": match job.kind { Kind::Completion => "text_completion", Kind::Chat => "chat.completion" },
        "created": created,
        "model": model,
        "choices": [choice],
        "usage": usage,
        "tracemark": provenance(m),
    })
}

/// One chunk of a stream, carrying `delta` text.
fn chunk(
    kind: Kind,
    id: &str,
    created: i64,
    model: &str,
    delta: &str,
    finish: Option<&str>,
) -> Value {
    match kind {
        Kind::Completion => json!({
            "id": id, "object": "text_completion", "created": created, "model": model,
            "choices": [{ "index": 0, "text": delta, "logprobs": null, "finish_reason": finish }],
        }),
        Kind::Chat => json!({
            "id": id, "object": "chat.completion.chunk", "created": created, "model": model,
            "choices": [{ "index": 0, "delta": { "content": delta }, "logprobs": null, "finish_reason": finish }],
        }),
    }
}

/// Turns token ids into text deltas as they come: the text of all tokens so far is
/// decoded, and what it adds is sent once it ends on a whole character (a byte-level
/// token may be half of one).
struct Deltas<'a> {
    tokenizer: &'a dyn Tokenizer,
    tokens: Vec<u32>,
    sent: usize,
    text: String,
}

impl<'a> Deltas<'a> {
    fn new(tokenizer: &'a dyn Tokenizer) -> Self {
        Self {
            tokenizer,
            tokens: Vec::new(),
            sent: 0,
            text: String::new(),
        }
    }

    fn push(&mut self, token: u32) -> Option<String> {
        self.tokens.push(token);
        let text = self.tokenizer.decode(&self.tokens).ok()?;
        if text.len() <= self.sent
            || text.ends_with('\u{FFFD}')
            || !text.is_char_boundary(self.sent)
        {
            return None;
        }
        let delta = text[self.sent..].to_owned();
        self.sent = text.len();
        self.text = text;
        Some(delta)
    }

    /// What the final text adds to what was sent (the credential, and any rest). If the
    /// final text does not extend what was sent (normalisation changed it), the whole
    /// final text is in the last chunk's `tracemark.text` instead.
    fn rest<'b>(&self, signed: &'b str) -> Option<&'b str> {
        signed.strip_prefix(&self.text[..self.sent])
    }
}

/// Generates under the generator's lock on a blocking thread, streaming or not.
async fn run(service: Arc<Service>, job: Job) -> Result<Response, ApiError> {
    let model = service.model_name.clone().unwrap_or_default();
    if !job.stream {
        return blocking(move || {
            let marked = generate(&service, &job, &mut |_| {})?;
            Ok(Json(full_response(&job, &model, &marked)).into_response())
        })
        .await;
    }
    let (tx, rx) = mpsc::channel::<Value>(64);
    tokio::task::spawn_blocking(move || stream(&service, &job, &model, &tx));
    let events = ReceiverStream::new(rx)
        .map(|v| Event::default().data(v.to_string()))
        .chain(tokio_stream::once(Event::default().data("[DONE]")))
        .map(Ok::<_, Infallible>);
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response())
}

fn generate(
    service: &Service,
    job: &Job,
    on_token: &mut dyn FnMut(u32),
) -> Result<MarkedText, ApiError> {
    let generator = service
        .generator
        .as_ref()
        .ok_or_else(|| ApiError::unavailable("this service does not generate"))?;
    let mut generator = generator.lock().unwrap_or_else(|e| e.into_inner());
    let generator = &mut *generator;
    Ok(generator.marker.mark(
        &mut generator.loaded,
        &job.prompt,
        job.sampling.clone(),
        on_token,
    )?)
}

/// Sends a stream's chunks. A client that hangs up does not stop the generation: it is
/// already being recorded, and a record without its text would be a false entry.
fn stream(service: &Service, job: &Job, model: &str, tx: &mpsc::Sender<Value>) {
    let created = tracemark::core::Timestamp::now().unix_seconds();
    let id = response_id(job.kind);
    let Ok(tokenizer) = service.attributor.watermarks.tokenizer() else {
        let _ = tx.blocking_send(
            json!({ "error": { "code": "not_configured", "message": "no tokenizer" } }),
        );
        return;
    };
    let mut deltas = Deltas::new(tokenizer);
    if job.kind == Kind::Chat {
        let mut first = chunk(job.kind, &id, created, model, "", None);
        first["choices"][0]["delta"]["role"] = json!("assistant");
        let _ = tx.blocking_send(first);
    }
    let result = generate(service, job, &mut |token| {
        if let Some(delta) = deltas.push(token) {
            let _ = tx.blocking_send(chunk(job.kind, &id, created, model, &delta, None));
        }
    });
    let last = match result {
        Ok(marked) => {
            let rest = deltas.rest(&marked.signed);
            let mut last = chunk(
                job.kind,
                &id,
                created,
                model,
                rest.unwrap_or_default(),
                Some(finish_reason(&marked, job)),
            );
            last["tracemark"] = json!(provenance(&marked));
            if rest.is_none() {
                last["tracemark"]["text"] = json!(marked.signed);
            }
            last["usage"] = json!({
                "prompt_tokens": marked.prompt_tokens,
                "completion_tokens": marked.tokens,
                "total_tokens": marked.prompt_tokens + marked.tokens,
            });
            last
        }
        // OpenAI's streams report a failure as an error object in the stream.
        Err(e) => json!({ "error": { "code": e.code, "message": e.message } }),
    };
    let _ = tx.blocking_send(last);
}

#[derive(Debug, Serialize)]
struct ModelList {
    object: &'static str,
    data: Vec<Value>,
}

/// `GET /v1/models`: the one model this service generates with.
pub async fn models(State(service): State<Arc<Service>>) -> Json<impl Serialize> {
    let data = service
        .model_name
        .iter()
        .map(|name| json!({ "id": name, "object": "model", "created": 0, "owned_by": service.provider }))
        .collect();
    Json(ModelList {
        object: "list",
        data,
    })
}
