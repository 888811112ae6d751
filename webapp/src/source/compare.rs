//! Two versions side by side, for the diff page and the diff API: both loaded (each queued
//! for the downloader when it is not stored yet), their trees compared, and the changed text
//! files diffed within budgets (files, bytes read, time), so a diff of two huge versions
//! answers in bounded time and memory, saying which files it did not diff.

use std::sync::Arc;
use std::time::{Duration, Instant};

use nodules_store::model::{Package, TreeEntry, VersionRecord};

use super::diff::{self, Change, FileChange, FileDiff, Review};
use super::highlight::Rendered;
use super::{read_blob, render_bytes, stored, whole_tree};
use crate::error::{AppError, PageError};
use crate::package_data::{Found, PackageData, load_files};
use crate::state::AppState;

/// Changed files diffed in one answer (the rest are listed with their own link).
pub const MAX_FILES_DIFFED: usize = 300;
/// Bytes of file content read for one answer.
pub const MAX_BYTES_READ: usize = 32 << 20;
/// Time for all the diffs of one answer, and for one file's: with the loads before and the
/// template after, within the request budget (3 s).
const ALL_DIFFS: Duration = Duration::from_millis(1500);
const ONE_DIFF: Duration = Duration::from_millis(500);
/// How long a diff waits for one file's highlighting; a slower file's lines show plain (and
/// highlighted on a later visit, once its rendering is kept).
const RENDER_WAIT: Duration = Duration::from_millis(100);

/// Both versions, stored.
pub struct Both {
    pub from: Box<PackageData>,
    pub to: Box<PackageData>,
    pub files: Vec<FileChange>,
}

pub enum Prepared {
    Ready(Box<Both>),
    /// These versions are queued for the downloader.
    Preparing(Vec<String>),
    Gone(Box<Package>),
}

/// Loads `from` and `to` of `name` and compares their trees.
pub async fn prepare(app: &AppState, name: &str, from: &str, to: &str) -> Result<Prepared, AppError> {
    let (a, b) = (load_files(app, name, Some(from)).await?, load_files(app, name, Some(to)).await?);
    let (a, b) = match (a, b) {
        (Found::Published(a), Found::Published(b)) => (a, b),
        (Found::Gone(p), _) | (_, Found::Gone(p)) => return Ok(Prepared::Gone(p)),
    };
    let (Some(sa), Some(sb)) = (stored(&a), stored(&b)) else {
        let waiting = [&a, &b].iter().filter(|d| stored(d).is_none()).map(|d| d.version.version.clone()).collect();
        return Ok(Prepared::Preparing(waiting));
    };
    let files = diff::compare(&whole_tree(app, &a, sa).await?, &whole_tree(app, &b, sb).await?);
    Ok(Prepared::Ready(Box::new(Both { from: a, to: b, files })))
}

impl Both {
    pub fn review(&self) -> Review {
        diff::review(&self.from.version, &self.to.version)
    }

    pub fn versions(&self) -> (&VersionRecord, &VersionRecord) {
        (&self.from.version, &self.to.version)
    }
}

/// A file's text lines (without newlines) and its rendering.
pub struct Side {
    pub text: Vec<String>,
    pub rendered: Arc<Rendered>,
}

/// One changed file as an answer shows it.
pub struct FileOut {
    pub change: FileChange,
    /// Lines added and removed, when diffed.
    pub counts: Option<(usize, usize)>,
    pub diff: Option<FileDiff>,
    pub old: Option<Side>,
    pub new: Option<Side>,
    /// Why it was not diffed.
    pub note: Option<&'static str>,
}

async fn side(app: &AppState, e: Option<&TreeEntry>, budget: &mut usize) -> Result<Option<Side>, PageError> {
    let Some(e) = e.filter(|e| !e.binary && e.link_target.is_none()) else { return Ok(None) };
    let Some(blob) = &e.blob else { return Ok(None) };
    let bytes = read_blob(app, blob).await?;
    *budget = budget.saturating_sub(bytes.len());
    let text = String::from_utf8_lossy(&bytes)
        .split_inclusive('\n')
        .map(|l| l.trim_end_matches(['\n', '\r']).to_string())
        .collect();
    let rendered = render_bytes(app, bytes, e, RENDER_WAIT).await?;
    Ok(Some(Side { text, rendered }))
}

/// Diffs the changed files (only `only`, when given) within the budgets.
pub async fn file_diffs(
    app: &AppState,
    both: &Both,
    only: Option<&str>,
    ignore_whitespace: bool,
) -> Result<Vec<FileOut>, PageError> {
    let deadline = Instant::now() + ALL_DIFFS;
    let mut bytes_left = MAX_BYTES_READ;
    let mut out = Vec::new();
    for (i, change) in both.files.iter().filter(|c| only.is_none_or(|p| c.path == p)).enumerate() {
        let mut file = FileOut { change: change.clone(), counts: None, diff: None, old: None, new: None, note: None };
        let too_much = i >= MAX_FILES_DIFFED || bytes_left == 0 || Instant::now() > deadline;
        if change.change == Change::Renamed {
            file.counts = Some((0, 0));
            file.note = Some("same content");
        } else if change.binary() {
            file.note = Some("binary");
        } else if too_much {
            file.note = Some("not diffed here: this diff is large");
        } else {
            file.old = side(app, change.old.as_ref(), &mut bytes_left).await?;
            file.new = side(app, change.new.as_ref(), &mut bytes_left).await?;
            let text = |s: &Option<Side>| s.as_ref().map(|s| s.text.clone()).unwrap_or_default();
            let (a, b) = (text(&file.old), text(&file.new));
            let stored = |e: &Option<TreeEntry>| e.as_ref().is_none_or(|e| e.blob.is_some() || e.link_target.is_some());
            if !stored(&change.old) || !stored(&change.new) {
                file.note = Some("not stored (over the stored-file size)");
            } else {
                let ws = ignore_whitespace && change.change == Change::Changed;
                // one file asked alone may take the whole budget
                let one = if only.is_some() { deadline } else { (Instant::now() + ONE_DIFF).min(deadline) };
                let d = tokio::task::spawn_blocking(move || {
                    let a: Vec<&str> = a.iter().map(String::as_str).collect();
                    let b: Vec<&str> = b.iter().map(String::as_str).collect();
                    diff::hunks(&a, &b, ws, one)
                })
                .await
                .map_err(|e| PageError(AppError::Internal(anyhow::anyhow!("diffing {}: {e}", change.path))))?;
                match d {
                    Some(d) => {
                        file.counts = Some((d.added, d.removed));
                        file.diff = Some(d);
                    }
                    None => file.note = Some("not diffed: it took too long"),
                }
            }
        }
        out.push(file);
    }
    Ok(out)
}
