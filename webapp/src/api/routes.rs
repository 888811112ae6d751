//! Every API URL under a package, by its [`PackageRoute`], as JSON through the cache.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};

use super::dependents::list_dependents;
use super::files::{file_meta, list_files};
use super::package::get_package;
use crate::error::{ApiError, AppError};
use crate::metrics::RouteTemplate;
use crate::params::Paging;
use crate::respond::{CachePolicy, json};
use crate::routes::PackageRoute;
use crate::state::AppState;

/// Every API URL under a package, by its [`PackageRoute`].
pub async fn api_packages(
    State(app): State<AppState>,
    route: PackageRoute,
    paging: Paging,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let template = RouteTemplate(route.template());
    let policy = CachePolicy::Package(route.name().to_string());
    let answer = match &route {
        PackageRoute::ApiPackage { name } => get_package(&app, name).await.and_then(|v| json(policy, &v)),
        PackageRoute::ApiDependents { name } => {
            let kind = q.get("kind").map(String::as_str);
            list_dependents(&app, name, kind, &paging).await.and_then(|v| json(policy, &v))
        }
        PackageRoute::ApiFiles { name, version } => {
            list_files(&app, name, version, &paging).await.and_then(|v| json(policy, &v))
        }
        PackageRoute::ApiFile { name, version, path } => {
            file_meta(&app, name, version, path).await.and_then(|v| json(policy, &v))
        }
        PackageRoute::ApiPackageSearch { name, version } => {
            let (q, i) = (q.get("q").map(String::as_str), q.get("i").map(String::as_str));
            super::package_search::search_package(&app, name, version, q, i).await.and_then(|v| json(policy, &v))
        }
        PackageRoute::ApiDiff { name, from, to } => {
            let text = q.get("text").map(String::as_str);
            super::diff::get_diff(&app, name, from, to, text).await.and_then(|v| json(policy, &v))
        }
        _ => Err(AppError::NotFound),
    };
    let mut r = answer.map_err(ApiError).into_response();
    r.extensions_mut().insert(template);
    r
}
