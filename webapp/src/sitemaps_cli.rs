//! `nodules-webapp sitemaps --out DIR --base-url URL`: the sitemap files for cron and
//! static hosting (or `serve --sitemaps-dir DIR`), with a progress bar and one summary line.

use std::path::Path;

use nodules_npm::progress::Progress;
use nodules_store::{DbArgs, Store};

pub async fn run(db: DbArgs, out: &Path, base_url: &str, shards: Option<usize>) -> anyhow::Result<()> {
    let base_url = base_url.trim_end_matches('/');
    anyhow::ensure!(
        base_url.starts_with("http://") || base_url.starts_with("https://"),
        "--base-url must be the site's public http(s) URL, not {base_url:?}"
    );
    let store = Store::connect(&db).await?;
    store.ensure_indexes().await?;
    let started = mongodb::bson::DateTime::now();
    let progress = Progress::new("packages", None);
    let result =
        nodules_sitemaps::generate(&store, base_url, out, shards, &mut |n| progress.advance(n as u64, None)).await;
    progress.finish();
    let (ok, line, counts) = match &result {
        Ok(s) => (
            true,
            s.to_string(),
            vec![
                ("packages", s.packages),
                ("keywords", s.keywords),
                ("authors", s.authors),
                ("shards", s.shards as u64),
            ],
        ),
        Err(e) => (false, format!("sitemaps failed: {e:#}"), vec![]),
    };
    if let Err(e) = store.record_run("sitemaps", started, ok, &line, &counts).await {
        tracing::warn!(error = %e, "cannot record the run");
    }
    let summary = result.map_err(|e| e.context(format!("writing sitemaps to {}", out.display())))?;
    println!("{summary}");
    Ok(())
}
