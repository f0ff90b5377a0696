//! Submitting requests: what is stored, the confirmation, replays and the queue.

use ist_intake::accounts::Role;
use ist_intake::requests::StoredAnswer;
use sqlx::PgPool;
use sqlx::types::Json;

use crate::support::{
    PASSWORD, TO_EXCEPTION, TestApp, fill_app_registration, submission_key, valid_app_registration, valid_exception,
};

#[derive(sqlx::FromRow, Debug)]
struct StoredRequest {
    id: i64,
    reference: String,
    kind: String,
    status: String,
    requester_name: String,
    requester_email: String,
    department: String,
    application_name: String,
    vendor: Option<String>,
    business_purpose: Option<String>,
    sending_address: Option<String>,
    application_details: Option<String>,
    hosting_location: Option<String>,
    authentication_method: Option<String>,
    sending_pattern: Option<String>,
    expected_volume: Option<String>,
    unmet_requirements: Vec<String>,
    tree_answers: Json<Vec<StoredAnswer>>,
    policy_version: String,
}

async fn only_request(app: &TestApp) -> StoredRequest {
    sqlx::query_as(
        "SELECT id, reference, kind::text, status::text, requester_name, requester_email, department,
                application_name, vendor, business_purpose, sending_address, application_details,
                hosting_location, authentication_method, sending_pattern, expected_volume,
                unmet_requirements, tree_answers, policy_version
         FROM requests",
    )
    .fetch_one(&app.pool)
    .await
    .expect("exactly one request")
}

#[sqlx::test]
async fn app_registration_is_stored_with_every_field(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = app.signed_in("dana.lee@uwaterloo.ca", Role::Requester).await;
    let check = fill_app_registration(&mut browser, &valid_app_registration()).await;
    assert_eq!(check.path, "/requests/new/app-registration/check");
    assert_eq!(check.h1(), "Check your answers before sending your request");

    let confirmation =
        browser.post("/requests/new/app-registration/submit", &[("submission_key", &submission_key(&check))]).await;
    let stored = only_request(&app).await;

    assert_eq!(stored.kind, "app_registration");
    assert_eq!(stored.status, "submitted");
    assert_eq!(stored.application_name, "Acme Room Booking");
    assert_eq!(stored.vendor.as_deref(), Some("Acme Software Inc."));
    assert_eq!(
        stored.business_purpose.as_deref(),
        Some("Sends booking confirmations to students who reserve study rooms.")
    );
    assert_eq!(stored.sending_address.as_deref(), Some("Room-Bookings@UWaterloo.ca"));
    assert_eq!(stored.requester_name, "Dana Lee");
    assert_eq!(stored.requester_email, "dana.lee@uwaterloo.ca");
    assert_eq!(stored.department, "Student Success Office");
    assert_eq!(stored.policy_version, "2026-12-04.1");
    let answers: Vec<(String, String)> =
        stored.tree_answers.0.iter().map(|answer| (answer.question.clone(), answer.answer.clone())).collect();
    assert_eq!(
        answers,
        vec![("hosting".to_owned(), "external".to_owned()), ("vendor_documentation".to_owned(), "yes".to_owned())]
    );

    let links: Vec<String> =
        sqlx::query_scalar("SELECT url FROM request_vendor_links WHERE request_id = $1 ORDER BY position")
            .bind(stored.id)
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(links, vec!["https://acme.example/docs/m365", "https://acme.example/docs/permissions"]);
    let scopes: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, permission_type::text FROM request_scopes WHERE request_id = $1 ORDER BY position",
    )
    .bind(stored.id)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        scopes,
        vec![("Mail.Send".to_owned(), "application".to_owned()), ("User.Read".to_owned(), "delegated".to_owned())]
    );
    let events: Vec<(Option<String>, String)> =
        sqlx::query_as("SELECT from_status::text, to_status::text FROM request_events WHERE request_id = $1")
            .bind(stored.id)
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(events, vec![(None, "submitted".to_owned())]);

    assert_eq!(confirmation.path, format!("/requests/{}/submitted", stored.reference));
    assert_eq!(confirmation.text(".reference"), stored.reference);
}

#[sqlx::test]
async fn references_count_per_kind_and_year(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = app.signed_in("dana.lee@uwaterloo.ca", Role::Requester).await;
    let mut references = Vec::new();
    for _ in 0..2 {
        let check = fill_app_registration(&mut browser, &valid_app_registration()).await;
        let page =
            browser.post("/requests/new/app-registration/submit", &[("submission_key", &submission_key(&check))]).await;
        references.push(page.text(".reference"));
    }
    browser.answer_all(TO_EXCEPTION).await;
    let check = browser.post("/requests/new/exception", &valid_exception()).await;
    let page = browser.post("/requests/new/exception/submit", &[("submission_key", &submission_key(&check))]).await;
    references.push(page.text(".reference"));

    let year = chrono::Utc::now().with_timezone(&chrono_tz::America::Toronto).format("%Y").to_string();
    assert_eq!(
        references,
        vec![format!("IST-AR-{year}-000001"), format!("IST-AR-{year}-000002"), format!("IST-EX-{year}-000001")]
    );
}

#[sqlx::test]
async fn app_registration_appears_in_review_queue(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut requester = app.signed_in("dana.lee@uwaterloo.ca", Role::Requester).await;
    let check = fill_app_registration(&mut requester, &valid_app_registration()).await;
    requester.post("/requests/new/app-registration/submit", &[("submission_key", &submission_key(&check))]).await;
    let stored = only_request(&app).await;

    let mut reviewer = app.signed_in("reviewer@uwaterloo.ca", Role::Reviewer).await;
    let queue = reviewer.get("/review").await;
    assert_eq!(queue.h1(), "Review queue");
    let cells = queue.texts("table.queue tbody tr:first-child td");
    assert_eq!(cells[1], stored.reference);
    assert_eq!(cells[2], "App registration");
    assert_eq!(cells[3], "Acme Room Booking");
    assert!(cells[4].starts_with("Dana Lee"), "{}", cells[4]);
    assert!(cells[4].ends_with("dana.lee@uwaterloo.ca"), "{}", cells[4]);
    assert_eq!(cells[5], "Submitted");
    assert!(cells[7].starts_with("just now"), "{}", cells[7]);

    let detail = reviewer.get(&format!("/review/{}", stored.reference)).await;
    let text = detail.body_text();
    for expected in [
        "Acme Software Inc.",
        "Sends booking confirmations to students who reserve study rooms.",
        "Room-Bookings@UWaterloo.ca",
        "https://acme.example/docs/permissions",
        "Mail.Send (Application, Microsoft Graph)",
        "User.Read (Delegated, Microsoft Graph)",
        "Student Success Office",
        "Where is the application hosted? Externally hosted, by a vendor or a cloud provider",
        "Test Person: Submitted the request",
    ] {
        assert!(text.contains(expected), "detail page lacks {expected:?}");
    }
}

#[sqlx::test]
async fn queue_lists_newest_first(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut requester = app.signed_in("dana.lee@uwaterloo.ca", Role::Requester).await;
    for name in ["First App", "Second App"] {
        let mut fields = valid_app_registration();
        fields[0] = ("application_name", name);
        let check = fill_app_registration(&mut requester, &fields).await;
        requester.post("/requests/new/app-registration/submit", &[("submission_key", &submission_key(&check))]).await;
    }
    let mut reviewer = app.signed_in("reviewer@uwaterloo.ca", Role::Admin).await;
    let queue = reviewer.get("/review").await;
    let names = queue.texts("table.queue tbody td:nth-child(4)");
    assert_eq!(names, vec!["Second App", "First App"]);
}

#[sqlx::test]
async fn replayed_submit_creates_one_request(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = app.signed_in("dana.lee@uwaterloo.ca", Role::Requester).await;
    let check = fill_app_registration(&mut browser, &valid_app_registration()).await;
    let key = submission_key(&check);

    let first = browser.post("/requests/new/app-registration/submit", &[("submission_key", &key)]).await;
    let second = browser.post("/requests/new/app-registration/submit", &[("submission_key", &key)]).await;

    assert_eq!(app.count("SELECT count(*) FROM requests").await, 1);
    assert_eq!(first.path, second.path);
    assert_eq!(second.h1(), "Request sent");
}

#[sqlx::test]
async fn double_click_submit_creates_one_request(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = app.signed_in("dana.lee@uwaterloo.ca", Role::Requester).await;
    let check = fill_app_registration(&mut browser, &valid_app_registration()).await;
    let key = submission_key(&check);
    let mut second_tab = browser.clone_session();

    let fields = [("submission_key", key.as_str())];
    let (first, second) = tokio::join!(
        browser.post("/requests/new/app-registration/submit", &fields),
        second_tab.post("/requests/new/app-registration/submit", &fields),
    );

    assert_eq!(app.count("SELECT count(*) FROM requests").await, 1);
    assert_eq!(first.path, second.path);
    assert_eq!(app.count("SELECT last_number::bigint FROM request_reference_counters").await, 1);
}

#[sqlx::test]
async fn exception_is_stored_with_unmet_requirements(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = app.signed_in("sam.roy@uwaterloo.ca", Role::Requester).await;
    browser.answer_all(TO_EXCEPTION).await;
    let form = browser.get("/requests/new/exception").await;
    let prefilled = form.text("#unmet_requirements");
    let mut fields = valid_exception();
    fields.retain(|(name, _)| *name != "unmet_requirements");
    fields.push(("unmet_requirements", prefilled.as_str()));
    let check = browser.post("/requests/new/exception", &fields).await;
    assert_eq!(check.path, "/requests/new/exception/check");
    let confirmation =
        browser.post("/requests/new/exception/submit", &[("submission_key", &submission_key(&check))]).await;

    let stored = only_request(&app).await;
    assert_eq!(stored.kind, "exception_review");
    assert!(stored.reference.starts_with("IST-EX-"), "{}", stored.reference);
    assert_eq!(stored.application_details.as_deref(), Some("Sends a message when a long measurement run finishes."));
    assert_eq!(stored.hosting_location.as_deref(), Some("Campus server in the chemistry building"));
    assert_eq!(stored.authentication_method.as_deref(), Some("None: it can only send unauthenticated SMTP on port 25"));
    assert_eq!(stored.sending_pattern.as_deref(), Some("One message per finished run, to the lab's staff"));
    assert_eq!(stored.expected_volume.as_deref(), Some("About 20 a week"));
    assert_eq!(stored.sending_address, None);
    assert_eq!(
        stored.unmet_requirements,
        vec!["Sending address: the From address is not a Microsoft 365 user or shared mailbox.".to_owned()]
    );
    assert_eq!(confirmation.h1(), "Request sent");
}

#[sqlx::test]
async fn check_page_change_link_returns_to_filled_form(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = app.signed_in("dana.lee@uwaterloo.ca", Role::Requester).await;
    let check = fill_app_registration(&mut browser, &valid_app_registration()).await;
    let change = check.attr("a[href$='#vendor']", "href").unwrap();
    assert_eq!(change, "/requests/new/app-registration#vendor");

    let form = browser.get("/requests/new/app-registration").await;
    assert_eq!(form.attr("#vendor", "value").as_deref(), Some("Acme Software Inc."));
    assert_eq!(form.attr("#vendor_link_1", "value").as_deref(), Some("https://acme.example/docs/permissions"));
    assert_eq!(form.attr("#scope_type_0 option[selected]", "value").as_deref(), Some("application"));
}

#[sqlx::test]
async fn stale_check_page_does_not_submit_old_draft(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = app.signed_in("dana.lee@uwaterloo.ca", Role::Requester).await;
    let old_check = fill_app_registration(&mut browser, &valid_app_registration()).await;
    let mut fields = valid_app_registration();
    fields[0] = ("application_name", "Renamed App");
    let new_check = browser.post("/requests/new/app-registration", &fields).await;
    assert_ne!(submission_key(&old_check), submission_key(&new_check));

    let page =
        browser.post("/requests/new/app-registration/submit", &[("submission_key", &submission_key(&old_check))]).await;
    assert_eq!(page.path, "/requests/new/app-registration/check");
    assert_eq!(app.count("SELECT count(*) FROM requests").await, 0);
}

#[sqlx::test]
async fn my_requests_lists_own_requests(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = app.signed_in("dana.lee@uwaterloo.ca", Role::Requester).await;
    let check = fill_app_registration(&mut browser, &valid_app_registration()).await;
    browser.post("/requests/new/app-registration/submit", &[("submission_key", &submission_key(&check))]).await;
    let stored = only_request(&app).await;

    let list = browser.get("/requests").await;
    let cells = list.texts("table tbody tr td");
    assert_eq!(cells[0], stored.reference);
    assert_eq!(cells[1], "Acme Room Booking");
    assert_eq!(cells[3], "Submitted");

    let detail = browser.get(&format!("/requests/{}", stored.reference)).await;
    assert_eq!(detail.status, 200);
    assert!(detail.body_text().contains("IST will pick up your request and review it."));
    let _ = PASSWORD;
}

#[sqlx::test]
async fn changed_answers_refill_exception_draft(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = app.signed_in("sam.roy@uwaterloo.ca", Role::Requester).await;
    browser.answer_all(&[("hosting", "internal"), ("from_address", "yes"), ("smtp_authentication", "no")]).await;
    let form = browser.get("/requests/new/exception").await;
    let with_own_line = format!("{}\nMy own extra note", form.text("#unmet_requirements"));
    let mut fields = valid_exception();
    fields.retain(|(name, _)| *name != "unmet_requirements");
    fields.push(("unmet_requirements", with_own_line.as_str()));
    let old_check = browser.post("/requests/new/exception", &fields).await;
    assert_eq!(old_check.path, "/requests/new/exception/check");

    browser.post("/tree/from_address", &[("answer", "no"), ("change", "1")]).await;
    let check = browser.get("/requests/new/exception/check").await;
    assert_eq!(check.path, "/requests/new/exception");
    assert!(check.text(".notice").starts_with("Your answers to the questions changed"));
    assert_eq!(
        check.text("#unmet_requirements"),
        "Sending address: the From address is not a Microsoft 365 user or shared mailbox. My own extra note"
    );
    assert_eq!(check.attr("#application_name", "value").as_deref(), Some("Lab Spectrometer"));

    let stale =
        browser.post("/requests/new/exception/submit", &[("submission_key", &submission_key(&old_check))]).await;
    assert_eq!(stale.path, "/requests/new/exception");
    assert_eq!(app.count("SELECT count(*) FROM requests").await, 0);
}

#[sqlx::test]
async fn tree_change_from_check_page_returns_there(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = app.signed_in("dana.lee@uwaterloo.ca", Role::Requester).await;
    let check = fill_app_registration(&mut browser, &valid_app_registration()).await;
    let change = check.attr("a[href^='/tree/vendor_documentation']", "href").unwrap();
    assert_eq!(change, "/tree/vendor_documentation?change=1&return=app-registration-check");

    let question = browser.get(&change).await;
    assert_eq!(question.attr("a.back-link", "href").as_deref(), Some("/requests/new/app-registration/check"));
    let back = browser
        .post("/tree/vendor_documentation", &[("answer", "yes"), ("change", "1"), ("return", "app-registration-check")])
        .await;
    assert_eq!(back.path, "/requests/new/app-registration/check");
}

#[sqlx::test]
async fn review_page_names_submitting_account(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = app.signed_in("req@uwaterloo.ca", Role::Requester).await;
    let mut fields = valid_app_registration();
    fields.retain(|(name, _)| !["requester_name", "requester_email"].contains(name));
    fields.push(("requester_name", "Someone Else"));
    fields.push(("requester_email", "someone.else@uwaterloo.ca"));
    let check = fill_app_registration(&mut browser, &fields).await;
    let page =
        browser.post("/requests/new/app-registration/submit", &[("submission_key", &submission_key(&check))]).await;
    let reference = page.text(".reference");

    let mut reviewer = app.signed_in("rev@uwaterloo.ca", Role::Reviewer).await;
    let detail = reviewer.get(&format!("/review/{reference}")).await;
    assert!(
        detail.body_text().contains("Submitted by account Test Person <req@uwaterloo.ca>"),
        "{}",
        detail.body_text()
    );
    let queue = reviewer.get("/review").await;
    assert!(queue.text("table.queue tbody tr td:nth-child(5)").contains("Account: req@uwaterloo.ca"));
}
