//! A page kept in the cache, answered before routing. Routing a request through the
//! middleware stack costs as much CPU as sending a 30 kB page (measured: a cached source
//! page ran at half of nginx's rate serving the same bytes), so `server` asks here first.
//! The answer is the one the whole stack would give for a hit: the same headers, the
//! client's rate limit applied, the hit counted by `/metrics`. Anything else — other
//! methods, the API (its CORS headers), refusals, a client over its budget or asking only
//! for encodings other than gzip — goes the whole way.

use std::net::SocketAddr;

use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;

use crate::protect::headers::{self, Hsts};
use crate::respond::send_hit;
use crate::state::AppState;

/// Largest page gzip'd once and kept so; larger ones are compressed as they are sent.
const PRECOMPRESSED_MAX: usize = 1 << 20;

/// The answer to `req` from the page cache, when the whole stack would give just that.
pub async fn answer(app: &AppState, req: &Parts, peer: SocketAddr) -> Option<Response> {
    if req.method != Method::GET || req.uri.path().starts_with("/api/") {
        return None;
    }
    if crate::protect::limits::refusal(&req.method, &req.uri, &req.headers).is_some() {
        return None;
    }
    let encoding = wanted_encoding(&req.headers)?;
    let key = req.uri.path_and_query().map(|p| p.as_str())?;
    let cache = app.cache();
    let c = cache.get(key).await?;
    let rate = match app.rate_limits() {
        Some(limits) => Some(limits.allows(limits.client(peer, &req.headers), false)?),
        None => None,
    };
    let mut if_none_match = HeaderMap::new();
    if let Some(v) = req.headers.get(header::IF_NONE_MATCH) {
        if_none_match.insert(header::IF_NONE_MATCH, v.clone());
    }
    let mut r = send_hit(cache, &c, &if_none_match);
    if encoding == Encoding::Gzip && r.status() != StatusCode::NOT_MODIFIED {
        let gz = c.gzip.get_or_init(|| gzip(&c.body)).clone()?;
        *r.body_mut() = axum::body::Body::from(gz);
        r.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    let h = r.headers_mut();
    // as the compression layer marks every answer it could have compressed
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if let Some(rate) = rate {
        rate.write(h);
    }
    headers::add(h, Hsts::of(&app.0.config.base_url));
    if let Some(route) = &c.counted_as {
        app.metrics().count_hit(route, r.status());
    }
    Some(r)
}

#[derive(Debug, PartialEq, Eq)]
enum Encoding {
    Identity,
    Gzip,
}

/// What `Accept-Encoding` lets us send from here: gzip when accepted, the bytes as they are
/// when no compression is; `None` when only another one is (the compression layer has it).
fn wanted_encoding(headers: &HeaderMap) -> Option<Encoding> {
    let Some(accept) = headers.get(header::ACCEPT_ENCODING) else { return Some(Encoding::Identity) };
    let accept = accept.to_str().ok()?;
    let mut other = false;
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or("").trim();
        let refused = parts
            .any(|p| p.trim().strip_prefix("q=").and_then(|q| q.trim().parse::<f32>().ok()).is_some_and(|q| q <= 0.0));
        if refused || coding.is_empty() || coding.eq_ignore_ascii_case("identity") {
            continue;
        }
        if coding.eq_ignore_ascii_case("gzip") || coding == "*" {
            return Some(Encoding::Gzip);
        }
        other |= ["br", "deflate", "zstd"].iter().any(|c| coding.eq_ignore_ascii_case(c));
    }
    if other { None } else { Some(Encoding::Identity) }
}

/// `body` gzip'd as the compression layer would (default level), or `None` when it is too
/// large to compress while a request waits (it goes the whole way, compressed as it is sent).
fn gzip(body: &Bytes) -> Option<Bytes> {
    use std::io::Write;
    if body.len() > PRECOMPRESSED_MAX {
        return None;
    }
    let mut enc = flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 4), flate2::Compression::default());
    enc.write_all(body).ok()?;
    enc.finish().ok().map(Bytes::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).expect("value"));
        h
    }

    #[test]
    fn accept_encoding_picks_gzip_identity_or_the_whole_way() {
        assert_eq!(wanted_encoding(&HeaderMap::new()), Some(Encoding::Identity));
        assert_eq!(wanted_encoding(&accept("gzip, deflate, br, zstd")), Some(Encoding::Gzip));
        assert_eq!(wanted_encoding(&accept("br;q=1.0, gzip;q=0.8")), Some(Encoding::Gzip));
        assert_eq!(wanted_encoding(&accept("identity")), Some(Encoding::Identity));
        assert_eq!(wanted_encoding(&accept("gzip;q=0, br")), None);
        assert_eq!(wanted_encoding(&accept("br")), None);
        assert_eq!(wanted_encoding(&accept("*")), Some(Encoding::Gzip));
        assert_eq!(wanted_encoding(&accept("compress")), Some(Encoding::Identity));
    }

    #[test]
    fn a_page_is_gzipped_once_unless_too_large() {
        let body = Bytes::from("<p>hello</p>".repeat(1000));
        let gz = gzip(&body).expect("small enough");
        let mut out = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut out).expect("gunzip");
        assert_eq!(out.as_bytes(), &body[..]);
        assert!(gzip(&Bytes::from(vec![b'a'; PRECOMPRESSED_MAX + 1])).is_none());
    }
}
