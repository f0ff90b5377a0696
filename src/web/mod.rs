//! Shared web plumbing: the error type, CSRF, security headers, request
//! logging, the page context every template gets, and formatting helpers.

pub mod csrf;
pub mod error;
pub mod form;
pub mod format;
pub mod headers;
pub mod page;
pub mod trace;

pub use error::AppError;
pub use page::{Page, ReviewerPage, SignedIn};

use askama::Template;
use axum::extract::Path;
use axum::http::{StatusCode, header};

use axum::response::{Html, IntoResponse, Response};

/// Renders a template into an HTML response.
pub fn render<T: Template>(template: &T) -> Result<Response, AppError> {
    Ok(Html(template.render()?).into_response())
}

/// Renders a template with a status other than 200.
pub fn render_with_status<T: Template>(status: StatusCode, template: &T) -> Result<Response, AppError> {
    Ok((status, Html(template.render()?)).into_response())
}

/// Files under static/, compiled in so the binary runs from any directory.
const STATIC_FILES: &[(&str, &str, &str)] = &[
    ("app.css", "text/css; charset=utf-8", include_str!("../../static/app.css")),
    ("permission-picker.js", "text/javascript; charset=utf-8", include_str!("../../static/permission-picker.js")),
];

pub async fn static_file(Path(file): Path<String>) -> Response {
    match STATIC_FILES.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, body)) => {
            ([(header::CONTENT_TYPE, *content_type), (header::CACHE_CONTROL, "public, max-age=3600")], *body)
                .into_response()
        }
        None => AppError::NotFound.into_response(),
    }
}

pub async fn health() -> &'static str {
    "ok"
}

pub async fn not_found(page: Page) -> Result<Response, AppError> {
    let _ = page;
    Err(AppError::NotFound)
}
