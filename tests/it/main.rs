//! The integration tests: one binary, one module per area.

mod cli;
mod common;
mod editors;
mod examples;
mod lsp;
mod robustness;
mod suites;
