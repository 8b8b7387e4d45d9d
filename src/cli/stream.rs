//! `edict eval --stream NAME=FILE`: evaluates line by line, writing one JSON
//! object per outcome as it goes.

use std::cell::Cell;
use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::{emit_diagnostics, DiagnosticFormat, EXIT_INVALID, EXIT_NONCOMPLIANT, EXIT_OK};
use crate::eval::stream::{evaluate_stream, StreamEvent};
use crate::ir::Level;
use crate::{EvalOptions, Facts, Outcome, PolicySet};

/// Counts the bytes read through it, for the progress bar.
struct Counting<R> {
    inner: R,
    read: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.set(self.read.get() + n as u64);
        Ok(n)
    }
}

/// A one-line progress bar on stderr: records, rate and, for a file, ETA.
struct Progress {
    start: Instant,
    last: Instant,
    total: Option<u64>,
    read: Rc<Cell<u64>>,
    shown: bool,
}

impl Progress {
    fn tick(&mut self, records: usize) {
        let now = Instant::now();
        if now.duration_since(self.start) < Duration::from_secs(1)
            || now.duration_since(self.last) < Duration::from_millis(200)
        {
            return;
        }
        self.last = now;
        self.shown = true;
        let secs = now.duration_since(self.start).as_secs_f64();
        let rate = records as f64 / secs;
        let eta = match self.total {
            Some(total) if self.read.get() > 0 => {
                let left = total.saturating_sub(self.read.get()) as f64;
                format!(", ETA {:.0}s", left * secs / self.read.get() as f64)
            }
            _ => String::new(),
        };
        eprint!("\r\x1b[K{records} records, {rate:.0}/s{eta}");
    }

    fn finish(&self) {
        if self.shown {
            eprint!("\r\x1b[K");
        }
    }
}

/// Splits `NAME=FILE`.
pub fn parse_spec(spec: &str) -> Result<(String, String), String> {
    match spec.split_once('=') {
        Some((name, file)) if !name.is_empty() && !file.is_empty() => {
            Ok((name.to_string(), file.to_string()))
        }
        _ => Err(format!(
            "`{spec}`: give the stream as NAME=FILE (FILE `-` for stdin)"
        )),
    }
}

/// Streams `file` under `name`; exit 0 compliant, 1 not, 2 invalid input.
pub fn run(
    set: &PolicySet,
    facts: &Facts,
    name: &str,
    file: &str,
    options: &EvalOptions,
    fail_on: crate::ir::Severity,
    quiet: bool,
) -> u8 {
    let program = set.program();
    let plan = crate::check::stream::plan(program, name);
    if !plan.diagnostics.is_empty() {
        emit_diagnostics(
            &plan.diagnostics,
            &program.sources,
            DiagnosticFormat::Pretty,
        );
        return EXIT_INVALID;
    }
    let read = Rc::new(Cell::new(0));
    let mut total = None;
    let input: Box<dyn BufRead> = if file == "-" {
        Box::new(BufReader::new(std::io::stdin()))
    } else {
        match std::fs::File::open(file) {
            Ok(f) => {
                total = f.metadata().ok().map(|m| m.len());
                let counting = Counting {
                    inner: f,
                    read: read.clone(),
                };
                Box::new(BufReader::with_capacity(1 << 16, counting))
            }
            Err(e) => {
                eprintln!("error: cannot read stream `{file}`: {e}");
                return EXIT_INVALID;
            }
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut noncompliant = false;
    let mut progress = (!quiet && std::io::stderr().is_terminal()).then(|| Progress {
        start: Instant::now(),
        last: Instant::now(),
        total,
        read,
        shown: false,
    });
    let today = options.now.date_naive();
    let result = evaluate_stream(program, facts, name, &plan.streamed, input, options, |ev| {
        let line = match ev {
            StreamEvent::Subject {
                line,
                id,
                rule,
                result,
            } => {
                if let Some(p) = progress.as_mut() {
                    p.tick(line);
                }
                let Some(r) = program.rules.get(rule) else {
                    return;
                };
                let enforced =
                    r.level == Level::Mandatory && r.effective.is_none_or(|d| d <= today);
                if matches!(result.outcome, Outcome::Fail | Outcome::Error)
                    && enforced
                    && r.severity >= fail_on
                {
                    noncompliant = true;
                }
                let messages: Vec<&str> = result.messages.iter().map(|m| m.text.as_str()).collect();
                let mut v = serde_json::json!({
                    "rule": &*r.id,
                    "subject": result.subject,
                    "outcome": result.outcome,
                    "messages": messages,
                });
                if line > 0 {
                    v["line"] = line.into();
                    v["id"] = id.map_or(serde_json::Value::Null, serde_json::Value::from);
                }
                if let Some(d) = result.due {
                    v["due"] = d.to_string().into();
                }
                if let Some(w) = &result.waived_by {
                    v["waived_by"] = format!("{}/{}", w.waiver, w.entry).into();
                }
                v
            }
            StreamEvent::Rejected { line, message } => serde_json::json!({
                "line": line,
                "outcome": "rejected",
                "messages": [message],
            }),
        };
        let _ = writeln!(out, "{line}");
    });
    if let Some(p) = &progress {
        p.finish();
    }
    match result {
        Ok(summary) => {
            for e in &summary.register {
                let v = serde_json::json!({
                    "waiver": e.waiver,
                    "exception": e.entry,
                    "status": e.status,
                    "waived": e.waived,
                    "approver": e.approver,
                    "expires": e.expires.map(|d| d.to_string()),
                    "expired": e.expired,
                    "expiring": e.expiring,
                });
                let _ = writeln!(out, "{v}");
            }
            let _ = out.flush();
            eprintln!(
                "{} records streamed, {} malformed lines rejected",
                summary.records, summary.rejected
            );
            if summary.rejected > 0 {
                EXIT_INVALID
            } else if noncompliant {
                EXIT_NONCOMPLIANT
            } else {
                EXIT_OK
            }
        }
        Err(e) => {
            let _ = out.flush();
            eprintln!("error: reading stream `{file}`: {e}");
            EXIT_INVALID
        }
    }
}
