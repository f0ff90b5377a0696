//! A requester's own requests: the list, one request, and the confirmation
//! shown right after submitting. Another user's request is 404, so its
//! reference does not reveal that it exists.

use askama::Template;
use axum::extract::Path;
use axum::response::Response;
use chrono::Utc;

use crate::requests::repo::{self, FullRequest, RequestSummary};
use crate::web::format;
use crate::web::page::Chrome;
use crate::web::{AppError, SignedIn, render};

pub struct ListRow {
    pub summary: RequestSummary,
    pub submitted: String,
    pub age: String,
}

#[derive(Template)]
#[template(path = "requests/list.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<ListRow>,
}

#[derive(Template)]
#[template(path = "requests/submitted.html")]
struct ConfirmationPage {
    chrome: Chrome,
    reference: String,
    kind_label: &'static str,
    requester_email: String,
    /// The review target in business days, as the queue measures it.
    target_days: u32,
}

pub async fn list(signed: SignedIn) -> Result<Response, AppError> {
    let mut conn = signed.page.state.db.acquire().await?;
    let zone = signed.page.state.settings.time_zone;
    let now = Utc::now();
    let rows = repo::list_for_requester(&mut conn, signed.user.id)
        .await?
        .into_iter()
        .map(|summary| ListRow {
            submitted: format::local_time(summary.created_at, zone),
            age: format::age(summary.created_at, now),
            summary,
        })
        .collect();
    render(&ListPage { chrome: signed.page.chrome(), rows })
}

/// Loads a request only when the signed-in user submitted it.
async fn own_request(signed: &SignedIn, reference: &str) -> Result<FullRequest, AppError> {
    let mut conn = signed.page.state.db.acquire().await?;
    match repo::find_by_reference(&mut conn, reference, repo::Audience::Requester).await? {
        Some(found) if found.request.requester_id == signed.user.id => Ok(found),
        _ => Err(AppError::NotFound),
    }
}

pub async fn confirmation(signed: SignedIn, Path(reference): Path<String>) -> Result<Response, AppError> {
    let found = own_request(&signed, &reference).await?;
    render(&ConfirmationPage {
        chrome: signed.page.chrome(),
        reference: found.request.reference,
        kind_label: found.request.kind.label(),
        requester_email: found.request.requester_email,
        target_days: signed.page.state.settings.review_target_business_days,
    })
}
