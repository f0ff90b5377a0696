//! The review queue: every request, newest first.

use askama::Template;
use axum::response::Response;
use chrono::Utc;

use crate::intake::my_requests::ListRow;
use crate::requests::repo;
use crate::web::format;
use crate::web::page::Chrome;
use crate::web::{AppError, ReviewerPage, render};

// NOTE: a fixed page size until the queue gets filters and keyset pagination;
// the page says how many requests it leaves out.
const QUEUE_PAGE_SIZE: i64 = 200;

#[derive(Template)]
#[template(path = "review/queue.html")]
struct QueuePage {
    chrome: Chrome,
    rows: Vec<ListRow>,
    total: i64,
}

pub async fn queue_page(reviewer: ReviewerPage) -> Result<Response, AppError> {
    let mut conn = reviewer.page.state.db.acquire().await?;
    let (summaries, total) = repo::list_queue(&mut conn, QUEUE_PAGE_SIZE).await?;
    let zone = reviewer.page.state.settings.time_zone;
    let now = Utc::now();
    let rows = summaries
        .into_iter()
        .map(|summary| ListRow {
            submitted: format::local_time(summary.created_at, zone),
            age: format::age(summary.created_at, now),
            summary,
        })
        .collect();
    render(&QueuePage { chrome: reviewer.page.chrome(), rows, total })
}
