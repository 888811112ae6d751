//! The one retry policy of every HTTP client: which answers are worth another try, how
//! long to wait before it (an exponential [`Schedule`] with jitter), and how long the
//! server asked us to wait (`Retry-After`, as delta-seconds or an HTTP date).
//!
//! A client that retries in-process (the registry client) drives `backon` with
//! [`Schedule::backoff`]; the downloader retries a job later by setting its `due_at` to
//! [`Schedule::delay`] from now.

use std::time::{Duration, SystemTime};

use rand::Rng;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// Each delay is drawn within ±25 % of the schedule's, so that many clients failing
/// together do not come back together.
pub const JITTER: f64 = 0.25;

/// Exponential backoff: `first` before the first retry, doubled before each next one, never
/// more than `max`, jittered by [`JITTER`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub first: Duration,
    pub max: Duration,
}

impl Schedule {
    pub fn new(first: Duration, max: Duration) -> Self {
        Schedule { first, max }
    }

    /// The delay before retry `retry` (0 for the first) without jitter: `first · 2^retry`,
    /// at most `max`.
    pub fn base(&self, retry: u32) -> Duration {
        self.first.saturating_mul(1 << retry.min(16)).min(self.max)
    }

    /// The delay before retry `retry` (0 for the first), jittered, at most `max`.
    pub fn delay(&self, retry: u32) -> Duration {
        let factor = rand::rng().random_range(1.0 - JITTER..=1.0 + JITTER);
        self.base(retry).mul_f64(factor).min(self.max)
    }

    /// The delays of `retries` retries, for `backon`'s `Retryable::retry`.
    pub fn backoff(&self, retries: u32) -> Backoff {
        Backoff { schedule: *self, next: 0, retries }
    }
}

/// A [`Schedule`]'s delays, one per retry, then none: a `backon::Backoff`.
#[derive(Debug, Clone)]
pub struct Backoff {
    schedule: Schedule,
    next: u32,
    retries: u32,
}

impl Iterator for Backoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        if self.next >= self.retries {
            return None;
        }
        self.next += 1;
        Some(self.schedule.delay(self.next - 1))
    }
}

/// Whether an answer with this status may succeed if asked again later: 408, 429 and 5xx.
pub fn transient(status: StatusCode) -> bool {
    status == StatusCode::REQUEST_TIMEOUT || status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// How long the server asked us to wait: its `Retry-After`, read on 429 and 503 (where
/// HTTP defines it), `None` on other answers or when it does not parse.
pub fn requested_wait(status: StatusCode, headers: &HeaderMap) -> Option<Duration> {
    if status != StatusCode::TOO_MANY_REQUESTS && status != StatusCode::SERVICE_UNAVAILABLE {
        return None;
    }
    parse_retry_after(headers.get(RETRY_AFTER)?.to_str().ok()?, SystemTime::now())
}

/// A `Retry-After` value: delta-seconds (`120`) or an HTTP date (`Wed, 21 Oct 2026
/// 07:28:00 GMT`, and the two obsolete formats), as a wait from `now`; a date already past
/// is no wait. `None` for anything else.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn retry_after_in_seconds() {
        let now = SystemTime::now();
        assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        // more seconds than a u64 holds: as long as possible, not "no wait"
        assert_eq!(parse_retry_after("99999999999999999999999", now), Some(Duration::from_secs(u64::MAX)));
    }

    #[test]
    fn retry_after_as_an_http_date() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2026 07:28:00 GMT").expect("a date");
        assert_eq!(parse_retry_after("Wed, 21 Oct 2026 07:30:00 GMT", now), Some(Duration::from_secs(120)));
        // RFC 850 and asctime, which HTTP still asks recipients to accept
        assert_eq!(parse_retry_after("Wednesday, 21-Oct-26 07:29:00 GMT", now), Some(Duration::from_secs(60)));
        assert_eq!(parse_retry_after("Wed Oct 21 07:28:30 2026", now), Some(Duration::from_secs(30)));
        // in the past: go now
        assert_eq!(parse_retry_after("Wed, 21 Oct 2026 07:00:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", now), Some(Duration::ZERO));
    }

    #[test]
    fn garbage_is_no_retry_after() {
        let now = SystemTime::now();
        for v in ["", "soon", "-5", "1.5", "12 s", "0x10", "Wed, 32 Oct 2026 07:28:00 GMT", "2026-10-21T07:28:00Z"] {
            assert_eq!(parse_retry_after(v, now), None, "{v:?}");
        }
    }

    #[test]
    fn retry_after_is_read_on_429_and_503_only() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "7".parse().expect("header value"));
        let secs = |s: u16| requested_wait(StatusCode::from_u16(s).expect("status"), &headers);
        assert_eq!(secs(429), Some(Duration::from_secs(7)));
        assert_eq!(secs(503), Some(Duration::from_secs(7)));
        assert_eq!(secs(500), None);
        assert_eq!(secs(200), None);
        assert_eq!(requested_wait(StatusCode::TOO_MANY_REQUESTS, &HeaderMap::new()), None);
    }

    #[test]
    fn transient_answers() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(transient(StatusCode::from_u16(s).expect("status")), "{s}");
        }
        for s in [200, 304, 400, 401, 403, 404, 410, 413] {
            assert!(!transient(StatusCode::from_u16(s).expect("status")), "{s}");
        }
    }

    #[test]
    fn the_schedule_doubles_up_to_its_bound() {
        let s = Schedule::new(500 * MS, Duration::from_secs(30));
        let bases: Vec<u64> = (0..10).map(|n| s.base(n).as_millis() as u64).collect();
        assert_eq!(bases, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000]);
        // no overflow, however many retries
        assert_eq!(s.base(u32::MAX), Duration::from_secs(30));
        assert_eq!(Schedule::new(Duration::MAX, Duration::from_secs(600)).base(40), Duration::from_secs(600));
    }

    #[test]
    fn jitter_stays_within_its_bounds_and_varies() {
        let s = Schedule::new(Duration::from_secs(1), Duration::from_secs(600));
        for retry in 0..12 {
            let base = s.base(retry);
            let delays: Vec<Duration> = (0..200).map(|_| s.delay(retry)).collect();
            for d in &delays {
                assert!(*d >= base.mul_f64(1.0 - JITTER) && *d <= base.mul_f64(1.0 + JITTER), "{d:?} vs {base:?}");
                assert!(*d <= s.max, "{d:?} over the bound");
            }
            assert!(delays.iter().any(|d| *d != delays[0]), "jittered: {delays:?}");
        }
        // on average, each retry waits longer than the one before, up to the bound
        let mean = |retry| (0..200).map(|_| s.delay(retry).as_secs_f64()).sum::<f64>() / 200.0;
        assert!(mean(0) < mean(1) && mean(1) < mean(2) && mean(2) < mean(3));
    }

    #[test]
    fn backoff_gives_one_delay_per_retry() {
        let s = Schedule::new(100 * MS, Duration::from_secs(1));
        let delays: Vec<Duration> = s.backoff(4).collect();
        assert_eq!(delays.len(), 4);
        for (n, d) in delays.iter().enumerate() {
            let base = s.base(n as u32);
            assert!(*d >= base.mul_f64(1.0 - JITTER) && *d <= base.mul_f64(1.0 + JITTER), "retry {n}: {d:?}");
        }
        assert_eq!(s.backoff(0).count(), 0, "one attempt: no retry");
    }
}
