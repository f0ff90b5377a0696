use super::*;

const SMALL: &str = r#"
version = "1"
start = "a"
not_covered = "help"

[[questions]]
id = "a"
title = "Question A?"
[[questions.answers]]
id = "yes"
label = "Yes"
next = "done"
[[questions.answers]]
id = "no"
label = "No"
next = "help"
unmet = "A is not met."

[[outcomes]]
id = "done"
kind = "self_service"
title = "Done"

[[outcomes]]
id = "help"
kind = "exception"
title = "Help"
"#;

fn node_fault(text: &str) -> (String, String) {
    match Policy::parse(text) {
        Err(PolicyError::Node { node, fault }) => (node, fault),
        other => panic!("expected a node error, got {other:?}"),
    }
}

#[test]
fn default_policy_is_valid() {
    let policy = Policy::default_policy();
    assert_eq!(policy.start, "hosting");
}

#[test]
fn small_policy_parses() {
    let policy = Policy::parse(SMALL).unwrap();
    assert_eq!(policy.all_paths().len(), 2);
}

#[test]
fn dangling_answer_names_question() {
    let broken = SMALL.replace("next = \"done\"", "next = \"nowhere\"");
    let (node, fault) = node_fault(&broken);
    assert_eq!(node, "a");
    assert!(fault.contains("`nowhere`"), "{fault}");
}

#[test]
fn unknown_outcome_kind_names_outcome() {
    let broken = SMALL.replace("kind = \"self_service\"", "kind = \"teleport\"");
    let (node, fault) = node_fault(&broken);
    assert_eq!(node, "done");
    assert!(fault.contains("unknown outcome kind `teleport`"), "{fault}");
}

#[test]
fn cycle_names_question() {
    let with_b = SMALL.replace("next = \"done\"", "next = \"b\"")
        + r#"
[[questions]]
id = "b"
title = "Question B?"
[[questions.answers]]
id = "back"
label = "Back to A"
next = "a"
[[questions.answers]]
id = "on"
label = "On"
next = "done"
"#;
    let (node, fault) = node_fault(&with_b);
    assert_eq!(node, "b");
    assert!(fault.contains("answer `back` leads back to `a`"), "{fault}");
    assert!(fault.contains("cycle"), "{fault}");
}

#[test]
fn unreachable_node_is_rejected() {
    let extra = format!("{SMALL}\n[[outcomes]]\nid = \"orphan\"\nkind = \"self_service\"\ntitle = \"Orphan\"\n");
    let (node, fault) = node_fault(&extra);
    assert_eq!(node, "orphan");
    assert!(fault.contains("no path"), "{fault}");
}

#[test]
fn duplicate_id_is_rejected() {
    let extra = format!("{SMALL}\n[[outcomes]]\nid = \"a\"\nkind = \"exception\"\ntitle = \"Dup\"\n");
    let (node, fault) = node_fault(&extra);
    assert_eq!(node, "a");
    assert!(fault.contains("more than one node"), "{fault}");
}

#[test]
fn start_must_be_question() {
    let broken = SMALL.replace("start = \"a\"", "start = \"done\"");
    let (node, _) = node_fault(&broken);
    assert_eq!(node, "done");
}

#[test]
fn not_covered_must_be_exception() {
    let broken = SMALL.replace("not_covered = \"help\"", "not_covered = \"done\"");
    let (node, fault) = node_fault(&broken);
    assert_eq!(node, "done");
    assert!(fault.contains("exception"), "{fault}");
}

#[test]
fn single_answer_question_is_rejected() {
    let broken = SMALL.replace(
        "[[questions.answers]]\nid = \"no\"\nlabel = \"No\"\nnext = \"help\"\nunmet = \"A is not met.\"\n",
        "",
    );
    let (node, fault) = node_fault(&broken);
    assert_eq!(node, "a");
    assert!(fault.contains("at least two answers"), "{fault}");
}

#[test]
fn invalid_toml_is_a_syntax_error() {
    let result = Policy::parse("version = ");
    assert!(matches!(result, Err(PolicyError::Syntax(_))), "{result:?}");
}

#[test]
fn missing_version_is_named() {
    let broken = SMALL.replace("version = \"1\"", "");
    assert_eq!(Policy::parse(&broken).unwrap_err(), PolicyError::MissingField { field: "version".into() });
}

#[test]
fn walk_collects_unmet_requirement() {
    let policy = Policy::parse(SMALL).unwrap();
    let mut answers = TreeAnswers::default();
    answers.record("a", "no");
    let path = answers.path(&policy);
    assert_eq!(path.outcome().map(|outcome| outcome.id.as_str()), Some("help"));
    assert_eq!(path.unmet_requirements(), vec!["A is not met.".to_owned()]);
}

#[test]
fn walk_ignores_unknown_answer() {
    let policy = Policy::parse(SMALL).unwrap();
    let mut answers = TreeAnswers::default();
    answers.record("a", "maybe");
    let path = answers.path(&policy);
    assert!(matches!(path.end, PathEnd::Question(question) if question.id == "a"));
}

#[test]
fn mermaid_lists_every_edge() {
    let graph = to_mermaid(&Policy::parse(SMALL).unwrap());
    assert!(graph.starts_with("flowchart TD\n"));
    assert!(graph.contains("node_a -- \"Yes\" --> node_done"), "{graph}");
    assert!(graph.contains("node_a -- \"No\" --> node_help"), "{graph}");
}

#[test]
fn reserved_id_is_rejected() {
    let broken = SMALL.replace("id = \"a\"", "id = \"outcome\"").replace("start = \"a\"", "start = \"outcome\"");
    let (node, fault) = node_fault(&broken);
    assert_eq!(node, "outcome");
    assert!(fault.contains("reserved"), "{fault}");
}

#[test]
fn exception_answer_needs_unmet_text() {
    let broken = SMALL.replace("unmet = \"A is not met.\"\n", "");
    let (node, fault) = node_fault(&broken);
    assert_eq!(node, "a");
    assert!(fault.contains("has no `unmet` text"), "{fault}");
}

#[test]
fn null_byte_in_text_is_rejected() {
    let broken = SMALL.replace("title = \"Question A?\"", "title = \"Question\\u0000A?\"");
    let (node, fault) = node_fault(&broken);
    assert_eq!(node, "a");
    assert!(fault.contains("control character"), "{fault}");
}

#[test]
fn null_byte_in_version_is_rejected() {
    let broken = SMALL.replace("version = \"1\"", "version = \"1\\u0000\"");
    let (node, _) = node_fault(&broken);
    assert_eq!(node, "version");
}
