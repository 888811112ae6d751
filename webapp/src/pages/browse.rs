//! The home page and browse lists (`/keyword/{k}`, `/author/{name}`, `/browse/recent`,
//! `/browse/depended`, `/browse/active`, `/browse/starred`): pages of precomputed lists or
//! of indexed filters, never a sorted query. Keyword and person lists take `?sort=`
//! (`dependents`, `stars`, `activity`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use std::collections::HashMap;

use axum::extract::Query;
use nodules_store::read::{BrowseList, ListItem, ListSort};
use serde::Serialize;

use crate::error::{AppError, PageError};
use crate::params::Page;
use crate::respond::{CachePolicy, HTML, answer};
use crate::state::AppState;

const PER_PAGE: i64 = 25;
/// Lists hold at most 1,000 entries: 40 pages.
const MAX_PAGE: u64 = 40;

type ListPageNumber = Page<MAX_PAGE>;

#[derive(Serialize)]
struct ListPage {
    title: String,
    heading: String,
    intro: Option<String>,
    items: Vec<ListItem>,
    page: u64,
    has_next: bool,
    base: String,
    /// The sort links of a keyword or person list: (label, URL, current).
    sorts: Vec<(&'static str, String, bool)>,
    /// The separator before `page=` in `base` (`?` or `&`).
    sep: &'static str,
    /// The list's Atom feed, when it has one.
    feed: Option<String>,
}

/// `?sort=` of a keyword or person list (anything else: by dependents).
fn sort_of(q: &HashMap<String, String>) -> ListSort {
    match q.get("sort").map(String::as_str) {
        Some("stars") => ListSort::Stars,
        Some("activity") => ListSort::Activity,
        _ => ListSort::Dependents,
    }
}

/// The three orders of a list at `base`, `current` marked.
fn sort_links(base: &str, current: ListSort) -> Vec<(&'static str, String, bool)> {
    [
        ("Most depended upon", base.to_string(), ListSort::Dependents),
        ("Most stars", format!("{base}?sort=stars"), ListSort::Stars),
        ("Most active", format!("{base}?sort=activity"), ListSort::Activity),
    ]
    .into_iter()
    .map(|(label, url, sort)| (label, url, sort == current))
    .collect()
}

pub async fn home(State(app): State<AppState>) -> Result<Response, PageError> {
    let store = app.store();
    let mut recent = store.browse(&BrowseList::Recent).await?;
    recent.truncate(10);
    let mut depended = store.browse(&BrowseList::MostDepended).await?;
    depended.truncate(10);
    let html = app.render(
        "pages/home.html",
        minijinja::context! { recent => crate::state::val(&recent), depended => crate::state::val(&depended) },
    )?;
    Ok(answer(CachePolicy::Global(None), StatusCode::OK, HTML, html))
}

pub async fn keyword(
    State(app): State<AppState>,
    Path(k): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    page: ListPageNumber,
) -> Result<Response, PageError> {
    let title = format!("Packages with the keyword “{k}”");
    let base = format!("/keyword/{}", crate::format::urlpart(k.clone()));
    list(app, BrowseList::Keyword(k), title, base, None, sort_of(&q), page).await
}

pub async fn author(
    State(app): State<AppState>,
    Path(n): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    page: ListPageNumber,
) -> Result<Response, PageError> {
    let title = format!("Packages by {n}");
    let intro = Some("Packages whose author or a maintainer has this name.".to_string());
    let base = format!("/author/{}", crate::format::urlpart(n.clone()));
    list(app, BrowseList::Person(n), title, base, intro, sort_of(&q), page).await
}

pub async fn recent(State(app): State<AppState>, page: ListPageNumber) -> Result<Response, PageError> {
    let d = ListSort::Dependents;
    list(app, BrowseList::Recent, "Recently updated".into(), "/browse/recent".into(), None, d, page).await
}

pub async fn depended(State(app): State<AppState>, page: ListPageNumber) -> Result<Response, PageError> {
    let intro = Some("Ranked by the number of packages whose latest version depends on them.".to_string());
    let d = ListSort::Dependents;
    list(app, BrowseList::MostDepended, "Most depended upon".into(), "/browse/depended".into(), intro, d, page).await
}

pub async fn active(State(app): State<AppState>, page: ListPageNumber) -> Result<Response, PageError> {
    let intro = Some(
        "Ranked by commits to their GitHub repository in the last 12 weeks; one package per repository \
         (its most depended-upon), so a monorepo appears once."
            .to_string(),
    );
    let d = ListSort::Dependents;
    list(app, BrowseList::MostActive, "Most active on GitHub".into(), "/browse/active".into(), intro, d, page).await
}

pub async fn starred(State(app): State<AppState>, page: ListPageNumber) -> Result<Response, PageError> {
    let intro = Some(
        "Ranked by the stars of their GitHub repository; one package per repository (its most depended-upon)."
            .to_string(),
    );
    let d = ListSort::Dependents;
    list(app, BrowseList::MostStarred, "Most starred on GitHub".into(), "/browse/starred".into(), intro, d, page).await
}

async fn list(
    app: AppState,
    list: BrowseList,
    heading: String,
    base: String,
    intro: Option<String>,
    sort: ListSort,
    Page(page): ListPageNumber,
) -> Result<Response, PageError> {
    let all = app.store().browse_sorted(&list, sort).await?;
    let start = ((page - 1) * PER_PAGE as u64) as usize;
    let items: Vec<ListItem> = all.iter().skip(start).take(PER_PAGE as usize).cloned().collect();
    let has_next = all.len() > start + items.len() && page < MAX_PAGE;
    // an unknown keyword or person is a 404 (not an empty 200 that search engines keep)
    let named = matches!(list, BrowseList::Keyword(_) | BrowseList::Person(_));
    if items.is_empty() && (page > 1 || named) {
        return Err(PageError(AppError::NotFound));
    }
    let sorts = if named { sort_links(&base, sort) } else { Vec::new() };
    let feed = match list {
        BrowseList::Keyword(_) | BrowseList::Person(_) => Some(format!("{base}/feed.atom")),
        BrowseList::Recent => Some("/feeds/recent.atom".to_string()),
        _ => None,
    };
    let (base, sep) = match sort {
        ListSort::Dependents => (base, "?"),
        ListSort::Stars => (format!("{base}?sort=stars"), "&"),
        ListSort::Activity => (format!("{base}?sort=activity"), "&"),
    };
    let view = ListPage {
        title: format!("{heading} – Nodules"),
        heading,
        intro,
        items,
        page,
        has_next,
        base,
        sorts,
        sep,
        feed,
    };
    let html = app.render("pages/list.html", minijinja::context! { page => crate::state::val(&view) })?;
    Ok(answer(CachePolicy::Global(None), StatusCode::OK, HTML, html))
}
