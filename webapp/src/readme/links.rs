//! Where README links and images point: relative URLs resolve into the package's GitHub
//! repository, in-page anchors gain the `user-content-` prefix, and only http, https and mailto
//! (plus small inline raster images) survive.

use std::borrow::Cow;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use url::Url;

/// Prefix of every `id` and `name` in README HTML, so a README cannot clobber the page's own ids.
pub(super) const ID_PREFIX: &str = "user-content-";

/// How relative links and images in a README resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkBase {
    github: Option<Github>,
    source: Option<Source>,
}

/// A Markdown file in the source browser: relative links stay inside the same version's files.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Source {
    /// The version's source root on this site, `/package/{name}/v/{version}/source/`.
    root: String,
    /// The file's folder in the package, raw segments.
    directory: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Github {
    /// `https://github.com/{owner}/{repo}/blob/{committish}/`
    blob: Url,
    /// `https://raw.githubusercontent.com/{owner}/{repo}/{committish}/`
    raw: Url,
    /// The package's folder in the repository, percent-encoded segments.
    directory: Vec<String>,
}

/// What a URL attribute is for: a page to visit or an image to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
    Link,
    Image,
}

impl LinkBase {
    /// A GitHub repository: relative links go to
    /// `https://github.com/{owner}/{repo}/blob/{committish}/{directory/}{path}`, relative images to
    /// `https://raw.githubusercontent.com/{owner}/{repo}/{committish}/{directory/}{path}`;
    /// `committish` defaults to `HEAD`. A path starting with `/` is relative to the repository
    /// root, as on GitHub, and `..` never climbs above it.
    ///
    /// An owner or repository that is not a valid GitHub name gives [`LinkBase::none`]; an odd
    /// committish (spaces, `..`, `:`) gives `HEAD`. A trailing `.git` on the repository is dropped.
    pub fn github(owner: &str, repo: &str, directory: Option<&str>, committish: Option<&str>) -> LinkBase {
        let repo = repo.strip_suffix(".git").unwrap_or(repo);
        if !is_github_name(owner) || !is_github_name(repo) {
            return LinkBase::none();
        }
        let committish = committish.filter(|c| is_committish(c)).unwrap_or("HEAD");
        let blob = Url::parse(&format!("https://github.com/{owner}/{repo}/blob/{committish}/"));
        let raw = Url::parse(&format!("https://raw.githubusercontent.com/{owner}/{repo}/{committish}/"));
        let (Ok(blob), Ok(raw)) = (blob, raw) else {
            return LinkBase::none();
        };
        let directory = normalize(&[], directory.unwrap_or("")).iter().map(|s| encode_segment(s)).collect();
        LinkBase { github: Some(Github { blob, raw, directory }), source: None }
    }

    /// A Markdown file shown by the source browser: relative links go to the source pages of
    /// the same version under `root` (a URL path ending in `/`, as [`crate::source::url`]
    /// makes it), images to their `?image=1` URL there; `directory` is the file's folder in
    /// the package. A path starting with `/` is relative to the package root, and `..` never
    /// climbs above it.
    pub fn source(root: &str, directory: &str) -> LinkBase {
        if !root.starts_with("/package/") || !root.ends_with('/') {
            return LinkBase::none();
        }
        let directory = normalize(&[], directory);
        LinkBase { github: None, source: Some(Source { root: root.to_string(), directory }) }
    }

    /// Unknown repository: relative links and images are dropped. A link keeps its text (an `<a>`
    /// without `href`), an image its `alt`. In-page `#anchor` links and absolute URLs still work.
    pub fn none() -> LinkBase {
        LinkBase { github: None, source: None }
    }

    /// Everything that changes rendered links, for the cache key.
    pub(super) fn describe(&self) -> String {
        match (&self.github, &self.source) {
            (Some(github), _) => format!("{}{}", github.blob, github.directory.join("/")),
            (None, Some(source)) => format!("source:{}{}", source.root, source.directory.join("/")),
            (None, None) => "none".to_owned(),
        }
    }

    /// The URL to keep for an `href`/`src` value, or `None` to drop the attribute.
    ///
    /// Absolute http/https URLs (and mailto for links) are returned untouched; `data:` only for
    /// images of an inline raster type ([`is_inline_image`]); other schemes are dropped.
    pub(super) fn rewrite<'v>(&self, value: &'v str, target: Target) -> Option<Cow<'v, str>> {
        // what a browser ignores before parsing: edge spaces and controls, inner tabs and newlines
        let trimmed = value.trim_matches(|c: char| c <= ' ');
        let value = if trimmed.contains(['\t', '\n', '\r']) {
            Cow::Owned(trimmed.replace(['\t', '\n', '\r'], ""))
        } else {
            Cow::Borrowed(trimmed)
        };
        if let Some(fragment) = value.strip_prefix('#') {
            return (target == Target::Link).then(|| Cow::Owned(in_page(fragment)));
        }
        match Url::parse(&value) {
            Ok(url) => {
                let allowed = match url.scheme() {
                    "http" | "https" => true,
                    "mailto" => target == Target::Link,
                    "data" => target == Target::Image && is_inline_image(&value),
                    _ => false,
                };
                allowed.then_some(value)
            }
            Err(url::ParseError::RelativeUrlWithoutBase) => self.resolve(&value, target).map(Cow::Owned),
            Err(_) => None,
        }
    }

    fn resolve(&self, relative: &str, target: Target) -> Option<String> {
        // `//host/path`: another site, over https (backslashes count as slashes in http URLs)
        if relative.starts_with(['/', '\\']) && relative[1..].starts_with(['/', '\\']) {
            let url = Url::parse(&format!("https:{relative}")).ok()?;
            return (url.scheme() == "https" && url.has_host()).then(|| url.into());
        }
        if let Some(source) = &self.source {
            return Some(source.resolve(relative, target));
        }
        let github = self.github.as_ref()?;
        let (path, suffix) = relative.split_at(relative.find(['?', '#']).unwrap_or(relative.len()));
        let from = if path.starts_with(['/', '\\']) { &[][..] } else { &github.directory[..] };
        let mut joined = normalize(from, path).join("/");
        // `./a:b` must not turn into the scheme `a:`
        if joined.split('/').next().is_some_and(|first| first.contains(':')) {
            joined.insert_str(0, "./");
        }
        joined.push_str(suffix);
        let base = match target {
            Target::Link => &github.blob,
            Target::Image => &github.raw,
        };
        let url = base.join(&joined).ok()?;
        (url.scheme() == "https" && url.host() == base.host()).then(|| url.into())
    }
}

impl Source {
    fn resolve(&self, relative: &str, target: Target) -> String {
        let (path, suffix) = relative.split_at(relative.find(['?', '#']).unwrap_or(relative.len()));
        let from = if path.starts_with(['/', '\\']) { &[][..] } else { &self.directory[..] };
        // segments as written may be percent-encoded already: decoded once, encoded once
        let segments: Vec<String> = normalize(from, path)
            .iter()
            .map(|s| encode_segment(&percent_encoding::percent_decode_str(s).decode_utf8_lossy()))
            .collect();
        let mut url = format!("{}{}", self.root, segments.join("/"));
        let folder = path.ends_with(['/', '\\']) || path.is_empty();
        if folder && !segments.is_empty() {
            url.push('/');
        }
        match target {
            Target::Image => url.push_str("?image=1"),
            // another Markdown file's headings carry the prefix too; a query is the site's own
            Target::Link => {
                if let Some((_, fragment)) = suffix.split_once('#') {
                    url.push_str(&in_page(fragment));
                }
            }
        }
        url
    }
}

/// `#foo` -> `#user-content-foo`, where the README's ids are.
pub(super) fn in_page(fragment: &str) -> String {
    if fragment.is_empty() || fragment.starts_with(ID_PREFIX) {
        format!("#{fragment}")
    } else {
        format!("#{ID_PREFIX}{fragment}")
    }
}

/// `data:image/{png,gif,jpeg,webp,avif};base64,…`: raster types only (no SVG, which is a document),
/// base64 only. The README as a whole is capped, so these are too.
fn is_inline_image(value: &str) -> bool {
    const TYPES: [&str; 5] = ["png", "gif", "jpeg", "webp", "avif"];
    let Some((header, payload)) = value.split_once(',') else {
        return false;
    };
    let header = header.to_ascii_lowercase();
    let inline_type = header.strip_prefix("data:image/").and_then(|h| h.strip_suffix(";base64"));
    inline_type.is_some_and(|t| TYPES.contains(&t))
        && !payload.is_empty()
        && payload.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))
}

/// Path segments of `path` appended to `from`, without empty, `.` and `..` segments; `..` stops
/// at the root. Percent-encoded dots count as dots, as they do for a URL parser.
fn normalize(from: &[String], path: &str) -> Vec<String> {
    let mut segments = from.to_vec();
    for segment in path.split(['/', '\\']) {
        match segment.to_ascii_lowercase().replace("%2e", ".").as_str() {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            _ => segments.push(segment.to_owned()),
        }
    }
    segments
}

/// What a path segment keeps raw (RFC 3986 `pchar`): unreserved characters, sub-delims, `:`, `@`.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=')
    .remove(b':')
    .remove(b'@');

/// Percent-encodes what may not appear raw in a path segment (`?`, `#`, `%`, spaces, non-ASCII).
fn encode_segment(segment: &str) -> String {
    utf8_percent_encode(segment, SEGMENT).to_string()
}

/// GitHub user, organization and repository names: ASCII letters, digits, `-`, `_`, `.`.
fn is_github_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && name != "."
        && name != ".."
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

/// A branch, tag or commit that is safe to put in a URL path as is.
fn is_committish(committish: &str) -> bool {
    committish.len() <= 250
        && committish.split('/').all(|s| !s.is_empty() && s != "." && s != "..")
        && committish.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./+@".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(base: &LinkBase, value: &str) -> Option<String> {
        base.rewrite(value, Target::Link).map(Cow::into_owned)
    }

    fn image(base: &LinkBase, value: &str) -> Option<String> {
        base.rewrite(value, Target::Image).map(Cow::into_owned)
    }

    #[test]
    fn relative_links_resolve_into_the_repository() {
        let root = LinkBase::github("acme", "widget", None, None);
        let sub = LinkBase::github("acme", "widget.git", Some("/packages/core/"), Some("v1.2.0"));
        let blob = "https://github.com/acme/widget/blob";
        assert_eq!(link(&root, "docs/api.md").as_deref(), Some(&*format!("{blob}/HEAD/docs/api.md")));
        assert_eq!(link(&root, "./docs/api.md#usage").as_deref(), Some(&*format!("{blob}/HEAD/docs/api.md#usage")));
        assert_eq!(link(&sub, "CHANGELOG.md").as_deref(), Some(&*format!("{blob}/v1.2.0/packages/core/CHANGELOG.md")));
        assert_eq!(link(&sub, "../../LICENSE").as_deref(), Some(&*format!("{blob}/v1.2.0/LICENSE")));
        assert_eq!(link(&sub, "/LICENSE").as_deref(), Some(&*format!("{blob}/v1.2.0/LICENSE")));
        assert_eq!(link(&sub, "../../../../../x").as_deref(), Some(&*format!("{blob}/v1.2.0/x")));
        assert_eq!(link(&sub, "%2e%2e/%2E%2E/%2e./x").as_deref(), Some(&*format!("{blob}/v1.2.0/x")));
        assert_eq!(link(&root, "a b.md?plain=1").as_deref(), Some(&*format!("{blob}/HEAD/a%20b.md?plain=1")));
        assert_eq!(link(&root, "./a:b.md").as_deref(), Some(&*format!("{blob}/HEAD/a:b.md")));
        assert_eq!(
            image(&sub, "./media/logo.png").as_deref(),
            Some("https://raw.githubusercontent.com/acme/widget/v1.2.0/packages/core/media/logo.png")
        );
    }

    #[test]
    fn unknown_repository_drops_relative_urls_only() {
        let none = LinkBase::none();
        assert_eq!(link(&none, "docs/api.md"), None);
        assert_eq!(image(&none, "logo.png"), None);
        assert_eq!(link(&none, "#usage").as_deref(), Some("#user-content-usage"));
        assert_eq!(link(&none, "https://example.com/a?b#c").as_deref(), Some("https://example.com/a?b#c"));
        assert_eq!(link(&none, "//example.com/a").as_deref(), Some("https://example.com/a"));
        assert_eq!(link(&none, "/\\example.com/a").as_deref(), Some("https://example.com/a"));
    }

    #[test]
    fn relative_links_in_the_source_browser_stay_in_the_version() {
        let base = LinkBase::source("/package/@s/p/v/1.0.0/source/", "docs/guide");
        let root = "/package/@s/p/v/1.0.0/source";
        assert_eq!(link(&base, "api.md").as_deref(), Some(&*format!("{root}/docs/guide/api.md")));
        assert_eq!(
            link(&base, "../../README.md#usage").as_deref(),
            Some(&*format!("{root}/README.md#user-content-usage"))
        );
        assert_eq!(link(&base, "../../../../x.js").as_deref(), Some(&*format!("{root}/x.js")));
        assert_eq!(link(&base, "/lib/").as_deref(), Some(&*format!("{root}/lib/")));
        assert_eq!(link(&base, "a%20b.md?x=<y>").as_deref(), Some(&*format!("{root}/docs/guide/a%20b.md")));
        assert_eq!(link(&base, "c#d e.md").as_deref(), Some(&*format!("{root}/docs/guide/c#user-content-d e.md")));
        assert_eq!(
            image(&base, "./img/logo.svg").as_deref(),
            Some(&*format!("{root}/docs/guide/img/logo.svg?image=1"))
        );
        assert_eq!(link(&base, "javascript:alert(1)"), None);
        assert_eq!(link(&base, "https://example.com/").as_deref(), Some("https://example.com/"));
        assert_eq!(LinkBase::source("https://evil.test/", ""), LinkBase::none());
    }

    #[test]
    fn bad_names_give_no_base() {
        assert_eq!(LinkBase::github("acme/x", "widget", None, None), LinkBase::none());
        assert_eq!(LinkBase::github("acme", "", None, None), LinkBase::none());
        assert_eq!(LinkBase::github("acme", "..", None, None), LinkBase::none());
        let odd = LinkBase::github("acme", "widget", Some("a b/#c"), Some("../main"));
        assert_eq!(odd.describe(), "https://github.com/acme/widget/blob/HEAD/a%20b/%23c");
    }

    #[test]
    fn only_allowed_schemes_survive() {
        let base = LinkBase::github("acme", "widget", None, None);
        for hostile in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            " \u{1}javascript:alert(1)",
            "java\tscript:alert(1)",
            "vbscript:msgbox(1)",
            "data:text/html,<script>alert(1)</script>",
            "file:///etc/passwd",
            "ftp://example.com/",
            "http://[::1",
        ] {
            assert_eq!(link(&base, hostile), None, "{hostile:?}");
            assert_eq!(image(&base, hostile), None, "{hostile:?}");
        }
        assert_eq!(link(&base, "mailto:a@example.com").as_deref(), Some("mailto:a@example.com"));
        assert_eq!(image(&base, "mailto:a@example.com"), None);
        assert_eq!(image(&base, "#x"), None);
    }

    #[test]
    fn inline_images_are_raster_base64_only() {
        let base = LinkBase::none();
        let png = "data:image/png;base64,iVBORw0KGgo=";
        assert_eq!(image(&base, png).as_deref(), Some(png));
        assert_eq!(link(&base, png), None);
        assert_eq!(image(&base, "data:image/svg+xml;base64,PHN2Zz4="), None);
        assert_eq!(image(&base, "data:image/png,rawbytes<>"), None);
        assert_eq!(image(&base, "data:image/png;base64,"), None);
    }
}
