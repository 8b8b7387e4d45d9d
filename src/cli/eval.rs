//! `edict eval`: evaluate a policy set against facts and report.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{
    emit_diagnostics, parse_duration_days, parse_now, paths_or_default, use_color,
    DiagnosticFormat, EXIT_INVALID, EXIT_NONCOMPLIANT, EXIT_OK,
};
use crate::ir::Severity;
use crate::report::{pretty, Report, ReportOptions};
use crate::{EvalOptions, Facts, LoadError, PolicySet};

/// Report formats.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ReportFormat {
    /// Grouped by rule, for people.
    Pretty,
    /// One JSON document.
    Json,
}

/// Arguments of `edict eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Policy files or directories (default: the current directory).
    pub paths: Vec<PathBuf>,
    /// A facts file; `NAME=FILE` mounts it under the key NAME. Repeatable.
    #[arg(long = "facts", value_name = "[NAME=]FILE")]
    pub facts: Vec<String>,
    /// The evaluation instant: a date or an RFC 3339 time (default: now).
    #[arg(long, value_parser = parse_now)]
    pub now: Option<chrono::DateTime<chrono::Utc>>,
    /// Evaluate only this rule. Repeatable.
    #[arg(long = "rule", value_name = "ID")]
    pub rules: Vec<String>,
    /// The report format.
    #[arg(long, value_enum, default_value = "pretty")]
    pub format: ReportFormat,
    /// The lowest severity whose failures make the run non-compliant.
    #[arg(long, value_parser = parse_severity, default_value = "info")]
    pub fail_on: Severity,
    /// List exceptions expiring within this window (days `d` or weeks `w`).
    #[arg(long, value_parser = parse_duration_days, default_value = "30d")]
    pub expiring_within: i64,
    /// Expression steps one subject may take before it is an error.
    #[arg(long, default_value_t = crate::eval::DEFAULT_MAX_STEPS)]
    pub max_steps: u64,
    /// Worker threads (default: every core); the report is the same at any count.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
    /// Stream a JSON Lines file (`-` for stdin) under NAME, one record a line,
    /// writing one JSON outcome a line as it goes.
    #[arg(long, value_name = "NAME=FILE", value_parser = super::stream::parse_spec)]
    pub stream: Option<(String, String)>,
    /// No progress bar on stderr while streaming.
    #[arg(long, short)]
    pub quiet: bool,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    Severity::parse(s)
        .ok_or_else(|| format!("`{s}` is not one of info, low, medium, high, critical"))
}

/// Evaluates and prints the report; exit 0 compliant, 1 not, 2 invalid input.
pub fn run(args: EvalArgs) -> u8 {
    let paths = paths_or_default(args.paths);
    let set = match PolicySet::load(&paths) {
        Ok(set) => set,
        Err(LoadError::Check(failure)) => {
            emit_diagnostics(
                &failure.diagnostics,
                &failure.sources,
                DiagnosticFormat::Pretty,
            );
            return EXIT_INVALID;
        }
        Err(other) => {
            eprintln!("error: {other}");
            return EXIT_INVALID;
        }
    };
    emit_diagnostics(
        set.warnings(),
        &set.program().sources,
        DiagnosticFormat::Pretty,
    );
    let mut facts = Facts::default();
    for spec in &args.facts {
        let (mount, path) = match spec.split_once('=') {
            Some((name, path)) if !name.is_empty() && !name.contains(['/', '\\', '.']) => {
                (Some(name), path)
            }
            _ => (None, spec.as_str()),
        };
        if let Err(e) = facts.add_file(std::path::Path::new(path), mount) {
            eprintln!("{:?}", miette::Report::new(e));
            return EXIT_INVALID;
        }
    }
    let options = EvalOptions {
        now: args.now.unwrap_or_else(chrono::Utc::now),
        rules: (!args.rules.is_empty()).then(|| args.rules.clone()),
        expiring_within_days: args.expiring_within,
        max_steps: args.max_steps,
        threads: args.threads.map_or_else(
            || std::thread::available_parallelism().map_or(1, |n| n.get()),
            usize::from,
        ),
    };
    for id in &args.rules {
        if !set.program().rules.iter().any(|r| *r.id == **id) {
            let known = set.program().rules.iter().map(|r| &*r.id);
            let help = crate::diagnostic::did_you_mean(id, known)
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            eprintln!("error: no rule `{id}`{help}");
            return EXIT_INVALID;
        }
    }
    if let Some((name, file)) = &args.stream {
        return super::stream::run(&set, &facts, name, file, &options, args.fail_on, args.quiet);
    }
    let evaluation = set.evaluate(&facts, &options);
    let report = Report::new(
        set.program(),
        &evaluation,
        &ReportOptions {
            policy_files: set
                .program()
                .sources
                .iter()
                .map(|(_, s)| s.name.clone())
                .filter(|n| !n.starts_with('<'))
                .collect(),
            facts: args.facts.clone(),
            fail_on: Some(args.fail_on),
        },
    );
    match args.format {
        ReportFormat::Pretty => print!(
            "{}",
            pretty::render(&report, use_color(std::io::stdout().is_terminal()))
        ),
        ReportFormat::Json => println!("{}", report.to_json()),
    }
    // The facts can be large; the operating system reclaims them faster
    // than freeing a million small allocations one by one.
    std::mem::forget(facts);
    std::mem::forget(evaluation);
    if report.summary.compliant {
        EXIT_OK
    } else {
        EXIT_NONCOMPLIANT
    }
}
