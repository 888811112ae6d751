//! `/healthz` (the process answers) and `/readyz` (and the database does, within a second).

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::error::{AppError, PageError};
use crate::state::AppState;

pub async fn healthz() -> Response {
    (StatusCode::OK, "ok\n").into_response()
}

/// Ready when the database answers a ping within a second. Why it does not is logged, never
/// shown: the answer is the generic 503 of [`AppError::DatabaseUnavailable`].
pub async fn readyz(State(app): State<AppState>) -> Result<Response, PageError> {
    match tokio::time::timeout(Duration::from_secs(1), app.store().ping()).await {
        // pages other than search work while the index builds: still ready, and says so
        Ok(Ok(())) => Ok(match app.search().and_then(|s| s.building()) {
            Some(percent) => (StatusCode::OK, format!("ready; search: indexing, {percent} %\n")).into_response(),
            None => (StatusCode::OK, "ready\n").into_response(),
        }),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readyz: the database did not answer its ping");
            Err(PageError(AppError::DatabaseUnavailable))
        }
        Err(_) => {
            tracing::warn!("readyz: the database did not answer its ping within 1 s");
            Err(PageError(AppError::DatabaseUnavailable))
        }
    }
}
