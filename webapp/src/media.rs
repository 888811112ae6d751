//! Static files (`media/`), embedded in the binary and served with fingerprinted URLs
//! (`/media/style.css?v=<hash>`) so browsers may keep them for a year.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// (name, content type, bytes)
const FILES: &[(&str, &str, &[u8])] = &[
    ("style.css", "text/css; charset=utf-8", include_bytes!("../../media/style.css")),
    ("site.js", "text/javascript; charset=utf-8", include_bytes!("../../media/site.js")),
    // generated from syntect themes by `source::highlight::stylesheet` (a test keeps it current)
    ("highlight.css", "text/css; charset=utf-8", include_bytes!("../../media/highlight.css")),
    ("favicon.svg", "image/svg+xml", include_bytes!("../../media/favicon.svg")),
];

pub struct MediaFile {
    pub content_type: &'static str,
    pub bytes: &'static [u8],
    pub hash: String,
}

/// The embedded files by name, with their content hashes.
pub struct Media {
    files: HashMap<&'static str, MediaFile>,
}

impl Media {
    pub fn load() -> Media {
        let files = FILES
            .iter()
            .map(|(name, ct, bytes)| {
                let hash = hex::encode(&Sha256::digest(bytes)[..6]);
                (*name, MediaFile { content_type: ct, bytes, hash })
            })
            .collect();
        Media { files }
    }

    /// `/media/{name}?v={hash}` for templates.
    pub fn url(&self, name: &str) -> String {
        match self.files.get(name) {
            Some(f) => format!("/media/{name}?v={}", f.hash),
            None => format!("/media/{name}"),
        }
    }

    pub fn get(&self, name: &str) -> Option<&MediaFile> {
        self.files.get(name)
    }
}

/// `GET /media/{file}`: the cheap path — no database, no templates.
pub async fn serve_media(
    State(media): State<Arc<Media>>,
    Path(name): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let Some(f) = media.get(&name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let etag = format!("\"{}\"", f.hash);
    let cache = if q.get("v") == Some(&f.hash) { "public, max-age=31536000, immutable" } else { "public, max-age=300" };
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag), (header::CACHE_CONTROL, cache.to_string())])
            .into_response();
    }
    let mut r = (StatusCode::OK, f.bytes).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(f.content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    r
}
