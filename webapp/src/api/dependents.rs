//! `GET /api/v1/packages/{name}/dependents?kind=prod|dev&cursor=…&limit=…`: a list read
//! from the precomputed pages; each answer costs a few key lookups whatever its position.

use nodules_store::model::DEPENDENTS_PAGE_SIZE;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::AppError;
use crate::state::AppState;

const MAX_LIMIT: usize = 200;

#[derive(Debug, Deserialize, Default, IntoParams)]
pub struct DependentsParams {
    /// `prod` (default) or `dev`.
    pub kind: Option<String>,
    /// From the previous answer's `next_cursor`.
    pub cursor: Option<String>,
    /// Items per answer, 1 to 200 (default 50).
    pub limit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DependentsJson {
    pub name: String,
    pub kind: String,
    pub total: i64,
    /// When the order was last refreshed (RFC 3339), or null.
    pub ranked_at: Option<String>,
    pub items: Vec<DependentJson>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DependentJson {
    pub name: String,
    pub version: Option<String>,
    pub dependents_count: i64,
}

/// `p<page>.<offset>`: where the next answer starts.
fn parse_cursor(c: Option<&str>) -> Result<(i64, usize), AppError> {
    let Some(c) = c.filter(|c| !c.is_empty()) else { return Ok((1, 0)) };
    let bad = || AppError::InvalidParam {
        name: "cursor",
        value: c.to_string(),
        expected: "a `next_cursor` of this API".to_string(),
    };
    let (page, offset) = c.strip_prefix('p').and_then(|r| r.split_once('.')).ok_or_else(bad)?;
    let page: i64 = page.parse().map_err(|_| bad())?;
    let offset: usize = offset.parse().map_err(|_| bad())?;
    if page < 1 || offset >= DEPENDENTS_PAGE_SIZE * 4 {
        return Err(bad());
    }
    Ok((page, offset))
}

/// A package's dependents of one kind, most popular first (as of `ranked_at`).
#[utoipa::path(
    get,
    path = crate::routes::API_DEPENDENTS,
    params(("name" = String, Path, description = "Package name"), DependentsParams),
    responses(
        (status = 200, description = "A slice of the list", body = DependentsJson),
        (status = 400, description = "Bad kind, cursor or limit", body = crate::error::ErrorBody),
        (status = 404, description = "Unknown package", body = crate::error::ErrorBody),
    )
)]
pub async fn list_dependents(app: &AppState, name: &str, q: DependentsParams) -> Result<DependentsJson, AppError> {
    let kind = crate::params::dep_kind(q.kind.as_deref())?;
    let limit: usize = match q.limit.as_deref() {
        None | Some("") => DEPENDENTS_PAGE_SIZE,
        Some(l) => l.parse().ok().filter(|l| (1..=MAX_LIMIT).contains(l)).ok_or_else(|| AppError::InvalidParam {
            name: "limit",
            value: l.to_string(),
            expected: format!("from 1 to {MAX_LIMIT}"),
        })?,
    };
    let (mut page, mut offset) = parse_cursor(q.cursor.as_deref())?;
    let store = app.store();
    let summary = match store.dependents(name).await? {
        Some(s) => s,
        None if store.package(name).await?.is_some() => Default::default(),
        None => return Err(AppError::PackageNotFound { name: name.to_string() }),
    };
    let pages = summary.list(kind).pages;
    let mut items = Vec::with_capacity(limit);
    while items.len() < limit && page <= pages {
        let stored = store.dependents_page(name, kind, page).await?.map(|p| p.items).unwrap_or_default();
        let take: Vec<_> = stored.iter().skip(offset).take(limit - items.len()).cloned().collect();
        offset += take.len();
        items.extend(take.into_iter().map(|i| DependentJson {
            name: i.name,
            version: i.version,
            dependents_count: i.dependents_count,
        }));
        if offset >= stored.len() {
            page += 1;
            offset = 0;
        }
    }
    let next_cursor = (page <= pages).then(|| format!("p{page}.{offset}"));
    Ok(DependentsJson {
        name: name.to_string(),
        kind: kind.as_str().to_string(),
        total: summary.list(kind).count,
        ranked_at: summary.ranked_at.and_then(|t| t.try_to_rfc3339_string().ok()),
        items,
        next_cursor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors() {
        assert_eq!(parse_cursor(None).expect("ok"), (1, 0));
        assert_eq!(parse_cursor(Some("p3.10")).expect("ok"), (3, 10));
        assert!(parse_cursor(Some("p0.1")).is_err());
        assert!(parse_cursor(Some("garbage")).is_err());
    }
}
