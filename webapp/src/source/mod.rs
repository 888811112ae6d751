//! The source browser: `/package/{name}/source/…` (latest) and
//! `/package/{name}/v/{version}/source/{path}`: a folder's listing, a file highlighted with
//! linkable lines, its raw bytes (`?raw=1`) or image (`?image=1`). Everything comes from what
//! the downloader stored (the file tree and content-addressed blobs); a version not stored yet
//! is queued for the downloader and answered with a 202 page, never waited for.
pub mod background; // renderings a page does not wait for, a few at a time
pub mod compare; // the diff page and API: both versions loaded, files diffed within budgets
pub mod diff; // what changed: reviewer's summary, files, unified hunks
pub mod diff_page; // the diff page and the versions picker
pub mod grep; // search inside a version's files: literal or regex, bounded
pub mod highlight; // syntect, class-based, one self-contained span per line, time-boxed
pub mod listing; // a folder's children, go-to-file, a folder's README
pub mod raw; // raw bytes and images, with headers that keep them from rendering as pages
mod view; // the pages: folder, file, link, not stored, preparing

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use nodules_store::model::{Source, SourceState, TreeEntry};
use nodules_store::queue::source_id;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::error::{AppError, PageError};
use crate::package_data::{Found, PackageData, load_files_lean};
use crate::state::AppState;

/// The most entries a listing or go-to-file reads (the downloader caps a tree far below).
const MAX_TREE: usize = 200_000;
/// Largest file read for display, raw or image (the downloader's stored-file cap is lower).
const MAX_READ: usize = 64 << 20;
/// Largest text file shown on a page (even plain); larger ones only raw.
pub const MAX_SHOWN_BYTES: i64 = 8 << 20;

/// Bytes a path segment keeps as they are in a URL; everything else is percent-encoded
/// (`#`, `?`, `%` and spaces included).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~').remove(b'@');

pub fn encode_segment(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

/// The URL of `path` in a version's source (`version` `None`: the latest), each segment
/// percent-encoded; a folder's path ends with `/`.
pub fn url(name: &str, version: Option<&str>, path: &str) -> String {
    let encoded: Vec<String> = path.split('/').map(encode_segment).collect();
    match version {
        Some(v) => format!("/package/{name}/v/{}/source/{}", encode_segment(v), encoded.join("/")),
        None => format!("/package/{name}/source/{}", encoded.join("/")),
    }
}

/// What the URL asks for, besides the path.
#[derive(Debug, Default)]
pub struct Ask {
    pub raw: bool,
    pub image: bool,
    /// Markdown shown as its source.
    pub plain: bool,
    /// `?lines=10-20` marked.
    pub lines: Option<(usize, usize)>,
    /// Go-to-file: names containing this.
    pub find: Option<String>,
}

impl Ask {
    pub fn from_query(q: &HashMap<String, String>) -> Ask {
        let on = |k: &str| q.get(k).is_some_and(|v| !v.is_empty() && v != "0");
        Ask {
            raw: on("raw"),
            image: on("image"),
            plain: on("plain"),
            lines: q.get("lines").and_then(|l| parse_lines(l)),
            find: q.get("find").map(|f| f.trim().to_string()).filter(|f| !f.is_empty()),
        }
    }
}

/// `10-20`, `42` (one line), or nothing for anything else.
fn parse_lines(l: &str) -> Option<(usize, usize)> {
    let (a, b) = l.split_once('-').unwrap_or((l, l));
    let (a, b): (usize, usize) = (a.trim_start_matches('L').parse().ok()?, b.trim_start_matches('L').parse().ok()?);
    (a >= 1 && b >= 1).then(|| (a.min(b), a.max(b)))
}

/// Where a request for a version's source stands.
pub(crate) struct At<'a> {
    pub name: &'a str,
    pub version: String,
    /// The URL named the version (else: the latest).
    pub pinned: bool,
    pub is_latest: bool,
    pub source_id: String,
    pub generation: Option<i64>,
    pub firsts: Vec<String>,
    pub deprecated: Option<String>,
}

impl<'a> At<'a> {
    /// Where `data`'s stored `source` stands (`pinned`: the URL named the version).
    fn new(name: &'a str, data: &PackageData, source: &Source, pinned: bool) -> At<'a> {
        let version = data.version.version.clone();
        At {
            name,
            source_id: source_id(name, &version),
            version,
            pinned,
            is_latest: data.is_latest,
            generation: source.tree_gen,
            firsts: source.tree_firsts.clone(),
            deprecated: data.version.deprecated.clone(),
        }
    }

    /// URLs in the mode of the request (pinned or latest).
    pub fn url(&self, path: &str) -> String {
        url(self.name, self.pinned.then_some(self.version.as_str()), path)
    }

    pub fn permalink(&self, path: &str) -> String {
        url(self.name, Some(&self.version), path)
    }
}

/// Every source URL: `path` is `""` for the root; `dir` when the URL ends with `/`.
pub async fn show(
    app: &AppState,
    name: &str,
    version: Option<&str>,
    path: &str,
    dir: bool,
    ask: Ask,
) -> Result<Response, PageError> {
    let data = match load_files_lean(app, name, version).await? {
        Found::Published(d) => d,
        Found::Gone(p) => return crate::pages::package::gone_page(app, &p),
    };
    let v = data.version.version.clone();
    let source = match (stored(&data), &data.source) {
        (Some(s), _) => s,
        (None, Some(s)) if matches!(s.state, SourceState::Failed | SourceState::Capped) => {
            let reason = s.reason.clone().unwrap_or_else(|| "unknown".into());
            return view::unavailable(app, name, &v, &reason);
        }
        // queued by `load` at the on-demand priority
        _ => return view::preparing(app, name, &v),
    };
    let at = At::new(name, &data, source, version.is_some());
    let store = app.store();
    if dir || path.is_empty() {
        let prefix = if path.is_empty() { String::new() } else { format!("{path}/") };
        if let Some(needle) = &ask.find {
            let all = store.tree_under(&at.source_id, at.generation, &at.firsts, "", MAX_TREE).await?;
            return view::found(app, &at, &prefix, needle, &listing::find(&all, needle, 200));
        }
        let entries = store.tree_under(&at.source_id, at.generation, &at.firsts, &prefix, MAX_TREE).await?;
        if entries.is_empty() && !prefix.is_empty() {
            return Err(PageError(AppError::NotFound));
        }
        let readme = match listing::readme_of(&entries, &prefix) {
            Some(e) => readme_html(app, &at, e).await,
            None => None,
        };
        return view::folder(app, &at, &prefix, &listing::list(&entries, &prefix), readme);
    }
    let Some(entry) = store.tree_entry(&at.source_id, at.generation, &at.firsts, path).await? else {
        // a folder asked without its trailing `/`
        let inside = store.tree_under(&at.source_id, at.generation, &at.firsts, &format!("{path}/"), 1).await?;
        if inside.is_empty() {
            return Err(PageError(AppError::NotFound));
        }
        return Ok(Redirect::permanent(&at.url(&format!("{path}/"))).into_response());
    };
    if let Some(target) = &entry.link_target {
        return view::link(app, &at, &entry, target);
    }
    let Some(blob) = entry.blob.clone() else {
        return view::not_stored(app, &at, &entry);
    };
    if ask.raw || ask.image {
        let bytes = read_blob(app, &blob).await?;
        let file_name = entry.path.rsplit('/').next().unwrap_or(&entry.path);
        return Ok(match (ask.raw, raw::image_type(&bytes, &entry.path, entry.binary)) {
            (true, _) => raw::raw(bytes, entry.binary, file_name, at.pinned),
            (false, Some(t)) => raw::image(bytes, t, at.pinned),
            (false, None) => raw::not_an_image(),
        });
    }
    if entry.binary || entry.size > MAX_SHOWN_BYTES {
        let image = if entry.binary { head_image_type(app, &blob, &entry).await? } else { None };
        return view::unshown(app, &at, &entry, image);
    }
    let markdown = entry.language.as_deref() == Some("Markdown");
    if markdown && !ask.plain {
        let html = readme_html(app, &at, &entry).await.unwrap_or_default();
        return view::markdown(app, &at, &entry, &html);
    }
    let rendered = rendered(app, &blob, &entry).await?;
    view::file(app, &at, &entry, &rendered, ask.lines, markdown)
}

async fn read_blob(app: &AppState, blob: &str) -> Result<Vec<u8>, PageError> {
    // a tree entry without its blob: the version is being redone; reload shortly
    app.store().blob(blob, MAX_READ).await?.ok_or(PageError(AppError::NotFound))
}

/// The image type of a binary file, from its first bytes (only those are decompressed).
async fn head_image_type(app: &AppState, blob: &str, e: &TreeEntry) -> Result<Option<&'static str>, PageError> {
    let head = app.store().blob(blob, 16).await?.unwrap_or_default();
    Ok(raw::image_type(&head, &e.path, e.binary))
}

/// `/package/{name}/v/{version}/search?q=…&i=1`: matching lines of the version's text files.
pub async fn show_search(
    app: &AppState,
    name: &str,
    version: &str,
    q: &HashMap<String, String>,
) -> Result<Response, PageError> {
    let data = match load_files_lean(app, name, Some(version)).await? {
        Found::Published(d) => d,
        Found::Gone(p) => return crate::pages::package::gone_page(app, &p),
    };
    let v = data.version.version.clone();
    let Some(source) = stored(&data) else {
        return view::preparing(app, name, &v);
    };
    let at = At::new(name, &data, source, true);
    let query = q.get("q").map(|s| s.trim().to_string()).unwrap_or_default();
    let ignore_case = q.get("i").is_some_and(|v| v == "1");
    if query.is_empty() {
        return view::search(app, &at, "", ignore_case, None);
    }
    let re = grep::pattern(&query, ignore_case)?;
    let found = grep::search(app, &data, source, &re).await?;
    view::search(app, &at, &query, ignore_case, Some(&found))
}

fn rendering_key(blob: &str, e: &TreeEntry) -> String {
    let language = e.language.as_deref().and_then(nodules_npm::files::language_named);
    format!("{blob}\u{0}{}\u{0}{}", language.map_or("", |l| l.syntax), highlight::RENDERER_VERSION)
}

/// A text file rendered, from the cache of renderings (by blob, language and renderer
/// version: a blob never changes) or now, on a blocking thread within the time budget.
async fn rendered(app: &AppState, blob: &str, e: &TreeEntry) -> Result<Arc<highlight::Rendered>, PageError> {
    if let Some(r) = app.0.renderings.get(&rendering_key(blob, e)).await {
        return Ok(r);
    }
    let bytes = read_blob(app, blob).await?;
    render_bytes(app, bytes, e, background::WAIT).await
}

/// Renders `bytes` (the content of `e`) and keeps the rendering (see [`background`]: a file
/// that takes longer than `wait` comes back plain for now).
async fn render_bytes(
    app: &AppState,
    bytes: Vec<u8>,
    e: &TreeEntry,
    wait: std::time::Duration,
) -> Result<Arc<highlight::Rendered>, PageError> {
    let Some(blob) = e.blob.as_deref() else { return Err(PageError(AppError::NotFound)) };
    let language = e.language.as_deref().and_then(nodules_npm::files::language_named);
    let job = background::Job {
        key: rendering_key(blob, e),
        bytes: Arc::new(bytes),
        token: language.map(|l| l.syntax),
        longest_line: e.longest_line.map_or(u64::MAX, |l| u64::try_from(l).unwrap_or(0)),
    };
    app.0
        .renderer
        .render(&app.0.renderings, job, wait)
        .await
        .map_err(|err| PageError(AppError::Internal(anyhow::anyhow!("rendering {}: {err}", e.path))))
}

/// A Markdown file (or a folder's README) rendered and sanitized as on the module page; its
/// relative links and images point at the same version's files.
async fn readme_html(app: &AppState, at: &At<'_>, e: &TreeEntry) -> Option<String> {
    let blob = e.blob.clone()?;
    let folder = e.path.rsplit_once('/').map_or("", |(folder, _)| folder);
    let base = crate::readme::LinkBase::source(&at.url(""), folder);
    let key = crate::readme::cache_key(&blob, &base);
    if let Some(html) = app.0.readmes.get(&key).await {
        return Some(html.as_ref().clone());
    }
    let bytes = app.store().blob(&blob, crate::readme::MAX_README_BYTES * 2).await.ok()??;
    let markdown = e.language.as_deref() == Some("Markdown");
    let html = tokio::task::spawn_blocking(move || {
        let text = String::from_utf8_lossy(&bytes);
        if markdown { crate::readme::render(&text, &base) } else { crate::readme::render_plain(&text) }
    })
    .await
    .ok()?;
    app.0.readmes.insert(key, Arc::new(html.clone())).await;
    Some(html)
}

/// The version's stored files, when the downloader has stored them (not pending, not
/// released).
pub fn stored(d: &PackageData) -> Option<&Source> {
    d.source.as_ref().filter(|s| s.state != SourceState::Pending && s.tree_pages > 0)
}

/// Every entry of a stored version's tree, in path order.
pub async fn whole_tree(app: &AppState, d: &PackageData, s: &Source) -> Result<Vec<TreeEntry>, AppError> {
    let id = source_id(&d.package.name, &d.version.version);
    Ok(app.store().tree_under(&id, s.tree_gen, &s.tree_firsts, "", MAX_TREE).await?)
}

/// A 202 with `Retry-After`, never kept by a cache.
pub(crate) fn accepted(mut r: Response) -> Response {
    *r.status_mut() = StatusCode::ACCEPTED;
    r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_encode_each_segment() {
        assert_eq!(url("@s/p", Some("1.0.0"), "a b/c#d?e%f.js"), "/package/@s/p/v/1.0.0/source/a%20b/c%23d%3Fe%25f.js");
        assert_eq!(url("p", None, ""), "/package/p/source/");
        assert_eq!(url("p", None, "lib/"), "/package/p/source/lib/");
    }

    #[test]
    fn line_ranges() {
        assert_eq!(parse_lines("10-20"), Some((10, 20)));
        assert_eq!(parse_lines("L20-L10"), Some((10, 20)));
        assert_eq!(parse_lines("7"), Some((7, 7)));
        assert_eq!(parse_lines("0-3"), None);
        assert_eq!(parse_lines("x"), None);
    }
}
