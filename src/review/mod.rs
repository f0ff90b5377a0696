//! Reviewer pages: the queue and the request detail.

pub mod actions;
pub mod detail;
pub mod outbox;
pub mod plan;
pub mod queue;
pub mod target;
