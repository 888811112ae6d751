//! Which packages a compare URL names: 2 to 4 npm package names, comma separated, read the
//! same way from `/compare/{a},{b}` and from `/api/v1/compare?packages=a,b`. The OpenAPI
//! document states the accepted form as a pattern ([`pattern`]); [`well_formed`] is that
//! pattern in code, so a value the document allows is never refused and one it forbids is
//! never answered.

use nodules_npm::names::valid_name;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Fewest and most packages one comparison shows.
pub const MIN: usize = 2;
pub const MAX: usize = 4;
/// Longest name npm accepts (in bytes).
const NAME_MAX: usize = 214;
/// Longest `?packages=` value (in characters): four longest names and three commas.
pub const MAX_CHARS: usize = MAX * NAME_MAX + MAX - 1;

/// Why a list of names cannot be compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NamesError {
    /// Fewer than [`MIN`] or more than [`MAX`] names (after dropping repeats).
    #[error("compare takes 2 to 4 different packages, not {0}")]
    Count(usize),
    /// Not of a package name's form (the documented pattern): empty, a forbidden
    /// character, a misplaced `/` or `@`.
    #[error("`{0}` is not a package name")]
    Malformed(String),
    /// Of the form but still not a name npm accepts (over 214 bytes).
    #[error("`{0}` is not a valid package name")]
    Invalid(String),
}

/// Characters no package name holds (`valid_name` refuses them), and the separator.
fn forbidden(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(c, '\\' | '"' | '<' | '>' | '|' | '%' | ':' | '?' | '#' | '{' | '}' | '^' | '`' | '[' | ']' | ',')
}

/// The [`forbidden`] characters as the inside of a regular expression's character class:
/// controls and white space (as Rust's `char::is_control` and `char::is_whitespace` see
/// them), npm's forbidden punctuation, the comma.
const FORBIDDEN_CLASS: &str =
    "\\u0000-\\u0020\\u007f-\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\\\\"<>|%:?#{}^`\\[\\],";

/// The documented form of `?packages=`: 2 to 4 names of [`well_formed`] form, comma separated.
pub fn pattern() -> String {
    let c = FORBIDDEN_CLASS;
    let name = format!("(?:@[^{c}/]+/[^{c}/@.][^{c}/@]*|[^{c}/@._][^{c}/@]*)");
    format!("^{name}(?:,{name}){{{},{}}}$", MIN - 1, MAX - 1)
}

/// Whether `item` has a package name's form: everything `valid_name` checks but the length.
pub fn well_formed(item: &str) -> bool {
    if item.chars().any(forbidden) {
        return false;
    }
    match item.strip_prefix('@') {
        Some(scoped) => match scoped.split_once('/') {
            Some((scope, rest)) => {
                !scope.is_empty() && !rest.is_empty() && !rest.starts_with('.') && !rest.contains(['/', '@'])
            }
            None => false,
        },
        None => !item.is_empty() && !item.starts_with(['.', '_']) && !item.contains(['/', '@']),
    }
}

/// The names of `raw` (`a,b,@s/c`, already percent-decoded), repeats dropped, in order.
pub fn parse(raw: &str) -> Result<Vec<String>, NamesError> {
    let items: Vec<&str> = raw.split(',').collect();
    if items.len() > MAX {
        return Err(NamesError::Count(items.len()));
    }
    if let Some(bad) = items.iter().find(|i| !well_formed(i)) {
        return Err(NamesError::Malformed(bad.to_string()));
    }
    if items.len() < MIN {
        return Err(NamesError::Count(items.len()));
    }
    if let Some(bad) = items.iter().find(|i| !valid_name(i)) {
        return Err(NamesError::Invalid(bad.to_string()));
    }
    let mut names: Vec<String> = Vec::with_capacity(items.len());
    for i in items {
        if !names.iter().any(|n| n == i) {
            names.push(i.to_string());
        }
    }
    Ok(names)
}

/// The names a form sent (`?packages=a&packages=b`, or `a, b` typed in one field): split at
/// commas, trimmed, empty ones and repeats dropped, in order. Not validated.
pub fn from_form<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for n in values.into_iter().flat_map(|v| v.split(',')).map(str::trim).filter(|n| !n.is_empty()) {
        if !names.iter().any(|m| m == n) {
            names.push(n.to_string());
        }
    }
    names
}

/// What a compare path keeps raw: unreserved characters, `@` and `/` (scoped names), `,`.
const PATH_PART: &AsciiSet =
    &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'@').remove(b'/').remove(b',');

/// The canonical path of a comparison: `/compare/a,@s/b`.
pub fn page_path(names: &[String]) -> String {
    format!("/compare/{}", utf8_percent_encode(&names.join(","), PATH_PART))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_to_four_names_repeats_dropped() {
        assert_eq!(parse("a,@s/b").ok(), Some(vec!["a".to_string(), "@s/b".to_string()]));
        assert_eq!(parse("a,b,c,d").map(|n| n.len()).ok(), Some(4));
        assert_eq!(parse("a,a").ok(), Some(vec!["a".to_string()]), "the API answers one column; the page refuses");
        assert_eq!(parse("a"), Err(NamesError::Count(1)));
        assert_eq!(parse("a,b,c,d,e"), Err(NamesError::Count(5)));
        assert_eq!(parse("a,,b"), Err(NamesError::Malformed(String::new())));
        assert_eq!(parse("a,b c"), Err(NamesError::Malformed("b c".into())));
        assert_eq!(parse("a,.b"), Err(NamesError::Malformed(".b".into())));
        assert_eq!(parse("a,@s"), Err(NamesError::Malformed("@s".into())));
        assert_eq!(parse("a,@s/.b"), Err(NamesError::Malformed("@s/.b".into())));
        assert_eq!(parse("a,b/c"), Err(NamesError::Malformed("b/c".into())));
        let long = "x".repeat(215);
        assert_eq!(parse(&format!("a,{long}")), Err(NamesError::Invalid(long)));
        assert_eq!(parse(""), Err(NamesError::Malformed(String::new())));
    }

    #[test]
    fn well_formed_is_valid_name_but_the_length() {
        for n in ["a", "@s/b", "@a@b/c", "a.b_c-d~e!f'g(h)i*j", "é", "@s/_b", "A"] {
            assert!(well_formed(n) && valid_name(n), "{n}");
        }
        for n in
            ["", ".a", "_a", "@a", "@/a", "@s/", "a/b", "a@b", "@s/b@c", "@s/b/c", "a b", "a\u{a0}", "a\u{85}", "a,b"]
        {
            assert!(!well_formed(n), "{n:?}");
        }
        for c in
            ['\\', '"', '<', '>', '|', '%', ':', '?', '#', '{', '}', '^', '`', '[', ']', '\u{0}', '\u{7f}', '\u{3000}']
        {
            assert!(!well_formed(&format!("a{c}")) && !valid_name(&format!("a{c}")), "{c:?}");
        }
    }

    /// The documented pattern accepts exactly what [`parse`] takes but for the length: every
    /// pair of sample items, every sample as a whole list.
    #[test]
    fn the_pattern_is_the_parser() {
        let re = regex::Regex::new(&pattern()).expect("the pattern compiles");
        let samples = [
            "a",
            "@s/b",
            "@a@b/c",
            "é",
            "@s/_b",
            "A-1.b~c!d'e(f)g*h",
            "",
            ".a",
            "_a",
            "@a",
            "@/a",
            "@s/",
            "@s/.b",
            "a/b",
            "a@b",
            "@s/b@c",
            "@s/b/c",
            "a b",
            "a\u{a0}",
            "a\u{85}",
            "a\u{2028}",
            "a\u{3000}",
            "a\u{1f}",
            "a\u{7f}",
            "a\u{9f}",
            "a\\",
            "a\"",
            "a<",
            "a>",
            "a|",
            "a%",
            "a:",
            "a?",
            "a#",
            "a{",
            "a}",
            "a^",
            "a`",
            "a[",
            "a]",
            "a\u{200b}",
            "a\u{180e}",
            "a+b",
            "a$b",
            "a=b",
            "a;b",
            "a&b",
        ];
        for x in samples {
            for y in samples {
                for list in [format!("{x},{y}"), format!("{x},{y},{x}1,{y}2"), x.to_string(), format!("{x},{y},a,b,c")]
                {
                    let parsed = match parse(&list) {
                        Ok(_) | Err(NamesError::Invalid(_)) => true,
                        Err(_) => false,
                    };
                    assert_eq!(re.is_match(&list), parsed, "{list:?}");
                }
            }
        }
    }

    #[test]
    fn forms_and_paths() {
        assert_eq!(from_form(["a", " b , a", "", "@s/c"]), vec!["a", "b", "@s/c"]);
        assert_eq!(page_path(&["a".into(), "@s/b".into(), "c+d".into(), "é".into()]), "/compare/a,@s/b,c%2Bd,%C3%A9");
    }
}
