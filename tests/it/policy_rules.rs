//! The relay policy, rule by rule, as a user sees it.

use ist_intake::accounts::Role;
use ist_intake::config::Settings;
use ist_intake::policy::Policy;
use sqlx::PgPool;

use crate::support::{TO_APP_REGISTRATION, TO_EXCEPTION, TO_SELF_SERVICE, TestApp};

/// The internal-branch questions, one per relay requirement, in tree order.
const INTERNAL_REQUIREMENTS: [&str; 4] = ["from_address", "smtp_authentication", "send_as", "volume"];

#[sqlx::test]
async fn internal_app_meeting_every_requirement_needs_no_approval(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let page = app.browser().answer_all(TO_SELF_SERVICE).await;
    assert_eq!(page.h1(), "You can use the campus relay without approval");
    assert!(page.text(".panel-success").contains("No approval is needed."));
    let credentials = page.texts("h2 + ul li");
    assert!(
        credentials.iter().any(|line| line.contains("Send As permission on the sending mailbox")),
        "{credentials:?}"
    );
    assert!(credentials.iter().any(|line| line.contains("It does not have to own the mailbox")), "{credentials:?}");
}

#[sqlx::test]
async fn internal_requirement_not_met_prefills_exception_form(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let policy = Policy::default_policy();
    app.add_user("ren@uwaterloo.ca", "Ren Ito", Role::Requester).await;

    for (position, question_id) in INTERNAL_REQUIREMENTS.iter().enumerate() {
        for answer_id in ["no", "not_sure"] {
            let case = format!("{question_id}={answer_id}");
            let mut browser = app.browser();
            browser.sign_in("ren@uwaterloo.ca", crate::support::PASSWORD).await;
            browser.answer("hosting", "internal").await;
            for earlier in &INTERNAL_REQUIREMENTS[..position] {
                browser.answer(earlier, "yes").await;
            }
            let outcome = browser.answer(question_id, answer_id).await;
            assert_eq!(outcome.h1(), "Your case needs a review outside the standard process", "{case}");

            let form = browser.get("/requests/new/exception").await;
            let expected = policy.question(question_id).unwrap().answer(answer_id).unwrap().unmet.clone().unwrap();
            assert_eq!(form.text("#unmet_requirements"), expected, "{case}");
            assert_eq!(
                form.attr("#hosting_location", "value").as_deref(),
                Some("Internally hosted, on university infrastructure"),
                "{case}"
            );
        }
    }
}

#[sqlx::test]
async fn relay_settings_default_to_article_values(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let page = app.browser().answer_all(TO_SELF_SERVICE).await;
    assert_eq!(page.texts(".settings-table th"), vec!["Server", "Port", "Encryption", "Authentication"]);
    assert_eq!(page.texts(".settings-table td"), vec!["smtp.uwaterloo.ca", "587", "STARTTLS", "Required"]);
}

#[sqlx::test]
async fn relay_settings_come_from_configuration(pool: PgPool) {
    let mut settings = Settings::default();
    settings.relay.host = "relay.test.example".to_owned();
    settings.relay.port = 2587;
    let app = TestApp::spawn_with(pool, settings).await;
    let page = app.browser().answer_all(TO_SELF_SERVICE).await;
    assert_eq!(page.text(".settings-table tr:nth-child(1) td"), "relay.test.example");
    assert_eq!(page.text(".settings-table tr:nth-child(2) td"), "2587");
}

#[sqlx::test]
async fn external_app_cannot_use_relay_or_basic_auth(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let question = app.browser().answer("hosting", "external").await;
    assert_eq!(question.path, "/tree/vendor_documentation");
    let hint = question.text("#question-hint");
    assert!(hint.contains("cannot use the relay and cannot use basic SMTP authentication"), "{hint}");
    assert!(hint.contains("Microsoft 365 application registration"), "{hint}");
}

#[sqlx::test]
async fn missing_vendor_documentation_gives_checklist(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    for answer in ["no", "not_sure"] {
        let page = app.browser().answer_all(&[("hosting", "external"), ("vendor_documentation", answer)]).await;
        assert_eq!(page.h1(), "Ask the vendor for documentation first", "{answer}");
        let checklist = page.texts("ul.checklist li");
        assert_eq!(checklist.len(), 3, "{answer}");
        assert!(checklist[0].contains("how the application connects to Microsoft 365"), "{answer}");
        assert!(checklist[1].contains("permissions, scopes or secrets"), "{answer}");
        assert!(checklist[2].contains("application registration"), "{answer}");
    }
}

#[sqlx::test]
async fn documented_external_app_is_offered_registration_request(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let page = app.browser().answer_all(TO_APP_REGISTRATION).await;
    assert_eq!(page.h1(), "Request a Microsoft 365 application registration");
    assert_eq!(page.attr("a.button", "href").as_deref(), Some("/requests/new/app-registration"));
}

#[sqlx::test]
async fn unsure_hosting_leads_to_exception_review(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let page = app.browser().answer("hosting", "not_sure").await;
    assert_eq!(page.h1(), "Your case needs a review outside the standard process");
    assert_eq!(page.attr("a.button", "href").as_deref(), Some("/requests/new/exception"));
}

#[sqlx::test]
async fn every_outcome_links_service_desk_and_article(pool: PgPool) {
    let settings = Settings {
        service_desk_url: "https://desk.test.example/new".parse().unwrap(),
        relay_article_url: "https://kb.test.example/relay".parse().unwrap(),
        ..Settings::default()
    };
    let app = TestApp::spawn_with(pool, settings).await;
    let paths: [&[(&str, &str)]; 4] = [
        TO_SELF_SERVICE,
        &[("hosting", "external"), ("vendor_documentation", "no")],
        TO_APP_REGISTRATION,
        TO_EXCEPTION,
    ];
    for answers in paths {
        let page = app.browser().answer_all(answers).await;
        let hrefs: Vec<String> =
            page.select_all("main a").iter().filter_map(|link| link.value().attr("href").map(str::to_owned)).collect();
        assert!(hrefs.contains(&"https://desk.test.example/new".to_owned()), "{answers:?}: {hrefs:?}");
        assert!(hrefs.contains(&"https://kb.test.example/relay".to_owned()), "{answers:?}: {hrefs:?}");
    }
}
