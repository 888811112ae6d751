//! Search inside a version's files: `/package/{name}/v/{version}/search?q=…` and its API.
//! A literal by default (`i=1`: ignoring case), a regular expression after `re:` (the `regex`
//! crate: linear time whatever the pattern, with bounded compiled sizes, so no pattern can
//! stall a worker). Text files only, read by key a few at a time, within a time and a
//! bytes budget; at most [`MAX_MATCHES`] matching lines, and the answer says when it stopped.

use std::time::{Duration, Instant};

use futures::StreamExt;
use nodules_store::model::TreeEntry;
use regex::bytes::{Regex, RegexBuilder};
use serde::Serialize;

use crate::error::AppError;
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

/// Matching lines of one file's bytes, at most `room`.
fn matches_in(re: &Regex, bytes: &[u8], room: usize) -> (Vec<LineMatch>, bool) {
    let mut out = Vec::new();
    let mut line_no = 0;
    for line in bytes.split(|b| *b == b'\n') {
        line_no += 1;
        let found: Vec<(usize, usize)> =
            re.find_iter(line).map(|m| (m.start(), m.end())).filter(|(a, b)| b > a).collect();
        if found.is_empty() {
            continue;
        }
        if out.len() == room {
            return (out, true);
        }
        // a window of the line around the first match, on character boundaries
        let text = String::from_utf8_lossy(line);
        let first = found[0].0.min(text.len());
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
        out.push(LineMatch { line: line_no, text: text[start..end].trim_end_matches('\r').to_string(), ranges });
    }
    (out, false)
}

/// Searches the files of a tree.
pub async fn search(app: &AppState, tree: &[TreeEntry], re: &Regex) -> Found {
    let deadline = Instant::now() + BUDGET;
    let mut found = Found::default();
    let (small, large): (Vec<&TreeEntry>, Vec<&TreeEntry>) =
        tree.iter().filter(|e| searchable(e)).partition(|e| e.size <= MAX_FILE);
    found.skipped = large.len();
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
        let Ok(Some(bytes)) = bytes else { continue };
        bytes_left = bytes_left.saturating_sub(bytes.len());
        let re = re.clone();
        let room = MAX_MATCHES - found.total;
        let (matches, more) =
            tokio::task::spawn_blocking(move || matches_in(&re, &bytes, room)).await.unwrap_or_default();
        if !matches.is_empty() {
            found.total += matches.len();
            found.files.push(FileMatches { path, matches });
        }
        if more || found.total >= MAX_MATCHES {
            found.more = true;
            break;
        }
        if Instant::now() > deadline || bytes_left == 0 {
            found.timed_out = true;
            found.skipped += small.len() - read;
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
