//! Requester pages: the decision tree, its outcomes, the two request forms
//! and the requester's own requests.

pub mod answer;
pub mod app_registration;
pub mod documents;
pub mod exception;
pub mod forms;
pub mod my_requests;
pub mod outcome;
pub mod permissions;
pub mod request_flow;
pub mod start;
pub mod state;
pub mod tree;
