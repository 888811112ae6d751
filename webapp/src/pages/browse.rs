//! The home page and browse lists (`/keyword/{k}`, `/author/{name}`, `/browse/recent`,
//! `/browse/depended`): pages of lists walked in index order, never a scan or a sort.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use nodules_store::read::{BrowseList, ListItem};
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
    page: ListPageNumber,
) -> Result<Response, PageError> {
    let title = format!("Packages with the keyword “{k}”");
    let base = format!("/keyword/{}", crate::format::urlpart(k.clone()));
    list(app, BrowseList::Keyword(k), title, base, None, page).await
}

pub async fn author(
    State(app): State<AppState>,
    Path(n): Path<String>,
    page: ListPageNumber,
) -> Result<Response, PageError> {
    let title = format!("Packages by {n}");
    let intro = Some("Packages whose author or a maintainer has this name, most depended upon first.".to_string());
    let base = format!("/author/{}", crate::format::urlpart(n.clone()));
    list(app, BrowseList::Person(n), title, base, intro, page).await
}

pub async fn recent(State(app): State<AppState>, page: ListPageNumber) -> Result<Response, PageError> {
    list(app, BrowseList::Recent, "Recently updated".into(), "/browse/recent".into(), None, page).await
}

pub async fn depended(State(app): State<AppState>, page: ListPageNumber) -> Result<Response, PageError> {
    let intro = Some("Ranked by the number of packages whose latest version depends on them.".to_string());
    list(app, BrowseList::MostDepended, "Most depended upon".into(), "/browse/depended".into(), intro, page).await
}

async fn list(
    app: AppState,
    list: BrowseList,
    heading: String,
    base: String,
    intro: Option<String>,
    Page(page): ListPageNumber,
) -> Result<Response, PageError> {
    let all = app.store().browse(&list).await?;
    let start = ((page - 1) * PER_PAGE as u64) as usize;
    let items: Vec<ListItem> = all.iter().skip(start).take(PER_PAGE as usize).cloned().collect();
    let has_next = all.len() > start + items.len() && page < MAX_PAGE;
    // an unknown keyword or person is a 404 (not an empty 200 that search engines keep)
    let named = matches!(list, BrowseList::Keyword(_) | BrowseList::Person(_));
    if items.is_empty() && (page > 1 || named) {
        return Err(PageError(AppError::NotFound));
    }
    let view = ListPage { title: format!("{heading} – Nodules"), heading, intro, items, page, has_next, base };
    let html = app.render("pages/list.html", minijinja::context! { page => crate::state::val(&view) })?;
    Ok(answer(CachePolicy::Global(None), StatusCode::OK, HTML, html))
}
