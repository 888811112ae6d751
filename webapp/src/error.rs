//! One error type for the whole site, mapped to a status in one place. Pages get an
//! `errors/*.html` page (rendered by `pages::errors::render_error_pages`), `/api/` gets
//! `{"error":{"code","message"}}`. Internal errors are logged once and shown generically.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use nodules_store::StoreError;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("no package named `{name}`")]
    PackageNotFound { name: String },
    /// None of the packages a comparison names is indexed (`names`: as asked, comma separated).
    #[error("none of {names} is an indexed package")]
    NoneIndexed { names: String },
    #[error("`{name}` has no version `{version}`")]
    VersionNotFound { name: String, version: String },
    #[error("`{0}` is not a valid package name")]
    InvalidName(String),
    /// A query-string parameter out of its range or not of its form.
    #[error("{name} must be {expected}, not `{value}`")]
    InvalidParam { name: &'static str, value: String, expected: String },
    #[error("{name} is required")]
    MissingParam { name: &'static str },
    /// A search the parser refuses; the message says what to write instead.
    #[error("{message}")]
    InvalidQuery { message: String },
    #[error("`{name}` was {state} from the registry")]
    Gone { name: String, state: &'static str },
    #[error("page not found")]
    NotFound,
    /// Queued for the downloader: the answer exists in a few seconds.
    #[error("{what} are being prepared; try again in a few seconds")]
    Preparing { what: String },
    #[error("the database is unavailable; try again in a minute")]
    DatabaseUnavailable,
    #[error("search is not available yet (the index is being built); try again in a minute")]
    SearchUnavailable,
    #[error("the search took too long; try a more specific query")]
    SearchTimeout,
    #[error("the sitemaps are being generated; try again in a minute")]
    SitemapsNotReady,
    #[error("too many requests; slow down")]
    RateLimited { retry_after_secs: u64 },
    #[error("the server is busy; try again in a moment")]
    Overloaded { retry_after_secs: u64 },
    #[error("method not allowed: the site answers GET, HEAD and OPTIONS")]
    MethodNotAllowed,
    #[error("request line too long")]
    UriTooLong,
    #[error("headers too large")]
    HeadersTooLarge,
    #[error("request bodies are not accepted")]
    BodyNotAccepted,
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
    /// The one place statuses are set.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            AppError::PackageNotFound { .. } => (StatusCode::NOT_FOUND, "package_not_found"),
            AppError::NoneIndexed { .. } => (StatusCode::NOT_FOUND, "package_not_found"),
            AppError::VersionNotFound { .. } => (StatusCode::NOT_FOUND, "version_not_found"),
            AppError::InvalidName(_) => (StatusCode::NOT_FOUND, "invalid_name"),
            AppError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            AppError::Preparing { .. } => (StatusCode::ACCEPTED, "preparing"),
            AppError::Gone { .. } => (StatusCode::GONE, "package_gone"),
            AppError::InvalidParam { .. } | AppError::MissingParam { .. } | AppError::InvalidQuery { .. } => {
                (StatusCode::BAD_REQUEST, "bad_request")
            }
            AppError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            AppError::UriTooLong => (StatusCode::URI_TOO_LONG, "uri_too_long"),
            AppError::HeadersTooLarge => (StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "headers_too_large"),
            AppError::BodyNotAccepted => (StatusCode::PAYLOAD_TOO_LARGE, "body_not_accepted"),
            AppError::DatabaseUnavailable => (StatusCode::SERVICE_UNAVAILABLE, "database_unavailable"),
            AppError::SearchUnavailable => (StatusCode::SERVICE_UNAVAILABLE, "search_unavailable"),
            AppError::SearchTimeout => (StatusCode::SERVICE_UNAVAILABLE, "search_timeout"),
            AppError::SitemapsNotReady => (StatusCode::SERVICE_UNAVAILABLE, "sitemaps_not_ready"),
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
            AppError::DatabaseUnavailable | AppError::SearchUnavailable | AppError::SitemapsNotReady => Some(30),
            AppError::SearchTimeout | AppError::Preparing { .. } => Some(5),
            _ => None,
        }
    }

    /// Headers the answer carries: `Retry-After` on 429 and 503, `Allow` on 405.
    fn headers(&self) -> Vec<(header::HeaderName, header::HeaderValue)> {
        let mut out = Vec::new();
        if let Some(secs) = self.retry_after() {
            out.push((header::RETRY_AFTER, header::HeaderValue::from(secs)));
        }
        if matches!(self, AppError::MethodNotAllowed) {
            out.push((header::ALLOW, header::HeaderValue::from_static("GET, HEAD, OPTIONS")));
        }
        out
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
        let body = ErrorBody { error: ErrorDetail { code: code.to_string(), message: self.0.public_message() } };
        let mut r = (status, Json(body)).into_response();
        r.headers_mut().extend(self.0.headers());
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

/// `e` as the part of the site `path` is in: JSON under `/api/`, a page elsewhere.
pub fn answer(path: &str, e: AppError) -> Response {
    if path.starts_with("/api/") { ApiError(e).into_response() } else { PageError(e).into_response() }
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
        let page = ErrorPage { code, message: self.0.public_message(), subject: self.0.subject() };
        let mut r = status.into_response();
        r.extensions_mut().insert(page);
        r.headers_mut().extend(self.0.headers());
        r
    }
}
