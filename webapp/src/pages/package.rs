//! `/package/{name}`, `/package/{name}/v/{version}`, and every page under a package by its
//! [`PackageRoute`].

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use nodules_store::model::{Package, VersionRecord};
use serde::Serialize;

use super::dependents::{DependentsQuery, show_dependents};
use super::package_page::{PackagePage, dependency_names, previous_version};
use super::version_notes;
use crate::error::{AppError, PageError};
use crate::metrics::RouteTemplate;
use crate::package_data::{Found, indexed, load};
use crate::params::Page;
use crate::respond::{CachePolicy, HTML, answer};
use crate::routes::PackageRoute;
use crate::state::AppState;

/// Every page under `/package/`, by its [`PackageRoute`].
pub async fn package_pages(
    State(app): State<AppState>,
    route: PackageRoute,
    Query(q): Query<DependentsQuery>,
    Query(all): Query<std::collections::HashMap<String, String>>,
    page: Page,
) -> Response {
    let template = RouteTemplate(route.template());
    let answer = match &route {
        PackageRoute::Module { name } => show_package(&app, name, None).await,
        PackageRoute::Version { name, version } => show_package(&app, name, Some(version)).await,
        PackageRoute::Dependents { name } => show_dependents(&app, name, q, page).await,
        PackageRoute::Source { name, version, path, dir } => {
            let ask = crate::source::Ask::from_query(&all);
            crate::source::show(&app, name, version.as_deref(), path, *dir, ask).await
        }
        PackageRoute::Diff { name, from, to } => crate::source::diff_page::show(&app, name, from, to, &all).await,
        PackageRoute::PackageSearch { name, version } => crate::source::show_search(&app, name, version, &all).await,
        PackageRoute::DiffPick { name } => crate::source::diff_page::pick(&app, name, &all).await,
        PackageRoute::Feed { name } => crate::feeds::package_feed(&app, name).await,
        PackageRoute::Versions { name } => {
            super::versions::show_versions(&app, name, all.get("filter").map(String::as_str), page.0).await
        }
        PackageRoute::Tree { name } => super::tree::show_tree(&app, name).await,
        _ => Err(PageError(AppError::NotFound)),
    };
    let mut r = answer.into_response();
    r.extensions_mut().insert(template);
    r
}

async fn show_package(app: &AppState, name: &str, version: Option<&str>) -> Result<Response, PageError> {
    let data = match load(app, name, version).await? {
        Found::Published(d) => d,
        Found::Gone(p) => return gone_page(app, &p),
    };
    let p = &data.package;
    // the `@types` package is asked for with the dependencies: one query
    let types = version_notes::types_candidate(&p.name, &data.version, data.source.as_ref());
    let mut names = dependency_names(&data.version);
    names.extend(types.clone());
    let previous = previous_version(p, &data.version.version);
    let (indexed, previous, readme) = tokio::join!(
        indexed(app, names),
        previous_record(app, &p.name, previous.as_deref()),
        crate::readme::load::for_version(app, &data),
    );
    let (indexed, previous) = (indexed?, previous?);
    let mut page = PackagePage::build(&data, &app.config().base_url, &indexed, readme);
    page.types_package = types.filter(|t| indexed.contains(t));
    page.added = previous.as_ref().and_then(|prev| version_notes::added_since(prev, &data.version));
    let html = app.render("pages/package.html", minijinja::context! { page => crate::state::val(&page) })?;
    // "reload in a few seconds": kept neither here nor by browsers until the files are in
    let policy =
        if data.not_downloaded() { CachePolicy::Browser("no-store") } else { CachePolicy::Package(name.to_string()) };
    Ok(answer(policy, StatusCode::OK, HTML, html))
}

/// The record of the version before the one shown (one key read), to say what it added.
async fn previous_record(app: &AppState, name: &str, version: Option<&str>) -> Result<Option<VersionRecord>, AppError> {
    match version {
        Some(v) => Ok(app.store().version(name, v).await?),
        None => Ok(None),
    }
}

#[derive(Serialize)]
struct GonePage {
    name: String,
    state: &'static str,
    when: Option<String>,
    versions: Vec<String>,
    latest: Option<String>,
    description: Option<String>,
    maintainers: Vec<String>,
    created: Option<String>,
}

/// 410 with what is known of a deleted or unpublished package.
pub fn gone_page(app: &AppState, p: &Package) -> Result<Response, PageError> {
    let unpublished = p.unpublished.as_ref();
    let page = GonePage {
        name: p.name.clone(),
        state: p.state.as_str(),
        when: unpublished.and_then(|u| u.time).or(p.modified).and_then(|t| t.try_to_rfc3339_string().ok()),
        versions: match unpublished {
            Some(u) if !u.versions.is_empty() => u.versions.clone(),
            _ => p.versions.iter().map(|v| v.version.clone()).collect(),
        },
        latest: p.latest.clone(),
        description: p.latest_version.as_ref().and_then(|l| l.description.clone()),
        maintainers: p.maintainers.iter().filter_map(|m| m.name.clone()).collect(),
        created: p.created.and_then(|t| t.try_to_rfc3339_string().ok()),
    };
    let html = app.render("pages/gone.html", minijinja::context! { page => crate::state::val(&page) })?;
    Ok(answer(CachePolicy::Package(p.name.clone()), StatusCode::GONE, HTML, html))
}
