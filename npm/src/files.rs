//! What a file in a package is: its language (by name, as editors decide it), and whether
//! its bytes are text, with how many lines and how long the longest. The downloader computes
//! these once when it unpacks a tarball and stores them in the file tree; the webapp reads
//! them from there (and picks its highlighter by [`Language::syntax`]), never from the blob.

/// A language the source browser names and highlights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Language {
    /// The name shown and stored (`TypeScript`).
    pub name: &'static str,
    /// The syntax to highlight it with, by its file-extension token (`ts`).
    pub syntax: &'static str,
}

const fn lang(name: &'static str, syntax: &'static str) -> Language {
    Language { name, syntax }
}

/// By extension (lower-cased), the languages packages are mostly made of.
const BY_EXTENSION: &[(&str, Language)] = &[
    ("js", lang("JavaScript", "js")),
    ("mjs", lang("JavaScript", "js")),
    ("cjs", lang("JavaScript", "js")),
    ("jsx", lang("JavaScript (JSX)", "js")),
    ("ts", lang("TypeScript", "ts")),
    ("mts", lang("TypeScript", "ts")),
    ("cts", lang("TypeScript", "ts")),
    ("tsx", lang("TypeScript (TSX)", "tsx")),
    ("json", lang("JSON", "json")),
    ("map", lang("JSON", "json")),
    ("md", lang("Markdown", "md")),
    ("markdown", lang("Markdown", "md")),
    ("css", lang("CSS", "css")),
    ("scss", lang("SCSS", "scss")),
    ("sass", lang("Sass", "sass")),
    ("less", lang("Less", "less")),
    ("html", lang("HTML", "html")),
    ("htm", lang("HTML", "html")),
    ("vue", lang("Vue", "vue")),
    ("svelte", lang("Svelte", "svelte")),
    ("xml", lang("XML", "xml")),
    ("svg", lang("SVG", "xml")),
    ("yml", lang("YAML", "yaml")),
    ("yaml", lang("YAML", "yaml")),
    ("toml", lang("TOML", "toml")),
    ("sh", lang("Shell", "sh")),
    ("bash", lang("Shell", "sh")),
    ("zsh", lang("Shell", "sh")),
    ("c", lang("C", "c")),
    ("h", lang("C", "c")),
    ("cc", lang("C++", "cpp")),
    ("cpp", lang("C++", "cpp")),
    ("cxx", lang("C++", "cpp")),
    ("hh", lang("C++", "cpp")),
    ("hpp", lang("C++", "cpp")),
    ("gyp", lang("Python", "py")),
    ("gypi", lang("Python", "py")),
    ("rs", lang("Rust", "rs")),
    ("py", lang("Python", "py")),
    ("go", lang("Go", "go")),
    ("java", lang("Java", "java")),
    ("rb", lang("Ruby", "rb")),
    ("php", lang("PHP", "php")),
    ("coffee", lang("CoffeeScript", "coffee")),
    ("graphql", lang("GraphQL", "graphql")),
    ("sql", lang("SQL", "sql")),
    ("txt", lang("Text", "txt")),
    ("flow", lang("JavaScript", "js")),
];

/// By whole file name (lower-cased), those without a telling extension.
const BY_NAME: &[(&str, Language)] = &[
    ("makefile", lang("Makefile", "make")),
    ("dockerfile", lang("Dockerfile", "dockerfile")),
    ("license", lang("Text", "txt")),
    ("licence", lang("Text", "txt")),
    (".npmignore", lang("Text", "txt")),
    (".gitignore", lang("Text", "txt")),
    (".editorconfig", lang("INI", "ini")),
    (".babelrc", lang("JSON", "json")),
    (".eslintrc", lang("JSON", "json")),
];

/// The language of the file at `path` (`/`-separated), by its name.
pub fn language_of(path: &str) -> Option<Language> {
    let file = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    if let Some((_, l)) = BY_NAME.iter().find(|(n, _)| *n == file) {
        return Some(*l);
    }
    // `.d.ts` is TypeScript; `LICENSE.md` Markdown: the last extension decides
    let (_, ext) = file.rsplit_once('.').filter(|(stem, _)| !stem.is_empty())?;
    BY_EXTENSION.iter().find(|(e, _)| *e == ext).map(|(_, l)| *l)
}

/// The stored language by its name (as [`language_of`] gave it).
pub fn language_named(name: &str) -> Option<Language> {
    BY_EXTENSION.iter().chain(BY_NAME).map(|(_, l)| *l).find(|l| l.name == name)
}

/// What the bytes of a file are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    /// UTF-8 without NUL bytes: `lines` counted as an editor shows them (a last line
    /// without a newline counts), `longest` in bytes.
    Text {
        lines: u64,
        longest: u64,
    },
    Binary,
}

/// Whether `bytes` are text, and their line figures.
pub fn content_of(bytes: &[u8]) -> Content {
    if bytes.contains(&0) || std::str::from_utf8(bytes).is_err() {
        return Content::Binary;
    }
    let (mut lines, mut longest) = (0u64, 0u64);
    for line in bytes.split(|b| *b == b'\n') {
        lines += 1;
        longest = longest.max(line.len() as u64);
    }
    // a final newline ends the last line; it does not start another
    if bytes.last() == Some(&b'\n') || bytes.is_empty() {
        lines -= 1;
    }
    Content::Text { lines, longest }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_by_name() {
        assert_eq!(language_of("lib/index.d.ts").map(|l| l.name), Some("TypeScript"));
        assert_eq!(language_of("src/App.TSX").map(|l| l.syntax), Some("tsx"));
        assert_eq!(language_of("Makefile").map(|l| l.name), Some("Makefile"));
        assert_eq!(language_of("docs/README.md").map(|l| l.name), Some("Markdown"));
        assert_eq!(language_of("binding.gyp").map(|l| l.name), Some("Python"));
        assert_eq!(language_of("a/.js"), None, "a dot file is not a .js file");
        assert_eq!(language_of("image.png"), None);
        assert_eq!(language_named("C++").map(|l| l.syntax), Some("cpp"));
    }

    #[test]
    fn text_and_binary() {
        assert_eq!(content_of(b""), Content::Text { lines: 0, longest: 0 });
        assert_eq!(content_of(b"a\n"), Content::Text { lines: 1, longest: 1 });
        assert_eq!(content_of(b"a\nbcd"), Content::Text { lines: 2, longest: 3 });
        assert_eq!(content_of(b"a\r\n\r\nb\n"), Content::Text { lines: 3, longest: 2 });
        assert_eq!(content_of(b"\x89PNG\r\n\x1a\n\0\0"), Content::Binary);
        assert_eq!(content_of(&[0xff, 0xfe, b'a']), Content::Binary);
    }
}
