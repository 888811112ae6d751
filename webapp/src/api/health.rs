//! `/healthz` (the process answers) and `/readyz` (and the database does, within a second).

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

pub async fn healthz() -> Response {
    (StatusCode::OK, "ok\n").into_response()
}

pub async fn readyz(State(app): State<AppState>) -> Response {
    match tokio::time::timeout(Duration::from_secs(1), app.store().ping()).await {
        // pages other than search work while the index builds: still ready, and says so
        Ok(Ok(())) => match app.search().and_then(|s| s.building()) {
            Some(percent) => (StatusCode::OK, format!("ready; search: indexing, {percent} %\n")).into_response(),
            None => (StatusCode::OK, "ready\n").into_response(),
        },
        Ok(Err(e)) => (StatusCode::SERVICE_UNAVAILABLE, format!("database unavailable: {e}\n")).into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable: no answer within 1 s\n").into_response(),
    }
}
