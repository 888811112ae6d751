//! Size caps on normalized values: no record approaches MongoDB's 16 MB document limit,
//! whatever a hostile document holds.

/// Names, versions, URLs, e-mail addresses, ranges, commands' names.
pub const MAX_SHORT: usize = 1024;
/// Descriptions, deprecation messages, script bodies.
pub const MAX_TEXT: usize = 16 * 1024;
/// Deprecation messages in the version list of the package record.
pub const MAX_SUMMARY_TEXT: usize = 512;
/// Entries of one list or map (keywords, dependencies, maintainers, scripts, …).
pub const MAX_ENTRIES: usize = 1000;
/// Versions kept per package (the highest ones): 50,000 summaries stay under ~4 MB.
pub const MAX_VERSIONS: usize = 50_000;

/// `s` cut to at most `max` bytes on a character boundary.
pub fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_respects_char_boundaries() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("héllo", 3), "hé");
        assert_eq!(truncate("abc", 10), "abc");
    }
}
