//! A fake registry: an axum server on 127.0.0.1 answering scripted replies per path, and
//! logging every request (path, headers, time) so tests can assert on what was asked.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode};
use axum::response::Response;
use bytes::Bytes;

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    /// Wait this long before answering (a slow registry).
    pub delay: Duration,
    /// Send only this many bytes of the body, then drop the connection (with the full
    /// Content-Length announced).
    pub truncate_at: Option<usize>,
    /// Send only this many bytes of the body, then nothing more (a stalled download).
    pub stall_at: Option<usize>,
}

impl Reply {
    pub fn json(body: impl Into<Bytes>) -> Reply {
        Reply {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.into(),
            delay: Duration::ZERO,
            truncate_at: None,
            stall_at: None,
        }
    }

    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Bytes::new(),
            delay: Duration::ZERO,
            truncate_at: None,
            stall_at: None,
        }
    }

    /// The same answer with another status.
    pub fn status_code(mut self, status: u16) -> Reply {
        self.status = status;
        self
    }

    pub fn header(mut self, k: &str, v: &str) -> Reply {
        self.headers.push((k.to_string(), v.to_string()));
        self
    }

    pub fn delayed(mut self, d: Duration) -> Reply {
        self.delay = d;
        self
    }

    /// A tarball (or any bytes).
    pub fn bytes(body: impl Into<Bytes>) -> Reply {
        Reply {
            status: 200,
            headers: vec![("content-type".into(), "application/octet-stream".into())],
            body: body.into(),
            delay: Duration::ZERO,
            truncate_at: None,
            stall_at: None,
        }
    }

    pub fn stalled(mut self, at: usize) -> Reply {
        self.stall_at = Some(at);
        self
    }

    pub fn truncated(mut self, at: usize) -> Reply {
        self.truncate_at = Some(at);
        self
    }
}

/// A request the registry received.
#[derive(Debug, Clone)]
pub struct Logged {
    pub path: String,
    pub headers: HeaderMap,
    pub at: Instant,
}

#[derive(Default)]
struct Inner {
    /// path → replies, used in order; the last one repeats.
    script: HashMap<String, VecDeque<Reply>>,
    log: Vec<Logged>,
}

/// The fake registry. Dropping it stops the server.
pub struct FakeRegistry {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeRegistry {
    pub async fn start() -> FakeRegistry {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = axum::Router::new().fallback(answer).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeRegistry { addr, inner, task }
    }

    /// The registry's base URL (ends with `/`).
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Scripts the replies for `path` (e.g. `/react`, `/@types%2fnode`).
    pub fn on(&self, path: &str, replies: Vec<Reply>) {
        self.inner.lock().expect("lock").script.insert(path.to_string(), replies.into());
    }

    /// Serves `doc` at the document path of `name`.
    pub fn package(&self, name: &str, doc: &serde_json::Value) {
        self.on(&doc_path(name), vec![Reply::json(doc.to_string())]);
    }

    /// Publishes `name@1.0.0`: a tarball of `files` (plus a `package.json` from `manifest`
    /// unless `files` has one) and its document; returns the tarball.
    pub fn publish(&self, name: &str, files: &[(&str, &[u8])], manifest: serde_json::Value) -> Vec<u8> {
        use crate::tarballs::tarball;
        let mut files: Vec<(&str, Vec<u8>)> = files.iter().map(|(p, d)| (*p, d.to_vec())).collect();
        if !files.iter().any(|(p, _)| *p == "package.json") {
            let mut m = manifest.clone();
            m["name"] = serde_json::json!(name);
            m["version"] = serde_json::json!("1.0.0");
            files.push(("package.json", m.to_string().into_bytes()));
        }
        let refs: Vec<(&str, &[u8])> = files.iter().map(|(p, d)| (*p, d.as_slice())).collect();
        self.publish_tarball(name, tarball(&refs), manifest)
    }

    /// Publishes `name@1.0.0` as the tarball `tgz` (which brings its own `package.json`).
    pub fn publish_tarball(&self, name: &str, tgz: Vec<u8>, manifest: serde_json::Value) -> Vec<u8> {
        use crate::tarballs::{packument_for, tarball_path};
        self.on(&doc_path(name), vec![Reply::json(packument_for(name, &self.url(), &tgz, manifest).to_string())]);
        self.on(&tarball_path(name, "1.0.0"), vec![Reply::bytes(tgz.clone())]);
        tgz
    }

    /// Requests received for `path`.
    pub fn requests(&self, path: &str) -> Vec<Logged> {
        self.inner.lock().expect("lock").log.iter().filter(|l| l.path == path).cloned().collect()
    }

    pub fn all_requests(&self) -> Vec<Logged> {
        self.inner.lock().expect("lock").log.clone()
    }
}

impl Drop for FakeRegistry {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `/name`, or `/@scope%2fname` as npm clients ask for scoped packages.
pub fn doc_path(name: &str) -> String {
    format!("/{}", name.replacen('/', "%2f", 1))
}

async fn answer(State(inner): State<Arc<Mutex<Inner>>>, req: Request<Body>) -> Response {
    let path = req.uri().path().to_string();
    let reply = {
        let mut inner = inner.lock().expect("lock");
        inner.log.push(Logged { path: path.clone(), headers: req.headers().clone(), at: Instant::now() });
        match inner.script.get_mut(&path) {
            Some(q) if q.len() > 1 => q.pop_front(),
            Some(q) => q.front().cloned(),
            None => None,
        }
    };
    let Some(reply) = reply else {
        return Response::builder().status(404).body(Body::from("{\"error\":\"not_found\"}")).unwrap_or_default();
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut builder = Response::builder().status(StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK));
    for (k, v) in &reply.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    if let Some(at) = reply.stall_at {
        use futures::StreamExt;
        builder = builder.header("content-length", HeaderValue::from(reply.body.len()));
        let head = reply.body.slice(..at.min(reply.body.len()));
        let stream = futures::stream::iter(vec![Ok::<Bytes, std::io::Error>(head)]).chain(futures::stream::pending());
        return builder.body(Body::from_stream(stream)).unwrap_or_default();
    }
    let body = match reply.truncate_at {
        Some(at) => {
            builder = builder.header("content-length", HeaderValue::from(reply.body.len()));
            let head = reply.body.slice(..at.min(reply.body.len()));
            let stream = futures::stream::iter(vec![
                Ok::<Bytes, std::io::Error>(head),
                Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "cut off")),
            ]);
            Body::from_stream(stream)
        }
        None => Body::from(reply.body),
    };
    builder.body(body).unwrap_or_default()
}
