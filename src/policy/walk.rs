//! A user's walk through the tree. The answers live in the server-side
//! session; the path is always derived from them, so a user cannot skip a
//! question by editing a URL or a form.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Answer, Node, Outcome, Policy, Question};

/// Prefix of the requirement line for a "not covered" exit.
pub const NOT_COVERED_PREFIX: &str = "Situation not covered by the questions:";

/// The answers a user has given so far, keyed by question id.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct TreeAnswers {
    pub answers: BTreeMap<String, String>,
    /// The question where the user chose "my situation is not covered".
    pub not_covered_at: Option<String>,
}

/// One answered question on the path.
#[derive(Debug, Clone)]
pub struct Step<'a> {
    pub question: &'a Question,
    pub answer: &'a Answer,
}

#[derive(Debug, Clone)]
pub enum PathEnd<'a> {
    /// The first question still to answer.
    Question(&'a Question),
    Outcome(&'a Outcome),
}

/// The answered questions from the start, in order, and where they lead.
#[derive(Debug, Clone)]
pub struct Path<'a> {
    pub steps: Vec<Step<'a>>,
    pub end: PathEnd<'a>,
    /// The question the user left through "not covered", when they did.
    pub not_covered_at: Option<&'a Question>,
}

impl TreeAnswers {
    /// Follows the answers from the start question. Answers that the policy
    /// no longer knows are ignored, so a replaced policy cannot strand a user.
    pub fn path<'a>(&self, policy: &'a Policy) -> Path<'a> {
        let mut steps = Vec::new();
        let mut current = policy.start.as_str();
        loop {
            let question = match policy.node(current) {
                Some(Node::Question(question)) => question,
                Some(Node::Outcome(outcome)) => {
                    return Path { steps, end: PathEnd::Outcome(outcome), not_covered_at: None };
                }
                // Unreachable for a validated policy.
                None => unreachable!("validated policy has a dangling node `{current}`"),
            };
            if self.not_covered_at.as_deref() == Some(question.id.as_str()) {
                let outcome = policy.outcome(&policy.not_covered).expect("validated `not_covered`");
                return Path { steps, end: PathEnd::Outcome(outcome), not_covered_at: Some(question) };
            }
            let answer = self.answers.get(&question.id).and_then(|answer_id| question.answer(answer_id));
            match answer {
                Some(answer) => {
                    steps.push(Step { question, answer });
                    current = &answer.next;
                }
                None => return Path { steps, end: PathEnd::Question(question), not_covered_at: None },
            }
        }
    }

    /// Records an answer and clears any earlier "not covered" exit, because
    /// answering a question means the user is walking the tree again.
    pub fn record(&mut self, question: &str, answer: &str) {
        self.answers.insert(question.to_owned(), answer.to_owned());
        self.not_covered_at = None;
    }
}

impl<'a> Path<'a> {
    /// Checks whether the question is on the path: answered, or the next to answer.
    pub fn contains_question(&self, id: &str) -> bool {
        self.steps.iter().any(|step| step.question.id == id)
            || matches!(self.end, PathEnd::Question(question) if question.id == id)
            || self.not_covered_at.is_some_and(|question| question.id == id)
    }

    /// Returns the question answered just before `id`, for the Back link.
    pub fn previous_question(&self, id: &str) -> Option<&'a Question> {
        let position = self.steps.iter().position(|step| step.question.id == id);
        let index = position.unwrap_or(self.steps.len());
        index.checked_sub(1).map(|before| self.steps[before].question)
    }

    pub fn outcome(&self) -> Option<&'a Outcome> {
        match self.end {
            PathEnd::Outcome(outcome) => Some(outcome),
            PathEnd::Question(_) => None,
        }
    }

    /// Lists the requirements left unmet along the path, in path order.
    pub fn unmet_requirements(&self) -> Vec<String> {
        let mut unmet: Vec<String> = self.steps.iter().filter_map(|step| step.answer.unmet.clone()).collect();
        if let Some(question) = self.not_covered_at {
            unmet.push(format!("{NOT_COVERED_PREFIX} the requester stopped at the question \"{}\"", question.title));
        }
        unmet
    }
}
