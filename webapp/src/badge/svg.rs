//! Drawing a badge: a grey label and a coloured message side by side (shields.io's flat
//! style), an optional sparkline before the message. Every text is escaped (package names
//! and versions are anyone's input), and there is no `style`: the site's CSP forbids inline
//! styles, so colours and fonts are presentation attributes.

use crate::pages::github::{GRAPH_HEIGHT, Graph};

pub const BLUE: &str = "#007ec6";
pub const GREEN: &str = "#4c1";
pub const ORANGE: &str = "#fe7d37";
pub const RED: &str = "#e05d44";
pub const GREY: &str = "#9f9f9f";
const LABEL: &str = "#555";

/// Height of every badge.
const HEIGHT: f64 = 20.0;
/// Average advance of one character of 11px Verdana, as shields.io estimates it: no font is
/// measured here, and `textLength` makes the text fit the box it was given.
const CHAR_WIDTH: f64 = 6.5;
/// Space either side of a text.
const PAD: f64 = 5.0;
/// Longest text shown (a version can be as long as anyone likes).
const MAX_CHARS: usize = 40;
/// The sparkline's scale: half the module page's bar step, 14 of its 32 units high.
const SPARK_X: f64 = 0.5;
const SPARK_HEIGHT: f64 = 14.0;
/// Between the sparkline and the text.
const SPARK_GAP: f64 = 4.0;

/// What a badge says.
#[derive(Debug)]
pub struct Badge {
    pub label: String,
    pub message: String,
    /// The message's background.
    pub color: &'static str,
    /// Weekly bars drawn before the message.
    pub sparkline: Option<Graph>,
}

impl Badge {
    /// `label | message`; both cut to [`MAX_CHARS`].
    pub fn new(label: &str, message: &str, color: &'static str) -> Badge {
        Badge {
            label: crate::format::clip(label, MAX_CHARS),
            message: crate::format::clip(message, MAX_CHARS),
            color,
            sparkline: None,
        }
    }

    /// With `graph` drawn before the message.
    pub fn with_sparkline(self, graph: Graph) -> Badge {
        Badge { sparkline: Some(graph), ..self }
    }

    /// What a screen reader says and a tooltip shows: `npm: v1.2.3`.
    pub fn title(&self) -> String {
        format!("{}: {}", self.label, self.message)
    }

    fn spark_width(&self) -> f64 {
        self.sparkline.as_ref().map_or(0.0, |g| g.width as f64 * SPARK_X + SPARK_GAP)
    }

    /// Widths of the label's and the message's boxes.
    pub fn widths(&self) -> (f64, f64) {
        (text_width(&self.label) + 2.0 * PAD, self.spark_width() + text_width(&self.message) + 2.0 * PAD)
    }

    /// The SVG document.
    pub fn render(&self) -> String {
        let (lw, mw) = self.widths();
        let w = lw + mw;
        let title = escape(&self.title());
        let (label, message) = (escape(&self.label), escape(&self.message));
        let (label_len, message_len) = (text_width(&self.label), text_width(&self.message));
        let (label_x, message_x) = (lw / 2.0, lw + self.spark_width() + PAD + message_len / 2.0);
        let mut out = String::with_capacity(1500);
        out.push_str(&format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{HEIGHT}" viewBox="0 0 {w} {HEIGHT}" role="img" aria-label="{title}"><title>{title}</title><linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient><clipPath id="r"><rect width="{w}" height="{HEIGHT}" rx="3" fill="#fff"/></clipPath><g clip-path="url(#r)"><rect width="{lw}" height="{HEIGHT}" fill="{LABEL}"/><rect x="{lw}" width="{mw}" height="{HEIGHT}" fill="{color}"/><rect width="{w}" height="{HEIGHT}" fill="url(#s)"/></g>"##,
            color = self.color,
        ));
        if let Some(g) = &self.sparkline {
            let scale_y = SPARK_HEIGHT / GRAPH_HEIGHT as f64;
            let top = (HEIGHT - SPARK_HEIGHT) / 2.0;
            out.push_str(&format!(
                r##"<g fill="#fff" fill-opacity=".85" transform="translate({x} {top}) scale({SPARK_X} {scale_y})">"##,
                x = lw + PAD,
            ));
            for (x, y, h) in &g.bars {
                out.push_str(&format!(r#"<rect x="{x}" y="{y}" width="3" height="{h}"/>"#));
            }
            out.push_str("</g>");
        }
        out.push_str(&format!(
            r##"<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" text-rendering="geometricPrecision" font-size="11"><text x="{label_x}" y="15" fill="#010101" fill-opacity=".3" textLength="{label_len}">{label}</text><text x="{label_x}" y="14" textLength="{label_len}">{label}</text><text x="{message_x}" y="15" fill="#010101" fill-opacity=".3" textLength="{message_len}">{message}</text><text x="{message_x}" y="14" textLength="{message_len}">{message}</text></g></svg>"##
        ));
        out
    }
}

/// Estimated width of `text` at 11px (see [`CHAR_WIDTH`]), whole pixels.
pub fn text_width(text: &str) -> f64 {
    (text.chars().count() as f64 * CHAR_WIDTH).ceil()
}

/// `s` as XML text or attribute value: `&<>"'` as entities, and the characters XML 1.0
/// cannot hold at all (controls but tab and newlines, U+FFFE, U+FFFF) as U+FFFD.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::github::graph;

    fn parse(svg: &str) -> roxmltree::Document<'_> {
        roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("not XML ({e}): {svg}"))
    }

    fn attr(doc: &roxmltree::Document<'_>, tag: &str, name: &str) -> Vec<String> {
        doc.descendants()
            .filter(|n| n.has_tag_name(tag))
            .filter_map(|n| n.attribute(name).map(str::to_string))
            .collect()
    }

    #[test]
    fn hostile_text_is_escaped_and_read_back_as_written() {
        assert_eq!(escape(r#"<script>&"'"#), "&lt;script&gt;&amp;&quot;&apos;");
        assert_eq!(escape("a\u{0}b\u{1b}c\td\u{FFFF}"), "a\u{FFFD}b\u{FFFD}c\td\u{FFFD}");
        let hostile = r#"<script>&"'"#;
        let svg = Badge::new(hostile, "v1.0.0\u{7}<x/>", BLUE).render();
        assert!(!svg.contains("<script") && !svg.contains("<x/>"), "{svg}");
        let doc = parse(&svg);
        let root = doc.root_element();
        assert_eq!(root.attribute("role"), Some("img"));
        let title = format!("{hostile}: v1.0.0\u{FFFD}<x/>");
        assert_eq!(root.attribute("aria-label"), Some(title.as_str()));
        let shown: Vec<&str> =
            root.descendants().filter(|n| n.has_tag_name("title")).filter_map(|n| n.text()).collect();
        assert_eq!(shown, vec![title.as_str()]);
        let texts: Vec<&str> = root.descendants().filter(|n| n.has_tag_name("text")).filter_map(|n| n.text()).collect();
        assert_eq!(texts, vec![hostile, hostile, "v1.0.0\u{FFFD}<x/>", "v1.0.0\u{FFFD}<x/>"]);
        // the site's CSP forbids inline styles: presentation attributes only
        assert!(root.descendants().all(|n| n.attribute("style").is_none() && !n.has_tag_name("style")), "{svg}");
    }

    #[test]
    fn widths_follow_the_text() {
        assert_eq!(text_width("npm"), 20.0);
        assert_eq!(text_width("v1.2.3"), 39.0);
        assert_eq!(text_width("é😀"), 13.0, "characters, not bytes");
        let b = Badge::new("npm", "v1.2.3", BLUE);
        assert_eq!(b.widths(), (30.0, 49.0));
        let svg = b.render();
        let doc = parse(&svg);
        assert_eq!(doc.root_element().attribute("width"), Some("79"));
        assert_eq!(attr(&doc, "rect", "width")[1..4], ["30", "49", "79"]);
        assert_eq!(attr(&doc, "text", "textLength"), ["20", "20", "39", "39"]);
        // the message is centred in its box
        assert_eq!(attr(&doc, "text", "x"), ["15", "15", "54.5", "54.5"]);
        let long = Badge::new("npm", &"9".repeat(500), BLUE);
        assert_eq!(long.message.chars().count(), 40, "cut");
        assert!(long.widths().1 < 300.0);
    }

    #[test]
    fn the_sparkline_sits_before_the_message() {
        let mut weeks = vec![6; 52];
        weeks[51] = 0;
        let b = Badge::new("activity", "306 commits/yr", GREEN).with_sparkline(graph(&weeks));
        // 52 bars of 4 units at half scale, the gap, then the text
        assert_eq!(b.widths(), (62.0, 104.0 + 4.0 + 91.0 + 10.0));
        let svg = b.render();
        let doc = parse(&svg);
        let bars = doc.descendants().filter(|n| n.has_tag_name("rect") && n.attribute("y").is_some()).count();
        assert_eq!(bars, 52, "{svg}");
        assert!(svg.contains(r#"transform="translate(67 3) scale(0.5 0.4375)""#), "{svg}");
        assert_eq!(attr(&doc, "text", "x")[2], (62.0 + 108.0 + 5.0 + 45.5).to_string());
    }
}
