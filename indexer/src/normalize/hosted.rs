//! A port of npm's hosted-git-info (v9): recognizes repository URLs on GitHub, GitLab,
//! Bitbucket, gists and sourcehut in every spelling npm accepts, and renders the URLs npm
//! derives from them (browse, docs, bugs, https clone, shortcut, raw files).
//!
//! Parsing goes through the `url` crate (WHATWG URL, as Node's `URL`), so npm's quirks come
//! along on purpose: `git+https://GitHub.com/u/r` is not hosted (a non-special scheme keeps
//! the host's case), `github:r` renders its missing user as `null`, and
//! `https://github.com/u/r/tree` has the committish `undefined`. Other code compares our
//! output with npm's, so faithful beats tidy here.
use std::fmt;

use nodules_store::model::{GitHostKind, HostedRepo};
use url::Url;

use super::fields::is_js_space;

/// Which URL [`Hosted`]'s `Display` renders: hosted-git-info's `default`, named after the
/// spelling the repository was given in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Representation {
    /// `github:u/r`, `u/r`, `gitlab:u/r`, …
    Shortcut,
    /// `git+ssh://…`, `ssh://…`, `git@host:u/r`
    SshUrl,
    /// `git+https://…` and `https://…`
    Https,
    /// `git://…`
    Git,
    /// `http://…`: hosted-git-info has no `http` template, so it renders as sshurl.
    Http,
    /// `git+http://…`: rendered as sshurl too.
    GitHttp,
}

impl Representation {
    /// hosted-git-info's name for it (`getDefaultRepresentation()`).
    pub fn as_str(self) -> &'static str {
        match self {
            Representation::Shortcut => "shortcut",
            Representation::SshUrl => "sshurl",
            Representation::Https => "https",
            Representation::Git => "git",
            Representation::Http => "http",
            Representation::GitHttp => "git+http",
        }
    }
}

/// A repository on a known git host, as hosted-git-info's `GitHost` holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hosted {
    pub kind: GitHostKind,
    /// Owner; `None` for an anonymous gist or a shortcut without a slash.
    pub user: Option<String>,
    pub project: String,
    /// `#…` after the URL, percent-decoded; `None` when absent or empty.
    pub committish: Option<String>,
    /// `user[:password]` from an http(s)/git URL, still percent-encoded as npm keeps it.
    pub auth: Option<String>,
    pub default_representation: Representation,
}

/// Static facts about one host (hosted-git-info's `hosts.js`).
struct HostDef {
    kind: GitHostKind,
    domain: &'static str,
    protocols: &'static [&'static str],
    treepath: &'static str,
    blobpath: &'static str,
}

const HOSTS: [HostDef; 5] = [
    HostDef {
        kind: GitHostKind::Github,
        domain: "github.com",
        protocols: &["git:", "http:", "git+ssh:", "git+https:", "ssh:", "https:"],
        treepath: "tree",
        blobpath: "blob",
    },
    HostDef {
        kind: GitHostKind::Bitbucket,
        domain: "bitbucket.org",
        protocols: &["git+ssh:", "git+https:", "ssh:", "https:"],
        treepath: "src",
        blobpath: "src",
    },
    HostDef {
        kind: GitHostKind::Gitlab,
        domain: "gitlab.com",
        protocols: &["git+ssh:", "git+https:", "ssh:", "https:"],
        treepath: "tree",
        blobpath: "tree",
    },
    HostDef {
        kind: GitHostKind::Gist,
        domain: "gist.github.com",
        protocols: &["git:", "git+ssh:", "git+https:", "ssh:", "https:"],
        treepath: "",
        blobpath: "",
    },
    HostDef {
        kind: GitHostKind::Sourcehut,
        domain: "git.sr.ht",
        protocols: &["git+ssh:", "https:"],
        treepath: "tree",
        blobpath: "tree",
    },
];

fn host_def(kind: GitHostKind) -> &'static HostDef {
    // every kind has an entry; the fallback is never taken
    HOSTS.iter().find(|h| h.kind == kind).unwrap_or(&HOSTS[0])
}

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

impl Hosted {
    /// hosted-git-info's `fromUrl`: `None` when `giturl` is not on a known host.
    pub fn from_url(giturl: &str) -> Option<Hosted> {
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

    /// `owner/repo` facts for the package record.
    pub fn to_hosted_repo(&self) -> HostedRepo {
        HostedRepo {
            host: self.kind,
            owner: self.user.clone(),
            repo: self.project.clone(),
            committish: self.committish.clone(),
        }
    }

    fn domain(&self) -> &'static str {
        host_def(self.kind).domain
    }

    /// The user as a JavaScript template literal prints it: a missing one is `null`.
    fn user_js(&self) -> &str {
        self.user.as_deref().unwrap_or("null")
    }

    /// `#committish`, or nothing.
    fn hash(&self) -> String {
        self.committish.as_deref().map(|c| format!("#{c}")).unwrap_or_default()
    }

    /// `/enc(committish)`, or nothing.
    fn committish_segment(&self) -> String {
        let c = self.committish.as_deref().map(encode_uri_component);
        c.map(|c| format!("/{c}")).unwrap_or_default()
    }

    fn committish_or_head(&self) -> String {
        encode_uri_component(self.committish.as_deref().unwrap_or("HEAD"))
    }

    fn auth_at(&self) -> String {
        self.auth.as_deref().map(|a| format!("{a}@")).unwrap_or_default()
    }

    /// `git+https://` clone URL (sourcehut: plain `https://`).
    pub fn https(&self) -> String {
        let (d, u, p, h) = (self.domain(), self.user_js(), &self.project, self.hash());
        match self.kind {
            GitHostKind::Gist => format!("git+https://{d}/{p}.git{h}"),
            GitHostKind::Sourcehut => format!("https://{d}/{u}/{p}{h}"),
            _ => format!("git+https://{}{d}/{u}/{p}.git{h}", self.auth_at()),
        }
    }

    /// `git+ssh://git@host/…` clone URL.
    pub fn sshurl(&self) -> String {
        let (d, u, p, h) = (self.domain(), self.user_js(), &self.project, self.hash());
        match self.kind {
            GitHostKind::Gist => format!("git+ssh://git@{d}/{p}.git{h}"),
            _ => format!("git+ssh://git@{d}/{u}/{p}.git{h}"),
        }
    }

    /// `git://` clone URL; only GitHub and gists have one.
    pub fn git(&self) -> Option<String> {
        let (d, u, p, h) = (self.domain(), self.user_js(), &self.project, self.hash());
        match self.kind {
            GitHostKind::Github => Some(format!("git://{}{d}/{u}/{p}.git{h}", self.auth_at())),
            GitHostKind::Gist => Some(format!("git://{d}/{p}.git{h}")),
            _ => None,
        }
    }

    /// The repository's web page (at the committish, when one is given).
    pub fn browse(&self) -> String {
        let (d, u, p) = (self.domain(), self.user_js(), &self.project);
        match self.kind {
            GitHostKind::Gist => format!("https://{d}/{p}{}", self.committish_segment()),
            _ => format!("https://{d}/{u}/{p}{}", self.tree_segment()),
        }
    }

    /// `/treepath/enc(committish)` when there is a committish.
    fn tree_segment(&self) -> String {
        let tree = host_def(self.kind).treepath;
        let c = self.committish.as_deref().map(encode_uri_component);
        c.map(|c| format!("/{tree}/{c}")).unwrap_or_default()
    }

    /// The web page of one file (`browseFile`): GitHub's `/blob/` URL, which does not
    /// redirect to a commit the way `/tree/HEAD/` does.
    pub fn browse_file(&self, path: &str) -> String {
        let path = path.strip_prefix('/').unwrap_or(path);
        let (d, u, p) = (self.domain(), self.user_js(), &self.project);
        match self.kind {
            GitHostKind::Gist => {
                let anchor =
                    if path.is_empty() { String::new() } else { format!("#file-{}", format_hash_fragment(path)) };
                format!("https://{d}/{p}{}{anchor}", self.committish_segment())
            }
            _ => {
                let blob = host_def(self.kind).blobpath;
                format!("https://{d}/{u}/{p}/{blob}/{}/{path}", self.committish_or_head())
            }
        }
    }

    /// The README page npm uses as a fallback `homepage`.
    pub fn docs(&self) -> String {
        match self.kind {
            GitHostKind::Gist => self.browse(),
            _ => format!("{}#readme", self.browse()),
        }
    }

    /// The issue tracker npm uses as a fallback `bugs` (sourcehut has none).
    pub fn bugs(&self) -> Option<String> {
        let (d, u, p) = (self.domain(), self.user_js(), &self.project);
        match self.kind {
            GitHostKind::Gist => Some(format!("https://{d}/{p}")),
            GitHostKind::Sourcehut => None,
            _ => Some(format!("https://{d}/{u}/{p}/issues")),
        }
    }

    /// `github:u/r#committish` (`gist:id` for gists).
    pub fn shortcut(&self) -> String {
        let (t, u, p, h) = (self.kind.as_str(), self.user_js(), &self.project, self.hash());
        match self.kind {
            GitHostKind::Gist => format!("{t}:{p}{h}"),
            _ => format!("{t}:{u}/{p}{h}"),
        }
    }

    /// The raw content of one file (hosted-git-info's `file`), e.g. on
    /// raw.githubusercontent.com.
    pub fn raw_file(&self, path: &str) -> String {
        let path = path.strip_prefix('/').unwrap_or(path);
        let (d, u, p) = (self.domain(), self.user_js(), &self.project);
        match self.kind {
            GitHostKind::Github => format!(
                "https://{}raw.githubusercontent.com/{u}/{p}/{}/{path}",
                self.auth_at(),
                self.committish_or_head()
            ),
            GitHostKind::Gist => {
                format!("https://gist.githubusercontent.com/{u}/{p}/raw{}/{path}", self.committish_segment())
            }
            GitHostKind::Sourcehut => {
                format!("https://{d}/{u}/{p}/blob/{}/{path}", self.committish_or_head())
            }
            _ => format!("https://{d}/{u}/{p}/raw/{}/{path}", self.committish_or_head()),
        }
    }
}

/// hosted-git-info's `toString()`: the URL in the spelling it was given in.
impl fmt::Display for Hosted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self.default_representation {
            Representation::Shortcut => self.shortcut(),
            Representation::Https => self.https(),
            // the `git:` protocol is accepted only by hosts that have a git template
            Representation::Git => self.git().unwrap_or_else(|| self.sshurl()),
            Representation::SshUrl | Representation::Http | Representation::GitHttp => self.sshurl(),
        };
        f.write_str(&s)
    }
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

/// JavaScript's `encodeURIComponent`.
pub fn encode_uri_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// hosts.js `formatHashFragment`: a file path as GitHub's anchor for it.
fn format_hash_fragment(f: &str) -> String {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let lower = f.to_lowercase();
    let trimmed = lower.trim_start_matches(|c| !is_word(c)).trim_end_matches(|c| !is_word(c));
    let mut out = String::with_capacity(trimmed.len());
    let mut in_run = false;
    for c in trimmed.chars().filter(|&c| c != '/') {
        if is_word(c) {
            out.push(c);
            in_run = false;
        } else if !in_run {
            out.push('-');
            in_run = true;
        }
    }
    out
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
    fn default_representation_follows_the_spelling() {
        assert_eq!(h("u/r").to_string(), "github:u/r");
        assert_eq!(h("git@github.com:u/r.git").to_string(), "git+ssh://git@github.com/u/r.git");
        assert_eq!(h("git://github.com/u/r").to_string(), "git://github.com/u/r.git");
        assert_eq!(h("git+https://github.com/u/r").to_string(), "git+https://github.com/u/r.git");
        assert_eq!(h("https://github.com/u/r").to_string(), "git+https://github.com/u/r.git");
        // `http:` names no template: npm falls back to sshurl
        assert_eq!(h("http://github.com/u/r").to_string(), "git+ssh://git@github.com/u/r.git");
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
    fn other_hosts() {
        let g = h("https://gitlab.com/group/sub/proj.git");
        assert_eq!((g.kind, g.user.as_deref(), g.project.as_str()), (GitHostKind::Gitlab, Some("group/sub"), "proj"));
        assert_eq!(g.bugs().as_deref(), Some("https://gitlab.com/group/sub/proj/issues"));
        let b = h("bitbucket:u/r");
        assert_eq!(b.docs(), "https://bitbucket.org/u/r#readme");
        let gist = h("gist:abc123");
        assert_eq!((gist.user.as_deref(), gist.project.as_str()), (None, "abc123"));
        assert_eq!(gist.browse(), "https://gist.github.com/abc123");
        assert_eq!(gist.https(), "git+https://gist.github.com/abc123.git");
        let sr = h("https://git.sr.ht/~u/r");
        assert_eq!((sr.kind, sr.user.as_deref()), (GitHostKind::Sourcehut, Some("~u")));
        assert_eq!(sr.bugs(), None);
        assert_eq!(sr.https(), "https://git.sr.ht/~u/r");
    }

    #[test]
    fn files() {
        let g = h("github:u/r#v1");
        assert_eq!(g.browse_file("lib/a.js"), "https://github.com/u/r/blob/v1/lib/a.js");
        assert_eq!(g.raw_file("/package.json"), "https://raw.githubusercontent.com/u/r/v1/package.json");
        assert_eq!(h("gist:u/abc").browse_file("Read Me.md"), "https://gist.github.com/abc#file-read-me-md");
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
    fn uri_components() {
        assert_eq!(decode_uri_component("a%20b%C3%A9").as_deref(), Some("a bé"));
        assert_eq!(decode_uri_component("%zz"), None);
        assert_eq!(decode_uri_component("%C3"), None);
        assert_eq!(encode_uri_component("a b/é~"), "a%20b%2F%C3%A9~");
    }
}
