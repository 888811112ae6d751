//! `/metrics` in the OpenMetrics text format (`prometheus-client`): requests by route template
//! (never the raw path; a package URL by its `PackageRoute` variant) and status class,
//! rate-limited and shed requests, cache hits.

use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    /// The route template (`/package/{name}/dependents`), never the raw path.
    route: String,
    /// `2xx`, `4xx`…
    status: String,
}

/// Every series `/metrics` shows; the counters other parts keep (rate limiting, load
/// shedding) are clones of the same atomic, registered here once.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    cache_hits: Counter,
}

impl Metrics {
    /// `rate_limited` and `shed` are the counters the rate limiter and the load shedder bump.
    pub fn new(rate_limited: Counter, shed: Counter) -> Metrics {
        let mut registry = Registry::with_prefix("nodules");
        let requests = Family::<RequestLabels, Counter>::default();
        let cache_hits = Counter::default();
        registry.register("http_requests", "HTTP requests by route template and status class", requests.clone());
        registry.register("rate_limited", "Requests refused by the per-client rate limit", rate_limited);
        registry.register("shed", "Requests shed because too many were in flight", shed);
        registry.register("cache_hits", "Answers served from the page cache", cache_hits.clone());
        Metrics { registry, requests, cache_hits }
    }

    /// An answer from the page cache given before routing (`crate::hit`), under `route`.
    pub fn count_hit(&self, route: &str, status: StatusCode) {
        self.cache_hits.inc();
        self.count(route.to_string(), status);
    }

    fn count(&self, route: String, status: StatusCode) {
        let status = format!("{}xx", status.as_u16() / 100);
        self.requests.get_or_create(&RequestLabels { route, status }).inc();
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
        metrics.cache_hits.inc();
    }
    metrics.count(route, r.status());
    r
}

pub async fn show_metrics(State(metrics): State<Arc<Metrics>>) -> Response {
    let mut out = String::new();
    if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &metrics.registry) {
        tracing::error!(error = %e, "encoding /metrics failed");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], out).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_names_each_series_with_its_labels() {
        let limited = Counter::default();
        let m = Metrics::new(limited.clone(), Counter::default());
        m.count("/package/{name}".into(), StatusCode::NOT_FOUND);
        m.count("/package/{name}".into(), StatusCode::NOT_FOUND);
        limited.inc();
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &m.registry).expect("encode");
        assert!(out.contains("nodules_http_requests_total{route=\"/package/{name}\",status=\"4xx\"} 2"), "{out}");
        assert!(out.contains("nodules_rate_limited_total 1"), "{out}");
        assert!(out.contains("nodules_shed_total 0") && out.ends_with("# EOF\n"), "{out}");
    }
}
