//! `GET /api/v1/openapi.json`: the OpenAPI 3 description, generated from the handlers'
//! annotations and the answer types (utoipa), never written by hand. Each operation's path
//! is the route table's template (`routes.rs`: the fixed API routes and the API variants of
//! `PackageRoute`); a test checks that the document and the router list the same URLs.
//! [`super::contract`] adds what every operation shares (refusals, errors, headers, links).

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
        super::diff::get_diff,
        super::package_search::search_package,
        super::search::api_search,
        super::search::api_suggest,
        super::compare::api_compare,
        crate::stream::route::stream,
        openapi_json,
    ),
    components(schemas(crate::error::ErrorBody, crate::error::ErrorDetail))
)]
pub struct ApiDoc;

/// The served document: the generated one, completed.
pub fn document() -> serde_json::Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    super::compare::document_pattern(&mut doc);
    super::contract::complete(&mut doc);
    doc
}

/// This document.
#[utoipa::path(
    get,
    path = crate::routes::API_OPENAPI,
    responses((status = 200, description = "The OpenAPI document of this API", body = Object))
)]
pub async fn openapi_json() -> Json<serde_json::Value> {
    Json(document())
}
