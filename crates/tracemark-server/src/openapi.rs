//! The OpenAPI 3.1 description of the service, served at `/openapi.json`.

use serde_json::{Value, json};

fn json_body(schema: Value) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": schema } } })
}

/// A JSON body, or the file itself: any other `Content-Type` is the content as sent, the
/// other fields then given in the query string.
fn content_body(schema: Value) -> Value {
    let file = json!({ "type": "string", "format": "binary" });
    json!({
        "required": true,
        "description": "The JSON object, or the file itself as the body (image/png, image/jpeg, audio/wav, application/octet-stream, text/plain; no base64, up to the body limit), its other fields then in the query string.",
        "content": {
            "application/json": { "schema": schema },
            "image/png": { "schema": file },
            "image/jpeg": { "schema": file },
            "audio/wav": { "schema": file },
            "application/octet-stream": { "schema": file },
            "text/plain": { "schema": file },
        },
    })
}

fn ok(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

fn errors() -> Value {
    let e = || json!({ "$ref": "#/components/responses/Error" });
    json!({ "400": e(), "401": e(), "413": e(), "422": e(), "429": e(), "503": e() })
}

fn operation(summary: &str, body: Option<Value>, response: Value, token: bool) -> Value {
    let mut responses = errors();
    responses["200"] = response;
    let mut op = json!({ "summary": summary, "responses": responses });
    if let Some(body) = body {
        op["requestBody"] = body;
    }
    if token {
        op["security"] = json!([{ "bearer": [] }]);
    }
    op
}

/// The document.
pub fn document() -> Value {
    let signed = json!({ "$ref": "#/components/schemas/SignedResult" });
    let text = json!({
        "type": "object", "required": ["text"], "additionalProperties": false,
        "properties": { "text": { "type": "string" } },
    });
    let content = json!({
        "type": "object", "additionalProperties": false,
        "description": "Exactly one of `text` and `content_base64`.",
        "properties": {
            "text": { "type": "string" },
            "content_base64": { "type": "string", "contentEncoding": "base64" },
            "name": { "type": "string", "description": "The file's name; its extension tells media types apart." },
        },
    });
    let mut attribute = content.clone();
    attribute["properties"]["jurisdictions"] = json!({ "type": "array", "items": { "type": "string", "examples": ["EU", "CN", "US-CA"] } });
    attribute["properties"]["as_of"] = json!({ "type": "string", "format": "date" });
    attribute["properties"]["ai_generated"] = json!({ "type": "boolean" });
    attribute["properties"]["log"] = json!({
        "type": "boolean",
        "description": "Log the report's hash (callers with a token; default true for them).",
    });
    let mut detect = content.clone();
    detect["description"] = json!(
        "Exactly one of `text` and `content_base64` (text, or an image (PNG, JPEG) or a sound (WAV), recognised by its bytes; within the body limit, 6 MiB by default: about 4 MiB of file)."
    );
    detect["properties"]["fpr"] =
        json!({ "type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1, "default": 1e-3 });
    let generation = json!({
        "type": "object", "required": ["model"],
        "description": "OpenAI's request body. `n` > 1, `stop`, `logprobs`, `echo`, `best_of` and `tools` are refused.",
        "properties": {
            "model": { "type": "string" },
            "prompt": { "oneOf": [{ "type": "string" }, { "type": "array", "items": { "type": "string" }, "maxItems": 1 }] },
            "messages": { "type": "array", "items": { "type": "object" } },
            "max_tokens": { "type": "integer", "minimum": 1 },
            "temperature": { "type": "number", "minimum": 0, "maximum": 2 },
            "top_p": { "type": "number" },
            "seed": { "type": "integer" },
            "stream": { "type": "boolean" },
        },
    });
    let generated = json!({
        "description": "OpenAI's response (or, with `stream`, its server-sent events ending in `[DONE]`), \
                        with a `tracemark` object: generation id, log index, leaf hash and C2SP receipt.",
        "content": {
            "application/json": { "schema": { "type": "object" } },
            "text/event-stream": { "schema": { "type": "string" } },
        },
    });
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Tracemark attribution service",
            "version": tracemark::VERSION,
            "description": "Marked generation (OpenAI-compatible), watermark detection, credential \
                            verification, tracing into the training corpus and evidence reports. \
                            Results are signed with the service key.",
        },
        "paths": {
            "/v1/media/mark": { "post": operation("Mark an image (PNG, JPEG) or a sound (WAV) with the service's media key, sign its C2PA credential into it and log its record (tracemark.generation-record/v3)", Some(json_body(json!({
                "type": "object", "required": ["content_base64", "generator"], "additionalProperties": false,
                "properties": {
                    "content_base64": { "type": "string", "contentEncoding": "base64" },
                    "generator": { "type": "string", "description": "The model that made the content." },
                    "generator_version": { "type": "string", "default": "1" },
                },
            }))), ok("The marked file (content_base64), its record, log entry and receipt", json!({ "type": "object" })), true) },
            "/v1/detect": { "post": operation("Test a text, an image or a sound for the service's watermarks (an image also for Stable Diffusion XL's keyless mark)", Some(content_body(detect)), ok("Signed detections", signed.clone()), false) },
            "/v1/verify": { "post": operation("Verify the content's C2PA credential", Some(content_body(content.clone())), ok("Signed credential check", signed.clone()), false) },
            "/v1/count": { "post": operation("Count the text's occurrences in each configured index (503 `incomplete`, with `missing_shards`, when a shard did not answer)", Some(json_body(text.clone())), ok("The count in each index", json!({
                "type": "object",
                "properties": {
                    "query": { "type": "string" },
                    "counts": { "type": "array", "items": { "type": "object", "properties": { "index": { "type": "string" }, "count": { "type": "integer" } } } },
                },
            })), false) },
            "/v1/trace": { "post": operation("Find the text's sources in the indexed corpus, with their rights", Some(json_body(text)), ok("Signed sources", signed), false) },
            "/v1/attribute": { "post": operation("Every check, the law applied, and the sealed evidence report", Some(content_body(attribute)), ok("The report (JSON) and its HTML rendering", json!({
                "type": "object", "properties": { "report": { "type": "object" }, "html": { "type": "string" } },
            })), false) },
            "/v1/completions": { "post": operation("Generate marked text (OpenAI completions)", Some(json_body(generation.clone())), generated.clone(), true) },
            "/v1/chat/completions": { "post": operation("Generate marked text (OpenAI chat completions)", Some(json_body(generation)), generated, true) },
            "/v1/models": { "get": operation("The model this service generates with", None, ok("OpenAI's model list", json!({ "type": "object" })), false) },
            "/log/checkpoint": { "get": { "summary": "The log's signed checkpoint (C2SP tlog-checkpoint)", "responses": { "200": { "description": "A signed note", "content": { "text/plain": {} } } } } },
            "/log/tile/{path}": { "get": {
                "summary": "A tile of the log (C2SP tlog-tiles)",
                "parameters": [{ "name": "path", "in": "path", "required": true, "schema": { "type": "string" } }],
                "responses": { "200": { "description": "Tile bytes", "content": { "application/octet-stream": {} } }, "404": { "$ref": "#/components/responses/Error" } },
            } },
            "/health": { "get": { "summary": "Liveness and what is configured", "responses": { "200": { "description": "ok" } } } },
            "/metrics": { "get": { "summary": "Counters (Prometheus text format)", "responses": { "200": { "description": "ok", "content": { "text/plain": {} } } } } },
        },
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": {
                "SignedResult": {
                    "type": "object",
                    "required": ["format", "result", "result_hash"],
                    "properties": {
                        "format": { "const": "tracemark.signed-result/v1" },
                        "result": { "type": "object", "description": "content_hash, checked_at, service, and the findings" },
                        "result_hash": { "type": "string", "description": "sha256: of the result's RFC 8785 canonical JSON" },
                        "signature": {
                            "type": ["object", "null"],
                            "description": "Ed25519 signed-note signature over \"tracemark.signed-result/v1\\n<result_hash>\\n\"",
                            "properties": { "algorithm": { "type": "string" }, "key_id": { "type": "string" }, "public_key": { "type": "string" }, "value": { "type": "string" } },
                        },
                    },
                },
            },
            "responses": {
                "Error": { "description": "An error", "content": { "application/json": { "schema": {
                    "type": "object", "required": ["error"],
                    "properties": { "error": { "type": "object", "required": ["code", "message"], "properties": {
                        "code": { "type": "string" }, "message": { "type": "string" }, "hint": { "type": ["string", "null"] },
                        "missing_shards": { "type": "array", "items": { "type": "integer" }, "description": "For `incomplete`: the shards (by position) that did not answer" },
                    } } },
                } } } },
            },
        },
    })
}
