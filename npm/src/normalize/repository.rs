//! The `repository` field: a string, an object with `url`/`type`/`directory`, or junk.
//!
//! `normalized` is what normalize-package-data's `fixRepositoryField` stores as
//! `repository.url`; `url` is a link we can show (always http or https). All three are
//! shown on public pages, so none keeps the credentials npm keeps
//! (`git+https://user:token@github.com/u/r.git`).
use std::borrow::Cow;

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
    // credentials are not published: npm renders `auth` back into the URL
    let hosted = Hosted::from_url(raw).map(|h| Hosted { auth: None, ..h });
    let public_raw = without_credentials(raw);
    let normalized = match &hosted {
        Some(h) if h.default_representation == Representation::Shortcut => h.https(),
        Some(h) => h.to_string(),
        None => public_raw.to_string(),
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
        raw: truncate(&public_raw, MAX_SHORT),
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

/// WHATWG's special schemes: `//` is optional and `\` ends the host, as `/` does.
const SPECIAL_SCHEMES: [&str; 5] = ["http", "https", "ws", "wss", "ftp"];
/// Schemes whose user name is an ssh login (`git@`), not a secret.
const SSH_SCHEMES: [&str; 3] = ["ssh", "git+ssh", "ssh+git"];
/// hosted-git-info's shortcuts: npm ignores what comes before their first `@`.
const SHORTCUTS: [&str; 5] = ["github", "gitlab", "bitbucket", "gist", "sourcehut"];
/// Protocols npm's parse-url.js takes as given; any other `foo:bar@baz` it reads as
/// `git+ssh://foo:bar@baz` (case-sensitive, as npm compares them).
const NPM_PROTOCOLS: [&str; 5] = ["git", "git+http", "git+https", "ssh", "git+ssh"];

/// `url` without the credentials npm would keep in it, everything else as given:
/// the userinfo of a URL with a host (`https://user:token@host/…` → `https://host/…`), the
/// password of an ssh login (`git+ssh://deploy:secret@host/…` → `git+ssh://deploy@host/…`;
/// `deploy:secret@host:path`, which npm reads as ssh, → `deploy:@host:path`), and what npm
/// skips before a shortcut's `@` (`github:token@u/r`). An ssh login name is kept:
/// `git@github.com:u/r.git` is npm's canonical form.
fn without_credentials(url: &str) -> Cow<'_, str> {
    // the URL parser skips leading spaces and control characters (` github:u/r`)
    let start = url.len() - url.trim_start_matches(|c: char| c <= ' ').len();
    let s = &url[start..];
    let Some(colon) = s.find(':') else {
        return Cow::Borrowed(url);
    };
    let scheme = &s[..colon];
    let is_scheme = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    let lower = scheme.to_ascii_lowercase();
    let special = is_scheme && SPECIAL_SCHEMES.contains(&lower.as_str());
    let rest = &s[colon + 1..];
    // (where the userinfo starts, where its `@` is, whether it is an ssh login)
    let (from, at, ssh) = if special || (is_scheme && rest.starts_with("//")) {
        let slashes = if special { rest.len() - rest.trim_start_matches(['/', '\\']).len() } else { 2 };
        let from = colon + 1 + slashes;
        let host_end =
            s[from..].find(|c| matches!(c, '/' | '?' | '#') || (special && c == '\\')).map_or(s.len(), |i| from + i);
        // the last `@`: a user name may hold an unescaped one
        let Some(at) = s[from..host_end].rfind('@') else {
            return Cow::Borrowed(url);
        };
        (from, from + at, SSH_SCHEMES.contains(&lower.as_str()))
    } else {
        let Some(at) = s.find(['@', '/', '\\', '#', '?']).filter(|&i| s[i..].starts_with('@')) else {
            return Cow::Borrowed(url);
        };
        if is_scheme && SHORTCUTS.contains(&lower.as_str()) {
            (colon + 1, at, false)
        } else if colon < at && !NPM_PROTOCOLS.contains(&scheme) {
            if colon + 1 == at {
                return Cow::Borrowed(url);
            }
            // the emptied password keeps the `:` that makes npm read `git+ssh://login:@…`:
            // `login@host:22/u/r` would be scp-style, another URL
            return Cow::Owned(format!("{}{}", &url[..start + colon + 1], &s[at..]));
        } else {
            // scp-style `git@host:path`: a login without a password
            return Cow::Borrowed(url);
        }
    };
    let userinfo = &s[from..at];
    let kept = match userinfo.split_once(':') {
        Some((login, _)) if ssh && !login.is_empty() => format!("{login}@"),
        None if ssh => return Cow::Borrowed(url),
        _ => String::new(),
    };
    Cow::Owned(format!("{}{kept}{}", &url[..start + from], &s[at + 1..]))
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
        assert_eq!(r.normalized, "git+https://example.com/x.git#main?");
        assert_eq!(r.url.as_deref(), Some("https://example.com/x"));
        assert_eq!(repo(json!("git://example.org/x")).and_then(|r| r.url), None);
        assert_eq!(repo(json!("javascript:alert(1)")).and_then(|r| r.url), None);
        assert_eq!(repo(json!("file:../x")).and_then(|r| r.url), None);
    }

    #[test]
    fn credentials_are_removed() {
        for (s, raw, normalized) in [
            ("https://user:token@github.com/u/r.git", "https://github.com/u/r.git", "git+https://github.com/u/r.git"),
            (
                "git+https://token@github.com/u/r.git#v1.0.0",
                "git+https://github.com/u/r.git#v1.0.0",
                "git+https://github.com/u/r.git#v1.0.0",
            ),
            ("https://user:pw@example.com/x.git", "https://example.com/x.git", "https://example.com/x.git"),
            // an ssh login is no secret, its password is
            (
                "git+ssh://git@github.com/u/r.git",
                "git+ssh://git@github.com/u/r.git",
                "git+ssh://git@github.com/u/r.git",
            ),
            ("git@github.com:u/r.git", "git@github.com:u/r.git", "git+ssh://git@github.com/u/r.git"),
            (
                "git+ssh://deploy:secret@github.com/u/r.git",
                "git+ssh://deploy@github.com/u/r.git",
                "git+ssh://git@github.com/u/r.git",
            ),
        ] {
            let r = repo(json!(s)).expect(s);
            assert_eq!((r.raw.as_str(), r.normalized.as_str()), (raw, normalized), "{s}");
        }
        let r = repo(json!("https://user:pw@example.com/x.git")).expect("repo");
        assert_eq!((r.url.as_deref(), r.hosted), (Some("https://example.com/x"), None));
        let r = repo(json!("https://user:token@github.com/u/r.git")).expect("repo");
        assert_eq!(r.url.as_deref(), Some("https://github.com/u/r"));
        assert_eq!(r.hosted.and_then(|h| h.owner).as_deref(), Some("u"));
    }

    #[test]
    fn credentials_in_every_spelling() {
        for (s, public) in [
            ("git://tok:x-oauth-basic@github.com/u/r.git", "git://github.com/u/r.git"),
            ("HTTPS://:pw@example.com/x", "HTTPS://example.com/x"),
            ("https:user:pw@github.com/u/r", "https:github.com/u/r"),
            ("https://a@b:c@example.com/x", "https://example.com/x"),
            (" https://u:p@example.com/x", " https://example.com/x"),
            ("ssh://:pw@example.com/x", "ssh://example.com/x"),
            ("deploy:secret@github.com:u/r.git", "deploy:@github.com:u/r.git"),
            ("user:pw@github.com:22/u/r", "user:@github.com:22/u/r"),
            ("github:token@u/r", "github:u/r"),
            ("github://token@u/r", "github://u/r"),
        ] {
            assert_eq!(without_credentials(s), public, "{s}");
        }
        for s in [
            "git@github.com:u/r.git",
            "ssh://git@github.com/u/r",
            " GitHub.com:@u/r",
            "git+https://github.com/u/r.git#a@b:c",
            "https://example.com/x?from=a@b",
            "https://example.com:8443/x",
            "u/r#a@b",
            "@scope/pkg",
            "github:u/r@x",
            "git:tok@github.com/u/r",
            "file:../local",
            "",
        ] {
            assert!(matches!(without_credentials(s), Cow::Borrowed(b) if b == s), "{s}");
        }
    }

    #[test]
    fn broken_git_urls() {
        assert!(is_broken_github_url("https://github.com/u/r.git.git"));
        assert!(!is_broken_github_url("https://github.com/u/r.git"));
        assert!(!is_broken_github_url("https://github.com/u/x/r.git.git"));
    }
}
