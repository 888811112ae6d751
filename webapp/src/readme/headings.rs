//! Heading anchors: every `h1`-`h6` gets GitHub's `id` (`user-content-` + slug, duplicates
//! numbered `-1`, `-2`) and an empty self-link `<a class="anchor">` at its end.
//!
//! Runs on ammonia's output, so raw HTML headings (`<h1 align="center">`) get anchors too. That
//! output is well-formed: outside a tag `<` only starts a tag, attribute values are
//! double-quoted, comments and raw-text elements (script, style) are gone.

use comrak::Anchorizer; // the slugs of GitHub (cmark-gfm); public, though hidden from the docs

use super::links::ID_PREFIX;

/// A heading being read: its opening tag, and what is inside so far.
struct Open<'h> {
    tag: &'h str,
    inner: String,
    text: String,
    /// headings nested in this one (`<h1><div><h2>` parses so), left as they are
    nested: usize,
}

/// Adds ids and self-links to the headings of sanitized HTML.
pub(super) fn anchor(html: &str) -> String {
    let mut out = String::with_capacity(html.len() + html.len() / 16);
    let mut slugs = Anchorizer::new();
    let mut open: Option<Open> = None;
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        let (text, tail) = rest.split_at(start);
        let (tag, after) = tail.split_at(tag_len(tail));
        rest = after;
        let Some(heading) = open.as_mut() else {
            out.push_str(text);
            if heading_tag(tag) == Some(false) {
                open = Some(Open { tag, inner: String::new(), text: String::new(), nested: 0 });
            } else {
                out.push_str(tag);
            }
            continue;
        };
        heading.inner.push_str(text);
        heading.text.push_str(&unescape(text));
        match heading_tag(tag) {
            Some(false) => heading.nested += 1,
            Some(true) if heading.nested > 0 => heading.nested -= 1,
            Some(true) => {
                if let Some(heading) = open.take() {
                    write_heading(&mut out, &heading, tag, &mut slugs);
                }
                continue;
            }
            None => {}
        }
        heading.inner.push_str(tag);
    }
    if let Some(heading) = open {
        // unclosed: cannot happen with serialized HTML, but lose nothing
        out.push_str(heading.tag);
        out.push_str(&heading.inner);
    }
    out.push_str(rest);
    out
}

fn write_heading(out: &mut String, heading: &Open, close: &str, slugs: &mut Anchorizer) {
    let text = heading.text.trim();
    let (tag, id) = match attribute(heading.tag, "id") {
        Some(id) => (heading.tag.to_owned(), id.to_owned()),
        None => {
            let slug = slugs.anchorize(text);
            if slug.is_empty() {
                out.extend([heading.tag, &heading.inner, close]);
                return;
            }
            let id = escape(&format!("{ID_PREFIX}{slug}"));
            let tag = heading.tag.strip_suffix('>').unwrap_or(heading.tag);
            (format!("{tag} id=\"{id}\">"), id)
        }
    };
    let label = escape(&format!("Permalink: {text}"));
    out.extend([tag.as_str(), &heading.inner]);
    out.push_str(&format!("<a class=\"anchor\" href=\"#{id}\" aria-label=\"{label}\"></a>"));
    out.push_str(close);
}

/// Length of the tag at the start of `html` (which starts with `<`), up to its `>`.
fn tag_len(html: &str) -> usize {
    let mut quoted = false;
    for (i, byte) in html.bytes().enumerate() {
        match byte {
            b'"' => quoted = !quoted,
            b'>' if !quoted => return i + 1,
            _ => {}
        }
    }
    html.len()
}

/// `Some(false)` for `<h1 …>`-`<h6 …>`, `Some(true)` for `</h1>`-`</h6>`.
fn heading_tag(tag: &str) -> Option<bool> {
    let name = tag.strip_prefix('<')?;
    let (closing, name) = match name.strip_prefix('/') {
        Some(name) => (true, name),
        None => (false, name),
    };
    let bytes = name.as_bytes();
    let is_heading = bytes.len() >= 3
        && bytes[0] == b'h'
        && (b'1'..=b'6').contains(&bytes[1])
        && matches!(bytes[2], b' ' | b'>' | b'/');
    is_heading.then_some(closing)
}

/// The (still escaped) value of attribute `name` in a serialized opening tag.
fn attribute<'t>(tag: &'t str, name: &str) -> Option<&'t str> {
    let mut rest = tag.trim_start_matches('<').trim_end_matches('>');
    rest = &rest[rest.find(' ')?..];
    loop {
        rest = rest.trim_start();
        let name_end = rest.find(['=', ' ']).unwrap_or(rest.len());
        if name_end == 0 {
            return None;
        }
        let (attribute, after) = rest.split_at(name_end);
        rest = after;
        if let Some(value) = rest.strip_prefix("=\"") {
            let end = value.find('"')?;
            if attribute == name {
                return Some(&value[..end]);
            }
            rest = &value[end + 1..];
        }
    }
}

/// Text as html5ever serialized it, as characters again.
fn unescape(text: &str) -> String {
    html_escape::decode_html_entities(text).into_owned()
}

/// For a double-quoted attribute value.
fn escape(value: &str) -> String {
    html_escape::encode_double_quoted_attribute(value).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_get_ids_and_self_links() {
        let html = anchor("<h1>Hello &amp; <em>World</em></h1><p>x</p><h2>Hello &amp; World</h2>");
        assert_eq!(
            html,
            "<h1 id=\"user-content-hello--world\">Hello &amp; <em>World</em>\
             <a class=\"anchor\" href=\"#user-content-hello--world\" aria-label=\"Permalink: Hello &amp; World\"></a></h1>\
             <p>x</p><h2 id=\"user-content-hello--world-1\">Hello &amp; World\
             <a class=\"anchor\" href=\"#user-content-hello--world-1\" aria-label=\"Permalink: Hello &amp; World\"></a></h2>"
        );
    }

    #[test]
    fn existing_ids_and_quoted_brackets_are_respected() {
        let html = anchor("<h2 title=\"<h3>\" id=\"user-content-own\">A</h2><h3></h3>");
        assert_eq!(
            html,
            "<h2 title=\"<h3>\" id=\"user-content-own\">A\
             <a class=\"anchor\" href=\"#user-content-own\" aria-label=\"Permalink: A\"></a></h2><h3></h3>"
        );
    }

    #[test]
    fn nested_headings_stay_inside() {
        let html = anchor("<h1 align=\"center\"><div><h2>B</h2></div>A</h1>");
        assert_eq!(
            html,
            "<h1 align=\"center\" id=\"user-content-ba\"><div><h2>B</h2></div>A\
             <a class=\"anchor\" href=\"#user-content-ba\" aria-label=\"Permalink: BA\"></a></h1>"
        );
    }
}
