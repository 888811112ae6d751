//! Caching as a property of the answer. A handler answers with [`answer`] (or [`json`]): a
//! body and its [`CachePolicy`]. The [`page_cache`] middleware, the one place that reads the
//! policy, gives every such answer its `Cache-Control` and `ETag` (a 304 on a matching
//! `If-None-Match`) and keeps pages about a package or the site in memory, so a repeated
//! request runs no handler, and a crowd arriving at a cold page renders it once.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::cache::{Cached, Flight, PageCache};
use crate::error::AppError;
use crate::metrics::RouteTemplate;

pub const HTML: &str = "text/html; charset=utf-8";
pub const JSON: &str = "application/json";
pub const SVG: &str = "image/svg+xml";

/// The content types the page cache keeps answers of (a `Cached` holds a `&'static str`).
const KEPT_TYPES: &[&str] = &[HTML, JSON, SVG];

/// Browsers and proxies may keep pages a minute; our own cache knows when they change.
pub const PAGE_CACHE: &str = "public, max-age=60";

/// Whether a cached site-wide answer still holds (a search: while its index generation does).
pub type Validity = Arc<dyn Fn() -> bool + Send + Sync>;

/// How an answer may be kept; attached to the response by the handler.
#[derive(Clone)]
pub enum CachePolicy {
    /// About one package: kept until the package changes; browsers keep it a minute.
    Package(String),
    /// Site-wide: kept a minute (and only while `Validity` holds, when given).
    Global(Option<Validity>),
    /// Not kept here; browsers and proxies as this `Cache-Control` says.
    Browser(&'static str),
}

impl CachePolicy {
    fn cache_control(&self) -> &'static str {
        match self {
            CachePolicy::Package(_) | CachePolicy::Global(_) => PAGE_CACHE,
            CachePolicy::Browser(c) => c,
        }
    }
}

/// An answer, and how it may be kept.
pub fn answer(policy: CachePolicy, status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Response {
    let mut r = (status, [(header::CONTENT_TYPE, content_type)], body.into()).into_response();
    r.extensions_mut().insert(policy);
    r
}

/// `v` as a JSON answer (200), and how it may be kept.
pub fn json<T: Serialize>(policy: CachePolicy, v: &T) -> Result<Response, AppError> {
    let body = serde_json::to_vec(v).map_err(|e| AppError::Internal(e.into()))?;
    Ok(answer(policy, StatusCode::OK, JSON, body))
}

/// A body ready to send and to cache.
fn cached(status: StatusCode, content_type: &'static str, body: Bytes, policy: &CachePolicy) -> Cached {
    let etag = format!("\"{}\"", hex::encode(&Sha256::digest(&body)[..10]));
    Cached {
        status: status.as_u16(),
        content_type,
        body,
        etag,
        cache_control: policy.cache_control(),
        package: None,
        route: None,
        valid: None,
        counted_as: None,
        gzip: Arc::default(),
    }
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
    if let Some(route) = c.route {
        r.extensions_mut().insert(route);
    }
    r
}

/// A hit: the kept answer, marked as such (and as possibly stale while the database is away).
pub fn send_hit(cache: &PageCache, c: &Cached, headers: &HeaderMap) -> Response {
    let mut r = send(c, headers);
    r.headers_mut().insert("x-cache", HeaderValue::from_static("hit"));
    if !cache.db_ok() {
        // served from memory while the database is away: it may be out of date
        r.headers_mut().insert("x-nodules-stale", HeaderValue::from_static("database unavailable"));
    }
    r
}

/// An answer not kept here, with its own headers (a raw file's type and policy): its
/// `Cache-Control`, an `ETag`, and a 304 when the client already has it.
fn send_own(
    mut parts: axum::http::response::Parts,
    body: Bytes,
    cache_control: &'static str,
    headers: &HeaderMap,
) -> Response {
    let etag = format!("\"{}\"", hex::encode(&Sha256::digest(&body)[..10]));
    parts.headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache_control));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        parts.headers.insert(header::ETAG, v);
    }
    if parts.status == StatusCode::OK
        && headers.get(header::IF_NONE_MATCH).is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(header::CONTENT_TYPE);
        return Response::from_parts(parts, axum::body::Body::empty());
    }
    Response::from_parts(parts, axum::body::Body::from(body))
}

/// Turns the [`CachePolicy`] of an answer into its headers and the page cache; answers a
/// kept page without running the handler. Concurrent misses of one URL wait for the first
/// (which renders and keeps it) instead of each rendering it.
pub async fn page_cache(State(cache): State<Arc<PageCache>>, req: Request, next: Next) -> Response {
    let key = req.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default();
    let mut headers = HeaderMap::new();
    if let Some(v) = req.headers().get(header::IF_NONE_MATCH) {
        headers.insert(header::IF_NONE_MATCH, v.clone());
    }
    if let Some(c) = cache.get(&key).await {
        return send_hit(&cache, &c, &headers);
    }
    let _leader = match cache.flight(&key) {
        Flight::Leader(guard) => Some(guard),
        Flight::Follower(done) => {
            done.await;
            if let Some(c) = cache.get(&key).await {
                return send_hit(&cache, &c, &headers);
            }
            // the first answer was not kept (an error, or not cacheable): answer our own
            None
        }
    };
    let path = req.uri().path().to_string();
    let matched = req.extensions().get::<axum::extract::MatchedPath>().map(|m| Arc::<str>::from(m.as_str()));
    let r = next.run(req).await;
    let Some(policy) = r.extensions().get::<CachePolicy>().cloned() else { return r };
    let (parts, body) = r.into_parts();
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => return crate::error::answer(&path, AppError::Internal(anyhow::anyhow!("reading an answer: {e}"))),
    };
    if let CachePolicy::Browser(cache_control) = policy {
        return send_own(parts, body, cache_control, &headers);
    }
    let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let Some(content_type) = KEPT_TYPES.iter().copied().find(|t| content_type == Some(*t)) else {
        // a type the cache cannot name would come back from it as another one
        return send_own(parts, body, policy.cache_control(), &headers);
    };
    let mut c = cached(parts.status, content_type, body, &policy);
    c.route = parts.extensions.get::<RouteTemplate>().copied();
    // what `metrics::track` counts it under, for hits answered before routing (`hit`)
    c.counted_as = c.route.map(|t| Arc::<str>::from(t.0)).or(matched);
    let r = send(&c, &headers);
    // (a `Browser` answer was sent above)
    if let CachePolicy::Package(name) = policy {
        cache.put_package(key, name, c).await;
    } else if let CachePolicy::Global(valid) = policy {
        cache.put_global(key, Cached { valid, ..c }).await;
    }
    r
}
