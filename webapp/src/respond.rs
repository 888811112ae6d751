//! Answers with validators: an `ETag` on every page and API answer (304 on a matching
//! `If-None-Match`), a `Cache-Control` that fits the route, and the in-memory cache.

use std::future::Future;
use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::cache::Cached;
use crate::state::AppState;

pub const HTML: &str = "text/html; charset=utf-8";
pub const JSON: &str = "application/json";

/// Browsers and proxies may keep pages a minute; our own cache knows when they change.
pub const PAGE_CACHE: &str = "public, max-age=60";

/// A body ready to send and to cache.
pub fn cached(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
    cache_control: &'static str,
) -> Cached {
    let body = body.into();
    let etag = format!("\"{}\"", hex::encode(&Sha256::digest(&body)[..10]));
    Cached { status: status.as_u16(), content_type, body, etag, cache_control }
}

/// Sends `c`, or a 304 when the client already has it.
pub fn send(c: &Cached, headers: &HeaderMap) -> Response {
    let status = StatusCode::from_u16(c.status).unwrap_or(StatusCode::OK);
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == c.etag || t.trim() == "*"));
    let mut r = if matches && status.is_success() {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (status, c.body.clone()).into_response()
    };
    let h = r.headers_mut();
    if !matches || !status.is_success() {
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(c.content_type));
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(c.cache_control));
    if let Ok(v) = HeaderValue::from_str(&c.etag) {
        h.insert(header::ETAG, v);
    }
    r
}

/// Which cache an answer lives in.
pub enum Scope<'a> {
    /// About one package: dropped when the package changes.
    Package(&'a str),
    /// Site-wide: kept a minute.
    Global,
}

/// An error that many waiters of one coalesced render can each answer with.
pub trait SharedError: Send + Sync + 'static {
    fn from_shared(shared: &Self) -> Self;
}

impl SharedError for crate::error::PageError {
    fn from_shared(shared: &Self) -> Self {
        crate::error::PageError(shared.0.duplicate())
    }
}

impl SharedError for crate::error::ApiError {
    fn from_shared(shared: &Self) -> Self {
        crate::error::ApiError(shared.0.duplicate())
    }
}

/// The cached answer for `key`, or `produce`'s (cached when it succeeds). Concurrent misses
/// of one key share one `produce`: a crowd arriving at a cold page (after a restart, or a
/// change of the package) renders it once, not once per request.
pub async fn through_cache<E, F>(
    app: &AppState,
    scope: Scope<'_>,
    request: &str,
    headers: &HeaderMap,
    produce: F,
) -> Result<Response, E>
where
    F: Future<Output = Result<Cached, E>>,
    E: SharedError,
{
    let cache = app.cache();
    let key = match &scope {
        Scope::Package(name) => crate::cache::PageCache::package_key(name, request),
        Scope::Global => request.to_string(),
    };
    let hit = match &scope {
        Scope::Package(_) => cache.get_package(&key).await,
        Scope::Global => cache.get_global(&key).await,
    };
    if let Some(c) = hit {
        let mut r = send(&c, headers);
        r.headers_mut().insert("x-cache", HeaderValue::from_static("hit"));
        if !cache.db_ok() {
            // served from memory while the database is away: it may be out of date
            r.headers_mut().insert("x-nodules-stale", HeaderValue::from_static("database unavailable"));
        }
        return Ok(r);
    }
    let store = cache.store_for(matches!(scope, Scope::Package(_)));
    let c = store
        .try_get_with(key, async move { produce.await.map(Arc::new) })
        .await
        .map_err(|shared| Arc::try_unwrap(shared).unwrap_or_else(|shared| E::from_shared(&shared)))?;
    Ok(send(&c, headers))
}
