//! Query-string parameters shared by pages and the API. Every list, page or API, reads where
//! it starts and how long it is through one extractor, [`Paging`]; the API's numbers and texts
//! are read exactly as its OpenAPI document states them, so that a request the document allows
//! is never refused and one it forbids is never answered: a number is ASCII digits without
//! sign or leading zero, within its range; a present but empty value is not "absent".

use std::collections::HashMap;
use std::ops::RangeInclusive;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::response::Response;
use nodules_store::model::DepKind;

use crate::error::{AppError, answer};

/// Where a list answer starts and how long it is: `?page=`, `?limit=`, `?offset=` and
/// `?cursor=`, as sent. Each list reads the ones it documents, through the methods below,
/// so every list applies the same rules.
#[derive(Debug, Clone, Default)]
pub struct Paging {
    page: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
    cursor: Option<String>,
}

impl Paging {
    fn from_uri(uri: &axum::http::Uri) -> Paging {
        let mut q = Query::<HashMap<String, String>>::try_from_uri(uri).map(|q| q.0).unwrap_or_default();
        Paging {
            page: q.remove("page"),
            limit: q.remove("limit"),
            offset: q.remove("offset"),
            cursor: q.remove("cursor"),
        }
    }

    /// A page's `?page=N` (a form may send it empty): see [`page_number`].
    pub fn page_number(&self, max: Option<u64>) -> Result<u64, AppError> {
        page_number(self.page.as_deref(), max)
    }

    /// The API's `?page=N`, from 1 to `max`; 1 when absent.
    pub fn api_page(&self, max: u64) -> Result<u64, AppError> {
        Ok(number("page", self.page.as_deref(), 1..=max)?.unwrap_or(1))
    }

    /// The API's `?limit=N`, from 1 to `max`; `default` when absent.
    pub fn limit(&self, default: usize, max: usize) -> Result<usize, AppError> {
        Ok(number("limit", self.limit.as_deref(), 1..=max as u64)?.map_or(default, |n| n as usize))
    }

    /// The API's `?offset=N`, from 0 to `max`; 0 when absent.
    pub fn offset(&self, max: usize) -> Result<usize, AppError> {
        Ok(number("offset", self.offset.as_deref(), 0..=max as u64)?.map_or(0, |n| n as usize))
    }

    /// The API's `?cursor=…` as sent: its format belongs to the list that issued it.
    pub fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Paging {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Paging::from_uri(&parts.uri))
    }
}

/// `?page=N` of a page's list, validated before the handler runs: 1 when absent or empty,
/// else a number from 1 to `MAX` (no limit when `MAX` is 0); anything else is a 400 naming
/// the range, as a page or as JSON by where the list is.
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
        let max = (MAX > 0).then_some(MAX);
        Paging::from_uri(&parts.uri).page_number(max).map(Page).map_err(|e| answer(parts.uri.path(), e))
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

/// `?name=N` as a whole number in `range`, or `None` when absent.
pub fn number(name: &'static str, raw: Option<&str>, range: RangeInclusive<u64>) -> Result<Option<u64>, AppError> {
    let Some(v) = raw else { return Ok(None) };
    let digits = !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) && (v == "0" || !v.starts_with('0'));
    match v.parse::<u64>() {
        Ok(n) if digits && range.contains(&n) => Ok(Some(n)),
        _ => Err(AppError::InvalidParam {
            name,
            value: v.to_string(),
            expected: format!("a number from {} to {}", range.start(), range.end()),
        }),
    }
}

/// `?name=…` at most `max_chars` characters long, or `None` when absent.
pub fn text<'a>(name: &'static str, raw: Option<&'a str>, max_chars: usize) -> Result<Option<&'a str>, AppError> {
    match raw {
        Some(v) if v.chars().count() > max_chars => Err(AppError::InvalidParam {
            name,
            value: v.chars().take(40).collect::<String>() + "…",
            expected: format!("at most {max_chars} characters"),
        }),
        _ => Ok(raw),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_the_schema_says() {
        assert_eq!(number("limit", None, 1..=200).ok(), Some(None));
        assert_eq!(number("limit", Some("1"), 1..=200).ok(), Some(Some(1)));
        assert_eq!(number("limit", Some("200"), 1..=200).ok(), Some(Some(200)));
        assert_eq!(number("offset", Some("0"), 0..=10).ok(), Some(Some(0)));
        for bad in ["", "0", "201", "+5", "05", "-1", "1.0", "1e2", " 5", "x", "99999999999999999999999"] {
            let e = number("limit", Some(bad), 1..=200).expect_err(bad).to_string();
            assert!(e.contains("from 1 to 200"), "{e}");
        }
    }

    #[test]
    fn text_by_characters() {
        assert_eq!(text("q", Some("ééé"), 3).ok(), Some(Some("ééé")));
        assert!(text("q", Some("éééé"), 3).is_err());
        assert_eq!(text("q", None, 3).ok(), Some(None));
    }

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
