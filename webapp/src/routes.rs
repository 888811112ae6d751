//! Every URL of the site, in one table.

use axum::Router;
use axum::http::Method;
use axum::routing::get;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{Any, CorsLayer};

use crate::api;
use crate::error::render_error_pages;
use crate::media::serve_media;
use crate::pages::{browse, package};
use crate::state::AppState;

/// The API's routes, as documented (the OpenAPI test checks each is described).
pub const API_ROUTES: &[&str] = &[
    "/api/v1/packages/{name}",
    "/api/v1/packages/{name}/dependents",
    "/api/v1/packages/{name}/versions/{version}/files",
    "/api/v1/packages/{name}/versions/{version}/files/{path}",
];

pub fn router(app: AppState) -> Router {
    let api = Router::new()
        .route("/api/v1/packages/{*rest}", get(api::routes::api_packages))
        .route("/api/v1/openapi.json", get(api::openapi::openapi_json))
        .layer(CorsLayer::new().allow_origin(Any).allow_methods([Method::GET, Method::HEAD]));
    let pages = Router::new()
        .route("/", get(browse::home))
        .route("/package/{*rest}", get(package::package_pages))
        .route("/keyword/{keyword}", get(browse::keyword))
        .route("/author/{name}", get(browse::author))
        .route("/browse/recent", get(browse::recent))
        .route("/browse/depended", get(browse::depended))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(app.clone(), render_error_pages));
    Router::new()
        .merge(api)
        .merge(pages)
        .route("/healthz", get(api::health::healthz))
        .route("/readyz", get(api::health::readyz))
        .route("/media/{file}", get(serve_media))
        .layer(CompressionLayer::new())
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
