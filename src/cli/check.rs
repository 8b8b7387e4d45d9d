//! `edict check`: diagnostics only.

use std::path::PathBuf;

use clap::Args;

use super::{emit_diagnostics, paths_or_default, DiagnosticFormat, EXIT_INVALID, EXIT_OK};
use crate::{LoadError, PolicySet};

/// Arguments of `edict check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Policy files or directories (default: the current directory).
    pub paths: Vec<PathBuf>,
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value = "pretty")]
    pub format: DiagnosticFormat,
}

/// Checks the policy set: exit 0 when it checks (warnings allowed), 2 otherwise.
pub fn run(args: CheckArgs) -> u8 {
    let mut paths = args.paths;
    if paths.is_empty() {
        match super::project::current() {
            Ok(project) => paths = project.paths,
            Err(e) => {
                err_line!("error: {e}");
                return EXIT_INVALID;
            }
        }
    }
    let paths = paths_or_default(paths);
    match PolicySet::load(&paths) {
        Ok(set) => {
            emit_diagnostics(set.warnings(), &set.program().sources, args.format);
            if args.format == DiagnosticFormat::Pretty {
                let n = set.program().rules.len();
                err_line!("ok: {n} rule{} checked", if n == 1 { "" } else { "s" });
            }
            EXIT_OK
        }
        Err(LoadError::Check(failure)) => {
            emit_diagnostics(&failure.diagnostics, &failure.sources, args.format);
            let errors = failure.diagnostics.iter().filter(|d| d.is_error()).count();
            if args.format == DiagnosticFormat::Pretty {
                err_line!(
                    "error: {errors} error{} in the policy set",
                    if errors == 1 { "" } else { "s" }
                );
            }
            EXIT_INVALID
        }
        Err(other) => {
            err_line!("error: {other}");
            EXIT_INVALID
        }
    }
}
