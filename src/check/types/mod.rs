//! The typed pass: with a `facts` schema, types flow from the facts through
//! `for` bindings, `let`s, field access and function calls (typed per call
//! site), and mistakes that would otherwise fail silently become errors.

use crate::builtins::Builtin;
use crate::diagnostic::Diagnostic;
use crate::eval::value::Value;
use crate::ir::{self, ExprKind, Loop, Program, Step, WaiverStep};
use crate::schema::{Schema, Shown, Ty};
use crate::source::Span;
use crate::syntax::ast::{BinOp, UnaryOp};

/// How deep calls of user functions are followed; recursion is rejected
/// elsewhere, this only bounds the work.
const MAX_CALL_DEPTH: usize = 16;

/// Types every rule, waiver and constant of the program against the schema.
pub fn check(program: &Program, schema: &Schema, diagnostics: &mut Vec<Diagnostic>) {
    let mut typer = Typer {
        program,
        schema,
        diagnostics,
        frame: Vec::new(),
        depth: 0,
        consts: vec![None; program.consts.len()],
    };
    for id in 0..program.consts.len() {
        typer.const_ty(id);
    }
    for rule in &program.rules {
        typer.frame = vec![Ty::Any; rule.frame_size];
        for step in &rule.steps {
            match step {
                Step::For(l) => typer.bind_loop(l),
                Step::Let { slot, value } => {
                    let ty = typer.expr(value);
                    typer.set(*slot, ty);
                }
                Step::Where(e) => {
                    typer.expr(e);
                }
            }
        }
        for e in rule.subject.iter().chain(rule.due.iter()) {
            typer.expr(e);
        }
        for r in &rule.requires {
            typer.require(r);
        }
        for w in &rule.waivers {
            typer.bind_loop(&w.from);
            for step in &w.steps {
                match step {
                    WaiverStep::Let { slot, value } => {
                        let ty = typer.expr(value);
                        typer.set(*slot, ty);
                    }
                    WaiverStep::Require(r) => typer.require(r),
                }
            }
        }
    }
}

struct Typer<'p, 'd> {
    program: &'p Program,
    schema: &'p Schema,
    diagnostics: &'d mut Vec<Diagnostic>,
    frame: Vec<Ty>,
    depth: usize,
    consts: Vec<Option<Ty>>,
}

/// The broad kind of a type, for operator checks; `None` when it is not one
/// known kind (any, a union of kinds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Bool,
    Number,
    Text,
    Date,
    Duration,
    List,
    Object,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Bool => "bool",
            Kind::Number => "number",
            Kind::Text => "string",
            Kind::Date => "date",
            Kind::Duration => "duration",
            Kind::List => "list",
            Kind::Object => "object",
        }
    }
}

fn kind(ty: &Ty) -> Option<Kind> {
    let mut found = None;
    for m in ty.non_null().members() {
        let k = match m {
            Ty::Bool => Kind::Bool,
            Ty::Int | Ty::Number => Kind::Number,
            Ty::Str | Ty::Lits(_) => Kind::Text,
            Ty::Date | Ty::DateTime => Kind::Date,
            Ty::Duration => Kind::Duration,
            Ty::List(_) => Kind::List,
            Ty::Record(_) => Kind::Object,
            Ty::Any | Ty::Null | Ty::Union(_) => return None,
        };
        match found {
            None => found = Some(k),
            Some(f) if f == k => {}
            Some(_) => return None,
        }
    }
    found
}

/// Whether values of the two kinds can ever be equal or ordered: strings
/// stand in for dates, since an ISO string is parsed where a date is needed.
fn comparable(a: Kind, b: Kind) -> bool {
    a == b || matches!((a, b), (Kind::Text, Kind::Date) | (Kind::Date, Kind::Text))
}

/// The type of `a op b` for arithmetic, or `None` when it can never work.
fn arithmetic(op: BinOp, a: Kind, b: Kind, lhs: &Ty, rhs: &Ty) -> Option<Ty> {
    use Kind::*;
    match (op, a, b) {
        (_, Number, Number) => Some(if lhs.non_null() == Ty::Int && rhs.non_null() == Ty::Int {
            Ty::Int
        } else {
            Ty::Number
        }),
        (BinOp::Add, Text, Text) => Some(Ty::Str),
        (BinOp::Add, List, List) => Some(lhs.non_null().or(rhs.non_null())),
        (BinOp::Add | BinOp::Sub, Date | Text, Duration) => Some(date_like(lhs)),
        (BinOp::Add, Duration, Date | Text) => Some(date_like(rhs)),
        (BinOp::Sub, Date, Date) | (BinOp::Sub, Date, Text) | (BinOp::Sub, Text, Date) => {
            Some(Ty::Duration)
        }
        (BinOp::Add | BinOp::Sub, Duration, Duration) => Some(Ty::Duration),
        (BinOp::Mul, Duration, Number) | (BinOp::Mul, Number, Duration) => Some(Ty::Duration),
        (BinOp::Div, Duration, Number) => Some(Ty::Duration),
        (BinOp::Div, Duration, Duration) => Some(Ty::Number),
        _ => None,
    }
}

/// "a date", "an object", "any value".
fn article(kind: &str) -> String {
    match kind {
        "any" => "any value".to_string(),
        k if k.starts_with(['a', 'e', 'i', 'o', 'u']) => format!("an {k}"),
        k => format!("a {k}"),
    }
}

fn date_like(ty: &Ty) -> Ty {
    match ty.non_null() {
        Ty::DateTime => Ty::DateTime,
        Ty::Date => Ty::Date,
        _ => Ty::Any,
    }
}

/// The type a builtin returns, from its argument types and signature.
fn builtin_ty(builtin: &Builtin, args: &[Ty]) -> Ty {
    let elem = || match args.first().map(Ty::non_null) {
        Some(Ty::List(t)) => *t,
        _ => Ty::Any,
    };
    match builtin.name {
        "min" | "max" => elem(),
        "first" => elem().or(Ty::Null),
        "sort" | "distinct" => args.first().map(Ty::non_null).unwrap_or(Ty::Any),
        _ => {
            let ret = builtin
                .signature
                .rsplit_once("->")
                .map(|(_, r)| r.trim())
                .unwrap_or("any");
            match ret {
                "int" => Ty::Int,
                "number" => Ty::Number,
                "string" => Ty::Str,
                "bool" => Ty::Bool,
                "date" => Ty::Date,
                "datetime" => Ty::DateTime,
                "duration" => Ty::Duration,
                "list" => Ty::List(Box::new(Ty::Any)),
                _ => Ty::Any,
            }
        }
    }
}

fn value_ty(v: &Value) -> Ty {
    match v {
        Value::Null => Ty::Null,
        Value::Bool(_) => Ty::Bool,
        Value::Int(_) => Ty::Int,
        Value::Float(_) => Ty::Number,
        Value::Str(s) => Ty::Lits(vec![s.clone()]),
        Value::Date(_) => Ty::Date,
        Value::DateTime(_) => Ty::DateTime,
        Value::Duration(_) => Ty::Duration,
        Value::List(items) => Ty::List(Box::new(Ty::union(items.iter().map(value_ty)))),
        Value::Object(_) => Ty::Any,
    }
}

impl Typer<'_, '_> {
    fn set(&mut self, slot: usize, ty: Ty) {
        if self.frame.len() <= slot {
            self.frame.resize(slot + 1, Ty::Any);
        }
        self.frame[slot] = ty;
    }

    fn show(&self, ty: &Ty) -> String {
        Shown(ty, self.schema).to_string()
    }

    fn const_ty(&mut self, id: usize) -> Ty {
        if let Some(Some(ty)) = self.consts.get(id) {
            return ty.clone();
        }
        let Some(def) = self.program.consts.get(id) else {
            return Ty::Any;
        };
        let saved = std::mem::take(&mut self.frame);
        let ty = self.expr(&def.value);
        self.frame = saved;
        if let Some(slot) = self.consts.get_mut(id) {
            *slot = Some(ty.clone());
        }
        ty
    }

    fn require(&mut self, r: &ir::RequireDef) {
        self.expr(&r.cond);
        if let Some(m) = &r.message {
            self.expr(m);
        }
    }

    fn bind_loop(&mut self, l: &Loop) {
        let source = self.expr(&l.source);
        let elem = match source.non_null() {
            Ty::List(t) => *t,
            _ => Ty::Any,
        };
        self.set(l.slot, elem);
        if let Some(f) = &l.filter {
            self.expr(f);
        }
    }

    fn expr(&mut self, e: &ir::Expr) -> Ty {
        match &e.kind {
            ExprKind::Value(v) => value_ty(v),
            ExprKind::Str(parts) => {
                for p in parts {
                    if let ir::StrPart::Expr(e) = p {
                        self.expr(e);
                    }
                }
                Ty::Str
            }
            ExprKind::List(items) => {
                let tys: Vec<Ty> = items.iter().map(|i| self.expr(i)).collect();
                Ty::List(Box::new(if tys.is_empty() {
                    Ty::Any
                } else {
                    Ty::union(tys)
                }))
            }
            ExprKind::Object(entries) => {
                for (_, v) in entries {
                    self.expr(v);
                }
                Ty::Any
            }
            ExprKind::Local(slot) => self.frame.get(*slot).cloned().unwrap_or(Ty::Any),
            ExprKind::Const(id) => self.const_ty(*id),
            ExprKind::Fact(id) => self
                .program
                .facts
                .get(*id)
                .and_then(|name| self.schema.facts.fields.get(name))
                .map(|f| f.read_ty())
                .unwrap_or(Ty::Any),
            ExprKind::Now => Ty::DateTime,
            ExprKind::Today => Ty::Date,
            ExprKind::Field { target, name, safe } => {
                let target_ty = self.expr(target);
                self.field(&target_ty, name, *safe, e.span)
            }
            ExprKind::Index { target, index } => {
                let target_ty = self.expr(target);
                let index_ty = self.expr(index);
                match (target_ty.non_null(), index_ty) {
                    (Ty::List(t), _) => t.or(Ty::Null),
                    (Ty::Record(r), Ty::Lits(keys)) if keys.len() == 1 => {
                        match self
                            .schema
                            .records
                            .get(r)
                            .and_then(|r| r.fields.get(&keys[0]))
                        {
                            Some(f) => f.read_ty(),
                            None => Ty::Any,
                        }
                    }
                    _ => Ty::Any,
                }
            }
            ExprKind::Call { func, args } => {
                let arg_tys: Vec<Ty> = args.iter().map(|a| self.expr(a)).collect();
                self.call(*func, arg_tys, e.span)
            }
            ExprKind::Builtin { builtin, args } => {
                let arg_tys: Vec<Ty> = args.iter().map(|a| self.expr(a)).collect();
                builtin_ty(builtin, &arg_tys)
            }
            ExprKind::Unary { op, operand } => {
                let t = self.expr(operand);
                match op {
                    UnaryOp::Not => Ty::Bool,
                    UnaryOp::Neg => t.non_null(),
                }
            }
            ExprKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs, e.span),
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => {
                self.expr(cond);
                let a = self.expr(then);
                let b = self.expr(otherwise);
                a.or(b)
            }
            ExprKind::Comprehension { elem, binding } => {
                self.bind_loop(binding);
                Ty::List(Box::new(self.expr(elem)))
            }
            ExprKind::Quantifier {
                slot, source, body, ..
            } => {
                let source = self.expr(source);
                let elem = match source.non_null() {
                    Ty::List(t) => *t,
                    _ => Ty::Any,
                };
                self.set(*slot, elem);
                self.expr(body);
                Ty::Bool
            }
        }
    }

    fn call(&mut self, func: usize, args: Vec<Ty>, span: Span) -> Ty {
        let Some(def) = self.program.fns.get(func) else {
            return Ty::Any;
        };
        if self.depth >= MAX_CALL_DEPTH || args.iter().all(|a| *a == Ty::Any) {
            return Ty::Any;
        }
        let mut frame = args;
        frame.resize(def.frame_size.max(frame.len()), Ty::Any);
        let saved = std::mem::replace(&mut self.frame, frame);
        let before = self.diagnostics.len();
        self.depth += 1;
        let ty = self.expr(&def.body);
        self.depth -= 1;
        self.frame = saved;
        for d in &mut self.diagnostics[before..] {
            if !d.related.iter().any(|(s, _)| *s == span) {
                d.related
                    .push((span, "with the arguments of this call".into()));
            }
        }
        ty
    }

    fn field(&mut self, target: &Ty, name: &str, safe: bool, span: Span) -> Ty {
        let name_span = Span {
            start: span.end.saturating_sub(name.len() as u32).max(span.start),
            ..span
        };
        let mut out = Vec::new();
        for member in target.non_null().members() {
            match member {
                Ty::Record(id) => {
                    let Some(record) = self.schema.records.get(*id) else {
                        return Ty::Any;
                    };
                    match record.fields.get(name) {
                        Some(f) => out.push(f.read_ty()),
                        None => {
                            let listed: Vec<&str> = record.fields.keys().map(|k| &**k).collect();
                            let help = match record.suggest(name) {
                                Some(s) => format!("did you mean `{s}`?"),
                                None => format!(
                                    "the fields of `{}` are {}",
                                    record.name,
                                    listed.join(", ")
                                ),
                            };
                            self.diagnostics.push(
                                Diagnostic::error(
                                    "E0403",
                                    name_span,
                                    format!("`{}` has no field `{name}`", record.name),
                                )
                                .with_label("unknown field")
                                .with_help(help),
                            );
                            return Ty::Any;
                        }
                    }
                }
                Ty::Any => return Ty::Any,
                other => {
                    let shown = self.show(other);
                    self.diagnostics.push(
                        Diagnostic::error(
                            "E0406",
                            name_span,
                            format!("a value of type `{shown}` has no field `{name}`"),
                        )
                        .with_label("not an object")
                        .with_help("only records declared with `type Name { … }` have fields"),
                    );
                    return Ty::Any;
                }
            }
        }
        let ty = Ty::union(out);
        if safe {
            ty.or(Ty::Null)
        } else {
            ty
        }
    }

    fn binary(&mut self, op: BinOp, lhs: &ir::Expr, rhs: &ir::Expr, span: Span) -> Ty {
        let a = self.expr(lhs);
        let b = self.expr(rhs);
        match op {
            BinOp::In | BinOp::NotIn => {
                // `f.severity in ["high", "critcal"]`: each literal must be possible.
                if let ExprKind::List(items) = &rhs.kind {
                    for item in items {
                        if let ExprKind::Value(v @ Value::Str(_)) = &item.kind {
                            self.literal_in_union(&a, &value_ty(v), item.span);
                        }
                    }
                }
                Ty::Bool
            }
            BinOp::And | BinOp::Or => Ty::Bool,
            BinOp::Coalesce => a.non_null().or(b),
            BinOp::Eq | BinOp::Ne => {
                if !self.literal_in_union(&a, &b, rhs.span) {
                    self.literal_in_union(&b, &a, lhs.span);
                } else {
                    self.compatible(op, &a, &b, span);
                }
                Ty::Bool
            }
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                if let (Some(ka), Some(kb)) = (kind(&a), kind(&b)) {
                    let orderable = !matches!(ka, Kind::Bool | Kind::List | Kind::Object);
                    if !comparable(ka, kb) || !orderable {
                        self.mismatch(op, &a, &b, span);
                    }
                }
                Ty::Bool
            }
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem => {
                match (kind(&a), kind(&b)) {
                    (Some(ka), Some(kb)) => match arithmetic(op, ka, kb, &a, &b) {
                        Some(t) => t,
                        None => {
                            self.mismatch(op, &a, &b, span);
                            Ty::Any
                        }
                    },
                    _ => Ty::Any,
                }
            }
        }
    }

    /// `field == "literal"` where the field is a union of literals that lacks
    /// it; returns false when it reported, true otherwise.
    fn literal_in_union(&mut self, field: &Ty, literal: &Ty, literal_span: Span) -> bool {
        let (Ty::Lits(allowed), Ty::Lits(lit)) = (field.non_null(), literal) else {
            return true;
        };
        let [lit] = lit.as_slice() else {
            return true;
        };
        if allowed.contains(lit) {
            return true;
        }
        let listed: Vec<String> = allowed.iter().map(|a| format!("\"{a}\"")).collect();
        let suggestion = crate::diagnostic::did_you_mean(lit, allowed.iter().map(|a| &**a));
        let help = match suggestion {
            Some(s) => format!(
                "did you mean \"{s}\"? the possible values are {}",
                listed.join(", ")
            ),
            None => format!("the possible values are {}", listed.join(", ")),
        };
        self.diagnostics.push(
            Diagnostic::error(
                "E0404",
                literal_span,
                format!("\"{lit}\" is not a possible value here, so the comparison never holds"),
            )
            .with_label("not one of the declared values")
            .with_help(help),
        );
        false
    }

    fn compatible(&mut self, op: BinOp, a: &Ty, b: &Ty, span: Span) {
        if let (Some(ka), Some(kb)) = (kind(a), kind(b)) {
            if !comparable(ka, kb) {
                self.mismatch(op, a, b, span);
            }
        }
    }

    fn mismatch(&mut self, op: BinOp, a: &Ty, b: &Ty, span: Span) {
        let (ka, kb) = (
            kind(a).map(Kind::name).unwrap_or("any"),
            kind(b).map(Kind::name).unwrap_or("any"),
        );
        let verb = match op {
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => "compare",
            BinOp::Add => "add",
            BinOp::Sub => "subtract",
            BinOp::Mul => "multiply",
            _ => "divide",
        };
        let help = match (ka, kb) {
            ("date", "number") | ("number", "date") => {
                "write the number as a duration (`30d`) or convert the date; dates and numbers never mix"
            }
            _ => "convert one side so both have the same type",
        };
        self.diagnostics.push(
            Diagnostic::error(
                "E0405",
                span,
                format!(
                    "cannot {verb} `{}` and `{}` with `{}`",
                    self.show(a),
                    self.show(b),
                    op.symbol()
                ),
            )
            .with_label(format!("{} {} {}", article(ka), op.symbol(), article(kb)))
            .with_help(help),
        );
    }
}
