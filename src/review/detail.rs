//! One request with every field, the tree's answers and the history.

use askama::Template;
use axum::extract::Path;
use axum::response::Response;
use chrono_tz::Tz;

use crate::requests::repo::{self, FullRequest};
use crate::web::format;
use crate::web::page::Chrome;
use crate::web::{AppError, ReviewerPage, render};

/// A history line ready for display.
pub struct HistoryRow {
    pub when: String,
    pub actor: String,
    pub description: String,
}

/// A stored request prepared for a page, with times in the configured zone.
pub struct RequestView {
    pub full: FullRequest,
    pub submitted: String,
    pub history: Vec<HistoryRow>,
}

impl RequestView {
    pub fn new(full: FullRequest, zone: Tz) -> RequestView {
        let history = full
            .history
            .iter()
            .map(|event| HistoryRow {
                when: format::local_time(event.occurred_at, zone),
                actor: event.actor_name.clone(),
                description: match (event.from_status, event.to_status) {
                    (None, Some(to)) => format!("Request created: {}", to.label()),
                    (Some(from), Some(to)) => format!("Status changed from {} to {}", from.label(), to.label()),
                    _ => "Updated".to_owned(),
                },
            })
            .collect();
        RequestView { submitted: format::local_time(full.request.created_at, zone), history, full }
    }
}

#[derive(Template)]
#[template(path = "review/detail.html")]
struct DetailPage {
    chrome: Chrome,
    view: RequestView,
}

pub async fn detail_page(reviewer: ReviewerPage, Path(reference): Path<String>) -> Result<Response, AppError> {
    let mut conn = reviewer.page.state.db.acquire().await?;
    let found = repo::find_by_reference(&mut conn, &reference).await?.ok_or(AppError::NotFound)?;
    let view = RequestView::new(found, reviewer.page.state.settings.time_zone);
    render(&DetailPage { chrome: reviewer.page.chrome(), view })
}
