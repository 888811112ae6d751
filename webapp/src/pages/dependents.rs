//! `/package/{name}/dependents?kind=prod|dev&page=N`: every dependent, read from the
//! precomputed page documents (one key lookup per page), with when the order was refreshed.

use axum::http::StatusCode;
use axum::response::Response;
use nodules_store::model::{DEPENDENTS_PAGE_SIZE, DepKind, DependentItem};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, PageError};
use crate::params::Page;
use crate::respond::{CachePolicy, HTML, answer};
use crate::state::AppState;

#[derive(Debug, Deserialize, Default)]
pub struct DependentsQuery {
    pub kind: Option<String>,
}

#[derive(Serialize)]
struct DependentsPageView {
    name: String,
    kind: &'static str,
    other_kind: &'static str,
    count: i64,
    other_count: i64,
    page: i64,
    pages: i64,
    first_rank: i64,
    items: Vec<DependentItem>,
    ranked_at: Option<String>,
    dirty: bool,
    indexed: bool,
}

pub async fn show_dependents(
    app: &AppState,
    name: &str,
    q: DependentsQuery,
    page: Page,
) -> Result<Response, PageError> {
    let kind = crate::params::dep_kind(q.kind.as_deref())?;
    // beyond i64 no page exists: the lookup finds nothing
    let page = page.as_i64();
    let store = app.store();
    let package = store.package(name).await?;
    let summary = store.dependents(name).await?;
    let Some(summary) = summary else {
        return match package {
            Some(_) => render(app, name, kind, page, None, Vec::new(), true),
            None => Err(PageError(AppError::PackageNotFound { name: name.to_string() })),
        };
    };
    let pages = summary.list(kind).pages;
    if page > pages.max(1) {
        return Err(PageError(AppError::NotFound));
    }
    let items = store.dependents_page(name, kind, page).await?.map(|p| p.items).unwrap_or_default();
    render(app, name, kind, page, Some(&summary), items, package.is_some())
}

fn render(
    app: &AppState,
    name: &str,
    kind: DepKind,
    page: i64,
    summary: Option<&nodules_store::model::Dependents>,
    items: Vec<DependentItem>,
    indexed: bool,
) -> Result<Response, PageError> {
    let other = if kind == DepKind::Prod { DepKind::Dev } else { DepKind::Prod };
    let view = DependentsPageView {
        name: name.to_string(),
        kind: kind.as_str(),
        other_kind: other.as_str(),
        count: summary.map_or(0, |s| s.list(kind).count),
        other_count: summary.map_or(0, |s| s.list(other).count),
        page,
        pages: summary.map_or(0, |s| s.list(kind).pages),
        first_rank: (page - 1) * DEPENDENTS_PAGE_SIZE as i64 + 1,
        items,
        ranked_at: summary.and_then(|s| s.ranked_at).and_then(|t| t.try_to_rfc3339_string().ok()),
        dirty: summary.is_some_and(|s| s.dirty),
        indexed,
    };
    let html = app.render("pages/dependents.html", minijinja::context! { page => crate::state::val(&view) })?;
    Ok(answer(CachePolicy::Package(name.to_string()), StatusCode::OK, HTML, html))
}
