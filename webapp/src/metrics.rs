//! `/metrics` in the OpenMetrics text format (`prometheus-client`): requests by route template
//! (never the raw path; a package URL by its `PackageRoute` variant) and status class,
//! rate-limited and shed requests, cache hits, sitemap generations; and the whole system's
//! jobs as they recorded their last runs in MongoDB (indexer, downloader, GitHub refresh,
//! sitemaps: when, whether it succeeded, its counts), read by key from the small `runs`
//! collection at each scrape, so one scrape of any webapp shows them all.

use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    /// The route template (`/package/{name}/dependents`), never the raw path.
    route: String,
    /// `2xx`, `4xx`…
    status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct JobLabels {
    job: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct JobCountLabels {
    job: String,
    count: String,
}

/// How long a scrape waits for the jobs' runs before answering without them.
const RUNS_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// Every series `/metrics` shows; the counters other parts keep (rate limiting, load
/// shedding) are clones of the same atomic, registered here once.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    cache_hits: Counter,
    job_finished: Family<JobLabels, Gauge>,
    job_ok: Family<JobLabels, Gauge>,
    job_counts: Family<JobCountLabels, Gauge>,
    runs_read: Gauge,
    sitemap_generations: Counter,
    sitemap_failures: Counter,
    sitemap_urls: Gauge,
    sitemap_millis: Gauge,
    stream: StreamMetrics,
}

/// The live stream's series, bumped by [`crate::stream`].
#[derive(Clone, Default)]
pub struct StreamMetrics {
    /// Streams open now.
    pub clients: Gauge,
    /// Events the stream's reader sent out (to however many clients).
    pub events: Counter,
    /// Clients dropped for falling behind (they reconnect and resume).
    pub dropped: Counter,
    /// Streams refused at the cap.
    pub refused: Counter,
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
        let (job_finished, job_ok, job_counts) = (Family::default(), Family::default(), Family::default());
        registry.register(
            "job_last_run_timestamp_seconds",
            "When each job's last run finished (as the job recorded it in MongoDB)",
            Family::<JobLabels, Gauge>::clone(&job_finished),
        );
        registry.register(
            "job_last_run_success",
            "1 when each job's last run succeeded",
            Family::<JobLabels, Gauge>::clone(&job_ok),
        );
        registry.register(
            "job_last_run_count",
            "Each job's last run's counts (documents ingested, tarballs failed, repositories refreshed...)",
            Family::<JobCountLabels, Gauge>::clone(&job_counts),
        );
        let runs_read = Gauge::default();
        registry.register(
            "job_runs_readable",
            "1 when this scrape could read the jobs' runs from MongoDB",
            runs_read.clone(),
        );
        let (sitemap_generations, sitemap_failures) = (Counter::default(), Counter::default());
        let (sitemap_urls, sitemap_millis) = (Gauge::default(), Gauge::default());
        registry.register("sitemap_generations", "Sitemap generations this webapp ran", sitemap_generations.clone());
        registry.register("sitemap_generation_failures", "Sitemap generations that failed", sitemap_failures.clone());
        registry.register("sitemap_urls", "URLs in this webapp's last generated sitemaps", sitemap_urls.clone());
        registry.register(
            "sitemap_generation_milliseconds",
            "How long this webapp's last sitemap generation took",
            sitemap_millis.clone(),
        );
        let stream = StreamMetrics::default();
        registry.register(
            "stream_clients",
            "Live stream (/api/v1/stream) clients connected now",
            stream.clients.clone(),
        );
        registry.register("stream_events", "Events the live stream sent out", stream.events.clone());
        registry.register("stream_dropped", "Live stream clients dropped for falling behind", stream.dropped.clone());
        registry.register("stream_refused", "Live stream connections refused at the cap", stream.refused.clone());
        Metrics {
            registry,
            stream,
            requests,
            cache_hits,
            job_finished,
            job_ok,
            job_counts,
            runs_read,
            sitemap_generations,
            sitemap_failures,
            sitemap_urls,
            sitemap_millis,
        }
    }

    /// The live stream's series, to bump.
    pub fn stream(&self) -> StreamMetrics {
        self.stream.clone()
    }

    /// A sitemap generation of this process: `Some((urls, milliseconds))`, or `None` when it failed.
    pub fn sitemaps_generated(&self, done: Option<(u64, u64)>) {
        self.sitemap_generations.inc();
        match done {
            Some((urls, ms)) => {
                self.sitemap_urls.set(i64::try_from(urls).unwrap_or(i64::MAX));
                self.sitemap_millis.set(i64::try_from(ms).unwrap_or(i64::MAX));
            }
            None => {
                self.sitemap_failures.inc();
            }
        }
    }

    fn set_runs(&self, runs: Option<Vec<nodules_store::runs::JobRun>>) {
        let Some(runs) = runs else {
            self.runs_read.set(0);
            return;
        };
        self.runs_read.set(1);
        for r in runs {
            let job = JobLabels { job: r.job.clone() };
            if let Some(ms) = r.finished_at_ms {
                self.job_finished.get_or_create(&job).set(ms / 1000);
            }
            self.job_ok.get_or_create(&job).set(i64::from(r.ok));
            for (count, n) in r.counts {
                self.job_counts.get_or_create(&JobCountLabels { job: r.job.clone(), count }).set(n);
            }
        }
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

pub async fn show_metrics(State(app): State<crate::state::AppState>) -> Response {
    let metrics = app.0.metrics.clone();
    let runs = tokio::time::timeout(RUNS_WAIT, app.store().job_runs()).await.ok().and_then(Result::ok);
    metrics.set_runs(runs);
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
