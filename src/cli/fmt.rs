//! `edict fmt`: rewrite policy files in the canonical layout.

use std::io::Read;
use std::path::PathBuf;

use clap::Args;

use super::{emit_diagnostics, paths_or_default, DiagnosticFormat, EXIT_INVALID, EXIT_OK};
use crate::syntax::format::{format, FormatError};

/// Exit code of `--check` when a file is not formatted.
const EXIT_UNFORMATTED: u8 = 1;

/// Arguments of `edict fmt`.
#[derive(Debug, Args)]
pub struct FmtArgs {
    /// Policy files or directories (default: the current directory); `-` reads
    /// stdin and writes the formatted text to stdout.
    pub paths: Vec<PathBuf>,
    /// Write nothing; list the files that are not formatted and exit 1 if any.
    #[arg(long)]
    pub check: bool,
}

/// Formats the files: exit 0 done (or all formatted), 1 `--check` found
/// unformatted files, 2 a file does not parse or cannot be read.
pub fn run(args: FmtArgs) -> u8 {
    if args.paths.len() == 1 && args.paths[0].as_os_str() == "-" {
        return stdin(args.check);
    }
    let paths = paths_or_default(args.paths);
    let files = match crate::policy_files(&paths) {
        Ok(files) => files,
        Err(e) => {
            err_line!("error: {e}");
            return EXIT_INVALID;
        }
    };
    let mut code = EXIT_OK;
    let mut changed = 0usize;
    for file in &files {
        let name = file.display().to_string();
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                err_line!("error: cannot read `{name}`: {e}");
                code = EXIT_INVALID;
                continue;
            }
        };
        let formatted = match format_or_report(&name, &text) {
            Some(f) => f,
            None => {
                code = EXIT_INVALID;
                continue;
            }
        };
        if formatted == text {
            continue;
        }
        changed += 1;
        if args.check {
            super::out(&format!("{name}\n"));
            if code == EXIT_OK {
                code = EXIT_UNFORMATTED;
            }
        } else if let Err(e) = std::fs::write(file, &formatted) {
            err_line!("error: cannot write `{name}`: {e}");
            code = EXIT_INVALID;
        }
    }
    let verb = if args.check {
        "would be reformatted"
    } else {
        "reformatted"
    };
    err_line!(
        "{changed} of {} file{} {verb}",
        files.len(),
        if files.len() == 1 { "" } else { "s" }
    );
    code
}

fn stdin(check: bool) -> u8 {
    let mut text = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut text) {
        err_line!("error: cannot read stdin: {e}");
        return EXIT_INVALID;
    }
    let Some(formatted) = format_or_report("<stdin>", &text) else {
        return EXIT_INVALID;
    };
    if check {
        return if formatted == text {
            EXIT_OK
        } else {
            err_line!("<stdin> is not formatted");
            EXIT_UNFORMATTED
        };
    }
    super::out(&formatted);
    EXIT_OK
}

fn format_or_report(name: &str, text: &str) -> Option<String> {
    match format(name, text) {
        Ok(f) => Some(f),
        Err(FormatError::Syntax(diagnostics, sources)) => {
            emit_diagnostics(&diagnostics, &sources, DiagnosticFormat::Pretty);
            err_line!("error: `{name}` does not parse; left as is");
            None
        }
        Err(FormatError::Changed) => {
            err_line!(
                "error: formatting `{name}` would change how it parses; left as is (please report this formatter bug)"
            );
            None
        }
    }
}
