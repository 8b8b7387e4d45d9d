//! The `edict` command line: parse arguments, run a command, map its exit code.

use std::process::ExitCode;

use clap::Parser as _;

/// Stack for the worker thread: the syntax tree's depth is bounded, and this
/// leaves a wide margin for the recursive passes over it.
const STACK_BYTES: usize = 64 * 1024 * 1024;

/// Evaluating a fleet allocates millions of small values; mimalloc spends
/// about a fifth less CPU on it than the system allocator (docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = edict::cli::Cli::parse();
    let worker = std::thread::Builder::new()
        .stack_size(STACK_BYTES)
        .spawn(move || edict::cli::run(cli));
    match worker.map(|w| w.join()) {
        Ok(Ok(code)) => ExitCode::from(code),
        _ => {
            eprintln!("error: internal error; please report it with the input that caused it");
            ExitCode::from(edict::cli::EXIT_INVALID)
        }
    }
}
