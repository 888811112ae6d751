//! A port of npm's hosted-git-info (v9): recognizes repository URLs on GitHub, GitLab,
//! Bitbucket, gists and sourcehut in every spelling npm accepts, and renders the URLs npm
//! derives from them (browse, docs, bugs, https clone, shortcut, raw files).
//!
//! This module owns the [`Hosted`] value and the static facts about each host; `parse`
//! turns a URL into a `Hosted`, `render` turns a `Hosted` back into URLs.
//!
//! Parsing goes through the `url` crate (WHATWG URL, as Node's `URL`), so npm's quirks come
//! along on purpose: `git+https://GitHub.com/u/r` is not hosted (a non-special scheme keeps
//! the host's case), `github:r` renders its missing user as `null`, and
//! `https://github.com/u/r/tree` has the committish `undefined`. Other code compares our
//! output with npm's, so faithful beats tidy here.
use nodules_store::model::{GitHostKind, HostedRepo};

mod parse; // URL -> Hosted: shorthand, protocol correction, per-host extraction
mod render; // Hosted -> URLs: npm's templates and `toString()`

pub use parse::decode_uri_component;
pub use render::encode_uri_component;

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

impl Hosted {
    /// hosted-git-info's `fromUrl`: `None` when `giturl` is not on a known host.
    pub fn from_url(giturl: &str) -> Option<Hosted> {
        parse::from_url(giturl)
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
}
