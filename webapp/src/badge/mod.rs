//! `/badge/{name}/{version,dependents,activity}.svg`: SVG badges for READMEs, kept by the
//! page cache like the package's pages (dropped when the package changes). Every answer is
//! an image, errors too: a README shows "not found" rather than a broken image.

pub mod svg; // drawing: boxes, widths, escaping

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use self::svg::{BLUE, Badge, GREEN, GREY, ORANGE, RED};
use crate::error::AppError;
use crate::format::{count, thousands};
use crate::metrics::RouteTemplate;
use crate::package_data::{Found, PackageData, load};
use crate::pages::github::{GithubView, view};
use crate::respond::{CachePolicy, SVG, answer};
use crate::routes::PackageRoute;
use crate::state::AppState;

/// How long browsers and image proxies keep a "not found" badge: a package published
/// minutes ago should not wait long for its badge.
const MISSING_CACHE: &str = "public, max-age=30";

/// Every badge, by its [`PackageRoute`].
pub async fn show_badge(State(app): State<AppState>, route: PackageRoute) -> Response {
    let template = RouteTemplate(route.template());
    let label = label(&route);
    let mut r = match badge(&app, &route, label).await {
        Ok(r) => r,
        Err(e) => refused(label, e),
    };
    r.extensions_mut().insert(template);
    r
}

/// The label of a badge (the grey half).
fn label(route: &PackageRoute) -> &'static str {
    match route {
        PackageRoute::BadgeDependents { .. } => "dependents",
        PackageRoute::BadgeActivity { .. } => "activity",
        _ => "npm",
    }
}

/// The label of the badge a URL's last segment asks for, when the URL is not one (for
/// the "not found" badge of an invalid name).
pub fn label_of_file(file: &str) -> &'static str {
    match file {
        "dependents.svg" => "dependents",
        "activity.svg" => "activity",
        _ => "npm",
    }
}

async fn badge(app: &AppState, route: &PackageRoute, label: &str) -> Result<Response, AppError> {
    let name = route.name();
    let policy = CachePolicy::Package(name.to_string());
    let data = match load(app, name, None).await? {
        Found::Published(d) => d,
        Found::Gone(p) => {
            let b = Badge::new(label, p.state.as_str(), GREY);
            return Ok(answer(policy, StatusCode::GONE, SVG, b.render()));
        }
    };
    let b = match route {
        PackageRoute::BadgeVersion { .. } => version(&data),
        PackageRoute::BadgeDependents { .. } => dependents(&data),
        PackageRoute::BadgeActivity { .. } => activity(&data),
        _ => return Err(AppError::NotFound),
    };
    Ok(answer(policy, StatusCode::OK, SVG, b.render()))
}

/// `npm | v1.2.3`; orange when the latest version is deprecated.
fn version(d: &PackageData) -> Badge {
    let v = format!("v{}", d.version.version);
    match d.version.deprecated {
        Some(_) => Badge::new("npm", &format!("{v} deprecated"), ORANGE),
        None => Badge::new("npm", &v, BLUE),
    }
}

/// `dependents | 1,234`: the prod dependents, as the module page counts them.
fn dependents(d: &PackageData) -> Badge {
    let n = d.dependents.as_ref().map_or(0, |d| d.prod.count);
    Badge::new("dependents", &thousands(n), BLUE)
}

/// `activity | ▂▅▇ 312 commits/yr` from the repository's last refresh, or why there is none.
fn activity(d: &PackageData) -> Badge {
    let none = |why: &str| Badge::new("activity", why, GREY);
    match view(d) {
        GithubView::NoRepository => none("no repository"),
        GithubView::NotOnGithub { .. } => none("no GitHub"),
        GithubView::NotFetched { .. } => none("not fetched"),
        GithubView::Gone { .. } => none("repository gone"),
        GithubView::Shown(s) => {
            let Some(g) = s.graph else {
                return none(if s.graph_pending { "being counted" } else { "no commit counts" });
            };
            let mut message = format!("{}/yr", count(g.total, "commit"));
            if s.archived {
                message.push_str(", archived");
            }
            let color = if g.total > 0 && !s.archived { GREEN } else { GREY };
            Badge::new("activity", &message, color).with_sparkline(g)
        }
    }
}

/// `e` as a badge with its status: "not found" kept briefly by browsers and image
/// proxies, anything else (the database away, an overload) not kept, with `Retry-After`.
pub fn refused(label: &str, e: AppError) -> Response {
    let (status, _) = e.status_and_code();
    if let AppError::Internal(err) = &e {
        tracing::error!(error = %format!("{err:#}"), "internal error");
    }
    let (message, color, cache) = match status {
        StatusCode::NOT_FOUND => ("not found", RED, MISSING_CACHE),
        _ => ("unavailable", GREY, "no-store"),
    };
    let mut r = answer(CachePolicy::Browser(cache), status, SVG, Badge::new(label, message, color).render());
    if let Some(secs) = e.retry_after() {
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    r
}
