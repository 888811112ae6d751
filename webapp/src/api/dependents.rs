//! `GET /api/v1/packages/{name}/dependents?kind=prod|dev&cursor=…&limit=…`: a list read
//! from the precomputed pages; each answer costs a few key lookups whatever its position.

use nodules_store::model::DEPENDENTS_PAGE_SIZE;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::AppError;
use crate::params::{Paging, number};
use crate::state::AppState;

const MAX_LIMIT: usize = 200;

/// The largest page a cursor names: 18 digits, within `i64`.
const MAX_CURSOR_PAGE: u64 = 999_999_999_999_999_999;

/// The query parameters, for the OpenAPI document (read through [`Paging`]).
#[derive(Debug, Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DependentsParams {
    /// `prod` (default) or `dev`.
    #[param(value_type = Option<String>, pattern = "^(prod|dev)$")]
    pub kind: Option<String>,
    /// From the previous answer's `next_cursor` (`p<page>.<offset>`, offset below 200).
    #[param(value_type = Option<String>, pattern = r"^p[1-9][0-9]{0,17}\.(0|[1-9][0-9]?|1[0-9]{2})$")]
    pub cursor: Option<String>,
    /// Items per answer, 1 to 200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
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

/// `p<page>.<offset>`: where the next answer starts (digits as the schema's pattern says).
fn parse_cursor(c: Option<&str>) -> Result<(i64, usize), AppError> {
    let Some(c) = c else { return Ok((1, 0)) };
    let bad = || AppError::InvalidParam {
        name: "cursor",
        value: c.to_string(),
        expected: "a `next_cursor` of this API".to_string(),
    };
    let (page, offset) = c.strip_prefix('p').and_then(|r| r.split_once('.')).ok_or_else(bad)?;
    let page = number("page", Some(page), 1..=MAX_CURSOR_PAGE).map_err(|_| bad())?.ok_or_else(bad)?;
    let max_offset = (DEPENDENTS_PAGE_SIZE * 4 - 1) as u64;
    let offset = number("offset", Some(offset), 0..=max_offset).map_err(|_| bad())?.ok_or_else(bad)?;
    Ok((page as i64, offset as usize))
}

/// A package's dependents of one kind, most popular first (as of `ranked_at`).
#[utoipa::path(
    get,
    path = crate::routes::API_DEPENDENTS,
    params(("name" = String, Path, min_length = 1, max_length = 214, pattern = r"^(?:@[^\s/@]+/)?[^\s/@._][^\s/@]*$", description = "Package name; scoped as `@scope/name` (the `/` may be sent as `%2F`)"), DependentsParams),
    responses(
        (status = 200, description = "A slice of the list", body = DependentsJson),
        (status = 400, description = "Bad kind, cursor or limit", body = crate::error::ErrorBody),
        (status = 404, description = "Unknown package", body = crate::error::ErrorBody),
    )
)]
pub async fn list_dependents(
    app: &AppState,
    name: &str,
    kind: Option<&str>,
    paging: &Paging,
) -> Result<DependentsJson, AppError> {
    if kind == Some("") {
        return Err(AppError::InvalidParam { name: "kind", value: String::new(), expected: "`prod` or `dev`".into() });
    }
    let kind = crate::params::dep_kind(kind)?;
    let limit = paging.limit(DEPENDENTS_PAGE_SIZE, MAX_LIMIT)?;
    let (mut page, mut offset) = parse_cursor(paging.cursor())?;
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
        assert_eq!(parse_cursor(Some("p1.199")).expect("ok"), (1, 199));
        for bad in ["", "p1.200", "p01.1", "p+1.1", "p1.01", "p1.", "p.1", "p1000000000000000000.0"] {
            assert!(parse_cursor(Some(bad)).is_err(), "{bad}");
        }
    }
}
