//! A stored file's bytes, exactly: `?raw=1` as text or a download, `?image=1` as an image for
//! an `<img>`. Neither can render as a page of this site: `nosniff`, `Content-Security-Policy:
//! sandbox`, and never the file's own type for HTML, SVG or XML in a raw answer.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::respond::{CachePolicy, answer};

/// Version-pinned bytes never change: kept a year (a `latest` URL only an hour).
const PINNED: &str = "public, max-age=31536000, immutable";
const LATEST: &str = "public, max-age=3600";

fn protect(mut r: Response, download_name: Option<&str>) -> Response {
    let h = r.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox; default-src 'none'"));
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    if let Some(name) = download_name {
        let value = format!("attachment; filename*=UTF-8''{}", super::encode_segment(name));
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(header::CONTENT_DISPOSITION, v);
        }
    }
    r
}

fn cache(pinned: bool) -> CachePolicy {
    CachePolicy::Browser(if pinned { PINNED } else { LATEST })
}

/// `?raw=1`: text as `text/plain; charset=utf-8`, anything else as a download.
pub fn raw(bytes: Vec<u8>, binary: bool, file_name: &str, pinned: bool) -> Response {
    let (ct, download) =
        if binary { ("application/octet-stream", Some(file_name)) } else { ("text/plain; charset=utf-8", None) };
    protect(answer(cache(pinned), StatusCode::OK, ct, bytes), download)
}

/// The image type of `bytes` by their signature (never by the file name), or SVG for a text
/// file named `.svg`.
pub fn image_type(bytes: &[u8], path: &str, binary: bool) -> Option<&'static str> {
    const SIGNATURES: &[(&[u8], &str)] = &[
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
    ];
    if let Some((_, t)) = SIGNATURES.iter().find(|(sig, _)| bytes.starts_with(sig)) {
        return Some(t);
    }
    if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Some("image/webp");
    }
    (!binary && path.to_ascii_lowercase().ends_with(".svg")).then_some("image/svg+xml")
}

/// `?image=1`: the bytes as their image type, for `<img src>` only (an SVG's scripts cannot
/// run: sandboxed, and an `<img>` never runs them anyway).
pub fn image(bytes: Vec<u8>, content_type: &'static str, pinned: bool) -> Response {
    protect(answer(cache(pinned), StatusCode::OK, content_type, bytes), None)
}

/// A file that is not an image asked for as one.
pub fn not_an_image() -> Response {
    protect((StatusCode::NOT_FOUND, "not an image").into_response(), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_by_signature() {
        assert_eq!(image_type(b"\x89PNG\r\n\x1a\nxxxx", "a.txt", true), Some("image/png"));
        assert_eq!(image_type(b"RIFF\0\0\0\0WEBPVP8 ", "x", true), Some("image/webp"));
        assert_eq!(image_type(b"<svg/>", "logo.SVG", false), Some("image/svg+xml"));
        assert_eq!(image_type(b"<html>", "page.html", false), None);
        assert_eq!(image_type(b"\x89PNx", "a.png", true), None);
    }
}
