//! The integration tests: one binary, one module per area.

mod cli;
mod common;
mod examples;
mod perf;
mod suites;
