//! Evaluation of expressions. Fails closed: anything missing, mistyped or
//! unparsable is an error naming the fact path, never a silent `false`.

use std::sync::Arc;

use super::ops::{self, Culprit, OpError};
use super::origin::Origin;
use super::value::Value;
use super::{EvalError, Machine};
use crate::diagnostic::did_you_mean;
use crate::ir::{Expr, ExprKind, Loop, StrPart};
use crate::source::Span;
use crate::syntax::ast::{BinOp, UnaryOp};

type Result<T> = std::result::Result<T, EvalError>;

impl<'p> Machine<'p> {
    /// Evaluates an expression in the current frame.
    pub(crate) fn eval(&mut self, e: &'p Expr) -> Result<Value> {
        self.steps += 1;
        if self.steps > self.max_steps {
            return Err(self.over_budget(e));
        }
        match &e.kind {
            ExprKind::Value(v) => Ok(v.clone()),
            ExprKind::Local(slot) => Ok(self.local(*slot)),
            ExprKind::Now => Ok(Value::DateTime(self.now)),
            ExprKind::Today => Ok(Value::Date(self.today)),
            ExprKind::Const(id) => self.constant(*id),
            ExprKind::Fact(id) => match self.facts.get(*id).cloned().flatten() {
                Some(v) => Ok(v),
                None => {
                    let name = self
                        .program
                        .facts
                        .get(*id)
                        .map(|k| k.to_string())
                        .unwrap_or_default();
                    let help = did_you_mean(&name, self.fact_names.iter().map(String::as_str))
                        .map(|s| format!("; did you mean `{s}`?"))
                        .unwrap_or_default();
                    Err(EvalError {
                        message: format!("the facts have no key `{name}`{help}"),
                        span: e.span,
                        missing: true,
                    })
                }
            },
            ExprKind::Str(parts) => Ok(Value::str(&self.interpolate(e, parts)?)),
            ExprKind::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(self.eval(item)?);
                }
                Ok(Value::list(out))
            }
            ExprKind::Object(entries) => {
                let mut map = super::value::Map::with_capacity(entries.len());
                for (k, v) in entries {
                    let value = self.eval(v)?;
                    map.insert(k.clone(), value);
                }
                Ok(Value::Object(Arc::new(map)))
            }
            ExprKind::Field { target, name, safe } => {
                if let Some(v) = self.borrowed_field(e) {
                    return Ok(v);
                }
                let t = if *safe {
                    self.eval_optional(target)?
                } else {
                    self.eval(target)?
                };
                self.field(e, target, &t, name, *safe)
            }
            ExprKind::Index { target, index } => {
                let t = self.operand(target)?;
                let i = self.eval(index)?;
                self.index(e, target, &t, index, &i)
            }
            ExprKind::Call { func, args } => self.call(*func, args),
            ExprKind::Builtin { builtin, args } => self.builtin(e, builtin, args),
            ExprKind::Unary { op, operand } => {
                let v = self.eval(operand)?;
                match (op, &v) {
                    (UnaryOp::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
                    (UnaryOp::Neg, Value::Int(i)) => i
                        .checked_neg()
                        .map(Value::Int)
                        .ok_or_else(|| EvalError::new(e.span, "negation overflows")),
                    (UnaryOp::Neg, Value::Float(f)) => Ok(Value::Float(-f)),
                    (UnaryOp::Neg, Value::Duration(d)) => {
                        Ok(Value::Duration(super::value::Duration {
                            seconds: -d.seconds,
                        }))
                    }
                    (UnaryOp::Not, _) => Err(self.type_error(operand, &v, "`not` needs a bool")),
                    (UnaryOp::Neg, _) => {
                        Err(self.type_error(operand, &v, "`-` needs a number or duration"))
                    }
                }
            }
            ExprKind::Binary { op, lhs, rhs } => self.binary(e, *op, lhs, rhs),
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => {
                if self.condition(cond)? {
                    self.eval(then)
                } else {
                    self.eval(otherwise)
                }
            }
            ExprKind::Comprehension { elem, binding } => {
                let mut out = Vec::new();
                self.each(binding, |m| {
                    if out.len() >= m.limits.max_list_items {
                        return Err(m.too_many(e.span, out.len() + 1));
                    }
                    out.push(m.eval(elem)?);
                    Ok(true)
                })?;
                Ok(Value::list(out))
            }
            ExprKind::Quantifier {
                all,
                slot,
                source,
                body,
            } => {
                let items = self.list(source)?;
                for (index, item) in items.iter().enumerate() {
                    let base = self.base;
                    self.set_local(
                        *slot,
                        item.clone(),
                        Origin::Element {
                            source,
                            index,
                            base,
                        },
                    );
                    if self.condition(body)? != *all {
                        return Ok(Value::Bool(!*all));
                    }
                }
                Ok(Value::Bool(*all))
            }
        }
    }

    /// Evaluates an expression as text, as a subject name or message: an
    /// interpolated string is built once, straight into the result.
    pub(crate) fn text(&mut self, e: &'p Expr) -> Result<String> {
        match &e.kind {
            // Counted as `eval` counts it; at the budget's end, `eval` reports it.
            ExprKind::Str(parts) if self.steps < self.max_steps => {
                self.steps += 1;
                self.interpolate(e, parts)
            }
            _ => self.eval(e).map(Value::into_text),
        }
    }

    fn interpolate(&mut self, e: &'p Expr, parts: &'p [StrPart]) -> Result<String> {
        let mut out = String::new();
        for part in parts {
            match part {
                StrPart::Text(t) => out.push_str(t),
                StrPart::Expr(x) => {
                    // A local or field read is written from where it is,
                    // counted as evaluating it counts; anything else, or a
                    // read that fails or would end the budget, is evaluated.
                    let budget = self.max_steps.saturating_sub(self.steps);
                    let mut nodes = 0;
                    let written = match place(self, x, &mut nodes) {
                        Some(v) if nodes <= budget => {
                            v.write_text(&mut out);
                            true
                        }
                        _ => false,
                    };
                    if written {
                        self.steps += nodes;
                    } else {
                        self.eval(x)?.write_text(&mut out);
                    }
                }
            }
            self.check_string_len(e.span, out.len())?;
        }
        Ok(out)
    }

    /// Runs `f` for each element of a loop that passes its filter; `f`
    /// returns false to stop early.
    pub(crate) fn each(
        &mut self,
        l: &'p Loop,
        mut f: impl FnMut(&mut Self) -> Result<bool>,
    ) -> Result<()> {
        let items = self.list(&l.source)?;
        let candidates = self.join_candidates(l, &items);
        for index in visit_order(candidates.as_deref(), items.len()) {
            let Some(item) = items.get(index) else {
                continue;
            };
            let base = self.base;
            self.set_local(
                l.slot,
                item.clone(),
                Origin::Element {
                    source: &l.source,
                    index,
                    base,
                },
            );
            if let Some(filter) = &l.filter {
                if !self.condition(filter)? {
                    continue;
                }
            }
            if !f(self)? {
                break;
            }
        }
        Ok(())
    }

    /// Evaluates a collection to iterate over.
    pub(crate) fn list(&mut self, e: &'p Expr) -> Result<Arc<Vec<Value>>> {
        match self.eval(e)? {
            Value::List(items) => Ok(items),
            other => Err(self.type_error(e, &other, "expected a list to iterate over")),
        }
    }

    /// Evaluates a condition: it must be a bool; null is an error, never false.
    pub(crate) fn condition(&mut self, e: &'p Expr) -> Result<bool> {
        match self.eval(e)? {
            Value::Bool(b) => Ok(b),
            other => Err(self.type_error(e, &other, "a condition must be true or false")),
        }
    }

    /// Calls a builtin on evaluated arguments and checks the size of what it
    /// built. Out of line, so the recursive `eval` keeps a small stack frame.
    #[inline(never)]
    fn builtin(
        &mut self,
        e: &'p Expr,
        builtin: &'static crate::builtins::Builtin,
        args: &'p [Expr],
    ) -> Result<Value> {
        let mut values = Vec::with_capacity(args.len());
        for a in args {
            values.push(self.eval(a)?);
        }
        let value = (builtin.call)(&values).map_err(|err| {
            let at = err.arg.and_then(|i| args.get(i));
            let message = match at.and_then(|a| self.path_of(a)) {
                Some(path) => format!("{path}: {}", err.message),
                None => err.message,
            };
            EvalError::new(at.map_or(e.span, |a| a.span), message)
        })?;
        self.check_size(e.span, &value)?;
        Ok(value)
    }

    /// Fails when `+` would build a string or list past its limit.
    /// Out of line, so the recursive `binary` keeps a small stack frame.
    #[inline(never)]
    fn check_concat(&self, span: Span, l: &Value, r: &Value) -> Result<()> {
        match (l, r) {
            (Value::Str(a), Value::Str(b)) if a.len() + b.len() > self.limits.max_string_bytes => {
                Err(self.too_long(span, a.len() + b.len()))
            }
            (Value::List(a), Value::List(b)) if a.len() + b.len() > self.limits.max_list_items => {
                Err(self.too_many(span, a.len() + b.len()))
            }
            _ => Ok(()),
        }
    }

    /// Fails when a string being built has grown past its limit.
    #[inline(never)]
    fn check_string_len(&self, span: Span, bytes: usize) -> Result<()> {
        if bytes > self.limits.max_string_bytes {
            Err(self.too_long(span, bytes))
        } else {
            Ok(())
        }
    }

    /// Fails when a value a builtin built exceeds a size limit.
    #[inline(never)]
    fn check_size(&self, span: Span, v: &Value) -> Result<()> {
        match v {
            Value::Str(s) if s.len() > self.limits.max_string_bytes => {
                Err(self.too_long(span, s.len()))
            }
            Value::List(l) if l.len() > self.limits.max_list_items => {
                Err(self.too_many(span, l.len()))
            }
            _ => Ok(()),
        }
    }

    fn too_long(&self, span: Span, bytes: usize) -> EvalError {
        EvalError::new(
            span,
            format!(
                "a string of {bytes} bytes exceeds the limit of {} bytes (--max-string-bytes)",
                self.limits.max_string_bytes
            ),
        )
    }

    fn too_many(&self, span: Span, items: usize) -> EvalError {
        EvalError::new(
            span,
            format!(
                "a list of {items} items exceeds the limit of {} items (--max-list-items)",
                self.limits.max_list_items
            ),
        )
    }

    fn type_error(&self, e: &'p Expr, v: &Value, what: &str) -> EvalError {
        let is = match v {
            Value::Null => "null".to_string(),
            _ => format!("{} {}", v.type_name(), v.quoted()),
        };
        EvalError::new(e.span, format!("{what}; {} is {is}", self.describe(e)))
    }

    /// Like `eval`, but a missing field, index or facts key anywhere along an
    /// access chain is null: the left side of `??` and the target of `?.`.
    pub(crate) fn eval_optional(&mut self, e: &'p Expr) -> Result<Value> {
        match &e.kind {
            ExprKind::Field { target, name, .. } => {
                if let Some(v) = self.borrowed_field(e) {
                    return Ok(v);
                }
                let t = self.eval_optional(target)?;
                if t.is_null() {
                    return Ok(Value::Null);
                }
                self.field(e, target, &t, name, true)
            }
            ExprKind::Index { target, index } => {
                let t = self.eval_optional(target)?;
                if t.is_null() {
                    return Ok(Value::Null);
                }
                let i = self.eval(index)?;
                match self.index(e, target, &t, index, &i) {
                    Err(err) if err.missing => Ok(Value::Null),
                    other => other,
                }
            }
            // An absent key is null here. Counted as `eval` counts it, but
            // without building the message (and its "did you mean" search)
            // that `eval` builds for a missing key: `optional_key ?? []` runs
            // once per subject.
            ExprKind::Fact(id) if !matches!(self.facts.get(*id), Some(Some(_))) => {
                self.steps += 1;
                if self.steps > self.max_steps {
                    return Err(self.over_budget(e));
                }
                Ok(Value::Null)
            }
            _ => self.eval(e),
        }
    }

    fn over_budget(&self, e: &Expr) -> EvalError {
        EvalError::new(
            e.span,
            format!("evaluation budget exceeded ({} steps)", self.max_steps),
        )
    }

    /// A chain of field reads from a local (`f.cve`, `a.owner.team`) that
    /// exists all the way, read by reference: only the result is cloned, not
    /// each object on the way. `None` when any step is missing or not an
    /// object, or the budget would run out, for `eval` to report.
    fn borrowed_field(&mut self, e: &'p Expr) -> Option<Value> {
        let mut nodes = 0;
        let value = place(self, e, &mut nodes)?.clone();
        // The same steps as evaluating each node in turn; the node itself
        // was counted already.
        let steps = self.steps + nodes - 1;
        if steps > self.max_steps {
            return None;
        }
        self.steps = steps;
        Some(value)
    }

    fn field(
        &self,
        e: &'p Expr,
        target: &'p Expr,
        t: &Value,
        name: &str,
        safe: bool,
    ) -> Result<Value> {
        match t {
            Value::Object(map) => match super::value::field_of(map, name) {
                Some(v) => Ok(v.clone()),
                None if safe => Ok(Value::Null),
                None => {
                    let help = did_you_mean(name, map.keys().map(|k| &**k))
                        .map(|s| format!("; did you mean `{s}`?"))
                        .unwrap_or_default();
                    Err(EvalError {
                        message: format!("{} has no field `{name}`{help}", self.describe(target)),
                        span: e.span,
                        missing: true,
                    })
                }
            },
            Value::Null if safe => Ok(Value::Null),
            Value::Null => Err(EvalError {
                message: format!(
                    "{} is null, so it has no field `{name}`",
                    self.describe(target)
                ),
                span: e.span,
                missing: true,
            }),
            other => Err(self.type_error(target, other, &format!("cannot read field `{name}`"))),
        }
    }

    fn index(
        &self,
        e: &'p Expr,
        target: &'p Expr,
        t: &Value,
        index: &'p Expr,
        i: &Value,
    ) -> Result<Value> {
        match (t, i) {
            (Value::List(items), Value::Int(n)) => usize::try_from(*n)
                .ok()
                .and_then(|n| items.get(n))
                .cloned()
                .ok_or_else(|| EvalError {
                    message: format!(
                        "{} has {} elements; index {n} is out of range",
                        self.describe(target),
                        items.len()
                    ),
                    span: e.span,
                    missing: true,
                }),
            (Value::Object(map), Value::Str(k)) => map.get(k).cloned().ok_or_else(|| {
                let help = did_you_mean(k, map.keys().map(|k| &**k))
                    .map(|s| format!("; did you mean {s}?"))
                    .unwrap_or_default();
                EvalError {
                    message: format!("{} has no key {}{help}", self.describe(target), i.quoted()),
                    span: e.span,
                    missing: true,
                }
            }),
            (Value::List(_), _) => {
                Err(self.type_error(index, i, "a list index must be a whole number"))
            }
            (Value::Object(_), _) => {
                Err(self.type_error(index, i, "an object key must be a string"))
            }
            _ => Err(self.type_error(target, t, "cannot index")),
        }
    }

    /// An operand's value; a literal is borrowed from the program rather than
    /// cloned, since every thread evaluating the policy shares it and its
    /// reference count would bounce between their caches.
    fn operand(&mut self, x: &'p Expr) -> Result<std::borrow::Cow<'p, Value>> {
        match &x.kind {
            ExprKind::Value(v) if self.steps < self.max_steps => {
                self.steps += 1;
                Ok(std::borrow::Cow::Borrowed(v))
            }
            // A constant written as a literal (`SLA[f.severity]`), once this
            // machine has evaluated it: the same step as reading the cache.
            ExprKind::Const(id) if self.steps < self.max_steps => {
                match (self.literal_constant(*id), self.consts.get(*id)) {
                    (Some(v), Some(Some(Ok(_)))) => {
                        self.steps += 1;
                        Ok(std::borrow::Cow::Borrowed(v))
                    }
                    _ => self.eval(x).map(std::borrow::Cow::Owned),
                }
            }
            _ => self.eval(x).map(std::borrow::Cow::Owned),
        }
    }

    /// A constant's value when its definition is a literal (after folding).
    fn literal_constant(&self, id: usize) -> Option<&'p Value> {
        match &self.program.consts.get(id)?.value.kind {
            ExprKind::Value(v) => Some(v),
            _ => None,
        }
    }

    fn binary(&mut self, e: &'p Expr, op: BinOp, lhs: &'p Expr, rhs: &'p Expr) -> Result<Value> {
        match op {
            BinOp::Coalesce => {
                let l = self.eval_optional(lhs)?;
                return if l.is_null() { self.eval(rhs) } else { Ok(l) };
            }
            BinOp::And | BinOp::Or => {
                let l = self.eval(lhs)?;
                let Value::Bool(l) = l else {
                    return Err(self.type_error(
                        lhs,
                        &l,
                        &format!("`{}` needs true or false", op.symbol()),
                    ));
                };
                if l == (op == BinOp::Or) {
                    return Ok(Value::Bool(l));
                }
                let r = self.eval(rhs)?;
                return match r {
                    Value::Bool(r) => Ok(Value::Bool(r)),
                    other => Err(self.type_error(
                        rhs,
                        &other,
                        &format!("`{}` needs true or false", op.symbol()),
                    )),
                };
            }
            _ => {}
        }
        let l = self.operand(lhs)?;
        let r = self.operand(rhs)?;
        if op == BinOp::Add {
            self.check_concat(e.span, &l, &r)?;
        }
        let result = match op {
            BinOp::Eq => ops::equals(&l, &r).map(Value::Bool),
            BinOp::Ne => ops::equals(&l, &r).map(|b| Value::Bool(!b)),
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                ops::compare(op, &l, &r).map(Value::Bool)
            }
            BinOp::In => ops::contains(&l, &r).map(Value::Bool),
            BinOp::NotIn => ops::contains(&l, &r).map(|b| Value::Bool(!b)),
            _ => ops::arithmetic(op, &l, &r),
        };
        result.map_err(|OpError { culprit, message }| {
            let at = match culprit {
                Culprit::Left => Some(lhs),
                Culprit::Right => Some(rhs),
                Culprit::Both => None,
            };
            let message = match at {
                Some(x) => match self.path_of(x) {
                    Some(path) => format!("{path}: {message}"),
                    None => message,
                },
                None => {
                    let paths: Vec<String> = [("left", lhs), ("right", rhs)]
                        .into_iter()
                        .filter_map(|(side, x)| self.path_of(x).map(|p| format!("{side} is {p}")))
                        .collect();
                    if paths.is_empty() {
                        message
                    } else {
                        format!("{message} ({})", paths.join(", "))
                    }
                }
            };
            EvalError::new(at.map_or(e.span, |x| x.span), message)
        })
    }

    fn call(&mut self, func: usize, args: &'p [Expr]) -> Result<Value> {
        let Some(def) = self.program.fns.get(func) else {
            return Ok(Value::Null);
        };
        // A few arguments are held inline: a call per subject would
        // otherwise allocate a vector for them each time.
        let mut inline = [Value::Null, Value::Null, Value::Null, Value::Null];
        let mut spilled = Vec::new();
        for (i, a) in args.iter().enumerate() {
            let value = self.eval(a)?;
            match inline.get_mut(i) {
                Some(slot) => *slot = value,
                None => spilled.push(value),
            }
        }
        // Only now, so that the frame sits above anything evaluating the
        // arguments bound in the caller's frame.
        let caller = self.base;
        let callee = self.stack.len().max(caller);
        self.base = callee;
        let values = inline.into_iter().take(args.len()).chain(spilled);
        for (slot, (value, expr)) in values.zip(args).enumerate() {
            self.set_local(slot, value, Origin::Alias { expr, base: caller });
        }
        let result = self.eval(&def.body);
        self.stack.truncate(callee);
        self.origins.truncate(callee);
        self.base = caller;
        result
    }

    fn constant(&mut self, id: usize) -> Result<Value> {
        if let Some(Some(cached)) = self.consts.get(id) {
            return cached.clone();
        }
        let Some(def) = self.program.consts.get(id) else {
            return Ok(Value::Null);
        };
        let caller = self.base;
        let frame = self.stack.len().max(caller);
        self.base = frame;
        let result = self.eval(&def.value);
        self.stack.truncate(frame);
        self.origins.truncate(frame);
        self.base = caller;
        if let Some(slot) = self.consts.get_mut(id) {
            *slot = Some(result.clone());
        }
        result
    }
}

/// The value a local or a chain of field reads from one (`f.cve`,
/// `a.owner.team`) names, by reference; `nodes` counts the expressions on
/// the way. `None` when any step is missing or not an object.
fn place<'v>(m: &'v Machine<'_>, e: &Expr, nodes: &mut u64) -> Option<&'v Value> {
    *nodes += 1;
    match &e.kind {
        ExprKind::Local(slot) => m.stack.get(m.base + slot),
        ExprKind::Field { target, name, .. } => match place(m, target, nodes)? {
            Value::Object(map) => map.get(name),
            _ => None,
        },
        _ => None,
    }
}

/// The element positions a loop visits: the join's candidates, else all.
pub(crate) fn visit_order(
    candidates: Option<&[usize]>,
    len: usize,
) -> Box<dyn Iterator<Item = usize> + '_> {
    match candidates {
        Some(c) => Box::new(c.iter().copied()),
        None => Box::new(0..len),
    }
}

#[cfg(test)]
mod tests {
    use crate::{EvalOptions, Facts, Outcome, PolicySet};

    /// Outcome and messages of rule `r` over `{"present": [1]}`.
    fn run(require: &str, max_steps: u64) -> (Outcome, Vec<String>) {
        let src = format!("rule r {{\n  require {require}\n}}\n");
        let set = PolicySet::from_sources([("p.edict".to_string(), src)]).unwrap();
        let facts = Facts::from_json_str(r#"{"present": [1]}"#).unwrap();
        let options = EvalOptions {
            max_steps,
            ..EvalOptions::default()
        };
        let ev = set.evaluate(&facts, &options);
        let s = &ev.rules[0].subjects[0];
        (
            s.outcome,
            s.messages.iter().map(|m| m.text.clone()).collect(),
        )
    }

    #[test]
    fn an_absent_key_under_a_default_is_null_and_counts_its_step() {
        assert_eq!(run("count(absent ?? []) == 0", 100).0, Outcome::Pass);
        assert_eq!(run("count(present ?? []) == 1", 100).0, Outcome::Pass);
        // Without `??`, the key is missing, with a hint.
        let (outcome, messages) = run("count(presnt) == 1", 100);
        assert_eq!(outcome, Outcome::Error);
        assert!(
            messages[0].contains("did you mean `present`"),
            "{messages:?}"
        );
        // The budget still counts the key, and runs out on it.
        let steps = (1..20)
            .find(|&n| run("count(absent ?? []) == 0", n).0 == Outcome::Pass)
            .expect("passes within 20 steps");
        // Six, as when the absent key went through `eval` and its message.
        assert_eq!(steps, 6);
        let (outcome, messages) = run("count(absent ?? []) == 0", steps - 1);
        assert_eq!(outcome, Outcome::Error);
        assert!(messages[0].contains("budget"), "{messages:?}");
    }
}
