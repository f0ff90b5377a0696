//! ist-intake: email-sending requests from university departments and the
//! IST review queue. The binary in `main.rs` is a thin shell over this crate;
//! tests build the same router through [`app::router`].

pub mod accounts;
pub mod app;
pub mod attachments;
pub mod config;
pub mod db;
pub mod graph;
pub mod intake;
pub mod notify;
pub mod policy;
pub mod requests;
pub mod review;
pub mod web;

pub use app::{AppState, router};
