//! The webapp under abuse: rate limits, shedding, headers, slow clients, hostile URLs, and
//! the database going away and coming back.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use nodules_e2e::web::Webapp;
use nodules_store::testing::TestDb;
use reqwest::StatusCode;

async fn burst(client: &reqwest::Client, url: &str, n: usize, xff: Option<&str>) -> Vec<reqwest::Response> {
    let futures = (0..n).map(|_| {
        let mut r = client.get(url);
        if let Some(x) = xff {
            r = r.header("x-forwarded-for", x);
        }
        r.send()
    });
    futures::future::join_all(futures).await.into_iter().map(|r| r.expect("response")).collect()
}

fn count(rs: &[reqwest::Response], s: StatusCode) -> usize {
    rs.iter().filter(|r| r.status() == s).count()
}

#[tokio::test]
async fn a_burst_is_limited_atomically_per_client() {
    let db = TestDb::new().await;
    let web = Webapp::start(&db, &["--rate-limit", "60", "--trust-proxy"]).await;
    let http = reqwest::Client::new();
    let url = web.url("/api/v1/packages/nothing-here");
    // 60 a minute: a burst of 10, then one a second; 40 concurrent requests from one client
    let rs = burst(&http, &url, 40, Some("203.0.113.1")).await;
    let passed = rs.iter().filter(|r| r.status() != StatusCode::TOO_MANY_REQUESTS).count();
    assert!((10..=11).contains(&passed), "{passed} passed; concurrent requests never exceed the budget");
    let limited = rs.iter().find(|r| r.status() == StatusCode::TOO_MANY_REQUESTS).expect("a 429");
    assert!(limited.headers().get("retry-after").is_some(), "Retry-After");
    // every counted answer tells the client where it stands
    let header = |r: &reqwest::Response, h: &str| -> u64 {
        r.headers().get(h).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{h}"))
    };
    assert_eq!((header(limited, "ratelimit-limit"), header(limited, "ratelimit-remaining")), (10, 0));
    assert!(header(limited, "ratelimit-reset") >= header(limited, "retry-after"));
    let served = rs.iter().find(|r| r.status() != StatusCode::TOO_MANY_REQUESTS).expect("a served one");
    assert_eq!(header(served, "ratelimit-limit"), 10);
    assert!(header(served, "ratelimit-remaining") < 10 && header(served, "ratelimit-reset") <= 10);
    assert!(limited.headers().get("content-security-policy").is_some(), "refusals carry the security headers too");
    // another client has its own budget; pages have a larger one
    let other = burst(&http, &url, 5, Some("198.51.100.2")).await;
    assert_eq!(count(&other, StatusCode::TOO_MANY_REQUESTS), 0, "a second client is limited separately");
    let pages = burst(&http, &web.url("/package/nothing-here"), 20, Some("203.0.113.1")).await;
    assert_eq!(count(&pages, StatusCode::TOO_MANY_REQUESTS), 0, "pages: 4 x the API budget");
    // IPv6 clients share a budget per /64
    let a = burst(&http, &url, 10, Some("2001:db8:1:2::a")).await;
    assert_eq!(count(&a, StatusCode::TOO_MANY_REQUESTS), 0);
    let b = burst(&http, &url, 5, Some("2001:db8:1:2::b")).await;
    assert_eq!(count(&b, StatusCode::TOO_MANY_REQUESTS), 5, "same /64, same budget");
    let body: serde_json::Value = http
        .get(&url)
        .header("x-forwarded-for", "2001:db8:1:2::c")
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(body["error"]["code"], "rate_limited");
    // static files are not counted
    let css = burst(&http, &web.url("/media/style.css"), 30, Some("203.0.113.1")).await;
    assert_eq!(count(&css, StatusCode::OK), 30);
    let metrics = http.get(web.url("/metrics")).send().await.expect("get").text().await.expect("text");
    assert!(metrics.contains("nodules_rate_limited_total"), "{metrics}");
}

#[tokio::test]
async fn forwarded_for_is_ignored_without_trust_proxy() {
    let db = TestDb::new().await;
    let web = Webapp::start(&db, &["--rate-limit", "60"]).await;
    let http = reqwest::Client::new();
    let url = web.url("/api/v1/packages/nothing-here");
    let a = burst(&http, &url, 10, Some("203.0.113.1")).await;
    let b = burst(&http, &url, 5, Some("198.51.100.2")).await;
    assert_eq!(
        count(&a, StatusCode::TOO_MANY_REQUESTS) + count(&b, StatusCode::TOO_MANY_REQUESTS),
        5,
        "one budget: the socket's"
    );
}

#[tokio::test]
async fn a_crowd_is_shed_with_503_and_the_server_stays_up() {
    let db = TestDb::new().await;
    let web = Webapp::start(&db, &["--rate-limit", "0", "--max-in-flight", "4"]).await;
    let started = Instant::now();
    let handles: Vec<_> = (0..300)
        .map(|i| {
            let url = web.url(&format!("/package/crowd-{i}"));
            tokio::spawn(async move {
                // a new client (connection) for every request, as after a restart
                let c = reqwest::Client::builder().pool_max_idle_per_host(0).build().expect("client");
                let r = c.get(url).send().await?;
                let (status, headers) = (r.status(), r.headers().clone());
                let body = r.text().await?;
                if status == StatusCode::SERVICE_UNAVAILABLE {
                    // a page that says why, with the security headers, not an empty answer
                    assert!(body.contains("overloaded") || body.contains("busy"), "{body}");
                    assert!(headers.get("content-security-policy").is_some());
                }
                Ok::<_, reqwest::Error>((status, headers.get("retry-after").cloned()))
            })
        })
        .collect();
    let mut shed = 0;
    let mut other_5xx = 0;
    for h in handles {
        match h.await.expect("join") {
            Ok((StatusCode::SERVICE_UNAVAILABLE, retry)) => {
                assert!(retry.is_some(), "503 carries Retry-After");
                shed += 1;
            }
            Ok((s, _)) if s.is_server_error() => other_5xx += 1,
            Ok(_) => {}
            Err(e) => panic!("a request failed instead of being answered: {e}"),
        }
    }
    assert!(shed > 0, "the excess is shed");
    assert_eq!(other_5xx, 0);
    assert!(started.elapsed() < Duration::from_secs(20), "answered quickly: {:?}", started.elapsed());
    let ok = reqwest::get(web.url("/healthz")).await.expect("healthz");
    assert_eq!(ok.status(), StatusCode::OK, "still up");
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let db = TestDb::new().await;
    let web = Webapp::start(&db, &[]).await;
    for path in [
        "/",
        "/package/nothing-here",
        "/api/v1/packages/nothing-here",
        "/media/style.css",
        "/no/such/page",
        "/api/v1/openapi.json",
    ] {
        let r = reqwest::get(web.url(path)).await.expect("get");
        let h = r.headers();
        let csp = h.get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or("");
        for part in [
            "script-src 'self'",
            "img-src 'self' https: data:",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(part), "{path}: CSP lacks {part}: {csp}");
        }
        assert_eq!(h.get("x-content-type-options").map(|v| v.to_str().unwrap_or("")), Some("nosniff"), "{path}");
        assert_eq!(
            h.get("referrer-policy").map(|v| v.to_str().unwrap_or("")),
            Some("strict-origin-when-cross-origin"),
            "{path}"
        );
        assert!(h.get("strict-transport-security").is_some(), "{path}: HSTS (the base URL is https)");
    }
    // reflected input is escaped
    let html = reqwest::get(web.url("/package/%3Cscript%3Ealert(1)%3C%2Fscript%3E"))
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    assert!(!html.contains("<script>alert(1)"), "{html}");
}

/// A raw HTTP exchange; returns the status code, or None when the server closed first.
fn raw(addr: &str, request: &[u8]) -> Option<u16> {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    s.write_all(request).ok()?;
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf[..n]);
    text.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test]
async fn hostile_requests_get_4xx_never_5xx_nor_a_hang() {
    let db = TestDb::new().await;
    let web = Webapp::start(&db, &["--header-timeout", "2s"]).await;
    let addr = web.base.trim_start_matches("http://").to_string();
    let paths = [
        "/package/..%2f..%2fetc%2fpasswd",
        "/package/%2e%2e/%2e%2e/etc/passwd",
        "/package/%252e%252e%252fetc",
        "/package/react/v/..%2f..%2f",
        "/package/%zz",
        "/package/%ff%fe",
        "/api/v1/packages/%c0%ae%c0%ae/",
        "/keyword/%00",
        "/package/a/dependents?page=-1&kind=%00",
        "/api/v1/packages/x/dependents?cursor=%ff%ff&limit=99999999999999999999",
    ];
    for p in paths {
        let a = addr.clone();
        let req = format!("GET {p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let status =
            tokio::task::spawn_blocking(move || raw(&a, req.as_bytes())).await.expect("join").expect("an answer");
        assert!((400..500).contains(&status), "{p}: {status}");
    }
    // not a bad request: a search for the replacement character, answered like any other
    let a = addr.clone();
    let req = "GET /search?q=%ff%00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let status = tokio::task::spawn_blocking(move || raw(&a, req.as_bytes())).await.expect("join").expect("an answer");
    assert!(status < 500, "/search?q=%ff%00: {status}");
    let long = format!("GET /package/{} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "a".repeat(9000));
    let a = addr.clone();
    assert_eq!(tokio::task::spawn_blocking(move || raw(&a, long.as_bytes())).await.expect("join"), Some(414));
    let big = format!("GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\nConnection: close\r\n\r\n", "b".repeat(17_000));
    let a = addr.clone();
    assert_eq!(tokio::task::spawn_blocking(move || raw(&a, big.as_bytes())).await.expect("join"), Some(431));
    let body = "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";
    let a = addr.clone();
    assert_eq!(tokio::task::spawn_blocking(move || raw(&a, body.as_bytes())).await.expect("join"), Some(413), "a body");
    for m in ["PATCH", "DELETE", "FOO"] {
        let a = addr.clone();
        let req = format!("{m} / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let status = tokio::task::spawn_blocking(move || raw(&a, req.as_bytes())).await.expect("join");
        assert!(matches!(status, Some(405) | Some(400)), "{m}: {status:?}");
    }

    // slowloris: one byte every second; cut off at the header timeout, not held
    let a = addr.clone();
    let cut = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let mut s = TcpStream::connect(&a).expect("connect");
        for b in b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
            if s.write_all(&[*b]).is_err() {
                return started.elapsed();
            }
            std::thread::sleep(Duration::from_millis(500));
            if started.elapsed() > Duration::from_secs(15) {
                break;
            }
        }
        let mut buf = [0u8; 256];
        let _ = s.read(&mut buf);
        started.elapsed()
    })
    .await
    .expect("join");
    assert!(cut < Duration::from_secs(8), "a slow client is cut off at the header timeout, took {cut:?}");
    // a client that connects and says nothing at all, and one that stops after one byte
    for first in [&b""[..], &b"P"[..]] {
        let a = addr.clone();
        let silent = tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let mut s = TcpStream::connect(&a).expect("connect");
            s.write_all(first).expect("write");
            s.set_read_timeout(Some(Duration::from_secs(15))).expect("timeout");
            let mut buf = [0u8; 256];
            let _ = s.read(&mut buf);
            started.elapsed()
        })
        .await
        .expect("join");
        assert!(silent < Duration::from_secs(8), "a silent client ({first:?}) is cut off, took {silent:?}");
    }
    assert_eq!(reqwest::get(web.url("/healthz")).await.expect("get").status(), StatusCode::OK);
}

/// A development server of our own, on disk, so it can be stopped and started again.
struct OwnDb {
    dir: tempfile::TempDir,
    port: u16,
}

fn devdb() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/devdb")
}

impl OwnDb {
    fn start() -> OwnDb {
        let dir = tempfile::tempdir().expect("tmp");
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
        let db = OwnDb { dir, port };
        db.up();
        db
    }

    fn up(&self) {
        let ok = std::process::Command::new(devdb())
            .args(["start", &self.dir.path().to_string_lossy(), &self.port.to_string()])
            .status()
            .expect("devdb");
        assert!(ok.success(), "the test's own database did not start");
    }

    fn down(&self) {
        std::process::Command::new(devdb()).args(["stop", &self.dir.path().to_string_lossy()]).status().expect("devdb");
    }

    fn uri(&self) -> String {
        format!("mongodb://127.0.0.1:{}/?directConnection=true&retryWrites=false", self.port)
    }
}

impl Drop for OwnDb {
    fn drop(&mut self) {
        self.down();
    }
}

#[tokio::test]
async fn the_database_going_away_gives_503s_and_recovery_needs_no_restart() {
    let own = std::sync::Arc::new(tokio::task::spawn_blocking(OwnDb::start).await.expect("start db"));
    let args = nodules_store::DbArgs::new(own.uri(), "outage");
    let store = nodules_store::Store::connect_and_ping(&args).await.expect("connect");
    store.ensure_indexes().await.expect("indexes");
    let db = TestDb::from_args(args).await;
    let web = Webapp::start(&db, &["--rate-limit", "0"]).await;
    let http = reqwest::Client::new();
    let home = http.get(web.url("/")).send().await.expect("get");
    assert_eq!(home.status(), StatusCode::OK);

    let o = own.clone();
    tokio::task::spawn_blocking(move || o.down()).await.expect("stop");
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let started = Instant::now();
    let page = http.get(web.url("/package/anything")).send().await.expect("get");
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.headers().get("retry-after").is_some());
    assert!(page.text().await.expect("text").contains("unavailable"), "a friendly page");
    let api = http.get(web.url("/api/v1/packages/anything")).send().await.expect("get");
    assert_eq!(api.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = api.json().await.expect("json");
    assert_eq!(body["error"]["code"], "database_unavailable");
    assert!(started.elapsed() < Duration::from_secs(4), "answered within the budget: {:?}", started.elapsed());
    assert_eq!(http.get(web.url("/readyz")).send().await.expect("get").status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(http.get(web.url("/healthz")).send().await.expect("get").status(), StatusCode::OK);
    let cached = http.get(web.url("/")).send().await.expect("get");
    assert_eq!(cached.status(), StatusCode::OK, "a cached page is still served");
    assert!(cached.headers().get("x-nodules-stale").is_some(), "and says so");

    // the same data on disk, the same port
    let o = own.clone();
    tokio::task::spawn_blocking(move || o.up()).await.expect("restart");
    let mut recovered = false;
    for _ in 0..40 {
        if http.get(web.url("/readyz")).send().await.expect("get").status() == StatusCode::OK {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(recovered, "readiness comes back without a webapp restart");
    let page = http.get(web.url("/package/anything")).send().await.expect("get");
    assert_eq!(page.status(), StatusCode::NOT_FOUND, "pages work again");
}
