//! The steps every request form goes through: the form, its check page and
//! the submit. Each form type implements [`RequestForm`]; the handlers here
//! are generic over it.

use axum::Form;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{Datelike, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::state::{self, AnswerRow, Draft};
use crate::accounts::User;
use crate::config::Settings;
use crate::policy::{OutcomeKind, Path, Policy};
use crate::requests::NewRequest;
use crate::requests::repo::{self, SubmitContext, SubmitError};
use crate::web::form::FieldErrors;
use crate::web::page::Chrome;
use crate::web::{AppError, SignedIn};

pub trait RequestForm: Sized + DeserializeOwned + Send + 'static {
    type Details: Serialize + DeserializeOwned + Clone + Send + Sync;

    /// The session key of this form's draft.
    const DRAFT_KEY: &'static str;
    /// The outcome the tree must reach before this form opens.
    const OUTCOME: OutcomeKind;
    /// The form's URL; the check page and the submit hang below it.
    const URL: &'static str;
    /// The key a tree Change link carries to come back to this form's check page.
    const CHECK_RETURN_KEY: &'static str;

    /// A new form, pre-filled from the account and the tree's answers.
    fn prefill(user: &User, policy: &Policy, path: &Path<'_>) -> Self;
    fn from_details(details: &Self::Details) -> Self;
    /// Refills the fields that come from the tree after its answers changed,
    /// keeping what the user added to them.
    fn refresh_from_path(&mut self, _policy: &Policy, _path: &Path<'_>) {}
    /// Applies an "add another" button. Returns None when `action` is not
    /// one, or the errors to show, empty when the row was added.
    fn add_row(&mut self, action: &str) -> Option<FieldErrors>;
    /// Drops blank rows when there are more rows than the form allows, so a
    /// crafted post cannot make the page render thousands of inputs.
    fn compact_rows(&mut self);
    fn action(&self) -> &str;
    fn validate(self, settings: &Settings) -> Result<Self::Details, (Self, FieldErrors)>;
    fn into_request(details: Self::Details) -> NewRequest;
    fn render_form(
        &self,
        chrome: Chrome,
        settings: &Settings,
        errors: FieldErrors,
        notice: Option<&str>,
    ) -> Result<String, askama::Error>;
    fn render_check(
        chrome: Chrome,
        details: &Self::Details,
        submission_key: Uuid,
        answers: Vec<AnswerRow>,
    ) -> Result<String, askama::Error>;
}

/// Redirects to the tree unless the visitor's answers reach `F`'s outcome.
async fn require_outcome<F: RequestForm>(signed: &SignedIn) -> Result<Result<(), Response>, AppError> {
    let policy = &signed.page.state.policy;
    let answers = state::load_answers(&signed.page.session).await?;
    let path = answers.path(policy);
    if path.outcome().is_some_and(|outcome| outcome.kind == F::OUTCOME) {
        Ok(Ok(()))
    } else {
        Ok(Err(Redirect::to(&state::continue_url(&path)).into_response()))
    }
}

fn check_url<F: RequestForm>() -> String {
    format!("{}/check", F::URL)
}

/// Shown on the form when the tree answers changed after it was filled in.
const ANSWERS_CHANGED: &str = "Your answers to the questions changed since you filled in this form, so the fields that come from them were filled in again. Anything you had added to them yourself was kept. Check them before you continue.";

pub async fn form_page<F: RequestForm>(signed: SignedIn) -> Result<Response, AppError> {
    if let Err(redirect) = require_outcome::<F>(&signed).await? {
        return Ok(redirect);
    }
    let session = &signed.page.session;
    let answers = state::load_answers(session).await?;
    let path = answers.path(&signed.page.state.policy);
    let mut notice = None;
    let form = match state::load_draft::<F::Details>(session, F::DRAFT_KEY).await? {
        Some(draft) => {
            let mut form = F::from_details(&draft.details);
            if draft.answers != state::stored_answers(&path) {
                form.refresh_from_path(&signed.page.state.policy, &path);
                notice = Some(ANSWERS_CHANGED);
            }
            form
        }
        None => F::prefill(&signed.user, &signed.page.state.policy, &path),
    };
    Ok(Html(form.render_form(signed.page.chrome(), &signed.page.state.settings, FieldErrors::default(), notice)?)
        .into_response())
}

pub async fn save_form<F: RequestForm>(
    signed: SignedIn,
    axum_extra::extract::Form(mut form): axum_extra::extract::Form<F>,
) -> Result<Response, AppError> {
    if let Err(redirect) = require_outcome::<F>(&signed).await? {
        return Ok(redirect);
    }
    form.compact_rows();
    let action = form.action().to_owned();
    if let Some(errors) = form.add_row(&action) {
        let html = form.render_form(signed.page.chrome(), &signed.page.state.settings, errors, None)?;
        return Ok(Html(html).into_response());
    }
    match form.validate(&signed.page.state.settings) {
        Ok(details) => {
            let tree = state::load_answers(&signed.page.session).await?;
            let answers = state::stored_answers(&tree.path(&signed.page.state.policy));
            let draft = Draft { details, submission_key: Uuid::new_v4(), answers };
            state::save_draft(&signed.page.session, F::DRAFT_KEY, &draft).await?;
            Ok(Redirect::to(&check_url::<F>()).into_response())
        }
        Err((form, errors)) => {
            let html = form.render_form(signed.page.chrome(), &signed.page.state.settings, errors, None)?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response())
        }
    }
}

pub async fn check_page<F: RequestForm>(signed: SignedIn) -> Result<Response, AppError> {
    if let Err(redirect) = require_outcome::<F>(&signed).await? {
        return Ok(redirect);
    }
    let session = &signed.page.session;
    let answers = state::load_answers(session).await?;
    let path = answers.path(&signed.page.state.policy);
    let draft = state::load_draft::<F::Details>(session, F::DRAFT_KEY).await?;
    let Some(draft) = draft.filter(|draft| draft.answers == state::stored_answers(&path)) else {
        return Ok(Redirect::to(F::URL).into_response());
    };
    let rows = state::answer_rows(&path, Some(F::CHECK_RETURN_KEY));
    let html = F::render_check(signed.page.chrome(), &draft.details, draft.submission_key, rows)?;
    Ok(Html(html).into_response())
}

#[derive(Deserialize)]
pub struct SubmitForm {
    #[serde(default)]
    submission_key: String,
}

fn confirmation_url(reference: &str) -> String {
    format!("/requests/{reference}/submitted")
}

pub async fn submit<F: RequestForm>(signed: SignedIn, Form(form): Form<SubmitForm>) -> Result<Response, AppError> {
    let Ok(key) = Uuid::parse_str(form.submission_key.trim()) else {
        return Ok(Redirect::to(&check_url::<F>()).into_response());
    };
    let state = &signed.page.state;
    let session = &signed.page.session;
    let mut tx = state.db.begin().await?;

    // A refresh or replay of a submit that already went through.
    if let Some(reference) = repo::find_submitted(&mut tx, signed.user.id, key).await? {
        return Ok(Redirect::to(&confirmation_url(&reference)).into_response());
    }

    let draft = state::load_draft::<F::Details>(session, F::DRAFT_KEY).await?;
    let answers = state::load_answers(session).await?;
    let path = answers.path(&state.policy);
    let reaches = path.outcome().is_some_and(|outcome| outcome.kind == F::OUTCOME);
    let stored_answers = state::stored_answers(&path);
    let current = |draft: &Draft<F::Details>| draft.submission_key == key && draft.answers == stored_answers;
    let Some(draft) = draft.filter(|draft| reaches && current(draft)) else {
        // A stale check page: show the current one, which redirects further if needed.
        return Ok(Redirect::to(&check_url::<F>()).into_response());
    };

    let context = SubmitContext {
        requester: signed.user.id,
        answers: &stored_answers,
        policy_version: &state.policy.version,
        submission_key: key,
        year: Utc::now().with_timezone(&state.settings.time_zone).year(),
    };
    let submission = match repo::insert_request(&mut tx, &F::into_request(draft.details), context).await {
        Ok(submission) => submission,
        Err(SubmitError::Database(err)) => return Err(err.into()),
        Err(err @ SubmitError::ForeignSubmissionKey(_)) => {
            tracing::warn!(user_id = signed.user.id.0, "rejected a submit: {err}");
            return Err(AppError::NotFound);
        }
    };
    if submission.created {
        tx.commit().await?;
        tracing::info!(reference = %submission.reference, user_id = signed.user.id.0, "request {} submitted", submission.reference);
    } else {
        // A concurrent submit with the same key won; undo this attempt's reference number.
        tx.rollback().await?;
    }
    state::remove_draft(session, F::DRAFT_KEY).await?;
    state::clear(session).await?;
    Ok(Redirect::to(&confirmation_url(&submission.reference)).into_response())
}
