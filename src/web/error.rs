//! The one error type handlers return. Each variant maps to a status and a
//! page; internal details go to the log once, never to the user.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::page::Chrome;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    /// The page needs a signed-in user; `next` is where to return afterwards.
    #[error("sign-in required")]
    SignInRequired { next: String },
    #[error("CSRF token missing or invalid")]
    CsrfRejected,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("template error: {0}")]
    Template(#[from] askama::Error),
    #[error("session store error: {0}")]
    Session(#[from] tower_sessions::session::Error),
    #[error("{0}")]
    Internal(#[from] anyhow::Error),
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    title: &'static str,
    message: &'static str,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, title, message) = match &self {
            AppError::SignInRequired { next } => {
                let target = format!("/sign-in?next={}", urlencode(next));
                return Redirect::to(&target).into_response();
            }
            AppError::NotFound => (
                StatusCode::NOT_FOUND,
                "Page not found",
                "Check the address, or go back to the start of the service.",
            ),
            AppError::Forbidden => (
                StatusCode::FORBIDDEN,
                "You do not have access to this page",
                "This page is for IST reviewers. If you need access, ask an administrator of this service.",
            ),
            AppError::CsrfRejected => (
                StatusCode::FORBIDDEN,
                "The form has expired",
                "The page you sent was out of date, so nothing was saved. Go back, reload the page and send it again.",
            ),
            AppError::Database(_) | AppError::Template(_) | AppError::Session(_) | AppError::Internal(_) => {
                // The trace layer's span adds the request id to this line.
                tracing::error!(error = %self, "request failed: {self}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Sorry, something went wrong",
                    "Nothing you sent was lost on our side, but the page could not be shown. Try again in a few minutes. If it keeps happening, contact the IST Service Desk.",
                )
            }
        };
        let page = ErrorPage { chrome: Chrome::bare(), title, message };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(err) => {
                tracing::error!(error = %err, "rendering the error page failed: {err}");
                (status, title).into_response()
            }
        }
    }
}

fn urlencode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
