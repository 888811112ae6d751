//! Shared state of every handler: the store, templates, caches, static files, settings.

use std::sync::Arc;

use axum::extract::FromRef;
use minijinja::Environment;
use nodules_store::Store;

use crate::cache::PageCache;
use crate::error::AppError;
use crate::format;
use crate::media::Media;
use crate::metrics::Metrics;
use crate::protect::headers::Hsts;
use crate::protect::rate::RateLimits;
use crate::protect::shed::Shedder;
use crate::search::sync::SearchService;

/// Settings pages need.
#[derive(Debug, Clone)]
pub struct SiteConfig {
    /// Public URL without a trailing slash (`https://nodules.example`).
    pub base_url: String,
}

pub struct Inner {
    pub store: Store,
    /// Per-client budgets; `None` with `--rate-limit 0`.
    pub rate_limits: Option<Arc<RateLimits>>,
    pub shedder: Arc<Shedder>,
    pub metrics: Arc<Metrics>,
    pub env: Environment<'static>,
    pub cache: Arc<PageCache>,
    pub media: Arc<Media>,
    pub config: SiteConfig,
    /// Rendered READMEs by blob, link base and renderer version.
    pub readmes: moka::future::Cache<String, Arc<String>>,
    /// Bounds on the versions visitors can queue for the downloader.
    pub on_demand: crate::protect::on_demand::OnDemand,
    /// Source files rendered for the browser, by blob, syntax and renderer version; bounded
    /// in bytes, so a crawl through huge files cannot exhaust memory.
    pub renderings: moka::future::Cache<String, Arc<crate::source::highlight::Rendered>>,
    /// The text files of versions searched lately, by version; bounded in bytes.
    pub corpora: moka::future::Cache<String, Arc<crate::source::grep::Corpus>>,
    /// Renders files a few at a time, off the request when slow.
    pub renderer: crate::source::background::Renderer,
    /// The search index, once `serve` started it (tests without one get 503 on search).
    pub search: std::sync::OnceLock<Arc<SearchService>>,
    /// The sitemap files served.
    pub sitemaps: Arc<crate::sitemaps::SitemapFiles>,
    /// The live stream's reader and clients.
    pub stream: Arc<crate::stream::Hub>,
}

/// One `AppState(Arc<Inner>)` for all handlers, via `State`. Middleware and handlers that
/// need one part take just that part (`State<Arc<Metrics>>`, …: the `FromRef` impls below),
/// so the modules that define the parts never import this one.
#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

impl FromRef<AppState> for Arc<PageCache> {
    fn from_ref(app: &AppState) -> Self {
        app.0.cache.clone()
    }
}

impl FromRef<AppState> for Arc<Media> {
    fn from_ref(app: &AppState) -> Self {
        app.0.media.clone()
    }
}

impl FromRef<AppState> for Arc<Metrics> {
    fn from_ref(app: &AppState) -> Self {
        app.0.metrics.clone()
    }
}

impl FromRef<AppState> for Arc<Shedder> {
    fn from_ref(app: &AppState) -> Self {
        app.0.shedder.clone()
    }
}

impl FromRef<AppState> for Option<Arc<RateLimits>> {
    fn from_ref(app: &AppState) -> Self {
        app.0.rate_limits.clone()
    }
}

impl FromRef<AppState> for Hsts {
    fn from_ref(app: &AppState) -> Self {
        Hsts::of(&app.0.config.base_url)
    }
}

impl AppState {
    pub fn new(store: Store, config: SiteConfig, cache_entries: u64) -> anyhow::Result<AppState> {
        Self::with_protection(store, config, cache_entries, None, 256)
    }

    pub fn with_protection(
        store: Store,
        config: SiteConfig,
        cache_entries: u64,
        rate_limits: Option<Arc<RateLimits>>,
        max_in_flight: usize,
    ) -> anyhow::Result<AppState> {
        let media = Media::load();
        let env = templates(&media, &config)?;
        let shedder = Arc::new(Shedder::new(max_in_flight));
        let limited = rate_limits.as_ref().map(|l| l.limited.clone()).unwrap_or_default();
        let metrics = Arc::new(Metrics::new(limited, shedder.shed.clone()));
        let stream = Arc::new(crate::stream::Hub::new(metrics.stream()));
        Ok(AppState(Arc::new(Inner {
            store,
            rate_limits,
            shedder,
            metrics,
            env,
            cache: Arc::new(PageCache::new(cache_entries)),
            media: Arc::new(media),
            config,
            readmes: moka::future::Cache::builder()
                .max_capacity(256 << 20)
                .weigher(|_k, v: &Arc<String>| u32::try_from(v.len()).unwrap_or(u32::MAX))
                .build(),
            on_demand: Default::default(),
            renderings: moka::future::Cache::builder()
                .max_capacity(256 << 20)
                .weigher(|k: &String, v: &Arc<crate::source::highlight::Rendered>| {
                    u32::try_from(k.len() + v.weight()).unwrap_or(u32::MAX)
                })
                .build(),
            corpora: moka::future::Cache::builder()
                .max_capacity(256 << 20)
                .weigher(|k: &String, v: &Arc<crate::source::grep::Corpus>| {
                    u32::try_from(k.len() + v.weight()).unwrap_or(u32::MAX)
                })
                .time_to_idle(std::time::Duration::from_secs(600))
                .build(),
            renderer: Default::default(),
            search: std::sync::OnceLock::new(),
            sitemaps: Default::default(),
            stream,
        })))
    }

    /// The search service, when started.
    pub fn search(&self) -> Option<&Arc<SearchService>> {
        self.0.search.get()
    }

    /// Attaches the search service (once; later calls are ignored).
    pub fn set_search(&self, search: Arc<SearchService>) {
        let _ = self.0.search.set(search);
    }

    pub fn store(&self) -> &Store {
        &self.0.store
    }

    pub fn rate_limits(&self) -> Option<&Arc<RateLimits>> {
        self.0.rate_limits.as_ref()
    }

    pub fn shedder(&self) -> &Shedder {
        &self.0.shedder
    }

    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    pub fn media(&self) -> &Media {
        &self.0.media
    }

    pub fn cache(&self) -> &Arc<PageCache> {
        &self.0.cache
    }

    pub fn config(&self) -> &SiteConfig {
        &self.0.config
    }

    /// Renders `name` with `ctx`. A render error is a 500, never a panic.
    pub fn render(&self, name: &str, ctx: minijinja::Value) -> Result<String, AppError> {
        Ok(self.0.env.get_template(name)?.render(ctx)?)
    }
}

/// The template environment: embedded templates, autoescape by extension (`.html`, `.xml`),
/// display filters, and the fingerprinted static-file URLs.
pub fn templates(media: &Media, config: &SiteConfig) -> anyhow::Result<Environment<'static>> {
    let mut env = Environment::new();
    minijinja_embed::load_templates!(&mut env);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
    env.add_filter("filesize", format::filesize);
    env.add_filter("reltime", format::reltime);
    env.add_filter("date", format::date);
    env.add_filter("thousands", format::thousands);
    env.add_filter("count", format::count);
    env.add_filter("urlpart", format::urlpart);
    // our own URLs: safe as they are (autoescape would write `/` as `&#x2f;`)
    env.add_global("style_url", minijinja::Value::from_safe_string(media.url("style.css")));
    env.add_global("script_url", minijinja::Value::from_safe_string(media.url("site.js")));
    env.add_global("favicon_url", minijinja::Value::from_safe_string(media.url("favicon.svg")));
    env.add_global("highlight_url", minijinja::Value::from_safe_string(media.url("highlight.css")));
    env.add_global("base_url", config.base_url.clone());
    Ok(env)
}

/// A serializable page struct as a template value.
pub fn val<T: serde::Serialize>(x: &T) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(x))
}
