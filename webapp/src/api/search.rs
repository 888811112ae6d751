//! `GET /api/v1/search` and `GET /api/v1/suggest`.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::response::Response;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, AppError};
use crate::params::{Paging, text};
use crate::respond::{CachePolicy, json};
use crate::search::run::{cache_policy, run_search};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct SearchJson {
    pub total: u64,
    /// name, description, version, license, dependents_count, deprecated, has_types, module_type
    #[schema(value_type = Vec<Object>)]
    pub results: serde_json::Value,
    /// license, module_type and has_types counts over all matches
    #[schema(value_type = Object)]
    pub facets: serde_json::Value,
    pub did_you_mean: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SuggestJson {
    /// At most 10 `{name, description}`.
    #[schema(value_type = Vec<Object>)]
    pub suggestions: serde_json::Value,
}

/// The longest `q` (in characters) either operation reads: its URL stays far below the
/// 8 kB request line however it is encoded.
const MAX_QUERY_CHARS: usize = 500;

/// Search (syntax in the README: qualifiers `keywords:`, `author:`, `maintainer:`;
/// filters `is:deprecated`, `not:deprecated`, `has:types`, `module:esm|cjs|dual`, `license:ID`).
#[utoipa::path(
    get,
    path = crate::routes::API_SEARCH,
    params(
        // at least one character that is not white space (as Rust's `trim` sees it)
        ("q" = String, Query, min_length = 1, max_length = 500,
         pattern = "[^\t-\r \u{85}\u{a0}\u{1680}\u{2000}-\u{200a}\u{2028}\u{2029}\u{202f}\u{205f}\u{3000}]",
         description = "The query; a qualifier without a valid value (`module:foo`, `keywords:`) is a 400"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "Results per answer, default 20"),
        ("offset" = Option<u32>, Query, minimum = 0, maximum = 1000, description = "Results to skip, default 0"),
    ),
    responses(
        (status = 200, description = "Matches, best first", body = SearchJson),
        (status = 400, description = "Missing or bad `q`, `limit` or `offset`", body = crate::error::ErrorBody),
        (status = 503, description = "The search index is being built, or the search took too long", body = crate::error::ErrorBody),
    )
)]
pub async fn api_search(
    State(app): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    paging: Paging,
) -> Result<Response, ApiError> {
    let raw = text("q", q.get("q").map(String::as_str), MAX_QUERY_CHARS)?;
    let query = raw.map(|s| s.trim().to_string()).unwrap_or_default();
    if query.is_empty() {
        return Err(AppError::MissingParam { name: "q" }.into());
    }
    let limit = paging.limit(20, 100)?;
    let offset = paging.offset(1000)?;
    if app.search().and_then(|s| s.building()).is_some() {
        return Err(AppError::SearchUnavailable.into());
    }
    let policy = cache_policy(app.search());
    let r = run_search(app.search(), query, limit, offset).await?;
    let body = SearchJson {
        total: r.total,
        results: serde_json::to_value(&r.results).unwrap_or_default(),
        facets: serde_json::to_value(&r.facets).unwrap_or_default(),
        did_you_mean: r.did_you_mean,
    };
    Ok(json(policy, &body)?)
}

/// Name prefixes for autocomplete, most popular first.
#[utoipa::path(
    get,
    path = crate::routes::API_SUGGEST,
    params(("q" = Option<String>, Query, max_length = 500, description = "The prefix typed so far; none or blank suggests nothing")),
    responses(
        (status = 200, description = "Suggestions, most popular first", body = SuggestJson),
        (status = 400, description = "`q` too long", body = crate::error::ErrorBody),
    )
)]
pub async fn api_suggest(
    State(app): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let prefix = text("q", q.get("q").map(String::as_str), MAX_QUERY_CHARS)?
        .map(|s| s.trim().to_lowercase())
        .unwrap_or_default();
    let suggestions = match (app.search(), prefix.is_empty()) {
        (Some(s), false) => {
            let engine = s.engine.clone();
            let p = prefix.clone();
            tokio::task::spawn_blocking(move || engine.suggest(&p, 10)).await.unwrap_or_default()
        }
        _ => Vec::new(),
    };
    let body = SuggestJson { suggestions: serde_json::to_value(&suggestions).unwrap_or_default() };
    Ok(json(CachePolicy::Browser("public, max-age=300"), &body)?)
}
