//! The URLs sitemaps list, the same as each page's `<link rel="canonical">` (the webapp
//! builds its canonical links with these functions).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// The protocol's limit on a URL's length.
pub const MAX_URL: usize = 2048;

/// What a package name keeps raw in a URL: what npm allows in new names (`@`, `/` of
/// scoped names, `-`, `_`, `.`, `~`); anything else an old name holds is percent-encoded.
const NAME: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'@').remove(b'/');

/// What a path segment (a keyword, an author's name) keeps raw.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'@');

/// A package's page: `@scope/name` with its slash, never `@scope%2fname`.
pub fn package(base_url: &str, name: &str) -> String {
    format!("{}/package/{}", base_url.trim_end_matches('/'), utf8_percent_encode(name, NAME))
}

/// A version's page (not listed in sitemaps: the live stream and feeds link to it).
pub fn version(base_url: &str, name: &str, version: &str) -> String {
    format!("{}/v/{}", package(base_url, name), utf8_percent_encode(version, SEGMENT))
}

/// A keyword's page.
pub fn keyword(base_url: &str, keyword: &str) -> String {
    format!("{}/keyword/{}", base_url.trim_end_matches('/'), utf8_percent_encode(keyword, SEGMENT))
}

/// An author's (or maintainer's) page.
pub fn author(base_url: &str, name: &str) -> String {
    format!("{}/author/{}", base_url.trim_end_matches('/'), utf8_percent_encode(name, SEGMENT))
}

/// A shard's URL, as the index lists it.
pub fn shard(base_url: &str, n: usize) -> String {
    format!("{}/sitemaps/{n}.xml.gz", base_url.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scoped_names_keep_their_slash_and_odd_characters_are_encoded() {
        assert_eq!(package("https://x.test/", "@types/node"), "https://x.test/package/@types/node");
        assert_eq!(package("https://x.test", "Old Name's"), "https://x.test/package/Old%20Name%27s");
        assert_eq!(keyword("https://x.test", "c++/é"), "https://x.test/keyword/c%2B%2B%2F%C3%A9");
        assert_eq!(author("https://x.test", "a <b>"), "https://x.test/author/a%20%3Cb%3E");
    }
}
