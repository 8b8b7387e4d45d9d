//! The integration tests: one binary, one module per area.

mod cli;
mod common;
mod docs;
mod examples;
mod suites;
