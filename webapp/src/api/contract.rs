//! What every API operation can answer besides its own success, added to the generated
//! OpenAPI document in one place: the refusals of the layers in front of the handlers
//! (`protect/`: 413, 414, 431, 429, 503), the errors of [`crate::error::AppError`] with their
//! envelope, 304 for a matching `If-None-Match`, the headers (`ETag`, `Cache-Control`,
//! `Retry-After`, the client's `RateLimit-*` state), and the links between answers (a
//! package → its dependents and files) that let a client, or a fuzzer, walk from one
//! answer to the next. utoipa's header object has no `required`, hence JSON.

use serde_json::{Map, Value, json};

/// Statuses every operation may answer, each described once under `components/responses`.
const COMMON: &[(&str, &str)] = &[
    ("304", "NotModified"),
    ("400", "BadRequest"),
    ("404", "NotFound"),
    ("413", "PayloadTooLarge"),
    ("414", "UriTooLong"),
    ("429", "RateLimited"),
    ("431", "HeadersTooLarge"),
    ("500", "Internal"),
    ("503", "Unavailable"),
];

/// The client's budget, on every counted answer (absent when rate limiting is off).
const RATE_HEADERS: &[&str] = &["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"];

fn header_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/headers/{name}") })
}

fn error_response(description: &str, retry_after: bool) -> Value {
    let mut headers = rate_headers();
    if retry_after {
        headers.insert("Retry-After".into(), header_ref("Retry-After"));
    }
    json!({
        "description": description,
        "headers": headers,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorBody" } } },
    })
}

fn rate_headers() -> Map<String, Value> {
    RATE_HEADERS.iter().map(|h| (h.to_string(), header_ref(h))).collect()
}

fn components() -> (Value, Value) {
    let headers = json!({
        "RateLimit-Limit": {
            "description": "Requests this client may make at once (its burst); the budget refills at the \
                            `--rate-limit` rate per minute. Absent when rate limiting is off.",
            "schema": { "type": "integer", "minimum": 1 },
        },
        "RateLimit-Remaining": {
            "description": "Requests left of the burst now. Absent when rate limiting is off.",
            "schema": { "type": "integer", "minimum": 0 },
        },
        "RateLimit-Reset": {
            "description": "Seconds until the whole burst is available again. Absent when rate limiting is off.",
            "schema": { "type": "integer", "minimum": 0 },
        },
        "Retry-After": {
            "description": "Seconds to wait before trying again.",
            "required": true,
            "schema": { "type": "integer", "minimum": 1 },
        },
        "ETag": {
            "description": "Validator of the answer; send it back in `If-None-Match` to get a 304.",
            "required": true,
            "schema": { "type": "string", "pattern": "^\"[0-9a-f]{20}\"$" },
        },
        "Cache-Control": {
            "description": "How long browsers and proxies may keep the answer.",
            "required": true,
            "schema": { "type": "string", "minLength": 1 },
        },
    });
    let mut not_modified_headers = rate_headers();
    not_modified_headers.insert("ETag".into(), header_ref("ETag"));
    not_modified_headers.insert("Cache-Control".into(), header_ref("Cache-Control"));
    let responses = json!({
        "NotModified": { "description": "The client's copy (`If-None-Match`) is current.", "headers": not_modified_headers },
        "BadRequest": error_response("A query parameter is not what the operation accepts.", false),
        "NotFound": error_response("No such package, version, file or route, or an invalid package name.", false),
        "Gone": error_response("The package was deleted or unpublished from the registry.", false),
        "PayloadTooLarge": error_response("The request has a body (the API reads none).", false),
        "UriTooLong": error_response("The request line is over 8 kB.", false),
        "HeadersTooLarge": error_response("The request headers are over 16 kB.", false),
        "RateLimited": error_response("The client is over its budget (`--rate-limit` a minute).", true),
        "Internal": error_response("An internal error (logged; shown generically).", false),
        "Unavailable": error_response(
            "The database is unavailable, the search index is being built, the server is busy or the \
             request ran out of its time budget.",
            true,
        ),
    });
    (headers, responses)
}

/// `If-None-Match`, accepted by every operation (each answer has an `ETag`).
fn if_none_match() -> Value {
    json!({
        "name": "If-None-Match",
        "in": "header",
        "required": false,
        "description": "ETags of copies the client has (`*` for any): a match is answered 304.",
        "schema": { "type": "string" },
    })
}

/// The links from an operation's 200 answer, by operation id.
fn links(operation_id: &str) -> Option<Value> {
    let get = |op: &str, params: Value, description: &str| json!({ "operationId": op, "parameters": params, "description": description });
    Some(match operation_id {
        "get_package" => json!({
            "dependents": get("list_dependents", json!({ "name": "$response.body#/name" }), "Packages depending on it"),
            "files": get(
                "list_files",
                json!({ "name": "$response.body#/name", "version": "$response.body#/latest" }),
                "Files of its latest version",
            ),
        }),
        "list_dependents" => json!({
            "next": get(
                "list_dependents",
                json!({
                    "name": "$response.body#/name",
                    "kind": "$response.body#/kind",
                    "cursor": "$response.body#/next_cursor",
                }),
                "The next slice of the list",
            ),
            "dependent": get("get_package", json!({ "name": "$response.body#/items/0/name" }), "The first dependent"),
        }),
        "list_files" => json!({
            "file": get(
                "file_meta",
                json!({
                    "name": "$response.body#/name",
                    "version": "$response.body#/version",
                    "path": "$response.body#/files/0/path",
                }),
                "The first file's metadata",
            ),
            "next": get(
                "list_files",
                json!({
                    "name": "$response.body#/name",
                    "version": "$response.body#/version",
                    "page": "$response.body#/next_page",
                }),
                "The next page of the tree",
            ),
        }),
        "api_search" => json!({
            "package": get("get_package", json!({ "name": "$response.body#/results/0/name" }), "The first result"),
        }),
        "api_compare" => json!({
            "package": get("get_package", json!({ "name": "$response.body#/packages/0/name" }), "The first package"),
        }),
        "api_suggest" => json!({
            "package": get("get_package", json!({ "name": "$response.body#/suggestions/0/name" }), "The first suggestion"),
        }),
        _ => return None,
    })
}

/// Completes a generated document (see the module's documentation).
pub fn complete(doc: &mut Value) {
    let (headers, responses) = components();
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else { return };
    for (path, item) in paths.iter_mut() {
        let Some(op) = item.get_mut("get").and_then(Value::as_object_mut) else { continue };
        let id = op.get("operationId").and_then(Value::as_str).unwrap_or_default().to_string();
        let params = op.entry("parameters").or_insert_with(|| json!([]));
        if let Some(params) = params.as_array_mut() {
            params.push(if_none_match());
        }
        let Some(rs) = op.get_mut("responses").and_then(Value::as_object_mut) else { continue };
        for (status, component) in COMMON {
            rs.entry(*status).or_insert_with(|| json!({ "$ref": format!("#/components/responses/{component}") }));
        }
        if path.starts_with("/api/v1/packages/") {
            rs.entry("410").or_insert_with(|| json!({ "$ref": "#/components/responses/Gone" }));
        }
        for (status, r) in rs.iter_mut() {
            let Some(r) = r.as_object_mut() else { continue };
            if r.contains_key("$ref") {
                continue;
            }
            if r.get("description").and_then(Value::as_str).is_none_or(str::is_empty) {
                let reason = status
                    .parse::<u16>()
                    .ok()
                    .and_then(|s| axum::http::StatusCode::from_u16(s).ok())
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("Answer");
                r.insert("description".into(), json!(reason));
            }
            let h = r.entry("headers").or_insert_with(|| json!({}));
            let Some(h) = h.as_object_mut() else { continue };
            h.extend(rate_headers());
            match status.as_str() {
                "200" => {
                    h.insert("ETag".into(), header_ref("ETag"));
                    h.insert("Cache-Control".into(), header_ref("Cache-Control"));
                    if let Some(l) = links(&id) {
                        r.insert("links".into(), l);
                    }
                }
                "429" | "503" => {
                    h.insert("Retry-After".into(), header_ref("Retry-After"));
                }
                _ => {}
            }
        }
    }
    let Some(d) = doc.as_object_mut() else { return };
    if let Some(c) = d.entry("components").or_insert_with(|| json!({})).as_object_mut() {
        c.insert("headers".into(), headers);
        c.insert("responses".into(), responses);
    }
}
