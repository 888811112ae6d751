//! Highlighting that a page does not wait for. A file is rendered on a blocking thread; the
//! page waits up to [`WAIT`] for it and otherwise shows the file plain ("reload for colours")
//! while the rendering finishes and lands in the cache of renderings. At most half the cores'
//! worth of renderings run at once and one per file, so a crawl through large files queues behind
//! them instead of taking every core, and no request ever waits longer than [`WAIT`].

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;

use super::highlight::{self, Rendered, Rendering};

/// How long a file page waits for a rendering (within the request budget of 3 s, which also
/// holds the database reads and the template).
pub const WAIT: Duration = Duration::from_secs(1);

/// Renderings at once, per webapp: half the cores (at least one), so that renderings of
/// large files never take every core from the pages.
fn parallel() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get() / 2).max(1)
}

pub struct Renderer {
    permits: Arc<Semaphore>,
    /// Keys of the renderings under way.
    running: Arc<Mutex<HashSet<String>>>,
}

impl Default for Renderer {
    fn default() -> Self {
        Renderer { permits: Arc::new(Semaphore::new(parallel())), running: Arc::default() }
    }
}

/// What a rendering needs: the file's bytes and how to highlight them.
pub struct Job {
    pub key: String,
    pub bytes: Arc<Vec<u8>>,
    pub token: Option<&'static str>,
    pub longest_line: u64,
}

impl Renderer {
    /// The rendering of `job`, done within `wait` (and then kept in `cache`), or the file
    /// plain, marked [`Rendering::PlainForNow`], while it goes on.
    pub async fn render(
        &self,
        cache: &moka::future::Cache<String, Arc<Rendered>>,
        job: Job,
        wait: Duration,
    ) -> Result<Arc<Rendered>, tokio::task::JoinError> {
        let Job { key, bytes, token, longest_line } = job;
        let started = self.running.lock().map(|mut r| r.insert(key.clone())).unwrap_or(false);
        if started {
            let (permits, running, cache, key, bytes) =
                (self.permits.clone(), self.running.clone(), cache.clone(), key.clone(), bytes.clone());
            let mut task = tokio::spawn(async move {
                let permit = permits.acquire_owned().await;
                let r = tokio::task::spawn_blocking(move || {
                    let _permit = permit;
                    highlight::render(&String::from_utf8_lossy(&bytes), token, longest_line)
                })
                .await;
                let r = r.map(Arc::new);
                if let Ok(r) = &r {
                    cache.insert(key.clone(), r.clone()).await;
                }
                if let Ok(mut running) = running.lock() {
                    running.remove(&key);
                }
                r
            });
            if let Ok(done) = tokio::time::timeout(wait, &mut task).await {
                return done?;
            }
        }
        // under way (started by this request or another): the file plain, not kept
        let plain = tokio::task::spawn_blocking(move || {
            highlight::plain(&String::from_utf8_lossy(&bytes), Rendering::PlainForNow)
        })
        .await?;
        Ok(Arc::new(plain))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(key: &str, text: &str) -> Job {
        Job { key: key.into(), bytes: Arc::new(text.as_bytes().to_vec()), token: Some("ts"), longest_line: 80 }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_page_never_waits_for_a_slow_rendering() {
        let renderer = Renderer::default();
        let cache = moka::future::Cache::new(100);
        // small: done within the wait, and kept (the syntaxes loaded first, and a long wait:
        // a loaded machine running the whole suite must not make this a timing test)
        let _ = crate::source::highlight::syntax_set();
        let long = Duration::from_secs(30);
        let r = renderer.render(&cache, job("small", "export const a: number = 1;\n"), long).await.expect("render");
        assert_eq!(r.rendering, Rendering::Highlighted);
        assert!(cache.get("small").await.is_some());

        // ~600 KB of TypeScript takes seconds: plain now, highlighted later, rendered once
        let big = "export const value: number = 12345; // a comment\n".repeat(12_000);
        let started = std::time::Instant::now();
        let r = renderer.render(&cache, job("big", &big), WAIT).await.expect("render");
        assert_eq!(r.rendering, Rendering::PlainForNow);
        assert_eq!(r.lines.len(), 12_000);
        let again = renderer.render(&cache, job("big", &big), WAIT).await.expect("render");
        assert_eq!(again.rendering, Rendering::PlainForNow);
        assert!(started.elapsed() < WAIT * 2, "the second page did not wait: {:?}", started.elapsed());
        assert_eq!(renderer.running.lock().expect("lock").len(), 1, "one rendering per file");
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        let done = loop {
            if let Some(r) = cache.get("big").await {
                break r;
            }
            assert!(std::time::Instant::now() < deadline, "the rendering never landed");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert!(matches!(done.rendering, Rendering::Highlighted | Rendering::PlainTooSlow), "{:?}", done.rendering);
        assert!(renderer.running.lock().expect("lock").is_empty());
    }
}
