//! `serve`: connect, build the state, start background work (cache watcher), listen.

use nodules_store::{DbArgs, Store};

use crate::cli::ServeArgs;
use crate::routes::router;
use crate::state::{AppState, SiteConfig};

pub async fn serve(db: DbArgs, args: ServeArgs) -> anyhow::Result<()> {
    let store = Store::connect(&db).await?;
    if let Err(e) = store.ensure_indexes().await {
        // the site can start without the database; pages answer 503 until it is back
        tracing::warn!(error = %e, "cannot create indexes now");
    }
    let config = SiteConfig { base_url: args.base_url.trim_end_matches('/').to_string() };
    let app = AppState::new(store.clone(), config, args.cache_entries)?;
    app.cache().watch(store);
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    tracing::info!(url = %format!("http://{}", listener.local_addr()?), "serving");
    axum::serve(listener, router(app)).with_graceful_shutdown(shutdown()).await?;
    Ok(())
}

async fn shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => return ctrl_c.await.unwrap_or(()),
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
