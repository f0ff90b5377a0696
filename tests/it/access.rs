//! Who may open what, sign-in, CSRF and the cookie and security headers.

use ist_intake::accounts::Role;
use ist_intake::config::Settings;
use sqlx::PgPool;

use crate::support::{PASSWORD, TestApp, fill_app_registration, submission_key, valid_app_registration};

async fn submitted_reference(app: &TestApp, email: &str) -> String {
    let mut browser = app.signed_in(email, Role::Requester).await;
    let check = fill_app_registration(&mut browser, &valid_app_registration()).await;
    let page =
        browser.post("/requests/new/app-registration/submit", &[("submission_key", &submission_key(&check))]).await;
    page.text(".reference")
}

#[sqlx::test]
async fn requester_cannot_open_another_requesters_request(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let reference = submitted_reference(&app, "owner@uwaterloo.ca").await;
    let mut other = app.signed_in("other@uwaterloo.ca", Role::Requester).await;

    for path in [format!("/requests/{reference}"), format!("/requests/{reference}/submitted")] {
        let page = other.get(&path).await;
        assert_eq!(page.status, 404, "{path}");
        assert!(!page.body_text().contains("Acme Room Booking"), "{path}");
    }
    let list = other.get("/requests").await;
    assert!(!list.body_text().contains(&reference));
}

#[sqlx::test]
async fn requester_gets_forbidden_on_review_pages(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let reference = submitted_reference(&app, "owner@uwaterloo.ca").await;
    let mut requester = app.signed_in("other@uwaterloo.ca", Role::Requester).await;
    for path in ["/review".to_owned(), format!("/review/{reference}")] {
        let page = requester.get(&path).await;
        assert_eq!(page.status, 403, "{path}");
        assert_eq!(page.h1(), "You do not have access to this page", "{path}");
    }
}

#[sqlx::test]
async fn signed_out_visitor_is_sent_to_sign_in(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let browser = app.browser();
    for (path, next) in [
        ("/review", "%2Freview"),
        ("/requests", "%2Frequests"),
        ("/requests/new/app-registration", "%2Frequests%2Fnew%2Fapp-registration"),
    ] {
        let response = browser.get_raw(path).await;
        assert_eq!(response.status(), 303, "{path}");
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        assert_eq!(location, format!("/sign-in?next={next}"), "{path}");
    }
}

#[sqlx::test]
async fn reviewer_and_admin_open_queue(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    for (email, role) in [("reviewer@uwaterloo.ca", Role::Reviewer), ("admin@uwaterloo.ca", Role::Admin)] {
        let mut browser = app.signed_in(email, role).await;
        let page = browser.get("/review").await;
        assert_eq!(page.status, 200, "{email}");
    }
}

#[sqlx::test]
async fn post_without_csrf_token_is_rejected(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = app.browser();
    browser.get("/tree/hosting").await;
    let page = browser.post_raw("/tree/hosting", &[("answer".into(), "internal".into())]).await;
    assert_eq!(page.status, 403);
    assert_eq!(page.h1(), "The form has expired");

    let forged = browser
        .post_raw("/tree/hosting", &[("csrf_token".into(), "0".repeat(64)), ("answer".into(), "internal".into())])
        .await;
    assert_eq!(forged.status, 403);
    let next = browser.get("/tree").await;
    assert_eq!(next.path, "/tree/hosting", "no answer was recorded");
}

#[sqlx::test]
async fn every_post_form_carries_csrf_token(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = app.signed_in("dana.lee@uwaterloo.ca", Role::Reviewer).await;
    let check = fill_app_registration(&mut browser, &valid_app_registration()).await;
    let pages = [
        browser.get("/").await,
        browser.get("/tree/vendor_documentation").await,
        browser.get("/tree/outcome").await,
        browser.get("/requests/new/app-registration").await,
        check,
    ];
    for page in pages {
        let forms = page.select_all("form[method=post]");
        assert!(!forms.is_empty(), "{}", page.path);
        for form in forms {
            let token = scraper::Selector::parse("input[name=csrf_token]").unwrap();
            assert_eq!(form.select(&token).count(), 1, "{}: {:?}", page.path, form.value().attr("action"));
        }
    }
}

#[sqlx::test]
async fn wrong_password_keeps_email_and_explains(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.add_user("dana.lee@uwaterloo.ca", "Dana Lee", Role::Requester).await;
    let mut browser = app.browser();
    browser.get("/sign-in").await;
    let page = browser.post("/sign-in", &[("email", "dana.lee@uwaterloo.ca"), ("password", "not the password")]).await;
    assert_eq!(page.status, 422);
    assert_eq!(
        page.error_summary(),
        vec![("#email".to_owned(), "The email address or password is not right. Check both and try again".to_owned())]
    );
    assert_eq!(page.attr("#email", "value").as_deref(), Some("dana.lee@uwaterloo.ca"));
    assert_eq!(page.attr("#password", "value"), None);
}

#[sqlx::test]
async fn sign_in_ignores_email_case(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.add_user("dana.lee@uwaterloo.ca", "Dana Lee", Role::Requester).await;
    let mut browser = app.browser();
    let page = browser.sign_in("Dana.Lee@UWaterloo.CA", PASSWORD).await;
    assert_eq!(page.path, "/requests");
}

#[sqlx::test]
async fn sign_in_rejects_offsite_next(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.add_user("dana.lee@uwaterloo.ca", "Dana Lee", Role::Requester).await;
    let mut browser = app.browser();
    browser.get("/sign-in?next=//evil.example/").await;
    let page = browser
        .post("/sign-in", &[("email", "dana.lee@uwaterloo.ca"), ("password", PASSWORD), ("next", "//evil.example/")])
        .await;
    assert_eq!(page.path, "/requests");
}

#[sqlx::test]
async fn sign_out_ends_session(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = app.signed_in("dana.lee@uwaterloo.ca", Role::Requester).await;
    browser.get("/requests").await;
    let page = browser.post("/sign-out", &[]).await;
    assert_eq!(page.path, "/");
    let after = browser.get("/requests").await;
    assert_eq!(after.path, "/sign-in");
}

#[sqlx::test]
async fn session_cookie_is_http_only_and_lax(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let response = app.browser().get_raw("/tree/hosting").await;
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("ist_intake_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "{cookie}");
}

#[sqlx::test]
async fn session_cookie_is_secure_behind_https(pool: PgPool) {
    let settings = Settings { public_url: "https://intake.test.example/".parse().unwrap(), ..Settings::default() };
    let app = TestApp::spawn_with(pool, settings).await;
    let response = app.browser().get_raw("/tree/hosting").await;
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("Secure"), "{cookie}");
}

#[sqlx::test]
async fn sessions_are_stored_in_postgres(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.browser().answer("hosting", "internal").await;
    assert_eq!(app.count("SELECT count(*) FROM sessions").await, 1);
}

#[sqlx::test]
async fn pages_send_strict_security_headers(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let response = app.browser().get_raw("/").await;
    let headers = response.headers();
    let policy = headers["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("default-src 'self'"), "{policy}");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["cache-control"], "no-store");
}

#[sqlx::test]
async fn templates_have_no_inline_script_or_style(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = app.signed_in("dana.lee@uwaterloo.ca", Role::Reviewer).await;
    for path in ["/", "/tree/hosting", "/review", "/requests", "/sign-in"] {
        let page = browser.get(path).await;
        assert!(page.select_all("script").is_empty(), "{path}");
        assert!(page.select_all("style").is_empty(), "{path}");
        assert!(page.select_all("[style]").is_empty(), "{path}");
    }
}

#[sqlx::test]
async fn malformed_reference_is_not_found(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut reviewer = app.signed_in("reviewer@uwaterloo.ca", Role::Reviewer).await;
    for path in ["/review/%00", "/review/IST-AR-2026-000001%00", "/requests/'%20OR%201=1", "/review/IST-AR-2026-999999"]
    {
        let page = reviewer.get(path).await;
        assert_eq!(page.status, 404, "{path}");
    }
}

#[sqlx::test]
async fn sign_in_with_null_byte_fails_cleanly(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = app.browser();
    browser.get("/sign-in").await;
    let page = browser.post("/sign-in", &[("email", "dana\u{0}@uwaterloo.ca"), ("password", "whatever it is")]).await;
    assert_eq!(page.status, 422);
    assert_eq!(page.error_summary().len(), 1);
}

#[sqlx::test]
async fn framework_errors_render_error_pages(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = app.browser();
    let cases = [
        ("/tree/%FF", 400, "The request could not be read"),
        ("/tree/restart", 405, "This page does not accept that kind of request"),
        ("/static/missing.css", 404, "Page not found"),
    ];
    for (path, status, title) in cases {
        let page = browser.get(path).await;
        assert_eq!(page.status, status, "{path}");
        assert_eq!(page.h1(), title, "{path}");
    }
    browser.get("/tree/hosting").await;
    let duplicate = browser.post("/tree/hosting", &[("answer", "internal"), ("answer", "external")]).await;
    assert!(duplicate.status.is_client_error(), "{}", duplicate.status);
    assert_eq!(duplicate.h1(), "The request could not be read");
}

#[sqlx::test]
async fn header_sign_in_link_returns_to_page(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = app.browser();
    browser.answer("hosting", "internal").await;
    let page = browser.get("/tree/from_address").await;
    assert_eq!(
        page.attr("header a[href^='/sign-in']", "href").as_deref(),
        Some("/sign-in?next=%2Ftree%2Ffrom_address")
    );
}

#[sqlx::test]
async fn error_pages_keep_signed_in_header(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut requester = app.signed_in("dana.lee@uwaterloo.ca", Role::Requester).await;
    for (path, status) in [("/review", 403), ("/requests/IST-AR-2026-999999", 404), ("/tree/restart", 405)] {
        let page = requester.get(path).await;
        assert_eq!(page.status, status, "{path}");
        assert!(page.text("header").contains("Signed in as Test Person"), "{path}");
        assert_eq!(page.select_all("header form[action='/sign-out']").len(), 1, "{path}");
    }
}

#[sqlx::test]
async fn client_request_id_is_replaced(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let client = reqwest::Client::new();
    let response =
        client.get(format!("{}/health", app.address)).header("x-request-id", "chosen by client").send().await.unwrap();
    let id = response.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_ne!(id, "chosen by client");
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
}

#[sqlx::test]
async fn other_user_sign_in_clears_previous_answers(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.add_user("second@uwaterloo.ca", "Second Person", Role::Requester).await;
    let mut browser = app.signed_in("first@uwaterloo.ca", Role::Requester).await;
    browser.answer_all(crate::support::TO_APP_REGISTRATION).await;
    browser.get("/sign-in").await;
    browser.post("/sign-in", &[("email", "second@uwaterloo.ca"), ("password", PASSWORD)]).await;
    let page = browser.get("/tree").await;
    assert_eq!(page.path, "/tree/hosting");
}
