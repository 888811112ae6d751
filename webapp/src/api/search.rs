//! `GET /api/v1/search` and `GET /api/v1/suggest`.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::response::Response;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, AppError};
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

fn number(q: &HashMap<String, String>, key: &'static str, default: usize, max: usize) -> Result<usize, AppError> {
    match q.get(key).map(String::as_str) {
        None | Some("") => Ok(default),
        Some(v) => v.parse().ok().filter(|n| *n <= max).ok_or_else(|| AppError::InvalidParam {
            name: key,
            value: v.to_string(),
            expected: format!("a number from 0 to {max}"),
        }),
    }
}

/// Search (syntax in the README: qualifiers `keywords:`, `author:`, `maintainer:`;
/// filters `is:deprecated`, `not:deprecated`, `has:types`, `module:esm|cjs|dual`, `license:ID`).
#[utoipa::path(
    get,
    path = crate::routes::API_SEARCH,
    params(("q" = String, Query), ("limit" = Option<usize>, Query, description = "1 to 100, default 20"), ("offset" = Option<usize>, Query)),
    responses((status = 200, body = SearchJson), (status = 400, body = crate::error::ErrorBody), (status = 503, body = crate::error::ErrorBody))
)]
pub async fn api_search(
    State(app): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let query = q.get("q").map(|s| s.trim().to_string()).unwrap_or_default();
    if query.is_empty() {
        return Err(AppError::MissingParam { name: "q" }.into());
    }
    let limit = number(&q, "limit", 20, 100)?.max(1);
    let offset = number(&q, "offset", 0, 1000)?;
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
    params(("q" = String, Query)),
    responses((status = 200, body = SuggestJson))
)]
pub async fn api_suggest(
    State(app): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let prefix = q.get("q").map(|s| s.trim().to_lowercase()).unwrap_or_default();
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
