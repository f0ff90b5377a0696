//! Permission rows through the real form: catalogue spelling, suggestions,
//! confirmed unknown names, the delegated/application constraint, other
//! APIs, justifications, risk flags and the least-privilege plan.

use ist_intake::accounts::Role;
use sqlx::PgPool;

use crate::support::{Browser, Page, TO_APP_REGISTRATION, TestApp, submission_key, valid_app_registration};

const FORM: &str = "/requests/new/app-registration";

/// Builds the valid form with its permission rows replaced by `rows`, each
/// (api, name, type, justification).
fn with_scopes<'a>(rows: &[(&'a str, &'a str, &'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields: Vec<(&str, &str)> =
        valid_app_registration().into_iter().filter(|(name, _)| !name.starts_with("scope_")).collect();
    for (api, name, permission_type, justification) in rows {
        fields.push(("scope_api", api));
        fields.push(("scope_api_name", if *api == "other" { "Vendor Reports API" } else { "" }));
        fields.push(("scope_name", name));
        fields.push(("scope_type", permission_type));
        fields.push(("scope_justification", justification));
    }
    fields
}

async fn open_form(app: &TestApp) -> Browser {
    let mut browser = app.signed_in("dana@uwaterloo.ca", Role::Requester).await;
    browser.answer_all(TO_APP_REGISTRATION).await;
    browser.get(FORM).await;
    browser
}

async fn submit(browser: &mut Browser, fields: &[(&str, &str)]) -> Page {
    let check = browser.post(FORM, fields).await;
    assert_eq!(check.path, "/requests/new/app-registration/check", "{:?}", check.error_summary());
    browser.post("/requests/new/app-registration/submit", &[("submission_key", &submission_key(&check))]).await
}

/// Reads the stored rows: (api, name, type, unlisted, justification).
async fn stored_scopes(app: &TestApp) -> Vec<(String, String, String, bool, Option<String>)> {
    sqlx::query_as(
        "SELECT api::text, name, permission_type::text, unlisted, justification FROM request_scopes ORDER BY position",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

async fn reference(app: &TestApp) -> String {
    sqlx::query_scalar("SELECT reference FROM requests").fetch_one(&app.pool).await.unwrap()
}

const GRAPH: &str = "microsoft_graph";

#[sqlx::test]
async fn case_variants_are_stored_in_catalogue_spelling(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = open_form(&app).await;
    submit(&mut browser, &with_scopes(&[(GRAPH, "mail.SEND", "delegated", ""), (GRAPH, "user.read", "delegated", "")]))
        .await;
    let names: Vec<String> = stored_scopes(&app).await.into_iter().map(|row| row.1).collect();
    assert_eq!(names, vec!["Mail.Send".to_owned(), "User.Read".to_owned()]);
}

#[sqlx::test]
async fn spaced_and_misspelt_names_get_suggestions(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = open_form(&app).await;
    let page = browser.post(FORM, &with_scopes(&[(GRAPH, "mail send", "delegated", "")])).await;
    assert_eq!(
        page.error_summary(),
        vec![(
            "#scope_name_0".to_owned(),
            "Enter one permission in each row, without spaces or commas, such as Mail.Send. Add a row for each further permission. Did you mean Mail.Send?"
                .to_owned()
        )]
    );
    let page = browser.post(FORM, &with_scopes(&[(GRAPH, "Mail.Sendd", "delegated", "")])).await;
    let (_, message) = &page.error_summary()[0];
    assert!(
        message.starts_with(
            "Permission 1, Mail.Sendd, is not in Microsoft Graph's published permissions. Did you mean Mail.Send"
        ),
        "{message}"
    );
    assert_eq!(page.attr("#scope_confirmed_0", "value").as_deref(), Some("Mail.Sendd"));
}

#[sqlx::test]
async fn unknown_name_confirmed_as_typed_is_flagged_for_reviewers(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = open_form(&app).await;
    let mut fields = with_scopes(&[(GRAPH, "Reports.ReadSecret", "delegated", "")]);
    fields.push(("scope_confirmed", "Reports.ReadSecret"));
    submit(&mut browser, &fields).await;
    assert_eq!(
        stored_scopes(&app).await,
        vec![(GRAPH.to_owned(), "Reports.ReadSecret".to_owned(), "delegated".to_owned(), true, None)]
    );

    let mut reviewer = app.signed_in("reviewer@uwaterloo.ca", Role::Reviewer).await;
    let detail = reviewer.get(&format!("/review/{}", reference(&app).await)).await;
    assert_eq!(detail.texts(".scope-list .tag-risk"), vec!["Check by hand".to_owned()]);
}

#[sqlx::test]
async fn delegated_only_permission_cannot_be_application(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = open_form(&app).await;
    let page = browser.post(FORM, &with_scopes(&[(GRAPH, "User.Read", "application", "Reads the profile")])).await;
    assert_eq!(
        page.error_summary(),
        vec![(
            "#scope_type_0".to_owned(),
            "User.Read exists in Microsoft Graph only as a delegated permission. Choose delegated, or check the vendor's documentation".to_owned()
        )]
    );
}

#[sqlx::test]
async fn application_only_permission_cannot_be_delegated(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = open_form(&app).await;
    let page = browser.post(FORM, &with_scopes(&[(GRAPH, "Application.ReadWrite.OwnedBy", "delegated", "")])).await;
    assert_eq!(page.error_summary()[0].0, "#scope_type_0");
    assert!(page.error_summary()[0].1.contains("only as an application permission"), "{:?}", page.error_summary());
}

#[sqlx::test]
async fn openid_connect_scopes_are_accepted_as_delegated(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = open_form(&app).await;
    let rows = ["openid", "profile", "email", "offline_access"].map(|name| (GRAPH, name, "delegated", ""));
    submit(&mut browser, &with_scopes(&rows)).await;
    assert_eq!(stored_scopes(&app).await.len(), 4);
}

#[sqlx::test]
async fn application_permission_needs_a_reason(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = open_form(&app).await;
    let page = browser.post(FORM, &with_scopes(&[(GRAPH, "Mail.Send", "application", "")])).await;
    assert_eq!(
        page.error_summary(),
        vec![(
            "#scope_justification_0".to_owned(),
            "Explain in one line why the application needs permission 1, Mail.Send, with no one signed in".to_owned()
        )]
    );
}

#[sqlx::test]
async fn exchange_online_permission_is_checked_against_the_built_in_list(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = open_form(&app).await;
    let page = browser
        .post(FORM, &with_scopes(&[("exchange_online", "smtp.sendasap", "application", "Sends over SMTP")]))
        .await;
    assert!(page.error_summary()[0].1.contains("Did you mean SMTP.SendAsApp"), "{:?}", page.error_summary());

    submit(&mut browser, &with_scopes(&[("exchange_online", "smtp.sendasapp", "application", "Sends over SMTP")]))
        .await;
    assert_eq!(
        stored_scopes(&app).await,
        vec![(
            "exchange_online".to_owned(),
            "SMTP.SendAsApp".to_owned(),
            "application".to_owned(),
            false,
            Some("Sends over SMTP".to_owned())
        )]
    );
}

#[sqlx::test]
async fn other_api_needs_its_name_and_is_kept_as_typed(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = open_form(&app).await;
    let mut fields = with_scopes(&[("other", "reports:read", "delegated", "")]);
    fields.retain(|(name, _)| *name != "scope_api_name");
    let page = browser.post(FORM, &fields).await;
    assert_eq!(page.error_summary()[0].0, "#scope_api_name_0");

    submit(&mut browser, &with_scopes(&[("other", "reports:read", "delegated", "")])).await;
    let api_name: Option<String> =
        sqlx::query_scalar("SELECT api_name FROM request_scopes").fetch_one(&app.pool).await.unwrap();
    assert_eq!(api_name.as_deref(), Some("Vendor Reports API"));
    assert!(stored_scopes(&app).await[0].3, "other APIs are flagged");
}

#[sqlx::test]
async fn requester_sees_a_note_on_a_high_risk_permission(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = open_form(&app).await;
    let check = browser.post(FORM, &with_scopes(&[(GRAPH, "Mail.Send", "application", "Sends receipts")])).await;
    assert!(check.text(".summary-list .notice").contains("every mailbox at the university"), "{}", check.body_text());

    let notes = browser.get_raw("/permissions/notes.json?api=microsoft_graph&name=mail.send&type=application").await;
    let body = notes.text().await.unwrap();
    assert!(body.contains("every mailbox at the university"), "{body}");
    let safe = browser.get_raw("/permissions/notes.json?api=microsoft_graph&name=User.Read&type=delegated").await;
    assert_eq!(safe.text().await.unwrap(), r#"{"notes":[]}"#);
}

#[sqlx::test]
async fn reviewer_sees_flags_in_queue_and_the_plan_on_the_request(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = open_form(&app).await;
    let mut fields = with_scopes(&[(GRAPH, "Mail.Send", "application", "Sends receipts")]);
    for field in fields.iter_mut() {
        if field.0 == "application_name" {
            field.1 = "O'Brien's Bookings";
        }
    }
    submit(&mut browser, &fields).await;

    let mut reviewer = app.signed_in("reviewer@uwaterloo.ca", Role::Reviewer).await;
    let queue = reviewer.get("/review").await;
    assert_eq!(queue.texts("table.queue tbody td:last-child .tag-risk"), vec!["Every mailbox", "Admin consent"]);

    let detail = reviewer.get(&format!("/review/{}", reference(&app).await)).await;
    let commands = detail.texts(".plan-steps pre");
    let all = commands.join("\n");
    assert!(
        all.contains("$Mailbox = 'room-bookings@uwaterloo.ca'")
            || all.contains("$Mailbox = 'Room-Bookings@UWaterloo.ca'"),
        "{all}"
    );
    assert!(all.contains("'O''Brien''s Bookings'"), "{all}");
    assert!(all.contains("New-ManagementScope"), "{all}");
    assert!(all.contains("-Role 'Application Mail.Send'"), "{all}");
    assert!(all.contains("Test-ServicePrincipalAuthorization -Identity $ObjectId -Resource $Mailbox"), "{all}");
}

#[sqlx::test]
async fn no_plan_without_application_mail_permissions(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = open_form(&app).await;
    submit(&mut browser, &with_scopes(&[(GRAPH, "Mail.Send", "delegated", "")])).await;
    let mut reviewer = app.signed_in("reviewer@uwaterloo.ca", Role::Reviewer).await;
    let detail = reviewer.get(&format!("/review/{}", reference(&app).await)).await;
    assert_eq!(detail.select_all("#least-privilege-plan").len(), 0);
    assert_eq!(detail.select_all("#risk-flags").len(), 0);
}

#[sqlx::test]
async fn search_page_finds_permissions_by_description(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = app.browser();
    let page = browser.get("/permissions?q=send+mail+as").await;
    assert!(page.texts("table td code").contains(&"Mail.Send".to_owned()), "{:?}", page.texts("table td code"));
    let json = browser.get_raw("/permissions/search.json?q=Mail.Se").await.text().await.unwrap();
    assert!(
        json.starts_with(r#"[{"api":"microsoft_graph","api_label":"Microsoft Graph","name":"Mail.Send""#),
        "{json}"
    );
}

#[sqlx::test]
async fn csv_export_lists_the_flags(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = open_form(&app).await;
    submit(&mut browser, &with_scopes(&[(GRAPH, "Mail.Send", "application", "Sends receipts")])).await;
    let reviewer = app.signed_in("reviewer@uwaterloo.ca", Role::Reviewer).await;
    let body = reviewer.get_raw("/review/export.csv").await.text().await.unwrap();
    let lines: Vec<&str> = body.lines().collect();
    assert!(lines[0].ends_with(",Permissions to check"), "{}", lines[0]);
    assert!(lines[1].ends_with(",Every mailbox; Admin consent"), "{}", lines[1]);
}

#[sqlx::test]
async fn exchange_name_under_graph_names_the_right_api(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = open_form(&app).await;
    let page = browser.post(FORM, &with_scopes(&[(GRAPH, "SMTP.SendAsApp", "application", "Sends over SMTP")])).await;
    assert_eq!(
        page.error_summary(),
        vec![(
            "#scope_api_0".to_owned(),
            "SMTP.SendAsApp is an Office 365 Exchange Online permission, not a Microsoft Graph one. Choose Office 365 Exchange Online as the API of permission 1".to_owned()
        )]
    );
    assert_eq!(page.attr("#scope_api_0", "aria-invalid").as_deref(), Some("true"));
}

#[sqlx::test]
async fn graph_name_under_exchange_names_the_right_api(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = open_form(&app).await;
    let page = browser.post(FORM, &with_scopes(&[("exchange_online", "Mail.Send", "delegated", "")])).await;
    assert_eq!(page.error_summary()[0].0, "#scope_api_0");
    assert!(
        page.error_summary()[0].1.starts_with("Mail.Send is a Microsoft Graph permission"),
        "{:?}",
        page.error_summary()
    );
}

#[sqlx::test]
async fn search_finds_exchange_online_permissions(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = app.browser();
    let page = browser.get("/permissions?q=SMTP.SendAsApp").await;
    assert_eq!(page.texts("table tbody td:nth-child(2)"), vec!["Office 365 Exchange Online".to_owned()]);
    let json = browser.get_raw("/permissions/search.json?q=full_access").await.text().await.unwrap();
    assert!(
        json.starts_with(
            r#"[{"api":"exchange_online","api_label":"Office 365 Exchange Online","name":"full_access_as_app""#
        ),
        "{json}"
    );
}

#[sqlx::test]
async fn plan_escapes_an_apostrophe_in_the_mailbox(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = open_form(&app).await;
    let mut fields = with_scopes(&[(GRAPH, "Mail.Send", "application", "Sends receipts")]);
    for field in fields.iter_mut() {
        if field.0 == "sending_address" {
            field.1 = "o'brien.bookings@uwaterloo.ca";
        }
    }
    submit(&mut browser, &fields).await;
    let mut reviewer = app.signed_in("reviewer@uwaterloo.ca", Role::Reviewer).await;
    let detail = reviewer.get(&format!("/review/{}", reference(&app).await)).await;
    let all = detail.texts(".plan-steps pre").join("\n");
    assert!(all.contains("'PrimarySmtpAddress -eq ''o''''brien.bookings@uwaterloo.ca'''"), "{all}");
}

#[sqlx::test]
async fn resource_address_before_a_scope_is_removed(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = open_form(&app).await;
    submit(&mut browser, &with_scopes(&[(GRAPH, "https://graph.microsoft.com/Mail.Send", "delegated", "")])).await;
    assert_eq!(stored_scopes(&app).await[0].1, "Mail.Send");
}

#[sqlx::test]
async fn other_api_named_like_a_listed_one_is_refused(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = open_form(&app).await;
    let mut fields = with_scopes(&[("other", "Mail.Send", "application", "Sends receipts")]);
    for field in fields.iter_mut() {
        if field.0 == "scope_api_name" {
            field.1 = "Microsoft Graph";
        }
    }
    let page = browser.post(FORM, &fields).await;
    assert_eq!(page.error_summary()[0].0, "#scope_api_name_0");
    assert!(
        page.error_summary()[0].1.contains("choose Microsoft Graph as the API of permission 1"),
        "{:?}",
        page.error_summary()
    );
}

#[sqlx::test]
async fn look_alike_letters_cannot_be_kept_as_typed(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = open_form(&app).await;
    let mut fields = with_scopes(&[(GRAPH, "Mail.S\u{0435}nd", "application", "Sends receipts")]);
    fields.push(("scope_confirmed", "Mail.S\u{0435}nd"));
    let page = browser.post(FORM, &fields).await;
    assert_eq!(page.error_summary()[0].0, "#scope_name_0");
    assert!(page.error_summary()[0].1.contains("a letter from another alphabet"), "{:?}", page.error_summary());
}

#[sqlx::test]
async fn several_scopes_in_one_row_are_refused(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = open_form(&app).await;
    let page = browser.post(FORM, &with_scopes(&[(GRAPH, "Mail.Send,Mail.Read", "delegated", "")])).await;
    assert!(page.error_summary()[0].1.starts_with("Enter one permission in each row"), "{:?}", page.error_summary());
    let page =
        browser.post(FORM, &with_scopes(&[(GRAPH, "https://graph.microsoft.com/.default", "delegated", "")])).await;
    assert!(page.error_summary()[0].1.starts_with("Permission 1 is .default"), "{:?}", page.error_summary());
}

#[sqlx::test]
async fn notes_ignore_a_resource_address(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let browser = app.browser();
    let body = browser
        .get_raw("/permissions/notes.json?api=microsoft_graph&name=https%3A%2F%2Fgraph.microsoft.com%2FMail.Send&type=application")
        .await
        .text()
        .await
        .unwrap();
    assert!(body.contains("every mailbox at the university"), "{body}");
}

#[sqlx::test]
async fn granted_permissions_keep_their_api(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = open_form(&app).await;
    submit(&mut browser, &with_scopes(&[("exchange_online", "SMTP.SendAsApp", "application", "Sends over SMTP")]))
        .await;
    let reference = reference(&app).await;
    let mut reviewer = app.signed_in("reviewer@uwaterloo.ca", Role::Reviewer).await;
    let base = format!("/review/{reference}");
    let page = reviewer.post(&format!("{base}/take"), &[("version", "1")]).await;
    assert_eq!(page.attr("#granted_api_0 option[selected]", "value").as_deref(), Some("exchange_online"));
    let version = page.attr("input[name=version]", "value").unwrap();
    reviewer
        .post(
            &format!("{base}/approve"),
            &[
                ("version", &version),
                ("approve_client_id", "11111111-2222-3333-4444-555555555555"),
                ("approve_tenant", "uwaterloo.ca"),
                ("credential_type", "certificate"),
                ("approve_expires_on", "2099-06-30"),
                ("granted_api", "exchange_online"),
                ("granted_api_name", ""),
                ("granted_name", "SMTP.SendAsApp"),
                ("granted_type", "application"),
            ],
        )
        .await;
    let granted: Vec<(String, String)> =
        sqlx::query_as("SELECT api::text, name FROM granted_permissions").fetch_all(&app.pool).await.unwrap();
    assert_eq!(granted, vec![("exchange_online".to_owned(), "SMTP.SendAsApp".to_owned())]);
    let detail = browser.get(&format!("/requests/{reference}")).await;
    assert!(
        detail.body_text().contains("SMTP.SendAsApp (Application, Office 365 Exchange Online)"),
        "{}",
        detail.body_text()
    );
}

#[sqlx::test]
async fn reviewer_following_a_requester_link_reaches_the_review_page(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = open_form(&app).await;
    submit(&mut browser, &with_scopes(&[(GRAPH, "User.Read", "delegated", "")])).await;
    let reference = reference(&app).await;
    let reviewer = app.signed_in("reviewer@uwaterloo.ca", Role::Reviewer).await;
    let response = reviewer.get_raw(&format!("/requests/{reference}")).await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], format!("/review/{reference}").as_str());
}
