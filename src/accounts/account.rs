//! The account page: who is signed in, and which notifications they get.

use askama::Template;
use axum::Form;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::notify::Preference;
use crate::web::form::FieldErrors;
use crate::web::page::Chrome;
use crate::web::{AppError, SignedIn, render, render_with_status};

#[derive(Template)]
#[template(path = "accounts/account.html")]
struct AccountPage {
    chrome: Chrome,
    email: String,
    name: String,
    preference: &'static str,
    notifications_on: bool,
    saved: bool,
    errors: FieldErrors,
}

async fn current_preference(signed: &SignedIn) -> Result<Preference, AppError> {
    let mut conn = signed.page.state.db.acquire().await?;
    Ok(sqlx::query_scalar("SELECT notification_preference FROM users WHERE id = $1")
        .bind(signed.user.id)
        .fetch_one(&mut *conn)
        .await?)
}

fn page(signed: &SignedIn, preference: &'static str, saved: bool, errors: FieldErrors) -> AccountPage {
    AccountPage {
        chrome: signed.page.chrome(),
        email: signed.user.email.clone(),
        name: signed.user.display_name.clone(),
        preference,
        notifications_on: signed.page.state.settings.mail.is_some(),
        saved,
        errors,
    }
}

#[derive(Deserialize)]
pub struct SavedQuery {
    #[serde(default)]
    saved: Option<String>,
}

/// GET /account: any signed-in user.
pub async fn account_page(
    signed: SignedIn,
    axum::extract::Query(query): axum::extract::Query<SavedQuery>,
) -> Result<Response, AppError> {
    let preference = current_preference(&signed).await?;
    render(&page(&signed, preference.as_str(), query.saved.is_some(), FieldErrors::default()))
}

#[derive(Deserialize)]
pub struct PreferenceForm {
    #[serde(default)]
    notifications: String,
}

/// POST /account: any signed-in user, for their own account.
pub async fn save_preference(signed: SignedIn, Form(form): Form<PreferenceForm>) -> Result<Response, AppError> {
    let Some(preference) = Preference::parse(form.notifications.trim()) else {
        let mut errors = FieldErrors::default();
        errors.add("notifications_every_update", "Choose which emails you want to receive");
        let current = current_preference(&signed).await?;
        return render_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page(&signed, current.as_str(), false, errors));
    };
    let mut conn = signed.page.state.db.acquire().await?;
    sqlx::query("UPDATE users SET notification_preference = $2 WHERE id = $1")
        .bind(signed.user.id)
        .bind(preference)
        .execute(&mut *conn)
        .await?;
    Ok(Redirect::to("/account?saved=1").into_response())
}
