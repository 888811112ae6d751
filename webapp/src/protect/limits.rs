//! Limits on what a request may be: the site is read-only (GET, HEAD, OPTIONS; others 405),
//! a request line over 8 kB is 414, headers over 16 kB are 431, a request with a body is
//! 413 (nothing here reads one, so no body can hold a connection) — answered before any work.

use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub const MAX_URI_BYTES: usize = 8 * 1024;
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

pub async fn request_limits(req: Request, next: Next) -> Response {
    if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "GET, HEAD, OPTIONS")], "method not allowed\n")
            .into_response();
    }
    if req.uri().to_string().len() > MAX_URI_BYTES {
        return (StatusCode::URI_TOO_LONG, "request line too long\n").into_response();
    }
    let header_bytes: usize = req.headers().iter().map(|(k, v)| k.as_str().len() + v.len() + 4).sum();
    if header_bytes > MAX_HEADER_BYTES {
        return (StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "headers too large\n").into_response();
    }
    let has_body = req.headers().contains_key(header::TRANSFER_ENCODING)
        || req
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.to_str().ok().and_then(|s| s.trim().parse::<u64>().ok()) != Some(0));
    if has_body {
        return (StatusCode::PAYLOAD_TOO_LARGE, "request bodies are not accepted\n").into_response();
    }
    next.run(req).await
}
