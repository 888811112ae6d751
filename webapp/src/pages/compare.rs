//! `/compare/{a},{b}[,{c},{d}]`: 2 to 4 packages side by side, one column each, as a table
//! that needs no JavaScript; and `/compare`, the form that picks them (the search results'
//! checkboxes send `?packages=a&packages=b`, a typed list `?packages=a, b`), which redirects
//! to the comparison's own URL. A list that cannot be compared is a 400 with the form again
//! and what was wrong; packages not indexed are columns that say so, and when none is,
//! the page is a 404.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Serialize;

use super::github::{Graph, graph};
use crate::compare::names::{MAX_CHARS, NamesError, from_form};
use crate::compare::{CompareJson, ComparedJson, compare, page_path, parse};
use crate::error::PageError;
use crate::metrics::RouteTemplate;
use crate::respond::{CachePolicy, HTML, answer};
use crate::routes::PAGE_COMPARE;
use crate::state::{AppState, val};

/// What `pages/compare.html` shows: the table, or the form.
#[derive(Debug, Serialize)]
pub struct ComparePage {
    /// `table` or `form`.
    pub mode: &'static str,
    pub title: String,
    pub heading: String,
    pub description: String,
    pub canonical: Option<String>,
    /// Error answers are not for search engines.
    pub noindex: bool,
    /// Why the list asked for cannot be compared.
    pub message: Option<String>,
    /// The form's names, as typed.
    pub input: String,
    pub columns: Vec<Column>,
    pub depends_on: Vec<DependsOnView>,
    /// The same facts as JSON.
    pub api_url: Option<String>,
}

/// One package's column.
#[derive(Debug, Serialize)]
pub struct Column {
    #[serde(flatten)]
    pub facts: ComparedJson,
    /// `shown`, `counting` (GitHub computes the weekly numbers), `not_fetched`,
    /// `gone`, `not_on_github`.
    pub activity: &'static str,
    /// The 52 weeks' commits as bars.
    pub graph: Option<Graph>,
    /// Commits in the last 12 weeks.
    pub recent_commits: Option<i64>,
}

/// "`a` depends on `b` (`^1.0.0`)".
#[derive(Debug, Serialize)]
pub struct DependsOnView {
    pub package: String,
    pub verb: &'static str,
    pub depends_on: String,
    pub range: String,
}

impl ComparePage {
    /// The table of `facts`.
    pub fn table(facts: &CompareJson, base_url: &str) -> ComparePage {
        let names: Vec<String> = facts.packages.iter().map(|p| p.name.clone()).collect();
        let path = page_path(&names);
        let api = format!("/api/v1/compare?packages={}", crate::format::urlpart(names.join(",")));
        ComparePage {
            mode: "table",
            title: format!("{} – Compare – Nodules", names.join(" vs ")),
            heading: names.join(" vs "),
            description: crate::format::clip(
                &format!(
                    "{} side by side: versions, licenses, dependents, install size, types, module system, \
                     install scripts and activity.",
                    names.join(", ")
                ),
                300,
            ),
            canonical: Some(format!("{base_url}{path}")),
            noindex: facts.none_found(),
            message: None,
            input: names.join(", "),
            columns: facts.packages.iter().cloned().map(column).collect(),
            depends_on: facts
                .depends_on
                .iter()
                .map(|d| DependsOnView {
                    package: d.package.clone(),
                    verb: match d.field.as_str() {
                        "peer_dependencies" => "has as a peer dependency",
                        "optional_dependencies" => "optionally depends on",
                        _ => "depends on",
                    },
                    depends_on: d.depends_on.clone(),
                    range: d.range.clone(),
                })
                .collect(),
            api_url: Some(api),
        }
    }

    /// The form, with the names typed so far and why they were refused.
    pub fn form(input: &str, message: Option<String>) -> ComparePage {
        ComparePage {
            mode: "form",
            title: "Compare packages – Nodules".into(),
            heading: "Compare packages".into(),
            description: "Compare 2 to 4 npm packages side by side.".into(),
            canonical: None,
            noindex: message.is_some(),
            message,
            input: crate::format::clip(input, MAX_CHARS),
            columns: Vec::new(),
            depends_on: Vec::new(),
            api_url: None,
        }
    }
}

fn column(facts: ComparedJson) -> Column {
    let weeks = facts.github.as_ref().and_then(|g| g.weekly_commits.as_deref());
    let on_github = facts.repository.as_deref().is_some_and(|u| u.starts_with("https://github.com/"));
    let activity = match &facts.github {
        Some(g) if g.gone.is_some() => "gone",
        Some(_) if weeks.is_some() => "shown",
        Some(_) => "counting",
        None if on_github => "not_fetched",
        None => "not_on_github",
    };
    Column {
        activity,
        graph: weeks.map(graph),
        recent_commits: weeks.map(nodules_store::github::recent_commits),
        facts,
    }
}

/// Why `e` cannot be compared, for the form.
fn refusal(e: &NamesError) -> String {
    match e {
        NamesError::Count(n) if *n < 2 => "Compare needs at least two packages: add another one.".into(),
        NamesError::Count(n) => format!("Compare shows at most 4 packages side by side, not {n}: leave some out."),
        NamesError::Malformed(name) if name.is_empty() => "One of the names is empty: two commas in a row?".into(),
        NamesError::Malformed(name) | NamesError::Invalid(name) => {
            format!("“{}” is not a valid npm package name.", crate::format::clip(name, 100))
        }
    }
}

fn render(app: &AppState, page: &ComparePage, status: StatusCode, policy: CachePolicy) -> Result<Response, PageError> {
    let html = app.render("pages/compare.html", minijinja::context! { page => val(page) })?;
    Ok(answer(policy, status, HTML, html))
}

/// `/compare/{a},{b}[,{c},{d}]`.
pub async fn show_compare(State(app): State<AppState>, Path(raw): Path<String>) -> Response {
    let mut r = compare_page(&app, &raw).await.into_response();
    r.extensions_mut().insert(RouteTemplate(PAGE_COMPARE));
    r
}

async fn compare_page(app: &AppState, raw: &str) -> Result<Response, PageError> {
    let refused = |message: String, input: &str| {
        let page = ComparePage::form(input, Some(message));
        render(app, &page, StatusCode::BAD_REQUEST, CachePolicy::Browser("no-cache"))
    };
    let names = match parse(raw) {
        Ok(names) if names.len() >= 2 => names,
        // the same name twice
        Ok(names) => return refused(format!("“{}” is named twice: compare two different packages.", names[0]), raw),
        Err(e) => return refused(refusal(&e), &raw.replace(',', ", ")),
    };
    let facts = compare(app, &names).await?;
    let status = if facts.none_found() { StatusCode::NOT_FOUND } else { StatusCode::OK };
    let page = ComparePage::table(&facts, &app.config().base_url);
    // about several packages: kept a minute, not until one of them changes
    render(app, &page, status, CachePolicy::Global(None))
}

/// `/compare?packages=a&packages=b` (or `?packages=a,+b`): to `/compare/a,b`; without names,
/// the form (`?with=a` fills in the first).
pub async fn compare_form(State(app): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect();
    let names = from_form(pairs.iter().filter(|(k, _)| k == "packages").map(|(_, v)| v.as_str()));
    let answer = if names.is_empty() {
        let with = pairs.iter().find(|(k, _)| k == "with").map(|(_, v)| v.trim()).unwrap_or_default();
        let input = if with.is_empty() { String::new() } else { format!("{with}, ") };
        render(&app, &ComparePage::form(&input, None), StatusCode::OK, CachePolicy::Browser("no-cache"))
    } else {
        match parse(&names.join(",")) {
            Ok(names) if names.len() >= 2 => Ok(Redirect::to(&page_path(&names)).into_response()),
            Ok(_) => Err(NamesError::Count(1)),
            Err(e) => Err(e),
        }
        .or_else(|e| {
            let page = ComparePage::form(&names.join(", "), Some(refusal(&e)));
            render(&app, &page, StatusCode::BAD_REQUEST, CachePolicy::Browser("no-cache"))
        })
    };
    let mut r = answer.into_response();
    r.extensions_mut().insert(RouteTemplate(crate::routes::PAGE_COMPARE_FORM));
    r
}
