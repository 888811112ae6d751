//! Which registry to talk to, and with which token: `--registry`, else what the user's npm
//! client is configured with (`npm config get registry`); the token from `NPM_TOKEN`, else
//! the user's `.npmrc`. Tokens are never logged or shown.

use std::fmt;
use std::path::PathBuf;
use std::process::Command;

use clap::Args;

/// Registry options, flattened into the indexer's and downloader's configs.
#[derive(Clone, Args, Default)]
pub struct RegistryArgs {
    /// Registry base URL. Default: what `npm config get registry` says (the registry your
    /// npm client uses).
    #[arg(long, env = "NODULES_REGISTRY")]
    pub registry: Option<String>,

    /// Token for a private registry. Default: the `_authToken` for the registry in ~/.npmrc.
    #[arg(long, env = "NPM_TOKEN", hide_env_values = true, hide = true)]
    pub npm_token: Option<String>,
}

impl fmt::Debug for RegistryArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryArgs")
            .field("registry", &self.registry)
            .field("npm_token", &self.npm_token.as_ref().map(|_| "<hidden>"))
            .finish()
    }
}

/// A resolved registry: base URL (ending in `/`) and optional token.
#[derive(Clone)]
pub struct Registry {
    pub url: String,
    pub token: Option<String>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "<hidden>"))
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryConfigError {
    #[error(
        "no registry given and `npm config get registry` failed ({0}); pass --registry URL or set NODULES_REGISTRY"
    )]
    NoNpm(String),
    #[error("registry URL `{0}` is not an http(s) URL")]
    BadUrl(String),
}

impl RegistryArgs {
    pub fn resolve(&self) -> Result<Registry, RegistryConfigError> {
        let url = match &self.registry {
            Some(u) => u.trim().to_string(),
            None => npm_registry()?,
        };
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(RegistryConfigError::BadUrl(url));
        }
        let url = if url.ends_with('/') { url } else { format!("{url}/") };
        let token = self.npm_token.clone().filter(|t| !t.is_empty()).or_else(|| npmrc_token(&url));
        Ok(Registry { url, token })
    }
}

fn npm_registry() -> Result<String, RegistryConfigError> {
    let out = Command::new("npm")
        .args(["config", "get", "registry"])
        .output()
        .map_err(|e| RegistryConfigError::NoNpm(e.to_string()))?;
    if !out.status.success() {
        return Err(RegistryConfigError::NoNpm(String::from_utf8_lossy(&out.stderr).trim().to_string()));
    }
    let url = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if url.is_empty() || url == "undefined" {
        return Err(RegistryConfigError::NoNpm("it printed nothing".into()));
    }
    Ok(url)
}

fn npmrc_path() -> Option<PathBuf> {
    std::env::home_dir().map(|h| h.join(".npmrc"))
}

/// The `_authToken` in ~/.npmrc for the longest `//host/path/` prefix of `url`.
fn npmrc_token(url: &str) -> Option<String> {
    let text = std::fs::read_to_string(npmrc_path()?).ok()?;
    token_for(&text, url)
}

/// Finds the token for `url` in `.npmrc` text; `${VAR}` references are expanded as npm does.
pub fn token_for(npmrc: &str, url: &str) -> Option<String> {
    let bare = url.split_once("://").map(|(_, rest)| rest).unwrap_or(url);
    let mut best: Option<(usize, String)> = None;
    for line in npmrc.lines() {
        let line = line.trim();
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let Some(prefix) = key.trim().strip_suffix(":_authToken") else {
            continue;
        };
        let Some(prefix) = prefix.strip_prefix("//") else {
            continue;
        };
        if bare.starts_with(prefix) && best.as_ref().is_none_or(|(len, _)| prefix.len() > *len) {
            best = Some((prefix.len(), expand_env(value.trim().trim_matches('"'))));
        }
    }
    best.map(|(_, t)| t).filter(|t| !t.is_empty())
}

fn expand_env(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        match rest[start + 2..].find('}') {
            Some(end) => {
                let var = &rest[start + 2..start + 2 + end];
                out.push_str(&std::env::var(var).unwrap_or_default());
                rest = &rest[start + 3 + end..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_longest_matching_prefix() {
        let rc = "registry=https://registry.test/\n//registry.test/:_authToken=short\n//registry.test/private/:_authToken=\"long\"\n//other.test/:_authToken=no\n";
        assert_eq!(token_for(rc, "https://registry.test/private/").as_deref(), Some("long"));
        assert_eq!(token_for(rc, "https://registry.test/").as_deref(), Some("short"));
        assert_eq!(token_for(rc, "https://elsewhere.test/"), None);
    }

    #[test]
    fn debug_hides_the_token() {
        let r = Registry { url: "https://registry.test/".into(), token: Some("s3cret".into()) };
        assert!(!format!("{r:?}").contains("s3cret"));
        let a = RegistryArgs { registry: None, npm_token: Some("s3cret".into()) };
        assert!(!format!("{a:?}").contains("s3cret"));
    }
}
