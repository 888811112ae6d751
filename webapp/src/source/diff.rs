//! What changed between two versions: first what a reviewer checks (dependencies, install
//! scripts, `bin`, `engines`), then the files added, removed and changed, each changed text
//! file as unified hunks (with `similar`; optionally ignoring whitespace) whose lines point
//! into each version's rendered lines, so the page shows them highlighted.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use nodules_store::model::{TreeEntry, VersionRecord};
use serde::Serialize;
use similar::{Algorithm, DiffTag, capture_diff_slices_deadline, group_diff_ops};

/// Lines of context around each change.
pub const CONTEXT: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Added,
    Removed,
    Changed,
    /// Removed under one path and added, with the same bytes, under another.
    Renamed,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Removed => "removed",
            Change::Changed => "changed",
            Change::Renamed => "renamed",
        }
    }
}

/// One file that differs, by path.
#[derive(Debug, Clone)]
pub struct FileChange {
    pub path: String,
    pub change: Change,
    /// The old path of a renamed file.
    pub from: Option<String>,
    pub old: Option<TreeEntry>,
    pub new: Option<TreeEntry>,
}

impl FileChange {
    pub fn binary(&self) -> bool {
        self.old.as_ref().is_some_and(|e| e.binary) || self.new.as_ref().is_some_and(|e| e.binary)
    }
}

/// The files that differ between two trees (sorted by path), by content hash. A file removed
/// and one added with the same bytes are one rename (under the new path), paired in path
/// order when several share their bytes.
pub fn compare(old: &[TreeEntry], new: &[TreeEntry]) -> Vec<FileChange> {
    let mut changes = by_path(old, new);
    let mut removed: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, c) in changes.iter().enumerate() {
        if let (Change::Removed, Some(sha)) = (c.change, c.old.as_ref().and_then(|e| e.sha256.as_deref())) {
            removed.entry(sha).or_default().push(i);
        }
    }
    let mut renames = Vec::new();
    for (i, c) in changes.iter().enumerate() {
        let sha = c.new.as_ref().filter(|e| e.link_target.is_none()).and_then(|e| e.sha256.as_deref());
        if let (Change::Added, Some(sha)) = (c.change, sha)
            && let Some(from) = removed.get_mut(sha).filter(|r| !r.is_empty()).map(|r| r.remove(0))
        {
            renames.push((i, from));
        }
    }
    let mut gone = BTreeSet::new();
    for (to, from) in renames {
        let old = changes[from].old.clone();
        let c = &mut changes[to];
        c.change = Change::Renamed;
        c.from = old.as_ref().map(|e| e.path.clone());
        c.old = old;
        gone.insert(from);
    }
    let mut i = 0;
    changes.retain(|_| {
        i += 1;
        !gone.contains(&(i - 1))
    });
    changes
}

fn by_path(old: &[TreeEntry], new: &[TreeEntry]) -> Vec<FileChange> {
    let old: BTreeMap<&str, &TreeEntry> = old.iter().map(|e| (e.path.as_str(), e)).collect();
    let new: BTreeMap<&str, &TreeEntry> = new.iter().map(|e| (e.path.as_str(), e)).collect();
    let paths: BTreeSet<&str> = old.keys().chain(new.keys()).copied().collect();
    paths
        .into_iter()
        .filter_map(|p| {
            let (o, n) = (old.get(p).copied(), new.get(p).copied());
            let change = match (o, n) {
                (None, Some(_)) => Change::Added,
                (Some(_), None) => Change::Removed,
                (Some(a), Some(b)) if a.sha256 != b.sha256 || a.link_target != b.link_target => Change::Changed,
                _ => return None,
            };
            Some(FileChange { path: p.to_string(), change, from: None, old: o.cloned(), new: n.cloned() })
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowKind {
    Context,
    Removed,
    Added,
}

/// One line of a hunk: its index (from 0) in the old and/or the new file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    pub kind: RowKind,
    pub old: Option<usize>,
    pub new: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hunk {
    /// `@@ -10,7 +10,8 @@`
    pub header: String,
    pub rows: Vec<Row>,
}

/// A changed text file's hunks and line counts; `None` when the deadline passed.
#[derive(Debug, Clone, Default)]
pub struct FileDiff {
    pub hunks: Vec<Hunk>,
    pub added: usize,
    pub removed: usize,
}

fn squeeze(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The hunks between `old` and `new` lines; with `ignore_whitespace`, lines that differ only
/// in white space count as equal (and show as the new version's).
pub fn hunks(old: &[&str], new: &[&str], ignore_whitespace: bool, deadline: Instant) -> Option<FileDiff> {
    let ops = if ignore_whitespace {
        let (a, b): (Vec<String>, Vec<String>) =
            (old.iter().map(|l| squeeze(l)).collect(), new.iter().map(|l| squeeze(l)).collect());
        capture_diff_slices_deadline(Algorithm::Myers, &a, &b, Some(deadline))
    } else {
        capture_diff_slices_deadline(Algorithm::Myers, old, new, Some(deadline))
    };
    if Instant::now() > deadline {
        return None;
    }
    let mut diff = FileDiff::default();
    for group in group_diff_ops(ops, CONTEXT) {
        let (mut rows, mut first_old, mut first_new, mut old_len, mut new_len) = (Vec::new(), None, None, 0, 0);
        for op in group {
            let (tag, o, n) = op.as_tag_tuple();
            first_old.get_or_insert(o.start);
            first_new.get_or_insert(n.start);
            old_len += o.len();
            new_len += n.len();
            match tag {
                DiffTag::Equal => {
                    rows.extend(o.zip(n).map(|(a, b)| Row { kind: RowKind::Context, old: Some(a), new: Some(b) }))
                }
                DiffTag::Delete | DiffTag::Insert | DiffTag::Replace => {
                    diff.removed += o.len();
                    diff.added += n.len();
                    rows.extend(o.map(|a| Row { kind: RowKind::Removed, old: Some(a), new: None }));
                    rows.extend(n.map(|b| Row { kind: RowKind::Added, old: None, new: Some(b) }));
                }
            }
        }
        let start = |first: Option<usize>, len: usize| first.map_or(0, |f| f + usize::from(len > 0));
        let header =
            format!("@@ -{},{} +{},{} @@", start(first_old, old_len), old_len, start(first_new, new_len), new_len);
        diff.hunks.push(Hunk { header, rows });
    }
    Some(diff)
}

/// The hunks as unified diff text (`--- a/path`, `+++ b/path`, hunks).
pub fn unified(path: &str, diff: &FileDiff, old: &[&str], new: &[&str]) -> String {
    let mut out = format!("--- a/{path}\n+++ b/{path}\n");
    for h in &diff.hunks {
        out.push_str(&h.header);
        out.push('\n');
        for r in &h.rows {
            let (mark, line) = match r.kind {
                RowKind::Context => (' ', r.new.and_then(|i| new.get(i))),
                RowKind::Removed => ('-', r.old.and_then(|i| old.get(i))),
                RowKind::Added => ('+', r.new.and_then(|i| new.get(i))),
            };
            out.push(mark);
            out.push_str(line.copied().unwrap_or_default());
            out.push('\n');
        }
    }
    out
}

/// A named value that differs between the versions (`None`: absent on that side).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValueChange {
    /// What holds it (`dependencies`, `scripts`, `bin`, `engines`).
    pub field: &'static str,
    pub name: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// What a reviewer checks first.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Review {
    pub dependencies: Vec<ValueChange>,
    /// `preinstall`, `install`, `postinstall` and `prepare` added, removed or changed.
    pub install_scripts: Vec<ValueChange>,
    pub bin: Vec<ValueChange>,
    pub engines: Vec<ValueChange>,
}

fn changes(field: &'static str, a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> Vec<ValueChange> {
    let names: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    names
        .into_iter()
        .filter(|n| a.get(*n) != b.get(*n))
        .map(|n| ValueChange { field, name: n.clone(), from: a.get(n).cloned(), to: b.get(n).cloned() })
        .collect()
}

const INSTALL_SCRIPTS: &[&str] = &["preinstall", "install", "postinstall", "prepare"];

pub fn review(old: &VersionRecord, new: &VersionRecord) -> Review {
    fn deps(v: &VersionRecord) -> [(&'static str, &BTreeMap<String, String>); 4] {
        let d = &v.deps;
        [
            ("dependencies", &d.dependencies),
            ("peerDependencies", &d.peer_dependencies),
            ("optionalDependencies", &d.optional_dependencies),
            ("devDependencies", &d.dev_dependencies),
        ]
    }
    let dependencies =
        deps(old).into_iter().zip(deps(new)).flat_map(|((field, a), (_, b))| changes(field, a, b)).collect();
    let install = |v: &VersionRecord| -> BTreeMap<String, String> {
        v.scripts
            .iter()
            .filter(|(k, _)| INSTALL_SCRIPTS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    Review {
        dependencies,
        install_scripts: changes("scripts", &install(old), &install(new)),
        bin: changes("bin", &old.bin, &new.bin),
        engines: changes("engines", &old.engines, &new.engines),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn later() -> Instant {
        Instant::now() + Duration::from_secs(5)
    }

    #[test]
    fn hunks_count_and_place_changes() {
        let old = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
        let new = ["a", "b", "c", "D", "e", "f", "g", "h", "i", "j", "k"];
        let d = hunks(&old, &new, false, later()).expect("in time");
        assert_eq!((d.added, d.removed), (2, 1));
        assert_eq!(d.hunks.len(), 1, "{:?}", d.hunks);
        assert_eq!(d.hunks[0].header, "@@ -1,10 +1,11 @@");
        let text = unified("x.js", &d, &old, &new);
        assert!(text.contains("\n-d\n+D\n") && text.ends_with("+k\n"), "{text}");
    }

    #[test]
    fn whitespace_can_be_ignored() {
        let (old, new) = (["if (a) {", "  b()", "}"], ["if (a) {", "    b()", "}"]);
        assert_eq!(hunks(&old, &new, false, later()).expect("diff").added, 1);
        assert!(hunks(&old, &new, true, later()).expect("diff").hunks.is_empty());
    }

    #[test]
    fn trees_compare_by_content() {
        let e = |p: &str, h: &str| TreeEntry {
            path: p.into(),
            size: 1,
            mode: 0o644,
            kind: nodules_store::model::EntryKind::File,
            blob: Some(h.into()),
            sha256: Some(h.into()),
            link_target: None,
            language: None,
            lines: Some(1),
            longest_line: Some(1),
            binary: false,
        };
        let old = [e("a", "1"), e("b", "2"), e("c", "3"), e("m1", "7"), e("m2", "7")];
        let new = [e("a", "1"), e("b", "9"), e("d", "4"), e("z/m", "7")];
        let got: Vec<(String, Change, Option<String>)> =
            compare(&old, &new).into_iter().map(|c| (c.path, c.change, c.from)).collect();
        let want = [
            ("b", Change::Changed, None),
            ("c", Change::Removed, None),
            ("d", Change::Added, None),
            ("m2", Change::Removed, None),
            ("z/m", Change::Renamed, Some("m1")),
        ];
        assert_eq!(got, want.map(|(p, c, f)| (p.to_string(), c, f.map(str::to_string))));
    }

    #[test]
    fn review_names_what_changed() {
        let mut a = VersionRecord::default();
        let mut b = VersionRecord::default();
        a.deps.dependencies.insert("x".into(), "^1".into());
        b.deps.dependencies.insert("x".into(), "^2".into());
        b.deps.dependencies.insert("y".into(), "1".into());
        b.scripts.insert("postinstall".into(), "node evil.js".into());
        b.scripts.insert("test".into(), "jest".into());
        let r = review(&a, &b);
        assert_eq!(r.dependencies.len(), 2);
        assert_eq!(r.install_scripts.len(), 1, "only install-time scripts");
        assert_eq!(r.install_scripts[0].to.as_deref(), Some("node evil.js"));
    }
}
