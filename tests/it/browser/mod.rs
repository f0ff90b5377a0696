//! Browser tests: Debian's Chromium, driven through chromedriver over
//! WebDriver, against the real server and a fresh database per test.
//!
//! Each journey runs in four modes: mouse or keyboard, with scripts on or off.
//! Every page a journey reaches must pass the checks in `checks.rs`.

pub mod checks;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// How the simulated person uses the browser.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// Clicks each control.
    Mouse,
    /// Reaches each control with Tab (arrow keys inside a radio group or a
    /// list box) and works it with Enter or Space, as a keyboard user does.
    Keyboard,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scripts {
    On,
    Off,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mode {
    pub input: Input,
    pub scripts: Scripts,
}

impl Mode {
    /// Returns whether this mode saves screenshots. Only one mode does, so
    /// parallel tests never write the same file.
    fn takes_screenshots(self) -> bool {
        self.input == Input::Mouse && self.scripts == Scripts::On
    }
}

/// One chromedriver process; each `Tab` it opens is its own browser with its
/// own empty profile, so two tabs are two people.
pub struct Chrome {
    driver: Child,
    url: String,
}

impl Drop for Chrome {
    /// Stops chromedriver and every browser it started, even when a test
    /// fails half-way: they share a process group.
    fn drop(&mut self) {
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.driver.wait();
    }
}

impl Chrome {
    pub async fn start() -> Chrome {
        for program in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                std::path::Path::new(program).exists(),
                "{program} is missing: the browser tests need Debian's chromium and chromium-driver \
                 packages (scripts/test installs them)"
            );
        }
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("find a free loopback port");
            probe.local_addr().unwrap().port()
        };
        let driver = {
            use std::os::unix::process::CommandExt;
            Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .arg("--allowed-ips=127.0.0.1")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()
                .expect("start chromedriver")
        };
        let chrome = Chrome { driver, url: format!("http://127.0.0.1:{port}") };
        let deadline = Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start listening on port {port}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        chrome
    }

    /// Opens a new browser window on `base` (the app's address).
    pub async fn tab(&self, base: &str, mode: Mode) -> Tab {
        let mut capabilities = Capabilities::new();
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-quic",
                    "--no-first-run",
                    "--no-default-browser-check",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-features=Translate,MediaRouter,OptimizationHints",
                    // The browser may reach the test server's address and no other host.
                    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                    "--hide-scrollbars",
                    "--force-color-profile=srgb",
                    "--lang=en-CA",
                    format!("--window-size={WIDTH},{HEIGHT}"),
                ],
            }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .expect("open a Chromium session through chromedriver");
        let tab = Tab { client, base: base.trim_end_matches('/').to_owned(), mode };
        // A headless window can lose focus after a file is chosen, and then
        // nothing on the page matches :focus; a person's window has focus.
        tab.devtools("Emulation.setFocusEmulationEnabled", json!({ "enabled": true })).await;
        if mode.scripts == Scripts::Off {
            tab.set_scripts(false).await;
        }
        tab
    }
}

pub const WIDTH: u32 = 1280;
pub const HEIGHT: u32 = 900;

/// A chromedriver command that passes one Chrome DevTools Protocol call.
#[derive(Debug)]
struct DevTools(Value);

impl WebDriverCompatibleCommand for DevTools {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/goog/cdp/execute", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.0.to_string()))
    }
}

/// One browser window, driven as one person in one mode.
pub struct Tab {
    client: Client,
    base: String,
    pub mode: Mode,
}

/// What `Tab::focus` looks for.
#[derive(Clone, Copy)]
enum Target<'a> {
    Id(&'a str),
    Link(&'a str),
    Button(&'a str),
    Summary(&'a str),
    ErrorLink(&'a str),
    Option(&'a str, &'a str),
}

impl Target<'_> {
    /// Returns an XPath expression for the target.
    fn xpath(&self) -> String {
        match self {
            Target::Id(id) => format!("//*[@id={}]", xpath_literal(id)),
            Target::Link(text) => format!("//a[@href][normalize-space()={}]", xpath_literal(text)),
            Target::Button(text) => {
                format!("//button[normalize-space()={}][not(@aria-hidden='true')]", xpath_literal(text))
            }
            Target::Summary(text) => format!("//summary[normalize-space()={}]", xpath_literal(text)),
            Target::ErrorLink(field) => {
                format!("//*[@id='error-summary']//a[@href={}]", xpath_literal(&format!("#{field}")))
            }
            Target::Option(name, kind) => {
                format!("//*[@role='option'][@data-name={}][@data-type={}]", xpath_literal(name), xpath_literal(kind))
            }
        }
    }

    /// Returns a script expression for the target element, or null.
    fn finder(&self) -> String {
        format!(
            "document.evaluate({}, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue",
            json!(self.xpath())
        )
    }

    fn describe(&self) -> String {
        match self {
            Target::Id(id) => format!("the control #{id}"),
            Target::Link(text) => format!("the link \"{text}\""),
            Target::Button(text) => format!("the button \"{text}\""),
            Target::Summary(text) => format!("the disclosure \"{text}\""),
            Target::ErrorLink(field) => format!("the error summary's link to #{field}"),
            Target::Option(name, kind) => format!("the suggestion {name} ({kind})"),
        }
    }
}

/// Quotes text for XPath 1.0, which has no escape character.
fn xpath_literal(text: &str) -> String {
    if !text.contains('\'') {
        format!("'{text}'")
    } else if !text.contains('"') {
        format!("\"{text}\"")
    } else {
        let parts: Vec<String> = text.split('\'').map(|part| format!("'{part}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}

impl Tab {
    pub async fn close(self) {
        let _ = self.client.close().await;
    }

    /// Runs a script in the page (allowed even with the page's own scripts off).
    pub async fn run(&self, script: &str) -> Value {
        self.client.execute(script, Vec::new()).await.unwrap_or_else(|error| panic!("script failed: {error}"))
    }

    async fn devtools(&self, command: &str, params: Value) {
        self.client
            .issue_cmd(DevTools(json!({ "cmd": command, "params": params })))
            .await
            .unwrap_or_else(|error| panic!("{command} failed: {error}"));
    }

    /// Turns the page's scripts on or off, as the browser's own setting does.
    async fn set_scripts(&self, on: bool) {
        self.devtools("Emulation.setScriptExecutionDisabled", json!({ "value": !on })).await;
    }

    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("current url");
        match url.query() {
            Some(query) => format!("{}?{}", url.path(), query),
            None => url.path().to_owned(),
        }
    }

    pub async fn h1(&self) -> String {
        self.text("h1").await
    }

    /// Returns the text of the first element matching `css`, spaces collapsed.
    pub async fn text(&self, css: &str) -> String {
        let script =
            format!("const e = document.querySelector({}); return e ? e.innerText : null;", json!(css).to_string());
        match self.run(&script).await {
            Value::String(text) => text.split_whitespace().collect::<Vec<_>>().join(" "),
            _ => panic!("no element matches {css} on {}", self.path().await),
        }
    }

    pub async fn value(&self, id: &str) -> String {
        let script = format!("return document.getElementById({}).value;", json!(id));
        self.run(&script).await.as_str().unwrap_or_default().to_owned()
    }

    pub async fn is_checked(&self, id: &str) -> bool {
        let script = format!("return document.getElementById({}).checked;", json!(id));
        self.run(&script).await.as_bool().unwrap_or(false)
    }

    /// Returns a marker that changes whenever a new document loads.
    async fn document_marker(&self) -> Value {
        self.run("return performance.timeOrigin;").await
    }

    /// Runs `script` until it returns something other than null, false or
    /// an empty string, and returns that. Fails the test after 30 seconds.
    pub async fn wait_for(&self, script: &str, awaited: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let value = self.run(script).await;
            if !matches!(&value, Value::Null | Value::Bool(false)) && value != json!("") {
                return value;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {awaited} on {}", self.path().await);
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    async fn wait_for_new_document(&self, before: &Value, action: &str) {
        let script = format!("return performance.timeOrigin !== {before} && document.readyState === 'complete';");
        self.wait_for(&script, &format!("a new page after {action}")).await;
    }

    /// Opens a path as if typed into the address bar.
    pub async fn open(&self, path: &str) {
        self.client.goto(&format!("{}{}", self.base, path)).await.expect("navigate");
        self.arrived().await;
    }

    pub async fn back(&self) {
        let before = self.document_marker().await;
        self.client.back().await.expect("go back");
        self.wait_for_new_document(&before, "Back").await;
        self.arrived().await;
    }

    pub async fn refresh(&self) {
        let before = self.document_marker().await;
        self.client.refresh().await.expect("refresh");
        self.wait_for_new_document(&before, "refresh").await;
        self.arrived().await;
    }

    /// Checks the page just reached; see `checks.rs`.
    async fn arrived(&self) {
        checks::page(self).await;
    }

    /// Moves focus to the target: in keyboard mode by pressing Tab until it
    /// has focus, checking that every stop shows where focus is.
    async fn focus(&self, target: Target<'_>) {
        let finder = target.finder();
        let found = self.run(&format!("return {finder} !== null;")).await;
        assert_eq!(found, Value::Bool(true), "{} is not on {}", target.describe(), self.path().await);
        if self.mode.input == Input::Mouse {
            return;
        }
        // Radios take focus as a group: Tab reaches the group, arrows move in it.
        let group = self.run(&format!("const e = {finder}; return e.type === 'radio' ? e.name : null;")).await;
        for _ in 0..250 {
            let at = self
                .run(&format!(
                    "const e = {finder}; const a = document.activeElement; \
                     return [a === e, a && a.type === 'radio' ? a.name : null];"
                ))
                .await;
            if at[0] == Value::Bool(true) {
                return;
            }
            if group.is_string() && at[1] == group {
                self.press(Key::Down).await;
                checks::focus_is_visible(self).await;
                continue;
            }
            self.press(Key::Tab).await;
            checks::focus_is_visible(self).await;
        }
        panic!("{} on {} could not be reached with the Tab key", target.describe(), self.path().await);
    }

    /// Presses and releases one key.
    pub async fn press(&self, key: Key) {
        let value: char = key.into();
        let keys = KeyActions::new("keyboard".to_owned()).then(KeyAction::Down { value }).then(KeyAction::Up { value });
        self.client.perform_actions(keys).await.expect("press a key");
    }

    async fn element(&self, target: &Target<'_>) -> fantoccini::elements::Element {
        self.client
            .find(Locator::XPath(&target.xpath()))
            .await
            .unwrap_or_else(|_| panic!("{} is not on the page", target.describe()))
    }

    /// Activates a control that loads a new page, then checks that page.
    async fn activate_and_arrive(&self, target: Target<'_>, key: Key) {
        self.focus(target).await;
        let before = self.document_marker().await;
        match self.mode.input {
            Input::Mouse => self.element(&target).await.click().await.expect("click"),
            Input::Keyboard => self.press(key).await,
        }
        self.wait_for_new_document(&before, &target.describe()).await;
        self.arrived().await;
    }

    /// Follows a link by its text.
    pub async fn follow(&self, text: &str) {
        self.activate_and_arrive(Target::Link(text), Key::Enter).await;
    }

    /// Presses a button by its text; it must load a page.
    pub async fn press_button(&self, text: &str) {
        // Keyboard users press buttons with Enter or Space; both are used, on
        // alternate buttons, so neither is left untested.
        let key = if text.len() % 2 == 0 { Key::Enter } else { Key::Space };
        self.activate_and_arrive(Target::Button(text), key).await;
    }

    /// Opens a closed `<details>` by its summary text.
    pub async fn open_details(&self, summary: &str) {
        self.focus(Target::Summary(summary)).await;
        match self.mode.input {
            Input::Mouse => self.element(&Target::Summary(summary)).await.click().await.expect("click"),
            Input::Keyboard => self.press(Key::Enter).await,
        }
        let open = self.run(&format!("return {}.parentElement.open;", Target::Summary(summary).finder())).await;
        assert_eq!(open, Value::Bool(true), "the disclosure \"{summary}\" did not open");
    }

    /// Picks a radio button or ticks a checkbox, by its id.
    pub async fn choose(&self, id: &str) {
        self.focus(Target::Id(id)).await;
        if !self.is_checked(id).await {
            match self.mode.input {
                Input::Mouse => self.element(&Target::Id(id)).await.click().await.expect("click"),
                Input::Keyboard => self.press(Key::Space).await,
            }
        }
        assert!(self.is_checked(id).await, "#{id} is not checked after choosing it");
    }

    /// Replaces the text of a field, by its id.
    pub async fn fill(&self, id: &str, text: &str) {
        self.focus(Target::Id(id)).await;
        let field = self.element(&Target::Id(id)).await;
        match self.mode.input {
            Input::Mouse => {
                field.click().await.expect("click into the field");
                field.clear().await.expect("clear the field");
            }
            Input::Keyboard => {
                let keys = KeyActions::new("keyboard".to_owned())
                    .then(KeyAction::Down { value: Key::Control.into() })
                    .then(KeyAction::Down { value: 'a' })
                    .then(KeyAction::Up { value: 'a' })
                    .then(KeyAction::Up { value: Key::Control.into() })
                    .then(KeyAction::Down { value: Key::Backspace.into() })
                    .then(KeyAction::Up { value: Key::Backspace.into() });
                self.client.perform_actions(keys).await.expect("clear the field");
            }
        }
        if !text.is_empty() {
            field.send_keys(text).await.expect("type into the field");
        }
        assert_eq!(self.value(id).await, text, "#{id} does not hold what was typed");
    }

    /// Chooses an option of a `<select>` by its visible text.
    pub async fn select(&self, id: &str, option: &str) {
        self.focus(Target::Id(id)).await;
        match self.mode.input {
            Input::Mouse => self.element(&Target::Id(id)).await.select_by_label(option).await.expect("pick the option"),
            Input::Keyboard => {
                let script = format!(
                    "const s = document.getElementById({}); return [s.selectedIndex, \
                     [...s.options].findIndex(o => o.text.trim() === {})];",
                    json!(id),
                    json!(option)
                );
                let indexes = self.run(&script).await;
                let (now, wanted) = (indexes[0].as_i64().unwrap(), indexes[1].as_i64().unwrap());
                assert!(wanted >= 0, "#{id} has no option \"{option}\"");
                let key = if wanted > now { Key::Down } else { Key::Up };
                for _ in 0..(wanted - now).abs() {
                    self.press(key.clone()).await;
                }
            }
        }
        let chosen = self
            .run(&format!(
                "const s = document.getElementById({}); return s.options[s.selectedIndex].text.trim();",
                json!(id)
            ))
            .await;
        assert_eq!(chosen, Value::String(option.to_owned()), "#{id} did not take the option");
    }

    /// Returns the fields the error summary links to, in order. Fails the test
    /// when there is no error summary.
    pub async fn error_summary_links(&self) -> Vec<String> {
        let links = self
            .run(
                "const s = document.getElementById('error-summary'); \
                 return s ? [...s.querySelectorAll('a')].map(a => decodeURIComponent(a.hash.slice(1))) : null;",
            )
            .await;
        assert!(!links.is_null(), "{} came back without an error summary", self.path().await);
        serde_json::from_value(links).expect("a list of field ids")
    }

    /// Runs the accessibility checks again, for a page a script has changed.
    pub async fn check_accessibility(&self) {
        checks::no_violations(&self.path().await, &checks::axe(self).await);
    }

    /// Follows the error summary's link to a field; the field must get focus.
    pub async fn follow_from_error_summary(&self, field: &str) {
        let link = Target::ErrorLink(field);
        self.focus(link).await;
        match self.mode.input {
            Input::Mouse => self.element(&link).await.click().await.expect("click"),
            Input::Keyboard => self.press(Key::Enter).await,
        }
        let focused = self.run("return document.activeElement.id;").await;
        assert_eq!(focused, json!(field), "the error summary's link did not move focus to #{field}");
        checks::focus_is_visible(self).await;
    }

    /// Waits for the permission picker's suggestion and chooses it: with the
    /// arrow keys and Enter, or by clicking it.
    pub async fn pick_suggestion(&self, field: &str, name: &str, kind: &str) {
        let option = Target::Option(name, kind);
        let shown = format!("const o = {}; return o !== null && !o.parentElement.hidden;", option.finder());
        self.wait_for(&shown, &format!("{} under #{field}", option.describe())).await;
        match self.mode.input {
            Input::Mouse => self.element(&option).await.click().await.expect("click the suggestion"),
            Input::Keyboard => {
                for _ in 0..50 {
                    let selected =
                        self.run(&format!("return {}.getAttribute('aria-selected');", option.finder())).await;
                    if selected == json!("true") {
                        break;
                    }
                    self.press(Key::Down).await;
                }
                self.press(Key::Enter).await;
            }
        }
    }

    /// Chooses a file for a file input, as the browser's file dialog would.
    pub async fn attach_file(&self, id: &str, path: &std::path::Path) {
        self.focus(Target::Id(id)).await;
        let input = self.element(&Target::Id(id)).await;
        input.send_keys(&path.to_string_lossy()).await.expect("choose the file");
    }

    /// Returns the id of the element that has focus.
    pub async fn focused_id(&self) -> String {
        self.run("return document.activeElement ? document.activeElement.id : '';")
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Saves a screenshot of the whole page as `name.png`, when this mode
    /// takes them.
    pub async fn screenshot(&self, name: &str) {
        if self.mode.takes_screenshots() {
            checks::screenshot(self, name, WIDTH).await;
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }
}

/// Returns the folder for screenshots: `SCREENSHOT_DIR`, or `target/screenshots`.
pub fn screenshot_dir() -> PathBuf {
    std::env::var_os("SCREENSHOT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots"))
}

/// The four modes every journey runs in.
#[macro_export]
macro_rules! in_every_mode {
    ($journey:ident) => {
        mod $journey {
            use $crate::browser::{Input, Mode, Scripts};

            #[sqlx::test]
            async fn mouse_with_scripts(pool: sqlx::PgPool) {
                super::$journey(pool, Mode { input: Input::Mouse, scripts: Scripts::On }).await;
            }

            #[sqlx::test]
            async fn mouse_without_scripts(pool: sqlx::PgPool) {
                super::$journey(pool, Mode { input: Input::Mouse, scripts: Scripts::Off }).await;
            }

            #[sqlx::test]
            async fn keyboard_with_scripts(pool: sqlx::PgPool) {
                super::$journey(pool, Mode { input: Input::Keyboard, scripts: Scripts::On }).await;
            }

            #[sqlx::test]
            async fn keyboard_without_scripts(pool: sqlx::PgPool) {
                super::$journey(pool, Mode { input: Input::Keyboard, scripts: Scripts::Off }).await;
            }
        }
    };
}
