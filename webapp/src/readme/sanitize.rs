//! The ammonia allowlist for README HTML: what comrak emits for GFM, plus the raw HTML READMEs
//! commonly use (`<p align="center">`, badges, `<details>`, `<picture>`), and nothing that runs.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use ammonia::{Builder, UrlRelative};

use super::links::{ID_PREFIX, LinkBase, Target};

/// Put on every `<a>`: README links are the author's, not ours to vouch for.
const LINK_REL: &str = "nofollow noopener noreferrer";

/// Sanitizes comrak's output; every `href`, `src` and `srcset` goes through `base`.
pub(super) fn clean(html: &str, base: &LinkBase) -> String {
    let base = base.clone();
    Builder::default()
        .tags(tags())
        .clean_content_tags(dropped_with_content())
        .tag_attributes(tag_attributes())
        .generic_attributes(HashSet::from(["id", "lang", "title", "dir"]))
        .allowed_classes(allowed_classes())
        // any `<input>` that survives is the task-list checkbox, disabled
        .set_tag_attribute_values(HashMap::from([("input", HashMap::from([("type", "checkbox"), ("disabled", "")]))]))
        // `data:` passes this first check so the filter can keep inline images (and nothing else)
        .url_schemes(HashSet::from(["http", "https", "mailto", "data"]))
        .url_relative(UrlRelative::PassThrough)
        .link_rel(Some(LINK_REL))
        .id_prefix(Some(ID_PREFIX))
        .strip_comments(true)
        .attribute_filter(move |element, attribute, value| filter(&base, element, attribute, value))
        .clean(html)
        .to_string()
}

/// Runs after the allowlist, on attributes it kept. The `id` is already prefixed by ammonia.
fn filter<'v>(base: &LinkBase, element: &str, attribute: &str, value: &'v str) -> Option<Cow<'v, str>> {
    match (element, attribute) {
        ("a", "href") => base.rewrite(value, Target::Link),
        ("img", "src") => base.rewrite(value, Target::Image),
        ("source", "srcset") => srcset(base, value).map(Cow::Owned),
        ("a", "name") if !value.starts_with(ID_PREFIX) => Some(Cow::Owned(format!("{ID_PREFIX}{value}"))),
        ("code", "class") => language_class(value).map(Cow::Owned),
        _ => Some(Cow::Borrowed(value)),
    }
}

#[rustfmt::skip]
fn tags() -> HashSet<&'static str> {
    HashSet::from([
        "a", "abbr", "b", "bdi", "bdo", "blockquote", "br", "caption", "center", "cite", "code", "col", "colgroup",
        "dd", "del", "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5",
        "h6", "hr", "i", "img", "input", "ins", "kbd", "li", "mark", "ol", "p", "picture", "pre", "q", "rp", "rt",
        "ruby", "s", "samp", "section", "small", "source", "span", "strike", "strong", "sub", "summary", "sup",
        "table", "tbody", "td", "tfoot", "th", "thead", "tr", "tt", "u", "ul", "var", "wbr",
    ])
}

/// Removed with everything inside; any other tag not allowed is removed, its content kept.
#[rustfmt::skip]
fn dropped_with_content() -> HashSet<&'static str> {
    HashSet::from([
        "script", "style", "iframe", "object", "embed", "applet", "form", "noscript", "template", "textarea",
        "select", "title", "xmp", "noembed", "noframes", "plaintext", "svg", "math", "frameset", "frame",
    ])
}

fn tag_attributes() -> HashMap<&'static str, HashSet<&'static str>> {
    let aligned = ["p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "caption", "table", "tr"];
    let mut attributes = HashMap::from([
        ("a", HashSet::from(["href", "name", "hreflang", "aria-label"])),
        ("img", HashSet::from(["src", "alt", "width", "height", "align"])),
        ("source", HashSet::from(["srcset", "media", "type", "width", "height"])),
        ("td", HashSet::from(["align", "colspan", "rowspan"])),
        ("th", HashSet::from(["align", "colspan", "rowspan", "scope"])),
        ("col", HashSet::from(["span"])),
        ("colgroup", HashSet::from(["span"])),
        ("ol", HashSet::from(["start", "reversed", "type"])),
        ("li", HashSet::from(["value"])),
        ("input", HashSet::from(["checked"])),
        ("details", HashSet::from(["open"])),
        ("code", HashSet::from(["class"])),
    ]);
    attributes.extend(aligned.map(|tag| (tag, HashSet::from(["align"]))));
    attributes
}

/// Classes comrak sets for task lists and footnotes; a stylesheet may rely on them.
fn allowed_classes() -> HashMap<&'static str, HashSet<&'static str>> {
    HashMap::from([
        ("ul", HashSet::from(["contains-task-list"])),
        ("ol", HashSet::from(["contains-task-list"])),
        ("li", HashSet::from(["task-list-item"])),
        ("input", HashSet::from(["task-list-item-checkbox"])),
        ("section", HashSet::from(["footnotes"])),
        ("sup", HashSet::from(["footnote-ref"])),
        ("a", HashSet::from(["footnote-backref", "anchor"])),
    ])
}

/// Keeps `language-*` classes of a fenced code block; a theme may highlight them client-side.
fn language_class(value: &str) -> Option<String> {
    let is_language = |class: &&str| {
        class.strip_prefix("language-").is_some_and(|lang| {
            !lang.is_empty() && lang.bytes().all(|b| b.is_ascii_alphanumeric() || b"+#_.-".contains(&b))
        })
    };
    let classes: Vec<&str> = value.split_ascii_whitespace().filter(is_language).collect();
    (!classes.is_empty()).then(|| classes.join(" "))
}

/// `<source srcset="a.png 1x, b.png 2x">`: each candidate's URL goes through `base` as an image
/// (`data:` not allowed here); candidates with an odd URL or descriptor are dropped.
fn srcset(base: &LinkBase, value: &str) -> Option<String> {
    let mut candidates = Vec::new();
    let mut rest = value;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == ',');
        if rest.is_empty() {
            break;
        }
        let url_end = rest.find(|c: char| c.is_ascii_whitespace()).unwrap_or(rest.len());
        let (mut url, mut after) = rest.split_at(url_end);
        let mut descriptor = "";
        if url.ends_with(',') {
            url = url.trim_end_matches(',');
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (descriptor, after) = after.split_at(end);
        }
        rest = after;
        let descriptor = descriptor.trim();
        let Some(url) = base.rewrite(url, Target::Image) else { continue };
        if url.starts_with("data:") || !is_descriptor(descriptor) {
            continue;
        }
        candidates.push(if descriptor.is_empty() { url.into_owned() } else { format!("{url} {descriptor}") });
    }
    (!candidates.is_empty()).then(|| candidates.join(", "))
}

/// `2x`, `1.5x`, `640w`, or nothing.
fn is_descriptor(descriptor: &str) -> bool {
    let Some(number) = descriptor.strip_suffix(['x', 'w']) else {
        return descriptor.is_empty();
    };
    let mut parts = number.splitn(2, '.');
    let whole = parts.next().unwrap_or("");
    let fraction = parts.next().unwrap_or("0");
    !whole.is_empty() && [whole, fraction].iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srcset_candidates_are_rewritten_or_dropped() {
        let base = LinkBase::github("acme", "widget", None, None);
        let raw = "https://raw.githubusercontent.com/acme/widget/HEAD";
        assert_eq!(
            srcset(&base, "dark.png 1x, https://cdn.example/x.png 2x").as_deref(),
            Some(&*format!("{raw}/dark.png 1x, https://cdn.example/x.png 2x"))
        );
        assert_eq!(srcset(&base, "a.png,\tb.png 640w").as_deref(), Some(&*format!("{raw}/a.png, {raw}/b.png 640w")));
        assert_eq!(srcset(&base, "javascript:alert(1) 1x, data:image/png;base64,AAAA 2x"), None);
        assert_eq!(srcset(&base, "a.png 1x onerror"), None);
        assert_eq!(srcset(&LinkBase::none(), "a.png"), None);
    }

    #[test]
    fn only_language_classes_stay_on_code() {
        assert_eq!(language_class("language-js").as_deref(), Some("language-js"));
        assert_eq!(language_class("language-c++ evil language-").as_deref(), Some("language-c++"));
        assert_eq!(language_class("hljs"), None);
    }
}
