//! A text file as HTML lines: highlighted by syntect with class names (the colours are in
//! `media/highlight.css`, generated from two themes), or plain when the file is too big, too
//! minified, of no known language, or slower to highlight than [`BUDGET`] allows (a page waits
//! for less: see `source::background`). Each line's
//! HTML stands alone (every scope a line starts inside is reopened on it), so a page can
//! number, mark and link lines, and a diff can show any line out of its file.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use syntect::html::{ClassStyle, css_for_theme_with_class_style};
use syntect::parsing::{BasicScopeStackOp, ParseState, Scope, ScopeStack, SyntaxReference, SyntaxSet};

/// Bumped whenever the HTML changes: cached renderings of an older version are redone.
pub const RENDERER_VERSION: u32 = 1;

/// Highlighting stops after this long and the file is shown plain; the work runs on a
/// blocking thread, never on the async runtime's (see `source::background`: pages do not
/// wait for it). syntect's TypeScript reads ~190 KB/s on this machine's cores: 2 MiB, the
/// largest file highlighted, takes ~11 s alone, more on a busy machine.
pub const BUDGET: Duration = Duration::from_secs(30);

/// Files larger than this are shown plain (highlighting costs ~20× plain escaping).
pub const MAX_HIGHLIGHT_BYTES: u64 = 2 << 20;

/// A line longer than this marks a minified file: shown plain.
pub const MAX_HIGHLIGHT_LINE: u64 = 4_000;

/// Class prefix of every highlighting class, so file contents cannot reach the page's own.
const PREFIX: &str = "hl-";
/// syntect's class naming, prefixed.
pub const STYLE: ClassStyle = ClassStyle::SpacedPrefixed { prefix: PREFIX };

static SYNTAXES: LazyLock<SyntaxSet> = LazyLock::new(two_face::syntax::extra_newlines);

/// Loads the syntaxes now (on a blocking thread), so the first file page after a start does
/// not spend its short wait on them (~0.3 s in a release build, seconds in a debug one) and
/// show plain text.
pub fn warm_up() {
    tokio::task::spawn_blocking(|| LazyLock::force(&SYNTAXES));
}

/// How a file was rendered, for the page to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rendering {
    Highlighted,
    /// No syntax for its language.
    Plain,
    /// Over [`MAX_HIGHLIGHT_BYTES`] or with a line over [`MAX_HIGHLIGHT_LINE`].
    PlainTooBig,
    /// Highlighting took longer than [`BUDGET`] or failed.
    PlainTooSlow,
    /// Plain while the highlighting goes on in the background (a page does not wait for it).
    PlainForNow,
}

/// A file as HTML, one self-contained fragment per line (without its newline).
#[derive(Debug, Clone)]
pub struct Rendered {
    pub lines: Vec<String>,
    pub rendering: Rendering,
}

impl Rendered {
    /// Bytes held, for the cache's weigher.
    pub fn weight(&self) -> usize {
        self.lines.iter().map(|l| l.len() + 24).sum()
    }

    /// The file view's `<span class="line" id="L{n}">` lines, `marked` ones marked.
    pub fn numbered(&self, marked: Option<(usize, usize)>) -> String {
        let mut out = String::with_capacity(self.weight() + self.lines.len() * 96);
        for (i, line) in self.lines.iter().enumerate() {
            let n = i + 1;
            let class = if marked.is_some_and(|(a, b)| (a..=b).contains(&n)) { "line marked" } else { "line" };
            let _ = writeln!(
                out,
                "<span class=\"{class}\" id=\"L{n}\"><a class=\"ln\" href=\"#L{n}\" aria-label=\"Line {n}\" data-n=\"{n}\"></a>{line}</span>"
            );
        }
        out
    }
}

/// The syntaxes files are highlighted with (syntect's and two-face's).
pub fn syntax_set() -> &'static SyntaxSet {
    &SYNTAXES
}

/// The syntax a [`nodules_npm::files::Language::syntax`] token names.
pub fn syntax_for(syntax_token: Option<&str>) -> Option<&'static SyntaxReference> {
    let token = syntax_token?;
    SYNTAXES.find_syntax_by_token(token).or_else(|| SYNTAXES.find_syntax_by_extension(token))
}

/// Whether a syntax exists for `token` (a [`nodules_npm::files::Language::syntax`]).
pub fn has_syntax(token: &str) -> bool {
    syntax_for(Some(token)).is_some()
}

/// Renders `text` (highlighted by the syntax `token` names, when it may be). Blocking: call
/// it from `spawn_blocking`.
pub fn render(text: &str, token: Option<&str>, longest_line: u64) -> Rendered {
    let syntax = syntax_for(token);
    let too_big = text.len() as u64 > MAX_HIGHLIGHT_BYTES || longest_line > MAX_HIGHLIGHT_LINE;
    let rendering = match syntax {
        None => Rendering::Plain,
        Some(_) if too_big => Rendering::PlainTooBig,
        Some(s) => match highlighted(text, s, Instant::now() + BUDGET) {
            Some(r) => return r,
            None => Rendering::PlainTooSlow,
        },
    };
    plain(text, rendering)
}

/// `text` escaped, one line each, without highlighting.
pub fn plain(text: &str, rendering: Rendering) -> Rendered {
    let lines =
        lines(text).map(|line| minijinja::HtmlEscape(line.trim_end_matches(['\n', '\r'])).to_string()).collect();
    Rendered { lines, rendering }
}

/// Lines with their newline (as syntect's `newlines` syntaxes want them).
fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.split_inclusive('\n')
}

/// The compound selectors of either theme (`.hl-string.hl-quoted` → `["string", "quoted"]`),
/// wherever they stand in a selector: an element can only match those whose atoms it all has.
static COMPOUNDS: LazyLock<Vec<Vec<String>>> = LazyLock::new(|| {
    let css = stylesheet();
    let mut compounds: Vec<Vec<String>> = Vec::new();
    let mut rest = css.as_str();
    while let Some(i) = rest.find(".hl-") {
        rest = &rest[i..];
        let mut compound = Vec::new();
        while let Some(r) = rest.strip_prefix(&format!(".{PREFIX}")) {
            let end = r.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')).unwrap_or(r.len());
            compound.push(r[..end].to_string());
            rest = &r[end..];
        }
        if !compounds.contains(&compound) {
            compounds.push(compound);
        }
    }
    compounds
});

/// The classes of `scope` that some compound selector it fully carries names (`hl-string
/// hl-quoted`), or `None` when no selector can match it (no span at all: most of syntect's
/// markup); remembered per scope.
fn classes(scope: Scope, memo: &mut HashMap<Scope, Option<String>>) -> Option<String> {
    memo.entry(scope)
        .or_insert_with(|| {
            let name = scope.build_string();
            let atoms: HashSet<&str> = name.split('.').collect();
            let mut kept: Vec<&str> = Vec::new();
            for compound in COMPOUNDS.iter().filter(|c| c.iter().all(|a| atoms.contains(a.as_str()))) {
                kept.extend(compound.iter().map(String::as_str));
            }
            // in the scope's own order, once each
            let kept: Vec<String> =
                name.split('.').filter(|a| kept.contains(a)).map(|a| format!("{PREFIX}{a}")).collect();
            (!kept.is_empty()).then(|| {
                let mut seen = HashSet::new();
                kept.into_iter().filter(|c| seen.insert(c.clone())).collect::<Vec<_>>().join(" ")
            })
        })
        .clone()
}

fn open(out: &mut String, class: &str) {
    out.push_str("<span class=\"");
    out.push_str(class);
    out.push_str("\">");
}

/// `None` when the deadline passed or the syntax failed on this text.
fn highlighted(text: &str, syntax: &SyntaxReference, deadline: Instant) -> Option<Rendered> {
    let mut state = ParseState::new(syntax);
    let mut stack = ScopeStack::new();
    let mut memo = HashMap::new();
    let mut out = Vec::new();
    for line in lines(text) {
        if out.len() % 64 == 63 && Instant::now() > deadline {
            return None;
        }
        let ops = state.parse_line(line, &SYNTAXES).ok()?;
        let mut html = String::with_capacity(line.len() * 3);
        // for each scope on the stack, whether it opened a span; the line reopens what it
        // starts inside, so it stands alone
        let mut spans: Vec<bool> = Vec::with_capacity(stack.len());
        for scope in stack.as_slice() {
            let class = classes(*scope, &mut memo);
            if let Some(c) = &class {
                open(&mut html, c);
            }
            spans.push(class.is_some());
        }
        let body = line.trim_end_matches(['\n', '\r']);
        let mut at = 0;
        for (i, op) in ops {
            let i = i.min(body.len());
            if i > at {
                let _ = write!(html, "{}", minijinja::HtmlEscape(&body[at..i]));
                at = i;
            }
            stack
                .apply_with_hook(&op, |basic, _| match basic {
                    BasicScopeStackOp::Push(scope) => {
                        let class = classes(scope, &mut memo);
                        if let Some(c) = &class {
                            open(&mut html, c);
                        }
                        spans.push(class.is_some());
                    }
                    BasicScopeStackOp::Pop => {
                        if spans.pop() == Some(true) {
                            html.push_str("</span>");
                        }
                    }
                })
                .ok()?;
        }
        let _ = write!(html, "{}", minijinja::HtmlEscape(&body[at..]));
        for _ in spans.iter().filter(|s| **s) {
            html.push_str("</span>");
        }
        out.push(html);
    }
    Some(Rendered { lines: out, rendering: Rendering::Highlighted })
}

/// `media/highlight.css`: the light theme, and the dark one under `prefers-color-scheme`.
pub fn stylesheet() -> String {
    let themes = two_face::theme::extra();
    let light = themes.get(two_face::theme::EmbeddedThemeName::Github);
    let dark = themes.get(two_face::theme::EmbeddedThemeName::OneHalfDark);
    let light = css_for_theme_with_class_style(light, STYLE).unwrap_or_default();
    let dark = css_for_theme_with_class_style(dark, STYLE).unwrap_or_default();
    format!(
        "/* Generated by `nodules-webapp` (source/highlight.rs, stylesheet()): do not edit. */\n{light}\n\
         @media (prefers-color-scheme: dark) {{\n{dark}\n}}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_the_browser_names_has_a_syntax() {
        for token in ["js", "ts", "tsx", "json", "md", "css", "scss", "html", "yaml", "sh", "c", "cpp", "rs", "py"] {
            assert!(has_syntax(token), "no syntax for {token}");
        }
    }

    #[test]
    fn lines_stand_alone_and_content_is_escaped() {
        let text = "/* a\n<script>alert(1)</script> */\nconst x = \"</span>\";\n";
        let r = render(text, Some("js"), 40);
        assert_eq!((r.lines.len(), r.rendering), (3, Rendering::Highlighted));
        let html = r.numbered(None);
        assert!(!html.contains("<script>") && html.contains("&lt;script&gt;"), "{html}");
        for line in html.lines() {
            assert_eq!(line.matches("<span").count(), line.matches("</span>").count(), "unbalanced: {line}");
        }
        // the comment's second line reopens the comment scope
        let second = &r.lines[1];
        assert!(second.contains("hl-comment"), "{second}");
    }

    #[test]
    fn plain_when_unknown_minified_or_huge() {
        assert_eq!(render("a\n", None, 1).rendering, Rendering::Plain);
        assert_eq!(render("a\n", Some("js"), MAX_HIGHLIGHT_LINE + 1).rendering, Rendering::PlainTooBig);
        let r = render("x\ny", None, 1);
        assert_eq!(r.lines.len(), 2);
        assert!(r.numbered(None).contains("id=\"L2\""));
        let marked = r.numbered(Some((2, 5)));
        assert!(
            marked.contains("<span class=\"line\" id=\"L1\">")
                && marked.contains("<span class=\"line marked\" id=\"L2\">")
        );
    }

    #[test]
    fn the_stylesheet_in_media_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../media/highlight.css");
        let want = stylesheet();
        if std::env::var_os("NODULES_UPDATE_MEDIA").is_some() {
            std::fs::write(path, &want).expect("write media/highlight.css");
        }
        let have = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            have == want,
            "media/highlight.css is out of date: run NODULES_UPDATE_MEDIA=1 cargo test -p nodules-webapp"
        );
    }
}
