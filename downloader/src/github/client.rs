//! GitHub's REST API through octocrab, built without its retry and redirect layers: the
//! one retry policy (`nodules_npm::retry`) decides what is tried again, and a rename
//! (301) is followed here, so the new name is seen and stored. Requests use paths relative
//! to `--github-api` (octocrab adds the token only to those, never to another host).
//!
//! Politeness: every answer's `X-RateLimit-Remaining`/`Reset` is read; at zero the client
//! waits when the reset is at most [`MAX_WAIT`] away and otherwise tells the run to stop
//! (it resumes next time). A secondary limit (`Retry-After` on a 403 or 429) is the same.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, StatusCode, header};
use http_body_util::BodyExt;
use nodules_npm::retry::{Schedule, parse_retry_after, transient};
use octocrab::Octocrab;

/// The longest wait for a rate limit to reset before the run stops instead.
pub const MAX_WAIT: Duration = Duration::from_secs(60);
/// Largest answer read (a repository is ~7 kB; commit activity ~6 kB).
const MAX_BODY: usize = 2 << 20;
/// Tries of one request on transient failures (the first included).
const ATTEMPTS: u32 = 3;
/// A request that takes longer fails (and is retried).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// One answer.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub etag: Option<String>,
    pub location: Option<String>,
    pub body: Bytes,
    /// `X-RateLimit-Remaining`.
    pub remaining: Option<u64>,
    /// Until `X-RateLimit-Reset`.
    pub reset: Option<Duration>,
    /// `Retry-After` (a secondary limit).
    pub retry_after: Option<Duration>,
}

/// Why a request got no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// The rate limit is spent until `until`, too far to wait for: end the run.
    #[error("GitHub's rate limit is spent until {}", humantime::format_rfc3339_seconds(*until))]
    Limited { until: SystemTime },
    /// Failed after retries, or will not get better (a message for the repository's record).
    #[error("{0}")]
    Failed(String),
}

pub struct GithubClient {
    octo: Octocrab,
    /// `host:port` of the API, to tell its own redirects from other hosts'.
    authority: String,
    schedule: Schedule,
    /// Requests sent (for the summary and the benchmark).
    pub requests: u64,
}

impl GithubClient {
    /// A client for the API at `base` (`https://api.github.com`, or a fake in tests), with
    /// `token` when given.
    pub fn new(base: &str, token: Option<&str>, backoff: Duration) -> anyhow::Result<GithubClient> {
        let uri: http::Uri = base.parse().map_err(|e| anyhow::anyhow!("--github-api {base:?} is not a URL: {e}"))?;
        let authority = uri
            .authority()
            .map(|a| a.as_str().to_string())
            .ok_or_else(|| anyhow::anyhow!("--github-api {base:?} has no host"))?;
        let mut builder = Octocrab::builder()
            .base_uri(base)
            .map_err(|e| anyhow::anyhow!("--github-api {base:?}: {e}"))?
            .set_connect_timeout(Some(Duration::from_secs(10)))
            .set_read_timeout(Some(REQUEST_TIMEOUT));
        if let Some(t) = token.filter(|t| !t.is_empty()) {
            builder = builder.personal_token(t.to_string());
        }
        // the error can only be about TLS set-up; it never holds the token
        let octo = builder.build().map_err(|e| anyhow::anyhow!("cannot build the GitHub client: {e}"))?;
        Ok(GithubClient { octo, authority, schedule: Schedule::new(backoff, backoff * 16), requests: 0 })
    }

    /// `GET path` (relative to the API), conditional on `etag`; transient failures retried,
    /// a spent rate limit waited for (at most [`MAX_WAIT`]) or refused.
    pub async fn get(&mut self, path: &str, etag: Option<&str>) -> Result<Answer, Refused> {
        let mut retry = 0;
        loop {
            let last = match self.once(path, etag).await {
                Ok(a) if a.status.is_success() || a.status.is_redirection() => return Ok(a),
                Ok(a) if matches!(a.status.as_u16(), 404 | 410 | 451) => return Ok(a),
                Ok(a) => a,
                Err(e) => Answer {
                    status: StatusCode::BAD_GATEWAY,
                    etag: None,
                    location: None,
                    body: Bytes::from(e),
                    remaining: None,
                    reset: None,
                    retry_after: None,
                },
            };
            if let Some(wait) = self.limit_wait(&last)? {
                tracing::info!(path, wait_s = wait.as_secs(), "GitHub rate limit: waiting for the reset");
                tokio::time::sleep(wait).await;
                continue;
            }
            retry += 1;
            if !transient(last.status) || retry >= ATTEMPTS {
                return Err(Refused::Failed(describe(path, &last)));
            }
            tokio::time::sleep(self.schedule.delay(retry - 1)).await;
        }
    }

    /// How long to wait before asking again when `a` says a limit is spent (`None`: it is
    /// not a limit); a wait longer than [`MAX_WAIT`] ends the run.
    fn limit_wait(&self, a: &Answer) -> Result<Option<Duration>, Refused> {
        if !matches!(a.status.as_u16(), 403 | 429) {
            return Ok(None);
        }
        let wait = match (a.retry_after, a.reset) {
            (Some(w), _) => w,
            (None, Some(reset)) if a.remaining == Some(0) => reset,
            _ => return Ok(None),
        };
        if wait > MAX_WAIT {
            return Err(Refused::Limited { until: SystemTime::now() + wait });
        }
        Ok(Some(wait + Duration::from_secs(1)))
    }

    async fn once(&mut self, path: &str, etag: Option<&str>) -> Result<Answer, String> {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, header::HeaderValue::from_static("application/vnd.github+json"));
        headers.insert("x-github-api-version", header::HeaderValue::from_static("2022-11-28"));
        if let Some(v) = etag.and_then(|e| header::HeaderValue::from_str(e).ok()) {
            headers.insert(header::IF_NONE_MATCH, v);
        }
        self.requests += 1;
        let sent = tokio::time::timeout(REQUEST_TIMEOUT, self.octo._get_with_headers(path, Some(headers)));
        let response = match sent.await {
            Ok(Ok(r)) => r,
            // octocrab's errors name the request, never its headers
            Ok(Err(e)) => return Err(format!("request failed: {}", first_line(&e.to_string()))),
            Err(_) => return Err(format!("no answer within {} s", REQUEST_TIMEOUT.as_secs())),
        };
        let (parts, body) = response.into_parts();
        let body = http_body_util::Limited::new(body, MAX_BODY)
            .collect()
            .await
            .map_err(|e| format!("reading the answer: {}", first_line(&e.to_string())))?
            .to_bytes();
        let text = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        Ok(Answer {
            status: parts.status,
            etag: text("etag"),
            location: text("location"),
            body,
            remaining: text("x-ratelimit-remaining").and_then(|v| v.trim().parse().ok()),
            reset: text("x-ratelimit-reset").and_then(|v| v.trim().parse::<u64>().ok()).map(|at| {
                let at = SystemTime::UNIX_EPOCH + Duration::from_secs(at);
                at.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO)
            }),
            retry_after: text("retry-after").and_then(|v| parse_retry_after(&v, SystemTime::now())),
        })
    }

    /// The path to ask after a redirect to `location`, when it stays on the API's host.
    pub fn redirect_path(&self, location: &str) -> Option<String> {
        let uri: http::Uri = location.parse().ok()?;
        match uri.authority() {
            Some(a) if a.as_str() != self.authority => None,
            _ => uri.path_and_query().map(|p| p.as_str().to_string()),
        }
    }
}

/// A failed answer in one line: status and GitHub's `message` (or the start of the body).
fn describe(path: &str, a: &Answer) -> String {
    let message = serde_json::from_slice::<serde_json::Value>(&a.body)
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_string))
        .unwrap_or_else(|| String::from_utf8_lossy(&a.body[..a.body.len().min(200)]).into_owned());
    format!("{path}: {} {}", a.status.as_u16(), first_line(&message))
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The real client, TLS configured: its crypto provider must be the workspace's one
    /// (octocrab's default `ring` beside `aws-lc-rs` panics at the first TLS connection,
    /// which plain-HTTP tests never make). A handshake with a server that answers garbage
    /// fails as an error, not a panic.
    #[tokio::test]
    async fn the_tls_client_connects_without_panicking() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                use tokio::io::AsyncWriteExt;
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\n\r\nnot TLS at all").await;
            }
        });
        let mut client = GithubClient::new(&format!("https://{addr}"), Some("t0ken"), Duration::from_millis(1))
            .expect("builds with TLS");
        match client.get("/repos/o/r", None).await {
            Err(Refused::Failed(why)) => assert!(!why.contains("t0ken"), "{why}"),
            other => panic!("a TLS error expected, got {other:?}"),
        }
        assert_eq!(client.requests, u64::from(ATTEMPTS), "a failed connection is retried");
    }

    #[tokio::test]
    async fn redirects_are_followed_on_the_api_only() {
        let client = GithubClient::new("http://127.0.0.1:9", None, Duration::from_millis(1)).expect("client");
        assert_eq!(client.redirect_path("http://127.0.0.1:9/repositories/1").as_deref(), Some("/repositories/1"));
        assert_eq!(client.redirect_path("/repositories/2?x=1").as_deref(), Some("/repositories/2?x=1"));
        assert_eq!(client.redirect_path("https://elsewhere.test/repositories/1"), None);
    }
}
