//! Whether rules can stream a collection (`--stream name=file.jsonl`): each
//! line is bound as a one-element list, so a rule may use the collection only
//! as its first `for` source.

use crate::diagnostic::Diagnostic;
use crate::ir::{Expr, ExprKind, Program, RuleDef, Step, WaiverStep};

/// Which rules read a streamed collection, and why some cannot stream.
#[derive(Debug, Default)]
pub struct StreamPlan {
    /// Rules (by index) whose first `for` iterates the collection.
    pub streamed: Vec<usize>,
    /// E0160 for every rule that uses the collection any other way.
    pub diagnostics: Vec<Diagnostic>,
}

/// Every expression a rule evaluates, its first `for` source excepted.
fn rule_exprs(rule: &RuleDef) -> Vec<&Expr> {
    let mut out = Vec::new();
    for (i, step) in rule.steps.iter().enumerate() {
        match step {
            Step::For(l) => {
                if i > 0 {
                    out.push(&l.source);
                }
                out.extend(l.filter.as_ref());
            }
            Step::Let { value, .. } => out.push(value),
            Step::Where(e) => out.push(e),
        }
    }
    out.extend(rule.subject.as_ref());
    out.extend(rule.due.as_ref());
    for q in &rule.requires {
        out.push(&q.cond);
        out.extend(q.message.as_ref());
    }
    for w in &rule.waivers {
        out.push(&w.from.source);
        out.extend(w.from.filter.as_ref());
        for s in &w.steps {
            match s {
                WaiverStep::Let { value, .. } => out.push(value),
                WaiverStep::Require(q) => {
                    out.push(&q.cond);
                    out.extend(q.message.as_ref());
                }
            }
        }
    }
    out
}

/// Whether `e` reads facts key `fact`, directly or through a function or
/// constant already known (`fns`, `consts`) to read it.
fn reads_fact(e: &Expr, fact: usize, fns: &[bool], consts: &[bool]) -> bool {
    let mut r = false;
    e.visit(&mut |x| {
        r |= match x.kind {
            ExprKind::Fact(f) => f == fact,
            ExprKind::Call { func, .. } => fns.get(func).copied().unwrap_or(false),
            ExprKind::Const(c) => consts.get(c).copied().unwrap_or(false),
            _ => false,
        }
    });
    r
}

/// Plans streaming `name`: which rules stream it, which cannot (E0160).
pub fn plan(program: &Program, name: &str) -> StreamPlan {
    let mut plan = StreamPlan::default();
    let Some(fact) = program.facts.iter().position(|f| &**f == name) else {
        return plan;
    };
    // Functions and constants that read the collection, directly or through others.
    let mut fns = vec![false; program.fns.len()];
    let mut consts = vec![false; program.consts.len()];
    loop {
        let mut changed = false;
        let reads = |e: &Expr, fns: &[bool], consts: &[bool]| reads_fact(e, fact, fns, consts);
        for (i, f) in program.fns.iter().enumerate() {
            if !fns[i] && reads(&f.body, &fns, &consts) {
                fns[i] = true;
                changed = true;
            }
        }
        for (i, c) in program.consts.iter().enumerate() {
            if !consts[i] && reads(&c.value, &fns, &consts) {
                consts[i] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let reads = |e: &Expr| reads_fact(e, fact, &fns, &consts);
    for (index, rule) in program.rules.iter().enumerate() {
        let first_is_stream = matches!(
            rule.steps.first(),
            Some(Step::For(l)) if matches!(l.source.kind, ExprKind::Fact(f) if f == fact)
        );
        let other_use = rule_exprs(rule).into_iter().any(reads)
            || matches!(rule.steps.first(), Some(Step::For(l)) if !first_is_stream && reads(&l.source));
        if other_use {
            plan.diagnostics.push(
                Diagnostic::error(
                    "E0160",
                    rule.span,
                    format!(
                        "rule `{}` cannot stream `{name}`: it uses `{name}` other than as its first `for` source",
                        rule.id
                    ),
                )
                .with_help(format!(
                    "a streamed run sees one `{name}` record at a time; iterate it with `for x in {name}` first, or load it with `--facts` instead"
                )),
            );
        } else if first_is_stream {
            plan.streamed.push(index);
        }
    }
    plan
}
