//! Constant folding: an operation whose operands are all literals (`15d * 2`,
//! `["critical", "high"]`, `"{1 + 1}"`, `lower("KEV")`) is computed once, when
//! the policy compiles, instead of once per subject.
//!
//! Runs last, after every check has seen the expressions as written. An
//! operation that fails (`1 / 0`) is left as it is, so it fails at run time
//! with the subject it failed for, exactly as before. Builtins are pure
//! functions of their arguments (the sandbox test in tests/it enforces that
//! they read no clock, file or environment), so folding one is safe.

use crate::eval::value::Value;
use crate::ir::{Expr, ExprKind, Loop, Program, RequireDef, Step, StrPart, WaiverStep};

/// Folds every expression of a compiled program.
pub(super) fn fold_program(program: &mut Program) {
    let scratch = Program::default();
    let folder = Folder { scratch: &scratch };
    for c in &mut program.consts {
        folder.expr(&mut c.value);
    }
    for f in &mut program.fns {
        folder.expr(&mut f.body);
    }
    for rule in &mut program.rules {
        for step in &mut rule.steps {
            match step {
                Step::For(l) => folder.each_loop(l),
                Step::Let { value, .. } => folder.expr(value),
                Step::Where(cond) => folder.expr(cond),
            }
        }
        for e in rule.subject.iter_mut().chain(rule.due.iter_mut()) {
            folder.expr(e);
        }
        for q in &mut rule.requires {
            folder.require(q);
        }
        for w in &mut rule.waivers {
            folder.each_loop(&mut w.from);
            for step in &mut w.steps {
                match step {
                    WaiverStep::Let { value, .. } => folder.expr(value),
                    WaiverStep::Require(q) => folder.require(q),
                }
            }
        }
    }
}

struct Folder<'s> {
    /// An empty program to evaluate literal operations in: they read nothing from it.
    scratch: &'s Program,
}

impl Folder<'_> {
    fn each_loop(&self, l: &mut Loop) {
        self.expr(&mut l.source);
        if let Some(filter) = &mut l.filter {
            self.expr(filter);
        }
    }

    fn require(&self, q: &mut RequireDef) {
        self.expr(&mut q.cond);
        if let Some(m) = &mut q.message {
            self.expr(m);
        }
    }

    /// Folds the operands first, then the expression itself if they all became literals.
    fn expr(&self, e: &mut Expr) {
        match &mut e.kind {
            ExprKind::Value(_)
            | ExprKind::Local(_)
            | ExprKind::Const(_)
            | ExprKind::Fact(_)
            | ExprKind::Now
            | ExprKind::Today => return,
            ExprKind::Str(parts) => {
                for part in parts {
                    if let StrPart::Expr(x) = part {
                        self.expr(x);
                    }
                }
            }
            ExprKind::List(items) => items.iter_mut().for_each(|x| self.expr(x)),
            ExprKind::Object(entries) => entries.iter_mut().for_each(|(_, x)| self.expr(x)),
            ExprKind::Field { target, .. } => self.expr(target),
            ExprKind::Index { target, index } => {
                self.expr(target);
                self.expr(index);
            }
            ExprKind::Call { args, .. } | ExprKind::Builtin { args, .. } => {
                args.iter_mut().for_each(|x| self.expr(x))
            }
            ExprKind::Unary { operand, .. } => self.expr(operand),
            ExprKind::Binary { lhs, rhs, .. } => {
                self.expr(lhs);
                self.expr(rhs);
            }
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => {
                self.expr(cond);
                self.expr(then);
                self.expr(otherwise);
            }
            ExprKind::Comprehension { elem, binding } => {
                self.each_loop(binding);
                self.expr(elem);
            }
            ExprKind::Quantifier { source, body, .. } => {
                self.expr(source);
                self.expr(body);
            }
        }
        if let Some(value) = self.literal_value(e) {
            e.kind = ExprKind::Value(value);
        }
    }

    /// The value of an operation on literals, when it has one.
    fn literal_value(&self, e: &Expr) -> Option<Value> {
        let literal = |x: &Expr| matches!(x.kind, ExprKind::Value(_));
        let foldable = match &e.kind {
            ExprKind::Str(parts) => parts.iter().all(|p| match p {
                StrPart::Text(_) => true,
                StrPart::Expr(x) => literal(x),
            }),
            ExprKind::List(items) => items.iter().all(literal),
            ExprKind::Object(entries) => entries.iter().all(|(_, x)| literal(x)),
            ExprKind::Field { target, .. } => literal(target),
            ExprKind::Index { target, index } => literal(target) && literal(index),
            ExprKind::Builtin { args, .. } => args.iter().all(literal),
            ExprKind::Unary { operand, .. } => literal(operand),
            ExprKind::Binary { lhs, rhs, .. } => literal(lhs) && literal(rhs),
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => literal(cond) && literal(then) && literal(otherwise),
            _ => false,
        };
        if !foldable {
            return None;
        }
        crate::eval::constant(self.scratch, e).ok()
    }
}

#[cfg(test)]
mod tests {
    use crate::ir::ExprKind;

    fn compile(text: &str) -> crate::ir::Program {
        let mut sources = crate::source::SourceMap::default();
        sources.add("t.edict".to_string(), text.to_string());
        crate::check::compile(sources).map(|(p, _)| p).unwrap()
    }

    fn folded(program: &crate::ir::Program) -> Vec<String> {
        let rule = &program.rules[0];
        rule.requires
            .iter()
            .map(|q| match &q.cond.kind {
                ExprKind::Value(v) => format!("value {v}"),
                ExprKind::Binary { rhs, .. } => match &rhs.kind {
                    ExprKind::Value(v) => format!("rhs value {}", v.quoted()),
                    _ => "rhs kept".to_string(),
                },
                _ => "kept".to_string(),
            })
            .collect()
    }

    #[test]
    fn literal_operations_fold_and_failing_or_runtime_ones_stay() {
        let program = compile(
            r#"rule r {
  for a in assets
  require 15d * 2 == 30d
  require a.sev in ["critical", "high"]
  require a.name == "{1 + 1}-{lower("KEV")}"
  require a.n == 1 / 0
  require a.n == a.m + 1
}"#,
        );
        assert_eq!(
            folded(&program),
            [
                "value true",
                "rhs value [\"critical\", \"high\"]",
                "rhs value \"2-kev\"",
                "rhs kept",
                "rhs kept",
            ]
        );
    }
}
