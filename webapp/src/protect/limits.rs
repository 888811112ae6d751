//! Limits on what a request may be: the site is read-only (GET, HEAD, OPTIONS; others 405),
//! a request line over 8 kB is 414, headers over 16 kB are 431, a request with a body is
//! 413 (nothing here reads one, so no body can hold a connection) — answered before any work.

use axum::extract::Request;
use axum::http::{HeaderMap, Method, Uri, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::error::{AppError, answer};

pub const MAX_URI_BYTES: usize = 8 * 1024;
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

pub async fn request_limits(req: Request, next: Next) -> Response {
    match refusal(req.method(), req.uri(), req.headers()) {
        Some(e) => answer(req.uri().path(), e),
        None => next.run(req).await,
    }
}

/// Why a request is refused before any work, if it is.
pub fn refusal(method: &Method, uri: &Uri, headers: &HeaderMap) -> Option<AppError> {
    if !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Some(AppError::MethodNotAllowed);
    }
    if uri.to_string().len() > MAX_URI_BYTES {
        return Some(AppError::UriTooLong);
    }
    let header_bytes: usize = headers.iter().map(|(k, v)| k.as_str().len() + v.len() + 4).sum();
    if header_bytes > MAX_HEADER_BYTES {
        return Some(AppError::HeadersTooLarge);
    }
    let has_body = headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.to_str().ok().and_then(|s| s.trim().parse::<u64>().ok()) != Some(0));
    has_body.then_some(AppError::BodyNotAccepted)
}
