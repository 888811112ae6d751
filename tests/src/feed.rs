//! A fake CouchDB `_changes` endpoint: serves scripted changes after `since`, as a
//! continuous feed ending with `last_seq`, and can drop the connection mid-feed once.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Query, State};
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Value, json};

#[derive(Default)]
struct Inner {
    /// Changes in order; each has a numeric `seq`.
    changes: Vec<Value>,
    /// The next connection sends this many changes, then drops (once).
    drop_after: Option<usize>,
    /// The `since` of every request.
    sinces: Vec<String>,
}

pub struct FakeFeed {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeFeed {
    pub async fn start() -> FakeFeed {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app =
            axum::Router::new().route("/registry/_changes", axum::routing::get(changes)).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeFeed { addr, inner, task }
    }

    /// The database URL (`follow` appends `/_changes`).
    pub fn url(&self) -> String {
        format!("http://{}/registry", self.addr)
    }

    /// Appends a change without a document; returns its seq.
    pub fn change(&self, id: &str, rev: &str) -> u64 {
        self.push(json!({ "id": id, "changes": [{ "rev": rev }] }))
    }

    pub fn deletion(&self, id: &str, rev: &str) -> u64 {
        self.push(json!({ "id": id, "changes": [{ "rev": rev }], "deleted": true }))
    }

    pub fn with_doc(&self, id: &str, rev: &str, doc: Value) -> u64 {
        self.push(json!({ "id": id, "changes": [{ "rev": rev }], "doc": doc }))
    }

    fn push(&self, mut change: Value) -> u64 {
        let mut inner = self.inner.lock().expect("lock");
        let seq = inner.changes.len() as u64 + 1;
        change["seq"] = json!(seq);
        inner.changes.push(change);
        seq
    }

    pub fn drop_after(&self, n: usize) {
        self.inner.lock().expect("lock").drop_after = Some(n);
    }

    pub fn sinces(&self) -> Vec<String> {
        self.inner.lock().expect("lock").sinces.clone()
    }
}

impl Drop for FakeFeed {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn changes(
    State(inner): State<Arc<Mutex<Inner>>>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    let since = q.get("since").cloned().unwrap_or_else(|| "0".into());
    let (lines, drop) = {
        let mut inner = inner.lock().expect("lock");
        inner.sinces.push(since.clone());
        let last = inner.changes.len() as u64;
        let from: u64 = if since == "now" { last } else { since.parse().unwrap_or(0) };
        let pending: Vec<String> =
            inner.changes.iter().filter(|c| c["seq"].as_u64().unwrap_or(0) > from).map(|c| c.to_string()).collect();
        match inner.drop_after.take() {
            Some(n) => (pending.into_iter().take(n).collect::<Vec<_>>(), true),
            None => {
                let mut lines = pending;
                lines.push(json!({ "last_seq": last, "pending": 0 }).to_string());
                (lines, false)
            }
        }
    };
    use futures::StreamExt;
    let chunks: Vec<Result<Bytes, std::io::Error>> =
        lines.into_iter().map(|l| Ok(Bytes::from(format!("{l}\n")))).collect();
    let body = futures::stream::iter(chunks);
    let body = if drop {
        // the lines reach the client, then the connection breaks
        body.chain(futures::stream::once(async {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "dropped"))
        }))
        .boxed()
    } else {
        body.boxed()
    };
    Response::builder().header("content-type", "application/json").body(Body::from_stream(body)).unwrap_or_default()
}
