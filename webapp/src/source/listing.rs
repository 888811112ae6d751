//! A directory of a version's file tree as its page lists it: sub-folders first (with how
//! many files and bytes each holds), then files, each by name; and the go-to-file filter.

use nodules_store::model::{EntryKind, TreeEntry};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Folder {
    pub name: String,
    /// Path from the package root, with a trailing `/`.
    pub path: String,
    pub files: u64,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileRow {
    pub name: String,
    pub path: String,
    pub size: i64,
    pub language: Option<String>,
    pub lines: Option<i64>,
    /// `symlink`/`hardlink` for links.
    pub link: Option<&'static str>,
}

impl FileRow {
    pub fn of(e: &TreeEntry, name: &str) -> FileRow {
        FileRow {
            name: name.to_string(),
            path: e.path.clone(),
            size: e.size,
            language: e.language.clone(),
            lines: e.lines,
            link: match e.kind {
                EntryKind::File => None,
                EntryKind::Symlink => Some("symlink"),
                EntryKind::Hardlink => Some("hardlink"),
            },
        }
    }
}

#[derive(Debug, Default, Serialize)]
pub struct Listing {
    pub folders: Vec<Folder>,
    pub files: Vec<FileRow>,
}

/// The direct children of the folder `dir` (`""` for the root, else ending with `/`) among
/// `entries`, which are sorted by path and all start with `dir`.
pub fn list(entries: &[TreeEntry], dir: &str) -> Listing {
    let mut listing = Listing::default();
    for e in entries {
        let Some(rest) = e.path.strip_prefix(dir) else { continue };
        match rest.split_once('/') {
            Some((folder, _)) => {
                let size = u64::try_from(e.size).unwrap_or(0);
                match listing.folders.last_mut() {
                    Some(f) if f.name == folder => {
                        f.files += 1;
                        f.size += size;
                    }
                    _ => listing.folders.push(Folder {
                        name: folder.to_string(),
                        path: format!("{dir}{folder}/"),
                        files: 1,
                        size,
                    }),
                }
            }
            None => listing.files.push(FileRow::of(e, rest)),
        }
    }
    // entries sort by full path (`a-b/x` before `a/x`): folders may repeat, merge them
    listing.folders.sort_by(|a, b| a.name.cmp(&b.name));
    listing.folders.dedup_by(|later, first| {
        let same = later.name == first.name;
        if same {
            first.files += later.files;
            first.size += later.size;
        }
        same
    });
    listing
}

/// Files whose name contains `needle` (case-insensitively), at most `max`.
pub fn find(entries: &[TreeEntry], needle: &str, max: usize) -> Vec<FileRow> {
    let needle = needle.to_lowercase();
    entries
        .iter()
        .filter(|e| e.path.to_lowercase().contains(&needle))
        .take(max)
        .map(|e| FileRow::of(e, &e.path))
        .collect()
}

/// The README of a folder among its files, as npm picks it (case-insensitively, Markdown
/// first).
pub fn readme_of<'e>(entries: &'e [TreeEntry], dir: &str) -> Option<&'e TreeEntry> {
    let in_dir = |e: &&TreeEntry| e.path.strip_prefix(dir).is_some_and(|n| !n.contains('/'));
    let named = |e: &&TreeEntry, suffixes: &[&str]| {
        let name = e.path[dir.len()..].to_ascii_lowercase();
        suffixes.iter().any(|s| name == format!("readme{s}"))
    };
    let files: Vec<&TreeEntry> = entries.iter().filter(in_dir).filter(|e| e.blob.is_some()).collect();
    files
        .iter()
        .find(|e| named(e, &[".md", ".markdown"]))
        .or_else(|| files.iter().find(|e| named(e, &["", ".txt"])))
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, size: i64) -> TreeEntry {
        TreeEntry {
            path: path.into(),
            size,
            mode: 0o644,
            kind: EntryKind::File,
            blob: Some("b".into()),
            sha256: None,
            link_target: None,
            language: None,
            lines: None,
            longest_line: None,
            binary: false,
        }
    }

    #[test]
    fn folders_first_with_counts() {
        let mut entries: Vec<TreeEntry> =
            ["README.md", "a-b/x.js", "a/b/c.js", "a/d.js", "index.js"].iter().map(|p| file(p, 10)).collect();
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        let l = list(&entries, "");
        let folders: Vec<_> = l.folders.iter().map(|f| (f.name.as_str(), f.files, f.size)).collect();
        assert_eq!(folders, vec![("a", 2, 20), ("a-b", 1, 10)]);
        let files: Vec<_> = l.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(files, vec!["README.md", "index.js"]);
        let sub: Vec<TreeEntry> = entries.iter().filter(|e| e.path.starts_with("a/")).cloned().collect();
        let l = list(&sub, "a/");
        assert_eq!((l.folders[0].path.as_str(), l.files[0].path.as_str()), ("a/b/", "a/d.js"));
        assert_eq!(readme_of(&entries, "").map(|e| e.path.as_str()), Some("README.md"));
        assert_eq!(find(&entries, "C.JS", 10).len(), 1);
    }
}
