//! The home page and browse lists (`/keyword/{k}`, `/author/{name}`, `/browse/recent`,
//! `/browse/depended`): pages of lists walked in index order, never a scan or a sort.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use nodules_store::read::{BrowseList, ListItem};
use serde::{Deserialize, Serialize};

use crate::cache::Cached;
use crate::error::{AppError, PageError};
use crate::respond::{HTML, PAGE_CACHE, Scope, cached, through_cache};
use crate::state::AppState;

const PER_PAGE: i64 = 25;
/// Lists hold at most 1,000 entries: 40 pages.
const MAX_PAGE: u64 = 40;

#[derive(Debug, Deserialize, Default)]
pub struct PageQuery {
    pub page: Option<String>,
}

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

pub async fn home(State(app): State<AppState>, headers: HeaderMap) -> Result<Response, PageError> {
    through_cache(&app, Scope::Global, "/", &headers, async {
        let store = app.store();
        let mut recent = store.browse(&BrowseList::Recent).await?;
        recent.truncate(10);
        let mut depended = store.browse(&BrowseList::MostDepended).await?;
        depended.truncate(10);
        let html = app.render(
            "pages/home.html",
            minijinja::context! { recent => crate::state::val(&recent), depended => crate::state::val(&depended) },
        )?;
        Ok::<Cached, PageError>(cached(StatusCode::OK, HTML, html, PAGE_CACHE))
    })
    .await
}

pub async fn keyword(
    State(app): State<AppState>,
    Path(k): Path<String>,
    q: Query<PageQuery>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let title = format!("Packages with the keyword “{k}”");
    list(
        app,
        BrowseList::Keyword(k.clone()),
        title,
        format!("/keyword/{}", crate::format::urlpart(k)),
        None,
        q.0,
        uri,
        headers,
    )
    .await
}

pub async fn author(
    State(app): State<AppState>,
    Path(n): Path<String>,
    q: Query<PageQuery>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let title = format!("Packages by {n}");
    let intro = Some("Packages whose author or a maintainer has this name, most depended upon first.".to_string());
    list(
        app,
        BrowseList::Person(n.clone()),
        title,
        format!("/author/{}", crate::format::urlpart(n)),
        intro,
        q.0,
        uri,
        headers,
    )
    .await
}

pub async fn recent(
    State(app): State<AppState>,
    q: Query<PageQuery>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    list(app, BrowseList::Recent, "Recently updated".into(), "/browse/recent".into(), None, q.0, uri, headers).await
}

pub async fn depended(
    State(app): State<AppState>,
    q: Query<PageQuery>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let intro = Some("Ranked by the number of packages whose latest version depends on them.".to_string());
    list(
        app,
        BrowseList::MostDepended,
        "Most depended upon".into(),
        "/browse/depended".into(),
        intro,
        q.0,
        uri,
        headers,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn list(
    app: AppState,
    list: BrowseList,
    heading: String,
    base: String,
    intro: Option<String>,
    q: PageQuery,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let page = crate::params::page_number(q.page.as_deref(), Some(MAX_PAGE))?;
    let request = uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default();
    through_cache(&app, Scope::Global, &request, &headers, async {
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
        Ok(cached(StatusCode::OK, HTML, html, PAGE_CACHE))
    })
    .await
}
