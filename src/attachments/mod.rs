//! Vendor documents uploaded with a request: type detection, limits,
//! storage in PostgreSQL and safe download.

pub mod detect;
pub mod store;
pub mod upload;
pub mod web;
