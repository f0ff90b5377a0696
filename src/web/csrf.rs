//! CSRF protection with a per-session token (the synchronizer-token
//! pattern). The token lives in the PostgreSQL session, so any instance can
//! check it; every POST must carry it in the `csrf_token` form field.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::RngCore;
use subtle::ConstantTimeEq;
use tower_sessions::Session;

use super::AppError;

const SESSION_KEY: &str = "csrf_token";
pub const FORM_FIELD: &str = "csrf_token";

/// Largest form body the middleware buffers to read the token.
const MAX_FORM_BYTES: usize = 1024 * 1024;

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Returns the session's token, creating one on first use.
pub async fn token(session: &Session) -> Result<String, AppError> {
    if let Some(token) = session.get::<String>(SESSION_KEY).await? {
        return Ok(token);
    }
    let token = new_token();
    session.insert(SESSION_KEY, &token).await?;
    Ok(token)
}

/// Replaces the token, as sign-in and sign-out do.
pub async fn rotate(session: &Session) -> Result<(), AppError> {
    session.insert(SESSION_KEY, new_token()).await?;
    Ok(())
}

/// Checks a token read from a multipart form against the session's.
pub async fn check(session: &Session, submitted: Option<&str>) -> Result<(), AppError> {
    let expected = session.get::<String>(SESSION_KEY).await?;
    let valid = match (submitted, expected) {
        (Some(submitted), Some(expected)) => bool::from(submitted.as_bytes().ct_eq(expected.as_bytes())),
        _ => false,
    };
    if valid { Ok(()) } else { Err(AppError::CsrfRejected) }
}

/// Checks whether a path's handler reads a multipart body itself and calls
/// [`check`] before acting on it: the two request forms and a request's
/// "add documents" form.
fn reads_multipart(path: &str) -> bool {
    matches!(path, "/requests/new/app-registration" | "/requests/new/exception")
        || path
            .strip_prefix("/requests/")
            .and_then(|rest| rest.strip_suffix("/documents"))
            .is_some_and(|reference| !reference.is_empty() && !reference.contains('/'))
}

/// Rejects any POST whose form does not carry the session's token.
/// Multipart bodies, which may be large, are left to the few handlers that
/// accept them, and refused everywhere else.
pub async fn verify_post(request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(session) = request.extensions().get::<Session>().cloned() else {
        return AppError::Internal(anyhow::anyhow!("CSRF check ran outside the session layer")).into_response();
    };
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        let is_multipart = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("multipart/form-data"));
        if is_multipart && reads_multipart(request.uri().path()) {
            return next.run(request).await;
        }
        return AppError::CsrfRejected.into_response();
    }

    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_FORM_BYTES).await else {
        return (axum::http::StatusCode::PAYLOAD_TOO_LARGE, "The form is too large.").into_response();
    };
    let submitted =
        url::form_urlencoded::parse(&bytes).find(|(name, _)| name == FORM_FIELD).map(|(_, value)| value.into_owned());
    let expected = match session.get::<String>(SESSION_KEY).await {
        Ok(expected) => expected,
        Err(err) => return AppError::from(err).into_response(),
    };
    let valid = match (submitted, expected) {
        (Some(submitted), Some(expected)) => bool::from(submitted.as_bytes().ct_eq(expected.as_bytes())),
        _ => false,
    };
    if !valid {
        tracing::warn!(path = %parts.uri.path(), "rejected a POST without a valid CSRF token");
        return AppError::CsrfRejected.into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}
