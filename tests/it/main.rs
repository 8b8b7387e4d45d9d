//! The integration tests: one binary, one module per area.

mod authoring;
mod cli;
mod common;
mod demand;
mod docs;
mod editors;
mod examples;
mod lsp;
mod perf;
mod progress;
mod reports;
mod resilience;
mod robustness;
mod scaleout;
mod schema;
mod suites;
