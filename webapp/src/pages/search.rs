//! `/search?q=…&page=N`: results with badges, the filters as links, pagination — all
//! without JavaScript. A query the parser refuses is a 400 page that says why.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::error::PageError;
use crate::params::Page;
use crate::respond::{CachePolicy, HTML, answer};
use crate::search::results::SearchResults;
use crate::search::run::{cache_policy, run_search};
use crate::state::{AppState, val};

pub const PER_PAGE: usize = 20;
const MAX_PAGE: usize = 50;

#[derive(Debug, Deserialize, Default)]
pub struct SearchParams {
    pub q: Option<String>,
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

pub async fn search_page(
    State(app): State<AppState>,
    Query(p): Query<SearchParams>,
    Page(page): Page<{ MAX_PAGE as u64 }>,
) -> Result<Response, PageError> {
    let query = p.q.unwrap_or_default().trim().to_string();
    let page = page as usize;
    let indexing = app.search().and_then(|s| s.building());
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
        return Ok(answer(CachePolicy::Browser("no-cache"), StatusCode::OK, HTML, html));
    }
    let policy = cache_policy(app.search());
    let r = run_search(app.search(), query.clone(), PER_PAGE, (page - 1) * PER_PAGE).await?;
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
    Ok(answer(policy, StatusCode::OK, HTML, html))
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
