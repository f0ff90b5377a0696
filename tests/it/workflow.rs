//! Status changes, concurrency and the append-only history, on real PostgreSQL.

use ist_intake::accounts::{Role, User};
use ist_intake::requests::actions::{self, ActionError, ActionInput, EditableField, FieldChange};
use ist_intake::requests::repo::{self, RequestId, SubmitContext};
use ist_intake::requests::status::{self, Action, Actor};
use ist_intake::requests::{
    AppRegistrationDetails, NewRequest, PermissionType, RequestKind, RequestStatus, RequesterDetails, Scope,
};
use sqlx::PgPool;
use uuid::Uuid;

use crate::support::TestApp;

pub async fn stored_app_registration(app: &TestApp, requester: &User) -> (RequestId, String) {
    let details = AppRegistrationDetails {
        application_name: "Acme Room Booking".to_owned(),
        vendor: "Acme Software Inc.".to_owned(),
        business_purpose: "Booking confirmations".to_owned(),
        sending_address: "rooms@uwaterloo.ca".to_owned(),
        vendor_links: vec!["https://acme.example/docs".to_owned()],
        documents: Vec::new(),
        scopes: vec![Scope {
            justification: Some("Sends booking confirmations with no one signed in".to_owned()),
            ..Scope::graph("Mail.Send", PermissionType::Application)
        }],
        requester: RequesterDetails {
            name: requester.display_name.clone(),
            email: requester.email.clone(),
            department: "Mathematics".to_owned(),
        },
    };
    let mut tx = app.pool.begin().await.unwrap();
    let submission = repo::insert_request(
        &mut tx,
        &NewRequest::AppRegistration(details),
        SubmitContext {
            requester: requester.id,
            answers: &[],
            policy_version: "test",
            submission_key: Uuid::new_v4(),
            year: 2026,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let id: RequestId = sqlx::query_scalar("SELECT id FROM requests WHERE reference = $1")
        .bind(&submission.reference)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    (id, submission.reference)
}

async fn status_and_version(pool: &PgPool, id: RequestId) -> (String, i32) {
    sqlx::query_as("SELECT status::text, version FROM requests WHERE id = $1").bind(id).fetch_one(pool).await.unwrap()
}

async fn apply(
    pool: &PgPool,
    id: RequestId,
    version: i32,
    user: &User,
    actor: Actor,
    input: ActionInput,
) -> Result<RequestStatus, ActionError> {
    let mut tx = pool.begin().await.unwrap();
    let result = actions::apply(&mut tx, id, version, user.id, actor, input).await;
    if result.is_ok() {
        tx.commit().await.unwrap();
    }
    result
}

#[sqlx::test]
async fn allowed_transitions_update_status_and_history(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let requester = app.add_user("req@uwaterloo.ca", "Rae Quest", Role::Requester).await;
    let reviewer = app.add_user("rev@uwaterloo.ca", "Rev Iewer", Role::Reviewer).await;
    let (id, _) = stored_app_registration(&app, &requester).await;

    let steps = [
        (&reviewer, Actor::Reviewer, ActionInput::Take, "in_review"),
        (
            &reviewer,
            Actor::Reviewer,
            ActionInput::AskQuestion { question: "Which mailbox?".into(), fields: vec![EditableField::SendingAddress] },
            "needs_info",
        ),
        (
            &requester,
            Actor::Requester,
            ActionInput::Answer {
                message: "Changed it".into(),
                changes: vec![FieldChange {
                    field: EditableField::SendingAddress,
                    before: Some("rooms@uwaterloo.ca".into()),
                    after: Some("bookings@uwaterloo.ca".into()),
                }],
            },
            "in_review",
        ),
        (&reviewer, Actor::Reviewer, ActionInput::Reject { reason: "Not needed".into() }, "rejected"),
    ];
    for (version, (user, actor, input, expected)) in (1..).zip(steps) {
        apply(&app.pool, id, version, user, actor, input).await.unwrap();
        assert_eq!(status_and_version(&app.pool, id).await, (expected.to_owned(), version + 1));
    }

    let history: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT kind::text, to_status::text, coalesce(body, after_value) FROM request_events WHERE request_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let expected: Vec<(String, Option<String>, Option<String>)> = vec![
        ("status_changed".into(), Some("submitted".into()), None),
        ("status_changed".into(), Some("in_review".into()), None),
        ("status_changed".into(), Some("needs_info".into()), Some("Which mailbox?".into())),
        ("field_changed".into(), None, Some("bookings@uwaterloo.ca".into())),
        ("status_changed".into(), Some("in_review".into()), Some("Changed it".into())),
        ("status_changed".into(), Some("rejected".into()), Some("Not needed".into())),
    ];
    assert_eq!(history, expected);
    let address: String = sqlx::query_scalar("SELECT sending_address FROM requests WHERE id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(address, "bookings@uwaterloo.ca");
}

#[sqlx::test]
async fn rejected_transition_changes_nothing(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let requester = app.add_user("req@uwaterloo.ca", "Rae Quest", Role::Requester).await;
    let reviewer = app.add_user("rev@uwaterloo.ca", "Rev Iewer", Role::Reviewer).await;
    let (id, _) = stored_app_registration(&app, &requester).await;

    let cases = [
        (
            &reviewer,
            Actor::Reviewer,
            ActionInput::Approve { registration: None },
            "A request that is submitted cannot be approved. Nothing was changed.",
        ),
        (
            &requester,
            Actor::Requester,
            ActionInput::Take,
            "Only an IST reviewer can take a request for review. Nothing was changed.",
        ),
        (
            &reviewer,
            Actor::Reviewer,
            ActionInput::Withdraw,
            "Only the person who submitted it can withdraw a request. Nothing was changed.",
        ),
    ];
    for (user, actor, input, message) in cases {
        let error = apply(&app.pool, id, 1, user, actor, input).await.unwrap_err();
        assert_eq!(error.to_string(), message);
        assert_eq!(status_and_version(&app.pool, id).await, ("submitted".to_owned(), 1));
    }
    assert_eq!(app.count("SELECT count(*) FROM request_events").await, 1);
}

#[sqlx::test]
async fn stale_version_is_a_conflict(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let requester = app.add_user("req@uwaterloo.ca", "Rae Quest", Role::Requester).await;
    let first = app.add_user("first@uwaterloo.ca", "First Reviewer", Role::Reviewer).await;
    let second = app.add_user("second@uwaterloo.ca", "Second Reviewer", Role::Reviewer).await;
    let (id, _) = stored_app_registration(&app, &requester).await;
    apply(&app.pool, id, 1, &first, Actor::Reviewer, ActionInput::Take).await.unwrap();

    // Both reviewers opened the request at version 2.
    apply(&app.pool, id, 2, &first, Actor::Reviewer, ActionInput::Reject { reason: "Duplicate".into() }).await.unwrap();
    let error = apply(&app.pool, id, 2, &second, Actor::Reviewer, ActionInput::Approve { registration: None })
        .await
        .unwrap_err();
    assert!(matches!(error, ActionError::Conflict { current_version: 3 }), "{error:?}");
    assert_eq!(status_and_version(&app.pool, id).await, ("rejected".to_owned(), 3));
}

#[sqlx::test]
async fn history_refuses_update_and_delete(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let requester = app.add_user("req@uwaterloo.ca", "Rae Quest", Role::Requester).await;
    stored_app_registration(&app, &requester).await;

    for sql in [
        "UPDATE request_events SET body = 'rewritten'",
        "DELETE FROM request_events",
        "TRUNCATE request_events CASCADE",
    ] {
        let error = sqlx::query(sql).execute(&app.pool).await.unwrap_err();
        let message = error.as_database_error().map(|db| db.message().to_owned()).unwrap_or_default();
        assert!(message.starts_with("request_events is append-only"), "{sql}: {message}");
    }
    assert_eq!(app.count("SELECT count(*) FROM request_events").await, 1);
}

/// Puts a request into `status` directly, with the columns that status needs.
async fn force_status(pool: &PgPool, id: RequestId, status: RequestStatus) {
    let question = (status == RequestStatus::NeedsInfo).then_some("Which mailbox?");
    let reason = (status == RequestStatus::Rejected).then_some("Not needed");
    sqlx::query(
        "UPDATE requests SET status = $2, open_question = $3, question_fields = $4, rejection_reason = $5 WHERE id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(question)
    .bind(if question.is_some() { vec!["vendor"] } else { Vec::new() })
    .bind(reason)
    .execute(pool)
    .await
    .unwrap();
}

fn input_for(action: Action) -> ActionInput {
    match action {
        Action::Take => ActionInput::Take,
        Action::AskQuestion => {
            ActionInput::AskQuestion { question: "Which vendor?".into(), fields: vec![EditableField::Vendor] }
        }
        Action::Answer => ActionInput::Answer { message: String::new(), changes: Vec::new() },
        Action::Approve => ActionInput::Approve { registration: None },
        Action::Reject => ActionInput::Reject { reason: "No".into() },
        Action::Complete => ActionInput::Complete { advice: Some("Use the relay".into()) },
        Action::Withdraw => ActionInput::Withdraw,
    }
}

#[sqlx::test]
async fn every_transition_is_allowed_or_rejected_in_the_database(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let requester = app.add_user("req@uwaterloo.ca", "Rae Quest", Role::Requester).await;
    let reviewer = app.add_user("rev@uwaterloo.ca", "Rev Iewer", Role::Reviewer).await;
    let (id, _) = stored_app_registration(&app, &requester).await;

    for from in RequestStatus::ALL {
        for action in Action::ALL {
            for (user, actor) in [(&requester, Actor::Requester), (&reviewer, Actor::Reviewer)] {
                force_status(&app.pool, id, from).await;
                let (_, version) = status_and_version(&app.pool, id).await;
                let expected = status::transition(RequestKind::AppRegistration, from, action, actor);
                let result = apply(&app.pool, id, version, user, actor, input_for(action)).await;
                let (stored, stored_version) = status_and_version(&app.pool, id).await;
                let case = format!("{from:?} {action:?} by {actor:?}");
                match expected {
                    Ok(to) => {
                        assert_eq!(result.unwrap(), to, "{case}");
                        assert_eq!(stored, to.as_str(), "{case}");
                        assert_eq!(stored_version, version + 1, "{case}");
                    }
                    Err(error) => {
                        assert_eq!(result.unwrap_err().to_string(), error.message, "{case}");
                        assert_eq!(stored, from.as_str(), "{case}: status unchanged");
                        assert_eq!(stored_version, version, "{case}: version unchanged");
                    }
                }
            }
        }
    }
}
