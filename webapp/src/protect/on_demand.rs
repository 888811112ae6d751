//! Bounds on the work visitors can queue for the downloader: a version nobody downloaded yet
//! is queued when a page shows its files, and a crawler walking old versions must not fill the
//! queue. Per client (when rate limiting is on: the client is the one `rate::rate_limit`
//! identified, carried in [`CLIENT`] for the request), at most [`PER_CLIENT_PER_MINUTE`] new
//! versions a minute; for the whole site, at most [`MAX_PENDING`] on-demand versions waiting
//! (counted in the database, so every webapp sees the same queue; re-read every few seconds).
//! Past either, the files pages answer 429 or 503 with `Retry-After`; the module and version
//! pages still answer, without queuing.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use nodules_store::Store;

use crate::error::AppError;

tokio::task_local! {
    /// The client of the request being answered (set by the rate limiter).
    pub static CLIENT: IpAddr;
}

pub const PER_CLIENT_PER_MINUTE: u32 = 20;
/// The default of `serve --max-on-demand`.
pub const MAX_PENDING: u64 = 500;
/// How long a count of the pending on-demand versions is trusted.
const COUNT_TTL: Duration = Duration::from_secs(5);

/// A webapp records that a version's files were asked for at most this often.
const ASKED_EVERY: Duration = Duration::from_secs(3600);

pub struct OnDemand {
    per_client: DefaultKeyedRateLimiter<IpAddr>,
    /// Versions whose `asked_at` this process wrote within [`ASKED_EVERY`].
    asked: moka::sync::Cache<String, ()>,
    /// When the pending on-demand versions were last counted, and how many there were.
    pending: Mutex<Option<(Instant, u64)>>,
    max_pending: AtomicU64,
}

impl Default for OnDemand {
    fn default() -> Self {
        let n = NonZeroU32::new(PER_CLIENT_PER_MINUTE).unwrap_or(NonZeroU32::MIN);
        OnDemand {
            per_client: RateLimiter::keyed(Quota::per_minute(n)),
            asked: moka::sync::Cache::builder().max_capacity(100_000).time_to_live(ASKED_EVERY).build(),
            pending: Mutex::new(None),
            max_pending: AtomicU64::new(MAX_PENDING),
        }
    }
}

impl OnDemand {
    pub fn set_max_pending(&self, n: u64) {
        self.max_pending.store(n, Ordering::Relaxed);
    }

    /// Notes that a visitor looked at the files of a version downloaded on demand, so that
    /// `nodules-downloader run` keeps it (one write per version and hour per webapp; a
    /// failed write only shortens how long the version is kept).
    pub async fn asked(&self, store: &Store, package: &str, version: &str) {
        let key = format!("{package}@{version}");
        if self.asked.contains_key(&key) {
            return;
        }
        self.asked.insert(key, ());
        if let Err(e) = store.touch_asked(package, version).await {
            tracing::warn!(package.name = %package, version = %version, error = %e, "cannot record a visit");
        }
    }

    /// Whether one more version may be queued now; the answer to give instead when not.
    pub async fn admit(&self, store: &Store) -> Result<(), AppError> {
        if let Ok(client) = CLIENT.try_with(|c| *c)
            && self.per_client.check_key(&client).is_err()
        {
            return Err(AppError::RateLimited { retry_after_secs: u64::from(60 / PER_CLIENT_PER_MINUTE).max(1) });
        }
        let fresh = self.pending.lock().ok().and_then(|p| *p).filter(|(at, _)| at.elapsed() < COUNT_TTL);
        let pending = match fresh {
            Some((_, n)) => n,
            None => {
                let n = store.count_on_demand_pending().await?;
                if let Ok(mut p) = self.pending.lock() {
                    *p = Some((Instant::now(), n));
                }
                self.per_client.retain_recent();
                n
            }
        };
        if pending >= self.max_pending.load(Ordering::Relaxed) {
            return Err(AppError::Overloaded { retry_after_secs: 30 });
        }
        if let Ok(mut p) = self.pending.lock()
            && let Some((_, n)) = p.as_mut()
        {
            *n += 1;
        }
        Ok(())
    }
}
