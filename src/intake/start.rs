//! The start page.

use askama::Template;
use axum::response::Response;

use super::state;
use crate::web::page::Chrome;
use crate::web::{AppError, Page, render};

#[derive(Template)]
#[template(path = "intake/start.html")]
struct StartPage {
    chrome: Chrome,
    /// Where "Continue" goes when the visitor has answered something already.
    continue_url: Option<String>,
}

pub async fn start_page(page: Page) -> Result<Response, AppError> {
    let answers = state::load_answers(&page.session).await?;
    let in_progress = !answers.answers.is_empty() || answers.not_covered_at.is_some();
    let continue_url = in_progress.then(|| state::continue_url(&answers.path(&page.state.policy)));
    render(&StartPage { chrome: page.chrome(), continue_url })
}
