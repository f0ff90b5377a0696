//! Walking the decision tree over HTTP.

use ist_intake::accounts::Role;
use ist_intake::policy::Policy;
use sqlx::PgPool;

use crate::support::{TO_APP_REGISTRATION, TO_EXCEPTION, TO_SELF_SERVICE, TestApp};

#[sqlx::test]
async fn every_policy_path_reaches_its_outcome(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let policy = Policy::default_policy();
    let paths = policy.all_paths();
    assert!(paths.len() >= 12, "the default policy has {} paths", paths.len());

    for (answers, outcome_id) in paths {
        let mut browser = app.browser();
        let mut last = None;
        for (question, answer) in &answers {
            last = Some(browser.answer(question, answer).await);
        }
        let page = last.unwrap();
        let expected = policy.outcome(&outcome_id).unwrap();
        assert_eq!(page.path, "/tree/outcome", "path {answers:?}");
        assert_eq!(page.h1(), expected.title, "path {answers:?}");
        let shown = page.texts(".summary-list dd:not(.summary-action)");
        assert_eq!(shown.len(), answers.len(), "answers listed for path {answers:?}");
    }
}

#[sqlx::test]
async fn first_visit_starts_at_hosting_question(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let page = app.browser().get("/tree").await;
    assert_eq!(page.path, "/tree/hosting");
    assert_eq!(page.h1(), "Where is the application hosted?");
}

#[sqlx::test]
async fn hosting_question_explains_how_to_tell(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let page = app.browser().get("/tree/hosting").await;
    assert_eq!(page.text("details.help summary"), "How to tell where an application is hosted");
    assert_eq!(page.select_all("input[type=radio][name=answer]").len(), 3);
}

#[sqlx::test]
async fn question_out_of_order_redirects_to_first_unanswered(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = app.browser();
    let page = browser.get("/tree/volume").await;
    assert_eq!(page.path, "/tree/hosting");

    browser.answer("hosting", "internal").await;
    let page = browser.get("/tree/send_as").await;
    assert_eq!(page.path, "/tree/from_address");
}

#[sqlx::test]
async fn outcome_before_the_end_redirects_to_question(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = app.browser();
    browser.answer("hosting", "internal").await;
    let page = browser.get("/tree/outcome").await;
    assert_eq!(page.path, "/tree/from_address");
}

#[sqlx::test]
async fn unknown_question_is_not_found(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let page = app.browser().get("/tree/no_such_question").await;
    assert_eq!(page.status, 404);
    assert_eq!(page.h1(), "Page not found");
}

#[sqlx::test]
async fn answer_for_question_not_on_path_is_ignored(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = app.browser();
    browser.answer("hosting", "external").await;
    // from_address is on the internal branch only.
    let page = browser.answer("from_address", "yes").await;
    assert_eq!(page.path, "/tree/vendor_documentation");
    let outcome = browser.answer("vendor_documentation", "yes").await;
    assert_eq!(outcome.h1(), "Request a Microsoft 365 application registration");
}

#[sqlx::test]
async fn missing_answer_shows_error_summary(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = app.browser();
    browser.get("/tree/hosting").await;
    let page = browser.post("/tree/hosting", &[]).await;
    assert_eq!(page.status, 422);
    assert_eq!(page.error_summary(), vec![("#answer-internal".to_owned(), "Select an answer to continue".to_owned())]);
    assert_eq!(page.select_all("#answer-internal").len(), 1);
}

#[sqlx::test]
async fn invalid_answer_is_rejected(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = app.browser();
    let page = browser.answer("hosting", "moon").await;
    assert_eq!(page.status, 422);
    assert_eq!(page.path, "/tree/hosting");
}

#[sqlx::test]
async fn back_link_returns_to_previous_question_with_answer(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = app.browser();
    let page = browser.answer_all(&TO_SELF_SERVICE[..2]).await;
    assert_eq!(page.path, "/tree/smtp_authentication");
    assert_eq!(page.attr("a.back-link", "href").as_deref(), Some("/tree/from_address"));

    let previous = browser.get("/tree/from_address").await;
    assert_eq!(previous.attr("input[name=answer][checked]", "value").as_deref(), Some("yes"));
    assert_eq!(previous.attr("a.back-link", "href").as_deref(), Some("/tree/hosting"));
}

#[sqlx::test]
async fn first_question_back_link_goes_to_start(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let page = app.browser().get("/tree/hosting").await;
    assert_eq!(page.attr("a.back-link", "href").as_deref(), Some("/"));
}

#[sqlx::test]
async fn change_link_updates_answer_and_outcome(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = app.browser();
    let outcome = browser.answer_all(TO_SELF_SERVICE).await;
    let change_links: Vec<String> = outcome
        .select_all(".summary-action a")
        .iter()
        .map(|link| link.value().attr("href").unwrap().to_owned())
        .collect();
    assert_eq!(change_links[3], "/tree/send_as?change=1");

    let question = browser.get("/tree/send_as?change=1").await;
    assert_eq!(question.attr("input[name=answer][checked]", "value").as_deref(), Some("yes"));
    let changed = browser.post("/tree/send_as", &[("answer", "no"), ("change", "1")]).await;
    assert_eq!(changed.path, "/tree/outcome");
    assert_eq!(changed.h1(), "Your case needs a review outside the standard process");
}

#[sqlx::test]
async fn change_keeps_later_answers_when_path_is_same(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = app.browser();
    browser.answer_all(TO_SELF_SERVICE).await;
    let page = browser.post("/tree/smtp_authentication", &[("answer", "yes"), ("change", "1")]).await;
    assert_eq!(page.path, "/tree/outcome");
    assert_eq!(page.h1(), "You can use the campus relay without approval");
}

#[sqlx::test]
async fn every_question_offers_not_covered_exit(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let policy = Policy::default_policy();
    for question in policy.questions() {
        let mut browser = app.browser();
        // Reach the question by the first path that contains it.
        let (answers, _) = policy
            .all_paths()
            .into_iter()
            .find(|(answers, _)| answers.iter().any(|(id, _)| *id == question.id))
            .unwrap();
        for (id, answer) in answers.iter().take_while(|(id, _)| *id != question.id) {
            browser.answer(id, answer).await;
        }
        let page = browser.get(&format!("/tree/{}", question.id)).await;
        let action = format!("/tree/{}/not-covered", question.id);
        assert_eq!(page.select_all(&format!("form[action='{action}']")).len(), 1, "{}", question.id);

        let outcome = browser.post(&action, &[]).await;
        assert_eq!(outcome.h1(), "Your case needs a review outside the standard process", "{}", question.id);
        assert!(
            outcome.body_text().contains(&format!("the requester stopped at the question \"{}\"", question.title)),
            "{}",
            question.id
        );
    }
}

#[sqlx::test]
async fn signing_in_halfway_keeps_answers(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.add_user("kim@uwaterloo.ca", "Kim Park", Role::Requester).await;
    let mut browser = app.browser();
    browser.answer_all(TO_EXCEPTION).await;

    let sign_in = browser.get("/requests/new/exception").await;
    assert_eq!(sign_in.path, "/sign-in");
    assert_eq!(sign_in.attr("input[name=next]", "value").as_deref(), Some("/requests/new/exception"));

    let form = browser
        .post(
            "/sign-in",
            &[
                ("email", "kim@uwaterloo.ca"),
                ("password", crate::support::PASSWORD),
                ("next", "/requests/new/exception"),
            ],
        )
        .await;
    assert_eq!(form.path, "/requests/new/exception");
    let unmet = form.text("#unmet_requirements");
    assert!(unmet.starts_with("Sending address:"), "{unmet}");
}

#[sqlx::test]
async fn restart_forgets_answers(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = app.browser();
    browser.answer_all(TO_APP_REGISTRATION).await;
    let page = browser.post("/tree/restart", &[]).await;
    assert_eq!(page.path, "/tree/hosting");
    assert_eq!(page.select_all("input[name=answer][checked]").len(), 0);
    let outcome = browser.get("/tree/outcome").await;
    assert_eq!(outcome.path, "/tree/hosting");
}

#[sqlx::test]
async fn start_page_offers_to_continue(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = app.browser();
    browser.answer("hosting", "internal").await;
    let start = browser.get("/").await;
    assert_eq!(start.attr("a.button", "href").as_deref(), Some("/tree/from_address"));
}

#[sqlx::test]
async fn change_page_back_link_returns_to_outcome(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = app.browser();
    browser.answer_all(TO_SELF_SERVICE).await;
    let page = browser.get("/tree/send_as?change=1").await;
    assert_eq!(page.attr("a.back-link", "href").as_deref(), Some("/tree/outcome"));
}

#[sqlx::test]
async fn change_mode_survives_missing_answer(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = app.browser();
    browser.answer_all(TO_SELF_SERVICE).await;
    browser.get("/tree/volume?change=1").await;
    let page = browser.post("/tree/volume", &[("change", "1")]).await;
    assert_eq!(page.status, 422);
    assert_eq!(page.attr("a.back-link", "href").as_deref(), Some("/tree/outcome"));
    assert_eq!(page.attr("input[name=answer][checked]", "value").as_deref(), Some("yes"));
    assert_eq!(page.attr("input[name=change]", "value").as_deref(), Some("1"));
}

#[sqlx::test]
async fn change_zero_is_not_change_mode(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut browser = app.browser();
    browser.answer_all(TO_SELF_SERVICE).await;
    let page = browser.get("/tree/send_as?change=0").await;
    assert!(page.select_all("input[name=change]").is_empty());
    assert_eq!(page.attr("a.back-link", "href").as_deref(), Some("/tree/smtp_authentication"));
}
