//! The decision tree: its model, loading and validation from TOML, and the
//! walk from the first question to an outcome.

mod graph;
mod walk;

pub use graph::to_mermaid;
pub use walk::{NOT_COVERED_PREFIX, Path, PathEnd, Step, TreeAnswers};

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Deserialize;

/// The policy compiled into the binary; `--policy FILE` replaces it.
pub const DEFAULT_POLICY: &str = include_str!("default.toml");

/// Kind of an outcome node. Outcomes that collect a request are typed forms
/// in code, so a policy file may only use the kinds listed here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutcomeKind {
    SelfService,
    VendorDocumentation,
    AppRegistration,
    Exception,
}

impl OutcomeKind {
    pub const ALL: [OutcomeKind; 4] = [
        OutcomeKind::SelfService,
        OutcomeKind::VendorDocumentation,
        OutcomeKind::AppRegistration,
        OutcomeKind::Exception,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeKind::SelfService => "self_service",
            OutcomeKind::VendorDocumentation => "vendor_documentation",
            OutcomeKind::AppRegistration => "app_registration",
            OutcomeKind::Exception => "exception",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == value)
    }
}

#[derive(Debug, Clone)]
pub struct Answer {
    pub id: String,
    pub label: String,
    pub next: String,
    /// The requirement this answer leaves unmet, in words for the exception form.
    pub unmet: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Question {
    pub id: String,
    pub title: String,
    pub hint: Option<String>,
    pub help_summary: Option<String>,
    /// Paragraphs of help text, split on blank lines.
    pub help: Vec<String>,
    pub answers: Vec<Answer>,
    /// A request-form field that the chosen answer's label pre-fills.
    pub fills: Option<PrefillField>,
}

/// Request-form fields a question's answer may pre-fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrefillField {
    HostingLocation,
}

impl PrefillField {
    fn parse(value: &str) -> Option<Self> {
        match value {
            "hosting_location" => Some(PrefillField::HostingLocation),
            _ => None,
        }
    }
}

impl Question {
    pub fn answer(&self, id: &str) -> Option<&Answer> {
        self.answers.iter().find(|answer| answer.id == id)
    }
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub id: String,
    pub kind: OutcomeKind,
    pub title: String,
}

/// A validated decision tree. The only way to build one is [`Policy::parse`],
/// so every `next` resolves, every path ends at an outcome and there is no cycle.
#[derive(Debug, Clone)]
pub struct Policy {
    pub version: String,
    pub start: String,
    pub not_covered: String,
    questions: BTreeMap<String, Question>,
    outcomes: BTreeMap<String, Outcome>,
    /// Question ids in file order, for listings and the graph.
    question_order: Vec<String>,
    outcome_order: Vec<String>,
}

/// A node of the tree, looked up by id.
pub enum Node<'a> {
    Question(&'a Question),
    Outcome(&'a Outcome),
}

/// A fault in a policy file, naming the node where it was found.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PolicyError {
    #[error("policy file is not valid TOML: {0}")]
    Syntax(String),
    #[error("policy field `{field}` is missing or empty")]
    MissingField { field: String },
    #[error("node `{node}`: {fault}")]
    Node { node: String, fault: String },
}

fn node_error(node: &str, fault: impl Into<String>) -> PolicyError {
    PolicyError::Node { node: node.to_owned(), fault: fault.into() }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    version: Option<String>,
    start: Option<String>,
    not_covered: Option<String>,
    #[serde(default)]
    questions: Vec<RawQuestion>,
    #[serde(default)]
    outcomes: Vec<RawOutcome>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestion {
    id: String,
    title: String,
    hint: Option<String>,
    help_summary: Option<String>,
    help: Option<String>,
    fills: Option<String>,
    #[serde(default)]
    answers: Vec<RawAnswer>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAnswer {
    id: String,
    label: String,
    next: String,
    unmet: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutcome {
    id: String,
    kind: String,
    title: String,
}

fn required(value: Option<String>, field: &str) -> Result<String, PolicyError> {
    match value {
        Some(value) if !value.trim().is_empty() => {
            if has_control_characters(&value) {
                return Err(PolicyError::Node {
                    node: field.to_owned(),
                    fault: "the value contains a control character, such as a null byte".to_owned(),
                });
            }
            Ok(value)
        }
        _ => Err(PolicyError::MissingField { field: field.to_owned() }),
    }
}

/// Control characters other than line breaks and tabs; PostgreSQL cannot
/// store NUL, and the text ends up in stored requests and on pages.
fn has_control_characters(text: &str) -> bool {
    text.chars().any(|ch| ch.is_control() && !matches!(ch, '\n' | '\r' | '\t'))
}

/// Rejects control characters in any text of a node.
fn check_node_text<'a>(node: &str, texts: impl IntoIterator<Item = &'a str>) -> Result<(), PolicyError> {
    if texts.into_iter().any(has_control_characters) {
        return Err(node_error(node, "a text contains a control character, such as a null byte"));
    }
    Ok(())
}

impl Policy {
    /// Parses and validates a policy file.
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        let raw: RawPolicy = toml::from_str(text).map_err(|err| PolicyError::Syntax(err.to_string()))?;
        let version = required(raw.version, "version")?;
        let start = required(raw.start, "start")?;
        let not_covered = required(raw.not_covered, "not_covered")?;

        let mut questions = BTreeMap::new();
        let mut outcomes = BTreeMap::new();
        let mut question_order = Vec::new();
        let mut outcome_order = Vec::new();
        let mut seen_ids = HashSet::new();

        for raw_question in raw.questions {
            let question = build_question(raw_question)?;
            if !seen_ids.insert(question.id.clone()) {
                return Err(node_error(&question.id, "the id is used by more than one node"));
            }
            question_order.push(question.id.clone());
            questions.insert(question.id.clone(), question);
        }
        for raw_outcome in raw.outcomes {
            let outcome = build_outcome(raw_outcome)?;
            if !seen_ids.insert(outcome.id.clone()) {
                return Err(node_error(&outcome.id, "the id is used by more than one node"));
            }
            outcome_order.push(outcome.id.clone());
            outcomes.insert(outcome.id.clone(), outcome);
        }

        let policy = Policy { version, start, not_covered, questions, outcomes, question_order, outcome_order };
        policy.validate()?;
        Ok(policy)
    }

    /// Returns the policy compiled into the binary.
    pub fn default_policy() -> Policy {
        Policy::parse(DEFAULT_POLICY).expect("the compiled-in policy is valid")
    }

    pub fn node(&self, id: &str) -> Option<Node<'_>> {
        if let Some(question) = self.questions.get(id) {
            return Some(Node::Question(question));
        }
        self.outcomes.get(id).map(Node::Outcome)
    }

    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions.get(id)
    }

    pub fn outcome(&self, id: &str) -> Option<&Outcome> {
        self.outcomes.get(id)
    }

    pub fn questions(&self) -> impl Iterator<Item = &Question> {
        self.question_order.iter().map(|id| &self.questions[id])
    }

    /// Checks whether a line is one that the tree writes as an unmet requirement.
    pub fn is_generated_requirement(&self, line: &str) -> bool {
        line.starts_with(NOT_COVERED_PREFIX)
            || self
                .questions()
                .any(|question| question.answers.iter().any(|answer| answer.unmet.as_deref() == Some(line)))
    }

    pub fn outcomes(&self) -> impl Iterator<Item = &Outcome> {
        self.outcome_order.iter().map(|id| &self.outcomes[id])
    }

    /// Every complete answer sequence from the first question to an outcome,
    /// each with the outcome it reaches.
    pub fn all_paths(&self) -> Vec<(Vec<(String, String)>, String)> {
        let mut paths = Vec::new();
        self.collect_paths(&self.start, &mut Vec::new(), &mut paths);
        paths
    }

    fn collect_paths(
        &self,
        node: &str,
        prefix: &mut Vec<(String, String)>,
        paths: &mut Vec<(Vec<(String, String)>, String)>,
    ) {
        match self.node(node) {
            Some(Node::Outcome(outcome)) => paths.push((prefix.clone(), outcome.id.clone())),
            Some(Node::Question(question)) => {
                for answer in &question.answers {
                    prefix.push((question.id.clone(), answer.id.clone()));
                    self.collect_paths(&answer.next, prefix, paths);
                    prefix.pop();
                }
            }
            None => {}
        }
    }

    fn validate(&self) -> Result<(), PolicyError> {
        if self.questions.is_empty() {
            return Err(PolicyError::MissingField { field: "questions".to_owned() });
        }
        if !self.questions.contains_key(&self.start) {
            return Err(node_error(&self.start, "`start` must name a question, and no question has this id"));
        }
        match self.outcomes.get(&self.not_covered) {
            Some(outcome) if outcome.kind == OutcomeKind::Exception => {}
            Some(_) => {
                return Err(node_error(&self.not_covered, "`not_covered` must name an outcome of kind \"exception\""));
            }
            None => {
                return Err(node_error(
                    &self.not_covered,
                    "`not_covered` must name an outcome, and no outcome has this id",
                ));
            }
        }

        for question in self.questions() {
            for answer in &question.answers {
                if self.node(&answer.next).is_none() {
                    return Err(node_error(
                        &question.id,
                        format!(
                            "answer `{}` leads to `{}`, which is not a question or an outcome",
                            answer.id, answer.next
                        ),
                    ));
                }
            }
        }

        for question in self.questions() {
            for answer in &question.answers {
                let to_exception =
                    self.outcomes.get(&answer.next).is_some_and(|outcome| outcome.kind == OutcomeKind::Exception);
                if to_exception && answer.unmet.is_none() {
                    return Err(node_error(
                        &question.id,
                        format!(
                            "answer `{}` leads to the exception outcome `{}` but has no `unmet` text; say which requirement the answer leaves unmet, because it pre-fills the exception form",
                            answer.id, answer.next
                        ),
                    ));
                }
            }
        }

        self.reject_cycles()?;

        let reachable = self.reachable_nodes();
        for id in self.question_order.iter().chain(&self.outcome_order) {
            if !reachable.contains(id.as_str()) && *id != self.not_covered {
                return Err(node_error(id, "no path from the start question reaches this node"));
            }
        }
        Ok(())
    }

    /// Depth-first search with three colours: a grey node seen again is a cycle.
    fn reject_cycles(&self) -> Result<(), PolicyError> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            InProgress,
            Done,
        }

        fn visit<'a>(policy: &'a Policy, id: &'a str, marks: &mut HashMap<&'a str, Mark>) -> Result<(), PolicyError> {
            if marks.get(id) == Some(&Mark::Done) {
                return Ok(());
            }
            if let Some(question) = policy.questions.get(id) {
                marks.insert(id, Mark::InProgress);
                for answer in &question.answers {
                    if marks.get(answer.next.as_str()) == Some(&Mark::InProgress) {
                        return Err(node_error(
                            id,
                            format!(
                                "answer `{}` leads back to `{}`, an earlier question on the same path, which makes a cycle",
                                answer.id, answer.next
                            ),
                        ));
                    }
                    visit(policy, &answer.next, marks)?;
                }
            }
            marks.insert(id, Mark::Done);
            Ok(())
        }

        let mut marks = HashMap::new();
        for id in &self.question_order {
            visit(self, id, &mut marks)?;
        }
        Ok(())
    }

    fn reachable_nodes(&self) -> HashSet<&str> {
        let mut reachable = HashSet::new();
        let mut pending = vec![self.start.as_str()];
        while let Some(id) = pending.pop() {
            if !reachable.insert(id) {
                continue;
            }
            if let Some(question) = self.questions.get(id) {
                pending.extend(question.answers.iter().map(|answer| answer.next.as_str()));
            }
        }
        reachable
    }
}

fn build_question(raw: RawQuestion) -> Result<Question, PolicyError> {
    check_id(&raw.id)?;
    let texts = [Some(raw.title.as_str()), raw.hint.as_deref(), raw.help_summary.as_deref(), raw.help.as_deref()];
    let answer_texts = raw.answers.iter().flat_map(|answer| {
        [Some(answer.id.as_str()), Some(answer.label.as_str()), Some(answer.next.as_str()), answer.unmet.as_deref()]
    });
    check_node_text(&raw.id, texts.into_iter().chain(answer_texts).flatten())?;
    if raw.title.trim().is_empty() {
        return Err(node_error(&raw.id, "the question has an empty `title`"));
    }
    if raw.answers.len() < 2 {
        return Err(node_error(&raw.id, "a question needs at least two answers"));
    }
    let mut answer_ids = HashSet::new();
    let mut answers = Vec::new();
    for answer in raw.answers {
        if answer.id.trim().is_empty() || answer.label.trim().is_empty() {
            return Err(node_error(&raw.id, "every answer needs an `id` and a `label`"));
        }
        if !answer_ids.insert(answer.id.clone()) {
            return Err(node_error(&raw.id, format!("answer id `{}` is used twice", answer.id)));
        }
        answers.push(Answer {
            id: answer.id,
            label: answer.label,
            next: answer.next,
            unmet: answer.unmet.filter(|text| !text.trim().is_empty()),
        });
    }
    let fills = match raw.fills.as_deref() {
        None => None,
        Some(field) => Some(PrefillField::parse(field).ok_or_else(|| {
            node_error(&raw.id, format!("`fills` names `{field}`, but only `hosting_location` can be pre-filled"))
        })?),
    };
    let help = raw
        .help
        .unwrap_or_default()
        .split("\n\n")
        .map(|paragraph| paragraph.trim().to_owned())
        .filter(|paragraph| !paragraph.is_empty())
        .collect();
    Ok(Question { id: raw.id, title: raw.title, hint: raw.hint, help_summary: raw.help_summary, help, answers, fills })
}

fn build_outcome(raw: RawOutcome) -> Result<Outcome, PolicyError> {
    check_id(&raw.id)?;
    check_node_text(&raw.id, [raw.title.as_str(), raw.kind.as_str()])?;
    let kind = OutcomeKind::parse(&raw.kind).ok_or_else(|| {
        let known: Vec<&str> = OutcomeKind::ALL.iter().map(|kind| kind.as_str()).collect();
        node_error(&raw.id, format!("unknown outcome kind `{}`; expected one of {}", raw.kind, known.join(", ")))
    })?;
    if raw.title.trim().is_empty() {
        return Err(node_error(&raw.id, "the outcome has an empty `title`"));
    }
    Ok(Outcome { id: raw.id, kind, title: raw.title })
}

/// Paths under /tree/ that the service routes itself, so no question may use them.
const RESERVED_IDS: [&str; 2] = ["outcome", "restart"];

/// Node ids appear in URLs, so they are limited to lowercase ASCII, digits and `_`.
fn check_id(id: &str) -> Result<(), PolicyError> {
    let valid =
        !id.is_empty() && id.bytes().all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_');
    if !valid {
        return Err(node_error(id, "a node id may contain only lowercase letters, digits and `_`"));
    }
    if RESERVED_IDS.contains(&id) {
        return Err(node_error(
            id,
            format!("the id is reserved for the service's own pages ({}); rename the node", RESERVED_IDS.join(", ")),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
