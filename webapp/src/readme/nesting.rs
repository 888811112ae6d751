//! Bounded nesting before ammonia. html5ever checks an element's scope by walking the stack of
//! open elements, so each tag costs time in proportion to the depth: 100k nested `<div>`s, or
//! 100k `>` in Markdown, take minutes. Tags opened deeper than [`MAX_DEPTH`] are dropped, with their
//! end tags; their text stays.
//!
//! The depth is estimated from the tags alone and never below what html5ever builds, so no
//! input gets past the bound: a tag ends at the first `>` (even inside quotes), comments and raw
//! text are scanned like markup, an ignored start tag still counts, and an end tag closes only
//! what the HTML parser is sure to close. READMEs stay far below the bound: only the odd element
//! left open by sloppy HTML is counted too long.

/// Deep enough for any README (a list nested ten levels is 20 elements deep); shallow enough
/// that html5ever's scope walks stay cheap on 1 MiB of tags.
pub(super) const MAX_DEPTH: usize = 128;

/// How far down an end tag looks for its element: farther is sloppy HTML, and a walk per tag
/// would make this pass quadratic itself.
const END_TAG_REACH: usize = 32;

/// Closed by the parser when an enclosing element closes ("generate implied end tags").
const IMPLIED: [&str; 10] = ["p", "li", "dd", "dt", "option", "optgroup", "rb", "rp", "rt", "rtc"];

/// Their end tag pops everything above them that has an implied end.
#[rustfmt::skip]
const BLOCKS: [&str; 35] = [
    "address", "article", "aside", "blockquote", "center", "details", "dialog", "dir", "div", "dl",
    "fieldset", "figcaption", "figure", "footer", "header", "hgroup", "listing", "main", "menu", "nav", "ol",
    "pre", "search", "section", "summary", "ul", "li", "dd", "dt", "h1", "h2", "h3", "h4", "h5", "h6",
];

/// Table parts: their end tag (and `</table>`) also closes open cells and rows.
const TABLE_PARTS: [&str; 7] = ["tbody", "thead", "tfoot", "tr", "td", "th", "caption"];

/// Their start tag closes an open `<p>`.
#[rustfmt::skip]
const CLOSES_P: [&str; 36] = [
    "address", "article", "aside", "blockquote", "center", "details", "dialog", "dir", "div", "dl",
    "fieldset", "figcaption", "figure", "footer", "header", "hgroup", "main", "menu", "nav", "ol", "p",
    "search", "section", "summary", "ul", "pre", "listing", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dd", "dt",
];

/// Elements without content: never on the stack.
#[rustfmt::skip]
const VOID: [&str; 18] = [
    "area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "image", "img", "input",
    "keygen", "link", "meta", "param", "source", "track",
];

struct Open<'h> {
    name: &'h str,
    /// `false`: dropped for depth, and its end tag with it
    kept: bool,
}

/// `html` with tags deeper than [`MAX_DEPTH`] left out.
pub(super) fn flatten(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut stack: Vec<Open> = Vec::new();
    let mut kept = 0;
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        let tail = &rest[lt..];
        let after_lt = &tail[1..];
        let (end_tag, name_start) = match after_lt.strip_prefix('/') {
            Some(name) => (true, name),
            None => (false, after_lt),
        };
        if !name_start.starts_with(|c: char| c.is_ascii_alphabetic()) && !after_lt.starts_with(['!', '?', '/']) {
            // a lone `<` is text
            out.push('<');
            rest = after_lt;
            continue;
        }
        let tag_len = tail.find('>').map_or(tail.len(), |gt| gt + 1);
        let (tag, after) = tail.split_at(tag_len);
        rest = after;
        let name_len = name_start.find(|c: char| c.is_ascii_whitespace() || c == '/' || c == '>');
        let name = &name_start[..name_len.unwrap_or(name_start.len())];
        let keep = if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
            true // comment, doctype, processing instruction
        } else if end_tag {
            close(&mut stack, &mut kept, name)
        } else {
            open(&mut stack, &mut kept, name)
        };
        if keep {
            out.push_str(tag);
        }
    }
    out.push_str(rest);
    out
}

fn open<'h>(stack: &mut Vec<Open<'h>>, kept: &mut usize, name: &'h str) -> bool {
    if is_one_of(name, &VOID) {
        return true;
    }
    // what the parser closes first, when it is on top
    if is_one_of(name, &CLOSES_P) {
        pop_while(stack, kept, |top| top.eq_ignore_ascii_case("p"));
    }
    if is_one_of(name, &["td", "th", "tr"]) {
        // in a cell, closes the cell; elsewhere the parser ignores it
        let implied = stack.iter().rev().take_while(|open| is_one_of(open.name, &IMPLIED)).count();
        let cell = stack.len().checked_sub(implied + 1);
        if let Some(cell) = cell.filter(|&cell| is_one_of(stack[cell].name, &["td", "th"])) {
            *kept -= stack[cell..].iter().filter(|open| open.kept).count();
            stack.truncate(cell);
        }
    }
    match name.to_ascii_lowercase().as_str() {
        "li" => pop_if(stack, kept, &["li"]),
        "dd" | "dt" => pop_if(stack, kept, &["dd", "dt"]),
        "tr" => pop_if(stack, kept, &["tr"]),
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => pop_if(stack, kept, &["h1", "h2", "h3", "h4", "h5", "h6"]),
        _ => {}
    }
    let keep = *kept < MAX_DEPTH;
    *kept += usize::from(keep);
    stack.push(Open { name, kept: keep });
    keep
}

fn close(stack: &mut Vec<Open>, kept: &mut usize, name: &str) -> bool {
    let reach = stack.len().saturating_sub(END_TAG_REACH);
    let Some(at) = stack[reach..].iter().rposition(|open| open.name.eq_ignore_ascii_case(name)).map(|i| reach + i)
    else {
        return true; // the parser ignores it, or makes an empty element: no depth either way
    };
    let table = name.eq_ignore_ascii_case("table") || is_one_of(name, &TABLE_PARTS);
    let closes = stack[at + 1..].iter().all(|open| {
        ((is_one_of(name, &BLOCKS) || table) && is_one_of(open.name, &IMPLIED))
            || (table && is_one_of(open.name, &TABLE_PARTS))
    });
    if !closes {
        return true; // counted as still open: the estimate stays high, never low
    }
    let keep = stack[at].kept;
    *kept -= stack[at..].iter().filter(|open| open.kept).count();
    stack.truncate(at);
    keep
}

fn pop_while(stack: &mut Vec<Open>, kept: &mut usize, pop: impl Fn(&str) -> bool) {
    while stack.last().is_some_and(|top| pop(top.name)) {
        if stack.pop().is_some_and(|open| open.kept) {
            *kept -= 1;
        }
    }
}

fn pop_if(stack: &mut Vec<Open>, kept: &mut usize, names: &[&str]) {
    if stack.last().is_some_and(|top| is_one_of(top.name, names)) && stack.pop().is_some_and(|open| open.kept) {
        *kept -= 1;
    }
}

fn is_one_of(name: &str, names: &[&str]) -> bool {
    names.iter().any(|n| n.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readme_html_is_untouched() {
        // repeated, or each leftover level would add up past the bound
        let html = "<p align=\"center\"><img src=\"a.png\"><br>x</p><ul><li>a<li>b</ul><div><p>c</div>\
                    <table><tr><td>1<td>2<tr><td>3</table><!-- <div> --><h1>t</h1><blockquote><p>q</p></blockquote>";
        let html = html.repeat(MAX_DEPTH);
        assert_eq!(flatten(&html), html);
        assert_eq!(flatten("a < b <3 <"), "a < b <3 <");
    }

    #[test]
    fn deep_nesting_is_cut_at_the_bound() {
        let html = "<div>".repeat(200) + "x" + &"</div>".repeat(200) + "<p>after</p>";
        let expected = "<div>".repeat(MAX_DEPTH) + "x" + &"</div>".repeat(MAX_DEPTH) + "<p>after</p>";
        assert_eq!(flatten(&html), expected);
    }

    #[test]
    fn end_tags_the_parser_ignores_do_not_lower_the_estimate() {
        // `</span>` cannot close past the special `<div>`: the parser keeps both open
        let html = "<span><div></span>".repeat(100);
        assert_eq!(flatten(&html).matches("<div>").count(), MAX_DEPTH / 2);
        let html = "<p><b a=1></p>x".repeat(200);
        assert_eq!(flatten(&html).matches("<b a=1>").count(), MAX_DEPTH / 2);
        // `<td>` outside a table is ignored: the open `<li>` stays
        let html = "<ul><li><td>".repeat(100);
        assert_eq!(flatten(&html).matches("<ul>").count(), MAX_DEPTH / 3 + 1);
    }
}
