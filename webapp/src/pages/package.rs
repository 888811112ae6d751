//! `/package/{name}`, `/package/{name}/v/{version}` and the dispatch of every URL under a
//! package to its page.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use nodules_store::model::{Package, SourceState};
use serde::Serialize;

use super::dependents::{DependentsQuery, show_dependents};
use super::package_page::{PackagePage, dependency_names};
use crate::cache::Cached;
use crate::error::{AppError, PageError};
use crate::package_data::{Found, PackageData, indexed, load};
use crate::path::PackagePath;
use crate::respond::{HTML, PAGE_CACHE, Scope, cached, through_cache};
use crate::state::AppState;

/// Largest README read from storage.
const README_MAX: usize = 2 << 20;

/// Every page under `/package/`.
pub async fn package_pages(
    State(app): State<AppState>,
    Path(rest): Path<String>,
    Query(q): Query<DependentsQuery>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let path = PackagePath::parse(&rest)?;
    let request = uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default();
    let name = path.name.clone();
    let rest: Vec<&str> = path.rest.iter().map(String::as_str).collect();
    match rest.as_slice() {
        [] => through_cache(&app, Scope::Package(&name), &request, &headers, show_package(&app, &name, None)).await,
        ["v", version] => {
            let version = version.to_string();
            through_cache(&app, Scope::Package(&name), &request, &headers, show_package(&app, &name, Some(&version)))
                .await
        }
        ["dependents"] => {
            through_cache(&app, Scope::Package(&name), &request, &headers, show_dependents(&app, &name, q)).await
        }
        _ => Err(PageError(AppError::NotFound)),
    }
}

async fn show_package(app: &AppState, name: &str, version: Option<&str>) -> Result<Cached, PageError> {
    let data = match load(app, name, version).await? {
        Found::Published(d) => d,
        Found::Gone(p) => return gone_page(app, &p),
    };
    let indexed = indexed(app, dependency_names(&data.version)).await?;
    let readme = readme(app, &data).await;
    let page = PackagePage::build(&data, &app.config().base_url, &indexed, readme);
    let html = app.render("pages/package.html", minijinja::context! { page => crate::state::val(&page) })?;
    Ok(cached(StatusCode::OK, HTML, html, PAGE_CACHE))
}

/// The README's HTML, or a note saying why there is none.
async fn readme(app: &AppState, d: &PackageData) -> (Option<String>, Option<String>) {
    let Some(source) = &d.source else {
        return (None, Some("This version has not been downloaded yet: it is queued, reload in a minute.".into()));
    };
    let facts = match (source.state, &source.facts) {
        (SourceState::Pending, _) => {
            return (None, Some("This version has not been downloaded yet: it is queued, reload in a minute.".into()));
        }
        (SourceState::Failed, _) | (SourceState::Capped, None) => {
            let reason = source.reason.clone().unwrap_or_else(|| "unknown".into());
            return (None, Some(format!("Source unavailable: {reason}")));
        }
        (_, Some(f)) => f,
        (_, None) => return (None, Some("This package has no README.".into())),
    };
    let Some(file) = &facts.readme else { return (None, Some("This package has no README.".into())) };
    let base = link_base(d);
    let key = crate::readme::cache_key(&file.blob, &base);
    if let Some(html) = app.0.readmes.get(&key).await {
        return (Some(html.as_ref().clone()), None);
    }
    let bytes = match app.store().blob(&file.blob, README_MAX).await {
        Ok(Some(b)) => b,
        Ok(None) => return (None, Some("The README's contents are no longer stored.".into())),
        Err(e) => {
            tracing::warn!(error = %e, "reading a README failed");
            return (None, Some("The README could not be read right now.".into()));
        }
    };
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let lower = file.path.to_ascii_lowercase();
    let markdown =
        lower.ends_with(".md") || lower.ends_with(".markdown") || lower.ends_with(".mdown") || !lower.contains('.');
    let html = tokio::task::spawn_blocking(move || {
        if markdown { crate::readme::render(&text, &base) } else { crate::readme::render_plain(&text) }
    })
    .await
    .unwrap_or_default();
    app.0.readmes.insert(key, std::sync::Arc::new(html.clone())).await;
    (Some(html), None)
}

fn link_base(d: &PackageData) -> crate::readme::LinkBase {
    let repo = d.version.repository.as_ref();
    match repo.and_then(|r| r.hosted.as_ref()) {
        Some(h) if h.host == nodules_store::model::GitHostKind::Github => match &h.owner {
            Some(owner) => crate::readme::LinkBase::github(
                owner,
                &h.repo,
                repo.and_then(|r| r.directory.as_deref()),
                h.committish.as_deref(),
            ),
            None => crate::readme::LinkBase::none(),
        },
        _ => crate::readme::LinkBase::none(),
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
pub fn gone_page(app: &AppState, p: &Package) -> Result<Cached, PageError> {
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
    Ok(cached(StatusCode::GONE, HTML, html, PAGE_CACHE))
}
