//! Search inside a version's files: `/package/{name}/v/{version}/search?q=…` and its API.
//! A literal by default (`i=1`: ignoring case), a regular expression after `re:` (the `regex`
//! crate: linear time whatever the pattern, with bounded compiled sizes, so no pattern can
//! stall a worker). Text files only, read by key a few at a time within a time and a bytes
//! budget, then kept in memory per version ([`Corpus`]); at most [`MAX_MATCHES`] matching
//! lines, and the answer says when it stopped.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use nodules_store::model::{Source, TreeEntry};
use nodules_store::queue::source_id;
use regex::bytes::{Regex, RegexBuilder};
use serde::Serialize;

use crate::error::AppError;
use crate::package_data::PackageData;
use crate::state::AppState;

pub const MAX_MATCHES: usize = 200;
/// Longest query, in characters.
pub const MAX_QUERY: usize = 200;
/// Files larger than this are not searched (said in the answer).
const MAX_FILE: i64 = 4 << 20;
/// Bytes read for one search.
const MAX_BYTES: usize = 64 << 20;
/// Within the request budget (3 s), with the loads before and the page after.
const BUDGET: Duration = Duration::from_secs(2);
/// Shown of a matching line, around the match.
const MAX_LINE_SHOWN: usize = 300;

#[derive(Debug, Clone, Serialize)]
pub struct LineMatch {
    /// From 1.
    pub line: usize,
    /// The line (cut to [`MAX_LINE_SHOWN`] bytes around the first match).
    pub text: String,
    /// Byte ranges of the matches within `text`.
    pub ranges: Vec<(usize, usize)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileMatches {
    pub path: String,
    pub matches: Vec<LineMatch>,
}

#[derive(Debug, Default, Serialize)]
pub struct Found {
    pub files: Vec<FileMatches>,
    pub total: usize,
    /// Stopped at [`MAX_MATCHES`].
    pub more: bool,
    /// Files not searched: too large, or past the time or bytes budget.
    pub skipped: usize,
    pub timed_out: bool,
}

/// The pattern a query stands for.
pub fn pattern(q: &str, ignore_case: bool) -> Result<Regex, AppError> {
    let q = q.trim();
    if q.is_empty() {
        return Err(AppError::MissingParam { name: "q" });
    }
    if q.chars().count() > MAX_QUERY {
        return Err(AppError::InvalidParam {
            name: "q",
            value: q.chars().take(40).collect::<String>() + "…",
            expected: format!("at most {MAX_QUERY} characters"),
        });
    }
    let (source, is_regex) = match q.strip_prefix("re:") {
        Some(r) => (r.to_string(), true),
        None => (regex::escape(q), false),
    };
    RegexBuilder::new(&source)
        .case_insensitive(ignore_case)
        .multi_line(true)
        .size_limit(1 << 20)
        .dfa_size_limit(4 << 20)
        .build()
        .map_err(|e| AppError::InvalidQuery {
            message: if is_regex {
                format!("not a usable regular expression: {}", e.to_string().lines().last().unwrap_or("invalid"))
            } else {
                "this text cannot be searched".to_string()
            },
        })
}

fn searchable(e: &TreeEntry) -> bool {
    e.blob.is_some() && !e.binary && e.link_target.is_none()
}

/// Matching lines of one file's bytes, at most `room`: one pass of the expression over the
/// whole file (its literal prefilter runs at memory speed), lines counted only up to each
/// match, as `grep` does.
fn matches_in(re: &Regex, bytes: &[u8], room: usize) -> (Vec<LineMatch>, bool) {
    let mut out = Vec::new();
    // lines before `counted`, which is the start of a line
    let (mut lines_before, mut counted) = (0, 0);
    let mut from = 0;
    while from < bytes.len() {
        let Some(m) = re.find_at(bytes, from) else { break };
        let line_start = memchr::memrchr(b'\n', &bytes[..m.start()]).map_or(0, |i| i + 1);
        let line_end = memchr::memchr(b'\n', &bytes[m.start()..]).map_or(bytes.len(), |i| m.start() + i);
        // the next search starts on the next line: one entry per line
        from = line_end + 1;
        if m.end() == m.start() {
            // an empty match (`re:^`, `re:x*`) marks nothing; a line needs a real one
            if !re.find_iter(&bytes[line_start..line_end]).any(|m| m.end() > m.start()) {
                continue;
            }
        }
        lines_before += memchr::memchr_iter(b'\n', &bytes[counted..line_start]).count();
        counted = line_start;
        if out.len() == room {
            return (out, true);
        }
        out.push(line_match(re, &bytes[line_start..line_end], lines_before + 1));
    }
    (out, false)
}

/// One matching line: a window around its first match, on character boundaries, and the
/// matches inside the window.
fn line_match(re: &Regex, line: &[u8], line_no: usize) -> LineMatch {
    let found: Vec<(usize, usize)> = re.find_iter(line).map(|m| (m.start(), m.end())).filter(|(a, b)| b > a).collect();
    let text = String::from_utf8_lossy(line);
    let first = found.first().map_or(0, |f| f.0).min(text.len());
    let mut start = first.saturating_sub(MAX_LINE_SHOWN / 3);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (start + MAX_LINE_SHOWN).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let ranges = found
        .iter()
        .filter(|(a, b)| *a >= start && *b <= end)
        .map(|(a, b)| (a - start, b - start))
        .filter(|(a, b)| text.is_char_boundary(a + start) && text.is_char_boundary(b + start))
        .collect();
    LineMatch { line: line_no, text: text[start..end].trim_end_matches('\r').to_string(), ranges }
}

/// The searchable files of one stored version, in memory: kept by version and tree
/// generation (a redo is a new generation), bounded in bytes, so a second query over the
/// same version reads nothing from the database.
pub struct Corpus {
    files: Vec<(String, Vec<u8>)>,
    /// Files not read: over [`MAX_FILE`].
    skipped: usize,
}

impl Corpus {
    /// Bytes held, for the cache's weigher.
    pub fn weight(&self) -> usize {
        self.files.iter().map(|(p, b)| p.len() + b.len() + 48).sum()
    }
}

/// Searches the text files of a stored version: from the kept corpus, or read now (eight
/// blobs at a time, within [`MAX_BYTES`] and [`BUDGET`]) and kept when read whole.
pub async fn search(app: &AppState, d: &PackageData, s: &Source, re: &Regex) -> Result<Found, AppError> {
    let deadline = Instant::now() + BUDGET;
    let key = format!("{}\u{0}{:?}", source_id(&d.package.name, &d.version.version), s.tree_gen);
    let (corpus, whole) = match app.0.corpora.get(&key).await {
        Some(c) => (c, true),
        None => {
            let tree = super::whole_tree(app, d, s).await?;
            let (corpus, whole) = read(app, &tree, deadline).await;
            let corpus = Arc::new(corpus);
            if whole {
                app.0.corpora.insert(key, corpus.clone()).await;
            }
            (corpus, whole)
        }
    };
    let re = re.clone();
    let mut found = tokio::task::spawn_blocking(move || search_in(&corpus, &re, deadline))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("searching: {e}")))?;
    found.timed_out |= !whole;
    Ok(found)
}

/// Reads the searchable files of `tree`; `true` when every one was read.
async fn read(app: &AppState, tree: &[TreeEntry], deadline: Instant) -> (Corpus, bool) {
    let (small, large): (Vec<&TreeEntry>, Vec<&TreeEntry>) =
        tree.iter().filter(|e| searchable(e)).partition(|e| e.size <= MAX_FILE);
    let mut corpus = Corpus { files: Vec::with_capacity(small.len()), skipped: large.len() };
    let mut bytes_left = MAX_BYTES;
    // owned paths and ids: the reads run a few at a time, each one key lookup
    let wanted: Vec<(String, String)> =
        small.iter().map(|e| (e.path.clone(), e.blob.clone().unwrap_or_default())).collect();
    let store = app.store().clone();
    let mut reads = futures::stream::iter(wanted.into_iter().map(move |(path, id)| {
        let store = store.clone();
        async move {
            let bytes = store.blob(&id, MAX_FILE as usize).await;
            (path, bytes)
        }
    }))
    .buffered(8);
    let mut read = 0;
    while let Some((path, bytes)) = reads.next().await {
        read += 1;
        if let Ok(Some(bytes)) = bytes {
            bytes_left = bytes_left.saturating_sub(bytes.len());
            corpus.files.push((path, bytes));
        }
        if read < small.len() && (Instant::now() > deadline || bytes_left == 0) {
            corpus.skipped += small.len() - read;
            return (corpus, false);
        }
    }
    (corpus, true)
}

fn search_in(corpus: &Corpus, re: &Regex, deadline: Instant) -> Found {
    let mut found = Found { skipped: corpus.skipped, ..Found::default() };
    for (i, (path, bytes)) in corpus.files.iter().enumerate() {
        let (matches, more) = matches_in(re, bytes, MAX_MATCHES - found.total);
        if !matches.is_empty() {
            found.total += matches.len();
            found.files.push(FileMatches { path: path.clone(), matches });
        }
        if more || found.total >= MAX_MATCHES {
            found.more = true;
            break;
        }
        if Instant::now() > deadline {
            found.timed_out = true;
            found.skipped += corpus.files.len() - i - 1;
            break;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_regex_and_case() {
        let re = pattern("a.b", false).expect("literal");
        let (m, _) = matches_in(&re, b"x a.b y\naxb\nA.B\n", 10);
        assert_eq!(m.iter().map(|m| m.line).collect::<Vec<_>>(), [1]);
        assert_eq!(m[0].ranges, [(2, 5)]);
        let re = pattern("re:a.b", true).expect("regex");
        let (m, _) = matches_in(&re, b"x a.b y\naxb\nA.B\n", 10);
        assert_eq!(m.len(), 3);
        let (m, more) = matches_in(&re, b"ab\naab\naxb\naxb\n", 2);
        assert!(more && m.len() == 2);
    }

    #[test]
    fn line_numbers_over_a_whole_file() {
        let text = b"one\ntwo x\r\nthree\n\nx five x\nsix";
        let re = pattern("x", false).expect("literal");
        let (m, more) = matches_in(&re, text, 10);
        type Row<'a> = (usize, &'a str, &'a [(usize, usize)]);
        let got: Vec<Row> = m.iter().map(|m| (m.line, m.text.as_str(), m.ranges.as_slice())).collect();
        assert_eq!(
            got,
            [(2, "two x", &[(4, 5)][..]), (5, "x five x", &[(0, 1), (7, 8)][..]), (6, "six", &[(2, 3)][..])]
        );
        assert!(!more);
        // empty matches mark nothing; anchors hold per line
        assert!(matches_in(&pattern("re:z*", false).expect("re"), text, 10).0.is_empty());
        let (m, _) = matches_in(&pattern("re:^s", false).expect("re"), text, 10);
        assert_eq!(m.iter().map(|m| m.line).collect::<Vec<_>>(), [6]);
        let (m, _) = matches_in(&pattern("re:e$", false).expect("re"), text, 10);
        assert_eq!(m.iter().map(|m| m.line).collect::<Vec<_>>(), [1, 3]);
        let (m, more) = matches_in(&re, text, 2);
        assert_eq!((m.len(), more), (2, true));
    }

    #[test]
    fn hostile_patterns_are_refused_or_bounded() {
        assert!(matches!(pattern("re:(", false), Err(AppError::InvalidQuery { .. })));
        assert!(matches!(pattern("re:a{1000}{1000}", false), Err(AppError::InvalidQuery { .. })), "too big compiled");
        // the classic catastrophic backtracking pattern runs in linear time here
        let re = pattern("re:(a+)+$", false).expect("regex");
        let line = "a".repeat(50_000) + "!";
        let started = Instant::now();
        let _ = matches_in(&re, line.as_bytes(), 10);
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(matches!(pattern("  ", false), Err(AppError::MissingParam { .. })));
    }
}
