//! The JSON API under `/api/v1/`, described by the OpenAPI document the code generates.
pub mod compare; // /compare?packages=a,b: packages side by side
pub mod contract; // what every operation shares, added to the OpenAPI document
pub mod dependents; // /packages/{name}/dependents, cursor-paginated
pub mod diff; // /packages/{name}/diff/{from}...{to}: what changed between two versions
pub mod files; // /packages/{name}/versions/{version}/files[/{path}]
pub mod health; // /healthz, /readyz
pub mod openapi; // /api/v1/openapi.json
pub mod package; // /packages/{name}: the package JSON
pub mod package_search; // /packages/{name}/versions/{version}/search: inside a version's files
pub mod routes; // every URL under /packages/, by its PackageRoute
pub mod search; // /search and /suggest
