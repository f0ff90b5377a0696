//! The steps every request form goes through: the form, its check page and
//! the submit. Each form type implements [`RequestForm`]; the handlers here
//! are generic over it.

use axum::Form;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{Datelike, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::documents;
use super::state::{self, AnswerRow, Draft};
use crate::accounts::User;
use crate::attachments::store::{self as document_store, DocumentSummary};
use crate::attachments::upload::{self, FileOutcome};
use crate::config::Settings;
use crate::policy::{OutcomeKind, Path, Policy};
use crate::requests::NewRequest;
use crate::requests::repo::{self, SubmitContext, SubmitError};
use crate::web::form::FieldErrors;
use crate::web::page::Chrome;
use crate::web::{AppError, SignedIn, csrf};

pub trait RequestForm: Sized + Clone + DeserializeOwned + Send + 'static {
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
    /// Returns the id of the first control of the row an "add another"
    /// button just added, so the page can put focus there.
    fn added_row_focus(&self, action: &str) -> Option<String>;
    /// Returns the ids of the form's fields in the order the page shows them,
    /// so the error summary lists problems in that order.
    fn field_order(&self) -> Vec<String>;
    /// Returns the ids of the pending documents the form lists.
    fn document_ids(&self) -> &[String];
    fn set_document_ids(&mut self, ids: Vec<String>);
    /// Returns the ids of the documents a validated form carries.
    fn details_documents(details: &Self::Details) -> &[i64];
    fn validate(self, settings: &Settings, documents: &[DocumentSummary])
    -> Result<Self::Details, (Self, FieldErrors)>;
    fn into_request(details: Self::Details) -> NewRequest;
    fn render_form(&self, view: FormView<'_>) -> Result<String, askama::Error>;
    fn render_check(
        chrome: Chrome,
        details: &Self::Details,
        submission_key: Uuid,
        answers: Vec<AnswerRow>,
        documents: &[DocumentSummary],
    ) -> Result<String, askama::Error>;
}

/// The context of a form page besides the form's own values.
pub struct FormView<'a> {
    pub chrome: Chrome,
    pub settings: &'a Settings,
    pub errors: FieldErrors,
    pub notice: Option<&'a str>,
    pub documents: &'a [DocumentSummary],
    /// The control that gets focus when the page loads, after an "add
    /// another" button.
    pub focus: Option<String>,
    /// Message naming the documents an upload or a removal just changed,
    /// shown and focused beside the document list.
    pub documents_status: Option<String>,
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
    let mut notices = Vec::new();
    let form = match state::load_draft::<F::Details>(session, F::DRAFT_KEY).await? {
        Some(draft) => {
            let mut form = F::from_details(&draft.details);
            if draft.answers != state::stored_answers(&path) {
                form.refresh_from_path(&signed.page.state.policy, &path);
                notices.push(ANSWERS_CHANGED.to_owned());
            }
            form
        }
        None => F::prefill(&signed.user, &signed.page.state.policy, &path),
    };
    let mut conn = signed.page.state.db.acquire().await?;
    let (documents, lost) = documents::load(&mut conn, signed.user.id, form.document_ids()).await?;
    notices.extend(documents::lost_notice(lost));
    let notice = (!notices.is_empty()).then(|| notices.join(" "));
    let view = FormView {
        chrome: signed.page.chrome(),
        settings: &signed.page.state.settings,
        errors: FieldErrors::default(),
        notice: notice.as_deref(),
        documents: &documents,
        focus: None,
        documents_status: None,
    };
    Ok(Html(form.render_form(view)?).into_response())
}

fn is_multipart(request: &Request) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("multipart/form-data"))
}

/// Reads the form from an urlencoded or a multipart body. A multipart body
/// is checked for its CSRF token here, because the middleware leaves it.
async fn read_form<F: RequestForm>(
    signed: &SignedIn,
    request: Request,
) -> Result<Result<(F, Vec<FileOutcome>), Response>, AppError> {
    if !is_multipart(&request) {
        return Ok(match axum_extra::extract::Form::<F>::from_request(request, &()).await {
            Ok(axum_extra::extract::Form(form)) => Ok((form, Vec::new())),
            Err(rejection) => Err(rejection.into_response()),
        });
    }
    let multipart = match Multipart::from_request(request, &()).await {
        Ok(multipart) => multipart,
        Err(rejection) => return Err(AppError::BadUpload(rejection.body_text())),
    };
    let read = upload::read(multipart, &signed.page.state.settings.uploads).await?;
    csrf::check(&signed.page.session, read.field(csrf::FORM_FIELD)).await?;
    let form = serde_html_form::from_str::<F>(&read.urlencoded())
        .map_err(|err| AppError::BadUpload(format!("the form's fields could not be read: {err}")))?;
    Ok(Ok((form, read.files)))
}

pub async fn save_form<F: RequestForm>(signed: SignedIn, request: Request) -> Result<Response, AppError> {
    if let Err(redirect) = require_outcome::<F>(&signed).await? {
        return Ok(redirect);
    }
    let (mut form, files) = match read_form::<F>(&signed, request).await? {
        Ok(read) => read,
        Err(rejection) => return Ok(rejection),
    };
    let settings = &signed.page.state.settings;
    form.compact_rows();
    let action = form.action().to_owned();

    let mut conn = signed.page.state.db.acquire().await?;
    let (listed, lost) = documents::load(&mut conn, signed.user.id, form.document_ids()).await?;
    let before = listed.clone();
    let mut upload_errors = FieldErrors::default();
    let uploaded_any = !files.is_empty();
    let documents =
        documents::apply(&mut conn, signed.user.id, listed, &action, files, &settings.uploads, &mut upload_errors)
            .await?;
    drop(conn);
    form.set_document_ids(documents::id_values(&documents));
    let notice = documents::lost_notice(lost);
    let documents_status = documents::change_status(&before, &documents);
    let field_order = form.field_order();
    let render = |form: &F, mut errors: FieldErrors, focus: Option<String>| {
        errors.sort_by_field_order(&field_order);
        form.render_form(FormView {
            chrome: signed.page.chrome(),
            settings,
            errors,
            notice: notice.as_deref(),
            documents: &documents,
            focus,
            documents_status: documents_status.clone(),
        })
    };

    let stays_on_form = action == documents::UPLOAD_ACTION || action.starts_with(documents::REMOVE_PREFIX);
    if action == documents::UPLOAD_ACTION && !uploaded_any {
        upload_errors.add(upload::FILE_FIELD, "Choose at least one file to upload");
    }
    documents::check_limits(&documents, &settings.uploads, &mut upload_errors);
    if let Some(mut errors) = form.add_row(&action) {
        let focus = form.added_row_focus(&action);
        errors.list.extend(upload_errors.list);
        let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
        return Ok((status, Html(render(&form, errors, focus)?)).into_response());
    }
    if stays_on_form || lost > 0 {
        let status = if upload_errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
        return Ok((status, Html(render(&form, upload_errors, None)?)).into_response());
    }
    match form.clone().validate(settings, &documents) {
        // Every other field is valid, but a file was rejected. The form
        // shows why before going on, so no file is silently left behind.
        Ok(_) if !upload_errors.is_empty() => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(render(&form, upload_errors, None)?)).into_response())
        }
        Ok(details) => {
            let tree = state::load_answers(&signed.page.session).await?;
            let answers = state::stored_answers(&tree.path(&signed.page.state.policy));
            let draft = Draft { details, submission_key: Uuid::new_v4(), answers };
            state::save_draft(&signed.page.session, F::DRAFT_KEY, &draft).await?;
            Ok(Redirect::to(&check_url::<F>()).into_response())
        }
        Err((form, mut errors)) => {
            errors.list.extend(upload_errors.list);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(render(&form, errors, None)?)).into_response())
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
    let ids = F::details_documents(&draft.details);
    let mut conn = signed.page.state.db.acquire().await?;
    let documents = document_store::pending(&mut conn, signed.user.id, ids).await?;
    if documents.len() != ids.len() {
        // An upload has been deleted, so the form names it and requests it again.
        return Ok(Redirect::to(F::URL).into_response());
    }
    let rows = state::answer_rows(&path, Some(F::CHECK_RETURN_KEY));
    let html = F::render_check(signed.page.chrome(), &draft.details, draft.submission_key, rows, &documents)?;
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

    let document_ids = F::details_documents(&draft.details).to_vec();
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
        crate::notify::enqueue(&mut tx, &state.settings, submission.id, &crate::notify::Notice::Submitted).await?;
        let attached = document_store::attach(&mut tx, signed.user.id, submission.id, &document_ids).await?;
        if attached != document_ids.len() as u64 {
            // An upload was deleted after the check page, so nothing is
            // sent and the form names the file to upload again.
            tx.rollback().await?;
            return Ok(Redirect::to(F::URL).into_response());
        }
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
