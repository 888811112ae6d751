//! Atom feeds (RFC 4287): `/feeds/recent.atom` (recent publishes),
//! `/package/{name}/feed.atom` (its versions, each entry linking to the diff from the
//! version before it), `/keyword/{k}/feed.atom` and `/author/{name}/feed.atom` (their
//! packages, latest changes first). Written with quick-xml, which escapes text; characters
//! XML 1.0 cannot carry at all (control characters a description may hold) are dropped, so a
//! hostile field never makes a feed unreadable.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use nodules_store::browse::{BrowseList, ListItem, ListSort};
use nodules_store::model::{Package, PackageState};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use crate::error::{AppError, PageError};
use crate::respond::{CachePolicy, answer};
use crate::state::AppState;

/// Entries in one feed.
pub const ENTRIES: usize = 50;
pub const ATOM: &str = "application/atom+xml; charset=utf-8";
/// `updated` of an entry whose time is unknown (RFC 4287 requires one).
const UNKNOWN_TIME: &str = "1970-01-01T00:00:00Z";

pub struct Feed {
    /// Permanent IRI: the feed's own URL.
    pub id: String,
    pub title: String,
    /// The page the feed follows.
    pub alternate: String,
    pub entries: Vec<Entry>,
}

pub struct Entry {
    /// Permanent IRI: the version's page.
    pub id: String,
    pub title: String,
    pub updated: Option<String>,
    /// Where the entry leads.
    pub link: String,
    /// A second link (`related`): the version's page when `link` is its diff.
    pub related: Option<String>,
    pub summary: Option<String>,
}

/// `s` without the characters XML 1.0 does not allow (C0 controls but tab, newline and
/// carriage return; U+FFFE, U+FFFF).
pub fn xml_chars(s: &str) -> String {
    s.chars().filter(|&c| matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')).collect()
}

fn text<W: std::io::Write>(w: &mut Writer<W>, tag: &str, value: &str) -> std::io::Result<()> {
    w.write_event(Event::Start(BytesStart::new(tag)))?;
    w.write_event(Event::Text(BytesText::new(&xml_chars(value))))?;
    w.write_event(Event::End(BytesEnd::new(tag)))
}

fn link<W: std::io::Write>(w: &mut Writer<W>, rel: &str, href: &str, kind: Option<&str>) -> std::io::Result<()> {
    let href = xml_chars(href);
    let mut e = BytesStart::new("link").with_attributes([("rel", rel), ("href", href.as_str())]);
    if let Some(t) = kind {
        e.push_attribute(("type", t));
    }
    w.write_event(Event::Empty(e))
}

impl Feed {
    /// The feed as an Atom document; `base` is the site's public URL (the feed's author).
    pub fn to_xml(&self, base: &str) -> std::io::Result<Vec<u8>> {
        let updated = self.entries.iter().filter_map(|e| e.updated.as_deref()).max().unwrap_or(UNKNOWN_TIME);
        let mut w = Writer::new(Vec::new());
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))?;
        w.write_event(Event::Start(
            BytesStart::new("feed").with_attributes([("xmlns", "http://www.w3.org/2005/Atom")]),
        ))?;
        text(&mut w, "id", &self.id)?;
        text(&mut w, "title", &self.title)?;
        text(&mut w, "updated", updated)?;
        w.write_event(Event::Start(BytesStart::new("author")))?;
        text(&mut w, "name", "Nodules")?;
        text(&mut w, "uri", base)?;
        w.write_event(Event::End(BytesEnd::new("author")))?;
        link(&mut w, "self", &self.id, Some("application/atom+xml"))?;
        link(&mut w, "alternate", &self.alternate, Some("text/html"))?;
        for e in &self.entries {
            w.write_event(Event::Start(BytesStart::new("entry")))?;
            text(&mut w, "id", &e.id)?;
            text(&mut w, "title", &e.title)?;
            text(&mut w, "updated", e.updated.as_deref().unwrap_or(UNKNOWN_TIME))?;
            link(&mut w, "alternate", &e.link, Some("text/html"))?;
            if let Some(r) = &e.related {
                link(&mut w, "related", r, Some("text/html"))?;
            }
            if let Some(s) = &e.summary {
                text(&mut w, "summary", s)?;
            }
            w.write_event(Event::End(BytesEnd::new("entry")))?;
        }
        w.write_event(Event::End(BytesEnd::new("feed")))?;
        Ok(w.into_inner())
    }
}

fn respond(app: &AppState, feed: &Feed, policy: CachePolicy) -> Result<Response, PageError> {
    let body = feed.to_xml(&app.0.config.base_url).map_err(|e| PageError(AppError::Internal(e.into())))?;
    Ok(answer(policy, StatusCode::OK, ATOM, body))
}

/// An entry for a browse list's package: its latest version.
fn list_entry(base: &str, item: &ListItem) -> Entry {
    let page = nodules_sitemaps::urls::package(base, &item.name);
    let version = item.version.clone().unwrap_or_default();
    let id = if version.is_empty() { page.clone() } else { format!("{page}/v/{version}") };
    let summary = match (&item.description, item.deprecated) {
        (d, true) => Some(format!("Deprecated. {}", d.clone().unwrap_or_default()).trim().to_string()),
        (d, false) => d.clone(),
    };
    Entry {
        id,
        title: format!("{} {version}", item.name).trim().to_string(),
        updated: item.modified.clone(),
        link: page,
        related: None,
        summary,
    }
}

fn list_feed(app: &AppState, path: &str, alternate: &str, title: String, mut items: Vec<ListItem>) -> Feed {
    let base = &app.0.config.base_url;
    // latest changes first (RFC 3339 strings of one format sort as times)
    items.sort_by(|a, b| b.modified.cmp(&a.modified).then_with(|| a.name.cmp(&b.name)));
    items.truncate(ENTRIES);
    Feed {
        id: format!("{base}{path}"),
        title,
        alternate: format!("{base}{alternate}"),
        entries: items.iter().map(|i| list_entry(base, i)).collect(),
    }
}

/// `/feeds/recent.atom`.
pub async fn recent(State(app): State<AppState>) -> Result<Response, PageError> {
    let items = app.store().browse(&BrowseList::Recent).await?;
    let feed = list_feed(&app, "/feeds/recent.atom", "/browse/recent", "Recently published on Nodules".into(), items);
    respond(&app, &feed, CachePolicy::Global(None))
}

async fn named_feed(
    app: &AppState,
    list: BrowseList,
    path: String,
    page: String,
    title: String,
) -> Result<Response, PageError> {
    let items = app.store().browse_sorted(&list, ListSort::Dependents).await?;
    // an unknown keyword or person is a 404, as its page
    if items.is_empty() {
        return Err(PageError(AppError::NotFound));
    }
    respond(app, &list_feed(app, &path, &page, title, items), CachePolicy::Global(None))
}

/// `/keyword/{k}/feed.atom`.
pub async fn keyword(State(app): State<AppState>, Path(k): Path<String>) -> Result<Response, PageError> {
    let page = format!("/keyword/{}", crate::format::urlpart(k.clone()));
    let title = format!("Packages with the keyword “{k}” on Nodules");
    named_feed(&app, BrowseList::Keyword(k), format!("{page}/feed.atom"), page, title).await
}

/// `/author/{name}/feed.atom`.
pub async fn author(State(app): State<AppState>, Path(n): Path<String>) -> Result<Response, PageError> {
    let page = format!("/author/{}", crate::format::urlpart(n.clone()));
    let title = format!("Packages by {n} on Nodules");
    named_feed(&app, BrowseList::Person(n), format!("{page}/feed.atom"), page, title).await
}

/// The versions of `package` as entries, latest published first, each linking to the diff
/// from the version below it (in semver order) when there is one.
pub fn version_entries(base: &str, package: &Package) -> Vec<Entry> {
    let page = nodules_sitemaps::urls::package(base, &package.name);
    // `versions` is highest semver first: the one after each is the one before it
    let mut entries: Vec<(Option<mongodb::bson::DateTime>, Entry)> = package
        .versions
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let version_page = format!("{page}/v/{}", v.version);
            let previous = package.versions.get(i + 1);
            let (link, related) = match previous {
                Some(p) => (format!("{page}/diff/{}...{}", p.version, v.version), Some(version_page.clone())),
                None => (version_page.clone(), None),
            };
            let mut summary = match previous {
                Some(p) => format!("{} {}: the changes since {}.", package.name, v.version, p.version),
                None => format!("{} {}: the first version.", package.name, v.version),
            };
            if let Some(d) = &v.deprecated {
                summary = format!("Deprecated: {d}. {summary}");
            }
            let entry = Entry {
                id: version_page,
                title: format!("{} {}", package.name, v.version),
                updated: crate::format::rfc3339(v.published),
                link,
                related,
                summary: Some(summary),
            };
            (v.published, entry)
        })
        .collect();
    entries.sort_by_key(|e| std::cmp::Reverse(e.0));
    entries.into_iter().take(ENTRIES).map(|(_, e)| e).collect()
}

/// `/package/{name}/feed.atom`.
pub async fn package_feed(app: &AppState, name: &str) -> Result<Response, PageError> {
    let package = match crate::package_data::record(app, name).await? {
        Some(p) if p.state == PackageState::Active => p,
        Some(p) if p.state != PackageState::Stub => {
            return Err(PageError(AppError::Gone { name: name.to_string(), state: p.state.as_str() }));
        }
        _ => return Err(PageError(AppError::PackageNotFound { name: name.to_string() })),
    };
    let base = &app.0.config.base_url;
    let page = nodules_sitemaps::urls::package(base, name);
    let feed = Feed {
        id: format!("{page}/feed.atom"),
        title: format!("{name}: versions on Nodules"),
        alternate: page,
        entries: version_entries(base, &package),
    };
    respond(app, &feed, CachePolicy::Package(name.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_is_escaped_and_impossible_characters_dropped() {
        let feed = Feed {
            id: "https://x.test/feeds/recent.atom".into(),
            title: "<script>alert(1)</script> & \u{0}\u{1b}[31m".into(),
            alternate: "https://x.test/browse/recent".into(),
            entries: vec![Entry {
                id: "https://x.test/package/a/v/1.0.0".into(),
                title: "a\" onload=\"x".into(),
                updated: Some("2026-12-01T00:00:00Z".into()),
                link: "https://x.test/package/a?x=1&y=<2>".into(),
                related: None,
                summary: Some("]]><b>bold</b>".into()),
            }],
        };
        let xml = String::from_utf8(feed.to_xml("https://x.test").unwrap_or_default()).unwrap_or_default();
        assert!(xml.contains("<title>&lt;script&gt;alert(1)&lt;/script&gt; &amp; [31m</title>"), "{xml}");
        assert!(xml.contains("href=\"https://x.test/package/a?x=1&amp;y=&lt;2&gt;\""), "{xml}");
        assert!(xml.contains("<summary>]]&gt;&lt;b&gt;bold&lt;/b&gt;</summary>"), "{xml}");
        assert!(!xml.contains('\u{0}') && !xml.contains('\u{1b}'));
        assert!(xml.contains("<updated>2026-12-01T00:00:00Z</updated>"), "the feed's: its latest entry's");
    }
}
