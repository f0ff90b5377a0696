//! Renders the tree as a Mermaid flowchart for `ist-intake policy graph`.

use std::fmt::Write;

use super::Policy;

/// Mermaid reads `"` as the end of a label; `#quot;` is its escape for it.
fn label(text: &str) -> String {
    text.replace('"', "#quot;")
}

pub fn to_mermaid(policy: &Policy) -> String {
    let mut out = String::from("flowchart TD\n");
    for question in policy.questions() {
        let _ = writeln!(out, "    {}{{\"{}\"}}", question.id, label(&question.title));
    }
    for outcome in policy.outcomes() {
        let _ = writeln!(out, "    {}([\"{}\"])", outcome.id, label(&outcome.title));
    }
    for question in policy.questions() {
        for answer in &question.answers {
            let _ = writeln!(
                out,
                "    {} -- \"{}\" --> {}",
                question.id,
                label(&answer.label),
                answer.next
            );
        }
    }
    let _ = writeln!(
        out,
        "    not_covered[\"Any question: my situation is not covered\"] -.-> {}",
        policy.not_covered
    );
    out
}
