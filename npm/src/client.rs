//! Fetching package documents from the registry: one GET per package, retried with
//! backoff on timeouts, resets, truncated bodies and 5xx, `Retry-After` honoured on 429,
//! 404 meaning gone, conditional requests when validators are known.

use std::time::Duration;

use crate::registry::Registry;
use crate::retry::{Schedule, requested_wait};
use backon::Retryable;
use bytes::BytesMut;
use futures::StreamExt;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};

/// How requests are made and retried.
#[derive(Debug, Clone)]
pub struct FetchPolicy {
    /// Tries per package (the first included).
    pub attempts: u32,
    /// First backoff; doubled each retry, with jitter.
    pub backoff: Duration,
    pub max_backoff: Duration,
    /// Longest `Retry-After` honoured; longer ones are cut to this.
    pub max_retry_after: Duration,
    /// No byte for this long: the request failed (retried).
    pub read_timeout: Duration,
    pub connect_timeout: Duration,
    /// Largest document accepted.
    pub max_bytes: usize,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        FetchPolicy {
            attempts: 5,
            backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(120),
            read_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_bytes: 256 << 20,
        }
    }
}

/// What the registry said about one package.
#[derive(Debug)]
pub enum Fetched {
    Doc { body: bytes::Bytes, etag: Option<String>, last_modified: Option<String> },
    NotModified,
    Gone,
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Retried and still failing: try again next run.
    #[error("{package}: gave up after {attempts} attempts: {last}")]
    Exhausted { package: String, attempts: u32, last: String },
    /// Will not get better by retrying.
    #[error("{package}: {reason}")]
    Permanent { package: String, reason: String },
}

/// Validators of the stored copy, for a conditional request.
#[derive(Debug, Clone, Default)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

pub struct RegistryClient {
    registry: Registry,
    http: reqwest::Client,
    policy: FetchPolicy,
}

enum Attempt {
    Done(Fetched),
    Retry { why: String, wait: Option<Duration> },
    Fail(String),
}

/// Why an attempt did not fetch the document, as the retry loop sees it.
#[derive(Debug)]
enum Failure {
    /// Worth another try: a timeout, a reset, a truncated body, 408, 429, 5xx.
    Transient { why: String, wait: Option<Duration> },
    /// Will not get better by retrying.
    Permanent(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Transient { why, .. } | Failure::Permanent(why) => f.write_str(why),
        }
    }
}

impl RegistryClient {
    pub fn new(registry: Registry, policy: FetchPolicy) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("nodules/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(policy.connect_timeout)
            .read_timeout(policy.read_timeout)
            .build()?;
        Ok(RegistryClient { registry, http, policy })
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The document URL of `name`: scoped names as `@scope%2fname`, as npm asks.
    pub fn document_url(&self, name: &str) -> String {
        format!("{}{}", self.registry.url, encode_name(name))
    }

    /// Fetches `name`'s document, retrying as the policy says: the [`Schedule`] between
    /// attempts, or the wait the registry asked for (`Retry-After`, at most
    /// `max_retry_after`).
    pub async fn packument(&self, name: &str, validators: &Validators) -> Result<Fetched, FetchError> {
        let url = self.document_url(name);
        let schedule = Schedule::new(self.policy.backoff, self.policy.max_backoff);
        let retries = self.policy.attempts.saturating_sub(1);
        let result = (|| async {
            match self.attempt(&url, validators).await {
                Attempt::Done(f) => Ok(f),
                Attempt::Fail(reason) => Err(Failure::Permanent(reason)),
                Attempt::Retry { why, wait } => Err(Failure::Transient { why, wait }),
            }
        })
        .retry(schedule.backoff(retries))
        .when(|e| matches!(e, Failure::Transient { .. }))
        // the registry's own wait, when it gave one, instead of the schedule's
        .adjust(|e, delay| match (e, delay) {
            (Failure::Transient { wait: Some(w), .. }, Some(_)) => Some(*w),
            (_, delay) => delay,
        })
        .notify(|e, delay| tracing::debug!(package.name = %name, reason = %e, retry_in_ms = delay.as_millis() as u64, "retrying"))
        .await;
        match result {
            Ok(f) => Ok(f),
            Err(Failure::Permanent(reason)) => Err(FetchError::Permanent { package: name.to_string(), reason }),
            Err(Failure::Transient { why, .. }) => {
                Err(FetchError::Exhausted { package: name.to_string(), attempts: self.policy.attempts, last: why })
            }
        }
    }

    async fn attempt(&self, url: &str, validators: &Validators) -> Attempt {
        let mut req = self.http.get(url).header(ACCEPT, "application/json");
        if let Some(token) = &self.registry.token {
            req = req.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        if let Some(etag) = &validators.etag {
            req = req.header(IF_NONE_MATCH, etag);
        }
        if let Some(lm) = &validators.last_modified {
            req = req.header(IF_MODIFIED_SINCE, lm);
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                return Attempt::Retry { why: describe(&e), wait: None };
            }
        };
        let status = resp.status();
        match status {
            StatusCode::OK => {}
            StatusCode::NOT_MODIFIED => return Attempt::Done(Fetched::NotModified),
            StatusCode::NOT_FOUND | StatusCode::GONE => return Attempt::Done(Fetched::Gone),
            StatusCode::TOO_MANY_REQUESTS => {
                let wait = requested_wait(status, resp.headers()).map(|w| w.min(self.policy.max_retry_after));
                return Attempt::Retry { why: "429 too many requests".into(), wait };
            }
            StatusCode::REQUEST_TIMEOUT => {
                return Attempt::Retry { why: "408 request timeout".into(), wait: None };
            }
            s if s.is_server_error() => {
                let wait = requested_wait(status, resp.headers()).map(|w| w.min(self.policy.max_retry_after));
                return Attempt::Retry { why: format!("HTTP {s}"), wait };
            }
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                return Attempt::Fail(format!(
                    "HTTP {status}: the registry refused access (check NPM_TOKEN or ~/.npmrc)"
                ));
            }
            s => return Attempt::Fail(format!("HTTP {s}")),
        }
        let header =
            |h| resp.headers().get(h).and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok()).map(str::to_string);
        let etag = header(ETAG);
        let last_modified = header(LAST_MODIFIED);
        if resp.content_length().is_some_and(|n| n > self.policy.max_bytes as u64) {
            return Attempt::Fail(format!(
                "document of {} bytes is over the {}-byte limit",
                resp.content_length().unwrap_or(0),
                self.policy.max_bytes
            ));
        }
        let mut body = BytesMut::new();
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(c) => {
                    if body.len() + c.len() > self.policy.max_bytes {
                        return Attempt::Fail(format!("document is over the {}-byte limit", self.policy.max_bytes));
                    }
                    body.extend_from_slice(&c);
                }
                Err(e) => {
                    return Attempt::Retry { why: format!("body: {}", describe(&e)), wait: None };
                }
            }
        }
        Attempt::Done(Fetched::Doc { body: body.freeze(), etag, last_modified })
    }
}

/// `@scope/name` → `@scope%2fname`; other characters outside npm's name alphabet encoded.
pub fn encode_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    for (i, b) in name.bytes().enumerate() {
        match b {
            b'/' => out.push_str("%2f"),
            b'@' if i == 0 => out.push('@'),
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'!' | b'*' | b'\'' | b'(' | b')' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A transport error in a few words (reqwest's Display omits the cause).
pub fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "body interrupted"
    } else {
        "request failed"
    };
    let mut msg = kind.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scoped_names_are_encoded_as_npm_does() {
        assert_eq!(encode_name("@types/node"), "@types%2fnode");
        assert_eq!(encode_name("react"), "react");
        assert_eq!(encode_name("a b"), "a%20b");
    }
}
