//! Streaming evaluation: one JSON record a line, bound as a one-element list
//! under the streamed name, other facts shared; memory stays bounded by one
//! record plus the shared facts and the register's bookkeeping.

use std::io::BufRead;

use super::demand::{Demand, Shape};
use super::facts::Facts;
use super::json::{self, Interner};
use super::load::{self, Node, NodeKind};
use super::outcome::{RegisterEntry, SubjectResult};
use super::rule::Registers;
use super::value::Value;
use super::{EvalOptions, Machine};
use crate::ir::Program;
use crate::schema::{Schema, Ty};

/// What a streamed run produces, in order.
#[derive(Debug)]
pub enum StreamEvent<'a> {
    /// A subject of a rule, from record `line` (0 for rules that do not stream).
    Subject {
        /// 1-based line of the record; 0 when the rule does not read the stream.
        line: usize,
        /// The record's `id`, when it has a scalar one.
        id: Option<String>,
        /// The rule's index in the program.
        rule: usize,
        /// The outcome.
        result: &'a SubjectResult,
    },
    /// A line that is not a JSON document, or whose record the schema refuses.
    Rejected {
        /// 1-based line.
        line: usize,
        /// Why, each with its column: the syntax error, or every violation.
        messages: Vec<String>,
    },
}

/// Totals of a streamed run.
#[derive(Debug, Default)]
pub struct StreamSummary {
    /// Records evaluated.
    pub records: usize,
    /// Lines skipped: malformed, or refused by the schema.
    pub rejected: usize,
    /// Register entries with what became of them, as in a batch report.
    pub register: Vec<RegisterEntry>,
}

/// The streamed fact and the rules that run once per record.
#[derive(Debug, Clone, Copy)]
pub struct Streamed<'a> {
    /// The fact each line is bound to, as a one-element list.
    pub name: &'a str,
    /// Indexes of the rules whose first `for` iterates it.
    pub rules: &'a [usize],
}

/// Lines a batch holds at most, when streaming on several threads.
const BATCH_LINES: usize = 256;
/// Bytes of input a batch holds at most (a longer single line still makes one batch).
const BATCH_BYTES: usize = 1 << 18;
/// Batches read but not yet written, per worker thread.
const IN_FLIGHT_PER_THREAD: usize = 2;

/// Consecutive lines of the stream: their text and 1-based line numbers.
#[derive(Default)]
struct Batch {
    text: String,
    /// (line number, byte range in `text`) of each non-blank line.
    lines: Vec<(usize, std::ops::Range<usize>)>,
}

/// What a worker hands back for one batch.
struct Done<R> {
    out: Vec<R>,
    registers: Registers,
    records: usize,
    rejected: usize,
}

/// Reads up to a batch of lines; the line counter `n` counts every line read,
/// blank ones too. A read error ends the batch and is returned beside it.
fn read_batch(input: &mut impl BufRead, n: &mut usize) -> (Batch, Option<std::io::Error>) {
    let mut batch = Batch::default();
    while batch.lines.len() < BATCH_LINES && batch.text.len() < BATCH_BYTES {
        let start = batch.text.len();
        match input.read_line(&mut batch.text) {
            Ok(0) => break,
            Ok(_) => {
                *n += 1;
                // As `BufRead::lines`: drop "\n", then a "\r" before it.
                let mut end = batch.text.len();
                if batch.text[start..end].ends_with('\n') {
                    end -= 1;
                    if batch.text[start..end].ends_with('\r') {
                        end -= 1;
                    }
                }
                if !batch.text[start..end].trim().is_empty() {
                    batch.lines.push((*n, start..end));
                }
            }
            Err(e) => return (batch, Some(e)),
        }
    }
    (batch, None)
}

/// One evaluator of streamed records: a machine with the streamed name's slot.
struct Worker<'p, 'o> {
    program: &'p Program,
    m: Machine<'p>,
    slot: Option<usize>,
    streamed: &'o [usize],
    options: &'o EvalOptions,
    interner: Interner,
    /// What the policy observes of the facts and of one record, when only
    /// that is built.
    shaping: Option<(&'o Demand, &'o Shape)>,
    /// The streamed name.
    name: &'o str,
    /// The schema and its type for the streamed name, when it declares one:
    /// each record is checked as the one-element list it is bound as.
    declared: Option<(&'p Schema, &'p Ty)>,
}

impl<'p, 'o> Worker<'p, 'o> {
    fn new(
        program: &'p Program,
        facts: &Facts,
        name: &'o str,
        streamed: &'o [usize],
        options: &'o EvalOptions,
        demand: Option<&'o Demand>,
    ) -> Self {
        let mut m = Machine::new(program, facts, options.now);
        m.max_steps = options.max_steps;
        m.limits = options.limits;
        let slot = program.facts.iter().position(|f| &**f == name);
        if let Some(s) = slot.and_then(|s| m.facts.get_mut(s)) {
            *s = Some(Value::list(Vec::new()));
        }
        Worker {
            program,
            m,
            slot,
            streamed,
            options,
            interner: Interner::default(),
            shaping: demand.map(|d| (d, json::element_shape(d.key(name)))),
            name,
            declared: program
                .schema
                .as_deref()
                .and_then(|schema| Some((schema, &schema.facts.fields.get(name)?.ty))),
        }
    }

    fn selected(&self, i: usize) -> bool {
        self.program.rules.get(i).is_some_and(|r| {
            self.options
                .rules
                .as_ref()
                .is_none_or(|only| only.iter().any(|o| **o == *r.id))
        })
    }

    /// Runs every selected rule that does not stream, with the name bound to `[]`.
    fn run_unstreamed(
        &mut self,
        registers: &mut Registers,
        on_event: &mut impl FnMut(StreamEvent<'_>),
    ) {
        for (i, rule) in self.program.rules.iter().enumerate() {
            if self.streamed.contains(&i) || !self.selected(i) {
                continue;
            }
            let result = self.m.run_rule(rule, registers);
            for s in &result.subjects {
                on_event(StreamEvent::Subject {
                    line: 0,
                    id: None,
                    rule: i,
                    result: s,
                });
            }
        }
    }

    /// Evaluates one line (1-based `n`); records or rejects it in `summary`.
    fn run_line(
        &mut self,
        n: usize,
        line: &str,
        registers: &mut Registers,
        summary: &mut StreamSummary,
        on_event: &mut impl FnMut(StreamEvent<'_>),
    ) {
        // A record the schema checks is built whole: the schema is a
        // contract on all of it, as it is on a batch document.
        let parsed = match (self.declared, self.shaping) {
            (None, Some((demand, record))) => {
                json::parse_shaped(line, demand, record, &mut self.interner)
            }
            _ => json::parse(line, &mut self.interner),
        };
        let bound = match parsed {
            Ok(record) => match self.declared {
                Some((schema, ty)) => checked(schema, ty, self.name, line, record),
                None => Ok(Value::list(vec![record])),
            },
            Err(e) => Err(vec![format!("column {}: malformed JSON: {e}", e.column())]),
        };
        let bound = match bound {
            Ok(bound) => bound,
            Err(messages) => {
                summary.rejected += 1;
                on_event(StreamEvent::Rejected { line: n, messages });
                return;
            }
        };
        summary.records += 1;
        let record = match &bound {
            Value::List(items) => items.first(),
            _ => None,
        };
        let id = match record.and_then(|r| r.get("id")) {
            Some(v @ (Value::Str(_) | Value::Int(_) | Value::Float(_))) => Some(v.to_string()),
            _ => None,
        };
        if let Some(s) = self.slot.and_then(|s| self.m.facts.get_mut(s)) {
            *s = Some(bound);
        }
        for &i in self.streamed {
            let Some(rule) = self.program.rules.get(i).filter(|_| self.selected(i)) else {
                continue;
            };
            let result = self.m.run_rule(rule, registers);
            for s in &result.subjects {
                on_event(StreamEvent::Subject {
                    line: n,
                    id: id.clone(),
                    rule: i,
                    result: s,
                });
            }
        }
    }

    fn run_batch(
        &mut self,
        batch: &Batch,
        registers: &mut Registers,
        summary: &mut StreamSummary,
        on_event: &mut impl FnMut(StreamEvent<'_>),
    ) {
        for (n, range) in &batch.lines {
            let line = batch.text.get(range.clone()).unwrap_or_default();
            self.run_line(*n, line, registers, summary, on_event);
        }
    }
}

/// A record bound as its one-element list under `name` and checked against
/// the schema's type for `name`, with ISO dates made dates as in a batch
/// load; or each violation, with its column in `line`.
fn checked(
    schema: &Schema,
    ty: &Ty,
    name: &str,
    line: &str,
    record: Value,
) -> Result<Value, Vec<String>> {
    let mut violations = Vec::new();
    let bound = load::validate(
        &Value::list(vec![record]),
        Some(ty),
        Some(schema),
        name,
        &mut violations,
    );
    if violations.is_empty() {
        return Ok(bound);
    }
    // Values keep no positions: the line is read again by the reader that does.
    if let Ok(node) = load::parse(line, load::Format::Json) {
        let list = Node {
            kind: NodeKind::List(vec![node]),
            line: 1,
            column: 1,
        };
        let mut located = Vec::new();
        load::validate(&list, Some(ty), Some(schema), name, &mut located);
        if !located.is_empty() {
            violations = located;
        }
    }
    Err(violations
        .iter()
        .map(|v| {
            let at = match v.column {
                0 => String::new(),
                column => format!("column {column}: "),
            };
            format!("{at}`{}`: {} ({})", v.path, v.message, v.code)
        })
        .collect())
}

/// Appends a later part's register bookkeeping, as if one machine had run both.
fn merge_registers(into: &mut Registers, part: Registers) {
    for (key, mut subjects) in part.used {
        into.used.entry(key).or_default().append(&mut subjects);
    }
    into.considered.extend(part.considered);
    for (waiver, at) in part.global_uses {
        into.global_uses.entry(waiver).or_insert(at);
    }
}

/// Evaluates `streamed` rules once per line of `input` and every other rule
/// once. Each outcome goes through `render` (on a worker thread when
/// `options.threads` > 1), then `sink` (on the calling thread, in input order).
/// The sink sees the same sequence at any thread count.
pub fn evaluate_stream<R: Send>(
    program: &Program,
    facts: &Facts,
    stream: Streamed<'_>,
    mut input: impl BufRead,
    options: &EvalOptions,
    render: impl Fn(StreamEvent<'_>) -> R + Sync,
    mut sink: impl FnMut(R),
) -> std::io::Result<StreamSummary> {
    let Streamed {
        name,
        rules: streamed,
    } = stream;
    // The record's shape when only what the policy observes is built.
    let demand = facts
        .demand
        .as_ref()
        .map(|_| Demand::streaming(program, name));
    let demand = demand.as_ref();
    let mut main = Worker::new(program, facts, name, streamed, options, demand);
    let mut registers = Registers::default();
    let mut summary = StreamSummary::default();
    main.run_unstreamed(&mut registers, &mut |ev| sink(render(ev)));
    let mut n = 0;
    let error = if options.threads < 2 {
        loop {
            let (batch, error) = read_batch(&mut input, &mut n);
            main.run_batch(&batch, &mut registers, &mut summary, &mut |ev| {
                sink(render(ev))
            });
            if error.is_some() || batch.text.is_empty() {
                break error;
            }
        }
    } else {
        let threads = options.threads;
        let render = &render;
        // Any idle worker takes the next batch; results are put back in order.
        let (to_workers, jobs) = std::sync::mpsc::channel::<(usize, Batch)>();
        let jobs = std::sync::Mutex::new(jobs);
        std::thread::scope(|s| {
            // Owned here, so that returning early closes the queue and the
            // workers waiting on it end, rather than the scope waiting on them.
            let to_workers = to_workers;
            // `None`: evaluating the batch panicked.
            let (done_tx, from_workers) = std::sync::mpsc::channel::<(usize, Option<Done<R>>)>();
            for _ in 0..threads {
                let (jobs, done_tx) = (&jobs, done_tx.clone());
                s.spawn(move || {
                    let mut w = Worker::new(program, facts, name, streamed, options, demand);
                    loop {
                        let job = match jobs.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => break,
                        };
                        let Ok((k, batch)) = job else { break };
                        // A panic would leave batch `k` missing and the writer
                        // waiting for it forever: it is reported instead.
                        let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            let mut registers = Registers::default();
                            let mut part = StreamSummary::default();
                            let mut out = Vec::new();
                            w.run_batch(&batch, &mut registers, &mut part, &mut |ev| {
                                out.push(render(ev))
                            });
                            Done {
                                out,
                                registers,
                                records: part.records,
                                rejected: part.rejected,
                            }
                        }))
                        .ok();
                        let failed = done.is_none();
                        if done_tx.send((k, done)).is_err() || failed {
                            break;
                        }
                    }
                });
            }
            drop(done_tx);
            let mut early = std::collections::BTreeMap::new();
            let mut collect = |k: usize| -> std::io::Result<()> {
                let done = loop {
                    if let Some(done) = early.remove(&k) {
                        break done;
                    }
                    let (j, done) = from_workers
                        .recv()
                        .map_err(|_| std::io::Error::other("a stream worker stopped"))?;
                    early.insert(j, done);
                };
                let done = done.ok_or_else(|| {
                    std::io::Error::other(
                        "evaluating a batch of lines failed (an internal error; please report it); \
                         the lines after the last one written were not evaluated",
                    )
                })?;
                done.out.into_iter().for_each(&mut sink);
                merge_registers(&mut registers, done.registers);
                summary.records += done.records;
                summary.rejected += done.rejected;
                Ok(())
            };
            let (mut sent, mut collected) = (0, 0);
            let error = loop {
                let (batch, error) = read_batch(&mut input, &mut n);
                let end = error.is_some() || batch.text.is_empty();
                if !batch.lines.is_empty() {
                    if sent - collected >= threads * IN_FLIGHT_PER_THREAD {
                        collect(collected)?;
                        collected += 1;
                    }
                    if to_workers.send((sent, batch)).is_err() {
                        return Err(std::io::Error::other("a stream worker stopped"));
                    }
                    sent += 1;
                }
                if end {
                    break error;
                }
            };
            drop(to_workers);
            while collected < sent {
                collect(collected)?;
                collected += 1;
            }
            Ok(error)
        })?
    };
    if let Some(e) = error {
        return Err(e);
    }
    summary.register = main
        .m
        .register_hygiene(&registers, options.expiring_within_days);
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A batch that panics on a worker ends the stream with an error: before,
    /// the writer waited for that batch forever.
    #[test]
    fn a_failing_worker_ends_the_stream_with_an_error() {
        let set = crate::PolicySet::from_sources([(
            "p.edict".to_string(),
            "rule r {\n  for a in assets\n  require a.ok\n}\n".to_string(),
        )])
        .map_err(|f| f.diagnostics)
        .unwrap();
        let input = "{\"ok\": true}\n".repeat(2_000);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let options = EvalOptions {
                threads: 2,
                ..EvalOptions::default()
            };
            let mut written = 0;
            let result = evaluate_stream(
                set.program(),
                &Facts::default(),
                Streamed {
                    name: "assets",
                    rules: &[0],
                },
                input.as_bytes(),
                &options,
                |ev| {
                    if let StreamEvent::Subject { line: 1_000, .. } = ev {
                        panic!("injected failure");
                    }
                },
                |()| written += 1,
            );
            let _ = tx.send((result.map(|s| s.records), written));
        });
        let (result, written) = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("the stream hung after a worker failed");
        let error = result.expect_err("a failed batch must not pass");
        assert!(error.to_string().contains("please report it"), "{error}");
        assert!(
            written < 1_000,
            "{written} outcomes written past the failure"
        );
    }

    #[test]
    fn a_streamed_record_is_checked_and_typed_as_a_batch_load_is() {
        let set = crate::PolicySet::from_sources([(
            "p.edict".to_string(),
            "facts {\n  assets: [A]\n}\ntype A {\n  id: string\n  seen: date\n}\n\
             rule r {\n  for a in assets\n  subject a.id\n  require a.seen <= today\n}\n"
                .to_string(),
        )])
        .unwrap();
        let schema = set.program().schema.as_deref().unwrap();
        let ty = &schema.facts.fields.get("assets").unwrap().ty;
        let check = |line: &str| {
            let record = json::parse(line, &mut Interner::default()).unwrap();
            checked(schema, ty, "assets", line, record)
        };
        let good = check(r#"{"id": "x", "seen": "2026-01-02"}"#).unwrap();
        assert!(format!("{good:?}").contains("Date(2026-01-02)"), "{good:?}");
        let bad = check(r#"{"id": 3, "seen": "2026-02-30"}"#).unwrap_err();
        assert_eq!(
            bad,
            [
                "column 8: `assets[0].id`: expected string, found the number 3 (F0005)",
                "column 19: `assets[0].seen`: `2026-02-30` is not a date (YYYY-MM-DD) (F0008)"
            ]
        );
    }
}
