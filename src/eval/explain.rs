//! Explanations: for each failing `require`, the value of every subexpression,
//! so a reader sees why it failed. A tracing pass over the same Machine that
//! evaluates rules: it follows `and`/`or`/`??`/`if` exactly as evaluation does
//! (a side never evaluated is shown as such) and follows `let`s to their
//! definitions.

use std::collections::BTreeSet;

use super::value::Value;
use super::{facts::Facts, EvalError, EvalOptions, Evaluation, Machine};
use crate::ir::{Expr, RequireDef};
use crate::ir::{ExprKind, Program, RuleDef, Step};
use crate::source::Span;
use crate::syntax::ast::BinOp;

/// Longest value shown in an explanation, in characters.
const MAX_VALUE_CHARS: usize = 120;

/// One traced subexpression.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceStep {
    /// Nesting below the `require`'s condition (0 is the condition itself).
    pub depth: usize,
    /// The subexpression's source text, or `let NAME = …` for a followed `let`.
    pub text: String,
    /// Where it is written.
    pub span: Span,
    /// Its value as shown, `not evaluated` when evaluation skipped it, or the error.
    pub value: String,
}

/// A failing `require` of one subject and its trace.
#[derive(Clone, Debug, PartialEq)]
pub struct RequireTrace {
    /// The `require` clause.
    pub span: Span,
    /// Its condition's source text.
    pub text: String,
    /// The subexpressions, in reading order (a node before its parts).
    pub steps: Vec<TraceStep>,
}

/// The failing requires of one subject.
#[derive(Clone, Debug, PartialEq)]
pub struct Explained {
    /// The rule's index in the program.
    pub rule: usize,
    /// The subject's name.
    pub subject: String,
    /// Each failing `require`, in order.
    pub requires: Vec<RequireTrace>,
}

/// Evaluates the rules selected by `options` and explains every failing
/// `require` of every subject (waived ones included).
pub fn explain(
    program: &Program,
    facts: &Facts,
    options: &EvalOptions,
) -> (Evaluation, Vec<Explained>) {
    let mut m = Machine::new(program, facts, options.now);
    m.explained = Some(Vec::new());
    let evaluation = super::run(&mut m, program, None, options);
    (evaluation, m.explained.take().unwrap_or_default())
}

impl<'p> Machine<'p> {
    /// Records the traces of the subject's failing requires (explain mode).
    pub(crate) fn explain_subject(&mut self, rule: &'p RuleDef, bound_steps: usize) {
        if self.explained.is_none() {
            return;
        }
        let index = self
            .program
            .rules
            .iter()
            .position(|r| std::ptr::eq(r, rule))
            .unwrap_or(0);
        let subject = self.subject_name(rule, bound_steps);
        let mut requires = Vec::new();
        for q in &rule.requires {
            self.steps = 0;
            if let Ok(false) = self.condition(&q.cond) {
                requires.push(self.trace_require(rule, q));
            }
        }
        if let Some(out) = &mut self.explained {
            out.push(Explained {
                rule: index,
                subject,
                requires,
            });
        }
    }

    fn trace_require(&mut self, rule: &'p RuleDef, q: &'p RequireDef) -> RequireTrace {
        let mut tracer = Tracer {
            steps: Vec::new(),
            followed: BTreeSet::new(),
            rule,
        };
        self.trace(&q.cond, 0, false, &mut tracer);
        RequireTrace {
            span: q.span,
            text: q.text.clone(),
            steps: tracer.steps,
        }
    }

    /// Traces `e`: records its value, then its parts in evaluation order.
    fn trace(
        &mut self,
        e: &'p Expr,
        depth: usize,
        optional: bool,
        t: &mut Tracer<'p>,
    ) -> Option<Value> {
        if let ExprKind::Value(_) = e.kind {
            // A literal shows itself.
            return self.eval(e).ok();
        }
        self.steps = 0;
        let result = if optional {
            self.eval_optional(e)
        } else {
            self.eval(e)
        };
        if let (ExprKind::Local(slot), Ok(Value::Object(_) | Value::List(_))) = (&e.kind, &result) {
            if t.let_of(*slot).is_none() {
                // A record bound by `for`: its fields are shown where read.
                return result.ok();
            }
        }
        let text = self.program.sources.slice(e.span).to_string();
        t.steps.push(TraceStep {
            depth,
            text,
            span: e.span,
            value: show(&result),
        });
        let d = depth + 1;
        match &e.kind {
            ExprKind::Binary { op, lhs, rhs } => match op {
                BinOp::And | BinOp::Or => {
                    let l = self.trace(lhs, d, false, t);
                    let stop = matches!(l, Some(Value::Bool(b)) if b == (*op == BinOp::Or));
                    if stop {
                        t.skipped(self, rhs, d);
                    } else if l.is_some() {
                        self.trace(rhs, d, false, t);
                    }
                }
                BinOp::Coalesce => {
                    let l = self.trace(lhs, d, true, t);
                    match l {
                        Some(Value::Null) => {
                            self.trace(rhs, d, false, t);
                        }
                        Some(_) => t.skipped(self, rhs, d),
                        None => {}
                    }
                }
                _ => {
                    if self.trace(lhs, d, false, t).is_some() {
                        self.trace(rhs, d, false, t);
                    }
                }
            },
            ExprKind::Unary { operand, .. } => {
                self.trace(operand, d, false, t);
            }
            ExprKind::Field { target, safe, .. } => {
                self.trace(target, d, optional || *safe, t);
            }
            ExprKind::Index { target, index } => {
                let target = self.trace(target, d, optional, t);
                if target.is_some() {
                    self.trace(index, d, false, t);
                }
            }
            ExprKind::Call { args, .. } | ExprKind::Builtin { args, .. } => {
                for a in args {
                    if self.trace(a, d, false, t).is_none() {
                        break;
                    }
                }
            }
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => match self.trace(cond, d, false, t) {
                Some(Value::Bool(true)) => {
                    self.trace(then, d, false, t);
                    t.skipped(self, otherwise, d);
                }
                Some(Value::Bool(false)) => {
                    t.skipped(self, then, d);
                    self.trace(otherwise, d, false, t);
                }
                _ => {}
            },
            ExprKind::List(items) => {
                for item in items {
                    self.trace(item, d, false, t);
                }
            }
            ExprKind::Comprehension { binding, .. } => {
                self.trace(&binding.source, d, false, t);
            }
            ExprKind::Quantifier { source, .. } => {
                self.trace(source, d, false, t);
            }
            ExprKind::Local(slot) => {
                if let Some(value) = t.let_of(*slot) {
                    if t.followed.insert(*slot) {
                        let name = self.program.sources.slice(e.span).to_string();
                        t.steps.push(TraceStep {
                            depth: d,
                            text: format!(
                                "let {name} = {}",
                                self.program.sources.slice(value.span)
                            ),
                            span: value.span,
                            value: String::new(),
                        });
                        self.trace(value, d + 1, false, t);
                    }
                }
            }
            _ => {}
        }
        result.ok()
    }
}

/// The state of one `require`'s trace.
struct Tracer<'p> {
    steps: Vec<TraceStep>,
    /// `let` slots already followed, so each definition is shown once.
    followed: BTreeSet<usize>,
    rule: &'p RuleDef,
}

impl<'p> Tracer<'p> {
    fn skipped(&mut self, m: &Machine<'p>, e: &'p Expr, depth: usize) {
        self.steps.push(TraceStep {
            depth,
            text: m.program.sources.slice(e.span).to_string(),
            span: e.span,
            value: "not evaluated".into(),
        });
    }

    fn let_of(&self, slot: usize) -> Option<&'p Expr> {
        self.rule.steps.iter().find_map(|s| match s {
            Step::Let { slot: s, value } if *s == slot => Some(value),
            _ => None,
        })
    }
}

/// A value as an explanation shows it: quoted strings, shortened when long.
fn show(result: &Result<Value, EvalError>) -> String {
    match result {
        Ok(v) => {
            let text = v.quoted();
            if text.chars().count() > MAX_VALUE_CHARS {
                let cut: String = text.chars().take(MAX_VALUE_CHARS).collect();
                format!("{cut}…")
            } else {
                text
            }
        }
        Err(e) if e.missing => format!("missing ({})", e.message),
        Err(e) => format!("error: {}", e.message),
    }
}
