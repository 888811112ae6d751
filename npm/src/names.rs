//! Package names: what the registry could hold. Checked before any query (a bad name
//! is a 404 page, never a database read) and when following dependencies.

/// A name the registry could hold: `name` or `@scope/name`, at most 214 bytes, no
/// spaces, control characters or URL-breaking characters. Legacy names with capitals or
/// `~'!()*` (validate-npm-package-name's "valid for old packages") pass.
pub fn valid_name(name: &str) -> bool {
    if name.is_empty() || name.len() > 214 || name.starts_with('.') || name.starts_with('_') {
        return false;
    }
    let bad = |c: char| {
        c.is_whitespace()
            || c.is_control()
            || matches!(c, '\\' | '"' | '<' | '>' | '|' | '%' | ':' | '?' | '#' | '{' | '}' | '^' | '`' | '[' | ']')
    };
    if name.chars().any(bad) {
        return false;
    }
    match name.strip_prefix('@') {
        Some(scoped) => match scoped.split_once('/') {
            Some((scope, rest)) => {
                !scope.is_empty()
                    && !rest.is_empty()
                    && !rest.contains('/')
                    && !rest.starts_with('.')
                    && !rest.contains('@')
            }
            None => false,
        },
        None => !name.contains('/') && !name.contains('@'),
    }
}

/// `@scope/name` → (`scope`, `name`); unscoped → (None, name).
pub fn split_scope(name: &str) -> (Option<&str>, &str) {
    match name.strip_prefix('@').and_then(|s| s.split_once('/')) {
        Some((scope, rest)) => (Some(scope), rest),
        None => (None, name),
    }
}
