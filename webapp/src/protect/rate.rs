//! Per-client budgets (`--rate-limit N` API requests a minute; pages get 4 × N; static
//! files are not counted). GCRA from `governor`: one compare-and-swap per check, so
//! concurrent requests of one client can never together pass more than the budget.
//! Idle clients are forgotten every minute, so memory stays bounded however many there are.
//! Every counted answer tells the client where it stands: `RateLimit-Limit` (the burst),
//! `RateLimit-Remaining` and `RateLimit-Reset` (seconds until the budget is whole again).

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::{StateInformationMiddleware, StateSnapshot};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::client::client_key;
use crate::error::{ApiError, AppError, PageError};

type Limiter = DefaultKeyedRateLimiter<IpAddr, StateInformationMiddleware>;

/// Where a client stands after a check: the `RateLimit-*` headers of its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateState {
    /// Requests a client may make at once (the burst).
    pub limit: u32,
    /// Requests left of it now.
    pub remaining: u32,
    /// Seconds until the whole burst is available again (0 when it is).
    pub reset_secs: u64,
}

impl RateState {
    fn of(s: &StateSnapshot) -> RateState {
        let quota = s.quota();
        let limit = quota.burst_size().get();
        let remaining = s.remaining_burst_capacity().min(limit);
        let missing = f64::from(limit - remaining) * quota.replenish_interval().as_secs_f64();
        RateState { limit, remaining, reset_secs: missing.ceil() as u64 }
    }

    /// Sets the `RateLimit-Limit`, `-Remaining` and `-Reset` headers.
    pub fn write(&self, h: &mut HeaderMap) {
        h.insert("ratelimit-limit", HeaderValue::from(self.limit));
        h.insert("ratelimit-remaining", HeaderValue::from(self.remaining));
        h.insert("ratelimit-reset", HeaderValue::from(self.reset_secs));
    }
}

pub struct RateLimits {
    api: Limiter,
    pages: Limiter,
    trust_proxy: bool,
    /// Requests refused, for `/metrics`.
    pub limited: prometheus_client::metrics::counter::Counter,
}

impl RateLimits {
    /// `None` when `per_minute` is 0 (rate limiting off).
    pub fn new(per_minute: u32, trust_proxy: bool) -> Option<Arc<RateLimits>> {
        let api = quota(per_minute)?;
        let pages = quota(per_minute.saturating_mul(4))?;
        let limits = Arc::new(RateLimits {
            api: RateLimiter::keyed(api).with_middleware::<StateInformationMiddleware>(),
            pages: RateLimiter::keyed(pages).with_middleware::<StateInformationMiddleware>(),
            trust_proxy,
            limited: Default::default(),
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

    /// The client's state after counting this request, or `Err` with the state and the
    /// seconds to wait when `client` is over its budget for `api` or pages.
    pub fn check(&self, client: IpAddr, api: bool) -> Result<RateState, (RateState, u64)> {
        let limiter = if api { &self.api } else { &self.pages };
        match limiter.check_key(&client) {
            Ok(snapshot) => Ok(RateState::of(&snapshot)),
            Err(not_until) => {
                self.limited.inc();
                // rounded up (a client told 1 s for a 1.9 s wait is refused again)
                let wait = not_until.wait_time_from(DefaultClock::default().now()).as_secs_f64().ceil().max(1.0) as u64;
                let limit = not_until.quota().burst_size().get();
                let full = f64::from(limit) * not_until.quota().replenish_interval().as_secs_f64();
                Err((RateState { limit, remaining: 0, reset_secs: (full.ceil() as u64).max(wait) }, wait))
            }
        }
    }

    /// `check` for a request answered before routing (`crate::hit`): `None` when `client` is
    /// over its budget, not counted here, as the request then goes the whole way and
    /// `check` refuses (and counts) it.
    pub fn allows(&self, client: IpAddr, api: bool) -> Option<RateState> {
        let limiter = if api { &self.api } else { &self.pages };
        limiter.check_key(&client).ok().map(|snapshot| RateState::of(&snapshot))
    }

    /// The key `peer`'s budget is kept under (its forwarded address behind a trusted proxy).
    pub fn client(&self, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
        client_key(peer, headers, self.trust_proxy)
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
    let (state, mut response) = match limits.check(client, api) {
        Ok(state) => (state, super::on_demand::CLIENT.scope(client, next.run(req)).await),
        Err((state, secs)) => {
            let e = AppError::RateLimited { retry_after_secs: secs };
            (state, if api { ApiError(e).into_response() } else { PageError(e).into_response() })
        }
    };
    state.write(response.headers_mut());
    response
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
        let (state, wait) = limits.check(a, true).expect_err("over the budget");
        assert_eq!((state.limit, state.remaining), (10, 0));
        assert!(wait >= 1 && state.reset_secs >= wait, "{state:?} {wait}");
        let state = limits.check(b, true).expect("another client has its own budget");
        assert_eq!((state.limit, state.remaining), (10, 9));
        assert_eq!(state.reset_secs, 1, "one request of 60 a minute is back after a second");
        assert!(RateLimits::new(0, false).is_none(), "0 turns limiting off");
    }
}
