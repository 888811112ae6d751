//! [`Hosted`] → URLs: hosted-git-info's per-host templates (https, sshurl, git, browse,
//! browseFile, docs, bugs, shortcut, file) and its `toString()`.
use std::fmt;

use nodules_store::model::GitHostKind;

use super::{Hosted, Representation, host_def};

impl Hosted {
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
    fn encode_uri_components() {
        assert_eq!(encode_uri_component("a b/é~"), "a%20b%2F%C3%A9~");
    }
}
