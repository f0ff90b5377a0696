//! The reviewers' list of notifications that could not be sent, with a
//! Resend button for each.

use askama::Template;
use axum::extract::Path;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;

use crate::notify::outbox::{self, FailedMessage};
use crate::web::page::Chrome;
use crate::web::{AppError, ReviewerPage, format, render};

/// Most failed messages the page lists.
const MAX_LISTED: i64 = 200;

pub struct FailedLine {
    pub message: FailedMessage,
    pub when: String,
    pub age: String,
    pub next_try: String,
}

#[derive(Template)]
#[template(path = "review/outbox.html")]
struct OutboxPage {
    chrome: Chrome,
    lines: Vec<FailedLine>,
    retrying: Vec<FailedLine>,
    pending: i64,
    notifications_on: bool,
    /// Some(true) after a resend, Some(false) when the message was not failed.
    resent: Option<bool>,
}

#[derive(serde::Deserialize)]
pub struct OutboxQuery {
    #[serde(default)]
    resent: Option<String>,
}

/// GET /review/outbox: reviewers and admins.
pub async fn outbox_page(
    reviewer: ReviewerPage,
    axum::extract::Query(query): axum::extract::Query<OutboxQuery>,
) -> Result<Response, AppError> {
    let mut conn = reviewer.page.state.db.acquire().await?;
    let failed = outbox::failed(&mut conn, MAX_LISTED).await?;
    let retrying = outbox::retrying(&mut conn, MAX_LISTED).await?;
    let pending = outbox::pending_count(&mut conn).await?;
    let zone = reviewer.page.state.settings.time_zone;
    let now = Utc::now();
    let line = |message: FailedMessage| FailedLine {
        when: format::local_time(message.created_at, zone),
        age: format::age(message.created_at, now),
        next_try: format::local_time(message.next_attempt_at, zone),
        message,
    };
    render(&OutboxPage {
        chrome: reviewer.page.chrome(),
        lines: failed.into_iter().map(line).collect(),
        retrying: retrying.into_iter().map(line).collect(),
        pending,
        notifications_on: reviewer.page.state.settings.mail.is_some(),
        resent: match query.resent.as_deref() {
            Some("1") => Some(true),
            Some("0") => Some(false),
            _ => None,
        },
    })
}

/// POST /review/outbox/{id}/resend: reviewers and admins.
pub async fn resend(reviewer: ReviewerPage, Path(id): Path<String>) -> Result<Response, AppError> {
    let id = id.parse::<i64>().map_err(|_| AppError::NotFound)?;
    let mut conn = reviewer.page.state.db.acquire().await?;
    if outbox::resend(&mut conn, id).await? {
        tracing::info!(outbox_id = id, user_id = reviewer.user.id.0, "notification {id} queued again");
        Ok(Redirect::to("/review/outbox?resent=1").into_response())
    } else {
        Ok(Redirect::to("/review/outbox?resent=0").into_response())
    }
}
