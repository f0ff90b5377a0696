//! The outcome page at the end of the tree: one page whose content depends
//! on the outcome's kind.

use askama::Template;
use axum::response::{IntoResponse, Redirect, Response};

use super::state::{self, AnswerRow};
use crate::config::RelaySettings;
use crate::policy::OutcomeKind;
use crate::web::page::Chrome;
use crate::web::{AppError, Page, render};

#[derive(Template)]
#[template(path = "intake/outcome.html")]
struct OutcomePage<'a> {
    chrome: Chrome,
    title: &'a str,
    kind: &'static str,
    answers: Vec<AnswerRow>,
    relay: &'a RelaySettings,
    unmet: Vec<String>,
    /// Link that reopens the last question, where a user who now has the vendor's documentation changes the answer.
    last_change_url: String,
}

pub async fn outcome_page(page: Page) -> Result<Response, AppError> {
    let policy = page.state.policy.clone();
    let answers = state::load_answers(&page.session).await?;
    let path = answers.path(&policy);
    let Some(outcome) = path.outcome() else {
        return Ok(Redirect::to(&state::continue_url(&path)).into_response());
    };
    let unmet = if outcome.kind == OutcomeKind::Exception { path.unmet_requirements() } else { Vec::new() };
    let answers = state::answer_rows(&path, None);
    let last_change_url = answers.last().map(|row| row.change_url.clone()).unwrap_or_else(|| "/tree".to_owned());
    render(&OutcomePage {
        chrome: page.chrome(),
        title: &outcome.title,
        kind: outcome.kind.as_str(),
        answers,
        last_change_url,
        relay: &page.state.settings.relay,
        unmet,
    })
}
