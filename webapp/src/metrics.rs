//! `/metrics` in Prometheus' text format: requests by route template (never the raw path),
//! answers by status class, rate-limited and shed requests, cache hits.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

#[derive(Default)]
pub struct Metrics {
    /// (route template, status class) → count
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    pub cache_hits: AtomicU64,
}

impl Metrics {
    fn count(&self, route: String, status: u16) {
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((route, status / 100 * 100)).or_default() += 1;
        }
    }
}

pub async fn track(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let route =
        req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_else(|| "unmatched".into());
    let r = next.run(req).await;
    if r.headers().get("x-cache").is_some_and(|v| v == "hit") {
        app.metrics().cache_hits.fetch_add(1, Ordering::Relaxed);
    }
    app.metrics().count(route, r.status().as_u16());
    r
}

pub async fn show_metrics(State(app): State<AppState>) -> Response {
    let mut out = String::from("# TYPE nodules_http_requests_total counter\n");
    if let Ok(m) = app.metrics().requests.lock() {
        for ((route, class), n) in m.iter() {
            out.push_str(&format!(
                "nodules_http_requests_total{{route=\"{}\",status=\"{}xx\"}} {n}\n",
                route.replace('"', ""),
                class / 100
            ));
        }
    }
    let limited = app.rate_limits().map_or(0, |l| l.limited.load(Ordering::Relaxed));
    out.push_str(&format!("# TYPE nodules_rate_limited_total counter\nnodules_rate_limited_total {limited}\n"));
    out.push_str(&format!(
        "# TYPE nodules_shed_total counter\nnodules_shed_total {}\n",
        app.shedder().shed.load(Ordering::Relaxed)
    ));
    out.push_str(&format!(
        "# TYPE nodules_cache_hits_total counter\nnodules_cache_hits_total {}\n",
        app.metrics().cache_hits.load(Ordering::Relaxed)
    ));
    ([("content-type", "text/plain; version=0.0.4")], out).into_response()
}
