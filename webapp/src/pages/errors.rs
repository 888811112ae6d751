//! Error pages: `errors/404.html` and `errors/error.html` for every page answer that
//! carries an [`ErrorPage`] (a [`crate::error::PageError`], which has no body yet).

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ErrorPage;
use crate::state::AppState;

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
            for name in [header::RETRY_AFTER, header::ALLOW] {
                if let Some(v) = resp.headers().get(&name) {
                    r.headers_mut().insert(name, v.clone());
                }
            }
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "error page failed to render");
            (status, "error").into_response()
        }
    }
}
