//! `edict eval`: evaluate a policy set against facts and report.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;

use super::project;
use crate::eval::load::Format as FactsFormat;

use super::{
    parse_duration_days, parse_now, paths_or_default, use_color, EXIT_INVALID, EXIT_NONCOMPLIANT,
    EXIT_OK,
};
use crate::ir::Severity;
use crate::report::{Format, Report, ReportOptions};
use crate::{EvalOptions, Facts};

/// Arguments of `edict eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Policy files or directories (default: the current directory).
    pub paths: Vec<PathBuf>,
    /// A facts file; `NAME=FILE` mounts it under the key NAME. Repeatable.
    #[arg(long = "facts", value_name = "[NAME=]FILE")]
    pub facts: Vec<String>,
    /// The format of `-` (stdin) and of files whose extension does not say.
    #[arg(long, value_parser = parse_facts_format, value_name = "FORMAT")]
    pub facts_format: Option<FactsFormat>,
    /// The evaluation instant: a date or an RFC 3339 time (default: now).
    #[arg(long, value_parser = parse_now)]
    pub now: Option<chrono::DateTime<chrono::Utc>>,
    /// Evaluate only this rule. Repeatable.
    #[arg(long = "rule", value_name = "ID")]
    pub rules: Vec<String>,
    /// The report format (default: pretty).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write the report to FILE (atomically) and a one-line summary to stderr.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The lowest severity whose failures make the run non-compliant (default: info).
    #[arg(long, value_parser = parse_severity)]
    pub fail_on: Option<Severity>,
    /// List exceptions expiring within this window (days `d` or weeks `w`).
    #[arg(long, value_parser = parse_duration_days, default_value = "30d")]
    pub expiring_within: i64,
    /// Expression steps one subject may take before it is an error.
    #[arg(long, default_value_t = crate::eval::DEFAULT_MAX_STEPS)]
    pub max_steps: u64,
    /// Bytes one string built during evaluation may hold before the subject is an error.
    #[arg(long, default_value_t = crate::eval::DEFAULT_MAX_STRING_BYTES, value_name = "BYTES")]
    pub max_string_bytes: usize,
    /// Items one list built during evaluation may hold before the subject is an error.
    #[arg(long, default_value_t = crate::eval::DEFAULT_MAX_LIST_ITEMS, value_name = "ITEMS")]
    pub max_list_items: usize,
    /// After a pretty report, show why each failing `require` failed.
    #[arg(long)]
    pub explain: bool,
    /// Worker threads (default: every core); the report is the same at any count.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
    /// Stream a JSON Lines file (`-` for stdin) under NAME, one record a line,
    /// writing one JSON outcome a line as it goes.
    #[arg(long, value_name = "NAME=FILE", value_parser = super::stream::parse_spec)]
    pub stream: Option<(String, String)>,
    /// Fail the run (exit 2, nothing evaluated) on a malformed JSON Lines
    /// facts record, instead of leaving it out and counting it as rejected.
    #[arg(long)]
    pub strict: bool,
    /// No progress line on stderr (shown on a terminal once a run takes a second).
    #[arg(long, short)]
    pub quiet: bool,
    /// Exit 0 when the run is merely non-compliant; invalid input still exits 2.
    #[arg(long)]
    pub exit_zero: bool,
    /// With `--stream`: an evidence line first and a stream summary line last.
    #[arg(long, requires = "stream")]
    pub evidence: bool,
}

fn parse_facts_format(s: &str) -> Result<FactsFormat, String> {
    FactsFormat::parse(s)
        .ok_or_else(|| format!("`{s}` is not one of json, jsonl, ndjson, yaml, yml, csv"))
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    Severity::parse(s)
        .ok_or_else(|| format!("`{s}` is not one of info, low, medium, high, critical"))
}

/// Evaluates and prints the report; exit 0 compliant, 1 not (0 with
/// `--exit-zero`), 2 invalid input.
pub fn run(args: EvalArgs) -> u8 {
    let exit_zero = args.exit_zero;
    match run_report(args) {
        EXIT_NONCOMPLIANT if exit_zero => EXIT_OK,
        code => code,
    }
}

/// Evaluates and prints the report; exit 0 compliant, 1 not, 2 invalid input.
fn run_report(mut args: EvalArgs) -> u8 {
    let project = match project::current() {
        Ok(p) => p,
        Err(e) => {
            err_line!("error: {e}");
            return EXIT_INVALID;
        }
    };
    if args.paths.is_empty() {
        args.paths = project.paths.clone();
    }
    if args.facts.is_empty() {
        args.facts = project.facts.clone();
    }
    if args.now.is_none() {
        if let Some(now) = &project.now {
            match parse_now(now) {
                Ok(n) => args.now = Some(n),
                Err(e) => {
                    err_line!("error: edict.toml: now: {e}");
                    return EXIT_INVALID;
                }
            }
        }
    }
    let format = match (args.format, &project.format) {
        (Some(f), _) => f,
        (None, Some(name)) => match <Format as clap::ValueEnum>::from_str(name, true) {
            Ok(f) => f,
            Err(_) => {
                err_line!("error: edict.toml: format: `{name}` is not one of pretty, json, jsonl, sarif, junit, markdown, html");
                return EXIT_INVALID;
            }
        },
        (None, None) => Format::Pretty,
    };
    let fail_on = match (args.fail_on, &project.fail_on) {
        (Some(s), _) => s,
        (None, Some(name)) => match parse_severity(name) {
            Ok(s) => s,
            Err(e) => {
                err_line!("error: edict.toml: fail-on: {e}");
                return EXIT_INVALID;
            }
        },
        (None, None) => Severity::Info,
    };
    let paths = paths_or_default(args.paths);
    let set = match super::inputs::load_set(&paths) {
        Ok(set) => set,
        Err(code) => return code,
    };
    let threads = args.threads.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        usize::from,
    );
    let bar = super::progress::Bar::start(
        !args.quiet && std::io::stderr().is_terminal(),
        set.program()
            .rules
            .iter()
            .map(|r| r.id.to_string())
            .collect(),
    );
    let mut facts = Facts::default();
    facts.skip_malformed_records = !args.strict;
    facts.parse_threads = threads;
    // `--explain` shows the values it meets, so it needs them all.
    if !args.explain {
        facts.demand = Some(std::sync::Arc::new(set.demand()));
    }
    let schema = set.program().schema.as_deref();
    let mut errors = Vec::new();
    for spec in &args.facts {
        let (mount, path) = project::split_mount(spec);
        let path = std::path::Path::new(path);
        if let Err(mut e) = facts.add_source(path, mount, args.facts_format, schema) {
            errors.append(&mut e);
        }
    }
    if let (true, Some(schema)) = (errors.is_empty(), schema) {
        if let Err(e) =
            facts.check_required(schema, args.stream.as_ref().map(|(name, _)| name.as_str()))
        {
            errors.push(e);
        }
    }
    if !errors.is_empty() {
        bar.finish();
        for e in &errors {
            err_text!("{}", project::render_facts_error(e));
        }
        return EXIT_INVALID;
    }
    let options = EvalOptions {
        now: args
            .now
            .unwrap_or_else(|| chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 0)),
        rules: (!args.rules.is_empty()).then(|| args.rules.clone()),
        expiring_within_days: args.expiring_within,
        max_steps: args.max_steps,
        limits: crate::eval::Limits {
            max_string_bytes: args.max_string_bytes,
            max_list_items: args.max_list_items,
        },
        threads,
        progress: bar.progress(),
    };
    for id in &args.rules {
        if !set.program().rules.iter().any(|r| *r.id == **id) {
            let known = set.program().rules.iter().map(|r| &*r.id);
            let help = crate::diagnostic::did_you_mean(id, known)
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            bar.finish();
            err_line!("error: no rule `{id}`{help}");
            return EXIT_INVALID;
        }
    }
    if let Some((name, file)) = &args.stream {
        // Flags a stream cannot honour are refused rather than ignored: the
        // output would not be what, or where, was asked for.
        let refused = match (args.format, &args.output) {
            (Some(f), _) if f != Format::Jsonl => Some(format!(
                "`--format {}`: --stream writes JSON Lines as it goes; leave --format out or give `jsonl`",
                f.as_str()
            )),
            (_, Some(_)) => Some(
                "`--output`: --stream writes to standard output as it goes; redirect it (`> FILE`)"
                    .to_string(),
            ),
            _ if args.explain => {
                Some("`--explain` does not apply to --stream; run `edict explain` on one record".into())
            }
            _ => None,
        };
        // The stream draws its own progress.
        bar.finish();
        if let Some(why) = refused {
            err_line!("error: {why}");
            return EXIT_INVALID;
        }
        let flags = super::stream::Flags {
            fail_on,
            quiet: args.quiet,
            evidence: args.evidence.then(command_line),
        };
        return super::stream::run(&set, &facts, name, file, &options, &flags);
    }
    let (evaluation, explained) = if args.explain {
        crate::eval::explain::explain(set.program(), &facts, &options)
    } else {
        (set.evaluate(&facts, &options), Vec::new())
    };
    bar.finish();
    for e in &facts.rejected {
        err_line!("warning: {e}; the record was left out");
    }
    let report_options = ReportOptions {
        policy_files: set
            .program()
            .sources
            .iter()
            .map(|(_, s)| s.name.clone())
            .filter(|n| !n.starts_with('<'))
            .collect(),
        facts: args.facts.clone(),
        fail_on: Some(fail_on),
        facts_inputs: facts.inputs.clone(),
        command_line: command_line(),
        threads,
    };
    // The report takes the evaluation's strings unless --explain still needs them.
    let (mut report, evaluation) = if args.explain {
        let report = Report::new(set.program(), &evaluation, &report_options);
        (report, Some(evaluation))
    } else {
        let report = Report::from_evaluation(set.program(), evaluation, &report_options);
        (report, None)
    };
    report.account_records(&facts);
    match &args.output {
        None => {
            let color = format == Format::Pretty && use_color(std::io::stdout().is_terminal());
            let stdout = std::io::stdout().lock();
            let mut w = std::io::BufWriter::with_capacity(1 << 16, stdout);
            // A reader that stops early (`| head`) is not an error.
            let _ = report
                .write_to(&mut w, format, color, threads)
                .and_then(|()| std::io::Write::flush(&mut w));
        }
        Some(path) => {
            if let Err(e) = write_atomically(path, |w| report.write_to(w, format, false, threads)) {
                err_line!("error: cannot write `{}`: {e}", path.display());
                return EXIT_INVALID;
            }
            err_line!(
                "edict: wrote {} report to {}: {}",
                format.as_str(),
                path.display(),
                report.summary_line()
            );
        }
    }
    if let (Some(evaluation), Format::Pretty) = (&evaluation, format) {
        super::out(&format!(
            "\n{}",
            super::explain::render(&set, evaluation, &explained)
        ));
    }
    // The facts can be large; the operating system reclaims them faster
    // than freeing a million small allocations one by one.
    let records_left_out = !facts.rejected.is_empty();
    let compliant = report.summary.compliant;
    std::mem::forget(facts);
    std::mem::forget(evaluation);
    std::mem::forget(report);
    if records_left_out && args.exit_zero {
        // A map step must not pass a partition that skipped input: the same
        // rule as a malformed streamed line.
        err_line!("error: records were left out, so --exit-zero does not apply");
        return EXIT_INVALID;
    }
    if compliant {
        EXIT_OK
    } else {
        EXIT_NONCOMPLIANT
    }
}

/// This process's command line, program name first as `edict`.
fn command_line() -> Vec<String> {
    std::iter::once("edict".to_string())
        .chain(
            std::env::args_os()
                .skip(1)
                .map(|a| a.to_string_lossy().into_owned()),
        )
        .collect()
}

/// A file that is flushed to disk in the background as it is written, so
/// the final `fsync` that makes a large report durable has little left to
/// wait for: a 109 MB report's took about 45 ms, after the writing.
struct EagerSync {
    file: std::fs::File,
    /// Bytes written since the last background sync began.
    unsynced: usize,
    syncing: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl EagerSync {
    /// Bytes between background syncs.
    const EVERY: usize = 16 << 20;

    fn new(file: std::fs::File) -> EagerSync {
        EagerSync {
            file,
            unsynced: 0,
            syncing: None,
        }
    }

    /// Waits for the background sync, if any, and reports how it went.
    fn settle(&mut self) -> std::io::Result<()> {
        match self.syncing.take() {
            Some(sync) => sync
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("a background sync failed"))),
            None => Ok(()),
        }
    }

    /// Makes everything written durable.
    fn finish(mut self) -> std::io::Result<()> {
        self.settle()?;
        self.file.sync_all()
    }
}

impl std::io::Write for EagerSync {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.unsynced += n;
        let idle = self.syncing.as_ref().is_none_or(|s| s.is_finished());
        if self.unsynced >= Self::EVERY && idle {
            self.settle()?;
            let file = self.file.try_clone()?;
            // A thread that cannot start is an error to report, not a panic.
            let sync = std::thread::Builder::new().spawn(move || file.sync_data())?;
            self.syncing = Some(sync);
            self.unsynced = 0;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// Writes a file through a temporary sibling and a rename, so readers never
/// see half a report and a killed run leaves the old file (or none).
fn write_atomically(
    path: &std::path::Path,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    use std::io::Write as _;
    // A device or pipe (`--output /dev/null`, `/dev/stdout`, a FIFO) is
    // written in place: renaming a file over it would replace it, and as
    // root that deletes /dev/null for the whole machine.
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
        let file = std::fs::OpenOptions::new().write(true).open(path)?;
        let mut w = std::io::BufWriter::with_capacity(1 << 16, file);
        write(&mut w)?;
        return w.flush();
    }
    // A link keeps pointing at the report: the file it names is replaced.
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = std::fs::File::create(&tmp).and_then(|file| {
        let mut w = std::io::BufWriter::with_capacity(1 << 16, EagerSync::new(file));
        write(&mut w)?;
        w.into_inner().map_err(|e| e.into_error())?.finish()
    });
    let result = result.and_then(|()| std::fs::rename(&tmp, &path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_report_is_written_whole_while_synced_in_the_background() {
        let dir = std::env::temp_dir().join(format!("edict-eager-sync-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("report.jsonl");
        // Several background syncs' worth, in writes of awkward sizes.
        let line: Vec<u8> = (0..1000u32)
            .map(|i| b'a' + (i % 26) as u8)
            .chain([b'\n'])
            .collect();
        let lines = 3 * EagerSync::EVERY / line.len() + 7;
        write_atomically(&path, |w| {
            for _ in 0..lines {
                w.write_all(&line)?;
            }
            Ok(())
        })
        .unwrap();
        let written = std::fs::read(&path).unwrap();
        assert_eq!(written.len(), lines * line.len());
        assert!(written.chunks(line.len()).all(|l| l == &line[..]));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
