//! Streaming evaluation: one JSON record a line, bound as a one-element list
//! under the streamed name, other facts shared; memory stays bounded by one
//! record plus the shared facts and the register's bookkeeping.

use std::io::BufRead;

use super::facts::Facts;
use super::json::{self, Interner};
use super::outcome::{RegisterEntry, SubjectResult};
use super::rule::Registers;
use super::value::Value;
use super::{EvalOptions, Machine};
use crate::ir::Program;

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
    /// A line that is not a JSON document.
    Rejected {
        /// 1-based line.
        line: usize,
        /// Why, with the column.
        message: String,
    },
}

/// Totals of a streamed run.
#[derive(Debug, Default)]
pub struct StreamSummary {
    /// Records evaluated.
    pub records: usize,
    /// Malformed lines skipped.
    pub rejected: usize,
    /// Register entries with what became of them, as in a batch report.
    pub register: Vec<RegisterEntry>,
}

/// Evaluates `streamed` rules once per line of `input` and every other rule
/// once; `on_event` sees each outcome as it is decided.
pub fn evaluate_stream(
    program: &Program,
    facts: &Facts,
    name: &str,
    streamed: &[usize],
    input: impl BufRead,
    options: &EvalOptions,
    mut on_event: impl FnMut(StreamEvent<'_>),
) -> std::io::Result<StreamSummary> {
    let mut m = Machine::new(program, facts, options.now);
    m.max_steps = options.max_steps;
    m.limits = options.limits;
    let slot = program.facts.iter().position(|f| &**f == name);
    let mut registers = Registers::default();
    let selected = |i: usize| {
        program.rules.get(i).is_some_and(|r| {
            options
                .rules
                .as_ref()
                .is_none_or(|only| only.iter().any(|o| **o == *r.id))
        })
    };
    if let Some(s) = slot.and_then(|s| m.facts.get_mut(s)) {
        *s = Some(Value::list(Vec::new()));
    }
    for (i, rule) in program.rules.iter().enumerate() {
        if streamed.contains(&i) || !selected(i) {
            continue;
        }
        let result = m.run_rule(rule, &mut registers);
        for s in &result.subjects {
            on_event(StreamEvent::Subject {
                line: 0,
                id: None,
                rule: i,
                result: s,
            });
        }
    }
    let mut summary = StreamSummary::default();
    let mut interner = Interner::default();
    for (n, line) in input.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let record = match json::parse(&line, &mut interner) {
            Ok(v) => v,
            Err(e) => {
                summary.rejected += 1;
                on_event(StreamEvent::Rejected {
                    line: n + 1,
                    message: format!("column {}: malformed JSON: {e}", e.column()),
                });
                continue;
            }
        };
        summary.records += 1;
        let id = match record.get("id") {
            Some(v @ (Value::Str(_) | Value::Int(_) | Value::Float(_))) => Some(v.to_string()),
            _ => None,
        };
        if let Some(s) = slot.and_then(|s| m.facts.get_mut(s)) {
            *s = Some(Value::list(vec![record]));
        }
        for &i in streamed {
            let Some(rule) = program.rules.get(i).filter(|_| selected(i)) else {
                continue;
            };
            let result = m.run_rule(rule, &mut registers);
            for s in &result.subjects {
                on_event(StreamEvent::Subject {
                    line: n + 1,
                    id: id.clone(),
                    rule: i,
                    result: s,
                });
            }
        }
    }
    summary.register = m.register_hygiene(&registers, options.expiring_within_days);
    Ok(summary)
}
