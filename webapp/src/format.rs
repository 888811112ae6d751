//! Display helpers for templates: sizes, dates, counts, URL parts. Pure.

use chrono::{DateTime, Utc};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// `1536` → `1.5 kB`.
/// A stored time as RFC 3339 (what templates and the API show), `None` when absent.
pub fn rfc3339(t: Option<mongodb::bson::DateTime>) -> Option<String> {
    t.and_then(|t| t.try_to_rfc3339_string().ok())
}

pub fn filesize(n: i64) -> String {
    let n = n.max(0) as f64;
    match n {
        n if n < 1000.0 => format!("{n} B"),
        n if n < 1e6 => format!("{:.1} kB", n / 1e3),
        n if n < 1e9 => format!("{:.1} MB", n / 1e6),
        n => format!("{:.1} GB", n / 1e9),
    }
}

/// `12345` → `12,345`.
/// `n` things, with thousands separators and the noun in the plural unless `n` is 1:
/// `1 dependent`, `2,345 dependents` (the `count` filter).
pub fn count(n: i64, noun: &str) -> String {
    if n == 1 {
        return format!("1 {noun}");
    }
    // "dependency" → "dependencies" (a consonant before the y)
    let b = noun.as_bytes();
    let consonant_y = b.len() >= 2 && b[b.len() - 1] == b'y' && !b"aeiou".contains(&b[b.len() - 2]);
    match noun.strip_suffix('y') {
        Some(stem) if consonant_y => format!("{} {stem}ies", thousands(n)),
        _ => format!("{} {noun}s", thousands(n)),
    }
}

pub fn thousands(n: i64) -> String {
    let s = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

fn parse(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|d| d.with_timezone(&Utc))
}

/// RFC 3339 → `2024-12-13`.
pub fn date(s: Option<String>) -> String {
    s.as_deref().and_then(parse).map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default()
}

/// RFC 3339 → `3 days ago` (coarse: cached pages live an hour at most).
pub fn reltime(s: Option<String>) -> String {
    let Some(t) = s.as_deref().and_then(parse) else { return String::new() };
    let secs = (Utc::now() - t).num_seconds();
    if secs < 0 {
        return "in the future".into();
    }
    let (n, unit) = match secs {
        s if s < 3600 => return "within the hour".into(),
        s if s < 86_400 => (s / 3600, "hour"),
        s if s < 86_400 * 31 => (s / 86_400, "day"),
        s if s < 86_400 * 365 => (s / (86_400 * 30), "month"),
        s => (s / (86_400 * 365), "year"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

/// What a URL part keeps raw: letters, digits, `-`, `_`, `.`, `~` and `@` (scoped names).
const URL_PART: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'@');

/// Percent-encodes a path segment (a keyword or an author name in a URL).
pub fn urlpart(s: String) -> String {
    utf8_percent_encode(&s, URL_PART).to_string()
}

/// `s` cut to at most `max` characters, with `…` when cut.
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(filesize(999), "999 B");
        assert_eq!(count(2, "dependency"), "2 dependencies");
        assert_eq!(count(1, "dependency"), "1 dependency");
        assert_eq!(count(3, "day"), "3 days");
        assert_eq!(filesize(1536), "1.5 kB");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(12), "12");
        assert_eq!(date(Some("2024-12-13T04:59:25.321Z".into())), "2024-12-13");
        assert_eq!(urlpart("a b/c".into()), "a%20b%2Fc");
    }
}
