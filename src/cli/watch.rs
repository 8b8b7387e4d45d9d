//! `edict watch`: re-check and re-evaluate on every change to policies or
//! facts, and show what changed since the previous run.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use clap::Args;
use indexmap::IndexMap;
use notify::event::{EventKind, ModifyKind};
use notify::{RecursiveMode, Watcher};

use super::inputs::{facts_spec, read_facts};
use super::{parse_now, paths_or_default, render_diagnostics, EXIT_INVALID, EXIT_OK};
use crate::eval::Evaluation;
use crate::report::{Report, ReportOptions};
use crate::{EvalOptions, Facts, FactsError, LoadError, Outcome, PolicySet};

/// How long a half-written facts file is retried before it is reported.
const FACTS_RETRY_FOR: Duration = Duration::from_secs(1);
/// Pause between attempts to read a half-written facts file.
const FACTS_RETRY_EVERY: Duration = Duration::from_millis(100);
/// The longest a batch of changes is held before it runs.
const MAX_BATCH: Duration = Duration::from_millis(500);

/// Arguments of `edict watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Policy files or directories (default: the current directory).
    pub paths: Vec<PathBuf>,
    /// A facts file; `NAME=FILE` mounts it under the key NAME. Repeatable.
    #[arg(long = "facts", value_name = "[NAME=]FILE")]
    pub facts: Vec<String>,
    /// The evaluation instant (default: the clock, read at each run).
    #[arg(long, value_parser = parse_now)]
    pub now: Option<chrono::DateTime<chrono::Utc>>,
    /// Quiet time that closes a batch of changes, in milliseconds (100-500).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(100..=500))]
    pub debounce_ms: u64,
}

enum Msg {
    Fs(notify::Result<notify::Event>),
    Stop,
}

/// What a batch of file events touched.
#[derive(Default)]
struct Batch {
    policy: BTreeSet<PathBuf>,
    facts: BTreeSet<PathBuf>,
}

/// One subject's outcome, and what to say about it.
#[derive(Clone)]
struct Seen {
    outcome: Outcome,
    note: String,
}

type Outcomes = IndexMap<(String, String), Seen>;

struct State {
    paths: Vec<PathBuf>,
    specs: Vec<String>,
    now: Option<chrono::DateTime<chrono::Utc>>,
    set: Option<PolicySet>,
    facts: Option<Facts>,
    last: Option<Outcomes>,
    summary: Option<String>,
    runs: usize,
}

/// Watches until Ctrl-C (exit 0); exit 2 when the paths cannot be watched.
pub fn run(args: WatchArgs) -> u8 {
    let paths = paths_or_default(args.paths);
    let (tx, rx) = mpsc::channel();
    let stop = tx.clone();
    if let Err(e) = ctrlc::set_handler(move || {
        let _ = stop.send(Msg::Stop);
    }) {
        err_line!("error: cannot handle Ctrl-C: {e}");
        return EXIT_INVALID;
    }
    let mut watcher = match notify::recommended_watcher(move |res| {
        let _ = tx.send(Msg::Fs(res));
    }) {
        Ok(w) => w,
        Err(e) => {
            err_line!("error: cannot watch files: {e}");
            return EXIT_INVALID;
        }
    };
    let policy_roots: Vec<PathBuf> = paths.iter().map(|p| absolute(p)).collect();
    let facts_files: Vec<PathBuf> = args
        .facts
        .iter()
        .map(|s| absolute(facts_spec(s).1))
        .collect();
    for root in &policy_roots {
        let (target, mode) = if root.is_dir() {
            (root.clone(), RecursiveMode::Recursive)
        } else {
            (parent(root), RecursiveMode::NonRecursive)
        };
        if let Err(e) = watcher.watch(&target, mode) {
            err_line!("error: cannot watch `{}`: {e}", target.display());
            return EXIT_INVALID;
        }
    }
    let facts_dirs: BTreeSet<PathBuf> = facts_files.iter().map(|f| parent(f)).collect();
    for dir in &facts_dirs {
        if let Err(e) = watcher.watch(dir, RecursiveMode::NonRecursive) {
            err_line!("error: cannot watch `{}`: {e}", dir.display());
            return EXIT_INVALID;
        }
    }
    let mut state = State {
        paths,
        specs: args.facts,
        now: args.now,
        set: None,
        facts: None,
        last: None,
        summary: None,
        runs: 0,
    };
    let everything = Batch {
        policy: policy_roots.iter().cloned().collect(),
        facts: facts_files.iter().cloned().collect(),
    };
    state.run(&everything, true);
    print(&format!(
        "watching {} policy path{} and {} facts file{}; press Ctrl-C to stop\n",
        policy_roots.len(),
        if policy_roots.len() == 1 { "" } else { "s" },
        facts_files.len(),
        if facts_files.len() == 1 { "" } else { "s" },
    ));
    let quiet = Duration::from_millis(args.debounce_ms);
    loop {
        let Some(batch) = next_batch(&rx, quiet, &policy_roots, &facts_files) else {
            return EXIT_OK;
        };
        state.run(&batch, false);
    }
}

/// Waits for the next relevant change and collects the changes that follow
/// it until `quiet` passes without one (or the batch is 500 ms old). `None`
/// on Ctrl-C.
fn next_batch(
    rx: &Receiver<Msg>,
    quiet: Duration,
    policy_roots: &[PathBuf],
    facts_files: &[PathBuf],
) -> Option<Batch> {
    let mut batch = Batch::default();
    let mut started: Option<Instant> = None;
    loop {
        let msg = match started {
            None => rx.recv().ok()?,
            Some(t) => {
                let left = MAX_BATCH.saturating_sub(t.elapsed()).min(quiet);
                match rx.recv_timeout(left) {
                    Ok(msg) => msg,
                    Err(RecvTimeoutError::Timeout) => return Some(batch),
                    Err(RecvTimeoutError::Disconnected) => return None,
                }
            }
        };
        let event = match msg {
            Msg::Stop => return None,
            Msg::Fs(Err(_)) => continue,
            Msg::Fs(Ok(event)) => event,
        };
        if matches!(
            event.kind,
            EventKind::Access(_) | EventKind::Modify(ModifyKind::Metadata(_))
        ) {
            continue;
        }
        let mut relevant = false;
        for path in &event.paths {
            if facts_files.iter().any(|f| f == path) {
                batch.facts.insert(path.clone());
                relevant = true;
            } else if path.extension().is_some_and(|e| e == "edict")
                && policy_roots.iter().any(|r| path.starts_with(r))
            {
                batch.policy.insert(path.clone());
                relevant = true;
            }
        }
        if relevant && started.is_none() {
            started = Some(Instant::now());
        }
    }
}

impl State {
    fn run(&mut self, batch: &Batch, first: bool) {
        self.runs += 1;
        let mut out = String::new();
        let mut what = Vec::new();
        if !first {
            if !batch.policy.is_empty() {
                what.push(format!("policy changed: {}", names(&batch.policy)));
            }
            if !batch.facts.is_empty() {
                what.push(format!("facts changed: {}", names(&batch.facts)));
            }
        }
        out.push_str(&format!(
            "== run {}{}{}\n",
            self.runs,
            if what.is_empty() { "" } else { ": " },
            what.join("; ")
        ));
        if !batch.policy.is_empty() || self.set.is_none() {
            match PolicySet::load(&self.paths) {
                Ok(set) => {
                    if !set.warnings().is_empty() {
                        out.push_str(&render_diagnostics(
                            set.warnings(),
                            &set.program().sources,
                            false,
                        ));
                    }
                    self.set = Some(set);
                }
                Err(LoadError::Check(failure)) => {
                    out.push_str(&render_diagnostics(
                        &failure.diagnostics,
                        &failure.sources,
                        false,
                    ));
                    out.push_str("the policy set does not check; ");
                    self.keep_last(&mut out);
                    return print(&out);
                }
                Err(other) => {
                    out.push_str(&format!("error: {other}; "));
                    self.keep_last(&mut out);
                    return print(&out);
                }
            }
        }
        if !batch.facts.is_empty() || self.facts.is_none() {
            match read_facts_patiently(&self.specs) {
                Ok(facts) => self.facts = Some(facts),
                Err(e) => {
                    out.push_str(&format!("facts could not be read: {e}; "));
                    self.keep_last(&mut out);
                    return print(&out);
                }
            }
        }
        let (Some(set), Some(facts)) = (&self.set, &self.facts) else {
            return print(&out);
        };
        let options = EvalOptions {
            now: self.now.unwrap_or_else(chrono::Utc::now),
            ..EvalOptions::default()
        };
        let evaluation = set.evaluate(facts, &options);
        let summary = summary(set, &evaluation);
        let outcomes = outcomes(set, &evaluation);
        out.push_str(&summary);
        out.push('\n');
        if let Some(last) = &self.last {
            out.push_str(&changes(last, &outcomes));
        }
        self.last = Some(outcomes);
        self.summary = Some(summary);
        print(&out);
    }

    fn keep_last(&self, out: &mut String) {
        match &self.summary {
            Some(s) => out.push_str(&format!("last good report: {s}\n")),
            None => out.push_str("no good report yet\n"),
        }
    }
}

/// Reads the facts, retrying for up to a second while a file is unparsable
/// or unreadable (an editor or exporter caught mid-write).
fn read_facts_patiently(specs: &[String]) -> Result<Facts, FactsError> {
    let started = Instant::now();
    loop {
        match read_facts(specs) {
            Ok(f) => return Ok(f),
            Err(FactsError::Syntax { .. } | FactsError::Read { .. })
                if started.elapsed() < FACTS_RETRY_FOR =>
            {
                std::thread::sleep(FACTS_RETRY_EVERY);
            }
            Err(e) => return Err(e),
        }
    }
}

fn summary(set: &PolicySet, evaluation: &Evaluation) -> String {
    let report = Report::new(set.program(), evaluation, &ReportOptions::default());
    let s = &report.summary;
    format!(
        "{}: {} rule{}, {} subject{}: {} pass, {} fail, {} waived, {} error",
        if s.compliant {
            "COMPLIANT"
        } else {
            "NON-COMPLIANT"
        },
        s.rules,
        if s.rules == 1 { "" } else { "s" },
        s.subjects,
        if s.subjects == 1 { "" } else { "s" },
        s.pass,
        s.fail,
        s.waived,
        s.error
    )
}

fn outcomes(set: &PolicySet, evaluation: &Evaluation) -> Outcomes {
    let mut out = IndexMap::new();
    for r in &evaluation.rules {
        let Some(rule) = set.program().rules.get(r.rule) else {
            continue;
        };
        for s in &r.subjects {
            let note = match (&s.waived_by, s.messages.first()) {
                (Some(w), _) => format!("by {} entry {}", w.waiver, w.entry),
                (None, Some(m)) => m.text.clone(),
                (None, None) => String::new(),
            };
            out.insert(
                (rule.id.to_string(), s.subject.clone()),
                Seen {
                    outcome: s.outcome,
                    note,
                },
            );
        }
    }
    out
}

fn failing(o: Outcome) -> bool {
    matches!(o, Outcome::Fail | Outcome::Error)
}

/// New failures, fixed subjects and newly waived subjects since the last run.
fn changes(last: &Outcomes, now: &Outcomes) -> String {
    let mut out = String::new();
    for ((rule, subject), seen) in now {
        let before = last
            .get(&(rule.clone(), subject.clone()))
            .map(|s| s.outcome);
        if before == Some(seen.outcome) {
            continue;
        }
        let was = before.map_or("absent", Outcome::as_str);
        if failing(seen.outcome) && !before.is_some_and(failing) {
            out.push_str(&format!(
                "  new failure: {rule} {subject} ({was} → {}): {}\n",
                seen.outcome.as_str(),
                seen.note
            ));
        } else if seen.outcome == Outcome::Waived {
            out.push_str(&format!(
                "  newly waived: {rule} {subject} ({was} → waived) {}\n",
                seen.note
            ));
        } else if before.is_some_and(failing) && seen.outcome == Outcome::Pass {
            out.push_str(&format!("  fixed: {rule} {subject} ({was} → pass)\n"));
        } else {
            out.push_str(&format!(
                "  changed: {rule} {subject} ({was} → {})\n",
                seen.outcome.as_str()
            ));
        }
    }
    for ((rule, subject), seen) in last {
        if !now.contains_key(&(rule.clone(), subject.clone())) && failing(seen.outcome) {
            out.push_str(&format!(
                "  fixed: {rule} {subject} ({} → absent)\n",
                seen.outcome.as_str()
            ));
        }
    }
    if out.is_empty() {
        out.push_str("  no outcome changed since the last run\n");
    }
    out
}

fn names(paths: &BTreeSet<PathBuf>) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    paths
        .iter()
        .map(|p| p.strip_prefix(&cwd).unwrap_or(p).display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

fn parent(p: &Path) -> PathBuf {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn print(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}
