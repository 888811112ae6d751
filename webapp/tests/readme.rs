//! README rendering: hostile Markdown and HTML come out inert, GFM and common README HTML stay.
//! Assertions run on the parsed output, as a browser would see it.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use nodules_webapp::readme::{LinkBase, MAX_README_BYTES, cache_key, render, render_plain};
use scraper::{ElementRef, Html, Selector};
use url::Url;

const BLOB: &str = "https://github.com/acme/widget/blob/HEAD";
const RAW: &str = "https://raw.githubusercontent.com/acme/widget/HEAD";

fn acme() -> LinkBase {
    LinkBase::github("acme", "widget", None, None)
}

fn parse(html: &str) -> Html {
    Html::parse_fragment(html)
}

fn select<'d>(doc: &'d Html, selector: &str) -> Vec<ElementRef<'d>> {
    let selector = Selector::parse(selector).expect("test selector");
    doc.select(&selector).collect()
}

fn one<'d>(doc: &'d Html, selector: &str) -> ElementRef<'d> {
    let found = select(doc, selector);
    assert_eq!(found.len(), 1, "expected one `{selector}` in {}", doc.html());
    found[0]
}

fn attr<'e>(element: ElementRef<'e>, name: &str) -> Option<&'e str> {
    element.value().attr(name)
}

fn elements(doc: &Html) -> impl Iterator<Item = ElementRef<'_>> {
    doc.root_element().descendants().filter_map(ElementRef::wrap)
}

fn is_allowed_url(value: &str, image: bool) -> bool {
    if !image && (value == "#" || value.starts_with("#user-content-")) {
        return true;
    }
    let Ok(url) = Url::parse(value) else { return false };
    match url.scheme() {
        "http" | "https" => url.has_host(),
        "mailto" => !image,
        "data" => image && value.starts_with("data:image/png;base64,"),
        _ => false,
    }
}

/// What must hold for any rendered README, whatever went in.
fn assert_inert(markdown: &str, html: &str) {
    const FORBIDDEN: [&str; 18] = [
        "script", "style", "iframe", "object", "embed", "form", "noscript", "svg", "math", "base", "meta", "link",
        "template", "textarea", "xmp", "frame", "button", "select",
    ];
    let doc = parse(html);
    let ids: HashSet<&str> = elements(&doc).filter_map(|e| attr(e, "id")).collect();
    for element in elements(&doc) {
        let name = element.value().name();
        let context = || format!("{markdown:?} rendered as {html}");
        assert!(!FORBIDDEN.contains(&name), "<{name}> in {}", context());
        for (attribute, value) in element.value().attrs() {
            let attribute = attribute.to_ascii_lowercase();
            assert!(!attribute.starts_with("on"), "{attribute} on <{name}> in {}", context());
            assert!(
                !["style", "formaction", "action", "xlink:href", "background"].contains(&&*attribute),
                "{}",
                context()
            );
            match attribute.as_str() {
                "href" => assert!(is_allowed_url(value, false), "href {value:?} in {}", context()),
                "src" => assert!(is_allowed_url(value, true), "src {value:?} in {}", context()),
                "srcset" => {
                    for candidate in value.split(", ") {
                        let url = candidate.split(' ').next().unwrap_or("");
                        assert!(url.starts_with("https://") || url.starts_with("http://"), "srcset in {}", context());
                    }
                }
                "id" | "name" => assert!(value.starts_with("user-content-"), "{attribute}={value:?} in {}", context()),
                _ => {}
            }
        }
        if name == "a"
            && let Some(href) = attr(element, "href")
        {
            if let Some(target) = href.strip_prefix('#') {
                // in-page: a heading's self-link or a footnote, which must exist
                if href.starts_with("#user-content-fn") || attr(element, "class") == Some("anchor") {
                    assert!(ids.contains(target), "dangling {href} in {}", context());
                }
            } else {
                let rel: HashSet<&str> = attr(element, "rel").unwrap_or("").split(' ').collect();
                for needed in ["nofollow", "noopener", "noreferrer"] {
                    assert!(rel.contains(needed), "rel lacks {needed} on {href} in {}", context());
                }
            }
        }
        if name == "input" {
            assert_eq!(attr(element, "type"), Some("checkbox"), "{}", context());
            assert!(attr(element, "disabled").is_some(), "{}", context());
        }
    }
}

fn render_checked(markdown: &str, base: &LinkBase) -> String {
    let html = render(markdown, base);
    assert_inert(markdown, &html);
    html
}

const HOSTILE: &[&str] = &[
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=\"x\" ONERROR=\"alert(1)\">",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
    "<a href=\"javascript&#58;alert(1)\">x</a>",
    "<a href=\"&#106;avascript:alert(1)\">x</a>",
    "<a href=\"java&#x09;script:alert(1)\">x</a>",
    "<a href=\" \u{1}javascript:alert(1)\">x</a>",
    "<a href=\"vbscript:msgbox(1)\">x</a>",
    "<a href=\"data:text/html,<script>alert(1)</script>\">x</a>",
    "<a href=\"file:///etc/passwd\">x</a>",
    "[x](javascript:alert(1))",
    "[x](JAVASCRIPT:alert(1))",
    "[x](javascript&#58;alert(1))",
    "[x](<javascript:alert(1)>)",
    "[x][r]\n\n[r]: javascript:alert(1)",
    "![x](javascript:alert(1))",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "<img src=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">",
    "<javascript:alert(1)>",
    "<iframe src=\"https://evil.example\"></iframe>",
    "<iframe srcdoc=\"<script>alert(1)</script>\">",
    "<svg onload=alert(1)><circle r=1 /></svg>",
    "<svg><a xlink:href=\"javascript:alert(1)\"><text>x</text></a></svg>",
    "<svg><animate attributeName=href values=javascript:alert(1) /><a><text>x</text></a></svg>",
    "<style>body { display: none }</style>",
    "<div style=\"position:fixed;inset:0\">cover</div>",
    "<form action=\"https://evil.example\"><input type=text name=q><button formaction=x>Go</button></form>",
    "<input type=\"text\" autofocus onfocus=\"alert(1)\">",
    "<object data=\"x.swf\"></object><embed src=\"x.swf\">",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "<noscript><style></noscript><img src=x onerror=alert(1)></style></noscript>",
    "<svg></p><style><a id=\"</style><img src=1 onerror=alert(1)>\">",
    "<template><img src=x onerror=alert(1)></template>",
    "<textarea><img src=x onerror=alert(1)></textarea>",
    "<xmp><img src=x onerror=alert(1)></xmp>",
    "<select><style></select><img src=x onerror=alert(1)>",
    "<!-- <img src=x onerror=alert(1)> -->",
    "<p onclick=\"alert(1)\" onmouseover=alert(1)>x</p>",
    "<details open ontoggle=alert(1)><summary>x</summary></details>",
    "<picture><source srcset=\"javascript:alert(1) 1x, x.png 2x\"><img src=\"x.png\"></picture>",
    "<base href=\"https://evil.example/\"><meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<link rel=stylesheet href=\"https://evil.example/x.css\">",
    "<a href=\"#x\" id=\"search\" name=\"cookie\">clobber</a>",
    "<table background=\"javascript:alert(1)\"><tr><td>x</td></tr></table>",
    "<a href=\"//evil.example/\">protocol-relative</a>",
];

#[test]
fn hostile_input_renders_inert() {
    for base in [LinkBase::none(), acme(), LinkBase::github("acme", "widget", Some("packages/core"), Some("v2"))] {
        for markdown in HOSTILE {
            render_checked(markdown, &base);
            // the same inside Markdown structures: lists, quotes, tables, headings
            render_checked(&format!("- item\n\n  {markdown}"), &base);
            render_checked(&format!("> {markdown}"), &base);
            render_checked(&format!("| a |\n|---|\n| {markdown} |"), &base);
            render_checked(&format!("## {markdown}\n\n[to](#{markdown})"), &base);
        }
        render_checked(&HOSTILE.join("\n\n"), &base);
        render_checked(&HOSTILE.concat(), &base);
    }
}

#[test]
fn hostile_elements_and_attributes_are_gone() {
    let html = render("<script>alert(1)</script><img src=x onerror=alert(1)>", &LinkBase::none());
    let doc = parse(&html);
    assert!(select(&doc, "script").is_empty());
    let img = one(&doc, "img");
    assert_eq!(img.value().attrs().count(), 0, "relative src dropped, onerror dropped: {html}");

    let doc = parse(&render("[x](javascript:alert(1)) <a href=\"javascript&#58;alert(1)\">y</a>", &acme()));
    for a in select(&doc, "a") {
        assert_eq!(attr(a, "href"), None);
    }
    // a browser parses `<noscript>` content as text: the `<img>` is real there, and loses `onerror`
    let doc = parse(&render("<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">", &acme()));
    let img = one(&doc, "img");
    assert_eq!(img.value().attrs().map(|(name, _)| name).collect::<Vec<_>>(), ["src"]);
}

#[test]
fn gfm_tables_strikethrough_and_autolinks() {
    let html = render_checked(
        "| Option | Default |\n|:------:|--------:|\n| `a<b` | ~~1~~ 2 |\n\nSee https://example.com/docs.",
        &acme(),
    );
    let doc = parse(&html);
    let headers = select(&doc, "table thead th");
    assert_eq!(headers.len(), 2);
    assert_eq!(attr(headers[0], "align"), Some("center"));
    assert_eq!(attr(headers[1], "align"), Some("right"));
    assert_eq!(one(&doc, "table tbody td code").text().collect::<String>(), "a<b");
    assert_eq!(one(&doc, "td del").text().collect::<String>(), "1");
    let link = one(&doc, "p a");
    assert_eq!(attr(link, "href"), Some("https://example.com/docs"));
    assert_eq!(attr(link, "rel"), Some("nofollow noopener noreferrer"));
}

#[test]
fn task_lists_are_disabled_checkboxes() {
    let doc = parse(&render_checked("- [x] done\n- [ ] todo\n- plain", &acme()));
    let boxes = select(&doc, "ul.contains-task-list > li.task-list-item > input.task-list-item-checkbox");
    assert_eq!(boxes.len(), 2);
    assert!(attr(boxes[0], "checked").is_some());
    assert!(attr(boxes[1], "checked").is_none());
}

#[test]
fn code_blocks_are_escaped_with_a_language_class() {
    let code = "if (a < b && c > d) {\n  el.innerHTML = '<img src=x onerror=alert(1)>';\n}\n";
    let doc = parse(&render_checked(&format!("```js\n{code}```\n\n```\nplain\n```\n\n```\"><x\nq\n```"), &acme()));
    let blocks = select(&doc, "pre > code");
    assert_eq!(blocks.len(), 3);
    assert_eq!(attr(blocks[0], "class"), Some("language-js"));
    assert_eq!(blocks[0].text().collect::<String>(), code);
    assert_eq!(blocks[0].children().filter_map(ElementRef::wrap).count(), 0);
    assert_eq!(attr(blocks[1], "class"), None);
    assert_eq!(attr(blocks[2], "class"), None);
}

#[test]
fn footnotes_link_both_ways() {
    let doc = parse(&render_checked("Claim.[^src]\n\n[^src]: The source.", &acme()));
    let reference = one(&doc, "sup.footnote-ref a");
    let target = attr(reference, "href").and_then(|h| h.strip_prefix('#')).expect("footnote href");
    let note = one(&doc, &format!("section.footnotes li[id=\"{target}\"]"));
    let back = select(&doc, "a.footnote-backref")[0];
    let back_target = attr(back, "href").and_then(|h| h.strip_prefix('#')).expect("backref href");
    assert_eq!(attr(reference, "id"), Some(back_target));
    assert!(note.text().any(|t| t.contains("The source")));
}

#[test]
fn headings_get_github_ids_and_self_links() {
    let markdown = "# Hello World\n\n## Hello World\n\n## Hello World\n\n### What's new? (v2.0)\n\n\
                    <h1 align=\"center\">My <em>Lib</em></h1>\n\n## Ünïcode & `code`\n\n[Go](#hello-world-1)";
    let doc = parse(&render_checked(markdown, &acme()));
    let ids: Vec<&str> = select(&doc, "h1, h2, h3").into_iter().filter_map(|h| attr(h, "id")).collect();
    assert_eq!(
        ids,
        [
            "user-content-hello-world",
            "user-content-hello-world-1",
            "user-content-hello-world-2",
            "user-content-whats-new-v20",
            "user-content-my-lib",
            "user-content-ünïcode--code",
        ]
    );
    for heading in select(&doc, "h1, h2, h3") {
        let id = attr(heading, "id").expect("heading id");
        let anchor = heading.children().filter_map(ElementRef::wrap).last().expect("self-link");
        assert_eq!(attr(anchor, "class"), Some("anchor"));
        assert_eq!(attr(anchor, "href"), Some(&*format!("#{id}")));
    }
    assert_eq!(attr(one(&doc, "h1[align]"), "align"), Some("center"));
    assert_eq!(attr(one(&doc, "p a"), "href"), Some("#user-content-hello-world-1"));
}

#[test]
fn in_page_links_and_named_anchors_are_prefixed() {
    let doc = parse(&render_checked(
        "<a name=\"install\"></a>\n\n[Install](#install) <a href=\"#user-content-install\">again</a> [top](#)",
        &LinkBase::none(),
    ));
    assert_eq!(attr(one(&doc, "a[name]"), "name"), Some("user-content-install"));
    let hrefs: Vec<_> = select(&doc, "a[href]").into_iter().filter_map(|a| attr(a, "href")).collect();
    assert_eq!(hrefs, ["#user-content-install", "#user-content-install", "#"]);
}

#[test]
fn relative_links_and_images_resolve_into_the_repository() {
    let markdown = "[API](docs/API.md) [root](/LICENSE) [up](../shared/README.md#usage) ![logo](./media/logo.png)\n\n\
                    <img src=\"media/wide.png\" width=\"300\"> [abs](https://example.com/x)";
    let doc = parse(&render_checked(markdown, &acme()));
    let hrefs: Vec<_> = select(&doc, "a[href]").into_iter().filter_map(|a| attr(a, "href")).collect();
    assert_eq!(
        hrefs,
        [
            format!("{BLOB}/docs/API.md"),
            format!("{BLOB}/LICENSE"),
            format!("{BLOB}/shared/README.md#usage"),
            "https://example.com/x".to_owned()
        ]
    );
    let srcs: Vec<_> = select(&doc, "img").into_iter().filter_map(|i| attr(i, "src")).collect();
    assert_eq!(srcs, [format!("{RAW}/media/logo.png"), format!("{RAW}/media/wide.png")]);

    let nested = LinkBase::github("acme", "widget", Some("packages/core"), Some("v1.0.0"));
    let doc = parse(&render_checked(markdown, &nested));
    let hrefs: Vec<_> = select(&doc, "a[href]").into_iter().filter_map(|a| attr(a, "href")).collect();
    let blob = "https://github.com/acme/widget/blob/v1.0.0";
    assert_eq!(
        hrefs[..3],
        [
            format!("{blob}/packages/core/docs/API.md"),
            format!("{blob}/LICENSE"),
            format!("{blob}/packages/shared/README.md#usage"),
        ]
    );
    let srcs: Vec<_> = select(&doc, "img").into_iter().filter_map(|i| attr(i, "src")).collect();
    assert_eq!(srcs[0], "https://raw.githubusercontent.com/acme/widget/v1.0.0/packages/core/media/logo.png");
}

#[test]
fn unknown_repository_keeps_link_text_only() {
    let doc = parse(&render_checked("[API](docs/API.md) ![logo](logo.png)", &LinkBase::none()));
    let link = one(&doc, "a");
    assert_eq!(attr(link, "href"), None);
    assert_eq!(link.text().collect::<String>(), "API");
    let img = one(&doc, "img");
    assert_eq!(attr(img, "src"), None);
    assert_eq!(attr(img, "alt"), Some("logo"));
}

#[test]
fn common_readme_html_is_kept() {
    let markdown = "<p align=\"center\">\n  <a href=\"https://www.npmjs.com/package/widget\">\
                    <img src=\"https://img.shields.io/npm/v/widget.svg?style=flat\" alt=\"npm\" height=\"20\"></a>\n</p>\n\n\
                    [![build](https://github.com/acme/widget/actions/workflows/ci.yml/badge.svg)](https://github.com/acme/widget/actions)\n\n\
                    <details><summary>More</summary>\n\nPress <kbd>Ctrl</kbd>+<kbd>C</kbd>, H<sub>2</sub>O, x<sup>2</sup>.\n\n</details>\n\n\
                    <picture><source media=\"(prefers-color-scheme: dark)\" srcset=\"media/dark.png\">\
                    <img src=\"media/light.png\" alt=\"logo\"></picture>\n\n\
                    <img src=\"data:image/png;base64,iVBORw0KGgo=\" alt=\"dot\">";
    let doc = parse(&render_checked(markdown, &acme()));
    assert_eq!(attr(one(&doc, "p[align]"), "align"), Some("center"));
    let badges: Vec<_> = select(&doc, "a > img").into_iter().filter_map(|i| attr(i, "src")).collect();
    assert_eq!(
        badges,
        [
            "https://img.shields.io/npm/v/widget.svg?style=flat",
            "https://github.com/acme/widget/actions/workflows/ci.yml/badge.svg"
        ]
    );
    assert_eq!(attr(select(&doc, "a > img")[0], "height"), Some("20"));
    assert_eq!(one(&doc, "details > summary").text().collect::<String>(), "More");
    assert_eq!(select(&doc, "details kbd").len(), 2);
    assert_eq!(select(&doc, "details sub, details sup").len(), 2);
    let source = one(&doc, "picture > source");
    assert_eq!(attr(source, "srcset"), Some(&*format!("{RAW}/media/dark.png")));
    assert_eq!(attr(source, "media"), Some("(prefers-color-scheme: dark)"));
    assert_eq!(attr(one(&doc, "picture > img"), "src"), Some(&*format!("{RAW}/media/light.png")));
    assert_eq!(attr(one(&doc, "img[alt=dot]"), "src"), Some("data:image/png;base64,iVBORw0KGgo="));
}

#[test]
fn plain_readmes_are_escaped_in_pre() {
    let text = "Usage: <script>alert(\"x\")</script> & 'more'\n";
    let doc = parse(&render_plain(text));
    let pre = one(&doc, "pre");
    assert_eq!(pre.text().collect::<String>(), text);
    assert_eq!(pre.children().filter_map(ElementRef::wrap).count(), 0);
}

#[test]
fn cache_key_covers_blob_and_link_base() {
    let key = cache_key("blob-1", &acme());
    assert_eq!(key.len(), 64);
    assert!(key.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(key, cache_key("blob-1", &LinkBase::github("acme", "widget.git", Some("/"), Some("HEAD"))));
    assert_ne!(key, cache_key("blob-2", &acme()));
    assert_ne!(key, cache_key("blob-1", &LinkBase::none()));
    assert_ne!(key, cache_key("blob-1", &LinkBase::github("acme", "widget", Some("packages/a"), None)));
    assert_ne!(key, cache_key("blob-1", &LinkBase::github("acme", "widget", None, Some("v1"))));
}

#[test]
fn long_readmes_are_cut_with_a_note() {
    let line = "Some *text* with a [link](https://example.com).\n";
    let markdown = line.repeat(MAX_README_BYTES / line.len() + 100);
    let started = Instant::now();
    let doc = parse(&render_checked(&markdown, &acme()));
    let elapsed = started.elapsed();
    eprintln!("2 MiB-ish README: {elapsed:?}");
    assert!(one(&doc, "p.readme-truncated").text().any(|t| t.contains("1 MiB")));
    assert!(elements(&doc).count() < markdown.len() / 10);
    let plain = parse(&render_plain(&"x".repeat(MAX_README_BYTES + 1)));
    assert!(one(&plain, "pre").text().map(str::len).sum::<usize>() <= MAX_README_BYTES);
    one(&plain, "p.readme-truncated");
}

#[test]
fn pathological_input_is_fast() {
    let cases = [
        ("100k nested >", ">".repeat(100_000) + " x"),
        ("100k [", "[".repeat(100_000)),
        ("100k [ then ]", "[".repeat(50_000) + &"]".repeat(50_000)),
        ("50k *", "*".repeat(50_000) + "a"),
        ("50k *a", "*a".repeat(50_000)),
        ("50k nested lists", (0..50_000).map(|i| format!("{}- x\n", "  ".repeat(i % 1_000))).collect()),
        ("100k <div>", "<div>".repeat(100_000)),
        ("50k <ul><li>", "<ul><li>".repeat(50_000)),
        ("50k <span><div></span>", "<span><div></span>".repeat(50_000)),
        ("30k <p><b a=N></p>x", (0..30_000).map(|i| format!("<p><b a={i}></p>x")).collect()),
        ("50k <table><td>", "<table><td>".repeat(50_000)),
        ("100k <b>", "<b>".repeat(100_000)),
        ("50k <!--><div>", "<!--><div>".repeat(50_000)),
        ("50k <div title=\">", "<div title=\">".repeat(50_000)),
        ("50k nested <a>", "<a href=x>".repeat(50_000)),
        ("100k backticks", "`".repeat(100_000)),
        ("50k ![", "![".repeat(50_000)),
        ("100k table cells", format!("{}\n{}\n", "|a".repeat(50_000), "|-".repeat(50_000))),
    ];
    for (name, markdown) in cases {
        let started = Instant::now();
        let html = render(&markdown, &acme());
        let elapsed = started.elapsed();
        eprintln!("{name}: {elapsed:?} ({} bytes out)", html.len());
        assert!(elapsed < Duration::from_secs(1), "{name} took {elapsed:?}");
    }
}
