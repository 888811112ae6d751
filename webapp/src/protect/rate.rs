//! Per-client budgets (`--rate-limit N` API requests a minute; pages get 4 × N; static
//! files are not counted). GCRA from `governor`: one compare-and-swap per check, so
//! concurrent requests of one client can never together pass more than the budget.
//! Idle clients are forgotten every minute, so memory stays bounded however many there are.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::client::client_key;
use crate::error::{ApiError, AppError, PageError};

pub struct RateLimits {
    api: DefaultKeyedRateLimiter<IpAddr>,
    pages: DefaultKeyedRateLimiter<IpAddr>,
    trust_proxy: bool,
    /// Requests refused, for `/metrics`.
    pub limited: AtomicU64,
}

impl RateLimits {
    /// `None` when `per_minute` is 0 (rate limiting off).
    pub fn new(per_minute: u32, trust_proxy: bool) -> Option<Arc<RateLimits>> {
        let api = quota(per_minute)?;
        let pages = quota(per_minute.saturating_mul(4))?;
        let limits = Arc::new(RateLimits {
            api: RateLimiter::keyed(api),
            pages: RateLimiter::keyed(pages),
            trust_proxy,
            limited: AtomicU64::new(0),
        });
        let l = limits.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(60)).await;
                l.api.retain_recent();
                l.pages.retain_recent();
                l.api.shrink_to_fit();
                l.pages.shrink_to_fit();
            }
        });
        Some(limits)
    }

    /// `Err(seconds to wait)` when `client` is over its budget for `api` or pages.
    pub fn check(&self, client: IpAddr, api: bool) -> Result<(), u64> {
        let limiter = if api { &self.api } else { &self.pages };
        limiter.check_key(&client).map_err(|not_until| {
            self.limited.fetch_add(1, Ordering::Relaxed);
            // rounded up (a client told 1 s for a 1.9 s wait is refused again)
            not_until.wait_time_from(DefaultClock::default().now()).as_secs_f64().ceil().max(1.0) as u64
        })
    }

    /// Clients currently tracked (for tests of bounded memory).
    pub fn tracked(&self) -> usize {
        self.api.len() + self.pages.len()
    }
}

/// `N` a minute, bursts up to `N / 6` (at least 10).
fn quota(per_minute: u32) -> Option<Quota> {
    let n = NonZeroU32::new(per_minute)?;
    let burst = NonZeroU32::new((per_minute / 6).max(10)).unwrap_or(n);
    Some(Quota::per_minute(n).allow_burst(burst))
}

pub async fn rate_limit(
    State(limits): State<Option<Arc<RateLimits>>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Response {
    let Some(limits) = limits else { return next.run(req).await };
    let path = req.uri().path();
    // the cheap path: static files and probes cost nothing to serve
    if path.starts_with("/media/") || matches!(path, "/healthz" | "/readyz" | "/metrics") {
        return next.run(req).await;
    }
    let api = path.starts_with("/api/");
    let client = client_key(peer, req.headers(), limits.trust_proxy);
    match limits.check(client, api) {
        Ok(()) => next.run(req).await,
        Err(secs) => {
            let e = AppError::RateLimited { retry_after_secs: secs };
            if api { ApiError(e).into_response() } else { PageError(e).into_response() }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_burst_is_cut_at_the_budget_and_clients_are_separate() {
        let limits = RateLimits::new(60, false).expect("on");
        let a: IpAddr = "203.0.113.1".parse().expect("ip");
        let b: IpAddr = "203.0.113.2".parse().expect("ip");
        let passed = (0..100).filter(|_| limits.check(a, true).is_ok()).count();
        assert_eq!(passed, 10, "burst of max(60/6, 10)");
        assert!(limits.check(a, true).is_err());
        assert!(limits.check(b, true).is_ok(), "another client has its own budget");
        assert!(RateLimits::new(0, false).is_none(), "0 turns limiting off");
    }
}
