//! Renders the tree as a Mermaid flowchart for `ist-intake policy graph`.

use std::fmt::Write;

use super::Policy;

/// Mermaid reads `"` as the end of a label; `#quot;` is its escape for it.
fn label(text: &str) -> String {
    text.replace('"', "#quot;")
}

/// Mermaid node id for a policy node. The prefix keeps ids such as `end`,
/// a Mermaid keyword, and the fixed way-out node apart from policy ids.
fn node_id(id: &str) -> String {
    format!("node_{id}")
}

/// Renders the tree as a Mermaid flowchart: questions as diamonds,
/// outcomes as rounded boxes, answers as labelled edges.
pub fn to_mermaid(policy: &Policy) -> String {
    let mut out = String::from("flowchart TD\n");
    for question in policy.questions() {
        let _ = writeln!(out, "    {}{{\"{}\"}}", node_id(&question.id), label(&question.title));
    }
    for outcome in policy.outcomes() {
        let _ = writeln!(out, "    {}([\"{}\"])", node_id(&outcome.id), label(&outcome.title));
    }
    for question in policy.questions() {
        for answer in &question.answers {
            let _ = writeln!(
                out,
                "    {} -- \"{}\" --> {}",
                node_id(&question.id),
                label(&answer.label),
                node_id(&answer.next)
            );
        }
    }
    let _ = writeln!(
        out,
        "    way_out[\"Any question: my situation is not covered\"] -.-> {}",
        node_id(&policy.not_covered)
    );
    out
}
