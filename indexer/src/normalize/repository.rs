//! The `repository` field: a string, an object with `url`/`type`/`directory`, or junk.
//!
//! `normalized` is what normalize-package-data's `fixRepositoryField` stores as
//! `repository.url`; `url` is a link we can show (always http or https).
use nodules_store::model::Repository;
use serde_json::Value;
use url::Url;

use super::Warnings;
use super::fields::{js_trim, truthy};
use super::hosted::{Hosted, Representation};
use super::limits::{MAX_SHORT, truncate};

/// The `repository` field. An array (npm's legacy `repositories`) counts by its first
/// entry; npm lets `repositories` win over `repository`, so a caller holding both passes
/// `repositories`.
pub fn repository(v: Option<&Value>, w: &mut Warnings) -> Option<Repository> {
    let mut v = v?;
    if let Value::Array(items) = v {
        w.push("repository", "a list: only the first entry is used");
        v = items.first()?;
    }
    if !truthy(v) {
        return None;
    }
    let (kind, raw, directory) = match v {
        // npm turns a string into {type: "git", url}
        Value::String(s) => (Some("git".to_string()), s.as_str(), None),
        Value::Object(o) => {
            let raw = match o.get("url") {
                Some(Value::String(s)) if !s.is_empty() => s.as_str(),
                // `{}` or `{type: "git"}`: nothing to link to
                None | Some(Value::Null) | Some(Value::String(_)) => return None,
                Some(other) => {
                    w.wrong_type("repository.url", other, "string");
                    return None;
                }
            };
            let kind = short_string(o.get("type"), "repository.type", w);
            let directory = short_string(o.get("directory"), "repository.directory", w);
            (kind, raw, directory)
        }
        other => {
            w.wrong_type("repository", other, "string or object");
            return None;
        }
    };
    let hosted = Hosted::from_url(raw);
    let normalized = match &hosted {
        Some(h) if h.default_representation == Representation::Shortcut => h.https(),
        Some(h) => h.to_string(),
        None => raw.to_string(),
    };
    if is_broken_github_url(&normalized) {
        w.push("repository", "URL ends in .git.git");
    }
    let url = match &hosted {
        Some(h) => Some(h.browse()),
        None => browsable(raw),
    };
    Some(Repository {
        kind,
        raw: truncate(raw, MAX_SHORT),
        normalized: truncate(&normalized, MAX_SHORT),
        url: url.map(|u| truncate(&u, MAX_SHORT)),
        hosted: hosted.map(|h| h.to_hosted_repo()),
        directory,
    })
}

fn short_string(v: Option<&Value>, field: &str, w: &mut Warnings) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(truncate(s, MAX_SHORT)),
        Value::String(_) | Value::Null => None,
        other => {
            w.wrong_type(field, other, "string");
            None
        }
    }
}

/// fixer.js warns on /github.com\/[^/]+\/[^/]+\.git\.git$/.
fn is_broken_github_url(url: &str) -> bool {
    let Some((rest, last)) = url.rsplit_once('/') else {
        return false;
    };
    let Some((head, user)) = rest.rsplit_once('/') else {
        return false;
    };
    // the unescaped `.` of `github.com` is any character but a line break
    let host_ok = head.strip_suffix("com").and_then(|h| {
        let mut chars = h.chars();
        let dot = chars.next_back()?;
        Some(!matches!(dot, '\n' | '\r' | '\u{2028}' | '\u{2029}') && chars.as_str().ends_with("github"))
    });
    host_ok == Some(true) && !user.is_empty() && last.len() > ".git.git".len() && last.ends_with(".git.git")
}

/// A link for a repository on no known host: an http(s) URL (`git+` and a trailing `.git`
/// removed), without credentials, query or committish. Other schemes (`git://`, `ssh`,
/// `file:`, `javascript:`) give none.
fn browsable(raw: &str) -> Option<String> {
    let s = js_trim(raw);
    let s = match s.get(..4) {
        Some(p) if p.eq_ignore_ascii_case("git+") => &s[4..],
        _ => s,
    };
    let mut u = Url::parse(s).ok()?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none_or(str::is_empty) {
        return None;
    }
    // set_username/set_password cannot fail on an http(s) URL with a host
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.set_query(None);
    u.set_fragment(None);
    if let Some(p) = u.path().strip_suffix(".git").map(str::to_string) {
        u.set_path(&p);
    }
    Some(u.to_string())
}

#[cfg(test)]
mod tests {
    use nodules_store::model::GitHostKind;
    use serde_json::json;

    use super::*;

    fn repo(v: Value) -> Option<Repository> {
        repository(Some(&v), &mut Warnings::new())
    }

    #[test]
    fn string_spellings() {
        for (s, normalized) in [
            ("github:u/r", "git+https://github.com/u/r.git"),
            ("u/r", "git+https://github.com/u/r.git"),
            ("gitlab:u/r", "git+https://gitlab.com/u/r.git"),
            ("bitbucket:u/r", "git+https://bitbucket.org/u/r.git"),
            ("git+ssh://git@github.com/u/r.git", "git+ssh://git@github.com/u/r.git"),
            ("git://github.com/u/r", "git://github.com/u/r.git"),
            ("git@github.com:u/r.git", "git+ssh://git@github.com/u/r.git"),
            ("https://github.com/u/r", "git+https://github.com/u/r.git"),
        ] {
            let r = repo(json!(s)).expect(s);
            assert_eq!(r.normalized, normalized, "{s}");
            let host = r.hosted.as_ref().map(|h| h.host);
            let browse = match host {
                Some(GitHostKind::Gitlab) => "https://gitlab.com/u/r",
                Some(GitHostKind::Bitbucket) => "https://bitbucket.org/u/r",
                _ => "https://github.com/u/r",
            };
            assert_eq!(r.url.as_deref(), Some(browse), "{s}");
            assert_eq!(r.kind.as_deref(), Some("git"));
            assert_eq!(r.raw, s);
        }
        let r = repo(json!("github:u/r#dev")).expect("hosted");
        assert_eq!(r.normalized, "git+https://github.com/u/r.git#dev");
        assert_eq!(r.url.as_deref(), Some("https://github.com/u/r/tree/dev"));
        let h = r.hosted.expect("hosted");
        assert_eq!(
            (h.host, h.owner.as_deref(), h.repo.as_str(), h.committish.as_deref()),
            (GitHostKind::Github, Some("u"), "r", Some("dev"))
        );
    }

    #[test]
    fn objects() {
        let r = repo(json!({"type": "git", "url": "https://gitlab.com/g/s/p.git", "directory": "packages/x"}))
            .expect("repo");
        assert_eq!(r.url.as_deref(), Some("https://gitlab.com/g/s/p"));
        assert_eq!(r.directory.as_deref(), Some("packages/x"));
        assert_eq!(repo(json!({})), None);
        assert_eq!(repo(json!({"type": "git"})), None);
        let mut w = Warnings::new();
        assert_eq!(repository(Some(&json!({"url": 5})), &mut w), None);
        assert_eq!(w.len(), 1);
        assert_eq!(repository(Some(&json!(5)), &mut w), None);
        assert_eq!(w.len(), 2);
    }

    #[test]
    fn arrays_take_the_first() {
        let r = repo(json!([{"type": "git", "url": "u/r"}, "x/y"])).expect("repo");
        assert_eq!(r.hosted.map(|h| h.repo).as_deref(), Some("r"));
        assert_eq!(repo(json!([])), None);
    }

    #[test]
    fn not_hosted() {
        let r = repo(json!("git+https://user:tok@example.com/x.git#main?")).expect("repo");
        assert_eq!(r.hosted, None);
        assert_eq!(r.normalized, "git+https://user:tok@example.com/x.git#main?");
        assert_eq!(r.url.as_deref(), Some("https://example.com/x"));
        assert_eq!(repo(json!("git://example.org/x")).and_then(|r| r.url), None);
        assert_eq!(repo(json!("javascript:alert(1)")).and_then(|r| r.url), None);
        assert_eq!(repo(json!("file:../x")).and_then(|r| r.url), None);
    }

    #[test]
    fn broken_git_urls() {
        assert!(is_broken_github_url("https://github.com/u/r.git.git"));
        assert!(!is_broken_github_url("https://github.com/u/r.git"));
        assert!(!is_broken_github_url("https://github.com/u/x/r.git.git"));
    }
}
