//! Query-string parameters shared by pages and the API.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::response::Response;
use nodules_store::model::DepKind;

use crate::error::{AppError, answer};

/// `?page=N` of a list, validated before the handler runs: 1 when absent or empty, else a
/// number from 1 to `MAX` (no limit when `MAX` is 0); anything else is a 400 naming the range,
/// as a page or as JSON by where the list is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page<const MAX: u64 = 0>(pub u64);

impl<const MAX: u64> Page<MAX> {
    /// The page as an `i64` (a stored page number); beyond `i64` no page exists anyway.
    pub fn as_i64(self) -> i64 {
        i64::try_from(self.0).unwrap_or(i64::MAX)
    }
}

impl<S: Send + Sync, const MAX: u64> FromRequestParts<S> for Page<MAX> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let q = Query::<HashMap<String, String>>::try_from_uri(&parts.uri).map(|q| q.0).unwrap_or_default();
        let max = (MAX > 0).then_some(MAX);
        page_number(q.get("page").map(String::as_str), max).map(Page).map_err(|e| answer(parts.uri.path(), e))
    }
}

/// `?kind=prod|dev`: `prod` when absent or empty.
pub fn dep_kind(raw: Option<&str>) -> Result<DepKind, AppError> {
    match raw {
        None | Some("") => Ok(DepKind::Prod),
        Some(k) => k.parse().map_err(|_| AppError::InvalidParam {
            name: "kind",
            value: k.to_string(),
            expected: "`prod` or `dev`".to_string(),
        }),
    }
}

/// `?page=N`: 1 when absent or empty; a 400 naming the accepted range otherwise, when it is
/// not a number from 1 (to `max`, when there is one).
pub fn page_number(raw: Option<&str>, max: Option<u64>) -> Result<u64, AppError> {
    let Some(p) = raw.filter(|p| !p.is_empty()) else { return Ok(1) };
    p.parse::<u64>().ok().filter(|n| *n >= 1 && max.is_none_or(|m| *n <= m)).ok_or_else(|| {
        let range = max.map_or("from 1".to_string(), |m| format!("from 1 to {m}"));
        AppError::InvalidParam { name: "page", value: p.to_string(), expected: format!("a number {range}") }
    })
}

#[cfg(test)]
mod tests {
    use super::page_number;

    #[test]
    fn pages_from_one_within_the_limit() {
        assert_eq!(page_number(None, None).ok(), Some(1));
        assert_eq!(page_number(Some(""), Some(5)).ok(), Some(1));
        assert_eq!(page_number(Some("5"), Some(5)).ok(), Some(5));
        assert_eq!(page_number(Some("99999"), None).ok(), Some(99999));
        for bad in ["0", "6", "-1", "x"] {
            let e = page_number(Some(bad), Some(5)).expect_err(bad).to_string();
            assert!(e.contains("from 1 to 5") && e.contains(bad), "{e}");
        }
        assert!(page_number(Some("0"), None).expect_err("0").to_string().contains("from 1, not `0`"));
    }
}
