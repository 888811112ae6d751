//! `serve`: connect, build the state, start background work, and serve HTTP through
//! hyper's HTTP/1 connection builder with a timer — `axum::serve` alone installs none, so a
//! header-read timeout would never fire and a slowloris client would hold a connection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper::server::conn::http1::Builder;
use hyper_util::rt::{TokioIo, TokioTimer};
use nodules_store::{DbArgs, Store};
use tower::Service;

use crate::cli::ServeArgs;
use crate::protect::rate::RateLimits;
use crate::routes::site;
use crate::state::{AppState, SiteConfig};

/// Bytes of request head a connection may send (request line 8 kB, headers 16 kB).
const MAX_HEAD_BYTES: usize = 24 * 1024;

pub async fn serve(db: DbArgs, args: ServeArgs) -> anyhow::Result<()> {
    let store = Store::connect_for_requests(&db).await?;
    if let Err(e) = store.ensure_indexes().await {
        // the site can start without the database; pages answer 503 until it is back
        tracing::warn!(error = %e, "cannot create indexes now");
    }
    let config = SiteConfig { base_url: args.base_url.trim_end_matches('/').to_string() };
    let limits = RateLimits::new(args.rate_limit, args.trust_proxy);
    let app = AppState::with_protection(store.clone(), config, args.cache_entries, limits, args.max_in_flight)?;
    app.0.on_demand.set_max_pending(args.max_on_demand);
    if let Some(dir) = &args.sitemaps_dir {
        app.0.sitemaps.serve_from(dir.clone());
    }
    app.cache().watch(store.clone());
    app.0.stream.set_max_clients(args.stream_clients);
    // read before listening, so that no change after the first answer is missed by the stream
    let counter = store.current_seq(nodules_store::seq::PACKAGE_SEQ);
    let start = tokio::time::timeout(Duration::from_secs(2), counter).await.ok().and_then(Result::ok);
    app.0.stream.start(store.clone(), app.cache().clone(), start);
    app.set_search(crate::search::sync::SearchService::start(store, &args.index_dir)?);
    crate::source::highlight::warm_up();
    let listener = listen(args.listen)?;
    tracing::info!(url = %format!("http://{}", listener.local_addr()?), "serving");
    run(listener, app, args.header_timeout).await
}

/// Connections the kernel may queue before we accept them: the default 128 overflows when
/// a thousand clients come back at once after a restart (each overflow costs a client a
/// 1 s SYN retry).
const LISTEN_BACKLOG: u32 = 4096;

fn listen(addr: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr).map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    Ok(socket.listen(LISTEN_BACKLOG)?)
}

/// Accepts connections until SIGTERM or Ctrl-C, then lets open requests finish.
async fn run(listener: tokio::net::TcpListener, app: AppState, header_timeout: Duration) -> anyhow::Result<()> {
    let site = site(app.clone());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    // HTTP/1 only: hyper-util's auto builder runs no timer while it sniffs for the HTTP/2
    // preface, so a client that connects and sends nothing (or one byte) was held forever
    // (tested). Cleartext HTTP/2 is not something browsers speak; a TLS proxy in front
    // terminates HTTP/2 itself.
    let mut builder = Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(header_timeout).max_buf_size(MAX_HEAD_BYTES).keep_alive(true);
    let builder = Arc::new(builder);
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // out of file descriptors and the like: wait instead of spinning
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let (site, app) = (site.clone(), app.clone());
        let hyper_service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
            let (mut site, app) = (site.clone(), app.clone());
            async move {
                let (mut parts, body) = req.into_parts();
                // a kept page needs no routing (see `hit`)
                if let Some(r) = crate::hit::answer(&app, &parts, peer).await {
                    return Ok(r);
                }
                parts.extensions.insert(ConnectInfo(peer));
                let req = axum::extract::Request::from_parts(parts, axum::body::Body::new(body));
                site.call(req).await
            }
        });
        let builder = builder.clone();
        let conn = builder.serve_connection(TokioIo::new(stream), hyper_service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended");
            }
        });
    }
    tracing::info!("shutting down: finishing open requests");
    // live streams end with a last event telling clients to reconnect elsewhere
    app.0.stream.close();
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(Duration::from_secs(10)) => tracing::warn!("requests still open after 10 s; stopping"),
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
