//! The `edict` command line: parse arguments, run a command, map its exit code.

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let cli = edict::cli::Cli::parse();
    ExitCode::from(edict::cli::run(cli))
}
