//! Every URL of the site, in one table, and the layers every answer goes through.
//!
//! A package's URLs sit behind three catch-alls (`/package/{*rest}`, `/api/v1/packages/{*rest}`,
//! `/badge/{*rest}`: axum's `{name}` cannot match `@scope/name`); the [`PackageRoute`]
//! extractor parses what follows once, into one of the variants listed here, and rejects a
//! bad name before any query.

use std::time::Duration;

use axum::Router;
use axum::extract::{FromRequestParts, MatchedPath, Path};
use axum::http::Method;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
use tower_http::cors::{Any, CorsLayer};

use crate::api;
use crate::error::{ApiError, AppError, PageError, answer};
use crate::media::serve_media;
use crate::pages::errors::render_error_pages;
use crate::pages::{browse, package};
use crate::path::PackagePath;
use crate::protect::{headers::security_headers, rate::rate_limit, shed::shed_load};
use crate::respond::page_cache;
use crate::state::AppState;

/// A request that takes longer than this (a database that stopped answering) is a 503.
pub const REQUEST_BUDGET: Duration = Duration::from_secs(3);

/// Every page under a package; parsed by [`PackageRoute`].
pub const PACKAGE_PAGES: &str = "/package/{*rest}";
/// Every API URL under a package; parsed by [`PackageRoute`].
pub const PACKAGE_API: &str = "/api/v1/packages/{*rest}";
/// Every badge of a package; parsed by [`PackageRoute`].
pub const BADGES: &str = "/badge/{*rest}";

pub const PAGE_MODULE: &str = "/package/{name}";
pub const PAGE_VERSION: &str = "/package/{name}/v/{version}";
pub const PAGE_DEPENDENTS: &str = "/package/{name}/dependents";
pub const PAGE_SOURCE: &str = "/package/{name}/v/{version}/source/{path}";
pub const PAGE_SOURCE_LATEST: &str = "/package/{name}/source/{path}";
pub const PAGE_PACKAGE_SEARCH: &str = "/package/{name}/v/{version}/search";
pub const PAGE_DIFF: &str = "/package/{name}/diff/{from}...{to}";
pub const PAGE_DIFF_PICK: &str = "/package/{name}/diff";
pub const PAGE_FEED: &str = "/package/{name}/feed.atom";
pub const PAGE_VERSIONS: &str = "/package/{name}/versions";
pub const PAGE_TREE: &str = "/package/{name}/tree";
pub const API_PACKAGE: &str = "/api/v1/packages/{name}";
pub const API_DEPENDENTS: &str = "/api/v1/packages/{name}/dependents";
pub const API_FILES: &str = "/api/v1/packages/{name}/versions/{version}/files";
pub const API_FILE: &str = "/api/v1/packages/{name}/versions/{version}/files/{path}";
pub const API_PACKAGE_SEARCH: &str = "/api/v1/packages/{name}/versions/{version}/search";
pub const API_DIFF: &str = "/api/v1/packages/{name}/diff/{from}...{to}";
pub const API_SEARCH: &str = "/api/v1/search";
pub const API_COMPARE: &str = "/api/v1/compare";
/// 2 to 4 packages side by side (`/compare/a,@scope/b`): a catch-all, as scoped names hold a
/// `/`; counted by `/metrics` as [`PAGE_COMPARE`].
pub const COMPARE_PAGES: &str = "/compare/{*names}";
pub const PAGE_COMPARE: &str = "/compare/{names}";
/// The form that picks packages to compare (`?packages=a&packages=b` redirects to [`PAGE_COMPARE`]).
pub const PAGE_COMPARE_FORM: &str = "/compare";
pub const API_SUGGEST: &str = "/api/v1/suggest";
pub const API_OPENAPI: &str = "/api/v1/openapi.json";
/// The live stream: Server-Sent Events, outside the page cache.
pub const API_STREAM: &str = "/api/v1/stream";
pub const BADGE_VERSION: &str = "/badge/{name}/version.svg";
pub const BADGE_DEPENDENTS: &str = "/badge/{name}/dependents.svg";
pub const BADGE_ACTIVITY: &str = "/badge/{name}/activity.svg";

/// Where a package URL leads. Page variants come from [`PACKAGE_PAGES`], `Api*` variants
/// from [`PACKAGE_API`], `Badge*` variants from [`BADGES`]; each has a template
/// ([`PackageRoute::template`]) that `/metrics` labels it with and, for the API, that the
/// OpenAPI document lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageRoute {
    /// `/package/{name}`: the module page of the latest version.
    Module { name: String },
    /// `/package/{name}/v/{version}`: one version's page.
    Version { name: String, version: String },
    /// `/package/{name}/dependents`: the dependents, page by page.
    Dependents { name: String },
    /// `/package/{name}/v/{version}/source/{path}` (or `/package/{name}/source/{path}`, the
    /// latest version, when `version` is `None`): a folder (`dir`: the URL ends with `/`, or
    /// the root) or a file of the source browser.
    Source { name: String, version: Option<String>, path: String, dir: bool },
    /// `/package/{name}/v/{version}/search`: search inside a version's files.
    PackageSearch { name: String, version: String },
    /// `/package/{name}/diff/{from}...{to}`: what changed between two versions.
    Diff { name: String, from: String, to: String },
    /// `/package/{name}/diff`: the versions picker (`?from=&to=` redirects to [`PackageRoute::Diff`]).
    DiffPick { name: String },
    /// `/package/{name}/feed.atom`: its versions as an Atom feed.
    Feed { name: String },
    /// `/package/{name}/versions`: every version, page by page (`?filter=`, `?page=`).
    Versions { name: String },
    /// `/package/{name}/tree`: the latest version's install tree, as npm resolves it.
    Tree { name: String },
    /// `/api/v1/packages/{name}`: the package JSON.
    ApiPackage { name: String },
    /// `/api/v1/packages/{name}/dependents`: the dependents by cursor.
    ApiDependents { name: String },
    /// `/api/v1/packages/{name}/versions/{version}/files`: a version's file tree.
    ApiFiles { name: String, version: String },
    /// `/api/v1/packages/{name}/versions/{version}/files/{path}`: one file's metadata.
    ApiFile { name: String, version: String, path: String },
    /// `/api/v1/packages/{name}/versions/{version}/search`: search inside a version's files.
    ApiPackageSearch { name: String, version: String },
    /// `/api/v1/packages/{name}/diff/{from}...{to}`: the files changed between two versions.
    ApiDiff { name: String, from: String, to: String },
    /// `/badge/{name}/version.svg`: the latest version as an SVG badge.
    BadgeVersion { name: String },
    /// `/badge/{name}/dependents.svg`: the number of prod dependents as an SVG badge.
    BadgeDependents { name: String },
    /// `/badge/{name}/activity.svg`: the repository's weekly commits as an SVG badge.
    BadgeActivity { name: String },
}

impl PackageRoute {
    /// The templates of the API variants, as the OpenAPI document lists them.
    pub const API_TEMPLATES: &[&str] =
        &[API_PACKAGE, API_DEPENDENTS, API_FILES, API_FILE, API_PACKAGE_SEARCH, API_DIFF];
    /// The templates of the page variants.
    pub const PAGE_TEMPLATES: &[&str] = &[
        PAGE_MODULE,
        PAGE_VERSION,
        PAGE_DEPENDENTS,
        PAGE_SOURCE,
        PAGE_SOURCE_LATEST,
        PAGE_DIFF,
        PAGE_DIFF_PICK,
        PAGE_FEED,
        PAGE_VERSIONS,
        PAGE_TREE,
    ];
    /// The templates of the badge variants.
    pub const BADGE_TEMPLATES: &[&str] = &[BADGE_VERSION, BADGE_DEPENDENTS, BADGE_ACTIVITY];

    /// Parses what follows `/package/` (already percent-decoded).
    pub fn parse_page(rest: &str) -> Result<PackageRoute, AppError> {
        let PackagePath { name, rest, trailing_slash } = PackagePath::parse(rest)?;
        let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
        let source = |version: Option<&str>, path: &[&str]| PackageRoute::Source {
            name: name.clone(),
            version: version.map(str::to_string),
            path: path.join("/"),
            dir: trailing_slash || path.is_empty(),
        };
        Ok(match rest.as_slice() {
            [] => PackageRoute::Module { name },
            ["v", version] => PackageRoute::Version { name, version: version.to_string() },
            ["dependents"] => PackageRoute::Dependents { name },
            ["source", path @ ..] => source(None, path),
            ["v", version, "source", path @ ..] => source(Some(version), path),
            ["v", version, "search"] => PackageRoute::PackageSearch { name, version: version.to_string() },
            ["diff"] => PackageRoute::DiffPick { name },
            ["feed.atom"] if !trailing_slash => PackageRoute::Feed { name },
            ["versions"] => PackageRoute::Versions { name },
            ["tree"] => PackageRoute::Tree { name },
            ["diff", spec] => match spec.split_once("...") {
                Some((from, to)) if !from.is_empty() && !to.is_empty() => {
                    PackageRoute::Diff { name, from: from.to_string(), to: to.to_string() }
                }
                _ => return Err(AppError::NotFound),
            },
            _ => return Err(AppError::NotFound),
        })
    }

    /// Parses what follows `/api/v1/packages/` (already percent-decoded).
    pub fn parse_api(rest: &str) -> Result<PackageRoute, AppError> {
        let PackagePath { name, rest, .. } = PackagePath::parse(rest)?;
        let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
        Ok(match rest.as_slice() {
            [] => PackageRoute::ApiPackage { name },
            ["dependents"] => PackageRoute::ApiDependents { name },
            ["versions", version, "files"] => PackageRoute::ApiFiles { name, version: version.to_string() },
            ["versions", version, "files", file @ ..] if !file.is_empty() => {
                PackageRoute::ApiFile { name, version: version.to_string(), path: file.join("/") }
            }
            ["versions", version, "search"] => PackageRoute::ApiPackageSearch { name, version: version.to_string() },
            ["diff", spec] => match spec.split_once("...") {
                Some((from, to)) if !from.is_empty() && !to.is_empty() => {
                    PackageRoute::ApiDiff { name, from: from.to_string(), to: to.to_string() }
                }
                _ => return Err(AppError::NotFound),
            },
            _ => return Err(AppError::NotFound),
        })
    }

    /// Parses what follows `/badge/` (already percent-decoded).
    pub fn parse_badge(rest: &str) -> Result<PackageRoute, AppError> {
        let PackagePath { name, rest, trailing_slash } = PackagePath::parse(rest)?;
        let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
        Ok(match rest.as_slice() {
            _ if trailing_slash => return Err(AppError::NotFound),
            ["version.svg"] => PackageRoute::BadgeVersion { name },
            ["dependents.svg"] => PackageRoute::BadgeDependents { name },
            ["activity.svg"] => PackageRoute::BadgeActivity { name },
            _ => return Err(AppError::NotFound),
        })
    }

    /// The package the URL is about.
    pub fn name(&self) -> &str {
        match self {
            PackageRoute::Module { name }
            | PackageRoute::Version { name, .. }
            | PackageRoute::Dependents { name }
            | PackageRoute::Source { name, .. }
            | PackageRoute::Diff { name, .. }
            | PackageRoute::PackageSearch { name, .. }
            | PackageRoute::ApiPackageSearch { name, .. }
            | PackageRoute::DiffPick { name }
            | PackageRoute::Feed { name }
            | PackageRoute::Versions { name }
            | PackageRoute::Tree { name }
            | PackageRoute::ApiDiff { name, .. }
            | PackageRoute::ApiPackage { name }
            | PackageRoute::ApiDependents { name }
            | PackageRoute::ApiFiles { name, .. }
            | PackageRoute::ApiFile { name, .. }
            | PackageRoute::BadgeVersion { name }
            | PackageRoute::BadgeDependents { name }
            | PackageRoute::BadgeActivity { name } => name,
        }
    }

    /// The URL template of the variant (`/package/{name}/dependents`).
    pub fn template(&self) -> &'static str {
        match self {
            PackageRoute::Module { .. } => PAGE_MODULE,
            PackageRoute::Version { .. } => PAGE_VERSION,
            PackageRoute::Dependents { .. } => PAGE_DEPENDENTS,
            PackageRoute::Source { version: Some(_), .. } => PAGE_SOURCE,
            PackageRoute::Source { version: None, .. } => PAGE_SOURCE_LATEST,
            PackageRoute::Diff { .. } => PAGE_DIFF,
            PackageRoute::PackageSearch { .. } => PAGE_PACKAGE_SEARCH,
            PackageRoute::ApiPackageSearch { .. } => API_PACKAGE_SEARCH,
            PackageRoute::DiffPick { .. } => PAGE_DIFF_PICK,
            PackageRoute::Feed { .. } => PAGE_FEED,
            PackageRoute::Versions { .. } => PAGE_VERSIONS,
            PackageRoute::Tree { .. } => PAGE_TREE,
            PackageRoute::ApiDiff { .. } => API_DIFF,
            PackageRoute::ApiPackage { .. } => API_PACKAGE,
            PackageRoute::ApiDependents { .. } => API_DEPENDENTS,
            PackageRoute::ApiFiles { .. } => API_FILES,
            PackageRoute::ApiFile { .. } => API_FILE,
            PackageRoute::BadgeVersion { .. } => BADGE_VERSION,
            PackageRoute::BadgeDependents { .. } => BADGE_DEPENDENTS,
            PackageRoute::BadgeActivity { .. } => BADGE_ACTIVITY,
        }
    }

    /// The URL path of this route.
    pub fn url(&self) -> String {
        match self {
            PackageRoute::Module { name } => format!("/package/{name}"),
            PackageRoute::Version { name, version } => format!("/package/{name}/v/{version}"),
            PackageRoute::Dependents { name } => format!("/package/{name}/dependents"),
            PackageRoute::Source { name, version, path, dir } => {
                let path = if *dir && !path.is_empty() { format!("{path}/") } else { path.clone() };
                crate::source::url(name, version.as_deref(), &path)
            }
            PackageRoute::Diff { name, from, to } => crate::source::diff_page::url(name, from, to),
            PackageRoute::DiffPick { name } => format!("/package/{name}/diff"),
            PackageRoute::Feed { name } => format!("/package/{name}/feed.atom"),
            PackageRoute::Versions { name } => format!("/package/{name}/versions"),
            PackageRoute::Tree { name } => format!("/package/{name}/tree"),
            PackageRoute::PackageSearch { name, version } => format!("/package/{name}/v/{version}/search"),
            PackageRoute::ApiPackageSearch { name, version } => {
                format!("/api/v1/packages/{name}/versions/{version}/search")
            }
            PackageRoute::ApiDiff { name, from, to } => format!("/api/v1/packages/{name}/diff/{from}...{to}"),
            PackageRoute::ApiPackage { name } => format!("/api/v1/packages/{name}"),
            PackageRoute::ApiDependents { name } => format!("/api/v1/packages/{name}/dependents"),
            PackageRoute::ApiFiles { name, version } => format!("/api/v1/packages/{name}/versions/{version}/files"),
            PackageRoute::ApiFile { name, version, path } => {
                format!("/api/v1/packages/{name}/versions/{version}/files/{path}")
            }
            PackageRoute::BadgeVersion { name } => format!("/badge/{name}/version.svg"),
            PackageRoute::BadgeDependents { name } => format!("/badge/{name}/dependents.svg"),
            PackageRoute::BadgeActivity { name } => format!("/badge/{name}/activity.svg"),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PackageRoute {
    /// axum's own answer for an undecodable path; otherwise the error as a page, as JSON or
    /// as a badge.
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let catch_all = match parts.extensions.get::<MatchedPath>().map(MatchedPath::as_str) {
            Some(PACKAGE_API) => PACKAGE_API,
            Some(BADGES) => BADGES,
            Some(_) => PACKAGE_PAGES,
            None if parts.uri.path().starts_with("/api/") => PACKAGE_API,
            None if parts.uri.path().starts_with("/badge/") => BADGES,
            None => PACKAGE_PAGES,
        };
        let Path(rest) = Path::<String>::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
        match catch_all {
            PACKAGE_API => PackageRoute::parse_api(&rest).map_err(|e| ApiError(e).into_response()),
            BADGES => PackageRoute::parse_badge(&rest).map_err(|e| {
                crate::badge::refused(crate::badge::label_of_file(rest.rsplit('/').next().unwrap_or("")), e)
            }),
            _ => PackageRoute::parse_page(&rest).map_err(|e| PageError(e).into_response()),
        }
    }
}

/// The API's routes. The package catch-all stands for [`PackageRoute::API_TEMPLATES`].
fn api_table() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        (PACKAGE_API, get(api::routes::api_packages)),
        (API_OPENAPI, get(api::openapi::openapi_json)),
        (API_SEARCH, get(api::search::api_search)),
        (API_SUGGEST, get(api::search::api_suggest)),
        (API_COMPARE, get(api::compare::api_compare)),
    ]
}

/// Every API URL template the router answers, the package catch-all expanded into its
/// variants: what the OpenAPI document must describe, no more, no less.
pub fn api_routes() -> Vec<&'static str> {
    api_table()
        .into_iter()
        .flat_map(|(t, _)| if t == PACKAGE_API { PackageRoute::API_TEMPLATES.to_vec() } else { vec![t] })
        .chain([API_STREAM])
        .collect()
}

/// The routes: pages and the API (each with its cache policy applied by one layer), probes,
/// media and the fallback, each answer counted by `/metrics` under its route template.
/// [`site`] wraps this in the protections every answer passes through.
pub fn router(app: AppState) -> Router {
    // pages and API answers carry their cache policy; one layer applies it
    let cache = axum::middleware::from_fn_with_state(app.clone(), page_cache);
    let api = api_table()
        .into_iter()
        .fold(Router::new(), |r, (path, handler)| r.route(path, handler))
        .layer(cache.clone())
        // a stream is never kept: it goes around the cache
        .route(API_STREAM, get(crate::stream::route::stream))
        .layer(CorsLayer::new().allow_origin(Any).allow_methods([Method::GET, Method::HEAD]));
    let pages = Router::new()
        .route("/", get(browse::home))
        .route(PACKAGE_PAGES, get(package::package_pages))
        .route(BADGES, get(crate::badge::show_badge))
        .route("/keyword/{keyword}", get(browse::keyword))
        .route("/keyword/{keyword}/feed.atom", get(crate::feeds::keyword))
        .route("/author/{name}", get(browse::author))
        .route("/author/{name}/feed.atom", get(crate::feeds::author))
        .route("/feeds/recent.atom", get(crate::feeds::recent))
        .route("/browse/recent", get(browse::recent))
        .route("/browse/depended", get(browse::depended))
        .route("/browse/active", get(browse::active))
        .route("/browse/starred", get(browse::starred))
        .route("/search", get(crate::pages::search::search_page))
        .route(PAGE_COMPARE_FORM, get(crate::pages::compare::compare_form))
        .route(COMPARE_PAGES, get(crate::pages::compare::show_compare))
        .layer(cache);
    Router::new()
        .merge(api)
        .merge(pages)
        .route("/sitemap.xml", get(crate::sitemaps::index))
        .route("/sitemaps/{file}", get(crate::sitemaps::shard))
        .route("/robots.txt", get(crate::sitemaps::robots))
        .route("/healthz", get(api::health::healthz))
        .route("/readyz", get(api::health::readyz))
        .route("/metrics", get(crate::metrics::show_metrics))
        .route("/media/{file}", get(serve_media))
        .fallback(not_found)
        // inside the router: it reads the route the router matched
        .layer(axum::middleware::from_fn_with_state(app.clone(), crate::metrics::track))
        .with_state(app)
}

/// The whole site as one service (see [`site`]).
pub type Site = tower::util::BoxCloneSyncService<axum::extract::Request, Response, std::convert::Infallible>;

/// Every request through the whole site: [`router`] inside the protections and headers
/// every answer gets, refusals included (outermost last). They wrap the router once, not
/// each route as `Router::layer` does: that boxes every layer around every route and clones
/// the whole boxed stack per request, which was half the CPU of a page served from the
/// cache. Requests carry their peer as `ConnectInfo<SocketAddr>` (the rate limit's key).
pub fn site(app: AppState) -> Site {
    let service = tower::ServiceBuilder::new()
        .layer(axum::middleware::from_fn_with_state(app.clone(), security_headers))
        .layer(axum::middleware::from_fn_with_state(app.clone(), render_error_pages))
        .layer(axum::middleware::from_fn(crate::protect::limits::request_limits))
        .layer(axum::middleware::from_fn_with_state(app.clone(), shed_load))
        .layer(axum::middleware::from_fn_with_state(app.clone(), rate_limit))
        // a sitemap shard is a .gz file: not compressed again
        .layer(
            CompressionLayer::new()
                .compress_when(DefaultPredicate::new().and(NotForContentType::const_new("application/gzip"))),
        )
        .layer(axum::middleware::from_fn_with_state(app.clone(), budget))
        .service(router(app));
    tower::util::BoxCloneSyncService::new(service)
}

/// Unknown URLs: the JSON envelope under `/api/`, a page offering search elsewhere.
async fn not_found(uri: axum::http::Uri) -> Response {
    answer(uri.path(), AppError::NotFound)
}

/// Every request within [`REQUEST_BUDGET`]: a database that hangs gives a 503, not a hang.
/// When the database answers (the cache's watcher says so), the time went to queueing
/// behind other requests: "overloaded", with a short jittered Retry-After, not "come back
/// in 30 s".
async fn budget(
    axum::extract::State(app): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = req.uri().path().to_string();
    match tokio::time::timeout(REQUEST_BUDGET, next.run(req)).await {
        Ok(r) => r,
        Err(_) => {
            let e = if app.cache().db_ok() {
                AppError::Overloaded { retry_after_secs: crate::protect::shed::jittered_retry_after() }
            } else {
                AppError::DatabaseUnavailable
            };
            answer(&path, e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_urls_parse_once_into_their_variant() {
        let name = |n: &str| n.to_string();
        assert_eq!(PackageRoute::parse_page("react").ok(), Some(PackageRoute::Module { name: name("react") }));
        assert_eq!(PackageRoute::parse_page("react/").ok(), Some(PackageRoute::Module { name: name("react") }));
        assert_eq!(
            PackageRoute::parse_page("@types/node/v/20.0.0").ok(),
            Some(PackageRoute::Version { name: name("@types/node"), version: name("20.0.0") })
        );
        assert_eq!(
            PackageRoute::parse_page("@types/node/dependents").ok(),
            Some(PackageRoute::Dependents { name: name("@types/node") })
        );
        assert!(matches!(PackageRoute::parse_page("react/nothing"), Err(AppError::NotFound)));
        assert!(matches!(PackageRoute::parse_page("a b/dependents"), Err(AppError::InvalidName(_))));
        assert_eq!(
            PackageRoute::parse_api("@s/p/versions/1.0.0/files/lib/a.js").ok(),
            Some(PackageRoute::ApiFile { name: name("@s/p"), version: name("1.0.0"), path: name("lib/a.js") })
        );
        assert_eq!(
            PackageRoute::parse_api("p/versions/1.0.0/files").ok(),
            Some(PackageRoute::ApiFiles { name: name("p"), version: name("1.0.0") })
        );
        assert!(matches!(PackageRoute::parse_api("p/v/1.0.0"), Err(AppError::NotFound)));
        assert_eq!(
            PackageRoute::parse_badge("@s/p/activity.svg").ok(),
            Some(PackageRoute::BadgeActivity { name: name("@s/p") })
        );
        assert!(matches!(PackageRoute::parse_badge("p/version.svg/"), Err(AppError::NotFound)));
        assert!(matches!(PackageRoute::parse_badge("p/stars.svg"), Err(AppError::NotFound)));
        assert!(matches!(PackageRoute::parse_badge("version.svg"), Err(AppError::NotFound)));
        assert!(matches!(PackageRoute::parse_badge("a b/version.svg"), Err(AppError::InvalidName(_))));
        for route in [
            PackageRoute::BadgeVersion { name: name("@s/p") },
            PackageRoute::BadgeDependents { name: name("p") },
            PackageRoute::BadgeActivity { name: name("@s/p") },
        ] {
            let url = route.url();
            assert_eq!(PackageRoute::parse_badge(url.trim_start_matches("/badge/")).ok(), Some(route.clone()));
            assert!(PackageRoute::BADGE_TEMPLATES.contains(&route.template()));
        }
        for route in [
            PackageRoute::Module { name: name("@s/p") },
            PackageRoute::Version { name: name("@s/p"), version: name("1.0.0") },
            PackageRoute::Dependents { name: name("@s/p") },
        ] {
            let url = route.url();
            assert_eq!(PackageRoute::parse_page(url.trim_start_matches("/package/")).ok(), Some(route));
        }
        for route in [
            PackageRoute::ApiPackage { name: name("@s/p") },
            PackageRoute::ApiDependents { name: name("@s/p") },
            PackageRoute::ApiFiles { name: name("@s/p"), version: name("1.0.0") },
            PackageRoute::ApiFile { name: name("@s/p"), version: name("1.0.0"), path: name("a/b.js") },
        ] {
            let url = route.url();
            assert_eq!(PackageRoute::parse_api(url.trim_start_matches("/api/v1/packages/")).ok(), Some(route.clone()));
            assert!(PackageRoute::API_TEMPLATES.contains(&route.template()));
        }
    }
}
