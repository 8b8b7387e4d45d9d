//! `edict eval --stream NAME=FILE`: evaluates line by line, writing one JSON
//! object per outcome as it goes.

use std::cell::{Cell, RefCell};
use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::{emit_diagnostics, DiagnosticFormat, EXIT_INVALID, EXIT_NONCOMPLIANT, EXIT_OK};
use crate::eval::stream::{evaluate_stream, StreamEvent, Streamed};
use crate::eval::SubjectResult;
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

/// Hashes and counts the bytes read through it, for the stream summary.
struct Hashing<R> {
    inner: R,
    digest: Rc<RefCell<(sha2::Sha256, u64)>>,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use sha2::Digest as _;
        let n = self.inner.read(buf)?;
        let mut d = self.digest.borrow_mut();
        d.0.update(&buf[..n]);
        d.1 += n as u64;
        Ok(n)
    }
}

/// What `edict eval` passes to a streaming run besides the policies and facts.
pub struct Flags {
    /// The lowest severity whose failures make the run non-compliant.
    pub fail_on: crate::ir::Severity,
    /// No progress bar.
    pub quiet: bool,
    /// The command line, when evidence and stream summary lines are wanted.
    pub evidence: Option<Vec<String>>,
}

/// The evidence line of a stream: the instant and every input's digest.
fn evidence_line(set: &PolicySet, facts: &Facts, now: &str, command_line: &[String]) -> String {
    use crate::report::{facts_digests, policy_file_digests, policy_set_sha256};
    let policy_files = policy_file_digests(set.program());
    let facts = facts_digests(&facts.inputs);
    serde_json::json!({
        "type": "evidence",
        "tool": "edict",
        "tool_version": env!("CARGO_PKG_VERSION"),
        "now": now,
        "command_line": command_line,
        "policy_set_sha256": policy_set_sha256(policy_files.iter().map(|f| f.sha256.as_str())),
        "policy_files": policy_files,
        "facts": facts,
    })
    .to_string()
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
        let noun = if records == 1 { "record" } else { "records" };
        err_text!("\r\x1b[K{records} {noun}, {rate:.0}/s{eta}");
    }

    fn finish(&self) {
        if self.shown {
            err_text!("\r\x1b[K");
        }
    }
}

/// One output line, rendered on a worker thread, written in input order.
struct Rendered {
    /// The record's line (0 for rules that do not stream), for the progress bar.
    line: usize,
    /// The outcome's index in pass, fail, waived, error; none for a rejected line.
    outcome: Option<usize>,
    /// An enforced rule at or above `--fail-on` failed or errored.
    noncompliant: bool,
    /// The JSON object and its newline; empty for nothing to write.
    text: Vec<u8>,
}

/// Renders one stream event as its JSON Lines object.
fn render(
    program: &crate::ir::Program,
    today: chrono::NaiveDate,
    fail_on: crate::ir::Severity,
    ev: StreamEvent<'_>,
) -> Rendered {
    match ev {
        StreamEvent::Subject {
            line,
            id,
            rule,
            result,
        } => {
            let Some(r) = program.rules.get(rule) else {
                return Rendered {
                    line,
                    outcome: None,
                    noncompliant: false,
                    text: Vec::new(),
                };
            };
            let enforced = r.level == Level::Mandatory && r.effective.is_none_or(|d| d <= today);
            let noncompliant = matches!(result.outcome, Outcome::Fail | Outcome::Error)
                && enforced
                && r.severity >= fail_on;
            let outcome = match result.outcome {
                Outcome::Pass => 0,
                Outcome::Fail => 1,
                Outcome::Waived => 2,
                Outcome::Error => 3,
            };
            Rendered {
                line,
                outcome: Some(outcome),
                noncompliant,
                text: subject_line(&r.id, line, id.as_deref(), result),
            }
        }
        StreamEvent::Rejected { line, messages } => {
            let mut text = serde_json::json!({
                "line": line,
                "outcome": "rejected",
                "messages": messages,
            })
            .to_string()
            .into_bytes();
            text.push(b'\n');
            Rendered {
                line,
                outcome: None,
                noncompliant: false,
                text,
            }
        }
    }
}

/// A subject's outcome line: `rule`, `subject`, `outcome`, `messages`, then
/// for a streamed record its `line` and `id`, then `due` and `waived_by` when
/// there are any.
///
/// Assembled by hand, as the batch JSON Lines report's lines are: it is the
/// one line written per outcome, and building a `serde_json::Value` for each
/// cost a tenth of a streamed run. The text is what that gave (a test
/// compares them).
fn subject_line(rule: &str, line: usize, id: Option<&str>, result: &SubjectResult) -> Vec<u8> {
    use crate::report::jsonl::{json_str, outcome_and_messages};
    let mut text = Vec::with_capacity(160);
    text.extend_from_slice(br#"{"rule":"#);
    json_str(&mut text, rule);
    text.extend_from_slice(br#","subject":"#);
    json_str(&mut text, &result.subject);
    outcome_and_messages(&mut text, result.outcome, &result.messages, |out, m| {
        json_str(out, &m.text)
    });
    if line > 0 {
        // Writing to a vector cannot fail.
        let _ = write!(text, r#","line":{line},"id":"#);
        match id {
            Some(id) => json_str(&mut text, id),
            None => text.extend_from_slice(b"null"),
        }
    }
    if let Some(due) = result.due {
        let _ = write!(text, r#","due":"{due}""#);
    }
    if let Some(w) = &result.waived_by {
        text.extend_from_slice(br#","waived_by":"#);
        json_str(&mut text, &format!("{}/{}", w.waiver, w.entry));
    }
    text.extend_from_slice(b"}\n");
    text
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
    flags: &Flags,
) -> u8 {
    let (fail_on, quiet) = (flags.fail_on, flags.quiet);
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
    let digest = Rc::new(RefCell::new((<sha2::Sha256 as sha2::Digest>::new(), 0)));
    let mut total = None;
    let input: Box<dyn BufRead> = if file == "-" {
        Box::new(BufReader::new(Hashing {
            inner: std::io::stdin(),
            digest: digest.clone(),
        }))
    } else {
        match std::fs::File::open(file) {
            Ok(f) => {
                total = f.metadata().ok().map(|m| m.len());
                let counting = Counting {
                    inner: Hashing {
                        inner: f,
                        digest: digest.clone(),
                    },
                    read: read.clone(),
                };
                Box::new(BufReader::with_capacity(1 << 16, counting))
            }
            Err(e) => {
                err_line!("error: cannot read stream `{file}`: {e}");
                return EXIT_INVALID;
            }
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut noncompliant = false;
    // Outcomes written to the same terminal are progress enough; a bar drawn
    // between their buffered chunks would break their lines apart.
    let shown = !quiet && std::io::stderr().is_terminal() && !std::io::stdout().is_terminal();
    let mut progress = shown.then(|| Progress {
        start: Instant::now(),
        last: Instant::now(),
        total,
        read,
        shown: false,
    });
    let today = options.now.date_naive();
    let now = options.now.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    if let Some(command_line) = &flags.evidence {
        let _ = writeln!(out, "{}", evidence_line(set, facts, &now, command_line));
    }
    // pass, fail, waived, error
    let mut counts = [0usize; 4];
    let render = |ev: StreamEvent<'_>| render(program, today, fail_on, ev);
    let sink = |r: Rendered| {
        if let Some(p) = progress.as_mut() {
            p.tick(r.line);
        }
        if let Some(i) = r.outcome {
            if let Some(c) = counts.get_mut(i) {
                *c += 1;
            }
        }
        noncompliant |= r.noncompliant;
        let _ = out.write_all(&r.text);
    };
    let result = evaluate_stream(
        program,
        facts,
        Streamed {
            name,
            rules: &plan.streamed,
        },
        input,
        options,
        render,
        sink,
    );
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
            if flags.evidence.is_some() {
                let (hasher, bytes) = digest.replace((Default::default(), 0));
                let sha = sha2::Digest::finalize(hasher);
                let sha: String = sha.iter().map(|b| format!("{b:02x}")).collect();
                let v = serde_json::json!({
                    "type": "stream",
                    "now": now,
                    "records": summary.records,
                    "rejected": summary.rejected,
                    "stream_bytes": bytes,
                    "stream_sha256": sha,
                    "pass": counts[0],
                    "fail": counts[1],
                    "waived": counts[2],
                    "error": counts[3],
                });
                let _ = writeln!(out, "{v}");
            }
            let _ = out.flush();
            err_line!(
                "{} records streamed, {} {} rejected",
                summary.records,
                summary.rejected,
                if summary.rejected == 1 {
                    "line"
                } else {
                    "lines"
                }
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
            err_line!("error: reading stream `{file}`: {e}");
            EXIT_INVALID
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::outcome::{Message, Waived};

    /// The line as serde_json writes it from a `Value`, as streams did before.
    fn by_serde(rule: &str, line: usize, id: Option<&str>, result: &SubjectResult) -> Vec<u8> {
        let messages: Vec<&str> = result.messages.iter().map(|m| m.text.as_str()).collect();
        let mut v = serde_json::json!({
            "rule": rule,
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
        format!("{v}\n").into_bytes()
    }

    #[test]
    fn subject_lines_are_what_serde_writes() {
        let message = |text: &str| Message {
            text: text.to_string(),
            span: Default::default(),
        };
        let mut results = Vec::new();
        for outcome in Outcome::ALL {
            results.push(SubjectResult {
                subject: "a1:CVE-2026-0001".into(),
                outcome,
                messages: Vec::new(),
                due: None,
                days_overdue: None,
                waived_by: None,
                rejected: Vec::new(),
            });
        }
        results.push(SubjectResult {
            subject: "tab\there \"quoted\" \\ é \u{1}".into(),
            outcome: Outcome::Waived,
            messages: vec![message("first \"one\"\n"), message("second")],
            due: chrono::NaiveDate::from_ymd_opt(2026, 2, 3),
            days_overdue: Some(4),
            waived_by: Some(Box::new(Waived {
                waiver: "risk_acceptance".into(),
                entry: "EX-\"7\"".into(),
                approver: None,
                expires: None,
            })),
            rejected: Vec::new(),
        });
        for result in &results {
            for (line, id) in [
                (0, None),
                (3, None),
                (12, Some("a1")),
                (7, Some("odd \"id\"")),
            ] {
                for rule in ["patch_sla", "r\"ule"] {
                    assert_eq!(
                        String::from_utf8(subject_line(rule, line, id, result)).unwrap(),
                        String::from_utf8(by_serde(rule, line, id, result)).unwrap(),
                        "{rule} {line} {id:?} {result:?}"
                    );
                }
            }
        }
    }
}
