//! Which client a request comes from: the socket peer, or — with `--trust-proxy` — the
//! right-most `X-Forwarded-For` hop that is not one of our own proxies (private and
//! loopback addresses). IPv6 clients are grouped by /64: one host holds a whole /64.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::http::HeaderMap;

/// The key a client's budget is kept under.
pub fn client_key(peer: SocketAddr, headers: &HeaderMap, trust_proxy: bool) -> IpAddr {
    let ip = if trust_proxy { forwarded_client(headers).unwrap_or(peer.ip()) } else { peer.ip() };
    group(ip)
}

/// The right-most untrusted hop of `X-Forwarded-For` (every header, in order).
fn forwarded_client(headers: &HeaderMap) -> Option<IpAddr> {
    let hops: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|h| h.trim().parse::<IpAddr>().ok())
        .collect();
    hops.iter().rev().find(|ip| !is_own_proxy(**ip)).copied().or_else(|| hops.first().copied())
}

fn is_own_proxy(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => v6.is_loopback() || (v6.segments()[0] & 0xfe00) == 0xfc00,
    }
}

/// IPv6 addresses reduced to their /64; IPv4 (and v4-mapped) kept whole.
pub fn group(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().expect("header"));
        }
        h
    }

    #[test]
    fn proxies_are_trusted_only_when_asked() {
        let peer: SocketAddr = "10.0.0.5:1234".parse().expect("addr");
        let h = headers(&["203.0.113.7, 10.0.0.2"]);
        assert_eq!(client_key(peer, &h, false), "10.0.0.5".parse::<IpAddr>().expect("ip"));
        assert_eq!(client_key(peer, &h, true), "203.0.113.7".parse::<IpAddr>().expect("ip"));
        // a client cannot pretend by prepending hops: the right-most untrusted one counts
        let forged = headers(&["1.2.3.4, 198.51.100.9, 10.0.0.2"]);
        assert_eq!(client_key(peer, &forged, true), "198.51.100.9".parse::<IpAddr>().expect("ip"));
        assert_eq!(client_key(peer, &HeaderMap::new(), true), "10.0.0.5".parse::<IpAddr>().expect("ip"));
    }

    #[test]
    fn ipv6_by_64() {
        let a = group("2001:db8:1:2:aaaa::1".parse().expect("ip"));
        let b = group("2001:db8:1:2:bbbb::9".parse().expect("ip"));
        let c = group("2001:db8:1:3::1".parse().expect("ip"));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
