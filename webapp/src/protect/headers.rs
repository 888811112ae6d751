//! Security headers on every answer: pages, API, errors, static files. No inline script
//! anywhere; images from anywhere over https (READMEs embed badges from everywhere).

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; \
connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Whether answers carry `Strict-Transport-Security` (the site's base URL is https).
#[derive(Debug, Clone, Copy)]
pub struct Hsts(pub bool);

impl Hsts {
    /// On when the site's public URL is https.
    pub fn of(base_url: &str) -> Hsts {
        Hsts(base_url.starts_with("https://"))
    }
}

pub async fn security_headers(State(hsts): State<Hsts>, req: Request, next: Next) -> Response {
    let mut r = next.run(req).await;
    add(r.headers_mut(), hsts);
    r
}

/// The headers every answer carries (a policy already there is kept).
pub fn add(h: &mut HeaderMap, Hsts(hsts): Hsts) {
    // a raw file served from a tarball brings its own, stricter policy
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("strict-origin-when-cross-origin"));
    h.insert(HeaderName::from_static("x-frame-options"), HeaderValue::from_static("DENY"));
    if hsts {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    }
}
