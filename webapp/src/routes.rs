//! Every URL of the site, in one table, and the layers every answer goes through.

use std::time::Duration;

use axum::Router;
use axum::http::Method;
use axum::routing::get;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{Any, CorsLayer};

use crate::api;
use crate::error::render_error_pages;
use crate::media::serve_media;
use crate::pages::{browse, package};
use crate::protect::{headers::security_headers, rate::rate_limit, shed::shed_load};
use crate::state::AppState;

/// The API's routes, as documented (the OpenAPI test checks each is described).
pub const API_ROUTES: &[&str] = &[
    "/api/v1/packages/{name}",
    "/api/v1/packages/{name}/dependents",
    "/api/v1/packages/{name}/versions/{version}/files",
    "/api/v1/packages/{name}/versions/{version}/files/{path}",
    "/api/v1/search",
    "/api/v1/suggest",
];

/// A request that takes longer than this (a database that stopped answering) is a 503.
pub const REQUEST_BUDGET: Duration = Duration::from_secs(3);

pub fn router(app: AppState) -> Router {
    let api = Router::new()
        .route("/api/v1/packages/{*rest}", get(api::routes::api_packages))
        .route("/api/v1/openapi.json", get(api::openapi::openapi_json))
        .route("/api/v1/search", get(api::search::api_search))
        .route("/api/v1/suggest", get(api::search::api_suggest))
        .layer(CorsLayer::new().allow_origin(Any).allow_methods([Method::GET, Method::HEAD]));
    let pages = Router::new()
        .route("/", get(browse::home))
        .route("/package/{*rest}", get(package::package_pages))
        .route("/keyword/{keyword}", get(browse::keyword))
        .route("/author/{name}", get(browse::author))
        .route("/browse/recent", get(browse::recent))
        .route("/browse/depended", get(browse::depended))
        .route("/search", get(crate::pages::search::search_page));
    Router::new()
        .merge(api)
        .merge(pages)
        .route("/healthz", get(api::health::healthz))
        .route("/readyz", get(api::health::readyz))
        .route("/metrics", get(crate::metrics::show_metrics))
        .route("/media/{file}", get(serve_media))
        .fallback(not_found)
        // innermost first; every answer, refusals included, gets a body and the headers
        .layer(axum::middleware::from_fn_with_state(app.clone(), crate::metrics::track))
        .layer(axum::middleware::from_fn_with_state(app.clone(), budget))
        .layer(CompressionLayer::new())
        .layer(axum::middleware::from_fn_with_state(app.clone(), rate_limit))
        .layer(axum::middleware::from_fn_with_state(app.clone(), shed_load))
        .layer(axum::middleware::from_fn(crate::protect::limits::request_limits))
        .layer(axum::middleware::from_fn_with_state(app.clone(), render_error_pages))
        .layer(axum::middleware::from_fn_with_state(app.clone(), security_headers))
        .with_state(app)
}

/// Unknown URLs: the JSON envelope under `/api/`, a page offering search elsewhere.
async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    use axum::response::IntoResponse;
    let e = crate::error::AppError::NotFound;
    if uri.path().starts_with("/api/") {
        crate::error::ApiError(e).into_response()
    } else {
        crate::error::PageError(e).into_response()
    }
}

/// Every request within [`REQUEST_BUDGET`]: a database that hangs gives a 503, not a hang.
/// When the database answers (the cache's watcher says so), the time went to queueing
/// behind other requests: "overloaded", with a short jittered Retry-After, not "come back
/// in 30 s".
async fn budget(
    axum::extract::State(app): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let api = req.uri().path().starts_with("/api/");
    match tokio::time::timeout(REQUEST_BUDGET, next.run(req)).await {
        Ok(r) => r,
        Err(_) => {
            let e = if app.cache().db_ok() {
                crate::error::AppError::Overloaded { retry_after_secs: crate::protect::shed::jittered_retry_after() }
            } else {
                crate::error::AppError::DatabaseUnavailable
            };
            if api { crate::error::ApiError(e).into_response() } else { crate::error::PageError(e).into_response() }
        }
    }
}
