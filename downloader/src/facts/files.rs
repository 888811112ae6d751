//! Facts from the file list alone: the README and LICENSE to show, and bytes per language.

use std::collections::HashMap;

/// Languages listed per version.
const MAX_LANGUAGES: usize = 10;

/// The README to show: a root file named `readme*` (any case), Markdown (`.md`,
/// `.markdown`) before other formats, then the shortest name, then by name.
pub fn pick_readme<'a>(paths: &[&'a str]) -> Option<&'a str> {
    let markdown = |p: &str| {
        let p = p.to_ascii_lowercase();
        p.ends_with(".md") || p.ends_with(".markdown")
    };
    pick(paths, &["readme"], |p| !markdown(p))
}

/// The license text to show: a root file named `license*`, `licence*` or `copying*` (any
/// case), the first two before `copying`, then the shortest name, then by name.
pub fn pick_license<'a>(paths: &[&'a str]) -> Option<&'a str> {
    pick(paths, &["license", "licence", "copying"], |p| p.to_ascii_lowercase().starts_with("copying"))
}

/// The best root file whose name starts with one of `prefixes`; `worse` ranks a name lower.
fn pick<'a>(paths: &[&'a str], prefixes: &[&str], worse: impl Fn(&str) -> bool) -> Option<&'a str> {
    paths
        .iter()
        .copied()
        .filter(|p| !p.contains('/'))
        .filter(|p| {
            let lower = p.to_ascii_lowercase();
            prefixes.iter().any(|prefix| lower.starts_with(prefix))
        })
        .min_by_key(|p| (worse(p), p.len(), *p))
}

/// Bytes per language by file extension, largest first (ties by name), the top ten.
/// Files of other kinds (images, lock files, …) are not counted.
pub fn languages(files: &[(String, u64)]) -> Vec<(String, i64)> {
    let mut bytes: HashMap<&'static str, u64> = HashMap::new();
    for (path, size) in files {
        if let Some(language) = language(path) {
            let total = bytes.entry(language).or_default();
            *total = total.saturating_add(*size);
        }
    }
    let mut list: Vec<(String, i64)> =
        bytes.into_iter().map(|(l, b)| (l.to_string(), i64::try_from(b).unwrap_or(i64::MAX))).collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    list.truncate(MAX_LANGUAGES);
    list
}

/// The language of a file, by its extension.
fn language(path: &str) -> Option<&'static str> {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    if [".d.ts", ".d.mts", ".d.cts"].iter().any(|ext| name.ends_with(ext)) {
        return Some("TypeScript declarations");
    }
    let (_, ext) = name.rsplit_once('.')?;
    Some(match ext {
        "js" | "mjs" | "cjs" | "jsx" => "JavaScript",
        "ts" | "mts" | "cts" | "tsx" => "TypeScript",
        "json" => "JSON",
        "md" | "markdown" => "Markdown",
        "css" => "CSS",
        "scss" | "sass" => "Sass",
        "less" => "Less",
        "html" | "htm" => "HTML",
        "vue" => "Vue",
        "svelte" => "Svelte",
        "coffee" => "CoffeeScript",
        "c" | "h" => "C",
        "cc" | "cpp" | "cxx" | "hpp" | "hh" => "C++",
        "rs" => "Rust",
        "go" => "Go",
        "wasm" => "WebAssembly",
        "py" => "Python",
        "sh" => "Shell",
        "map" => "Source maps",
        "yml" | "yaml" => "YAML",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readme_prefers_markdown_at_the_root_then_short_names() {
        assert_eq!(pick_readme(&["README", "readme.md", "lib/README.md"]), Some("readme.md"));
        assert_eq!(pick_readme(&["README-ja.md", "README.md", "README.txt"]), Some("README.md"));
        assert_eq!(pick_readme(&["Readme.markdown", "README"]), Some("Readme.markdown"));
        assert_eq!(pick_readme(&["README.txt", "README"]), Some("README"));
        assert_eq!(pick_readme(&["docs/README.md", "index.js"]), None);
    }

    #[test]
    fn license_prefers_license_over_copying() {
        assert_eq!(pick_license(&["COPYING", "LICENSE-MIT", "LICENSE"]), Some("LICENSE"));
        assert_eq!(pick_license(&["licence.txt", "COPYING"]), Some("licence.txt"));
        assert_eq!(pick_license(&["COPYING.LESSER", "COPYING"]), Some("COPYING"));
        assert_eq!(pick_license(&["lib/LICENSE", "index.js"]), None);
    }

    #[test]
    fn languages_by_extension_largest_first() {
        let files: Vec<(String, u64)> =
            [("a.js", 10), ("b.mjs", 5), ("c.d.ts", 7), ("d.ts", 1), ("e.png", 99), ("Makefile", 9)]
                .iter()
                .map(|(p, s)| (p.to_string(), *s))
                .collect();
        assert_eq!(
            languages(&files),
            [("JavaScript".into(), 15), ("TypeScript declarations".into(), 7), ("TypeScript".into(), 1)]
        );
        let many: Vec<(String, u64)> = (0..30)
            .map(|i| {
                (
                    format!(
                        "f{i}.{}",
                        ["c", "rs", "py", "go", "sh", "css", "html", "md", "json", "vue", "yml"][i % 11]
                    ),
                    1,
                )
            })
            .collect();
        assert_eq!(languages(&many).len(), 10);
    }
}
