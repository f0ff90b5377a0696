//! The reviewer workflow through the pages: question and answer, notes and
//! replies, approval, conflicts between reviewers and withdrawal.

use ist_intake::accounts::Role;
use sqlx::PgPool;

use crate::support::{Browser, Page, TestApp, fill_app_registration, submission_key, valid_app_registration};

/// Submits a valid app registration as `requester` and returns its reference.
async fn submit_request(requester: &mut Browser) -> String {
    let check = fill_app_registration(requester, &valid_app_registration()).await;
    let page =
        requester.post("/requests/new/app-registration/submit", &[("submission_key", &submission_key(&check))]).await;
    page.text(".reference")
}

fn version(page: &Page) -> String {
    page.attr("input[name=version]", "value").expect("a version field")
}

#[sqlx::test]
async fn question_answer_and_approval_journey(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut requester = app.signed_in("dana.lee@uwaterloo.ca", Role::Requester).await;
    let mut reviewer = app.signed_in("rev@uwaterloo.ca", Role::Reviewer).await;
    let reference = submit_request(&mut requester).await;
    let base = format!("/review/{reference}");

    let page = reviewer.get(&base).await;
    let taken = reviewer.post(&format!("{base}/take"), &[("version", &version(&page))]).await;
    assert_eq!(taken.text(".panel .status"), "In review");
    assert!(taken.text(".panel").contains("Assigned to: Test Person"));

    let asked = reviewer
        .post(
            &format!("{base}/question"),
            &[
                ("version", &version(&taken)),
                ("question_text", "Please use the shared bookings mailbox."),
                ("fields", "sending_address"),
            ],
        )
        .await;
    assert_eq!(asked.text(".panel .status"), "Waiting for the requester");

    let own = requester.get(&format!("/requests/{reference}")).await;
    assert_eq!(own.text(".question"), "Please use the shared bookings mailbox.");
    let inputs: Vec<String> = own
        .select_all("form[action$='/answer'] input[type=text]")
        .iter()
        .map(|input| input.value().attr("name").unwrap().to_owned())
        .collect();
    assert_eq!(inputs, vec!["sending_address"]);

    let invalid = requester
        .post(
            &format!("/requests/{reference}/answer"),
            &[("version", &version(&own)), ("sending_address", "bookings@gmail.com")],
        )
        .await;
    assert_eq!(invalid.status, 422);
    assert_eq!(invalid.error_summary()[0].0, "#sending_address");
    assert_eq!(invalid.attr("#sending_address", "value").as_deref(), Some("bookings@gmail.com"));

    let long_message = "x".repeat(8001);
    let too_long = requester
        .post(
            &format!("/requests/{reference}/answer"),
            &[("version", &version(&own)), ("sending_address", "bookings@uwaterloo.ca"), ("message", &long_message)],
        )
        .await;
    assert_eq!(too_long.error_summary()[0].0, "#answer_message");
    assert_eq!(too_long.attr("#answer_message", "aria-invalid").as_deref(), Some("true"));
    assert_eq!(too_long.attr("#answer_message", "aria-describedby").as_deref(), Some("answer_message-error"));

    let answered = requester
        .post(
            &format!("/requests/{reference}/answer"),
            &[("version", &version(&own)), ("sending_address", "bookings@uwaterloo.ca"), ("message", "Done")],
        )
        .await;
    assert!(answered.text(".panel").starts_with("In review."));
    let history = answered.body_text();
    assert!(history.contains("Changed Sending email address"), "{history}");
    assert!(history.contains("Before: Room-Bookings@UWaterloo.ca After: bookings@uwaterloo.ca"), "{history}");

    let page = reviewer.get(&base).await;
    let approved = reviewer
        .post(
            &format!("{base}/approve"),
            &[
                ("version", &version(&page)),
                ("approve_client_id", "11111111-2222-3333-4444-555555555555"),
                ("approve_tenant", "uwaterloo.ca"),
                ("credential_type", "certificate"),
                ("approve_expires_on", "2099-06-30"),
                ("granted_name", "Mail.Send"),
                ("granted_type", "application"),
                ("granted_name", ""),
                ("granted_type", ""),
            ],
        )
        .await;
    assert_eq!(approved.text(".panel .status"), "Approved");
    let stored: (String, String, String, String) = sqlx::query_as(
        "SELECT client_id::text, tenant, credential_type::text, credential_expires_on::text FROM app_registrations_created",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        stored,
        (
            "11111111-2222-3333-4444-555555555555".to_owned(),
            "uwaterloo.ca".to_owned(),
            "certificate".to_owned(),
            "2099-06-30".to_owned()
        )
    );
    let granted: Vec<(String, String)> = sqlx::query_as("SELECT name, permission_type::text FROM granted_permissions")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(granted, vec![("Mail.Send".to_owned(), "application".to_owned())]);

    let completed =
        reviewer.post(&format!("{base}/complete"), &[("version", &version(&approved)), ("complete_advice", "")]).await;
    assert_eq!(completed.text(".panel .status"), "Completed");
}

#[sqlx::test]
async fn approval_form_errors_keep_values(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut requester = app.signed_in("dana.lee@uwaterloo.ca", Role::Requester).await;
    let mut reviewer = app.signed_in("rev@uwaterloo.ca", Role::Reviewer).await;
    let reference = submit_request(&mut requester).await;
    let base = format!("/review/{reference}");
    let page = reviewer.get(&base).await;
    let taken = reviewer.post(&format!("{base}/take"), &[("version", &version(&page))]).await;

    let page = reviewer
        .post(
            &format!("{base}/approve"),
            &[
                ("version", &version(&taken)),
                ("approve_client_id", "not-a-guid"),
                ("approve_tenant", "uwaterloo.ca"),
                ("credential_type", ""),
                ("approve_expires_on", "2001-01-01"),
                ("granted_name", "Mail.Send"),
                ("granted_type", "application"),
            ],
        )
        .await;
    assert_eq!(page.status, 422);
    let targets: Vec<String> = page.error_summary().into_iter().map(|(href, _)| href).collect();
    assert_eq!(targets, vec!["#approve_client_id", "#approve_credential_type", "#approve_expires_on"]);
    assert_eq!(page.attr("#approve_client_id", "value").as_deref(), Some("not-a-guid"));
    assert_eq!(page.attr("#approve_tenant", "value").as_deref(), Some("uwaterloo.ca"));
    assert_eq!(app.count("SELECT count(*) FROM app_registrations_created").await, 0);
}

#[sqlx::test]
async fn internal_notes_never_reach_requester(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut requester = app.signed_in("dana.lee@uwaterloo.ca", Role::Requester).await;
    let mut reviewer = app.signed_in("rev@uwaterloo.ca", Role::Reviewer).await;
    let reference = submit_request(&mut requester).await;
    let base = format!("/review/{reference}");

    let form = reviewer.get(&base).await;
    assert_eq!(form.attr("input[name=visibility][checked]", "value").as_deref(), Some("internal"));
    reviewer
        .post(&format!("{base}/notes"), &[("note_body", "Vendor is on the watch list"), ("visibility", "internal")])
        .await;
    let preview = reviewer
        .post(
            &format!("{base}/notes"),
            &[("note_body", "We are checking the vendor."), ("visibility", "reply"), ("action", "preview")],
        )
        .await;
    assert_eq!(preview.text("#reply-preview .preserve-lines"), "We are checking the vendor.");
    assert_eq!(app.count("SELECT count(*) FROM request_events WHERE kind = 'reply'").await, 0);
    reviewer
        .post(
            &format!("{base}/notes"),
            &[("note_body", "We are checking the vendor."), ("visibility", "reply"), ("action", "save")],
        )
        .await;

    let reviewer_page = reviewer.get(&base).await;
    assert!(reviewer_page.body_text().contains("Vendor is on the watch list"));
    for path in [format!("/requests/{reference}"), "/requests".to_owned(), format!("/requests/{reference}/submitted")] {
        let page = requester.get(&path).await;
        assert!(!page.body_text().contains("watch list"), "{path}");
    }
    let own = requester.get(&format!("/requests/{reference}")).await;
    assert!(own.body_text().contains("We are checking the vendor."));
}

#[sqlx::test]
async fn second_reviewer_gets_conflict_with_newer_state(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut requester = app.signed_in("dana.lee@uwaterloo.ca", Role::Requester).await;
    let mut first = app.signed_in("first@uwaterloo.ca", Role::Reviewer).await;
    let mut second = app.signed_in("second@uwaterloo.ca", Role::Reviewer).await;
    let reference = submit_request(&mut requester).await;
    let base = format!("/review/{reference}");
    let taken = first.post(&format!("{base}/take"), &[("version", "1")]).await;

    // Both reviewers have the page at the same version.
    let stale = second.get(&base).await;
    first
        .post(
            &format!("{base}/reject"),
            &[("version", &version(&taken)), ("reject_reason", "Duplicate of another request")],
        )
        .await;
    let conflict = second
        .post(&format!("{base}/reject"), &[("version", &version(&stale)), ("reject_reason", "My own reason")])
        .await;

    assert_eq!(conflict.status, 409);
    assert!(
        conflict
            .text("#banner")
            .starts_with("This request changed since you opened it, so nothing was saved. It is now rejected.")
    );
    assert_eq!(conflict.text(".panel .status"), "Rejected");
    let reason: String =
        sqlx::query_scalar("SELECT rejection_reason FROM requests").fetch_one(&app.pool).await.unwrap();
    assert_eq!(reason, "Duplicate of another request");
}

#[sqlx::test]
async fn rejection_needs_a_reason(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut requester = app.signed_in("dana.lee@uwaterloo.ca", Role::Requester).await;
    let mut reviewer = app.signed_in("rev@uwaterloo.ca", Role::Reviewer).await;
    let reference = submit_request(&mut requester).await;
    let base = format!("/review/{reference}");
    let taken = reviewer.post(&format!("{base}/take"), &[("version", "1")]).await;
    let page =
        reviewer.post(&format!("{base}/reject"), &[("version", &version(&taken)), ("reject_reason", "  ")]).await;
    assert_eq!(page.status, 422);
    assert_eq!(
        page.error_summary(),
        vec![("#reject_reason".to_owned(), "Enter the reason for rejecting the request".to_owned())]
    );
    assert_eq!(page.text(".panel .status"), "In review");
}

#[sqlx::test]
async fn requester_withdraws_and_actions_disappear(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut requester = app.signed_in("dana.lee@uwaterloo.ca", Role::Requester).await;
    let mut reviewer = app.signed_in("rev@uwaterloo.ca", Role::Reviewer).await;
    let reference = submit_request(&mut requester).await;
    let own = requester.get(&format!("/requests/{reference}")).await;
    let withdrawn = requester.post(&format!("/requests/{reference}/withdraw"), &[("version", &version(&own))]).await;
    assert!(withdrawn.text(".panel").starts_with("Withdrawn."));
    assert!(withdrawn.select_all("form[action$='/withdraw']").is_empty());

    let page = reviewer.get(&format!("/review/{reference}")).await;
    assert!(page.select_all("form[action$='/take']").is_empty());
    // The page offers no action, so post what a stale page would have sent.
    let refused = reviewer.post(&format!("/review/{reference}/take"), &[("version", "2")]).await;
    assert_eq!(refused.status, 409);
    assert_eq!(refused.text("#banner"), "A request that is withdrawn cannot be taken for review. Nothing was changed.");
}

#[sqlx::test]
async fn requester_cannot_use_reviewer_actions(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut requester = app.signed_in("dana.lee@uwaterloo.ca", Role::Requester).await;
    let reference = submit_request(&mut requester).await;
    for action in ["take", "reject", "notes", "assign", "approve", "complete", "question"] {
        let page =
            requester.post(&format!("/review/{reference}/{action}"), &[("version", "1"), ("reject_reason", "x")]).await;
        assert_eq!(page.status, 403, "{action}");
    }
    assert_eq!(app.count("SELECT count(*) FROM request_events").await, 1);
}

#[sqlx::test]
async fn other_requester_cannot_answer_or_withdraw(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut owner = app.signed_in("dana.lee@uwaterloo.ca", Role::Requester).await;
    let mut other = app.signed_in("other@uwaterloo.ca", Role::Requester).await;
    let reference = submit_request(&mut owner).await;
    let page = other.post(&format!("/requests/{reference}/withdraw"), &[("version", "1")]).await;
    assert_eq!(page.status, 404);
    let status: String = sqlx::query_scalar("SELECT status::text FROM requests").fetch_one(&app.pool).await.unwrap();
    assert_eq!(status, "submitted");
}

/// Names of the fields a form on the page posts.
fn field_names(page: &Page, action_suffix: &str) -> Vec<String> {
    let selector = format!("form[action$='{action_suffix}'] [name]");
    let mut names: Vec<String> = page
        .select_all(&selector)
        .iter()
        .filter(|element| element.value().name() != "button")
        .map(|element| element.value().attr("name").unwrap().to_owned())
        .collect();
    names.sort();
    names.dedup();
    names
}

#[sqlx::test]
async fn reviewer_forms_post_the_fields_handlers_read(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut requester = app.signed_in("dana.lee@uwaterloo.ca", Role::Requester).await;
    let mut reviewer = app.signed_in("rev@uwaterloo.ca", Role::Reviewer).await;
    let reference = submit_request(&mut requester).await;
    let base = format!("/review/{reference}");
    let page = reviewer.post(&format!("{base}/take"), &[("version", "1")]).await;

    let expected: [(&str, &[&str]); 4] = [
        ("/question", &["csrf_token", "fields", "question_text", "version"]),
        ("/reject", &["csrf_token", "reject_reason", "version"]),
        ("/notes", &["csrf_token", "note_body", "visibility"]),
        (
            "/approve",
            &[
                "approve_client_id",
                "approve_expires_on",
                "approve_tenant",
                "credential_type",
                "csrf_token",
                "granted_api",
                "granted_api_name",
                "granted_name",
                "granted_type",
                "version",
            ],
        ),
    ];
    for (form, names) in expected {
        assert_eq!(field_names(&page, form), names, "{form}");
    }

    // Posting exactly the fields of the page's reject form reaches the handler.
    let rejected = reviewer
        .post(&format!("{base}/reject"), &[("version", &version(&page)), ("reject_reason", "Typed on the page")])
        .await;
    assert_eq!(rejected.text(".panel .status"), "Rejected");
    let reason: String =
        sqlx::query_scalar("SELECT rejection_reason FROM requests").fetch_one(&app.pool).await.unwrap();
    assert_eq!(reason, "Typed on the page");
}

#[sqlx::test]
async fn granted_permissions_reject_duplicates(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut requester = app.signed_in("dana.lee@uwaterloo.ca", Role::Requester).await;
    let mut reviewer = app.signed_in("rev@uwaterloo.ca", Role::Reviewer).await;
    let reference = submit_request(&mut requester).await;
    let base = format!("/review/{reference}");
    let taken = reviewer.post(&format!("{base}/take"), &[("version", "1")]).await;
    let page = reviewer
        .post(
            &format!("{base}/approve"),
            &[
                ("version", &version(&taken)),
                ("approve_client_id", "11111111-2222-3333-4444-555555555555"),
                ("approve_tenant", "uwaterloo.ca"),
                ("credential_type", "secret"),
                ("approve_expires_on", "2099-01-01"),
                ("granted_name", "Mail.Send"),
                ("granted_type", "application"),
                ("granted_name", "Mail.Send"),
                ("granted_type", "application"),
            ],
        )
        .await;
    assert_eq!(page.status, 422);
    assert_eq!(
        page.error_summary(),
        vec![("#granted_name_1".to_owned(), "Granted permission 2 is listed twice; remove one".to_owned())]
    );
    assert_eq!(page.attr("#granted_name_1", "aria-invalid").as_deref(), Some("true"));
    assert_eq!(page.select_all("details[open] form[action$='/approve']").len(), 1);
}

#[sqlx::test]
async fn blank_reason_reopens_reject_form(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut requester = app.signed_in("dana.lee@uwaterloo.ca", Role::Requester).await;
    let mut reviewer = app.signed_in("rev@uwaterloo.ca", Role::Reviewer).await;
    let reference = submit_request(&mut requester).await;
    let base = format!("/review/{reference}");
    let taken = reviewer.post(&format!("{base}/take"), &[("version", "1")]).await;
    let page = reviewer.post(&format!("{base}/reject"), &[("version", &version(&taken)), ("reject_reason", "")]).await;
    assert_eq!(page.select_all("details[open] #reject_reason").len(), 1);
}

#[sqlx::test]
async fn internal_note_preview_explains_itself(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut requester = app.signed_in("dana.lee@uwaterloo.ca", Role::Requester).await;
    let mut reviewer = app.signed_in("rev@uwaterloo.ca", Role::Reviewer).await;
    let reference = submit_request(&mut requester).await;
    reviewer.get(&format!("/review/{reference}")).await;
    let page = reviewer
        .post(
            &format!("/review/{reference}/notes"),
            &[("note_body", "Just for us"), ("visibility", "internal"), ("action", "preview")],
        )
        .await;
    assert!(page.text("#banner").starts_with("Internal notes are never shown to the requester"));
    assert_eq!(page.text("#note_body"), "Just for us");
    assert_eq!(app.count("SELECT count(*) FROM request_events WHERE kind = 'note'").await, 0);
}
