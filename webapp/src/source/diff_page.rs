//! `/package/{name}/diff/{from}...{to}`: the reviewer's summary, the files that changed with
//! their line counts, then each text file's hunks, highlighted (`?w=1` ignores white space;
//! `?file=PATH` shows one file's whole diff). `/package/{name}/diff?from=&to=` is the version
//! pickers' form, redirected to the canonical URL.

use std::collections::HashMap;
use std::fmt::Write as _;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Serialize;

use super::accepted;
use super::compare::{FileOut, Prepared, file_diffs, prepare};
use super::diff::{Review, RowKind};
use crate::error::{AppError, PageError};
use crate::respond::{CachePolicy, HTML, PAGE_CACHE, answer};
use crate::state::AppState;

/// Rows of one file's hunks shown on the whole-diff page; more collapse behind `?file=`.
const MAX_ROWS_SHOWN: usize = 1_500;

/// The canonical URL of a diff.
pub fn url(name: &str, from: &str, to: &str) -> String {
    format!("/package/{name}/diff/{}...{}", super::encode_segment(from), super::encode_segment(to))
}

#[derive(Serialize)]
struct FileRow {
    path: String,
    anchor: String,
    change: &'static str,
    /// The old path of a renamed file.
    from: Option<String>,
    added: Option<usize>,
    removed: Option<usize>,
    note: Option<&'static str>,
    /// The whole diff of this file alone, when it is collapsed here.
    alone_url: Option<String>,
    old_url: Option<String>,
    new_url: Option<String>,
}

#[derive(Serialize)]
struct DiffPage {
    name: String,
    from: String,
    to: String,
    title: String,
    mode: &'static str,
    message: Option<String>,
    review: Option<Review>,
    files: Vec<FileRow>,
    total_added: usize,
    total_removed: usize,
    ignore_whitespace: bool,
    toggle_ws_url: String,
    only: Option<String>,
    whole_url: String,
    versions: Vec<String>,
}

fn anchor(path: &str) -> String {
    format!("f-{}", super::encode_segment(path).replace('%', "_"))
}

/// One file's hunks as table rows: numbers on both sides, the line's highlighted HTML.
fn hunks_html(f: &FileOut, max_rows: usize) -> Option<String> {
    let d = f.diff.as_ref()?;
    let line = |side: &Option<super::compare::Side>, i: Option<usize>| -> String {
        i.and_then(|i| side.as_ref().and_then(|s| s.rendered.lines.get(i).cloned())).unwrap_or_default()
    };
    let mut out = String::from("<table class=\"diff\"><tbody>\n");
    let mut rows = 0;
    for h in &d.hunks {
        let _ = writeln!(out, "<tr class=\"hunk\"><td colspan=\"3\">{}</td></tr>", minijinja::HtmlEscape(&h.header));
        for r in &h.rows {
            rows += 1;
            if rows > max_rows {
                return None;
            }
            let (class, sign, html) = match r.kind {
                RowKind::Context => ("ctx", " ", line(&f.new, r.new)),
                RowKind::Removed => ("del", "-", line(&f.old, r.old)),
                RowKind::Added => ("add", "+", line(&f.new, r.new)),
            };
            let n = |i: Option<usize>| i.map(|i| (i + 1).to_string()).unwrap_or_default();
            let _ = writeln!(
                out,
                "<tr class=\"{class}\"><td class=\"ln\">{}</td><td class=\"ln\">{}</td><td class=\"dl\"><span class=\"sign\" aria-hidden=\"true\">{sign}</span>{html}</td></tr>",
                n(r.old),
                n(r.new)
            );
        }
    }
    out.push_str("</tbody></table>\n");
    Some(out)
}

fn render(app: &AppState, page: &DiffPage, diffs: Vec<String>) -> Result<String, PageError> {
    let diffs: Vec<minijinja::Value> = diffs.into_iter().map(minijinja::Value::from_safe_string).collect();
    Ok(app.render("pages/diff.html", minijinja::context! { page => crate::state::val(page), diffs => diffs })?)
}

/// The pickers' form: `?from=&to=` to the canonical URL, else a page with the pickers.
pub async fn pick(app: &AppState, name: &str, q: &HashMap<String, String>) -> Result<Response, PageError> {
    let (from, to) = (q.get("from").map(|s| s.trim()), q.get("to").map(|s| s.trim()));
    if let (Some(f), Some(t)) = (from, to)
        && !f.is_empty()
        && !t.is_empty()
    {
        return Ok(Redirect::to(&url(name, f, t)).into_response());
    }
    let Some(p) = app.store().package(name).await? else {
        return Err(PageError(AppError::PackageNotFound { name: name.to_string() }));
    };
    let versions: Vec<String> = p.versions.iter().map(|v| v.version.clone()).collect();
    let (to, from) = (versions.first().cloned().unwrap_or_default(), versions.get(1).cloned().unwrap_or_default());
    let page = DiffPage {
        name: name.to_string(),
        title: format!("Compare versions of {name} – Nodules"),
        mode: "pick",
        message: None,
        review: None,
        files: Vec::new(),
        total_added: 0,
        total_removed: 0,
        ignore_whitespace: false,
        toggle_ws_url: String::new(),
        only: None,
        whole_url: String::new(),
        versions,
        from,
        to,
    };
    Ok(answer(CachePolicy::Package(name.to_string()), StatusCode::OK, HTML, render(app, &page, Vec::new())?))
}

pub async fn show(
    app: &AppState,
    name: &str,
    from: &str,
    to: &str,
    q: &HashMap<String, String>,
) -> Result<Response, PageError> {
    let ignore_whitespace = q.get("w").is_some_and(|v| v == "1");
    let only = q.get("file").filter(|f| !f.is_empty()).cloned();
    let base = url(name, from, to);
    let mut page = DiffPage {
        name: name.to_string(),
        from: from.to_string(),
        to: to.to_string(),
        title: format!("{name} {from} → {to}: changes – Nodules"),
        mode: "diff",
        message: None,
        review: None,
        files: Vec::new(),
        total_added: 0,
        total_removed: 0,
        ignore_whitespace,
        toggle_ws_url: if ignore_whitespace { base.clone() } else { format!("{base}?w=1") },
        only: only.clone(),
        whole_url: base.clone(),
        versions: Vec::new(),
    };
    let both = match prepare(app, name, from, to).await? {
        Prepared::Ready(b) => b,
        Prepared::Gone(p) => return crate::pages::package::gone_page(app, &p),
        Prepared::Preparing(waiting) => {
            page.mode = "preparing";
            page.message = Some(format!(
                "The files of {} are being prepared: reload this page in a few seconds.",
                waiting.iter().map(|v| format!("{name}@{v}")).collect::<Vec<_>>().join(" and ")
            ));
            let html = render(app, &page, Vec::new())?;
            return Ok(accepted(answer(CachePolicy::Browser("no-store"), StatusCode::ACCEPTED, HTML, html)));
        }
    };
    page.review = Some(both.review());
    page.versions = both.from.package.versions.iter().map(|v| v.version.clone()).collect();
    let files = file_diffs(app, &both, only.as_deref(), ignore_whitespace).await?;
    if only.is_some() && files.is_empty() {
        return Err(PageError(AppError::NotFound));
    }
    let max_rows = if only.is_some() { usize::MAX } else { MAX_ROWS_SHOWN };
    let ws = if ignore_whitespace { "&w=1" } else { "" };
    let mut diffs = Vec::new();
    for f in &files {
        let html = hunks_html(f, max_rows);
        let (added, removed) = f.counts.unzip();
        page.total_added += added.unwrap_or(0);
        page.total_removed += removed.unwrap_or(0);
        let collapsed = html.is_none() && f.diff.is_some();
        let path = &f.change.path;
        page.files.push(FileRow {
            path: path.clone(),
            anchor: anchor(path),
            change: f.change.change.as_str(),
            from: f.change.from.clone(),
            added,
            removed,
            note: if collapsed { Some("large: collapsed here") } else { f.note },
            alone_url: (collapsed || f.note.is_some_and(|n| n.contains("large")))
                .then(|| format!("{base}?file={}{ws}", super::encode_segment(path))),
            old_url: f.change.old.as_ref().map(|e| super::url(name, Some(from), &e.path)),
            new_url: f.change.new.as_ref().map(|e| super::url(name, Some(to), &e.path)),
        });
        diffs.push(html.unwrap_or_default());
    }
    let html = render(app, &page, diffs)?;
    Ok(answer(CachePolicy::Browser(PAGE_CACHE), StatusCode::OK, HTML, html))
}
