//! Downloading a tarball: only from allowed origins, streamed into memory within a size
//! cap and a process-wide byte budget, transient failures told apart from permanent ones.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use reqwest::StatusCode;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::origin::{GuardedResolver, OriginPolicy};

/// Why a download did not give bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchFailure {
    /// Worth another try later (timeouts, resets, 5xx, 429); `wait` from `Retry-After`.
    Transient { reason: String, wait: Option<Duration> },
    /// Will not get better (404, refused origin, …).
    Permanent(String),
    /// Over the compressed-size cap.
    Capped(String),
}

/// A downloaded tarball, holding its share of the memory budget until dropped.
pub struct Downloaded {
    pub bytes: Bytes,
    _permits: Vec<OwnedSemaphorePermit>,
}

pub struct TarballClient {
    http: reqwest::Client,
    policy: Arc<OriginPolicy>,
    token: Option<String>,
    max_compressed: u64,
    budget: Arc<Semaphore>,
    budget_bytes: u64,
}

/// Budget permits are counted in KiB (a semaphore holds at most u32 permits per acquire).
const UNIT: u64 = 1024;

impl TarballClient {
    pub fn new(
        policy: OriginPolicy,
        token: Option<String>,
        max_compressed: u64,
        budget_bytes: u64,
        timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        let policy = Arc::new(policy);
        let http = reqwest::Client::builder()
            .user_agent(concat!("nodules/", env!("CARGO_PKG_VERSION")))
            .redirect(policy.redirects())
            .dns_resolver(Arc::new(GuardedResolver { allow_private: policy.allow_private }))
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .read_timeout(timeout)
            .build()?;
        let budget_bytes = budget_bytes.max(max_compressed);
        let permits = usize::try_from(budget_bytes / UNIT).unwrap_or(usize::MAX >> 4);
        Ok(TarballClient {
            http,
            policy,
            token,
            max_compressed,
            budget: Arc::new(Semaphore::new(permits)),
            budget_bytes,
        })
    }

    pub fn policy(&self) -> &OriginPolicy {
        &self.policy
    }

    /// Downloads `raw_url` (checked against the origin policy first: a refused URL is
    /// never requested).
    pub async fn get(&self, raw_url: &str) -> Result<Downloaded, FetchFailure> {
        let url = self.policy.check(raw_url).map_err(FetchFailure::Permanent)?;
        let mut req = self.http.get(url);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.map_err(|e| transport(&e))?;
        let status = resp.status();
        match status {
            s if s.is_success() => {}
            StatusCode::NOT_FOUND | StatusCode::GONE => {
                return Err(FetchFailure::Permanent(format!("tarball not found (HTTP {})", status.as_u16())));
            }
            StatusCode::TOO_MANY_REQUESTS | StatusCode::REQUEST_TIMEOUT => {
                return Err(FetchFailure::Transient {
                    reason: format!("HTTP {}", status.as_u16()),
                    wait: nodules_npm::retry::requested_wait(status, resp.headers()),
                });
            }
            s if s.is_server_error() => {
                return Err(FetchFailure::Transient {
                    reason: format!("HTTP {}", s.as_u16()),
                    wait: nodules_npm::retry::requested_wait(status, resp.headers()),
                });
            }
            s => return Err(FetchFailure::Permanent(format!("HTTP {} for the tarball", s.as_u16()))),
        }
        let cap_msg = || format!("tarball over the {} MiB compressed-size cap", self.max_compressed >> 20);
        if resp.content_length().is_some_and(|n| n > self.max_compressed) {
            return Err(FetchFailure::Capped(cap_msg()));
        }
        // reserve what the body announces (or a first slice), more as it grows
        let first = resp.content_length().unwrap_or(UNIT * 1024).clamp(UNIT, self.budget_bytes);
        let mut permits = vec![self.reserve(first).await?];
        let mut reserved = first;
        let mut body = BytesMut::with_capacity(usize::try_from(first).unwrap_or(0));
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| transport(&e))?;
            let len = (body.len() + chunk.len()) as u64;
            if len > self.max_compressed {
                return Err(FetchFailure::Capped(cap_msg()));
            }
            if len > reserved {
                let more = (len - reserved).max(UNIT * 1024).min(self.budget_bytes - reserved.min(self.budget_bytes));
                permits.push(self.reserve(more).await?);
                reserved += more;
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Downloaded { bytes: body.freeze(), _permits: permits })
    }

    async fn reserve(&self, bytes: u64) -> Result<OwnedSemaphorePermit, FetchFailure> {
        let units = u32::try_from(bytes.div_ceil(UNIT)).unwrap_or(u32::MAX).max(1);
        self.budget
            .clone()
            .acquire_many_owned(units)
            .await
            .map_err(|_| FetchFailure::Transient { reason: "shutting down".into(), wait: None })
    }
}

fn transport(e: &reqwest::Error) -> FetchFailure {
    let why = nodules_npm::client::describe(e);
    if e.is_redirect() || why.contains("redirect refused") || why.contains("no public address") {
        return FetchFailure::Permanent(why);
    }
    FetchFailure::Transient { reason: why, wait: None }
}
