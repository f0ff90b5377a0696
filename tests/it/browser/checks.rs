//! What every page must pass on arrival, and the screenshots.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use serde_json::{Value, json};

use super::{HEIGHT, Scripts, Tab, WIDTH, screenshot_dir};

/// axe-core rule tags for WCAG 2.0, 2.1 and 2.2 at levels A and AA.
const WCAG_A_AA: &[&str] = &["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"];

/// One failed axe-core rule.
#[derive(Debug, serde::Deserialize)]
pub struct Violation {
    pub rule: String,
    pub help: String,
    pub elements: Vec<String>,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.rule, self.help, self.elements.join("; "))
    }
}

/// Runs the checks that every page a journey reaches must pass.
pub async fn page(tab: &Tab) {
    let path = tab.path().await;
    let headings = tab.run("return document.querySelectorAll('h1').length;").await;
    assert_eq!(headings, json!(1), "{path} should have exactly one <h1>");
    error_summary_has_focus(tab, &path).await;
    no_violations(&path, &axe(tab).await);
    let hidden_headers = at_width(
        tab,
        320,
        "return [...document.querySelectorAll('th')].filter(th => th.offsetParent === null).map(th => th.innerText).slice(0, 3);",
    )
    .await;
    assert_eq!(hidden_headers, json!([]), "{path} hides table headers at 320 px, so the cells lose their labels");
    for (width, view) in [(320, "320 px wide"), (WIDTH / 2, "200% zoom")] {
        let overflow = at_width(
            tab,
            width,
            "const by = document.documentElement.scrollWidth - innerWidth; if (by <= 0) return null; \
             const past = e => e.getBoundingClientRect().right > innerWidth + 1; \
             const wide = [...document.body.querySelectorAll('*')].filter(e => past(e)).slice(0, 6).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : '')); \
             return by + ' px, past the edge: ' + wide.join(', ');",
        )
        .await;
        assert!(overflow.is_null(), "{path} scrolls sideways at {view} ({width} CSS px) by {overflow}");
    }
}

/// Fails the test with every violation listed, if there is any.
pub fn no_violations(path: &str, violations: &[Violation]) {
    assert!(
        violations.is_empty(),
        "{path} fails WCAG A/AA checks:\n{}",
        violations.iter().map(|v| format!("- {v}")).collect::<Vec<_>>().join("\n")
    );
}

/// After a failed submit the error summary is there, has focus, and links
/// to a control for each problem.
async fn error_summary_has_focus(tab: &Tab, path: &str) {
    let summary = tab
        .run(
            "const s = document.getElementById('error-summary'); if (!s) return null; \
             const links = [...s.querySelectorAll('a')].map(a => { \
               const id = decodeURIComponent(a.hash.slice(1)); const t = document.getElementById(id); \
               return [id, t !== null && t.matches('input, select, textarea, button, fieldset, [tabindex]')]; }); \
             return [document.activeElement === s, links];",
        )
        .await;
    if summary.is_null() {
        return;
    }
    assert_eq!(summary[0], json!(true), "{path}: focus is not on the error summary after a failed submit");
    focus_is_visible(tab).await;
    let links = summary[1].as_array().expect("links");
    assert!(!links.is_empty(), "{path}: the error summary lists no problem");
    for link in links {
        assert_eq!(link[1], json!(true), "{path}: the error summary links to #{}, which is not a control", link[0]);
    }
}

/// Whatever has focus must show it: an outline or a ring, on screen.
pub async fn focus_is_visible(tab: &Tab) {
    let problem = tab
        .run(
            "const a = document.activeElement; \
             if (!a || a === document.body || a === document.documentElement) return null; \
             const s = getComputedStyle(a); \
             const ring = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) || s.boxShadow !== 'none'; \
             const r = a.getBoundingClientRect(); \
             const onScreen = r.width > 0 && r.height > 0 && r.right > 0 && r.bottom > 0 \
               && r.left < innerWidth && r.top < innerHeight; \
             const name = a.tagName.toLowerCase() + (a.id ? '#' + a.id : '') + ' \"' + (a.innerText || a.value || '').trim().slice(0, 40) + '\"'; \
             if (!ring) return name + ' has focus but shows no outline (outline ' + s.outlineStyle + ' ' + s.outlineWidth + ', shadow ' + s.boxShadow + ')'; \
             if (!onScreen) return name + ' has focus but is off screen'; \
             return null;",
        )
        .await;
    if let Value::String(problem) = problem {
        panic!("{}: {problem}", tab.path().await);
    }
}

/// axe-core's browser build, installed from the npm registry by `npm ci` in
/// `tests/browser` (done here on a first run, as scripts/test does).
fn axe_source() -> &'static str {
    static SOURCE: OnceLock<String> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
        let file = folder.join("node_modules/axe-core/axe.min.js");
        if !file.exists() {
            let status = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--ignore-scripts"])
                .current_dir(&folder)
                .status()
                .expect("run npm (Node.js and npm are needed for the browser tests)");
            assert!(status.success(), "npm ci in tests/browser failed");
        }
        std::fs::read_to_string(&file).unwrap_or_else(|error| panic!("read {}: {error}", file.display()))
    })
}

/// Runs axe-core on the current page and returns its WCAG A and AA violations.
pub async fn axe(tab: &Tab) -> Vec<Violation> {
    // axe-core needs timers and promises, which do not run while page scripts
    // are off. So scripts come on for the check only, and the page's own
    // scripts, skipped when it loaded, stay skipped.
    if tab.mode.scripts == Scripts::Off {
        tab.set_scripts(true).await;
    }
    if tab.run("return typeof axe === 'undefined';").await == json!(true) {
        tab.run(&format!("{}\nreturn true;", axe_source())).await;
    }

    let start = format!(
        "window.__axeResult = null; \
         axe.run(document, {{ runOnly: {{ type: 'tag', values: {} }}, resultTypes: ['violations'] }}) \
           .then(r => {{ window.__axeResult = {{ violations: r.violations.map(v => ({{ \
               rule: v.id, help: v.help, \
               elements: v.nodes.map(n => n.target.join(' ') + ': ' + (n.failureSummary || '').replace(/\\s+/g, ' ')) }})) }}; }}, \
                 e => {{ window.__axeResult = {{ error: String(e) }}; }}); \
         return true;",
        json!(WCAG_A_AA)
    );
    tab.run(&start).await;
    let result = tab.wait_for("return window.__axeResult;", "axe-core's result").await;
    if tab.mode.scripts == Scripts::Off {
        tab.set_scripts(false).await;
    }

    if let Some(error) = result.get("error") {
        panic!("axe-core failed on {}: {error}", tab.path().await);
    }
    serde_json::from_value(result["violations"].clone()).expect("axe-core's violations list")
}

/// Lays the page out at `width` CSS pixels, runs `script`, and restores the
/// window. A 1280-pixel window at 200% zoom lays out as 640 CSS pixels.
async fn at_width(tab: &Tab, width: u32, script: &str) -> Value {
    tab.devtools(
        "Emulation.setDeviceMetricsOverride",
        json!({ "width": width, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": false }),
    )
    .await;
    let value = tab.run(script).await;
    tab.devtools("Emulation.clearDeviceMetricsOverride", json!({})).await;
    value
}

/// Saves the whole page, `width` CSS pixels wide, as `name.png`.
pub async fn screenshot(tab: &Tab, name: &str, width: u32) {
    let dir = screenshot_dir();
    std::fs::create_dir_all(&dir).unwrap_or_else(|error| panic!("create {}: {error}", dir.display()));
    // Lay out at the width first: a narrower page is a taller one.
    tab.devtools(
        "Emulation.setDeviceMetricsOverride",
        json!({ "width": width, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": false }),
    )
    .await;
    let height = tab.run("return document.documentElement.scrollHeight;").await.as_u64().unwrap_or(HEIGHT as u64);
    tab.devtools(
        "Emulation.setDeviceMetricsOverride",
        json!({ "width": width, "height": height.clamp(200, 8000), "deviceScaleFactor": 1, "mobile": false }),
    )
    .await;
    let png = tab.client().screenshot().await.expect("take a screenshot");
    tab.devtools("Emulation.clearDeviceMetricsOverride", json!({})).await;
    let file = dir.join(format!("{name}.png"));
    std::fs::write(&file, png).unwrap_or_else(|error| panic!("write {}: {error}", file.display()));
}

impl Tab {
    /// Shows the page as printed, runs `script` there, saves a screenshot
    /// when this mode takes them, and goes back to the screen view.
    pub async fn as_printed(&self, script: &str, name: &str) -> Value {
        self.devtools("Emulation.setEmulatedMedia", json!({ "media": "print" })).await;
        let value = self.run(script).await;
        if self.mode.takes_screenshots() {
            screenshot(self, name, 800).await;
        }
        self.devtools("Emulation.setEmulatedMedia", json!({ "media": "" })).await;
        value
    }

    /// Saves a screenshot at the narrowest supported width, 320 CSS pixels.
    pub async fn narrow_screenshot(&self, name: &str) {
        if self.mode.takes_screenshots() {
            screenshot(self, name, 320).await;
        }
    }
}
