//! Dispatch of `/api/v1/packages/{*rest}` to the API handlers, as JSON through the cache.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde::Serialize;

use super::dependents::{DependentsParams, list_dependents};
use super::files::{FilesParams, file_meta, list_files};
use super::package::get_package;
use crate::error::{ApiError, AppError};
use crate::path::PackagePath;
use crate::respond::{JSON, PAGE_CACHE, Scope, cached, through_cache};
use crate::state::AppState;

fn json<T: Serialize>(v: &T) -> Result<crate::cache::Cached, ApiError> {
    let body = serde_json::to_vec(v).map_err(|e| AppError::Internal(e.into()))?;
    Ok(cached(StatusCode::OK, JSON, body, PAGE_CACHE))
}

pub async fn api_packages(
    State(app): State<AppState>,
    Path(rest): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let path = PackagePath::parse(&rest)?;
    let request = uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default();
    let name = path.name.as_str();
    let rest: Vec<&str> = path.rest.iter().map(String::as_str).collect();
    let scope = Scope::Package(name);
    match rest.as_slice() {
        [] => through_cache(&app, scope, &request, &headers, async { json(&get_package(&app, name).await?) }).await,
        ["dependents"] => {
            let params = DependentsParams {
                kind: q.get("kind").cloned(),
                cursor: q.get("cursor").cloned(),
                limit: q.get("limit").cloned(),
            };
            through_cache(&app, scope, &request, &headers, async { json(&list_dependents(&app, name, params).await?) })
                .await
        }
        ["versions", version, "files"] => {
            let params = FilesParams { page: q.get("page").cloned() };
            through_cache(&app, scope, &request, &headers, async {
                json(&list_files(&app, name, version, params).await?)
            })
            .await
        }
        ["versions", version, "files", file @ ..] if !file.is_empty() => {
            let file = file.join("/");
            through_cache(&app, scope, &request, &headers, async {
                json(&file_meta(&app, name, version, &file).await?)
            })
            .await
        }
        _ => Err(ApiError(AppError::NotFound)),
    }
}
