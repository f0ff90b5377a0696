//! Integration tests: the real router served over TCP on loopback, against a
//! fresh, migrated PostgreSQL database per test (`#[sqlx::test]`).

mod access;
mod browser;
mod command_line;
mod documents;
mod files;
mod forms;
mod journeys;
mod notifications;
mod permissions;
mod policy_rules;
mod queue;
mod review_pages;
mod smtp;
mod submission;
mod support;
mod tree;
mod workflow;
