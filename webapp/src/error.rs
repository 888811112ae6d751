//! One error type for the whole site, mapped to a status in one place. Pages get an
//! `errors/*.html` page (rendered by [`render_error_pages`]), `/api/` gets
//! `{"error":{"code","message"}}`. Internal errors are logged once and shown generically.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use nodules_store::StoreError;
use serde::Serialize;

use crate::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("no package named `{name}`")]
    PackageNotFound { name: String },
    #[error("`{name}` has no version `{version}`")]
    VersionNotFound { name: String, version: String },
    #[error("`{0}` is not a valid package name")]
    InvalidName(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("`{name}` was {state} from the registry")]
    Gone { name: String, state: &'static str },
    #[error("page not found")]
    NotFound,
    #[error("the database is unavailable; try again in a minute")]
    DatabaseUnavailable,
    #[error("search is not available yet (the index is being built); try again in a minute")]
    SearchUnavailable,
    #[error("the search took too long; try a more specific query")]
    SearchTimeout,
    #[error("too many requests; slow down")]
    RateLimited { retry_after_secs: u64 },
    #[error("the server is busy; try again in a moment")]
    Overloaded { retry_after_secs: u64 },
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() { AppError::DatabaseUnavailable } else { AppError::Internal(e.into()) }
    }
}

impl From<minijinja::Error> for AppError {
    fn from(e: minijinja::Error) -> Self {
        AppError::Internal(anyhow::anyhow!("template: {e:#}"))
    }
}

impl AppError {
    /// A copy for each waiter of a shared render (internal errors keep their message).
    pub fn duplicate(&self) -> AppError {
        match self {
            AppError::PackageNotFound { name } => AppError::PackageNotFound { name: name.clone() },
            AppError::VersionNotFound { name, version } => {
                AppError::VersionNotFound { name: name.clone(), version: version.clone() }
            }
            AppError::InvalidName(n) => AppError::InvalidName(n.clone()),
            AppError::BadRequest(m) => AppError::BadRequest(m.clone()),
            AppError::Gone { name, state } => AppError::Gone { name: name.clone(), state },
            AppError::NotFound => AppError::NotFound,
            AppError::DatabaseUnavailable => AppError::DatabaseUnavailable,
            AppError::SearchUnavailable => AppError::SearchUnavailable,
            AppError::SearchTimeout => AppError::SearchTimeout,
            AppError::RateLimited { retry_after_secs } => AppError::RateLimited { retry_after_secs: *retry_after_secs },
            AppError::Overloaded { retry_after_secs } => AppError::Overloaded { retry_after_secs: *retry_after_secs },
            AppError::Internal(e) => AppError::Internal(anyhow::anyhow!("{e:#}")),
        }
    }

    /// The one place statuses are set.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            AppError::PackageNotFound { .. } => (StatusCode::NOT_FOUND, "package_not_found"),
            AppError::VersionNotFound { .. } => (StatusCode::NOT_FOUND, "version_not_found"),
            AppError::InvalidName(_) => (StatusCode::NOT_FOUND, "invalid_name"),
            AppError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            AppError::Gone { .. } => (StatusCode::GONE, "package_gone"),
            AppError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            AppError::DatabaseUnavailable => (StatusCode::SERVICE_UNAVAILABLE, "database_unavailable"),
            AppError::SearchUnavailable => (StatusCode::SERVICE_UNAVAILABLE, "search_unavailable"),
            AppError::SearchTimeout => (StatusCode::SERVICE_UNAVAILABLE, "search_timeout"),
            AppError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            AppError::Overloaded { .. } => (StatusCode::SERVICE_UNAVAILABLE, "overloaded"),
            AppError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    /// Seconds a client should wait before trying again, for 429 and 503 answers.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            AppError::RateLimited { retry_after_secs } | AppError::Overloaded { retry_after_secs } => {
                Some(*retry_after_secs)
            }
            AppError::DatabaseUnavailable | AppError::SearchUnavailable => Some(30),
            AppError::SearchTimeout => Some(5),
            _ => None,
        }
    }

    fn public_message(&self) -> String {
        if let AppError::Internal(e) = self {
            tracing::error!(error = %format!("{e:#}"), "internal error");
        }
        self.to_string()
    }

    /// The package name the error is about, for "search for it instead" on a 404 page.
    fn subject(&self) -> Option<String> {
        match self {
            AppError::PackageNotFound { name }
            | AppError::VersionNotFound { name, .. }
            | AppError::Gone { name, .. } => Some(name.clone()),
            AppError::InvalidName(n) => Some(n.clone()),
            _ => None,
        }
    }
}

/// An error answered as JSON (`/api/`).
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.0.status_and_code();
        let retry_after = self.0.retry_after();
        let body = ErrorBody { error: ErrorDetail { code: code.to_string(), message: self.0.public_message() } };
        let mut r = (status, Json(body)).into_response();
        if let Some(secs) = retry_after {
            r.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
        r
    }
}

/// An error answered as an HTML page.
#[derive(Debug)]
pub struct PageError(pub AppError);

impl<E: Into<AppError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

/// What the error-page middleware renders.
#[derive(Debug, Clone)]
pub struct ErrorPage {
    pub code: &'static str,
    pub message: String,
    pub subject: Option<String>,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, code) = self.0.status_and_code();
        let retry_after = self.0.retry_after();
        let page = ErrorPage { code, message: self.0.public_message(), subject: self.0.subject() };
        let mut r = status.into_response();
        r.extensions_mut().insert(page);
        if let Some(secs) = retry_after {
            r.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
        r
    }
}

/// Renders `errors/*.html` for responses that carry an [`ErrorPage`] (they have no body yet).
pub async fn render_error_pages(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let resp = next.run(req).await;
    let Some(page) = resp.extensions().get::<ErrorPage>().cloned() else { return resp };
    let status = resp.status();
    let template = if status == StatusCode::NOT_FOUND { "errors/404.html" } else { "errors/error.html" };
    let ctx = minijinja::context! {
        status => status.as_u16(),
        code => page.code,
        message => page.message,
        subject => page.subject,
        path => path,
    };
    match app.render(template, ctx) {
        Ok(html) => {
            let mut r = (status, axum::response::Html(html)).into_response();
            if let Some(v) = resp.headers().get(header::RETRY_AFTER) {
                r.headers_mut().insert(header::RETRY_AFTER, v.clone());
            }
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "error page failed to render");
            (status, "error").into_response()
        }
    }
}
