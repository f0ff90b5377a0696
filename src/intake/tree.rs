//! The generic question page: renders any question node of the policy and
//! records the answer in the session.

use askama::Template;
use axum::Form;
use axum::extract::{Path as UrlPath, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::state;
use crate::policy::{Node, Question};
use crate::web::form::FieldErrors;
use crate::web::page::Chrome;
use crate::web::{AppError, Page, render_with_status};

#[derive(Template)]
#[template(path = "intake/question.html")]
struct QuestionPage<'a> {
    chrome: Chrome,
    question: &'a Question,
    selected: Option<String>,
    back_url: String,
    change: bool,
    /// The key of the check page to return to after a change, if any.
    return_key: Option<&'static str>,
    errors: FieldErrors,
}

/// Origin of a change, so the question can lead back there: the
/// outcome page by default, or a request form's check page.
#[derive(Deserialize)]
pub struct ChangeQuery {
    #[serde(default)]
    change: Option<String>,
    #[serde(default, rename = "return")]
    return_to: Option<String>,
}

#[derive(Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    answer: Option<String>,
    #[serde(default)]
    change: Option<String>,
    #[serde(default, rename = "return")]
    return_to: Option<String>,
}

/// The check pages a change may return to, by the key a Change link carries.
fn return_url(key: Option<&str>) -> Option<&'static str> {
    match key? {
        "app-registration-check" => Some("/requests/new/app-registration/check"),
        "exception-check" => Some("/requests/new/exception/check"),
        _ => None,
    }
}

fn is_change(flag: Option<&str>) -> bool {
    flag == Some("1")
}

/// GET /tree: continues wherever the visitor's answers lead.
pub async fn continue_tree(page: Page) -> Result<Response, AppError> {
    let answers = state::load_answers(&page.session).await?;
    let path = answers.path(&page.state.policy);
    Ok(Redirect::to(&state::continue_url(&path)).into_response())
}

fn question_or_not_found<'a>(page: &'a Page, id: &str) -> Result<&'a Question, AppError> {
    match page.state.policy.node(id) {
        Some(Node::Question(question)) => Ok(question),
        _ => Err(AppError::NotFound),
    }
}

pub async fn question_page(
    page: Page,
    UrlPath(id): UrlPath<String>,
    Query(query): Query<ChangeQuery>,
) -> Result<Response, AppError> {
    let policy = page.state.policy.clone();
    let question = question_or_not_found(&page, &id)?;
    let answers = state::load_answers(&page.session).await?;
    let path = answers.path(&policy);
    if !path.contains_question(&id) {
        // Opened out of order: send the visitor to their first unanswered question.
        return Ok(Redirect::to(&state::continue_url(&path)).into_response());
    }
    let selected = answers.answers.get(&id).filter(|answer| question.answer(answer).is_some()).cloned();
    let change = is_change(query.change.as_deref());
    let return_key = return_key(query.return_to.as_deref());
    let view = QuestionView {
        question,
        selected,
        back_url: change_back_url(&path, &id, change, return_key),
        change,
        return_key,
    };
    render_question(&page, view, FieldErrors::default(), StatusCode::OK)
}

struct QuestionView<'a> {
    question: &'a Question,
    selected: Option<String>,
    back_url: String,
    change: bool,
    return_key: Option<&'static str>,
}

fn render_question(
    page: &Page,
    view: QuestionView<'_>,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<Response, AppError> {
    render_with_status(
        status,
        &QuestionPage {
            chrome: page.chrome(),
            question: view.question,
            selected: view.selected,
            back_url: view.back_url,
            change: view.change,
            return_key: view.return_key,
            errors,
        },
    )
}

/// Returns the key of an allowed check page, as a `'static` value for the template.
fn return_key(key: Option<&str>) -> Option<&'static str> {
    return_url(key).map(|url| if url.contains("exception") { "exception-check" } else { "app-registration-check" })
}

/// The Back link. A change started elsewhere goes back there: to the check
/// page it came from, or to where the walk ends; otherwise Back goes to the
/// previous question.
fn change_back_url(path: &crate::policy::Path<'_>, id: &str, change: bool, return_key: Option<&str>) -> String {
    if !change {
        return back_url(path, id);
    }
    match return_url(return_key) {
        Some(url) => url.to_owned(),
        None => state::continue_url(path),
    }
}

/// Returns the Back link: the previous question on the path, or the start page.
fn back_url(path: &crate::policy::Path<'_>, id: &str) -> String {
    match path.previous_question(id) {
        Some(previous) => format!("/tree/{}", previous.id),
        None => "/".to_owned(),
    }
}

pub async fn answer_question(
    page: Page,
    UrlPath(id): UrlPath<String>,
    Form(form): Form<AnswerForm>,
) -> Result<Response, AppError> {
    let policy = page.state.policy.clone();
    let question = question_or_not_found(&page, &id)?;
    let mut answers = state::load_answers(&page.session).await?;
    let path = answers.path(&policy);
    if !path.contains_question(&id) {
        return Ok(Redirect::to(&state::continue_url(&path)).into_response());
    }
    let change = is_change(form.change.as_deref());
    let return_key = return_key(form.return_to.as_deref());

    let chosen = form.answer.as_deref().and_then(|answer| question.answer(answer));
    let Some(chosen) = chosen else {
        let mut errors = FieldErrors::default();
        let first_answer = &question.answers[0].id;
        errors.add(format!("answer-{first_answer}"), "Select an answer to continue");
        let selected = answers.answers.get(&id).filter(|answer| question.answer(answer).is_some()).cloned();
        let back = change_back_url(&path, &id, change, return_key);
        let view = QuestionView { question, selected, back_url: back, change, return_key };
        return render_question(&page, view, errors, StatusCode::UNPROCESSABLE_ENTITY);
    };

    answers.record(&question.id, &chosen.id);
    state::save_answers(&page.session, &answers).await?;

    let new_path = answers.path(&policy);
    let target = match (policy.node(&chosen.next), return_url(return_key)) {
        // A change from a check page returns there once the walk is complete again.
        (_, Some(url)) if change && new_path.outcome().is_some() => url.to_owned(),
        (Some(Node::Question(next)), _) if !change => format!("/tree/{}", next.id),
        (Some(Node::Outcome(_)), _) => "/tree/outcome".to_owned(),
        // After a change, skip questions that still have their answers.
        _ => state::continue_url(&new_path),
    };
    Ok(Redirect::to(&target).into_response())
}

/// POST /tree/{question}/not-covered: the way out to an exception request.
pub async fn not_covered(page: Page, UrlPath(id): UrlPath<String>) -> Result<Response, AppError> {
    let policy = page.state.policy.clone();
    question_or_not_found(&page, &id)?;
    let mut answers = state::load_answers(&page.session).await?;
    if !answers.path(&policy).contains_question(&id) {
        return Ok(Redirect::to(&state::continue_url(&answers.path(&policy))).into_response());
    }
    answers.not_covered_at = Some(id);
    state::save_answers(&page.session, &answers).await?;
    Ok(Redirect::to("/tree/outcome").into_response())
}

/// POST /tree/restart: forgets every answer and draft.
pub async fn restart(page: Page) -> Result<Response, AppError> {
    state::clear(&page.session).await?;
    Ok(Redirect::to(&format!("/tree/{}", page.state.policy.start)).into_response())
}
