//! The source browser's pages, one template (`pages/source.html`) in several modes: a
//! folder, a file, a Markdown file rendered, a file not shown (binary, image, too large), a
//! link, a file not stored, go-to-file results, "preparing" and "unavailable".

use axum::http::StatusCode;
use axum::response::Response;
use nodules_store::model::TreeEntry;
use serde::Serialize;

use super::highlight::{self, Rendered, Rendering};
use super::listing::{FileRow, Listing};
use super::{At, MAX_SHOWN_BYTES, accepted};
use crate::error::PageError;
use crate::respond::{CachePolicy, HTML, PAGE_CACHE, answer};
use crate::state::AppState;

#[derive(Debug, Serialize)]
struct Crumb {
    name: String,
    href: String,
}

#[derive(Debug, Serialize)]
struct Row {
    name: String,
    href: String,
    size: i64,
    /// Files under a folder.
    files: Option<u64>,
    language: Option<String>,
    lines: Option<i64>,
    link: Option<&'static str>,
}

#[derive(Debug, Default, Serialize)]
struct SourcePage {
    name: String,
    version: String,
    mode: &'static str,
    title: String,
    pinned: bool,
    is_latest: bool,
    deprecated: Option<String>,
    /// The path shown (`lib/index.js`, `lib/`, `` for the root).
    path: String,
    crumbs: Vec<Crumb>,
    permalink: String,
    /// The folder's URL (for the go-to-file form).
    folder_url: String,
    rows: Vec<Row>,
    find: Option<String>,
    size: Option<i64>,
    lines: Option<i64>,
    language: Option<String>,
    raw_url: Option<String>,
    image_url: Option<String>,
    /// Why the file is not highlighted or not shown, for the reader.
    note: Option<String>,
    /// Markdown: the other view's URL.
    toggle_url: Option<String>,
    link_target: Option<String>,
    link_href: Option<String>,
    marked: Option<(usize, usize)>,
    message: Option<String>,
    /// In-package search: the query, its options and what it found.
    query: Option<String>,
    ignore_case: bool,
    search_url: String,
    total: Option<usize>,
    more: bool,
    skipped: usize,
    timed_out: bool,
}

impl SourcePage {
    fn at(at: &At, mode: &'static str, path: &str) -> SourcePage {
        let mut crumbs = vec![Crumb { name: format!("{}@{}", at.name, at.version), href: at.url("") }];
        let mut so_far = String::new();
        let segments: Vec<&str> = path.trim_end_matches('/').split('/').filter(|s| !s.is_empty()).collect();
        for (i, s) in segments.iter().enumerate() {
            so_far.push_str(s);
            let folder = i + 1 < segments.len() || path.ends_with('/');
            if folder {
                so_far.push('/');
            }
            crumbs.push(Crumb { name: s.to_string(), href: at.url(&so_far) });
        }
        let folder = match path.rfind('/') {
            Some(i) => &path[..=i],
            None => "",
        };
        let shown = if path.is_empty() { "/".to_string() } else { path.to_string() };
        SourcePage {
            name: at.name.to_string(),
            version: at.version.clone(),
            mode,
            title: format!("{shown} – {}@{} – Nodules", at.name, at.version),
            pinned: at.pinned,
            is_latest: at.is_latest,
            deprecated: at.deprecated.clone(),
            path: path.to_string(),
            crumbs,
            permalink: at.permalink(path),
            folder_url: at.url(folder),
            ..SourcePage::default()
        }
    }

    fn of_entry(at: &At, mode: &'static str, e: &TreeEntry) -> SourcePage {
        SourcePage {
            size: Some(e.size),
            lines: e.lines,
            language: e.language.clone(),
            raw_url: e.blob.as_ref().map(|_| format!("{}?raw=1", at.url(&e.path))),
            ..SourcePage::at(at, mode, &e.path)
        }
    }
}

fn render(app: &AppState, page: &SourcePage, html: Option<&str>) -> Result<String, PageError> {
    let html = minijinja::Value::from_safe_string(html.unwrap_or_default().to_string());
    Ok(app.render("pages/source.html", minijinja::context! { page => crate::state::val(page), html => html })?)
}

/// Folder pages are small and change with the package: kept in the page cache.
fn kept(at: &At, html: String) -> Response {
    answer(CachePolicy::Package(at.name.to_string()), StatusCode::OK, HTML, html)
}

/// File pages up to this size are kept in the page cache (by URL, until the package changes;
/// the cache is bounded in bytes).
const KEPT_PAGE: usize = 16 << 20;

/// Larger file pages are not kept per URL (their rendering is, by blob, bounded in bytes).
fn not_kept(html: String) -> Response {
    answer(CachePolicy::Browser(PAGE_CACHE), StatusCode::OK, HTML, html)
}

fn row(at: &At, f: &FileRow) -> Row {
    Row {
        name: f.name.clone(),
        href: at.url(&f.path),
        size: f.size,
        files: None,
        language: f.language.clone(),
        lines: f.lines,
        link: f.link,
    }
}

pub(super) fn folder(
    app: &AppState,
    at: &At,
    prefix: &str,
    listing: &Listing,
    readme: Option<String>,
) -> Result<Response, PageError> {
    let mut page = SourcePage::at(at, "folder", prefix);
    page.folder_url = at.url(prefix);
    page.rows = listing
        .folders
        .iter()
        .map(|f| Row {
            name: f.name.clone(),
            href: at.url(&f.path),
            size: i64::try_from(f.size).unwrap_or(i64::MAX),
            files: Some(f.files),
            language: None,
            lines: None,
            link: None,
        })
        .chain(listing.files.iter().map(|f| row(at, f)))
        .collect();
    Ok(kept(at, render(app, &page, readme.as_deref())?))
}

pub(super) fn found(
    app: &AppState,
    at: &At,
    prefix: &str,
    needle: &str,
    files: &[FileRow],
) -> Result<Response, PageError> {
    let mut page = SourcePage::at(at, "found", prefix);
    page.folder_url = at.url(prefix);
    page.find = Some(needle.to_string());
    page.rows = files.iter().map(|f| row(at, f)).collect();
    Ok(kept(at, render(app, &page, None)?))
}

pub(super) fn file(
    app: &AppState,
    at: &At,
    e: &TreeEntry,
    rendered: &Rendered,
    lines: Option<(usize, usize)>,
    markdown: bool,
) -> Result<Response, PageError> {
    let mut page = SourcePage::of_entry(at, "file", e);
    page.note = match rendered.rendering {
        Rendering::Highlighted | Rendering::Plain => None,
        Rendering::PlainTooBig => Some(format!(
            "Shown without highlighting: files over {} MiB or with lines over {} characters (minified code) are not highlighted.",
            highlight::MAX_HIGHLIGHT_BYTES >> 20,
            highlight::MAX_HIGHLIGHT_LINE
        )),
        Rendering::PlainTooSlow => Some(format!(
            "Shown without highlighting: highlighting took longer than {} s.",
            highlight::BUDGET.as_secs()
        )),
        Rendering::PlainForNow => Some(
            "Shown without highlighting for now: this file takes a few seconds to highlight. Reload in a moment for colours."
                .to_string(),
        ),
    };
    if markdown {
        page.toggle_url = Some(at.url(&e.path));
    }
    page.marked = lines;
    let html = render(app, &page, Some(&rendered.numbered(lines)))?;
    // kept whole like a folder page (no database read on the next request); "plain for now"
    // not at all
    if html.len() <= KEPT_PAGE && rendered.rendering != Rendering::PlainForNow {
        Ok(kept(at, html))
    } else {
        Ok(not_kept(html))
    }
}

pub(super) fn markdown(app: &AppState, at: &At, e: &TreeEntry, html: &str) -> Result<Response, PageError> {
    let mut page = SourcePage::of_entry(at, "markdown", e);
    page.toggle_url = Some(format!("{}?plain=1", at.url(&e.path)));
    Ok(not_kept(render(app, &page, Some(html))?))
}

/// Binary files (an image shown through `?image=1`) and text files too large to show.
pub(super) fn unshown(app: &AppState, at: &At, e: &TreeEntry, image: Option<&str>) -> Result<Response, PageError> {
    let mut page = SourcePage::of_entry(at, "unshown", e);
    page.image_url = image.map(|_| format!("{}?image=1", at.url(&e.path)));
    page.note = Some(match (e.binary, image) {
        (true, Some(t)) => format!("An image ({t})."),
        (true, None) => "A binary file: download it to look inside.".to_string(),
        (false, _) => format!("This file is over {} MiB: only its raw text is available.", MAX_SHOWN_BYTES >> 20),
    });
    Ok(not_kept(render(app, &page, None)?))
}

/// Where a link points, as a path inside the package; `None` when it leaves the package.
pub fn resolve_link(link_path: &str, target: &str) -> Option<String> {
    if target.starts_with('/') || target.contains('\0') {
        return None;
    }
    let mut parts: Vec<&str> = link_path.split('/').collect();
    parts.pop();
    for seg in target.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

pub(super) fn link(app: &AppState, at: &At, e: &TreeEntry, target: &str) -> Result<Response, PageError> {
    let mut page = SourcePage::of_entry(at, "link", e);
    page.link_target = Some(target.to_string());
    page.link_href = resolve_link(&e.path, target).map(|p| at.url(&p));
    if page.link_href.is_none() {
        page.note = Some("It points outside the package, so it leads nowhere here.".into());
    }
    Ok(not_kept(render(app, &page, None)?))
}

pub(super) fn not_stored(app: &AppState, at: &At, e: &TreeEntry) -> Result<Response, PageError> {
    let mut page = SourcePage::of_entry(at, "unshown", e);
    page.note = Some("This file is larger than what Nodules stores per file: it is listed, not kept.".into());
    Ok(not_kept(render(app, &page, None)?))
}

/// One file's matching lines, each linked to its line, the matches marked.
fn matches_html(at: &At, f: &super::grep::FileMatches) -> String {
    use std::fmt::Write as _;
    let file_url = at.url(&f.path);
    let mut out = format!(
        "<section class=\"hits\"><h2><a href=\"{}\">{}</a></h2><ol class=\"hit-lines\">",
        minijinja::HtmlEscape(&file_url),
        minijinja::HtmlEscape(&f.path)
    );
    for m in &f.matches {
        let _ = write!(
            out,
            "<li><a class=\"ln\" href=\"{}#L{}\">{}</a> <code>",
            minijinja::HtmlEscape(&file_url),
            m.line,
            m.line
        );
        let mut at_byte = 0;
        for (a, b) in &m.ranges {
            if *a < at_byte {
                continue;
            }
            let _ = write!(
                out,
                "{}<mark>{}</mark>",
                minijinja::HtmlEscape(&m.text[at_byte..*a]),
                minijinja::HtmlEscape(&m.text[*a..*b])
            );
            at_byte = *b;
        }
        let _ = write!(out, "{}</code></li>", minijinja::HtmlEscape(&m.text[at_byte..]));
    }
    out.push_str("</ol></section>\n");
    out
}

pub(super) fn search(
    app: &AppState,
    at: &At,
    query: &str,
    ignore_case: bool,
    found: Option<&super::grep::Found>,
) -> Result<Response, PageError> {
    let mut page = SourcePage::at(at, "search", "");
    page.title = format!("Search {}@{} – Nodules", at.name, at.version);
    page.query = Some(query.to_string());
    page.ignore_case = ignore_case;
    page.search_url = format!("/package/{}/v/{}/search", at.name, super::encode_segment(&at.version));
    let html = found.map(|f| {
        page.total = Some(f.total);
        page.more = f.more;
        page.skipped = f.skipped;
        page.timed_out = f.timed_out;
        f.files.iter().map(|m| matches_html(at, m)).collect::<String>()
    });
    Ok(not_kept(render(app, &page, html.as_deref())?))
}

fn bare(name: &str, version: &str, mode: &'static str, message: String) -> SourcePage {
    SourcePage {
        name: name.to_string(),
        version: version.to_string(),
        mode,
        title: format!("Source of {name}@{version} – Nodules"),
        message: Some(message),
        ..SourcePage::default()
    }
}

/// 202: queued for the downloader at the on-demand priority; the page says when to reload.
pub(super) fn preparing(app: &AppState, name: &str, version: &str) -> Result<Response, PageError> {
    let page = bare(
        name,
        version,
        "preparing",
        format!("The files of {name}@{version} are being prepared: reload this page in a few seconds."),
    );
    let html = render(app, &page, None)?;
    Ok(accepted(answer(CachePolicy::Browser("no-store"), StatusCode::ACCEPTED, HTML, html)))
}

pub(super) fn unavailable(app: &AppState, name: &str, version: &str, reason: &str) -> Result<Response, PageError> {
    let page = bare(name, version, "unavailable", format!("The files of {name}@{version} are not available: {reason}"));
    Ok(not_kept(render(app, &page, None)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_stay_inside_the_package() {
        assert_eq!(resolve_link("lib/a.js", "b.js").as_deref(), Some("lib/b.js"));
        assert_eq!(resolve_link("lib/a.js", "../index.js").as_deref(), Some("index.js"));
        assert_eq!(resolve_link("lib/a.js", "../../etc/passwd"), None);
        assert_eq!(resolve_link("a.js", "/etc/passwd"), None);
        assert_eq!(resolve_link("a.js", ".."), None);
    }
}
