//! READMEs: GitHub-flavoured Markdown rendered with comrak, sanitized with ammonia.
//!
//! [`render`] caps the input, lets comrak pass raw HTML through, bounds the nesting depth, has
//! ammonia keep an allowlist (rewriting every URL through a [`LinkBase`]), then anchors the
//! headings. The result is the only HTML templates may mark `|safe`; cache it under [`cache_key`].
mod headings; // ids and self-links on h1-h6
mod links; // LinkBase: relative URLs into the repository, allowed schemes
pub mod load; // a version's README for its page: stored blob -> cached HTML, or a note
mod nesting; // depth bound, so html5ever stays linear
mod sanitize; // the ammonia allowlist

use std::fmt::Write as _;

use comrak::Options;
use sha2::{Digest, Sha256};

pub use links::LinkBase;

/// Bumped whenever rendering changes: cached HTML of an older renderer is redone.
pub const RENDERER_VERSION: u32 = 1;

/// READMEs are rendered up to this many bytes; the rest is left out, with a note.
pub const MAX_README_BYTES: usize = 1 << 20;

const TRUNCATED_NOTE: &str = "<p class=\"readme-truncated\"><em>This README is longer than 1 MiB: \
    only its beginning is shown.</em></p>\n";

/// Renders README Markdown (GitHub-flavoured) to a sanitized HTML fragment.
///
/// Raw HTML is allowed, then sanitized: no scripts, styles, frames, forms or event handlers; only
/// http, https and mailto links; images from http, https or inline `data:image/{png,gif,jpeg,
/// webp,avif};base64` (no SVG); `rel="nofollow noopener noreferrer"` on every link. Relative
/// links and images resolve through `base`, `#anchor` links point at the `user-content-` ids.
pub fn render(markdown: &str, base: &LinkBase) -> String {
    let (markdown, truncated) = cap(markdown);
    let html = comrak::markdown_to_html(markdown, &options());
    let mut html = headings::anchor(&sanitize::clean(&nesting::flatten(&html), base));
    if truncated {
        html.push_str(TRUNCATED_NOTE);
    }
    html
}

/// Renders a README that is not Markdown (`README`, `README.txt`): escaped, in `<pre>`.
pub fn render_plain(text: &str) -> String {
    let (text, truncated) = cap(text);
    let mut html = String::with_capacity(text.len() + text.len() / 16 + 32);
    html.push_str("<pre class=\"readme-plain\">");
    let text = text.replace('\0', "\u{FFFD}");
    let _ = write!(html, "{}", minijinja::HtmlEscape(&text));
    html.push_str("</pre>\n");
    if truncated {
        html.push_str(TRUNCATED_NOTE);
    }
    html
}

/// Cache key of a rendered README: hex sha256 over the README blob's id (itself a hash of its
/// bytes), [`RENDERER_VERSION`] and the link base, so a change to any of them misses the cache.
pub fn cache_key(readme_blob_id: &str, base: &LinkBase) -> String {
    let mut hasher = Sha256::new();
    let version = RENDERER_VERSION.to_string();
    for field in ["nodules-readme", &version, readme_blob_id, &base.describe()] {
        // length-prefixed: no two different field lists hash the same bytes
        hasher.update((field.len() as u64).to_le_bytes());
        hasher.update(field.as_bytes());
    }
    hex::encode(hasher.finalize())
}

fn options() -> Options<'static> {
    let mut options = Options::default();
    options.extension.strikethrough = true;
    options.extension.table = true;
    options.extension.autolink = true;
    options.extension.tasklist = true;
    options.extension.footnotes = true;
    // raw HTML goes through; ammonia decides what stays
    options.render.r#unsafe = true;
    options.render.tasklist_classes = true;
    options
}

/// The first [`MAX_README_BYTES`] of `text`, cut after a line where possible.
fn cap(text: &str) -> (&str, bool) {
    if text.len() <= MAX_README_BYTES {
        return (text, false);
    }
    let mut end = MAX_README_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let head = &text[..end];
    (head.rfind('\n').map_or(head, |newline| &head[..=newline]), true)
}
