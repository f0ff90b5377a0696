//! The test harness: a served app, a cookie-keeping browser and HTML helpers.

use std::collections::HashMap;

use ist_intake::accounts::{self, NewUser, Role, User};
use ist_intake::config::Settings;
use ist_intake::policy::Policy;
use ist_intake::{AppState, router};
use reqwest::StatusCode;
use scraper::{Html, Selector};
use sqlx::PgPool;

pub const PASSWORD: &str = "a long test password";

pub struct TestApp {
    pub address: String,
    pub pool: PgPool,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TestApp {
    /// Stops the server with the test, so it keeps no database connection
    /// when `#[sqlx::test]` drops the test's database.
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl TestApp {
    pub async fn spawn(pool: PgPool) -> TestApp {
        TestApp::spawn_with(pool, Settings::default()).await
    }

    pub async fn spawn_with(pool: PgPool, settings: Settings) -> TestApp {
        let state = AppState::new(pool.clone(), Policy::default_policy(), settings);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
        let address = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            axum::serve(listener, router(state)).await.expect("serve");
        });
        TestApp { address, pool, server }
    }

    pub fn browser(&self) -> Browser {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        let client = reqwest::Client::builder().cookie_provider(jar.clone()).build().unwrap();
        let raw_client = reqwest::Client::builder()
            .cookie_provider(jar)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Browser { client, raw_client, base: self.address.clone(), csrf_token: None }
    }

    pub async fn add_user(&self, email: &str, name: &str, role: Role) -> User {
        let mut conn = self.pool.acquire().await.unwrap();
        accounts::create_user(
            &mut conn,
            NewUser {
                email: email.to_owned(),
                display_name: name.to_owned(),
                department: Some("Faculty of Mathematics".to_owned()),
                role,
                password: PASSWORD.to_owned(),
            },
        )
        .await
        .expect("create user")
    }

    /// Creates a user with this role and returns a browser signed in as them.
    pub async fn signed_in(&self, email: &str, role: Role) -> Browser {
        self.add_user(email, "Test Person", role).await;
        let mut browser = self.browser();
        browser.sign_in(email, PASSWORD).await;
        browser
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(&self.pool).await.unwrap()
    }
}

/// A page as the browser received it, after redirects.
pub struct Page {
    pub status: StatusCode,
    pub path: String,
    pub html: Html,
}

impl Page {
    pub fn select_all(&self, css: &str) -> Vec<scraper::ElementRef<'_>> {
        let selector = Selector::parse(css).unwrap_or_else(|_| panic!("bad selector {css}"));
        self.html.select(&selector).collect()
    }

    pub fn text(&self, css: &str) -> String {
        let found = self.select_all(css);
        let element = found.first().unwrap_or_else(|| panic!("no {css} on {}", self.path));
        normalize(&element.text().collect::<String>())
    }

    pub fn texts(&self, css: &str) -> Vec<String> {
        self.select_all(css).iter().map(|element| normalize(&element.text().collect::<String>())).collect()
    }

    pub fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.select_all(css).first().and_then(|element| element.value().attr(name)).map(str::to_owned)
    }

    pub fn h1(&self) -> String {
        let all = self.texts("h1");
        assert_eq!(all.len(), 1, "expected one h1 on {}, found {all:?}", self.path);
        all[0].clone()
    }

    /// Returns the page's text, with a space between elements.
    pub fn body_text(&self) -> String {
        normalize(&self.html.root_element().text().collect::<Vec<_>>().join(" "))
    }

    /// Returns the error summary's links as (href, message).
    pub fn error_summary(&self) -> Vec<(String, String)> {
        self.select_all(".error-summary a")
            .iter()
            .map(|link| {
                (link.value().attr("href").unwrap_or_default().to_owned(), normalize(&link.text().collect::<String>()))
            })
            .collect()
    }
}

pub fn normalize(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub struct Browser {
    client: reqwest::Client,
    /// Shares the cookies but does not follow redirects.
    raw_client: reqwest::Client,
    base: String,
    csrf_token: Option<String>,
}

impl Browser {
    async fn page(&mut self, response: reqwest::Response) -> Page {
        let status = response.status();
        let path = response.url().path().to_owned();
        let body = response.text().await.unwrap();
        let html = Html::parse_document(&body);
        let token = Selector::parse("input[name=csrf_token]").unwrap();
        if let Some(input) = html.select(&token).next() {
            self.csrf_token = input.value().attr("value").map(str::to_owned);
        }
        Page { status, path, html }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let response = self.client.get(format!("{}{path}", self.base)).send().await.unwrap();
        self.page(response).await
    }

    /// Sends a GET with the browser's cookies, without following redirects.
    pub async fn get_raw(&self, path: &str) -> reqwest::Response {
        self.raw_client.get(format!("{}{path}", self.base)).send().await.unwrap()
    }

    async fn token(&mut self) -> String {
        if self.csrf_token.is_none() {
            // The sign-in page always has a form, so it always carries the token.
            self.get("/sign-in").await;
        }
        self.csrf_token.clone().expect("a page with a CSRF token")
    }

    /// Posts a form with the session's CSRF token added.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.token().await;
        let mut body: Vec<(String, String)> = vec![("csrf_token".into(), token)];
        body.extend(fields.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())));
        self.post_raw(path, &body).await
    }

    /// Posts a multipart form with the session's CSRF token first, then the
    /// fields, then each file as (file name, content) in `document_file`.
    /// Every file is sent as application/octet-stream, so only its content
    /// can decide its type.
    pub async fn post_multipart(&mut self, path: &str, fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> Page {
        let token = self.token().await;
        let response = self.multipart_raw(path, Some(&token), fields, files).await;
        self.page(response).await
    }

    /// Sends a multipart form, with the token only if given, and returns the raw response.
    pub async fn multipart_raw(
        &self,
        path: &str,
        token: Option<&str>,
        fields: &[(&str, &str)],
        files: &[(&str, &[u8])],
    ) -> reqwest::Response {
        let mut form = reqwest::multipart::Form::new();
        if let Some(token) = token {
            form = form.text("csrf_token", token.to_owned());
        }
        for (name, value) in fields {
            form = form.text((*name).to_owned(), (*value).to_owned());
        }
        for (file_name, content) in files {
            let part = reqwest::multipart::Part::bytes(content.to_vec())
                .file_name((*file_name).to_owned())
                .mime_str("application/octet-stream")
                .unwrap();
            form = form.part("document_file", part);
        }
        self.client.post(format!("{}{path}", self.base)).multipart(form).send().await.unwrap()
    }

    /// Posts exactly these fields, with no CSRF token added.
    pub async fn post_raw(&mut self, path: &str, fields: &[(String, String)]) -> Page {
        let response = self.client.post(format!("{}{path}", self.base)).form(fields).send().await.unwrap();
        self.page(response).await
    }

    pub async fn sign_in(&mut self, email: &str, password: &str) -> Page {
        self.get("/sign-in").await;
        let page = self.post("/sign-in", &[("email", email), ("password", password)]).await;
        assert!(page.status.is_success(), "sign-in failed for {email}");
        page
    }

    pub async fn answer(&mut self, question: &str, answer: &str) -> Page {
        self.post(&format!("/tree/{question}"), &[("answer", answer)]).await
    }

    pub async fn answer_all(&mut self, answers: &[(&str, &str)]) -> Page {
        let mut last = None;
        for (question, answer) in answers {
            last = Some(self.answer(question, answer).await);
        }
        last.expect("at least one answer")
    }
}

pub const TO_SELF_SERVICE: &[(&str, &str)] = &[
    ("hosting", "internal"),
    ("from_address", "yes"),
    ("smtp_authentication", "yes"),
    ("send_as", "yes"),
    ("volume", "yes"),
];

pub const TO_APP_REGISTRATION: &[(&str, &str)] = &[("hosting", "external"), ("vendor_documentation", "yes")];

pub const TO_EXCEPTION: &[(&str, &str)] = &[("hosting", "internal"), ("from_address", "no")];

/// Returns a valid app-registration form, field by field.
pub fn valid_app_registration() -> Vec<(&'static str, &'static str)> {
    vec![
        ("application_name", "Acme Room Booking"),
        ("vendor", "Acme Software Inc."),
        ("business_purpose", "Sends booking confirmations to students who reserve study rooms."),
        ("sending_address", "Room-Bookings@UWaterloo.ca"),
        ("vendor_link", "https://acme.example/docs/m365"),
        ("vendor_link", "https://acme.example/docs/permissions"),
        ("scope_name", "Mail.Send"),
        ("scope_type", "application"),
        ("scope_justification", "Sends booking confirmations with no one signed in"),
        ("scope_name", "User.Read"),
        ("scope_type", "delegated"),
        ("scope_justification", ""),
        ("requester_name", "Dana Lee"),
        ("requester_email", "dana.lee@uwaterloo.ca"),
        ("department", "Student Success Office"),
    ]
}

/// Returns a valid exception form, field by field.
pub fn valid_exception() -> Vec<(&'static str, &'static str)> {
    vec![
        ("application_name", "Lab Spectrometer"),
        ("application_details", "Sends a message when a long measurement run finishes."),
        ("hosting_location", "Campus server in the chemistry building"),
        ("authentication_method", "None: it can only send unauthenticated SMTP on port 25"),
        ("sending_pattern", "One message per finished run, to the lab's staff"),
        ("expected_volume", "About 20 a week"),
        ("sending_address", ""),
        ("vendor_link", "https://spectro.example/manual.pdf"),
        ("unmet_requirements", "SMTP authentication: not supported"),
        ("requester_name", "Sam Roy"),
        ("requester_email", "sam.roy@uwaterloo.ca"),
        ("department", "Chemistry"),
    ]
}

/// Collects the form's text inputs and textareas by id, as the page shows them.
pub fn form_values(page: &Page) -> HashMap<String, String> {
    let mut values = HashMap::new();
    for input in page.select_all("form input[id]") {
        let element = input.value();
        if matches!(element.attr("type"), Some("text" | "email" | "url")) {
            values.insert(element.attr("id").unwrap().to_owned(), element.attr("value").unwrap_or_default().to_owned());
        }
    }
    for area in page.select_all("form textarea[id]") {
        values.insert(area.value().attr("id").unwrap().to_owned(), area.text().collect::<String>());
    }
    values
}

/// Fills the app-registration form through the browser and returns the check page.
pub async fn fill_app_registration(browser: &mut Browser, fields: &[(&str, &str)]) -> Page {
    browser.answer_all(TO_APP_REGISTRATION).await;
    browser.get("/requests/new/app-registration").await;
    browser.post("/requests/new/app-registration", fields).await
}

/// Reads the submission key from a check page.
pub fn submission_key(page: &Page) -> String {
    page.attr("input[name=submission_key]", "value").expect("a submission key on the check page")
}

impl Browser {
    /// Opens a second browser tab: the same cookies, its own connection.
    pub fn clone_session(&self) -> Browser {
        Browser {
            client: self.client.clone(),
            raw_client: self.raw_client.clone(),
            base: self.base.clone(),
            csrf_token: self.csrf_token.clone(),
        }
    }
}
