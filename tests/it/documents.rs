//! Vendor documents: real multipart bodies through the forms, type
//! decided by content, hostile names, limits, and who may download.

use ist_intake::accounts::Role;
use ist_intake::config::Settings;
use sqlx::PgPool;

use crate::files;
use crate::support::{Browser, Page, TO_APP_REGISTRATION, TestApp, submission_key, valid_app_registration};

const FORM: &str = "/requests/new/app-registration";

async fn open_form(app: &TestApp, email: &str) -> Browser {
    let mut browser = app.signed_in(email, Role::Requester).await;
    browser.answer_all(TO_APP_REGISTRATION).await;
    browser.get(FORM).await;
    browser
}

/// Uploads files with the Upload button, leaving the rest of the form blank.
async fn upload(browser: &mut Browser, files: &[(&str, &[u8])]) -> Page {
    browser.post_multipart(FORM, &[("action", "upload")], files).await
}

/// Reads the documents table: (name, type, size, attached to a request).
async fn stored(app: &TestApp) -> Vec<(String, String, i64, bool)> {
    sqlx::query_as(
        "SELECT file_name, document_type::text, size_bytes, request_id IS NOT NULL FROM documents ORDER BY id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

fn file_errors(page: &Page) -> Vec<String> {
    page.texts("[id^=document_file-error-]")
}

/// Submits a valid form with these files and returns the new reference.
async fn submit_with(browser: &mut Browser, app: &TestApp, files: &[(&str, &[u8])]) -> String {
    let fields = valid_app_registration();
    let check = browser.post_multipart(FORM, &fields, files).await;
    assert_eq!(check.path, "/requests/new/app-registration/check", "{:?}", check.error_summary());
    let key = submission_key(&check);
    browser.post("/requests/new/app-registration/submit", &[("submission_key", &key)]).await;
    sqlx::query_scalar("SELECT reference FROM requests ORDER BY id DESC LIMIT 1").fetch_one(&app.pool).await.unwrap()
}

async fn document_id(app: &TestApp, name: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM documents WHERE file_name = $1").bind(name).fetch_one(&app.pool).await.unwrap()
}

#[sqlx::test]
async fn every_allowed_type_is_accepted_by_content(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = open_form(&app, "dana@uwaterloo.ca").await;
    let cases: [(&str, Vec<u8>, &str); 8] = [
        ("a.bin", files::pdf(), "pdf"),
        ("b.bin", files::docx(), "docx"),
        ("c.bin", files::xlsx(), "xlsx"),
        ("d.bin", files::pptx(), "pptx"),
        ("e.bin", files::odt(), "odt"),
        ("f.bin", files::png(), "png"),
        ("g.bin", files::jpeg(), "jpeg"),
        ("h.bin", files::text(), "text"),
    ];
    for (name, content, expected) in &cases {
        let page = upload(&mut browser, &[(name, content)]).await;
        assert_eq!(file_errors(&page), Vec::<String>::new(), "{name}");
        let found: Option<String> =
            sqlx::query_scalar("SELECT document_type::text FROM documents WHERE file_name = $1")
                .bind(name)
                .fetch_optional(&app.pool)
                .await
                .unwrap();
        assert_eq!(found.as_deref(), Some(*expected), "{name}");
    }
}

#[sqlx::test]
async fn pdf_named_exe_is_accepted_as_pdf(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = open_form(&app, "dana@uwaterloo.ca").await;
    let reference = submit_with(&mut browser, &app, &[("report.exe", &files::pdf())]).await;
    assert_eq!(stored(&app).await, vec![("report.exe".to_owned(), "pdf".to_owned(), files::pdf().len() as i64, true)]);

    let id = document_id(&app, "report.exe").await;
    let response = browser.get_raw(&format!("/requests/{reference}/documents/{id}")).await;
    assert_eq!(response.headers()["content-type"], "application/pdf");
    assert_eq!(
        response.headers()["content-disposition"],
        "attachment; filename=\"report.exe.pdf\"; filename*=UTF-8''report.exe.pdf"
    );
}

#[sqlx::test]
async fn executable_named_pdf_is_rejected_and_the_form_kept(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = open_form(&app, "dana@uwaterloo.ca").await;
    let mut fields = valid_app_registration();
    fields.retain(|(name, _)| *name != "vendor_link");
    let page = browser.post_multipart(FORM, &fields, &[("invoice.pdf", &files::executable())]).await;

    assert_eq!(page.status, 422);
    let errors = file_errors(&page);
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0]
            .starts_with("Error: invoice.pdf was not accepted because its content is not one of the accepted types"),
        "{}",
        errors[0]
    );
    assert_eq!(page.attr("#application_name", "value").as_deref(), Some("Acme Room Booking"));
    assert_eq!(stored(&app).await, vec![]);
}

#[sqlx::test]
async fn html_file_is_only_ever_served_as_an_attachment(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = open_form(&app, "dana@uwaterloo.ca").await;
    let reference = submit_with(&mut browser, &app, &[("vendor-page.html", &files::html())]).await;
    let id = document_id(&app, "vendor-page.html").await;

    let response = browser.get_raw(&format!("/requests/{reference}/documents/{id}")).await;
    let headers = response.headers().clone();
    assert_eq!(response.status(), 200);
    assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
    assert!(headers["content-disposition"].to_str().unwrap().starts_with("attachment;"));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers["content-security-policy"].to_str().unwrap().starts_with("sandbox"));
    assert_eq!(response.bytes().await.unwrap().as_ref(), files::html().as_slice());
}

#[sqlx::test]
async fn over_size_file_is_rejected_and_the_rest_kept(pool: PgPool) {
    let mut settings = Settings::default();
    settings.uploads.max_file_bytes = 1024 * 1024;
    let app = TestApp::spawn_with(pool, settings).await;
    let mut browser = open_form(&app, "dana@uwaterloo.ca").await;
    let big = files::pdf_of_size(1024 * 1024 + 1);
    let page = browser
        .post_multipart(FORM, &valid_app_registration(), &[("big.pdf", &big), ("small.pdf", &files::pdf())])
        .await;

    assert_eq!(page.status, 422);
    assert_eq!(file_errors(&page), vec!["Error: big.pdf was not accepted because it is larger than 1 MB".to_owned()]);
    assert_eq!(page.attr("#vendor", "value").as_deref(), Some("Acme Software Inc."));
    assert_eq!(page.texts(".document-list .document-name"), vec!["small.pdf".to_owned()]);
    assert_eq!(stored(&app).await.len(), 1);
}

#[sqlx::test]
async fn zero_byte_file_is_rejected(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = open_form(&app, "dana@uwaterloo.ca").await;
    let page = upload(&mut browser, &[("empty.pdf", b"")]).await;
    assert_eq!(file_errors(&page), vec!["Error: empty.pdf was not accepted because it is empty (0 bytes)".to_owned()]);
    assert_eq!(stored(&app).await, vec![]);
}

#[sqlx::test]
async fn hostile_names_are_stored_and_served_safely(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = open_form(&app, "dana@uwaterloo.ca").await;
    let long = format!("{}.txt", "a".repeat(296));
    let texts: Vec<Vec<u8>> = (0..4).map(|index| format!("document {index}\n").into_bytes()).collect();
    let names = ["../../etc/passwd", "invoice\u{202E}txt.exe", long.as_str(), "...."];
    let files: Vec<(&str, &[u8])> = names.iter().zip(&texts).map(|(name, text)| (*name, text.as_slice())).collect();
    let reference = submit_with(&mut browser, &app, &files).await;

    let stored_names: Vec<String> = stored(&app).await.into_iter().map(|(name, ..)| name).collect();
    assert_eq!(stored_names[0], "passwd");
    assert_eq!(stored_names[1], "invoicetxt.exe");
    assert!(stored_names[2].chars().count() <= 200, "{}", stored_names[2]);
    assert!(stored_names[2].ends_with(".txt"), "{}", stored_names[2]);
    assert_eq!(stored_names[3], "document.txt");

    for name in &stored_names {
        let id = document_id(&app, name).await;
        let response = browser.get_raw(&format!("/requests/{reference}/documents/{id}")).await;
        let disposition = response.headers()["content-disposition"].to_str().unwrap().to_owned();
        assert!(!disposition.contains('/'), "{disposition}");
        assert!(!disposition.contains('\\'), "{disposition}");
        assert!(!disposition.contains('\u{202E}'), "{disposition}");
    }
}

#[sqlx::test]
async fn only_the_requester_and_reviewers_can_download(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut owner = open_form(&app, "dana@uwaterloo.ca").await;
    let reference = submit_with(&mut owner, &app, &[("plan.pdf", &files::pdf())]).await;
    let path = format!("/requests/{reference}/documents/{}", document_id(&app, "plan.pdf").await);

    let other = app.signed_in("sam@uwaterloo.ca", Role::Requester).await;
    assert_eq!(other.get_raw(&path).await.status(), 404);
    let reviewer = app.signed_in("reviewer@uwaterloo.ca", Role::Reviewer).await;
    assert_eq!(reviewer.get_raw(&path).await.status(), 200);
    assert_eq!(owner.get_raw(&path).await.status(), 200);
    let visitor = app.browser();
    assert_eq!(visitor.get_raw(&path).await.status(), 303);
}

#[sqlx::test]
async fn same_file_uploaded_twice_is_stored_once(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = open_form(&app, "dana@uwaterloo.ca").await;
    let first = upload(&mut browser, &[("one.pdf", &files::pdf())]).await;
    let id = first.attr("input[name=document]", "value").expect("the upload is listed");
    let page =
        browser.post_multipart(FORM, &[("document", &id), ("action", "upload")], &[("copy.pdf", &files::pdf())]).await;

    assert_eq!(page.texts(".document-list .document-name"), vec!["one.pdf".to_owned()]);
    assert_eq!(
        file_errors(&page),
        vec![
            "Error: copy.pdf was not added again because it is the same file as one.pdf, which is already uploaded"
                .to_owned()
        ]
    );
    assert_eq!(stored(&app).await.len(), 1);
}

#[sqlx::test]
async fn new_upload_keeps_its_own_name(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = open_form(&app, "dana@uwaterloo.ca").await;
    upload(&mut browser, &[("report.exe", &files::pdf())]).await;
    // A fresh form, as after opening the page again, lists nothing yet.
    let page = upload(&mut browser, &[("vendor-guide.pdf", &files::pdf())]).await;
    assert_eq!(page.texts(".document-list .document-name"), vec!["vendor-guide.pdf".to_owned()]);
}

#[sqlx::test]
async fn uploaded_files_are_not_asked_for_again(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = open_form(&app, "dana@uwaterloo.ca").await;
    let mut fields = valid_app_registration();
    fields.retain(|(name, _)| *name != "vendor_link" && *name != "application_name");
    let page = browser.post_multipart(FORM, &fields, &[("guide.pdf", &files::pdf())]).await;
    assert_eq!(page.status, 422);
    let id = page.attr("input[name=document]", "value").expect("the upload is listed");

    // Fix the name and send again without choosing the file again.
    fields.push(("application_name", "Acme Room Booking"));
    fields.push(("document", &id));
    let check = browser.post_multipart(FORM, &fields, &[]).await;
    assert_eq!(check.path, "/requests/new/app-registration/check");
    assert!(check.body_text().contains("guide.pdf (PDF, "), "{}", check.body_text());
    browser.post("/requests/new/app-registration/submit", &[("submission_key", &submission_key(&check))]).await;
    assert_eq!(stored(&app).await, vec![("guide.pdf".to_owned(), "pdf".to_owned(), files::pdf().len() as i64, true)]);
}

#[sqlx::test]
async fn app_registration_needs_a_document_or_a_link(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = open_form(&app, "dana@uwaterloo.ca").await;
    let mut fields = valid_app_registration();
    fields.retain(|(name, _)| *name != "vendor_link");
    let page = browser.post_multipart(FORM, &fields, &[]).await;
    assert_eq!(
        page.error_summary(),
        vec![(
            "#vendor_link_0".to_owned(),
            "Give at least one link to the vendor's documentation, or upload a document from the vendor".to_owned()
        )]
    );
    let check = browser.post_multipart(FORM, &fields, &[("guide.pdf", &files::pdf())]).await;
    assert_eq!(check.path, "/requests/new/app-registration/check");
}

#[sqlx::test]
async fn multipart_post_without_token_changes_nothing(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let browser = open_form(&app, "dana@uwaterloo.ca").await;
    let response = browser.multipart_raw(FORM, None, &[("action", "upload")], &[("a.pdf", &files::pdf())]).await;
    assert_eq!(response.status(), 403);
    assert_eq!(stored(&app).await, vec![]);
}

#[sqlx::test]
async fn multipart_is_refused_on_other_routes(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = app.signed_in("dana@uwaterloo.ca", Role::Requester).await;
    let page = browser.post_multipart("/tree/restart", &[], &[("a.pdf", &files::pdf())]).await;
    assert_eq!(page.status, 403);
}

#[sqlx::test]
async fn file_count_limit_names_the_refused_file(pool: PgPool) {
    let mut settings = Settings::default();
    settings.uploads.max_files = 2;
    let app = TestApp::spawn_with(pool, settings).await;
    let mut browser = open_form(&app, "dana@uwaterloo.ca").await;
    let page =
        upload(&mut browser, &[("a.pdf", &files::pdf()), ("b.png", &files::png()), ("c.txt", &files::text())]).await;
    assert_eq!(
        file_errors(&page),
        vec!["Error: c.txt was not added because a request can have at most 2 documents. Remove one first".to_owned()]
    );
    assert_eq!(stored(&app).await.len(), 2);
}

#[sqlx::test]
async fn requester_adds_documents_after_submitting(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = open_form(&app, "dana@uwaterloo.ca").await;
    let reference = submit_with(&mut browser, &app, &[]).await;
    let page = browser
        .post_multipart(&format!("/requests/{reference}/documents"), &[], &[("addendum.docx", &files::docx())])
        .await;

    assert_eq!(page.status, 200);
    assert_eq!(page.texts("#documents a"), vec!["addendum.docx".to_owned()]);
    let events: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT kind::text, body FROM request_events WHERE kind = 'document_added'")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(events, vec![("document_added".to_owned(), Some("addendum.docx".to_owned()))]);

    let again = browser
        .post_multipart(&format!("/requests/{reference}/documents"), &[], &[("again.docx", &files::docx())])
        .await;
    assert_eq!(
        file_errors(&again),
        vec![
            "Error: again.docx was not added because the request already has the same file, as addendum.docx"
                .to_owned()
        ]
    );
}

#[sqlx::test]
async fn other_requester_cannot_add_documents(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut owner = open_form(&app, "dana@uwaterloo.ca").await;
    let reference = submit_with(&mut owner, &app, &[]).await;
    let mut other = app.signed_in("sam@uwaterloo.ca", Role::Requester).await;
    let page =
        other.post_multipart(&format!("/requests/{reference}/documents"), &[], &[("x.pdf", &files::pdf())]).await;
    assert_eq!(page.status, 404);
    assert_eq!(stored(&app).await, vec![]);
}

#[sqlx::test]
async fn documents_cannot_be_added_once_decided(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = open_form(&app, "dana@uwaterloo.ca").await;
    let reference = submit_with(&mut browser, &app, &[]).await;
    sqlx::query("UPDATE requests SET status = 'completed' WHERE reference = $1")
        .bind(&reference)
        .execute(&app.pool)
        .await
        .unwrap();
    let page =
        browser.post_multipart(&format!("/requests/{reference}/documents"), &[], &[("x.pdf", &files::pdf())]).await;
    assert_eq!(page.status, 409);
    let banner = page.text("[role=alert]");
    assert!(banner.starts_with("Nothing was uploaded: documents can only be added"), "{banner}");
    assert_eq!(page.error_summary(), vec![]);
    assert_eq!(stored(&app).await, vec![]);
}

#[sqlx::test]
async fn exception_form_takes_documents_too(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = app.signed_in("dana@uwaterloo.ca", Role::Requester).await;
    browser.answer_all(crate::support::TO_EXCEPTION).await;
    browser.get("/requests/new/exception").await;
    let fields = crate::support::valid_exception();
    let check = browser.post_multipart("/requests/new/exception", &fields, &[("setup.txt", &files::text())]).await;
    assert_eq!(check.path, "/requests/new/exception/check", "{:?}", check.error_summary());
    browser.post("/requests/new/exception/submit", &[("submission_key", &submission_key(&check))]).await;
    assert_eq!(stored(&app).await, vec![("setup.txt".to_owned(), "text".to_owned(), files::text().len() as i64, true)]);
}

#[sqlx::test]
async fn abandoned_uploads_are_deleted_after_a_day(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = open_form(&app, "dana@uwaterloo.ca").await;
    upload(&mut browser, &[("old.pdf", &files::pdf()), ("new.txt", &files::text())]).await;
    sqlx::query("UPDATE documents SET uploaded_at = now() - interval '25 hours' WHERE file_name = 'old.pdf'")
        .execute(&app.pool)
        .await
        .unwrap();

    let deleted = ist_intake::attachments::store::delete_abandoned(&app.pool, 24).await.unwrap();
    assert_eq!(deleted, 1);
    let names: Vec<String> = stored(&app).await.into_iter().map(|(name, ..)| name).collect();
    assert_eq!(names, vec!["new.txt".to_owned()]);

    // The form names what is gone, rather than dropping it silently.
    let page = browser.post_multipart(FORM, &[("document", "1"), ("document", "2"), ("action", "upload")], &[]).await;
    assert!(
        page.text(".notice").starts_with("One document you uploaded earlier is no longer available"),
        "{}",
        page.body_text()
    );
}

#[sqlx::test]
async fn signed_out_upload_returns_to_the_request_after_sign_in(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let visitor = app.browser();
    let response =
        visitor.multipart_raw("/requests/IST-AR-2026-000001/documents", None, &[], &[("a.pdf", &files::pdf())]).await;
    assert_eq!(response.url().path(), "/sign-in");
    assert_eq!(response.url().query(), Some("next=%2Frequests%2FIST-AR-2026-000001"));
}

#[sqlx::test]
async fn upload_button_without_a_file_says_so(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = open_form(&app, "dana@uwaterloo.ca").await;
    let page = upload(&mut browser, &[]).await;
    assert_eq!(page.status, 422);
    assert_eq!(file_errors(&page), vec!["Error: Choose at least one file to upload".to_owned()]);
}

#[sqlx::test]
async fn crafted_post_over_the_document_limit_is_refused(pool: PgPool) {
    let mut settings = Settings::default();
    settings.uploads.max_files = 2;
    let app = TestApp::spawn_with(pool, settings).await;
    let mut browser = open_form(&app, "dana@uwaterloo.ca").await;
    // Three separate forms' uploads, then one post that lists all three.
    for (name, content) in [("a.pdf", files::pdf()), ("b.png", files::png()), ("c.txt", files::text())] {
        upload(&mut browser, &[(name, &content)]).await;
    }
    let mut fields = valid_app_registration();
    fields.extend([("document", "1"), ("document", "2"), ("document", "3")]);
    let page = browser.post_multipart(FORM, &fields, &[]).await;
    assert_eq!(page.status, 422);
    assert_eq!(
        file_errors(&page),
        vec!["Error: Remove 1 of the uploaded documents: a request can have at most 2".to_owned()]
    );
}
