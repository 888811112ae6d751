//! The two documents of the protocol, written with quick-xml (which escapes text): a
//! `urlset` (a shard) and a `sitemapindex`.

use std::io::Write;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

pub const NAMESPACE: &str = "http://www.sitemaps.org/schemas/sitemap/0.9";

/// A listed URL (or shard) and when it last changed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    pub loc: String,
    /// W3C datetime (RFC 3339, seconds).
    pub lastmod: Option<String>,
}

/// `ms` since the epoch as a W3C datetime.
pub fn w3c(ms: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_millis(ms).map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

fn document<W: Write>(out: W, root: &str, item: &str, entries: &[Entry]) -> std::io::Result<W> {
    let mut w = Writer::new(out);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.get_mut().write_all(b"\n")?;
    w.write_event(Event::Start(BytesStart::new(root).with_attributes([("xmlns", NAMESPACE)])))?;
    for e in entries {
        w.write_event(Event::Start(BytesStart::new(item)))?;
        w.write_event(Event::Start(BytesStart::new("loc")))?;
        w.write_event(Event::Text(BytesText::new(&e.loc)))?;
        w.write_event(Event::End(BytesEnd::new("loc")))?;
        if let Some(t) = &e.lastmod {
            w.write_event(Event::Start(BytesStart::new("lastmod")))?;
            w.write_event(Event::Text(BytesText::new(t)))?;
            w.write_event(Event::End(BytesEnd::new("lastmod")))?;
        }
        w.write_event(Event::End(BytesEnd::new(item)))?;
        w.get_mut().write_all(b"\n")?;
    }
    w.write_event(Event::End(BytesEnd::new(root)))?;
    w.get_mut().write_all(b"\n")?;
    Ok(w.into_inner())
}

/// A shard: `<urlset>` of `entries`.
pub fn urlset<W: Write>(out: W, entries: &[Entry]) -> std::io::Result<W> {
    document(out, "urlset", "url", entries)
}

/// The index: `<sitemapindex>` of shards.
pub fn index<W: Write>(out: W, shards: &[Entry]) -> std::io::Result<W> {
    document(out, "sitemapindex", "sitemap", shards)
}

/// Bytes an entry adds to a `urlset` at most (for the 50 MB limit): its text escaped
/// (`&` → `&amp;` is the longest escape, 5×) and the tags.
pub fn entry_bytes(e: &Entry) -> usize {
    60 + 5 * e.loc.len() + e.lastmod.as_ref().map_or(0, |t| t.len() + 20)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        let e = Entry { loc: "https://x.test/package/a&b<c>".into(), lastmod: w3c(0) };
        let xml = String::from_utf8(urlset(Vec::new(), &[e]).unwrap_or_default()).unwrap_or_default();
        assert!(xml.contains("<loc>https://x.test/package/a&amp;b&lt;c&gt;</loc>"), "{xml}");
        assert!(xml.contains("<lastmod>1970-01-01T00:00:00Z</lastmod>"), "{xml}");
        assert!(xml.starts_with(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">"
        ));
    }
}
