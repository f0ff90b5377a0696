//! The one error type handlers return. Each variant maps to a status and a
//! page; internal details go to the log once, never to the user.

use askama::Template;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};

use tower_sessions::Session;

use super::page::{Chrome, chrome_for};
use crate::app::AppState;

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
    /// An upload form's body was over the size limit.
    #[error("upload too large")]
    UploadTooLarge,
    /// A form whose text fields are far longer than any field allows.
    #[error("form too large")]
    FormTooLarge,
    /// A multipart body that could not be read.
    #[error("malformed upload: {0}")]
    BadUpload(String),
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
            AppError::NotFound => {
                (StatusCode::NOT_FOUND, "Page not found", "Check the address, or go back to the start of the service.")
            }
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
            AppError::UploadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "The files are too large",
                "The files you sent are larger than this service accepts at once, so nothing was saved. Go back and send fewer or smaller files; the limits are shown beside the upload field.",
            ),
            AppError::FormTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "The form is too large",
                "The text you entered is far longer than the form accepts, so nothing was saved. Go back and shorten the longest field; each field's limit is shown when it is exceeded.",
            ),
            AppError::BadUpload(_) => {
                tracing::warn!(error = %self, "rejected an upload: {self}");
                (
                    StatusCode::BAD_REQUEST,
                    "The form could not be read",
                    "The form arrived incomplete, so nothing was saved. Go back, reload the page and send it again.",
                )
            }
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
        error_page(status, title, message)
    }
}

/// An error page's content, kept on the response so that the middleware
/// can render it again with the visitor's header.
#[derive(Clone, Copy)]
struct ErrorContent {
    title: &'static str,
    message: &'static str,
}

fn render_error(status: StatusCode, chrome: Chrome, content: ErrorContent) -> Response {
    let page = ErrorPage { chrome, title: content.title, message: content.message };
    let mut response = match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "rendering the error page failed: {err}");
            (status, content.title).into_response()
        }
    };
    response.extensions_mut().insert(content);
    response
}

/// Renders the error page for a status, without the visitor's header yet.
fn error_page(status: StatusCode, title: &'static str, message: &'static str) -> Response {
    render_error(status, Chrome::bare(), ErrorContent { title, message })
}

/// Gives every error page the full layout. Error pages rendered by
/// `AppError` are rendered again with the visitor's header (name, sign-out,
/// links), and the plain-text or empty bodies that axum's extractors and
/// router produce (a malformed path or form, a wrong method, a body over the
/// limit) are replaced by an error page.
pub async fn error_pages(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let session = request.extensions().get::<Session>().cloned();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let status = response.status();
    let content = match response.extensions().get::<ErrorContent>() {
        Some(content) => *content,
        None if is_plain_error(&response) => plain_error_content(status),
        None => return response,
    };
    let chrome = match session {
        Some(session) => match chrome_for(&session, &state, &path).await {
            Ok(chrome) => chrome,
            Err(err) => {
                tracing::error!(error = %err, "loading the header for an error page failed: {err}");
                Chrome::bare()
            }
        },
        None => Chrome::bare(),
    };
    render_error(status, chrome, content)
}

fn is_plain_error(response: &Response) -> bool {
    let status = response.status();
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    !is_html && (status.is_client_error() || status.is_server_error())
}

fn plain_error_content(status: StatusCode) -> ErrorContent {
    let (title, message) = match status {
        StatusCode::NOT_FOUND => ("Page not found", "Check the address, or go back to the start of the service."),
        StatusCode::METHOD_NOT_ALLOWED => {
            ("This page does not accept that kind of request", "Go back and use the page's links and buttons.")
        }
        StatusCode::PAYLOAD_TOO_LARGE => {
            ("The form is too large", "Nothing was saved. Go back, shorten what you entered and send it again.")
        }
        StatusCode::REQUEST_TIMEOUT => ("The request took too long", "Nothing was saved. Try again in a few minutes."),
        status if status.is_server_error() => (
            "Sorry, something went wrong",
            "The page could not be shown. Try again in a few minutes. If it keeps happening, contact the IST Service Desk.",
        ),
        _ => ("The request could not be read", "Nothing was saved. Go back, reload the page and try again."),
    };
    tracing::info!(status = status.as_u16(), "replaced a plain {status} response with an error page");
    ErrorContent { title, message }
}

fn urlencode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
