//! A global limit on requests in progress. When a crowd arrives at once (clients coming back
//! after a restart), the excess is answered at once with 503 and a `Retry-After` that
//! spreads the retries (jitter), instead of queueing everything until the server falls over.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use tokio::sync::Semaphore;

use crate::error::{AppError, answer};

pub struct Shedder {
    slots: Arc<Semaphore>,
    /// Requests shed, for `/metrics`.
    pub shed: prometheus_client::metrics::counter::Counter,
}

impl Shedder {
    pub fn new(max_in_flight: usize) -> Shedder {
        Shedder { slots: Arc::new(Semaphore::new(max_in_flight.max(1))), shed: Default::default() }
    }
}

pub async fn shed_load(State(shedder): State<Arc<Shedder>>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    // probes and monitoring must see the crowd, not be shed by it
    if matches!(path, "/healthz" | "/readyz" | "/metrics") {
        return next.run(req).await;
    }
    let Ok(_slot) = shedder.slots.clone().try_acquire_owned() else {
        shedder.shed.inc();
        let e = AppError::Overloaded { retry_after_secs: jittered_retry_after() };
        return answer(path, e);
    };
    next.run(req).await
}

/// 1 to 5 seconds, so refused clients do not all come back together.
pub fn jittered_retry_after() -> u64 {
    rand::random_range(1..=5)
}
