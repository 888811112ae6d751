//! GitHub's answers read into what we keep, as hostile input: a field of the wrong type is
//! missing rather than an error (a count is 0, a text `None`), texts are cut to what a page
//! shows, and an answer that is not the JSON shape asked for is an error naming why.

use mongodb::bson::DateTime;
use nodules_store::github::{Commit, RepoFacts};
use serde_json::Value;

/// Longest description kept, in characters.
const MAX_DESCRIPTION: usize = 500;
/// Most topics kept (GitHub allows 20).
const MAX_TOPICS: usize = 20;
/// Longest commit message line kept, in characters.
const MAX_MESSAGE: usize = 300;

fn json(body: &[u8], what: &str) -> Result<Value, String> {
    serde_json::from_slice(body).map_err(|e| format!("{what}: not JSON ({e})"))
}

fn text(v: &Value, max: usize) -> Option<String> {
    let s = v.as_str()?.trim();
    (!s.is_empty()).then(|| s.chars().filter(|c| !c.is_control()).take(max).collect())
}

fn count(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0).max(0)
}

fn date(v: &Value) -> Option<DateTime> {
    let s = v.as_str()?;
    chrono::DateTime::parse_from_rfc3339(s).ok().map(|d| DateTime::from_millis(d.timestamp_millis()))
}

/// `GET /repos/{owner}/{repo}`: the facts, and `full_name` (`owner/repo` as GitHub spells it
/// now, which differs after a rename).
pub fn repository(body: &[u8]) -> Result<(RepoFacts, Option<(String, String)>), String> {
    let v = json(body, "repository")?;
    if !v.is_object() {
        return Err("repository: not a JSON object".into());
    }
    let full_name = v["full_name"].as_str().and_then(|f| f.split_once('/')).and_then(|(o, r)| {
        let ok = |s: &str| {
            !s.is_empty() && s.len() <= 100 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        };
        (ok(o) && ok(r)).then(|| (o.to_string(), r.to_string()))
    });
    let topics = v["topics"]
        .as_array()
        .map(|t| t.iter().filter_map(|x| text(x, 50)).take(MAX_TOPICS).collect())
        .unwrap_or_default();
    let facts = RepoFacts {
        stars: count(&v["stargazers_count"]),
        forks: count(&v["forks_count"]),
        open_issues: count(&v["open_issues_count"]),
        // GitHub's `watchers_count` repeats the stars; subscribers are the watchers
        watchers: count(if v["subscribers_count"].is_i64() { &v["subscribers_count"] } else { &v["watchers_count"] }),
        default_branch: text(&v["default_branch"], 255),
        archived: v["archived"].as_bool().unwrap_or(false),
        pushed_at: date(&v["pushed_at"]),
        description: text(&v["description"], MAX_DESCRIPTION),
        topics,
    };
    Ok((facts, full_name))
}

/// `GET /repos/{owner}/{repo}/commits?per_page=1`: the newest commit, if any.
pub fn latest_commit(body: &[u8]) -> Result<Option<Commit>, String> {
    let v = json(body, "commits")?;
    let Some(list) = v.as_array() else { return Err("commits: not a JSON array".into()) };
    let Some(c) = list.first() else { return Ok(None) };
    let Some(sha) = c["sha"].as_str().filter(|s| s.len() <= 64 && s.bytes().all(|b| b.is_ascii_hexdigit())) else {
        return Err("commits: the newest has no valid sha".into());
    };
    let message = c["commit"]["message"].as_str().and_then(|m| m.lines().next()).unwrap_or("");
    Ok(Some(Commit {
        sha: sha.to_string(),
        message: message.chars().filter(|c| !c.is_control()).take(MAX_MESSAGE).collect(),
        author: text(&c["author"]["login"], 100).or_else(|| text(&c["commit"]["author"]["name"], 100)),
        date: date(&c["commit"]["committer"]["date"]).or_else(|| date(&c["commit"]["author"]["date"])),
        url: c["html_url"].as_str().filter(|u| u.starts_with("https://") && u.len() <= 500).map(str::to_string),
    }))
}

/// `GET /repos/{owner}/{repo}/stats/commit_activity`: the weekly totals, oldest first,
/// exactly 52 (missing weeks at the start are 0).
pub fn commit_activity(body: &[u8]) -> Result<Vec<i64>, String> {
    let v = json(body, "commit activity")?;
    let Some(weeks) = v.as_array() else { return Err("commit activity: not a JSON array".into()) };
    let mut weeks: Vec<(i64, i64)> =
        weeks.iter().map(|w| (w["week"].as_i64().unwrap_or(0), count(&w["total"]))).collect();
    weeks.sort_by_key(|(week, _)| *week);
    let totals: Vec<i64> = weeks.into_iter().map(|(_, t)| t).collect();
    let keep = totals.len().min(52);
    let mut out = vec![0; 52 - keep];
    out.extend_from_slice(&totals[totals.len() - keep..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_fields_are_missing_not_errors() {
        let (facts, name) = repository(
            br#"{"full_name":"a/b\"<x>","stargazers_count":"many","forks_count":-3,"description":"<script>\u0007hi",
                "topics":[1,"ok"],"archived":"yes","pushed_at":"yesterday"}"#,
        )
        .expect("an object");
        assert_eq!(name, None, "a full_name that is not a repository name is ignored");
        assert_eq!((facts.stars, facts.forks, facts.archived, facts.pushed_at), (0, 0, false, None));
        assert_eq!(facts.description.as_deref(), Some("<script>hi"), "kept as text, escaped by the page");
        assert_eq!(facts.topics, vec!["ok"]);
        assert!(repository(b"<html>rate limited</html>").is_err());
        assert!(repository(br#"{"stargazers_count": 5,"#).is_err(), "cut short");
        assert!(commit_activity(b"{}").is_err(), "GitHub's 202 body is not the weeks");
        assert!(repository(b"[1]").is_err());
    }

    #[test]
    fn weekly_counts_are_52_oldest_first() {
        let body = br#"[{"week":200,"total":2},{"week":100,"total":1}]"#;
        let weeks = commit_activity(body).expect("weeks");
        assert_eq!(weeks.len(), 52);
        assert_eq!(&weeks[50..], &[1, 2]);
        let many: Vec<String> = (0..60).map(|i| format!(r#"{{"week":{i},"total":{i}}}"#)).collect();
        let weeks = commit_activity(format!("[{}]", many.join(",")).as_bytes()).expect("weeks");
        assert_eq!((weeks[0], weeks[51]), (8, 59), "the last 52");
    }

    #[test]
    fn the_newest_commit_first_line() {
        let body = br#"[{"sha":"abc123","html_url":"https://github.com/o/r/commit/abc123",
            "commit":{"message":"Fix it\n\nlong story","author":{"name":"A","date":"2026-01-02T03:04:05Z"},
            "committer":{"date":"2026-01-03T00:00:00Z"}},"author":{"login":"alice"}}]"#;
        let c = latest_commit(body).expect("ok").expect("a commit");
        assert_eq!((c.sha.as_str(), c.message.as_str(), c.author.as_deref()), ("abc123", "Fix it", Some("alice")));
        assert!(c.date.is_some());
        assert_eq!(latest_commit(b"[]").expect("ok"), None);
        assert!(latest_commit(br#"[{"sha":"not hex!"}]"#).is_err());
    }
}
