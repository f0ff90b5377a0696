//! The main journeys through the service in a real browser, each in four
//! modes (mouse or keyboard, scripts on or off). Every page reached is checked
//! for accessibility on arrival; see `browser/checks.rs`.

use ist_intake::accounts::Role;
use serde_json::json;
use sqlx::PgPool;

use crate::browser::{Chrome, Mode, Scripts};
use crate::in_every_mode;
use crate::support::{PASSWORD, TestApp};

/// Walks the tree from its first question, choosing each answer by its id.
async fn answer_tree(tab: &crate::browser::Tab, answers: &[&str]) {
    for answer in answers {
        tab.choose(answer).await;
        tab.press_button("Continue").await;
    }
}

async fn sign_in_on_page(tab: &crate::browser::Tab, email: &str) {
    assert_eq!(tab.h1().await, "Sign in");
    tab.fill("email", email).await;
    tab.fill("password", "not the password").await;
    tab.press_button("Sign in").await;
    assert_eq!(tab.error_summary_links().await.len(), 1, "a wrong password should come back with one error");
    assert_eq!(tab.value("email").await, email, "the sign-in form lost the email address");
    tab.fill("password", PASSWORD).await;
    tab.press_button("Sign in").await;
}

const SELF_SERVICE: &[&str] = &["answer-internal", "answer-yes", "answer-yes", "answer-yes", "answer-yes"];

async fn four_outcomes(pool: PgPool, mode: Mode) {
    let app = TestApp::spawn(pool).await;
    let chrome = Chrome::start().await;
    let tab = chrome.tab(&app.address, mode).await;

    tab.open("/").await;
    tab.screenshot("start").await;
    tab.narrow_screenshot("start-320px").await;
    tab.follow("Start now").await;
    assert_eq!(tab.h1().await, "Where is the application hosted?");
    tab.screenshot("question").await;
    tab.press_button("Continue").await;
    assert_eq!(
        tab.error_summary_links().await,
        ["answer-internal"],
        "Continue with no answer should point at the answers"
    );
    tab.screenshot("question-with-error").await;
    tab.follow_from_error_summary("answer-internal").await;

    // Internally hosted, and every relay requirement met.
    answer_tree(&tab, SELF_SERVICE).await;
    assert_eq!(tab.h1().await, "You can use the campus relay without approval");
    assert_eq!(
        tab.text(".settings-table tbody").await,
        "Server smtp.uwaterloo.ca Port 587 Encryption STARTTLS Authentication Required"
    );
    tab.screenshot("self-service-instructions").await;
    let printed = tab
        .as_printed(
            "const shown = s => { const e = document.querySelector(s); return e !== null && getComputedStyle(e).display !== 'none'; }; \
             return [shown('.site-header'), shown('.site-footer'), shown('form'), shown('.settings-table'), shown('h1'), \
               shown('.print-only')];",
            "self-service-instructions-printed",
        )
        .await;
    assert_eq!(
        printed,
        json!([false, false, false, true, true, true]),
        "the printed instructions keep the content and the service's name, and drop the rest"
    );

    // Externally hosted, without vendor documentation.
    tab.press_button("Start again").await;
    answer_tree(&tab, &["answer-external", "answer-no"]).await;
    assert_eq!(tab.h1().await, "Ask the vendor for documentation first");

    // Externally hosted, with vendor documentation.
    tab.press_button("Start again").await;
    answer_tree(&tab, &["answer-external", "answer-yes"]).await;
    assert_eq!(tab.h1().await, "Request a Microsoft 365 application registration");

    // Internally hosted, with a sending address outside Microsoft 365.
    tab.press_button("Start again").await;
    answer_tree(&tab, &["answer-internal", "answer-no"]).await;
    assert_eq!(tab.h1().await, "Your case needs a review outside the standard process");
    tab.close().await;
}
in_every_mode!(four_outcomes);

async fn back_and_refresh_keep_answers(pool: PgPool, mode: Mode) {
    let app = TestApp::spawn(pool).await;
    let chrome = Chrome::start().await;
    let tab = chrome.tab(&app.address, mode).await;

    tab.open("/tree").await;
    answer_tree(&tab, &["answer-internal", "answer-yes"]).await;
    assert_eq!(tab.h1().await, "Does the application support SMTP authentication?");

    tab.back().await;
    assert_eq!(tab.h1().await, "Does the sending address exist in Microsoft 365?");
    assert!(tab.is_checked("answer-yes").await, "Back shows the address question without its answer");
    tab.back().await;
    assert_eq!(tab.h1().await, "Where is the application hosted?");
    assert!(tab.is_checked("answer-internal").await, "Back shows the hosting question without its answer");

    tab.press_button("Continue").await;
    assert!(tab.is_checked("answer-yes").await, "the address answer was lost after going back");
    tab.press_button("Continue").await;
    tab.refresh().await;
    assert_eq!(tab.h1().await, "Does the application support SMTP authentication?", "refresh left the question");
    answer_tree(&tab, &["answer-yes", "answer-yes"]).await;
    tab.refresh().await;
    answer_tree(&tab, &["answer-yes"]).await;

    assert_eq!(tab.h1().await, "You can use the campus relay without approval");
    let answers = tab.text(".summary-list").await;
    for expected in [
        "Internally hosted, on university infrastructure",
        "Yes, it is a Microsoft 365 user or shared mailbox",
        "Yes, or it will be granted Send As before the application goes live",
    ] {
        assert!(answers.contains(expected), "the outcome lost the answer {expected:?}: {answers}");
    }
    tab.close().await;
}
in_every_mode!(back_and_refresh_keep_answers);

async fn app_registration_after_a_fix(pool: PgPool, mode: Mode) {
    let app = TestApp::spawn(pool).await;
    app.add_user("dana.lee@uwaterloo.ca", "Dana Lee", Role::Requester).await;
    let chrome = Chrome::start().await;
    let tab = chrome.tab(&app.address, mode).await;

    tab.open("/").await;
    tab.follow("Start now").await;
    answer_tree(&tab, &["answer-external", "answer-yes"]).await;
    tab.follow("Start the request").await;
    sign_in_on_page(&tab, "dana.lee@uwaterloo.ca").await;
    assert_eq!(tab.h1().await, "Request a Microsoft 365 application registration");

    tab.fill("application_name", "Acme Room Booking").await;
    tab.fill("vendor", "Acme Software Inc.").await;
    tab.fill("business_purpose", "Sends booking confirmations to students who reserve study rooms.").await;
    // Not a university address: the form must come back with this field marked.
    tab.fill("sending_address", "bookings@gmail.com").await;
    tab.fill("vendor_link_0", "https://acme.example/docs/m365").await;
    tab.press_button("Add another link").await;
    assert_eq!(tab.focused_id().await, "vendor_link_1", "focus did not move to the new link");
    tab.fill("vendor_link_1", "https://acme.example/docs/permissions").await;

    let folder = tempfile::tempdir().unwrap();
    // A long name with no spaces must wrap on a narrow screen.
    let guide_name = "Vendor_Integration_Guide_for_Microsoft365_Graph_API_Mail_Send_Permissions_v2.pdf".to_owned();
    let guide = folder.path().join(&guide_name);
    std::fs::write(&guide, crate::files::pdf()).unwrap();
    tab.attach_file("document_file", &guide).await;
    tab.press_button("Upload files").await;
    assert_eq!(tab.focused_id().await, "documents-status", "focus did not move to the upload's result");
    assert_eq!(tab.text("#documents-status").await, format!("Uploaded {guide_name}."));

    if mode.scripts == Scripts::On {
        pick_permission_from_the_list(&tab).await;
    } else {
        tab.fill("scope_name_0", "Mail.Send").await;
    }
    tab.select("scope_type_0", "Application").await;
    tab.fill("scope_justification_0", "Sends confirmations with no one signed in").await;
    tab.press_button("Add another permission").await;
    assert_eq!(tab.focused_id().await, "scope_api_1", "focus did not move to the new permission");
    // A misspelt name, long and without spaces: the form repeats it in the
    // error and offers to keep it as typed, and it must wrap there.
    tab.fill("scope_name_1", "User.ReedBasicProfileOfEverySignedInPersonInTheWholeOrganisation").await;
    tab.select("scope_type_1", "Delegated").await;
    tab.fill("department", "Student Success Office").await;
    tab.press_button("Continue").await;

    assert_eq!(
        tab.error_summary_links().await,
        ["sending_address", "scope_name_1"],
        "the error summary should list the address, then the misspelt permission"
    );
    assert_eq!(tab.value("application_name").await, "Acme Room Booking", "the form lost the application name");
    assert_eq!(tab.value("scope_name_0").await, "Mail.Send", "the form lost the permission");
    assert!(tab.text(".document-list").await.contains(&guide_name), "the form lost the uploaded document");
    tab.screenshot("request-form-with-errors").await;
    tab.narrow_screenshot("request-form-with-errors-320px").await;

    // The error summary's links take the user to each field.
    tab.follow_from_error_summary("sending_address").await;
    tab.fill("sending_address", "room-bookings@uwaterloo.ca").await;
    tab.follow_from_error_summary("scope_name_1").await;
    tab.fill("scope_name_1", "User.Read").await;
    tab.press_button("Continue").await;
    assert_eq!(tab.h1().await, "Check your answers before sending your request");
    tab.screenshot("check-your-answers").await;
    tab.press_button("Send request").await;
    assert_eq!(tab.h1().await, "Request sent");
    assert!(tab.text("main").await.contains("usually within 3 business days"), "the confirmation misstates the target");
    let reference = tab.text(".reference").await;
    tab.screenshot("confirmation").await;

    let stored: (String, String, String) = sqlx::query_as(
        "SELECT r.status::text, r.sending_address, s.name FROM requests r \
         JOIN request_scopes s ON s.request_id = r.id AND s.position = 0 WHERE r.reference = $1",
    )
    .bind(&reference)
    .fetch_one(&app.pool)
    .await
    .expect("the confirmed reference is stored");
    assert_eq!(stored, ("submitted".to_owned(), "room-bookings@uwaterloo.ca".to_owned(), "Mail.Send".to_owned()));
    let documents: Vec<String> = sqlx::query_scalar(
        "SELECT d.file_name FROM documents d JOIN requests r ON r.id = d.request_id WHERE r.reference = $1",
    )
    .bind(&reference)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(documents, [guide_name], "the uploaded document did not reach the request");
    tab.close().await;
}
in_every_mode!(app_registration_after_a_fix);

/// Types part of a name, picks Mail.Send from the suggestions the script
/// shows, and checks that the script shows its note once the type is known.
async fn pick_permission_from_the_list(tab: &crate::browser::Tab) {
    tab.fill("scope_name_0", "mail.sen").await;
    tab.pick_suggestion("scope_name_0", "Mail.Send", "application").await;
    tab.check_accessibility().await;
    assert_eq!(tab.value("scope_name_0").await, "Mail.Send", "the picker did not fill in the name");
    assert_eq!(tab.value("scope_type_0").await, "application", "the picker did not fill in the type");
    tab.wait_for(
        "return document.getElementById('scope_name_0-notes').innerText.trim();",
        "the picker's note on an application Mail.Send",
    )
    .await;
}

async fn question_answer_approval(pool: PgPool, mode: Mode) {
    let app = TestApp::spawn(pool).await;
    let requester = app.add_user("dana.lee@uwaterloo.ca", "Dana Lee", Role::Requester).await;
    app.add_user("riley.ist@uwaterloo.ca", "Riley Chen", Role::Reviewer).await;
    let (_, reference) = crate::workflow::stored_app_registration(&app, &requester).await;
    let chrome = Chrome::start().await;

    let reviewer = chrome.tab(&app.address, mode).await;
    reviewer.open("/review").await;
    sign_in_on_page(&reviewer, "riley.ist@uwaterloo.ca").await;
    assert_eq!(reviewer.h1().await, "Review queue");
    reviewer.screenshot("review-queue").await;
    reviewer.follow(&reference).await;
    reviewer.press_button("Take for review").await;
    reviewer.open_details("Ask the requester a question").await;
    reviewer.fill("question_text", "Which mailbox will send the confirmations?").await;
    reviewer.choose("question_field_sending_address").await;
    reviewer.press_button("Send the question").await;
    let status: String = sqlx::query_scalar("SELECT status::text FROM requests WHERE reference = $1")
        .bind(&reference)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(status, "needs_info", "the question did not reach the request");

    let requester_tab = chrome.tab(&app.address, mode).await;
    requester_tab.open("/requests").await;
    sign_in_on_page(&requester_tab, "dana.lee@uwaterloo.ca").await;
    requester_tab.follow(&reference).await;
    assert_eq!(requester_tab.text(".question").await, "Which mailbox will send the confirmations?");
    requester_tab.fill("sending_address", "room-bookings@uwaterloo.ca").await;
    requester_tab.fill("answer_message", "We made a shared mailbox for it.").await;
    requester_tab.press_button("Send your answer").await;
    requester_tab.close().await;

    reviewer.open(&format!("/review/{reference}")).await;
    reviewer.screenshot("request-detail").await;
    reviewer.fill("note_body", "Thanks, the shared mailbox is fine.").await;
    reviewer.choose("note_visibility_reply").await;
    reviewer.press_button("Preview the reply").await;
    assert_eq!(reviewer.focused_id().await, "reply-preview", "focus did not move to the preview");
    reviewer.press_button("Save").await;
    reviewer.open_details("Approve").await;
    reviewer.fill("approve_client_id", "0b5e7c2a-4d1f-4e8b-9a3c-2f6d8e1b7a90").await;
    reviewer.fill("approve_tenant", "uwaterloo.ca").await;
    reviewer.select("approve_credential_type", "Certificate").await;
    reviewer.fill("approve_expires_on", "2030-06-30").await;
    reviewer.press_button("Approve").await;

    let stored: (String, String) =
        sqlx::query_as("SELECT status::text, sending_address FROM requests WHERE reference = $1")
            .bind(&reference)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(stored, ("approved".to_owned(), "room-bookings@uwaterloo.ca".to_owned()));
    reviewer.close().await;
}
in_every_mode!(question_answer_approval);

/// The checker itself: a page with an unlabelled field and grey-on-white
/// text must fail, or the journeys above prove nothing.
#[sqlx::test]
async fn axe_check_catches_broken_page(_pool: PgPool) {
    let chrome = Chrome::start().await;
    let tab = chrome.tab("http://127.0.0.1", Mode { input: crate::browser::Input::Mouse, scripts: Scripts::On }).await;
    tab.client()
        .goto(
            "data:text/html,<!DOCTYPE html><html lang=en><head><title>Broken</title></head><body><main>\
             <h1>Broken</h1><p style='color:%23bbb'>Pale text</p><form><input type=text name=q></form></main></body></html>",
        )
        .await
        .unwrap();
    let rules: Vec<String> = crate::browser::checks::axe(&tab).await.into_iter().map(|v| v.rule).collect();
    assert!(rules.contains(&"label".to_owned()), "a field with no label passed: {rules:?}");
    assert!(rules.contains(&"color-contrast".to_owned()), "pale text passed: {rules:?}");
    tab.close().await;
}

/// A stray brace makes the browser drop the rule after it without a word,
/// and the design must not fetch anything from another site.
#[test]
fn stylesheet_balanced_and_self_contained() {
    let css = include_str!("../../static/app.css");
    let mut code = String::new();
    let mut rest = css;
    while let Some(start) = rest.find("/*") {
        code.push_str(&rest[..start]);
        let end = rest[start..].find("*/").expect("an unclosed comment in app.css");
        rest = &rest[start + end + 2..];
    }
    code.push_str(rest);
    let mut depth = 0i32;
    for (number, line) in code.lines().enumerate() {
        for c in line.chars() {
            depth += match c {
                '{' => 1,
                '}' => -1,
                _ => 0,
            };
            assert!(depth >= 0, "app.css closes a block that is not open, near line {}", number + 1);
        }
    }
    assert_eq!(depth, 0, "app.css leaves a block open");
    for external in ["@import", "url(", "http://", "https://"] {
        assert!(!code.contains(external), "app.css loads something from elsewhere: {external}");
    }
}

async fn exception_request_after_a_fix(pool: PgPool, mode: Mode) {
    let app = TestApp::spawn(pool).await;
    app.add_user("sam.roy@uwaterloo.ca", "Sam Roy", Role::Requester).await;
    let chrome = Chrome::start().await;
    let tab = chrome.tab(&app.address, mode).await;

    tab.open("/tree").await;
    answer_tree(&tab, &["answer-internal", "answer-yes", "answer-no"]).await;
    assert_eq!(tab.h1().await, "Your case needs a review outside the standard process");
    tab.follow("Start the request").await;
    sign_in_on_page(&tab, "sam.roy@uwaterloo.ca").await;
    assert_eq!(tab.h1().await, "Request a review outside the standard process");
    assert!(
        !tab.value("unmet_requirements").await.is_empty(),
        "the unmet requirement was not filled in from the answers"
    );

    tab.fill("application_name", "Lab Spectrometer").await;
    tab.fill("hosting_location", "Campus server in the chemistry building").await;
    tab.fill("authentication_method", "None: it can only send on port 25").await;
    tab.fill("sending_pattern", "One message per finished run, to the lab's staff").await;
    tab.fill("expected_volume", "About 20 a week").await;
    tab.fill("department", "Chemistry").await;

    let folder = tempfile::tempdir().unwrap();
    let manual = folder.path().join("spectrometer-manual.pdf");
    std::fs::write(&manual, crate::files::pdf()).unwrap();
    let manual_name = "spectrometer-manual.pdf";
    tab.attach_file("document_file", &manual).await;
    tab.press_button("Upload files").await;
    tab.press_button(&format!("Remove {manual_name}")).await;
    assert_eq!(tab.focused_id().await, "documents-status", "focus did not move to the removal's result");
    assert_eq!(tab.text("#documents-status").await, format!("Removed {manual_name}."));

    tab.press_button("Continue").await;
    assert_eq!(tab.error_summary_links().await, ["application_details"], "only the missing details should be named");
    assert_eq!(tab.value("hosting_location").await, "Campus server in the chemistry building");

    tab.follow_from_error_summary("application_details").await;
    tab.fill("application_details", "Sends a message when a long measurement run finishes.").await;
    tab.press_button("Continue").await;
    assert_eq!(tab.h1().await, "Check your answers before sending your request");
    tab.press_button("Send request").await;
    assert_eq!(tab.h1().await, "Request sent");
    let reference = tab.text(".reference").await;

    let stored: (String, String) =
        sqlx::query_as("SELECT kind::text, application_details FROM requests WHERE reference = $1")
            .bind(&reference)
            .fetch_one(&app.pool)
            .await
            .expect("the confirmed reference is stored");
    assert_eq!(
        stored,
        ("exception_review".to_owned(), "Sends a message when a long measurement run finishes.".to_owned())
    );

    // The requester's own pages.
    tab.follow("see all your requests").await;
    assert_eq!(tab.h1().await, "My requests");
    tab.follow("Your account").await;
    tab.choose("notifications_decisions_only").await;
    tab.press_button("Save").await;
    let preference: String =
        sqlx::query_scalar("SELECT notification_preference::text FROM users WHERE email = 'sam.roy@uwaterloo.ca'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(preference, "decisions_only");
    tab.close().await;
}
in_every_mode!(exception_request_after_a_fix);

/// Walks the reviewer's pages and the permission search, which the journeys
/// above do not reach.
async fn other_pages(pool: PgPool, mode: Mode) {
    let app = TestApp::spawn(pool).await;
    app.add_user("riley.ist@uwaterloo.ca", "Riley Chen", Role::Reviewer).await;
    // Long values that have no place to break must not widen the pages.
    let requester =
        app.add_user("research.computing.notifications@uwaterloo.ca", "Research Computing", Role::Requester).await;
    let (_, reference) = crate::workflow::stored_app_registration(&app, &requester).await;
    sqlx::query("UPDATE requests SET application_name = $1 WHERE reference = $2")
        .bind("Acme".repeat(40))
        .bind(&reference)
        .execute(&app.pool)
        .await
        .unwrap();
    let chrome = Chrome::start().await;
    let tab = chrome.tab(&app.address, mode).await;

    tab.open("/permissions").await;
    tab.fill("q", "send mail").await;
    tab.press_button("Search").await;
    assert!(tab.text("main").await.contains("Mail.Send"), "searching for send mail did not find Mail.Send");

    tab.open("/review/outbox").await;
    sign_in_on_page(&tab, "riley.ist@uwaterloo.ca").await;
    assert_eq!(tab.h1().await, "Notifications that could not be sent");
    tab.follow("Review queue").await;
    assert!(tab.text("table").await.contains(&reference), "the queue does not list the request");
    tab.follow(&reference).await;
    tab.follow("Review queue").await;
    tab.fill("filter-q", "nothing matches this").await;
    tab.press_button("Apply filters").await;
    assert_eq!(tab.h1().await, "Review queue");
    tab.close().await;

    let requester_tab = chrome.tab(&app.address, mode).await;
    requester_tab.open("/requests").await;
    sign_in_on_page(&requester_tab, "research.computing.notifications@uwaterloo.ca").await;
    assert_eq!(requester_tab.h1().await, "My requests");
    requester_tab.follow(&reference).await;
    requester_tab.close().await;
}
in_every_mode!(other_pages);
