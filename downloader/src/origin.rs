//! Where tarballs may come from. `dist.tarball` is read from a hostile document: a URL is
//! fetched only when its origin is the registry's (or one added with `--tarball-origin`),
//! redirects to other origins are refused, and private or loopback addresses are never
//! contacted unless the registry itself is one (as in tests).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use url::Url;

/// Scheme, host and port of a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    scheme: String,
    host: String,
    port: Option<u16>,
}

impl Origin {
    pub fn of(url: &Url) -> Option<Origin> {
        Some(Origin {
            scheme: url.scheme().to_string(),
            host: url.host_str()?.to_ascii_lowercase(),
            port: url.port_or_known_default(),
        })
    }
}

/// The origins tarballs may come from.
#[derive(Debug, Clone)]
pub struct OriginPolicy {
    allowed: Vec<Origin>,
    /// The registry is itself on a private or loopback address: allow those.
    pub allow_private: bool,
}

impl OriginPolicy {
    /// `registry` and the `extra` origins (`--tarball-origin`).
    pub fn new(registry: &str, extra: &[String]) -> Result<OriginPolicy, String> {
        let parse = |s: &str| -> Result<Origin, String> {
            let u = Url::parse(s).map_err(|e| format!("`{s}` is not a URL: {e}"))?;
            Origin::of(&u).ok_or_else(|| format!("`{s}` has no host"))
        };
        let registry_url = Url::parse(registry).map_err(|e| format!("`{registry}` is not a URL: {e}"))?;
        let allow_private = match registry_url.host() {
            Some(url::Host::Ipv4(ip)) => !is_public(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => !is_public(IpAddr::V6(ip)),
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            None => false,
        };
        let mut allowed = vec![parse(registry)?];
        for e in extra {
            allowed.push(parse(e)?);
        }
        Ok(OriginPolicy { allowed, allow_private })
    }

    /// The URL to fetch, or why it must not be fetched.
    pub fn check(&self, raw: &str) -> Result<Url, String> {
        let url = Url::parse(raw).map_err(|e| format!("tarball URL is not a URL ({e})"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("tarball URL scheme `{}` is not http(s)", url.scheme()));
        }
        let origin = Origin::of(&url).ok_or("tarball URL has no host")?;
        if !self.allowed.contains(&origin) {
            return Err(format!(
                "tarball is on another origin ({}://{}), not the registry's",
                origin.scheme, origin.host
            ));
        }
        if !self.allow_private {
            let literal = match url.host() {
                Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
                Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
                _ => None,
            };
            if literal.is_some_and(|ip| !is_public(ip)) {
                return Err("tarball URL points at a private address".into());
            }
        }
        Ok(url)
    }

    /// A redirect policy that follows only redirects to allowed origins.
    pub fn redirects(self: &Arc<Self>) -> reqwest::redirect::Policy {
        let policy = self.clone();
        reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 5 {
                attempt.error("too many redirects")
            } else if let Err(why) = policy.check(attempt.url().as_str()) {
                attempt.error(format!("redirect refused: {why}"))
            } else {
                attempt.follow()
            }
        })
    }
}

/// Resolves names, dropping private and loopback addresses unless allowed: a public name
/// pointing at an internal service is not followed.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    pub allow_private: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> = found.into_iter().filter(|a| allow || is_public(a.ip())).collect();
            if kept.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(kept.into_iter());
            Ok(addrs)
        })
    }
}

/// Not loopback, private, link-local, unique-local, shared (CGNAT), unspecified or multicast.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1])))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_registry_origin_is_fetched() {
        let p = OriginPolicy::new("https://registry.test/", &[]).expect("policy");
        assert!(!p.allow_private);
        assert!(p.check("https://registry.test/a/-/a-1.0.0.tgz").is_ok());
        assert!(p.check("https://registry.test:443/a/-/a-1.0.0.tgz").is_ok());
        assert!(p.check("http://registry.test/a/-/a-1.0.0.tgz").is_err(), "scheme is part of the origin");
        assert!(p.check("https://evil.test/a.tgz").is_err());
        assert!(p.check("https://registry.test.evil.test/a.tgz").is_err());
        assert!(p.check("file:///etc/passwd").is_err());
        let extra = OriginPolicy::new("https://registry.test/", &["https://cdn.test".into()]).expect("policy");
        assert!(extra.check("https://cdn.test/a.tgz").is_ok());
    }

    #[test]
    fn private_addresses_only_for_a_private_registry() {
        let p = OriginPolicy::new("https://registry.test/", &["http://127.0.0.1:9".into()]).expect("policy");
        assert!(p.check("http://127.0.0.1:9/a.tgz").is_err());
        let local = OriginPolicy::new("http://127.0.0.1:8080/", &[]).expect("policy");
        assert!(local.allow_private);
        assert!(local.check("http://127.0.0.1:8080/a.tgz").is_ok());
        for ip in [
            "10.0.0.1",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(ip.parse().expect("ip")), "{ip}");
        }
        assert!(is_public("93.184.216.34".parse().expect("ip")));
    }
}
