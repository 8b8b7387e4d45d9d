//! The integration tests: one binary, one module per area.

mod cli;
mod common;
mod docs;
mod examples;
mod reports;
mod robustness;
mod schema;
mod suites;
