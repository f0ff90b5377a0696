//! The status machine. Every status change goes through [`transition`],
//! which decides from the request's kind, its current status, the action
//! and who acts, and changes nothing itself.

use super::{RequestKind, RequestStatus};

/// Actor of an action: the request's own requester, or IST staff
/// (reviewers and admins act alike here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Requester,
    Reviewer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A reviewer picks up a submitted request.
    Take,
    /// A reviewer asks the requester to change some fields.
    AskQuestion,
    /// The requester answers the question.
    Answer,
    /// A reviewer approves; for an app registration, IST has created it.
    Approve,
    /// A reviewer rejects, giving a reason.
    Reject,
    /// A reviewer closes the request: the registration is handed over, or advice given.
    Complete,
    /// The requester withdraws before a decision.
    Withdraw,
}

impl Action {
    pub const ALL: [Action; 7] = [
        Action::Take,
        Action::AskQuestion,
        Action::Answer,
        Action::Approve,
        Action::Reject,
        Action::Complete,
        Action::Withdraw,
    ];

    /// Returns the action in words, as in "cannot be {verb}".
    fn past_participle(self) -> &'static str {
        match self {
            Action::Take => "taken for review",
            Action::AskQuestion => "sent a question",
            Action::Answer => "answered",
            Action::Approve => "approved",
            Action::Reject => "rejected",
            Action::Complete => "completed",
            Action::Withdraw => "withdrawn",
        }
    }

    /// Returns the action as a verb phrase, as in "Only an IST reviewer can {verb}".
    fn verb_phrase(self) -> &'static str {
        match self {
            Action::Take => "take a request for review",
            Action::AskQuestion => "send the requester a question",
            Action::Answer => "answer a question on a request",
            Action::Approve => "approve a request",
            Action::Reject => "reject a request",
            Action::Complete => "complete a request",
            Action::Withdraw => "withdraw a request",
        }
    }

    fn actor(self) -> Actor {
        match self {
            Action::Answer | Action::Withdraw => Actor::Requester,
            _ => Actor::Reviewer,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TransitionError {
    pub message: String,
}

/// Returns the status that `action` by `actor` leads to, or why it is not allowed.
pub fn transition(
    kind: RequestKind,
    from: RequestStatus,
    action: Action,
    actor: Actor,
) -> Result<RequestStatus, TransitionError> {
    use RequestStatus::*;

    if action.actor() != actor {
        let who = match action.actor() {
            Actor::Requester => "the person who submitted it",
            Actor::Reviewer => "an IST reviewer",
        };
        return Err(TransitionError {
            message: format!("Only {who} can {}. Nothing was changed.", action.verb_phrase()),
        });
    }

    let to = match (action, from) {
        (Action::Take, Submitted) => Some(InReview),
        (Action::AskQuestion, InReview) => Some(NeedsInfo),
        (Action::Answer, NeedsInfo) => Some(InReview),
        (Action::Approve, InReview) => Some(Approved),
        (Action::Reject, InReview) => Some(Rejected),
        (Action::Complete, Approved) => Some(Completed),
        // Advice on an exception is the decision itself, so it needs no approval first.
        (Action::Complete, InReview) if kind == RequestKind::ExceptionReview => Some(Completed),
        (Action::Withdraw, Submitted | InReview | NeedsInfo) => Some(Withdrawn),
        _ => None,
    };
    to.ok_or_else(|| TransitionError {
        message: format!(
            "A request that is {} cannot be {}. Nothing was changed.",
            from.label().to_lowercase(),
            action.past_participle()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use RequestStatus::*;

    const STATUSES: [RequestStatus; 7] = RequestStatus::ALL;
    const KINDS: [RequestKind; 2] = [RequestKind::AppRegistration, RequestKind::ExceptionReview];
    const ACTORS: [Actor; 2] = [Actor::Requester, Actor::Reviewer];

    /// Every allowed move: (kind or None for both, from, action, actor, to).
    fn allowed() -> Vec<(Option<RequestKind>, RequestStatus, Action, Actor, RequestStatus)> {
        vec![
            (None, Submitted, Action::Take, Actor::Reviewer, InReview),
            (None, InReview, Action::AskQuestion, Actor::Reviewer, NeedsInfo),
            (None, NeedsInfo, Action::Answer, Actor::Requester, InReview),
            (None, InReview, Action::Approve, Actor::Reviewer, Approved),
            (None, InReview, Action::Reject, Actor::Reviewer, Rejected),
            (None, Approved, Action::Complete, Actor::Reviewer, Completed),
            (Some(RequestKind::ExceptionReview), InReview, Action::Complete, Actor::Reviewer, Completed),
            (None, Submitted, Action::Withdraw, Actor::Requester, Withdrawn),
            (None, InReview, Action::Withdraw, Actor::Requester, Withdrawn),
            (None, NeedsInfo, Action::Withdraw, Actor::Requester, Withdrawn),
        ]
    }

    #[test]
    fn transition_covers_every_status_action_and_actor() {
        let allowed = allowed();
        for kind in KINDS {
            for from in STATUSES {
                for action in Action::ALL {
                    for actor in ACTORS {
                        let expected = allowed
                            .iter()
                            .find(|(only, start, act, who, _)| {
                                only.is_none_or(|only| only == kind)
                                    && *start == from
                                    && *act == action
                                    && *who == actor
                            })
                            .map(|(.., to)| *to);
                        let result = transition(kind, from, action, actor);
                        assert_eq!(
                            result.clone().ok(),
                            expected,
                            "{kind:?} {from:?} {action:?} by {actor:?}: {result:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn every_status_pair_is_decided() {
        // Each (from, to) pair is reachable by exactly the moves listed, and no other.
        let allowed = allowed();
        for kind in KINDS {
            for from in STATUSES {
                for to in STATUSES {
                    let reachable = Action::ALL
                        .iter()
                        .any(|action| ACTORS.iter().any(|actor| transition(kind, from, *action, *actor) == Ok(to)));
                    let listed = allowed.iter().any(|(only, start, _, _, end)| {
                        only.is_none_or(|only| only == kind) && *start == from && *end == to
                    });
                    assert_eq!(reachable, listed, "{kind:?}: {from:?} -> {to:?}");
                }
            }
        }
    }

    #[test]
    fn final_statuses_allow_nothing() {
        for kind in KINDS {
            for from in [Rejected, Completed, Withdrawn] {
                for action in Action::ALL {
                    for actor in ACTORS {
                        assert!(transition(kind, from, action, actor).is_err(), "{kind:?} {from:?} {action:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn wrong_state_message_names_status_and_action() {
        let error = transition(RequestKind::AppRegistration, Approved, Action::Withdraw, Actor::Requester).unwrap_err();
        assert_eq!(error.message, "A request that is approved cannot be withdrawn. Nothing was changed.");
    }

    #[test]
    fn wrong_actor_message_names_who_may_act() {
        let error = transition(RequestKind::AppRegistration, InReview, Action::Approve, Actor::Requester).unwrap_err();
        assert_eq!(error.message, "Only an IST reviewer can approve a request. Nothing was changed.");
    }

    #[test]
    fn app_registration_needs_approval_before_completion() {
        let result = transition(RequestKind::AppRegistration, InReview, Action::Complete, Actor::Reviewer);
        assert!(result.is_err());
    }
}
