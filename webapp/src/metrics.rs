//! `/metrics` in Prometheus' text format: requests by route template (never the raw path; a
//! package URL by its `PackageRoute` variant), answers by status class, rate-limited and
//! shed requests, cache hits.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::protect::rate::RateLimits;
use crate::protect::shed::Shedder;

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

/// The label a handler puts on its answer when the matched route is a catch-all: a package
/// URL is counted under its `PackageRoute` variant (`/package/{name}/dependents`).
#[derive(Debug, Clone, Copy)]
pub struct RouteTemplate(pub &'static str);

pub async fn track(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let matched =
        req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_else(|| "unmatched".into());
    let r = next.run(req).await;
    // a package URL is counted under its variant (`/package/{name}/dependents`), not the catch-all
    let route = r.extensions().get::<RouteTemplate>().map_or(matched, |t| t.0.to_string());
    if r.headers().get("x-cache").is_some_and(|v| v == "hit") {
        metrics.cache_hits.fetch_add(1, Ordering::Relaxed);
    }
    metrics.count(route, r.status().as_u16());
    r
}

pub async fn show_metrics(
    State(metrics): State<Arc<Metrics>>,
    State(limits): State<Option<Arc<RateLimits>>>,
    State(shedder): State<Arc<Shedder>>,
) -> Response {
    let mut out = String::from("# TYPE nodules_http_requests_total counter\n");
    if let Ok(m) = metrics.requests.lock() {
        for ((route, class), n) in m.iter() {
            out.push_str(&format!(
                "nodules_http_requests_total{{route=\"{}\",status=\"{}xx\"}} {n}\n",
                route.replace('"', ""),
                class / 100
            ));
        }
    }
    let limited = limits.map_or(0, |l| l.limited.load(Ordering::Relaxed));
    out.push_str(&format!("# TYPE nodules_rate_limited_total counter\nnodules_rate_limited_total {limited}\n"));
    out.push_str(&format!(
        "# TYPE nodules_shed_total counter\nnodules_shed_total {}\n",
        shedder.shed.load(Ordering::Relaxed)
    ));
    out.push_str(&format!(
        "# TYPE nodules_cache_hits_total counter\nnodules_cache_hits_total {}\n",
        metrics.cache_hits.load(Ordering::Relaxed)
    ));
    ([("content-type", "text/plain; version=0.0.4")], out).into_response()
}
