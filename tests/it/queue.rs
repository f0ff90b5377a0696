//! The review queue: filters, search, pagination, counts, targets, assignment and export.

use std::collections::HashSet;

use ist_intake::accounts::{Role, User};
use ist_intake::requests::repo::{self, SubmitContext};
use ist_intake::requests::{AppRegistrationDetails, NewRequest, PermissionType, RequesterDetails, Scope};
use sqlx::PgPool;
use uuid::Uuid;

use crate::support::{Browser, TestApp};

/// Stores an app registration directly and returns its reference.
async fn insert(pool: &PgPool, requester: &User, application: &str, vendor: &str) -> String {
    let details = AppRegistrationDetails {
        application_name: application.to_owned(),
        vendor: vendor.to_owned(),
        business_purpose: "Notifications".to_owned(),
        sending_address: "notices@uwaterloo.ca".to_owned(),
        vendor_links: vec!["https://vendor.example/docs".to_owned()],
        documents: Vec::new(),
        scopes: vec![Scope::graph("Mail.Send", PermissionType::Delegated)],
        requester: RequesterDetails {
            name: requester.display_name.clone(),
            email: requester.email.clone(),
            department: "Café Services".to_owned(),
        },
    };
    let mut tx = pool.begin().await.unwrap();
    let context = SubmitContext {
        requester: requester.id,
        answers: &[],
        policy_version: "test",
        submission_key: Uuid::new_v4(),
        year: 2026,
    };
    let submission = repo::insert_request(&mut tx, &NewRequest::AppRegistration(details), context).await.unwrap();
    tx.commit().await.unwrap();
    submission.reference
}

async fn references_on(browser: &mut Browser, path: &str) -> Vec<String> {
    browser.get(path).await.texts("table.queue tbody td:nth-child(2)")
}

async fn set_status(pool: &PgPool, reference: &str, status: &str) {
    sqlx::query("UPDATE requests SET status = $2::request_status WHERE reference = $1")
        .bind(reference)
        .bind(status)
        .execute(pool)
        .await
        .unwrap();
}

#[sqlx::test]
async fn default_view_shows_only_open_requests(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let requester = app.add_user("req@uwaterloo.ca", "Rae Quest", Role::Requester).await;
    let open = insert(&app.pool, &requester, "Open App", "Acme").await;
    let closed = insert(&app.pool, &requester, "Closed App", "Acme").await;
    set_status(&app.pool, &closed, "withdrawn").await;
    let mut reviewer = app.signed_in("rev@uwaterloo.ca", Role::Reviewer).await;

    assert_eq!(references_on(&mut reviewer, "/review").await, vec![open.clone()]);
    assert_eq!(references_on(&mut reviewer, "/review?status=withdrawn").await, vec![closed.clone()]);
    assert_eq!(references_on(&mut reviewer, "/review?status=all").await, vec![closed, open]);

    let page = reviewer.get("/review").await;
    let counts = page.texts(".status-counts a");
    assert!(counts.contains(&"Open 1".to_owned()), "{counts:?}");
    assert!(counts.contains(&"Withdrawn 1".to_owned()), "{counts:?}");
    assert!(counts.contains(&"All 2".to_owned()), "{counts:?}");
}

#[sqlx::test]
async fn search_matches_parts_of_fields(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let requester = app.add_user("kim.park@uwaterloo.ca", "Kim Park", Role::Requester).await;
    let booking = insert(&app.pool, &requester, "Room Booking", "Acme").await;
    let survey = insert(&app.pool, &requester, "Survey 100% Tool", "Qualtrix").await;
    let mut reviewer = app.signed_in("rev@uwaterloo.ca", Role::Reviewer).await;

    let cases: Vec<(&str, Vec<String>)> = vec![
        ("booking", vec![booking.clone()]),
        ("QUALTR", vec![survey.clone()]),
        (&booking[booking.len() - 4..], vec![booking.clone()]),
        ("kim.park@", vec![survey.clone(), booking.clone()]),
        ("100%", vec![survey.clone()]),
        ("%", vec![survey.clone()]),
        ("nothing like this", vec![]),
    ];
    for (text, expected) in cases {
        let query: String = url::form_urlencoded::byte_serialize(text.as_bytes()).collect();
        let found = references_on(&mut reviewer, &format!("/review?q={query}")).await;
        assert_eq!(found, expected, "search {text:?}");
    }
}

#[sqlx::test]
async fn filters_by_kind_and_assignee(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let requester = app.add_user("req@uwaterloo.ca", "Rae Quest", Role::Requester).await;
    let mine = insert(&app.pool, &requester, "Mine", "Acme").await;
    let free = insert(&app.pool, &requester, "Free", "Acme").await;
    let mut reviewer = app.signed_in("rev@uwaterloo.ca", Role::Reviewer).await;
    reviewer.get("/review").await;
    reviewer.post("/review/assign", &[("assign_one", &mine), ("return_to", "/review")]).await;

    assert_eq!(references_on(&mut reviewer, "/review?assignee=me").await, vec![mine.clone()]);
    assert_eq!(references_on(&mut reviewer, "/review?assignee=unassigned").await, vec![free.clone()]);
    assert_eq!(references_on(&mut reviewer, "/review?kind=exception_review").await, Vec::<String>::new());
    assert_eq!(references_on(&mut reviewer, "/review?kind=app_registration").await, vec![free, mine]);
}

#[sqlx::test]
async fn filter_state_lives_in_links(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut reviewer = app.signed_in("rev@uwaterloo.ca", Role::Reviewer).await;
    let page = reviewer.get("/review?kind=app_registration&assignee=me&q=acme&sort=oldest").await;
    assert_eq!(page.attr("#filter-kind option[selected]", "value").as_deref(), Some("app_registration"));
    assert_eq!(page.attr("#filter-assignee option[selected]", "value").as_deref(), Some("me"));
    assert_eq!(page.attr("#filter-sort option[selected]", "value").as_deref(), Some("oldest"));
    assert_eq!(page.attr("#filter-q", "value").as_deref(), Some("acme"));
    let withdrawn = page.attr(".status-counts a[href*='status=withdrawn']", "href").unwrap();
    assert_eq!(withdrawn, "/review?status=withdrawn&kind=app_registration&assignee=me&q=acme&sort=oldest");
}

#[sqlx::test]
async fn keyset_pages_survive_concurrent_inserts(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let requester = app.add_user("req@uwaterloo.ca", "Rae Quest", Role::Requester).await;
    let mut existing = HashSet::new();
    for number in 0..120 {
        existing.insert(insert(&app.pool, &requester, &format!("App {number}"), "Acme").await);
    }
    let mut reviewer = app.signed_in("rev@uwaterloo.ca", Role::Reviewer).await;

    for sort in ["", "oldest"] {
        let mut seen = Vec::new();
        let mut path = format!("/review?sort={sort}");
        loop {
            let page = reviewer.get(&path).await;
            seen.extend(page.texts("table.queue tbody td:nth-child(2)"));
            // New requests arrive between page loads.
            insert(&app.pool, &requester, "Late arrival", "Acme").await;
            match page
                .attr(".pagination a:last-child", "href")
                .filter(|_| page.text(".pagination").contains("Next page"))
            {
                Some(next) => path = next,
                None => break,
            }
        }
        let unique: HashSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "sort {sort:?}: a row repeated");
        for reference in &existing {
            assert!(unique.contains(reference), "sort {sort:?}: {reference} skipped");
        }
    }
}

#[sqlx::test]
async fn overdue_requests_are_flagged(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let requester = app.add_user("req@uwaterloo.ca", "Rae Quest", Role::Requester).await;
    let late = insert(&app.pool, &requester, "Late", "Acme").await;
    let waiting = insert(&app.pool, &requester, "Waiting", "Acme").await;
    let fresh = insert(&app.pool, &requester, "Fresh", "Acme").await;
    sqlx::query("UPDATE requests SET review_clock_started_at = now() - interval '14 days' WHERE reference = ANY($1)")
        .bind(vec![late.clone(), waiting.clone()])
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE requests SET status = 'needs_info', open_question = 'Which mailbox?' WHERE reference = $1")
        .bind(&waiting)
        .execute(&app.pool)
        .await
        .unwrap();
    let mut reviewer = app.signed_in("rev@uwaterloo.ca", Role::Reviewer).await;
    let page = reviewer.get("/review").await;
    let flagged = page.texts("tr.overdue td:nth-child(2)");
    assert_eq!(flagged, vec![late.clone()]);
    assert!(page.text("tr.overdue .overdue-flag").contains("3-business-day target"));
    assert!(!flagged.contains(&fresh));
}

#[sqlx::test]
async fn bulk_assign_and_unassign(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let requester = app.add_user("req@uwaterloo.ca", "Rae Quest", Role::Requester).await;
    let first = insert(&app.pool, &requester, "First", "Acme").await;
    let second = insert(&app.pool, &requester, "Second", "Acme").await;
    let third = insert(&app.pool, &requester, "Third", "Acme").await;
    let mut reviewer = app.signed_in("rev@uwaterloo.ca", Role::Reviewer).await;
    reviewer.get("/review").await;

    let page = reviewer
        .post(
            "/review/assign",
            &[
                ("selected", &first),
                ("selected", &second),
                ("action", "assign_me"),
                ("return_to", "/review?sort=oldest"),
            ],
        )
        .await;
    assert_eq!(page.path, "/review");
    let assigned: Vec<String> =
        sqlx::query_scalar("SELECT reference FROM requests WHERE assignee_id IS NOT NULL ORDER BY reference")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(assigned, vec![first.clone(), second.clone()]);
    assert_eq!(app.count("SELECT count(*) FROM request_events WHERE kind = 'assigned'").await, 2);

    reviewer.post("/review/assign", &[("selected", &first), ("action", "unassign"), ("return_to", "/review")]).await;
    let still: Vec<String> = sqlx::query_scalar("SELECT reference FROM requests WHERE assignee_id IS NOT NULL")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(still, vec![second]);
    let _ = third;
}

#[sqlx::test]
async fn csv_export_neutralises_formulas(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let requester = app.add_user("req@uwaterloo.ca", "Rae Quest", Role::Requester).await;
    let reference = insert(&app.pool, &requester, "=HYPERLINK(\"http://evil.example\",\"x\")", "@Acme").await;
    let id: i64 = sqlx::query_scalar("SELECT id FROM requests").fetch_one(&app.pool).await.unwrap();
    sqlx::query("INSERT INTO request_events (request_id, kind, actor_id, body) VALUES ($1, 'note', $2, 'secret internal remark')")
        .bind(id)
        .bind(requester.id)
        .execute(&app.pool)
        .await
        .unwrap();
    let reviewer = app.signed_in("rev@uwaterloo.ca", Role::Reviewer).await;

    let response = reviewer.get_raw("/review/export.csv?status=all").await;
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(response.headers()["content-disposition"].to_str().unwrap().starts_with("attachment; filename="));
    let bytes = response.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 1);
    assert_eq!(&records[0][0], reference);
    assert_eq!(&records[0][3], "'=HYPERLINK(\"http://evil.example\",\"x\")");
    assert_eq!(&records[0][4], "'@Acme");
    assert_eq!(&records[0][8], "Café Services");
    assert!(!text.contains("secret internal remark"));
}

#[sqlx::test]
async fn requester_cannot_export_queue(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let requester = app.signed_in("req@uwaterloo.ca", Role::Requester).await;
    let response = requester.get_raw("/review/export.csv").await;
    assert_eq!(response.status(), 403);
}

#[sqlx::test]
async fn notes_and_assignment_keep_overdue_flag(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let requester = app.add_user("req@uwaterloo.ca", "Rae Quest", Role::Requester).await;
    let late = insert(&app.pool, &requester, "Late", "Acme").await;
    sqlx::query("UPDATE requests SET review_clock_started_at = now() - interval '14 days'")
        .execute(&app.pool)
        .await
        .unwrap();
    let mut reviewer = app.signed_in("rev@uwaterloo.ca", Role::Reviewer).await;
    reviewer.get(&format!("/review/{late}")).await;
    reviewer.post(&format!("/review/{late}/assign"), &[("assignee", "me")]).await;
    reviewer.post(&format!("/review/{late}/assign"), &[("assignee", "none")]).await;
    reviewer.post(&format!("/review/{late}/notes"), &[("note_body", "looking"), ("visibility", "internal")]).await;
    let page = reviewer.get("/review").await;
    assert_eq!(page.texts("tr.overdue td:nth-child(2)"), vec![late.clone()]);

    reviewer.post(&format!("/review/{late}/notes"), &[("note_body", "We are on it"), ("visibility", "reply")]).await;
    let page = reviewer.get("/review").await;
    assert!(page.texts("tr.overdue td:nth-child(2)").is_empty(), "a reply is a reviewer action");
}

#[sqlx::test]
async fn assign_does_not_take_over_another_reviewer(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let requester = app.add_user("req@uwaterloo.ca", "Rae Quest", Role::Requester).await;
    let held = insert(&app.pool, &requester, "Held", "Acme").await;
    let free = insert(&app.pool, &requester, "Free", "Acme").await;
    let mut first = app.signed_in("first@uwaterloo.ca", Role::Reviewer).await;
    let mut second = app.signed_in("second@uwaterloo.ca", Role::Reviewer).await;
    first.get("/review").await;
    first.post("/review/assign", &[("assign_one", &held), ("return_to", "/review")]).await;

    second.get(&format!("/review/{held}")).await;
    let page = second.post(&format!("/review/{held}/assign"), &[("assignee", "me")]).await;
    assert_eq!(page.status, 409);
    assert!(page.text("#banner").starts_with("This request is assigned to Test Person, so it was not reassigned."));

    second
        .post(
            "/review/assign",
            &[("selected", &held), ("selected", &free), ("action", "assign_me"), ("return_to", "/review")],
        )
        .await;
    let owners: Vec<(String, String)> = sqlx::query_as(
        "SELECT reference, users.email FROM requests JOIN users ON users.id = requests.assignee_id ORDER BY reference",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(owners, vec![(held, "first@uwaterloo.ca".to_owned()), (free, "second@uwaterloo.ca".to_owned())]);
}

#[sqlx::test]
async fn csv_export_follows_sort(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let requester = app.add_user("req@uwaterloo.ca", "Rae Quest", Role::Requester).await;
    let older = insert(&app.pool, &requester, "Older", "Acme").await;
    let newer = insert(&app.pool, &requester, "Newer", "Acme").await;
    let reviewer = app.signed_in("rev@uwaterloo.ca", Role::Reviewer).await;
    let body = reviewer.get_raw("/review/export.csv?sort=oldest").await.bytes().await.unwrap();
    let mut reader = csv::Reader::from_reader(&body[3..]);
    let references: Vec<String> = reader.records().map(|record| record.unwrap()[0].to_owned()).collect();
    assert_eq!(references, vec![older, newer]);
}
