//! The API's query parameters, read exactly as its OpenAPI document states them, so that a
//! request the document allows is never refused and one it forbids is never answered:
//! a number is ASCII digits without sign or leading zero, within its range; a present but
//! empty value is not "absent".

use std::ops::RangeInclusive;

use crate::error::AppError;

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
}
