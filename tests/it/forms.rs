//! Request-form validation: each invalid field gets its message, and every
//! other value the user typed comes back.

use ist_intake::accounts::Role;
use sqlx::PgPool;

use crate::support::{
    Browser, PASSWORD, TO_EXCEPTION, TestApp, fill_app_registration, form_values, valid_app_registration,
    valid_exception,
};

/// Replaces the first field called `name`, or removes every field called
/// `name` when `value` is None.
fn with_field(
    fields: &[(&'static str, &'static str)],
    name: &str,
    value: Option<&'static str>,
) -> Vec<(&'static str, &'static str)> {
    let mut replaced = false;
    fields
        .iter()
        .filter_map(|(field, current)| {
            if *field != name {
                return Some((*field, *current));
            }
            match value {
                None => None,
                Some(_) if replaced => Some((*field, *current)),
                Some(new_value) => {
                    replaced = true;
                    Some((*field, new_value))
                }
            }
        })
        .collect()
}

const LONG_NAME: &str = "Acme Room Booking Acme Room Booking Acme Room Booking Acme Room Booking Acme Room Booking Acme Room Booking Acme Room Booking Acme Room Booking Acme Room Booking Acme Room Booking Acme Room Booking Acme X";

async fn requester(app: &TestApp) -> Browser {
    let mut browser = app.browser();
    browser.sign_in("dana.lee@uwaterloo.ca", PASSWORD).await;
    browser
}

#[sqlx::test]
async fn app_registration_rejects_each_invalid_field(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.add_user("dana.lee@uwaterloo.ca", "Dana Lee", Role::Requester).await;
    let valid = valid_app_registration();

    let cases: Vec<(&str, Option<&'static str>, &str, &str)> = vec![
        ("application_name", Some(""), "application_name", "Enter the application name"),
        ("application_name", Some(LONG_NAME), "application_name", "Application name must be 200 characters or fewer"),
        ("vendor", Some("   "), "vendor", "Enter the vendor's name"),
        ("business_purpose", Some(""), "business_purpose", "Enter the business purpose"),
        ("sending_address", Some(""), "sending_address", "Enter the sending email address"),
        (
            "sending_address",
            Some("rooms at uwaterloo"),
            "sending_address",
            "Enter the sending email address in the correct format, like name@uwaterloo.ca",
        ),
        (
            "sending_address",
            Some("rooms@uwaterloo"),
            "sending_address",
            "Enter the sending email address in the correct format, like name@uwaterloo.ca",
        ),
        (
            "sending_address",
            Some("rooms@gmail.com"),
            "sending_address",
            "Enter a sending email address at uwaterloo.ca, because only university mailboxes can be registered",
        ),
        (
            "sending_address",
            Some("rooms@evil-uwaterloo.ca"),
            "sending_address",
            "Enter a sending email address at uwaterloo.ca, because only university mailboxes can be registered",
        ),
        (
            "vendor_link",
            Some("ftp://acme.example/docs"),
            "vendor_link_0",
            "Enter link 1 as a full web address that starts with https:// or http://",
        ),
        (
            "vendor_link",
            Some("javascript:alert(1)"),
            "vendor_link_0",
            "Enter link 1 as a full web address that starts with https:// or http://",
        ),
        (
            "vendor_link",
            None,
            "vendor_link_0",
            "Give at least one link to the vendor's documentation, or upload a document from the vendor",
        ),
        ("scope_name", Some(""), "scope_name_0", "Enter the name of permission 1, such as Mail.Send"),
        (
            "scope_name",
            Some("Mail Send"),
            "scope_name_0",
            "Enter one permission in each row, without spaces or commas, such as Mail.Send. Add a row for each further permission. Did you mean Mail.Send?",
        ),
        ("scope_type", Some(""), "scope_type_0", "Choose whether permission 1 is delegated or application"),
        ("scope_type", Some("owner"), "scope_type_0", "Choose whether permission 1 is delegated or application"),
        ("requester_name", Some(""), "requester_name", "Enter your name"),
        (
            "requester_email",
            Some("dana@"),
            "requester_email",
            "Enter your email address in the correct format, like name@uwaterloo.ca",
        ),
        ("department", Some(""), "department", "Enter your department"),
    ];

    for (field, value, error_id, message) in cases {
        let case = format!("{field}={value:?}");
        let fields = with_field(&valid, field, value);
        let mut browser = requester(&app).await;
        let page = fill_app_registration(&mut browser, &fields).await;

        assert_eq!(page.status, 422, "{case}");
        assert_eq!(page.error_summary(), vec![(format!("#{error_id}"), message.to_owned())], "{case}");
        assert_eq!(page.text(&format!("#{error_id}-error")), format!("Error: {message}"), "{case}");
        assert_eq!(page.attr(&format!("#{error_id}"), "aria-invalid").as_deref(), Some("true"), "{case}");

        let shown = form_values(&page);
        for (name, submitted) in fields
            .iter()
            .filter(|(name, _)| !["vendor_link", "scope_name", "scope_type", "scope_justification"].contains(name))
        {
            assert_eq!(shown.get(*name).map(String::as_str), Some(submitted.trim()), "{case}: {name} kept");
        }
        let links: Vec<&str> =
            fields.iter().filter(|(name, _)| *name == "vendor_link").map(|(_, value)| *value).collect();
        for (index, link) in links.iter().enumerate() {
            assert_eq!(
                shown.get(&format!("vendor_link_{index}")).map(String::as_str),
                Some(*link),
                "{case}: link {index} kept"
            );
        }
        let scope_types: Vec<String> = page
            .select_all("select[name=scope_type] option[selected]")
            .iter()
            .map(|option| option.value().attr("value").unwrap().to_owned())
            .collect();
        let submitted_types: Vec<&str> =
            fields.iter().filter(|(name, _)| *name == "scope_type").map(|(_, value)| *value).collect();
        let expected_types: Vec<&str> =
            submitted_types.iter().map(|value| if *value == "owner" { "" } else { *value }).collect();
        assert_eq!(scope_types, expected_types, "{case}: permission types kept");
    }
    assert_eq!(app.count("SELECT count(*) FROM requests").await, 0);
}

#[sqlx::test]
async fn app_registration_reports_every_invalid_field_at_once(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.add_user("dana.lee@uwaterloo.ca", "Dana Lee", Role::Requester).await;
    let mut browser = requester(&app).await;
    let page = fill_app_registration(&mut browser, &[("requester_name", "Dana Lee")]).await;
    let targets: Vec<String> = page.error_summary().into_iter().map(|(href, _)| href).collect();
    assert_eq!(
        targets,
        vec![
            "#application_name",
            "#vendor",
            "#business_purpose",
            "#sending_address",
            "#vendor_link_0",
            "#scope_name_0",
            "#requester_email",
            "#department",
        ]
    );
    for target in &targets {
        assert_eq!(page.select_all(target).len(), 1, "{target} exists on the page");
    }
}

#[sqlx::test]
async fn app_registration_form_prefills_account(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.add_user("dana.lee@uwaterloo.ca", "Dana Lee", Role::Requester).await;
    let mut browser = requester(&app).await;
    browser.answer_all(crate::support::TO_APP_REGISTRATION).await;
    let form = browser.get("/requests/new/app-registration").await;
    assert_eq!(form.attr("#requester_name", "value").as_deref(), Some("Dana Lee"));
    assert_eq!(form.attr("#requester_email", "value").as_deref(), Some("dana.lee@uwaterloo.ca"));
    assert_eq!(form.attr("#department", "value").as_deref(), Some("Faculty of Mathematics"));
}

#[sqlx::test]
async fn add_row_buttons_keep_values(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.add_user("dana.lee@uwaterloo.ca", "Dana Lee", Role::Requester).await;
    let mut browser = requester(&app).await;
    let mut fields = vec![
        ("application_name", "Acme"),
        ("vendor_link", "https://acme.example/a"),
        ("scope_name", "Mail.Send"),
        ("scope_type", "application"),
    ];
    fields.push(("action", "add_link"));
    let page = fill_app_registration(&mut browser, &fields).await;
    assert_eq!(page.status, 200);
    assert!(page.error_summary().is_empty());
    assert_eq!(page.attr("#vendor_link_0", "value").as_deref(), Some("https://acme.example/a"));
    assert_eq!(page.attr("#vendor_link_1", "value").as_deref(), Some(""));
    assert_eq!(page.attr("#application_name", "value").as_deref(), Some("Acme"));

    fields.pop();
    fields.push(("action", "add_scope"));
    let page = browser.post("/requests/new/app-registration", &fields).await;
    assert_eq!(page.select_all("input[name=scope_name]").len(), 2);
    assert_eq!(page.attr("#scope_name_0", "value").as_deref(), Some("Mail.Send"));
}

#[sqlx::test]
async fn form_needs_tree_outcome(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.add_user("dana.lee@uwaterloo.ca", "Dana Lee", Role::Requester).await;
    let mut browser = requester(&app).await;
    let page = browser.get("/requests/new/app-registration").await;
    assert_eq!(page.path, "/tree/hosting");
    browser.answer_all(TO_EXCEPTION).await;
    let page = browser.get("/requests/new/app-registration").await;
    assert_eq!(page.path, "/tree/outcome");
}

#[sqlx::test]
async fn exception_rejects_each_invalid_field(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.add_user("dana.lee@uwaterloo.ca", "Dana Lee", Role::Requester).await;
    let valid = valid_exception();
    let cases: Vec<(&str, Option<&'static str>, &str, &str)> = vec![
        ("application_name", Some(""), "application_name", "Enter the application name"),
        (
            "application_details",
            Some(""),
            "application_details",
            "Enter what the application does and why it sends email",
        ),
        ("hosting_location", Some(""), "hosting_location", "Enter where the application is hosted"),
        (
            "authentication_method",
            Some(""),
            "authentication_method",
            "Enter how the application authenticates to send email",
        ),
        ("sending_pattern", Some(""), "sending_pattern", "Enter when and to whom the application sends"),
        ("expected_volume", Some(""), "expected_volume", "Enter the expected volume"),
        (
            "sending_address",
            Some("lab@@uwaterloo.ca"),
            "sending_address",
            "Enter the sending email address in the correct format, like name@uwaterloo.ca",
        ),
        (
            "vendor_link",
            Some("spectro.example/manual"),
            "vendor_link_0",
            "Enter link 1 as a full web address that starts with https:// or http://",
        ),
        ("unmet_requirements", Some(" "), "unmet_requirements", "Enter the requirements your case does not meet"),
        ("department", Some(""), "department", "Enter your department"),
    ];
    for (field, value, error_id, message) in cases {
        let case = format!("{field}={value:?}");
        let fields = with_field(&valid, field, value);
        let mut browser = requester(&app).await;
        browser.answer_all(TO_EXCEPTION).await;
        let page = browser.post("/requests/new/exception", &fields).await;
        assert_eq!(page.status, 422, "{case}");
        assert_eq!(page.error_summary(), vec![(format!("#{error_id}"), message.to_owned())], "{case}");
        let shown = form_values(&page);
        for (name, submitted) in fields.iter().filter(|(name, _)| *name != "vendor_link" && *name != field) {
            assert_eq!(shown.get(*name).map(|value| value.trim()), Some(submitted.trim()), "{case}: {name} kept");
        }
    }
}

#[sqlx::test]
async fn exception_links_are_optional(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.add_user("dana.lee@uwaterloo.ca", "Dana Lee", Role::Requester).await;
    let mut browser = requester(&app).await;
    browser.answer_all(TO_EXCEPTION).await;
    let fields = with_field(&valid_exception(), "vendor_link", Some(""));
    let page = browser.post("/requests/new/exception", &fields).await;
    assert_eq!(page.path, "/requests/new/exception/check");
}

#[sqlx::test]
async fn control_characters_are_rejected_by_name(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.add_user("dana.lee@uwaterloo.ca", "Dana Lee", Role::Requester).await;
    let cases: Vec<(&str, &'static str, &str, &str)> = vec![
        (
            "vendor",
            "Acme\u{0}Software",
            "vendor",
            "Vendor contains an invisible or control character, such as a null byte or a text-direction mark. Remove it and try again",
        ),
        (
            "vendor_link",
            "https://acme.example/\u{0}docs",
            "vendor_link_0",
            "Enter link 1 as a full web address that starts with https:// or http://",
        ),
        (
            "scope_name",
            "Mail.Send\u{0}",
            "scope_name_0",
            "Permission 1 contains an invisible or control character, such as a null byte or a text-direction mark. Remove it and try again",
        ),
    ];
    for (field, value, error_id, message) in cases {
        let fields = with_field(&valid_app_registration(), field, Some(value));
        let mut browser = requester(&app).await;
        let page = fill_app_registration(&mut browser, &fields).await;
        assert_eq!(page.status, 422, "{field}");
        assert_eq!(page.error_summary(), vec![(format!("#{error_id}"), message.to_owned())], "{field}");
    }
}

#[sqlx::test]
async fn overlong_purpose_names_the_limit(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.add_user("dana.lee@uwaterloo.ca", "Dana Lee", Role::Requester).await;
    let long = "x".repeat(4001);
    let long: &'static str = Box::leak(long.into_boxed_str());
    let fields = with_field(&valid_app_registration(), "business_purpose", Some(long));
    let mut browser = requester(&app).await;
    let page = fill_app_registration(&mut browser, &fields).await;
    assert_eq!(
        page.error_summary(),
        vec![("#business_purpose".to_owned(), "Business purpose must be 4000 characters or fewer".to_owned())]
    );
    assert_eq!(page.text("#business_purpose").len(), 4001);
}

#[sqlx::test]
async fn too_many_links_are_refused_not_dropped(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.add_user("dana.lee@uwaterloo.ca", "Dana Lee", Role::Requester).await;
    let mut fields: Vec<(&str, &str)> =
        valid_app_registration().into_iter().filter(|(name, _)| *name != "vendor_link").collect();
    for _ in 0..21 {
        fields.push(("vendor_link", "https://acme.example/docs"));
    }
    let mut browser = requester(&app).await;
    let page = fill_app_registration(&mut browser, &fields).await;
    assert_eq!(
        page.error_summary(),
        vec![("#vendor_link_20".to_owned(), "Enter at most 20 links. Remove link 21 or a link before it".to_owned())]
    );
    assert_eq!(page.select_all("input[name=vendor_link]").len(), 21);
}

#[sqlx::test]
async fn vendor_checklist_links_back_to_request(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = app.browser();
    let checklist = browser.answer_all(&[("hosting", "external"), ("vendor_documentation", "no")]).await;
    let change = checklist.attr("a[href='/tree/vendor_documentation?change=1']", "href");
    assert_eq!(change.as_deref(), Some("/tree/vendor_documentation?change=1"));
    let outcome = browser.post("/tree/vendor_documentation", &[("answer", "yes"), ("change", "1")]).await;
    assert_eq!(outcome.h1(), "Request a Microsoft 365 application registration");
}

#[sqlx::test]
async fn enter_key_continues_rather_than_adding_rows(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.add_user("dana.lee@uwaterloo.ca", "Dana Lee", Role::Requester).await;
    let mut browser = requester(&app).await;
    browser.answer_all(crate::support::TO_APP_REGISTRATION).await;
    let app_form = browser.get("/requests/new/app-registration").await;
    browser.post("/tree/restart", &[]).await;
    browser.answer_all(TO_EXCEPTION).await;
    let exception_form = browser.get("/requests/new/exception").await;
    for page in [app_form, exception_form] {
        let buttons = page.select_all("main form[novalidate] button[type=submit]");
        let first = buttons.first().expect("a submit button");
        // Implicit submission uses the first submit button, so it must be the one with no action.
        assert_eq!(first.value().attr("name"), None, "{}", page.path);
        assert_eq!(first.text().collect::<String>(), "Continue", "{}", page.path);
    }
}

#[sqlx::test]
async fn bidirectional_override_is_rejected(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.add_user("dana.lee@uwaterloo.ca", "Dana Lee", Role::Requester).await;
    let fields = with_field(&valid_app_registration(), "application_name", Some("Booking\u{202E}gnp.exe"));
    let mut browser = requester(&app).await;
    let page = fill_app_registration(&mut browser, &fields).await;
    assert_eq!(
        page.error_summary(),
        vec![(
            "#application_name".to_owned(),
            "Application name contains an invisible or control character, such as a null byte or a text-direction mark. Remove it and try again".to_owned()
        )]
    );
}

#[sqlx::test]
async fn invisible_and_multiline_input_is_rejected(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.add_user("dana.lee@uwaterloo.ca", "Dana Lee", Role::Requester).await;
    let cases: Vec<(&str, &'static str, &str, &str)> = vec![
        (
            "vendor",
            "\u{200B}",
            "vendor",
            "Vendor contains an invisible or control character, such as a null byte or a text-direction mark. Remove it and try again",
        ),
        (
            "application_name",
            "Acme\nBooking",
            "application_name",
            "Enter the application name on one line, without line breaks or tabs",
        ),
        (
            "vendor_link",
            "https://user:secret@acme.example/docs",
            "vendor_link_0",
            "Remove the user name and password from link 1; IST needs a link anyone at the university can open",
        ),
    ];
    for (field, value, error_id, message) in cases {
        let fields = with_field(&valid_app_registration(), field, Some(value));
        let mut browser = requester(&app).await;
        let page = fill_app_registration(&mut browser, &fields).await;
        assert_eq!(page.error_summary(), vec![(format!("#{error_id}"), message.to_owned())], "{field}={value:?}");
    }
}

#[sqlx::test]
async fn add_link_stops_at_limit(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.add_user("dana.lee@uwaterloo.ca", "Dana Lee", Role::Requester).await;
    let mut fields: Vec<(&str, &str)> = vec![("application_name", "Acme")];
    for _ in 0..20 {
        fields.push(("vendor_link", "https://acme.example/docs"));
    }
    fields.push(("action", "add_link"));
    let mut browser = requester(&app).await;
    let page = fill_app_registration(&mut browser, &fields).await;
    assert_eq!(page.select_all("input[name=vendor_link]").len(), 20);
    assert_eq!(page.error_summary(), vec![("#vendor_link_19".to_owned(), "You can give at most 20 links".to_owned())]);
}

#[sqlx::test]
async fn blank_rows_beyond_limit_are_compacted(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.add_user("dana.lee@uwaterloo.ca", "Dana Lee", Role::Requester).await;
    let mut fields: Vec<(&str, &str)> = vec![("application_name", "Acme"), ("vendor_link", "https://acme.example/a")];
    for _ in 0..5000 {
        fields.push(("vendor_link", ""));
    }
    fields.push(("action", "add_link"));
    let mut browser = requester(&app).await;
    let page = fill_app_registration(&mut browser, &fields).await;
    let links = page.select_all("input[name=vendor_link]");
    assert_eq!(links.len(), 2);
    assert_eq!(page.attr("#vendor_link_0", "value").as_deref(), Some("https://acme.example/a"));
}
