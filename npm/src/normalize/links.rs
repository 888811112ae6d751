//! `bugs`, `homepage` (falling back to the repository's, as npm does) and `funding`.
//!
//! `bugs` and `homepage` follow normalize-package-data's `fixBugsField` and
//! `fixHomepageField`, with one deliberate difference: a URL whose scheme is not http,
//! https or mailto (`javascript:`, `data:`, `localhost:3000`) is dropped, since we render
//! these as links.
use nodules_store::model::{Bugs, Funding, Repository};
use serde_json::Value;
use url::Url;

use super::Warnings;
use super::fields::truthy;
use super::hosted::Hosted;
use super::limits::{MAX_ENTRIES, MAX_SHORT, truncate};

/// The issue tracker: the document's, else the hosted repository's (npm uses the latter
/// only when `bugs` is absent or falsy, not when it is present but unusable).
pub fn bugs(v: Option<&Value>, repo: Option<&Repository>, w: &mut Warnings) -> Option<Bugs> {
    let Some(v) = v.filter(|v| truthy(v)) else {
        let url = Hosted::from_url(&repo?.normalized)?.bugs()?;
        return Some(Bugs { url: Some(truncate(&url, MAX_SHORT)), email: None });
    };
    let (url, email) = match v {
        Value::String(s) if is_email(s) => (None, Some(s.as_str())),
        Value::String(s) if can_parse(s) => (Some(s.as_str()), None),
        Value::String(_) => {
            w.push("bugs", "neither an e-mail address nor a URL");
            return None;
        }
        Value::Object(o) => {
            // npm's typo fixes: `web` and `name` replace `url`, the later key winning
            let mut url = o.get("url");
            for (k, v) in o {
                if k == "web" || k == "name" {
                    url = Some(v);
                }
            }
            let url = match url.filter(|u| truthy(u)) {
                Some(Value::String(s)) if can_parse(s) => Some(s.as_str()),
                Some(Value::String(_)) => {
                    w.push("bugs.url", "not a URL");
                    None
                }
                Some(other) => {
                    w.wrong_type("bugs.url", other, "string");
                    None
                }
                None => None,
            };
            let email = match o.get("email").filter(|e| truthy(e)) {
                Some(Value::String(s)) if is_email(s) => Some(s.as_str()),
                Some(_) => {
                    w.push("bugs.email", "not an e-mail address");
                    None
                }
                None => None,
            };
            (url, email)
        }
        other => {
            w.wrong_type("bugs", other, "string or object");
            return None;
        }
    };
    let url = url.filter(|u| safe_link(u, "bugs.url", w));
    if url.is_none() && email.is_none() {
        w.push("bugs", "nothing usable left");
        return None;
    }
    let cap = |s: Option<&str>| s.map(|s| truncate(s, MAX_SHORT));
    Some(Bugs { url: cap(url), email: cap(email) })
}

/// The home page: the document's (`http://` prepended when it does not parse as a URL),
/// else the hosted repository's README. A non-string `homepage` is dropped, and then npm
/// does not fall back: its fallback runs only for a falsy value.
pub fn homepage(v: Option<&Value>, repo: Option<&Repository>, w: &mut Warnings) -> Option<String> {
    let Some(v) = v.filter(|v| truthy(v)) else {
        return Some(truncate(&Hosted::from_url(&repo?.normalized)?.docs(), MAX_SHORT));
    };
    let Value::String(s) = v else {
        w.wrong_type("homepage", v, "string");
        return None;
    };
    let url = if can_parse(s) { s.clone() } else { format!("http://{s}") };
    safe_link(&url, "homepage", w).then(|| truncate(&url, MAX_SHORT))
}

/// `funding`: a URL string, a `{type, url}` object, or an array of either. Only http(s)
/// URLs are kept.
pub fn funding(v: Option<&Value>, w: &mut Warnings) -> Vec<Funding> {
    let items = match v {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(items)) => items.as_slice(),
        Some(one) => std::slice::from_ref(one),
    };
    let mut out = Vec::new();
    for item in items {
        let (kind, url) = match item {
            Value::String(s) => (None, s.as_str()),
            Value::Object(o) => {
                let kind = match o.get("type") {
                    Some(Value::String(t)) if !t.is_empty() => Some(truncate(t, MAX_SHORT)),
                    None | Some(Value::Null) | Some(Value::String(_)) => None,
                    Some(other) => {
                        w.wrong_type("funding.type", other, "string");
                        None
                    }
                };
                match o.get("url") {
                    Some(Value::String(u)) => (kind, u.as_str()),
                    other => {
                        w.wrong_type("funding.url", other.unwrap_or(&Value::Null), "string");
                        continue;
                    }
                }
            }
            other => {
                w.wrong_type("funding", other, "string, object or array");
                continue;
            }
        };
        let http = Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
        if !http {
            w.push("funding", "not an http(s) URL");
        } else if out.len() < MAX_ENTRIES {
            out.push(Funding { kind, url: truncate(url, MAX_SHORT) });
        }
    }
    out
}

/// fixer.js `isEmail`: an `@` before the last `.`.
fn is_email(s: &str) -> bool {
    match (s.find('@'), s.rfind('.')) {
        (Some(at), Some(dot)) => at < dot,
        _ => false,
    }
}

/// Node's `URL.canParse`.
fn can_parse(s: &str) -> bool {
    Url::parse(s).is_ok()
}

/// Whether a link may be rendered: http, https or mailto. A string that does not parse even
/// with `http://` in front keeps npm's value, whose scheme is then http.
fn safe_link(url: &str, field: &str, w: &mut Warnings) -> bool {
    let ok = Url::parse(url).map_or(true, |u| matches!(u.scheme(), "http" | "https" | "mailto"));
    if !ok {
        w.push(field, "not an http, https or mailto URL");
    }
    ok
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::normalize::repository::repository;

    fn gh() -> Option<Repository> {
        repository(Some(&json!("github:u/r")), &mut Warnings::new())
    }

    fn b(url: Option<&str>, email: Option<&str>) -> Option<Bugs> {
        Some(Bugs { url: url.map(str::to_string), email: email.map(str::to_string) })
    }

    #[test]
    fn bugs_shapes() {
        let mut w = Warnings::new();
        let repo = gh();
        let r = repo.as_ref();
        assert_eq!(bugs(None, r, &mut w), b(Some("https://github.com/u/r/issues"), None));
        assert_eq!(bugs(Some(&json!("")), r, &mut w), b(Some("https://github.com/u/r/issues"), None));
        assert_eq!(bugs(Some(&json!("a@b.co")), r, &mut w), b(None, Some("a@b.co")));
        assert_eq!(bugs(Some(&json!("https://x.org/i")), r, &mut w), b(Some("https://x.org/i"), None));
        assert_eq!(bugs(Some(&json!({"web": "https://x.org/w"})), r, &mut w), b(Some("https://x.org/w"), None));
        assert_eq!(
            bugs(Some(&json!({"name": "https://x.org/n", "url": "https://x.org/u"})), r, &mut w),
            b(Some("https://x.org/n"), None)
        );
        assert_eq!(bugs(Some(&json!({"email": "a@b.co", "url": "nope"})), r, &mut w), b(None, Some("a@b.co")));
        assert!(w.is_empty() || w.len() == 1);
        // present but unusable: no fallback
        assert_eq!(bugs(Some(&json!("nope")), r, &mut w), None);
        assert_eq!(bugs(Some(&json!({"url": "javascript:alert(1)"})), r, &mut w), None);
        assert_eq!(bugs(Some(&json!(["https://x.org"])), r, &mut w), None);
        assert_eq!(bugs(None, None, &mut w), None);
    }

    #[test]
    fn sourcehut_has_no_bugs_fallback() {
        let repo = repository(Some(&json!("https://git.sr.ht/~u/r")), &mut Warnings::new());
        assert_eq!(bugs(None, repo.as_ref(), &mut Warnings::new()), None);
    }

    #[test]
    fn homepage_shapes() {
        let mut w = Warnings::new();
        let repo = gh();
        let r = repo.as_ref();
        assert_eq!(homepage(None, r, &mut w).as_deref(), Some("https://github.com/u/r#readme"));
        assert_eq!(homepage(Some(&json!("example.com/x")), r, &mut w).as_deref(), Some("http://example.com/x"));
        assert_eq!(homepage(Some(&json!("https://x.org")), r, &mut w).as_deref(), Some("https://x.org"));
        assert!(w.is_empty());
        // a non-string homepage is dropped and npm does not fall back
        assert_eq!(homepage(Some(&json!(["https://x.org"])), r, &mut w), None);
        assert_eq!(homepage(Some(&json!("javascript:alert(1)")), r, &mut w), None);
        assert_eq!(w.len(), 2);
    }

    #[test]
    fn funding_shapes() {
        let mut w = Warnings::new();
        let f = |url: &str, kind: Option<&str>| Funding { kind: kind.map(str::to_string), url: url.to_string() };
        assert_eq!(funding(Some(&json!("https://x.org/f")), &mut w), [f("https://x.org/f", None)]);
        assert_eq!(
            funding(Some(&json!({"type": "patreon", "url": "https://p.org/x"})), &mut w),
            [f("https://p.org/x", Some("patreon"))]
        );
        let list = json!(["https://a.org", {"url": "javascript:x"}, {"url": 3}, "ftp://x", 7]);
        assert_eq!(funding(Some(&list), &mut w), [f("https://a.org", None)]);
        assert_eq!(w.len(), 4);
    }
}
