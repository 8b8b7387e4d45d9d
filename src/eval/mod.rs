//! Values, facts loading and evaluation.

pub mod demand;
pub mod explain;
mod expr;
pub mod facts;
mod index;
pub mod json;
pub mod load;
mod ops;
mod origin;
pub mod outcome;
mod parallel;
pub mod progress;
mod rule;
pub mod stream;
pub mod value;

use chrono::{DateTime, NaiveDate, Utc};

use crate::ir::{Expr, Program};
use crate::source::Span;
use value::Value;

use origin::Origin;
pub use outcome::{Evaluation, Outcome, RegisterEntry, RuleResult, SubjectResult};

/// Default evaluation budget per subject, in expression steps.
pub const DEFAULT_MAX_STEPS: u64 = 10_000_000;

/// Default cap on one string built during evaluation, in bytes (16 MiB).
pub const DEFAULT_MAX_STRING_BYTES: usize = 16 * 1024 * 1024;

/// Default cap on one list built during evaluation, in items.
pub const DEFAULT_MAX_LIST_ITEMS: usize = 10_000_000;

/// Caps on the strings and lists evaluation builds; exceeding one makes the
/// subject an `error` outcome naming the limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes one string may hold.
    pub max_string_bytes: usize,
    /// Items one list may hold.
    pub max_list_items: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_string_bytes: DEFAULT_MAX_STRING_BYTES,
            max_list_items: DEFAULT_MAX_LIST_ITEMS,
        }
    }
}

/// Why evaluating an expression failed.
#[derive(Clone, Debug, PartialEq)]
pub struct EvalError {
    /// What went wrong, naming the fact path where one is known.
    pub message: String,
    /// The expression at fault.
    pub span: Span,
    /// A missing field, index or key: `??` and `?.` turn these into null.
    pub missing: bool,
}

impl EvalError {
    fn new(span: Span, message: impl Into<String>) -> EvalError {
        EvalError {
            message: message.into(),
            span,
            missing: false,
        }
    }
}

/// The state of one evaluation: facts, clock, constants, and a value stack.
pub(crate) struct Machine<'p> {
    program: &'p Program,
    facts: Vec<Option<Value>>,
    fact_names: Vec<String>,
    now: DateTime<Utc>,
    today: NaiveDate,
    consts: Vec<Option<Result<Value, EvalError>>>,
    stack: Vec<Value>,
    origins: Vec<Origin<'p>>,
    base: usize,
    steps: u64,
    max_steps: u64,
    /// Caps on built strings and lists.
    limits: Limits,
    /// Spans of the `require`s found false, when recording coverage.
    failed_requires: Option<Vec<Span>>,
    /// Traces of failing requires, when explaining.
    explained: Option<Vec<explain::Explained>>,
    /// Join indexes by loop, built on first use.
    joins: std::collections::HashMap<usize, index::JoinIndex>,
    /// The elements of a rule's first `for` this machine evaluates: a worker's chunk.
    first_range: Option<std::ops::Range<usize>>,
    /// Where to count the first `for`'s records as they are evaluated.
    progress: Option<std::sync::Arc<progress::Progress>>,
}

impl<'p> Machine<'p> {
    /// A machine over a program, a facts document and an instant.
    pub(crate) fn new(program: &'p Program, facts: &facts::Facts, now: DateTime<Utc>) -> Self {
        Machine {
            program,
            facts: program
                .facts
                .iter()
                .map(|k| facts.get(k).cloned())
                .collect(),
            fact_names: facts.keys().map(str::to_string).collect(),
            now,
            today: now.date_naive(),
            consts: vec![None; program.consts.len()],
            stack: Vec::new(),
            origins: Vec::new(),
            base: 0,
            steps: 0,
            max_steps: DEFAULT_MAX_STEPS,
            limits: Limits::default(),
            failed_requires: None,
            explained: None,
            joins: std::collections::HashMap::new(),
            first_range: None,
            progress: None,
        }
    }

    fn set_local(&mut self, slot: usize, value: Value, origin: Origin<'p>) {
        let index = self.base + slot;
        if index >= self.stack.len() {
            self.stack.resize(index + 1, Value::Null);
            self.origins.resize(index + 1, Origin::Unknown);
        }
        self.stack[index] = value;
        self.origins[index] = origin;
    }

    fn local(&self, slot: usize) -> Value {
        self.stack
            .get(self.base + slot)
            .cloned()
            .unwrap_or(Value::Null)
    }
}

/// Evaluates a constant expression (rule metadata) at compile time.
pub fn constant(program: &Program, e: &Expr) -> Result<Value, String> {
    let facts = facts::Facts::default();
    let mut m = Machine::new(program, &facts, DateTime::<Utc>::UNIX_EPOCH);
    m.eval(e).map_err(|err| err.message)
}

/// Options of one evaluation.
#[derive(Clone, Debug)]
pub struct EvalOptions {
    /// The evaluation instant.
    pub now: DateTime<Utc>,
    /// Only these rules, when given.
    pub rules: Option<Vec<String>>,
    /// Exceptions expiring within this many days are listed as expiring.
    pub expiring_within_days: i64,
    /// Expression steps one subject may take.
    pub max_steps: u64,
    /// Worker threads; a rule's first `for` is split among them, the report unchanged.
    pub threads: usize,
    /// Caps on the strings and lists evaluation builds.
    pub limits: Limits,
    /// Counters to follow the evaluation from another thread, when given.
    pub progress: Option<std::sync::Arc<progress::Progress>>,
}

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions {
            now: Utc::now(),
            rules: None,
            expiring_within_days: 30,
            max_steps: DEFAULT_MAX_STEPS,
            threads: 1,
            limits: Limits::default(),
            progress: None,
        }
    }
}

/// Evaluates every rule of a program against a facts document.
pub fn evaluate(program: &Program, facts: &facts::Facts, options: &EvalOptions) -> Evaluation {
    let mut m = Machine::new(program, facts, options.now);
    run(&mut m, program, Some(facts), options)
}

/// Evaluates like [`evaluate`], also returning the span of every `require`
/// (of a rule or a waiver) found false, for test coverage.
pub fn evaluate_covered(
    program: &Program,
    facts: &facts::Facts,
    options: &EvalOptions,
) -> (Evaluation, Vec<Span>) {
    let mut m = Machine::new(program, facts, options.now);
    m.failed_requires = Some(Vec::new());
    let evaluation = run(&mut m, program, None, options);
    (evaluation, m.failed_requires.take().unwrap_or_default())
}

/// Runs every selected rule. With `parallel_facts`, a rule's first `for` may
/// be split over threads; without, everything runs on `m`, which coverage
/// and explanations need because they record into it.
fn run<'p>(
    m: &mut Machine<'p>,
    program: &'p Program,
    parallel_facts: Option<&facts::Facts>,
    options: &EvalOptions,
) -> Evaluation {
    m.max_steps = options.max_steps;
    m.limits = options.limits;
    m.progress = options.progress.clone();
    let mut registers = rule::Registers::default();
    let rules = program
        .rules
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            options
                .rules
                .as_ref()
                .is_none_or(|only| only.iter().any(|o| **o == *r.id))
        })
        .map(|(i, r)| {
            if let Some(progress) = &options.progress {
                progress.start_rule(i);
            }
            parallel_facts
                .and_then(|facts| parallel::run_rule(program, facts, options, m, r, &mut registers))
                .unwrap_or_else(|| m.run_rule(r, &mut registers))
        })
        .collect();
    let register = m.register_hygiene(&registers, options.expiring_within_days);
    Evaluation {
        now: options.now,
        rules,
        register,
    }
}
