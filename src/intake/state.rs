//! What the intake pages keep in the server-side session: the tree answers
//! and a draft of each request form between the form and its check page.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;
use uuid::Uuid;

use crate::policy::{Path, Policy, TreeAnswers};
use crate::requests::StoredAnswer;
use crate::web::AppError;

const TREE_KEY: &str = "tree_answers";
pub const APP_REGISTRATION_DRAFT_KEY: &str = "draft_app_registration";
pub const EXCEPTION_DRAFT_KEY: &str = "draft_exception";

pub async fn load_answers(session: &Session) -> Result<TreeAnswers, AppError> {
    Ok(session.get::<TreeAnswers>(TREE_KEY).await?.unwrap_or_default())
}

pub async fn save_answers(session: &Session, answers: &TreeAnswers) -> Result<(), AppError> {
    session.insert(TREE_KEY, answers).await?;
    Ok(())
}

/// Forgets the walk and any unsent drafts.
pub async fn clear(session: &Session) -> Result<(), AppError> {
    session.remove_value(TREE_KEY).await?;
    session.remove_value(APP_REGISTRATION_DRAFT_KEY).await?;
    session.remove_value(EXCEPTION_DRAFT_KEY).await?;
    Ok(())
}

/// A validated form waiting on its check page. The submission key makes a
/// replayed submit find the request it already created.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Draft<T> {
    pub details: T,
    pub submission_key: Uuid,
    /// The tree answers the form was filled in against. When they change,
    /// the draft goes back to the form, because fields pre-filled from the
    /// answers may no longer match them.
    pub answers: Vec<StoredAnswer>,
}

pub async fn load_draft<T: DeserializeOwned>(session: &Session, key: &str) -> Result<Option<Draft<T>>, AppError> {
    Ok(session.get::<Draft<T>>(key).await?)
}

pub async fn save_draft<T: Serialize>(session: &Session, key: &str, draft: &Draft<T>) -> Result<(), AppError> {
    session.insert(key, draft).await?;
    Ok(())
}

pub async fn remove_draft(session: &Session, key: &str) -> Result<(), AppError> {
    session.remove_value(key).await?;
    Ok(())
}

/// Converts the answers on a path into the form stored with a request.
pub fn stored_answers(path: &Path<'_>) -> Vec<StoredAnswer> {
    let mut stored: Vec<StoredAnswer> = path
        .steps
        .iter()
        .map(|step| StoredAnswer {
            question: step.question.id.clone(),
            question_text: step.question.title.clone(),
            answer: step.answer.id.clone(),
            answer_text: step.answer.label.clone(),
        })
        .collect();
    if let Some(question) = path.not_covered_at {
        stored.push(StoredAnswer {
            question: question.id.clone(),
            question_text: question.title.clone(),
            answer: "not_covered".to_owned(),
            answer_text: NOT_COVERED_LABEL.to_owned(),
        });
    }
    stored
}

pub const NOT_COVERED_LABEL: &str = "My situation is not covered by these questions";

/// Returns the URL that continues the walk: the next question, or the outcome.
pub fn continue_url(path: &Path<'_>) -> String {
    match path.end {
        crate::policy::PathEnd::Question(question) => format!("/tree/{}", question.id),
        crate::policy::PathEnd::Outcome(_) => "/tree/outcome".to_owned(),
    }
}

/// A summary row of the answers, with the link that changes it.
pub struct AnswerRow {
    pub question: String,
    pub answer: String,
    pub change_url: String,
}

/// The answer rows with Change links; `return_key` names a check page the
/// change should come back to.
pub fn answer_rows(path: &Path<'_>, return_key: Option<&str>) -> Vec<AnswerRow> {
    let suffix = return_key.map(|key| format!("&return={key}")).unwrap_or_default();
    stored_answers(path)
        .into_iter()
        .map(|answer| AnswerRow {
            change_url: format!("/tree/{}?change=1{suffix}", answer.question),
            question: answer.question_text,
            answer: answer.answer_text,
        })
        .collect()
}

/// The walk's outcome must be `kind` for a request form to open.
pub fn path_reaches(policy: &Policy, answers: &TreeAnswers, kind: crate::policy::OutcomeKind) -> bool {
    answers.path(policy).outcome().is_some_and(|outcome| outcome.kind == kind)
}
