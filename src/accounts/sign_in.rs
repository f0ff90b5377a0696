//! Sign-in and sign-out pages for local accounts.

use askama::Template;
use axum::Form;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{find_for_sign_in, password, session};
use crate::web::form::FieldErrors;
use crate::web::page::Chrome;
use crate::web::{AppError, Page, render, render_with_status};

#[derive(Template)]
#[template(path = "accounts/sign_in.html")]
struct SignInPage {
    chrome: Chrome,
    email: String,
    next: String,
    errors: FieldErrors,
}

#[derive(Deserialize)]
pub struct SignInQuery {
    #[serde(default)]
    next: String,
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// Accepts only a path on this site, so the redirect after sign-in cannot
/// send the user to another host. Browsers drop tabs and line breaks from
/// URLs, which would turn `/<TAB>/host` into `//host`, so any whitespace or
/// control character is rejected too.
fn safe_next(next: &str) -> Option<&str> {
    let mut chars = next.chars();
    let local = chars.next() == Some('/')
        && !matches!(chars.next(), Some('/' | '\\'))
        && !next.contains('\\')
        && !next.chars().any(|ch| ch.is_whitespace() || ch.is_control());
    local.then_some(next)
}

pub async fn sign_in_page(page: Page, Query(query): Query<SignInQuery>) -> Result<Response, AppError> {
    render(&SignInPage {
        chrome: page.chrome(),
        email: String::new(),
        next: safe_next(&query.next).unwrap_or_default().to_owned(),
        errors: FieldErrors::default(),
    })
}

pub async fn sign_in(page: Page, Form(form): Form<SignInForm>) -> Result<Response, AppError> {
    let mut errors = FieldErrors::default();
    if form.email.trim().is_empty() {
        errors.add("email", "Enter your email address");
    }
    if form.password.is_empty() {
        errors.add("password", "Enter your password");
    }

    if errors.is_empty() {
        let mut conn = page.state.db.acquire().await?;
        // PostgreSQL rejects NUL in text, and no stored address has control characters.
        let lookup = !form.email.chars().any(char::is_control);
        let found = if lookup { find_for_sign_in(&mut conn, &form.email).await? } else { None };
        let (user, hash) = match found {
            Some((user, hash)) => (Some(user), hash),
            None => (None, None),
        };
        let password = form.password.clone();
        let verified = tokio::task::spawn_blocking(move || password::verify(&password, hash.as_deref()))
            .await
            .map_err(|err| AppError::Internal(err.into()))?;
        match user {
            Some(user) if verified => {
                session::sign_in(&page.session, user.id).await?;
                tracing::info!(user_id = user.id.0, "user {} signed in", user.id.0);
                let default = if user.is_reviewer() { "/review" } else { "/requests" };
                let target = safe_next(&form.next).unwrap_or(default);
                return Ok(Redirect::to(target).into_response());
            }
            _ => {
                tracing::info!("sign-in failed for an unknown email or a wrong password");
                errors.add("email", "The email address or password is not right. Check both and try again");
            }
        }
    }

    render_with_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        &SignInPage {
            chrome: page.chrome(),
            email: form.email,
            next: safe_next(&form.next).unwrap_or_default().to_owned(),
            errors,
        },
    )
}

pub async fn sign_out(page: Page) -> Result<Response, AppError> {
    session::sign_out(&page.session).await?;
    Ok(Redirect::to("/").into_response())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn safe_next_keeps_local_path() {
        assert_eq!(safe_next("/review?status=open"), Some("/review?status=open"));
    }

    #[test]
    fn safe_next_rejects_other_hosts() {
        for next in [
            "//evil.example/",
            "https://evil.example/",
            "/\\evil.example",
            "",
            "/\t/evil.example/",
            "/\n/evil.example",
            "/\0",
        ] {
            assert_eq!(safe_next(next), None, "{next}");
        }
    }
}
