//! The route table and the OpenAPI document agree in both directions: every API URL the
//! router answers (the package catch-all by its `PackageRoute` variants) is documented, and
//! every documented path answers a sample request — not the router's 404, not a 405. And
//! `/metrics` counts a package URL under its variant, not under the catch-all.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use nodules_store::{DbArgs, Store};
use nodules_webapp::routes::{PackageRoute, api_routes, site};
use nodules_webapp::state::{AppState, SiteConfig};
use serde_json::Value;
use tower::ServiceExt;

async fn app() -> AppState {
    // no database: a route that exists reaches its handler and answers 503, one that does
    // not is the router's 404 before any query
    let store = Store::connect(&DbArgs::new("mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=100", "unused"))
        .await
        .expect("store");
    AppState::new(store, SiteConfig { base_url: "https://nodules.test".into() }, 10).expect("state")
}

/// (status, body) of `GET uri` through the whole site.
async fn get(app: &AppState, uri: &str) -> (StatusCode, String) {
    let mut req = Request::get(uri).body(Body::empty()).expect("request");
    req.extensions_mut().insert(ConnectInfo("127.0.0.1:1".parse::<SocketAddr>().expect("addr")));
    let r = site(app.clone()).oneshot(req).await.expect("infallible");
    let status = r.status();
    if r.headers().get("content-type").is_some_and(|t| t.as_bytes().starts_with(b"text/event-stream")) {
        // the live stream does not end: answered is enough
        return (status, String::new());
    }
    let body = axum::body::to_bytes(r.into_body(), 1 << 24).await.expect("body");
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// A sample URL of a documented path: parameters filled in, required query parameters given.
fn sample(template: &str, operation: &Value) -> String {
    let path = template.replace("{name}", "@scope/pkg").replace("{version}", "1.0.0").replace("{path}", "lib/a.js");
    let query: Vec<String> = operation["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["in"] == "query" && p["required"] == true)
        .map(|p| format!("{}=x", p["name"].as_str().expect("name")))
        .collect();
    if query.is_empty() { path } else { format!("{path}?{}", query.join("&")) }
}

#[tokio::test]
async fn every_api_route_is_documented_and_every_documented_path_answers() {
    let app = app().await;
    let (status, body) = get(&app, "/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    let doc: Value = serde_json::from_str(&body).expect("json");
    let documented: BTreeSet<String> = doc["paths"].as_object().expect("paths").keys().cloned().collect();
    let routed: BTreeSet<String> = api_routes().into_iter().map(str::to_string).collect();
    assert_eq!(routed.difference(&documented).collect::<Vec<_>>(), Vec::<&String>::new(), "routes not documented");
    assert_eq!(documented.difference(&routed).collect::<Vec<_>>(), Vec::<&String>::new(), "documented, not routed");
    for template in PackageRoute::API_TEMPLATES {
        assert!(routed.contains(*template), "{template}: a PackageRoute API variant the router does not list");
    }

    for (template, item) in doc["paths"].as_object().expect("paths") {
        let operation = &item["get"];
        assert!(operation.is_object(), "{template}: documented without GET");
        let url = sample(template, operation);
        let (status, body) = get(&app, &url).await;
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{url}");
        let code =
            serde_json::from_str::<Value>(&body).ok().and_then(|v| v["error"]["code"].as_str().map(String::from));
        assert!(
            !(status == StatusCode::NOT_FOUND && code.as_deref() == Some("not_found")),
            "{url} (documented as {template}) is not routed: {status} {body}"
        );
    }
}

#[tokio::test]
async fn metrics_count_a_package_url_under_its_variant() {
    let app = app().await;
    for url in [
        "/package/@scope/pkg",
        "/package/@scope%2fpkg/v/1.0.0",
        "/package/@scope/pkg/dependents",
        "/package/@scope/pkg/source/lib/a.js",
        "/package/@scope/pkg/v/1.0.0/source/",
        "/package/@scope/pkg/diff/1.0.0...1.1.0",
        "/package/@scope/pkg/diff",
        "/package/@scope/pkg/feed.atom",
        "/package/@scope/pkg/versions",
        "/package/@scope/pkg/tree",
        "/package/@scope/pkg/v/1.0.0/search?q=x",
        "/api/v1/packages/pkg/versions/1.0.0/search?q=x",
        "/api/v1/packages/pkg/diff/1.0.0...1.1.0",
        "/api/v1/packages/@scope/pkg",
        "/api/v1/packages/pkg/dependents",
        "/api/v1/packages/pkg/versions/1.0.0/files",
        "/api/v1/packages/pkg/versions/1.0.0/files/lib/a.js",
    ] {
        get(&app, url).await;
    }
    let (status, metrics) = get(&app, "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    for template in PackageRoute::PAGE_TEMPLATES.iter().chain(PackageRoute::API_TEMPLATES) {
        assert!(metrics.contains(&format!("route=\"{template}\"")), "{template} not counted:\n{metrics}");
    }
    assert!(!metrics.contains("{*rest}"), "counted under a catch-all:\n{metrics}");
}
