//! URL → [`Hosted`]: GitHub shorthand, protocol correction (parse-url.js), each host's
//! `extract`, and JavaScript's URI decoding.
use nodules_store::model::GitHostKind;
use url::Url;

use super::{HOSTS, Hosted, Representation, host_def};
use crate::normalize::fields::is_js_space;

/// The protocols hosted-git-info knows: (how the default representation is named,
/// whether `user:password@` is kept as auth).
fn protocol(proto: &str) -> Option<(Representation, bool)> {
    Some(match proto {
        "git+ssh:" | "ssh:" => (Representation::SshUrl, false),
        "git+https:" | "https:" => (Representation::Https, true),
        "git:" => (Representation::Git, true),
        "http:" => (Representation::Http, true),
        "git+http:" => (Representation::GitHttp, true),
        _ => return shortcut_kind(proto).map(|_| (Representation::Shortcut, false)),
    })
}

fn shortcut_kind(proto: &str) -> Option<GitHostKind> {
    let name = proto.strip_suffix(':')?;
    HOSTS.iter().map(|h| h.kind).find(|k| k.as_str() == name)
}

/// hosted-git-info's `fromUrl` (see [`Hosted::from_url`]).
pub(super) fn from_url(giturl: &str) -> Option<Hosted> {
    // every hosted spelling has a `/` or a protocol's `:`; this spares the URL parser
    // the version ranges that dependency maps are full of
    if !giturl.contains(['/', ':']) {
        return None;
    }
    let corrected;
    let giturl = if is_github_shorthand(giturl) {
        corrected = format!("github:{giturl}");
        corrected.as_str()
    } else {
        giturl
    };
    let parsed = parse_url(giturl)?;
    let proto = format!("{}:", parsed.scheme());
    let hostname = parsed.host_str().unwrap_or("");
    let by_shortcut = shortcut_kind(&proto);
    let domain = hostname.strip_prefix("www.").unwrap_or(hostname);
    let by_domain = HOSTS.iter().find(|h| h.domain == domain).map(|h| h.kind);
    let kind = by_shortcut.or(by_domain)?;

    let known = protocol(&proto);
    let mut auth = None;
    if known.is_some_and(|(_, with_auth)| with_auth) {
        let (user, pass) = (parsed.username(), parsed.password().unwrap_or(""));
        if !user.is_empty() || !pass.is_empty() {
            let pass = if pass.is_empty() { String::new() } else { format!(":{pass}") };
            auth = Some(format!("{user}{pass}"));
        }
    }
    // WHATWG `hash` is empty for both a missing and an empty fragment
    let hash = parsed.fragment().unwrap_or("");

    let (user, project, committish, representation) = if by_shortcut.is_some() {
        let mut path = parsed.path();
        path = path.strip_prefix('/').unwrap_or(path);
        // npm ignores auth in shortcuts
        if let Some(at) = path.find('@') {
            path = &path[at + 1..];
        }
        let (user, project) = match path.rfind('/') {
            Some(slash) => (Some(decode_uri_component(&path[..slash])?), &path[slash + 1..]),
            None => (None, path),
        };
        let mut project = decode_uri_component(project)?;
        if let Some(p) = project.strip_suffix(".git") {
            project = p.to_string();
        }
        let user = user.filter(|u| !u.is_empty());
        (user, project, decode_uri_component(hash)?, Representation::Shortcut)
    } else {
        let def = host_def(kind);
        if !def.protocols.contains(&proto.as_str()) {
            return None;
        }
        let (user, project, committish) = extract(kind, parsed.path(), hash)?;
        let user = match user {
            Some(u) => Some(decode_uri_component(u)?),
            None => None,
        };
        let representation = known.map_or(Representation::SshUrl, |(r, _)| r);
        let project = decode_uri_component(&project)?;
        (user, project, decode_uri_component(committish)?, representation)
    };
    Some(Hosted {
        kind,
        user,
        project,
        committish: Some(committish).filter(|c| !c.is_empty()),
        auth,
        default_representation: representation,
    })
}

/// Each host's `extract`: raw (still encoded) user, project and committish from a parsed
/// URL's path and fragment.
fn extract<'a>(kind: GitHostKind, path: &'a str, hash: &'a str) -> Option<(Option<&'a str>, String, &'a str)> {
    let strip_git = |p: &str| p.strip_suffix(".git").unwrap_or(p).to_string();
    // JavaScript's `split('/', n)`: the first n pieces, the rest dropped
    let mut seg = path.split('/');
    seg.next();
    let (user, project, aux) = (seg.next(), seg.next(), seg.next());
    match kind {
        GitHostKind::Github => {
            if aux.is_some_and(|t| !t.is_empty() && t != "tree") {
                return None;
            }
            let committish = if aux.is_some_and(|t| !t.is_empty()) {
                // `decodeURIComponent(undefined)` is the string "undefined"
                seg.next().unwrap_or("undefined")
            } else {
                hash
            };
            let project = strip_git(project.unwrap_or(""));
            let user = user.filter(|u| !u.is_empty())?;
            (!project.is_empty()).then_some((Some(user), project, committish))
        }
        GitHostKind::Bitbucket | GitHostKind::Sourcehut => {
            let bad_aux = if kind == GitHostKind::Bitbucket { "get" } else { "archive" };
            if aux == Some(bad_aux) {
                return None;
            }
            let project = strip_git(project.unwrap_or(""));
            let user = user.filter(|u| !u.is_empty())?;
            (!project.is_empty()).then_some((Some(user), project, hash))
        }
        GitHostKind::Gitlab => {
            let path = path.get(1..).unwrap_or("");
            if path.contains("/-/") || path.contains("/archive.tar.gz") {
                return None;
            }
            let (user, project) = path.rsplit_once('/').unwrap_or(("", path));
            let project = strip_git(project);
            (!user.is_empty() && !project.is_empty()).then_some((Some(user), project, hash))
        }
        GitHostKind::Gist => {
            if aux == Some("raw") {
                return None;
            }
            let (user, project) = match project.filter(|p| !p.is_empty()) {
                Some(p) => (user, p),
                None => (None, user.filter(|u| !u.is_empty())?),
            };
            Some((user, strip_git(project), hash))
        }
    }
}

/// `npm/cli`-style GitHub shorthand (from-url.js `isGitHubShorthand`).
fn is_github_shorthand(arg: &str) -> bool {
    let first_hash = arg.find('#');
    let first_slash = arg.find('/');
    let second_slash = first_slash.and_then(|i| arg[i + 1..].find('/').map(|j| i + 1 + j));
    let first_colon = arg.find(':');
    let first_space = arg.char_indices().find(|&(_, c)| is_js_space(c)).map(|(i, _)| i);
    let first_at = arg.find('@');
    let only_after_hash = |pos: Option<usize>| match pos {
        None => true,
        Some(p) => first_hash.is_some_and(|h| p > h),
    };
    let does_not_end_with_slash = match first_hash {
        Some(h) => !arg[..h].ends_with('/'),
        None => !arg.ends_with('/'),
    };
    only_after_hash(first_space)
        && first_slash.is_some_and(|i| i > 0)
        && does_not_end_with_slash
        && !arg.starts_with('.')
        && only_after_hash(first_at)
        && only_after_hash(first_colon)
        && only_after_hash(second_slash)
}

/// parse-url.js: the URL as given, else with the scp-style `host:path` corrected.
fn parse_url(giturl: &str) -> Option<Url> {
    let with_protocol = correct_protocol(giturl);
    Url::parse(&with_protocol).ok().or_else(|| Url::parse(&correct_url(&with_protocol)).ok())
}

/// Index as JavaScript's `indexOf` reports it: -1 when absent.
fn js_index(pos: Option<usize>) -> isize {
    pos.map_or(-1, |p| p as isize)
}

/// Inserts the `//` after the first `:` of inputs like `git:github.com:user/repo`.
fn correct_protocol(arg: &str) -> String {
    let first_colon = arg.find(':');
    let proto = first_colon.map_or("", |c| &arg[..=c]);
    if protocol(proto).is_some() {
        return arg.to_string();
    }
    if let Some(c) = first_colon
        && arg[c..].starts_with("://")
    {
        return arg.to_string();
    }
    if let Some(at) = arg.find('@') {
        return if js_index(Some(at)) > js_index(first_colon) {
            // `<foo>:<bar>@<baz>`: taken as a git+ssh URL
            format!("git+ssh://{arg}")
        } else {
            arg.to_string()
        };
    }
    match first_colon {
        Some(c) => format!("{}//{}", &arg[..=c], &arg[c + 1..]),
        None => format!("//{arg}"),
    }
}

/// The last `c` before the first `#` (a committish may hold `@` and `:`).
fn last_before_hash(s: &str, c: char) -> Option<usize> {
    let end = s.find('#').unwrap_or(s.len());
    s[..end].rfind(c)
}

/// Turns an scp-style `user@host:path` into something `URL` parses.
fn correct_url(giturl: &str) -> String {
    let mut giturl = giturl.to_string();
    let last_at = last_before_hash(&giturl, '@');
    if let Some(colon) = last_before_hash(&giturl, ':')
        && js_index(Some(colon)) > js_index(last_at)
    {
        giturl.replace_range(colon..=colon, "/");
    }
    if last_before_hash(&giturl, ':').is_none() && !giturl.contains("//") {
        giturl = format!("git+ssh://{giturl}");
    }
    giturl
}

/// JavaScript's `decodeURIComponent`; `None` where it throws a `URIError`.
pub fn decode_uri_component(s: &str) -> Option<String> {
    if !s.contains('%') {
        return Some(s.to_string());
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    // a literal character never continues a %-encoded sequence, so checking the whole
    // buffer rejects exactly what JavaScript rejects
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Hosted {
        match Hosted::from_url(s) {
            Some(h) => h,
            None => panic!("{s} should be hosted"),
        }
    }

    #[test]
    fn github_spellings_agree() {
        for s in [
            "github:u/r",
            "u/r",
            "git+ssh://git@github.com/u/r.git",
            "git@github.com:u/r.git",
            "git://github.com/u/r.git",
            "git+https://github.com/u/r.git",
            "https://github.com/u/r",
            "https://www.github.com/u/r.git",
            "ssh://git@github.com/u/r",
        ] {
            let h = h(s);
            assert_eq!((h.kind, h.user.as_deref(), h.project.as_str()), (GitHostKind::Github, Some("u"), "r"), "{s}");
            assert_eq!(h.browse(), "https://github.com/u/r", "{s}");
            assert_eq!(h.https(), "git+https://github.com/u/r.git", "{s}");
        }
    }

    #[test]
    fn committish_and_auth() {
        let h1 = h("git+https://tok:x-oauth@github.com/u/r.git#semver:^1.0.0");
        assert_eq!(h1.committish.as_deref(), Some("semver:^1.0.0"));
        assert_eq!(h1.auth.as_deref(), Some("tok:x-oauth"));
        assert_eq!(h1.https(), "git+https://tok:x-oauth@github.com/u/r.git#semver:^1.0.0");
        assert_eq!(h1.browse(), "https://github.com/u/r/tree/semver%3A%5E1.0.0");
        // ssh URLs never keep auth
        assert_eq!(h("git+ssh://git@github.com/u/r.git").auth, None);
        assert_eq!(h("https://github.com/u/r/tree").committish.as_deref(), Some("undefined"));
    }

    #[test]
    fn not_hosted() {
        for s in [
            "",
            "https://example.com/u/r.git",
            "./local/path",
            "/abs/path",
            "@scope/pkg",
            "git+https://GitHub.com/u/r",
            "https://github.com/u",
            "https://github.com/u/r/blob/main/x",
            "https://gitlab.com/u/r/-/tree/main",
            "git://gitlab.com/u/r",
            "github:u/%E0%A4%A",
        ] {
            assert_eq!(Hosted::from_url(s), None, "{s}");
        }
    }

    #[test]
    fn decode_uri_components() {
        assert_eq!(decode_uri_component("a%20b%C3%A9").as_deref(), Some("a bé"));
        assert_eq!(decode_uri_component("%zz"), None);
        assert_eq!(decode_uri_component("%C3"), None);
    }
}
