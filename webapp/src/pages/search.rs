//! `/search?q=…&page=N`: results with badges, the filters as links, pagination — all
//! without JavaScript. A query the parser refuses is a 400 page that says why.

use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::cache::Cached;
use crate::error::{AppError, PageError};
use crate::respond::{HTML, PAGE_CACHE, Scope, cached, through_cache};
use crate::search::results::SearchResults;
use crate::state::{AppState, val};

pub const PER_PAGE: usize = 20;
const MAX_PAGE: usize = 50;
/// A search that takes longer than this answers 503 (the work is abandoned).
pub const BUDGET: Duration = Duration::from_secs(2);

#[derive(Debug, Deserialize, Default)]
pub struct SearchParams {
    pub q: Option<String>,
    pub page: Option<String>,
}

#[derive(Serialize)]
struct FilterLink {
    label: String,
    href: String,
    count: Option<u64>,
}

#[derive(Serialize)]
struct SearchView {
    query: String,
    page: usize,
    has_next: bool,
    total: u64,
    results: serde_json::Value,
    did_you_mean: Option<String>,
    fuzzy: bool,
    filters: Vec<FilterLink>,
    indexing: Option<u64>,
}

/// Runs a search off the async runtime, within the time budget.
pub async fn run_search(app: &AppState, q: String, limit: usize, offset: usize) -> Result<SearchResults, AppError> {
    let Some(search) = app.search() else { return Err(AppError::SearchUnavailable) };
    let engine = search.engine.clone();
    let work = tokio::task::spawn_blocking(move || engine.search(&q, limit, offset));
    match tokio::time::timeout(BUDGET, work).await {
        Ok(Ok(Ok(r))) => Ok(r),
        Ok(Ok(Err(e))) if e.is_bad_query() => Err(AppError::BadRequest(e.to_string())),
        Ok(Ok(Err(e))) => Err(AppError::Internal(anyhow::Error::new(e))),
        Ok(Err(e)) => Err(AppError::Internal(e.into())),
        Err(_) => Err(AppError::SearchTimeout),
    }
}

pub async fn search_page(
    State(app): State<AppState>,
    Query(p): Query<SearchParams>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let query = p.q.unwrap_or_default().trim().to_string();
    let page = crate::params::page_number(p.page.as_deref(), Some(MAX_PAGE as u64))? as usize;
    let indexing = app.search().and_then(|s| s.building());
    let request = cache_key(&app, &uri);
    if query.is_empty() || indexing.is_some() {
        let view = SearchView {
            query,
            page,
            has_next: false,
            total: 0,
            results: serde_json::json!([]),
            did_you_mean: None,
            fuzzy: false,
            filters: filter_links("", None),
            indexing,
        };
        let html = app.render("pages/search.html", minijinja::context! { page => val(&view) })?;
        return Ok(crate::respond::send(&cached(StatusCode::OK, HTML, html, "no-cache"), &headers));
    }
    through_cache(&app, Scope::Global, &request, &headers, async {
        let r = run_search(&app, query.clone(), PER_PAGE, (page - 1) * PER_PAGE).await?;
        let view = SearchView {
            has_next: (page * PER_PAGE) < r.total as usize && page < MAX_PAGE,
            total: r.total,
            results: serde_json::to_value(&r.results).unwrap_or_default(),
            did_you_mean: r.did_you_mean.clone(),
            fuzzy: r.fuzzy,
            filters: filter_links(&query, Some(&r)),
            query,
            page,
            indexing: None,
        };
        let html = app.render("pages/search.html", minijinja::context! { page => val(&view) })?;
        Ok::<Cached, PageError>(cached(StatusCode::OK, HTML, html, PAGE_CACHE))
    })
    .await
}

/// The page cache's key for a search: the request and the index generation, so an
/// answer cached before the index changed is never served after it.
pub fn cache_key(app: &AppState, uri: &Uri) -> String {
    let generation = app.search().map_or(0, |s| s.engine.generation());
    format!("{}#search-generation-{generation}", uri.path_and_query().map(|p| p.as_str()).unwrap_or_default())
}

/// Each filter as a link that adds it to the query, with its count when known.
fn filter_links(query: &str, r: Option<&SearchResults>) -> Vec<FilterLink> {
    let link = |term: &str, label: String, count: Option<u64>| {
        let q = if query.is_empty() { term.to_string() } else { format!("{query} {term}") };
        FilterLink { label, href: format!("/search?q={}", crate::format::urlpart(q)), count }
    };
    let mut out = Vec::new();
    let facets = r.map(|r| &r.facets);
    let has = |k: &str| facets.and_then(|f| f.has_types.get(k).copied());
    if !query.contains("has:types") {
        out.push(link("has:types", "has types".into(), has("true")));
    }
    for m in ["esm", "cjs", "dual"] {
        if !query.contains("module:") {
            out.push(link(
                &format!("module:{m}"),
                m.to_uppercase(),
                facets.and_then(|f| f.module_type.get(m).copied()),
            ));
        }
    }
    if !query.contains("deprecated") {
        out.push(link("not:deprecated", "not deprecated".into(), None));
    }
    if let Some(f) = facets {
        let mut licenses: Vec<(&String, &u64)> = f.license.iter().collect();
        licenses.sort_by(|a, b| b.1.cmp(a.1));
        for (id, n) in licenses.into_iter().take(6) {
            if !query.contains("license:") {
                out.push(link(&format!("license:{id}"), id.clone(), Some(*n)));
            }
        }
    }
    out
}
