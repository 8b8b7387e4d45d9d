//! The commands, one file each.

/// `eprintln!` that ignores a closed stderr (`edict check 2>&1 | head -1`),
/// where `eprintln!` would panic.
macro_rules! err_line {
    ($($arg:tt)*) => {
        $crate::cli::err(&format!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprint!` that ignores a closed stderr.
macro_rules! err_text {
    ($($arg:tt)*) => {
        $crate::cli::err(&format!($($arg)*))
    };
}

mod check;
mod diff;
mod eval;
mod explain;
mod fmt;
mod inputs;
mod lsp;
mod progress;
pub mod project;
mod stream;
mod test;
mod watch;

use std::io::IsTerminal;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand, ValueEnum};

use crate::diagnostic::Diagnostic;
use crate::source::SourceMap;

/// Exit code: compliant, or the command succeeded.
pub const EXIT_OK: u8 = 0;
/// Exit code: non-compliant.
pub const EXIT_NONCOMPLIANT: u8 = 1;
/// Exit code: the policy set does not check, facts cannot be read, or the invocation is wrong.
pub const EXIT_INVALID: u8 = 2;

/// Policy-as-code for compliance: patch SLAs, risk acceptances, training.
#[derive(Debug, Parser)]
#[command(name = "edict", version, about)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse and check a policy set; print diagnostics only.
    Check(check::CheckArgs),
    /// Evaluate a policy set against facts and report every outcome.
    Eval(eval::EvalArgs),
    /// Run the `test` blocks of a policy set.
    Test(test::TestArgs),
    /// Rewrite policy files in the canonical layout.
    Fmt(fmt::FmtArgs),
    /// Show why each failing `require` of a rule failed.
    Explain(explain::ExplainArgs),
    /// Show the outcomes a policy change flips on the same facts.
    Diff(diff::DiffArgs),
    /// Re-check and re-evaluate on every change to policies or facts.
    Watch(watch::WatchArgs),
    /// Serve the Language Server Protocol on stdin and stdout, for editors.
    Lsp(lsp::LspArgs),
}

/// Runs a command and returns its exit code.
pub fn run(cli: Cli) -> u8 {
    match cli.command {
        Command::Check(args) => check::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Test(args) => test::run(args),
        Command::Fmt(args) => fmt::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Watch(args) => watch::run(args),
        Command::Lsp(args) => lsp::run(args),
    }
}

/// Output formats for diagnostics.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum DiagnosticFormat {
    /// Human-readable, with source excerpts.
    Pretty,
    /// One JSON object per line per diagnostic.
    Json,
}

/// Writes to stdout; a closed pipe (`edict eval | head`) ends the output
/// quietly instead of failing the command.
pub(crate) fn out(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
}

/// Writes to stderr, ignoring a closed pipe.
pub(crate) fn err(text: &str) {
    use std::io::Write;
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// Policy paths, defaulting to the current directory.
fn paths_or_default(paths: Vec<PathBuf>) -> Vec<PathBuf> {
    if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths
    }
}

/// Whether to colour output on stderr/stdout.
fn use_color(stream_is_terminal: bool) -> bool {
    stream_is_terminal && std::env::var_os("NO_COLOR").is_none()
}

/// Renders diagnostics the way a person reads them, with source excerpts.
pub fn render_diagnostics(diagnostics: &[Diagnostic], sources: &SourceMap, color: bool) -> String {
    let theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut out = String::new();
    for d in diagnostics {
        if on_a_long_line(d, sources) {
            out.push_str(&plain_diagnostic(d, sources));
        } else {
            let report = d.render(sources);
            let _ = handler.render_report(&mut out, report.as_ref());
        }
        out.push('\n');
    }
    out
}

/// Lines longer than this are not excerpted: miette panics formatting some
/// of them (a generated policy can put megabytes on one line), and an
/// excerpt of such a line would not help anyone.
const MAX_EXCERPT_LINE: usize = 1_000;

/// Whether any span the diagnostic excerpts starts on a line too long for it.
fn on_a_long_line(d: &Diagnostic, sources: &SourceMap) -> bool {
    std::iter::once(d.span)
        .chain(d.related.iter().map(|(span, _)| *span))
        .any(|span| {
            let text = &*sources.get(span.source).text;
            let at = (span.start as usize).min(text.len());
            let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
            let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
            end - start > MAX_EXCERPT_LINE
        })
}

/// A diagnostic as plain lines: code and message, where, and help.
fn plain_diagnostic(d: &Diagnostic, sources: &SourceMap) -> String {
    let loc = d.location(sources);
    let mut out = format!(
        "{}[{}]: {}\n  --> {}:{}:{}\n",
        match d.severity {
            crate::diagnostic::Severity::Error => "error",
            crate::diagnostic::Severity::Warning => "warning",
        },
        d.code,
        d.message,
        loc.file,
        loc.line,
        loc.column
    );
    if let Some(help) = &d.help {
        out.push_str(&format!("  help: {help}\n"));
    }
    out
}

/// One diagnostic as a JSON object with 1-based positions: the stable editor format.
pub fn diagnostic_json(d: &Diagnostic, sources: &SourceMap) -> serde_json::Value {
    let loc = d.location(sources);
    serde_json::json!({
        "file": loc.file,
        "line": loc.line,
        "column": loc.column,
        "end_line": loc.end_line,
        "end_column": loc.end_column,
        "severity": d.severity,
        "code": d.code,
        "message": d.message,
        "help": d.help,
    })
}

/// Prints diagnostics to stderr (pretty) or stdout (JSON lines).
fn emit_diagnostics(diagnostics: &[Diagnostic], sources: &SourceMap, format: DiagnosticFormat) {
    match format {
        DiagnosticFormat::Pretty => {
            let color = use_color(std::io::stderr().is_terminal());
            err_text!("{}", render_diagnostics(diagnostics, sources, color));
        }
        DiagnosticFormat::Json => {
            for d in diagnostics {
                out(&format!("{}\n", diagnostic_json(d, sources)));
            }
        }
    }
}

/// Parses `--now`: a date (midnight UTC) or an RFC 3339 instant.
fn parse_now(s: &str) -> Result<DateTime<Utc>, String> {
    crate::eval::value::parse_datetime(s)
        .or_else(|| crate::eval::value::parse_date(s).map(crate::eval::value::midnight))
        .ok_or_else(|| {
            format!("`{s}` is not a date (2026-11-29) or an instant (2026-11-29T08:30:00Z)")
        })
}

/// Parses a duration such as `30d` or `2w`.
fn parse_duration_days(s: &str) -> Result<i64, String> {
    let (digits, unit) = s.split_at(s.len().saturating_sub(1));
    let n: i64 = digits
        .parse()
        .map_err(|_| format!("`{s}` is not a duration such as 30d"))?;
    match unit {
        "d" => Ok(n),
        "w" => Ok(n * 7),
        _ => Err(format!("`{s}`: give the duration in days (d) or weeks (w)")),
    }
}
