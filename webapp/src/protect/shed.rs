//! A global limit on requests in progress. When a crowd arrives at once (clients coming back
//! after a restart), the excess is answered at once with 503 and a `Retry-After` that
//! spreads the retries (jitter), instead of queueing everything until the server falls over.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use crate::error::{ApiError, AppError, PageError};
use crate::state::AppState;

pub struct Shedder {
    slots: Arc<Semaphore>,
    /// Requests shed, for `/metrics`.
    pub shed: AtomicU64,
}

impl Shedder {
    pub fn new(max_in_flight: usize) -> Shedder {
        Shedder { slots: Arc::new(Semaphore::new(max_in_flight.max(1))), shed: AtomicU64::new(0) }
    }
}

pub async fn shed_load(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    // probes and monitoring must see the crowd, not be shed by it
    if matches!(path, "/healthz" | "/readyz" | "/metrics") {
        return next.run(req).await;
    }
    let Ok(_slot) = app.shedder().slots.clone().try_acquire_owned() else {
        app.shedder().shed.fetch_add(1, Ordering::Relaxed);
        let e = AppError::Overloaded { retry_after_secs: jittered_retry_after() };
        return if path.starts_with("/api/") { ApiError(e).into_response() } else { PageError(e).into_response() };
    };
    next.run(req).await
}

/// 1 to 5 seconds, so refused clients do not all come back together.
pub fn jittered_retry_after() -> u64 {
    1 + rand_jitter() % 5
}

fn rand_jitter() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0));
    h.finish()
}
