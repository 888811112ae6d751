//! Query-string parameters shared by pages and the API.

use crate::error::AppError;

/// `?page=N`: 1 when absent or empty; a 400 naming the accepted range otherwise, when it is
/// not a number from 1 (to `max`, when there is one).
pub fn page_number(raw: Option<&str>, max: Option<u64>) -> Result<u64, AppError> {
    let Some(p) = raw.filter(|p| !p.is_empty()) else { return Ok(1) };
    p.parse::<u64>().ok().filter(|n| *n >= 1 && max.is_none_or(|m| *n <= m)).ok_or_else(|| {
        let range = max.map_or("from 1".to_string(), |m| format!("from 1 to {m}"));
        AppError::BadRequest(format!("page must be a number {range}, not `{p}`"))
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
