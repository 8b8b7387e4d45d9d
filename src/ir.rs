//! The resolved program the evaluator runs: every name is a slot, a constant,
//! a function, a builtin or a facts key, decided once at compile time.

use chrono::NaiveDate;

use crate::builtins::Builtin;
use crate::eval::value::{Str, Value};
use crate::source::{SourceMap, Span};
use crate::syntax::ast::{BinOp, TestDecl, UnaryOp};

/// A compiled policy set.
#[derive(Debug, Default)]
pub struct Program {
    /// Every source, the standard library's included.
    pub sources: SourceMap,
    /// Constants, by id.
    pub consts: Vec<ConstDef>,
    /// User functions, by id.
    pub fns: Vec<FnDef>,
    /// Top-level facts keys the policy reads, by id.
    pub facts: Vec<Str>,
    /// Rules in source order.
    pub rules: Vec<RuleDef>,
    /// Waivers in source order.
    pub waivers: Vec<WaiverDef>,
    /// Test blocks, for `edict test`.
    pub tests: Vec<TestDecl>,
    /// The facts schema, when the policy set declares one.
    pub schema: Option<std::sync::Arc<crate::schema::Schema>>,
}

/// A named constant.
#[derive(Debug)]
pub struct ConstDef {
    /// Its qualified name (`time.WEEK` for a module's).
    pub name: Str,
    /// Its value's expression, evaluated once per evaluation.
    pub value: Expr,
    /// Its `///` comment.
    pub doc: Option<String>,
    /// The declaration.
    pub span: Span,
}

/// A user function.
#[derive(Debug)]
pub struct FnDef {
    /// Its qualified name.
    pub name: Str,
    /// Number of parameters; they occupy the first slots of its frame.
    pub arity: usize,
    /// Parameter names, for hovers and explanations.
    pub params: Vec<Str>,
    /// Slots its body needs, parameters included.
    pub frame_size: usize,
    /// The body.
    pub body: Expr,
    /// Its `///` comment.
    pub doc: Option<String>,
    /// The declaration.
    pub span: Span,
}

/// How bad a rule's failure is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational.
    Info,
    /// Low.
    Low,
    /// Medium: the default.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl Severity {
    /// Every severity, lowest first.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The name as written in policies.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Parses a severity name.
    pub fn parse(name: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// Whether a rule's failures fail the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Failures make the run non-compliant: the default.
    Mandatory,
    /// Failures are reported, never fail the run.
    Advisory,
}

/// A compiled rule.
#[derive(Debug)]
pub struct RuleDef {
    /// The rule's id.
    pub id: Str,
    /// `title`
    pub title: Option<String>,
    /// `severity`, default medium.
    pub severity: Severity,
    /// `level`, default mandatory.
    pub level: Level,
    /// `cite` lines.
    pub cites: Vec<String>,
    /// `tags`
    pub tags: Vec<String>,
    /// `remediation`
    pub remediation: Option<String>,
    /// `effective`: before this date, failures are advisory.
    pub effective: Option<NaiveDate>,
    /// Its `///` comment.
    pub doc: Option<String>,
    /// The whole declaration.
    pub span: Span,
    /// The rule's name where declared.
    pub name_span: Span,
    /// `for`, `let` and `where` clauses in order.
    pub steps: Vec<Step>,
    /// Slots of the `for` bindings, outermost first, for default subject names.
    pub for_slots: Vec<usize>,
    /// `subject`
    pub subject: Option<Expr>,
    /// `due`
    pub due: Option<Expr>,
    /// `require` clauses in order.
    pub requires: Vec<RequireDef>,
    /// Waivers that may waive this rule's failures, compiled in its scope.
    pub waivers: Vec<WaiverUse>,
    /// Slots one subject needs, waivers' included.
    pub frame_size: usize,
}

/// A clause that binds or filters.
#[derive(Debug)]
pub enum Step {
    /// `for x in source [where filter]`
    For(Loop),
    /// `let x = value`
    Let {
        /// Where the value goes.
        slot: usize,
        /// The value.
        value: Expr,
    },
    /// `where cond`
    Where(Expr),
}

/// An iteration: a rule's `for`, a waiver's `from`, or a comprehension's loop.
#[derive(Debug, Clone)]
pub struct Loop {
    /// Where each element goes.
    pub slot: usize,
    /// The collection.
    pub source: Expr,
    /// Elements that fail it are skipped.
    pub filter: Option<Expr>,
    /// The clause.
    pub span: Span,
}

/// A `require` clause.
#[derive(Debug)]
pub struct RequireDef {
    /// What must hold.
    pub cond: Expr,
    /// The `else` message.
    pub message: Option<Expr>,
    /// The condition's source text: the message when none is given.
    pub text: String,
    /// The whole clause.
    pub span: Span,
}

/// A waiver declaration's metadata.
#[derive(Debug)]
pub struct WaiverDef {
    /// Its name.
    pub name: Str,
    /// `title`
    pub title: Option<String>,
    /// Its `///` comment.
    pub doc: Option<String>,
    /// The whole declaration.
    pub span: Span,
}

/// A waiver compiled into the scope of one rule it applies to.
#[derive(Debug)]
pub struct WaiverUse {
    /// Which waiver.
    pub waiver: usize,
    /// `from e in register where …`
    pub from: Loop,
    /// Whether the register does not depend on the rule's bindings, so it can
    /// be listed once for register hygiene.
    pub register_is_global: bool,
    /// `let`s and `require`s in order.
    pub steps: Vec<WaiverStep>,
}

/// A clause of a waiver.
#[derive(Debug)]
pub enum WaiverStep {
    /// `let x = value`
    Let {
        /// Where the value goes.
        slot: usize,
        /// The value.
        value: Expr,
    },
    /// `require cond else message`
    Require(RequireDef),
}

/// A resolved expression.
#[derive(Debug, Clone)]
pub struct Expr {
    /// What kind.
    pub kind: ExprKind,
    /// Where it is written.
    pub span: Span,
}

/// The kinds of resolved expressions.
#[derive(Debug, Clone)]
pub enum ExprKind {
    /// A literal or folded constant.
    Value(Value),
    /// An interpolated string.
    Str(Vec<StrPart>),
    /// `[a, b]`
    List(Vec<Expr>),
    /// `{ k: v }`
    Object(Vec<(Str, Expr)>),
    /// A local variable in the current frame.
    Local(usize),
    /// A constant, by id.
    Const(usize),
    /// A top-level facts key, by id.
    Fact(usize),
    /// The evaluation instant.
    Now,
    /// The evaluation date.
    Today,
    /// `target.name`, `target?.name`
    Field {
        /// The object.
        target: Box<Expr>,
        /// The field.
        name: Str,
        /// A missing field is null rather than an error.
        safe: bool,
    },
    /// `target[index]`
    Index {
        /// The list or object.
        target: Box<Expr>,
        /// The index or key.
        index: Box<Expr>,
    },
    /// A call of a user function.
    Call {
        /// The function's id.
        func: usize,
        /// The arguments.
        args: Vec<Expr>,
    },
    /// A call of a Rust builtin.
    Builtin {
        /// The builtin.
        builtin: &'static Builtin,
        /// The arguments.
        args: Vec<Expr>,
    },
    /// `not x`, `-x`
    Unary {
        /// The operator.
        op: UnaryOp,
        /// The operand.
        operand: Box<Expr>,
    },
    /// `a op b`
    Binary {
        /// The operator.
        op: BinOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// `if c then a else b`
    If {
        /// The condition.
        cond: Box<Expr>,
        /// When true.
        then: Box<Expr>,
        /// When false.
        otherwise: Box<Expr>,
    },
    /// `[elem for x in source where filter]`
    Comprehension {
        /// The produced element.
        elem: Box<Expr>,
        /// The loop.
        binding: Box<Loop>,
    },
    /// `any x in xs: body`, `all x in xs: body`
    Quantifier {
        /// `all` rather than `any`.
        all: bool,
        /// Where each element goes.
        slot: usize,
        /// The collection.
        source: Box<Expr>,
        /// The condition.
        body: Box<Expr>,
    },
}

/// A piece of an interpolated string.
#[derive(Debug, Clone)]
pub enum StrPart {
    /// Literal text.
    Text(String),
    /// `{expr}`
    Expr(Expr),
}

impl Expr {
    /// Whether the expression reads no facts, locals or clock, so it can be
    /// evaluated at compile time.
    pub fn is_constant(&self, program: &Program) -> bool {
        let mut constant = true;
        self.visit(&mut |e| match &e.kind {
            ExprKind::Local(_) | ExprKind::Fact(_) | ExprKind::Now | ExprKind::Today => {
                constant = false
            }
            ExprKind::Const(id) => {
                if let Some(c) = program.consts.get(*id) {
                    constant &= c.value.is_constant(program);
                }
            }
            ExprKind::Call { .. } => constant = false,
            _ => {}
        });
        constant
    }

    /// Calls `f` on this expression and every subexpression.
    pub fn visit(&self, f: &mut impl FnMut(&Expr)) {
        f(self);
        match &self.kind {
            ExprKind::Value(_)
            | ExprKind::Local(_)
            | ExprKind::Const(_)
            | ExprKind::Fact(_)
            | ExprKind::Now
            | ExprKind::Today => {}
            ExprKind::Str(parts) => {
                for part in parts {
                    if let StrPart::Expr(e) = part {
                        e.visit(f);
                    }
                }
            }
            ExprKind::List(items) => items.iter().for_each(|e| e.visit(f)),
            ExprKind::Object(entries) => entries.iter().for_each(|(_, e)| e.visit(f)),
            ExprKind::Field { target, .. } => target.visit(f),
            ExprKind::Index { target, index } => {
                target.visit(f);
                index.visit(f);
            }
            ExprKind::Call { args, .. } | ExprKind::Builtin { args, .. } => {
                args.iter().for_each(|e| e.visit(f))
            }
            ExprKind::Unary { operand, .. } => operand.visit(f),
            ExprKind::Binary { lhs, rhs, .. } => {
                lhs.visit(f);
                rhs.visit(f);
            }
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => {
                cond.visit(f);
                then.visit(f);
                otherwise.visit(f);
            }
            ExprKind::Comprehension { elem, binding } => {
                binding.source.visit(f);
                if let Some(filter) = &binding.filter {
                    filter.visit(f);
                }
                elem.visit(f);
            }
            ExprKind::Quantifier { source, body, .. } => {
                source.visit(f);
                body.visit(f);
            }
        }
    }
}
