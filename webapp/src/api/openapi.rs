//! `GET /api/v1/openapi.json`: the OpenAPI 3 description, generated from the handlers'
//! annotations and the answer types (utoipa), never written by hand. Each operation's path
//! is the route table's template (`routes.rs`: the fixed API routes and the API variants of
//! `PackageRoute`); a test checks that the document and the router list the same URLs.

use axum::Json;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "Nodules API", description = "Packages of the npm registry: metadata, dependents, files."),
    paths(
        super::package::get_package,
        super::dependents::list_dependents,
        super::files::list_files,
        super::files::file_meta,
        super::search::api_search,
        super::search::api_suggest,
        openapi_json,
    ),
    components(schemas(crate::error::ErrorBody, crate::error::ErrorDetail))
)]
pub struct ApiDoc;

/// This document.
#[utoipa::path(
    get,
    path = crate::routes::API_OPENAPI,
    responses((status = 200, description = "The OpenAPI document of this API", body = Object))
)]
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
