//! The syntax tree: what a policy file says, with a span on every node.

use chrono::{DateTime, NaiveDate, Utc};

use crate::eval::value::{Duration, Str};
use crate::source::Span;

/// A name as written, with where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    /// The name.
    pub name: Str,
    /// Where it is.
    pub span: Span,
}

/// One parsed policy file.
#[derive(Clone, Debug)]
pub struct File {
    /// Its declarations, in source order.
    pub decls: Vec<Decl>,
}

/// A top-level declaration.
#[derive(Clone, Debug)]
pub enum Decl {
    /// `use std.NAME`
    Use(UseDecl),
    /// `const NAME = expr`
    Const(ConstDecl),
    /// `fn name(params) = expr`
    Fn(FnDecl),
    /// `facts { … }`
    Facts(FactsDecl),
    /// `type Name …`
    Type(TypeDecl),
    /// `rule name { … }`
    Rule(RuleDecl),
    /// `waiver name for rules { … }`
    Waiver(WaiverDecl),
    /// `test "name" { … }`
    Test(TestDecl),
}

impl Decl {
    /// The declared name, if the declaration has one in the shared namespace.
    pub fn name(&self) -> Option<&Ident> {
        match self {
            Decl::Const(d) => Some(&d.name),
            Decl::Fn(d) => Some(&d.name),
            Decl::Type(d) => Some(&d.name),
            Decl::Rule(d) => Some(&d.name),
            Decl::Waiver(d) => Some(&d.name),
            Decl::Use(_) | Decl::Facts(_) | Decl::Test(_) => None,
        }
    }

    /// The whole declaration's span.
    pub fn span(&self) -> Span {
        match self {
            Decl::Use(d) => d.span,
            Decl::Const(d) => d.span,
            Decl::Fn(d) => d.span,
            Decl::Facts(d) => d.span,
            Decl::Type(d) => d.span,
            Decl::Rule(d) => d.span,
            Decl::Waiver(d) => d.span,
            Decl::Test(d) => d.span,
        }
    }
}

/// `use std.time`
#[derive(Clone, Debug)]
pub struct UseDecl {
    /// The dotted path, e.g. `std.time`.
    pub path: Ident,
    /// The whole declaration.
    pub span: Span,
}

/// `const NAME = expr`
#[derive(Clone, Debug)]
pub struct ConstDecl {
    /// The `///` comment above it.
    pub doc: Option<String>,
    /// Its name.
    pub name: Ident,
    /// Its value.
    pub value: Expr,
    /// The whole declaration.
    pub span: Span,
}

/// `fn name(a, b) = body`
#[derive(Clone, Debug)]
pub struct FnDecl {
    /// The `///` comment above it.
    pub doc: Option<String>,
    /// Its name.
    pub name: Ident,
    /// Parameter names.
    pub params: Vec<Ident>,
    /// The body.
    pub body: Expr,
    /// The whole declaration.
    pub span: Span,
}

/// `facts { … }`: the schema of the facts document.
#[derive(Clone, Debug)]
pub struct FactsDecl {
    /// The top-level keys.
    pub fields: Vec<FieldDecl>,
    /// The whole declaration.
    pub span: Span,
}

/// `type Name { … }` or `type Name = …`
#[derive(Clone, Debug)]
pub struct TypeDecl {
    /// The `///` comment above it.
    pub doc: Option<String>,
    /// Its name.
    pub name: Ident,
    /// What it stands for.
    pub body: TypeBody,
    /// The whole declaration.
    pub span: Span,
}

/// The right-hand side of a type declaration.
#[derive(Clone, Debug)]
pub enum TypeBody {
    /// A record with named fields.
    Record(Vec<FieldDecl>),
    /// An alias or union.
    Alias(TypeExpr),
}

/// `name?: Type` in a record or the facts schema.
#[derive(Clone, Debug)]
pub struct FieldDecl {
    /// The field's name.
    pub name: Ident,
    /// Whether the field may be absent or null.
    pub optional: bool,
    /// Its type.
    pub ty: TypeExpr,
}

/// A type as written.
#[derive(Clone, Debug)]
pub struct TypeExpr {
    /// The members of the union (one for a plain type).
    pub members: Vec<TypeAtom>,
    /// Where it is.
    pub span: Span,
}

/// One member of a type union.
#[derive(Clone, Debug)]
pub struct TypeAtom {
    /// What kind of type.
    pub kind: TypeAtomKind,
    /// Whether `?` follows it (it may be null).
    pub nullable: bool,
    /// Where it is.
    pub span: Span,
}

/// The kinds of type members.
#[derive(Clone, Debug)]
pub enum TypeAtomKind {
    /// A built-in or declared type name.
    Named(Ident),
    /// `[T]`
    List(Box<TypeExpr>),
    /// A string literal, as a member of an enumeration.
    Literal(String),
}

/// Rule metadata clauses.
#[derive(Clone, Debug, Default)]
pub struct RuleMeta {
    /// `title …`
    pub title: Option<Expr>,
    /// `severity …`
    pub severity: Option<Ident>,
    /// `level …`
    pub level: Option<Ident>,
    /// `cite …`, repeatable.
    pub cites: Vec<Expr>,
    /// `tags […]`
    pub tags: Option<Expr>,
    /// `remediation …`
    pub remediation: Option<Expr>,
    /// `effective …`
    pub effective: Option<Expr>,
}

/// `rule name { … }`
#[derive(Clone, Debug)]
pub struct RuleDecl {
    /// The `///` comment above it.
    pub doc: Option<String>,
    /// Its id.
    pub name: Ident,
    /// Title, severity, citations and the like.
    pub meta: RuleMeta,
    /// The evaluation clauses in source order.
    pub body: Vec<Clause>,
    /// The whole declaration.
    pub span: Span,
}

/// A clause that takes part in evaluation.
#[derive(Clone, Debug)]
pub enum Clause {
    /// `for var in source [where filter]`
    For(Binding),
    /// `let var = value`
    Let {
        /// The bound name.
        var: Ident,
        /// Its value.
        value: Expr,
    },
    /// `where cond`
    Where(Expr),
    /// `subject expr`
    Subject(Expr),
    /// `due expr`
    Due(Expr),
    /// `require cond [else message]`
    Require(Require),
}

/// `for var in source [where filter]`, and a waiver's `from`.
#[derive(Clone, Debug)]
pub struct Binding {
    /// The bound name.
    pub var: Ident,
    /// The collection iterated.
    pub source: Expr,
    /// The optional filter.
    pub filter: Option<Expr>,
    /// The whole clause.
    pub span: Span,
}

/// `require cond [else message]`
#[derive(Clone, Debug)]
pub struct Require {
    /// What must hold.
    pub cond: Expr,
    /// The message when it does not.
    pub message: Option<Expr>,
    /// The whole clause.
    pub span: Span,
}

/// `waiver name for rules { … }`
#[derive(Clone, Debug)]
pub struct WaiverDecl {
    /// The `///` comment above it.
    pub doc: Option<String>,
    /// Its name.
    pub name: Ident,
    /// The rules it may waive.
    pub rules: Vec<Ident>,
    /// `title …`
    pub title: Option<Expr>,
    /// `from e in register where …`
    pub from: Option<Binding>,
    /// `let` and `require` clauses in order.
    pub body: Vec<Clause>,
    /// The whole declaration.
    pub span: Span,
}

/// `test "name" { … }`
#[derive(Clone, Debug)]
pub struct TestDecl {
    /// The test's description.
    pub name: String,
    /// `now …`
    pub now: Option<Expr>,
    /// Inline facts and `facts from` files, in order.
    pub facts: Vec<TestFacts>,
    /// The expectations.
    pub expects: Vec<Expect>,
    /// The whole declaration.
    pub span: Span,
}

/// Where a test's facts come from.
#[derive(Clone, Debug)]
pub enum TestFacts {
    /// `facts { key: value … }`
    Inline(Vec<(Ident, Expr)>),
    /// `facts from "file"`
    File {
        /// The path as written, relative to the test's file.
        path: String,
        /// Where it is written.
        span: Span,
    },
}

/// `expect rule outcome [subject | count n]`
#[derive(Clone, Debug)]
pub struct Expect {
    /// The rule.
    pub rule: Ident,
    /// `pass`, `fail`, `waived` or `error`.
    pub outcome: Ident,
    /// A subject name, or a count.
    pub target: ExpectTarget,
    /// The whole clause.
    pub span: Span,
}

/// What an expectation is about.
#[derive(Clone, Debug)]
pub enum ExpectTarget {
    /// At least one subject has the outcome.
    Any,
    /// This subject has the outcome.
    Subject(String),
    /// Exactly this many subjects have the outcome.
    Count(Expr),
}

/// An expression.
#[derive(Clone, Debug)]
pub struct Expr {
    /// What kind.
    pub kind: ExprKind,
    /// Where it is.
    pub span: Span,
}

/// The kinds of expressions.
#[derive(Clone, Debug)]
pub enum ExprKind {
    /// `null`
    Null,
    /// `true`, `false`
    Bool(bool),
    /// An integer literal.
    Int(i64),
    /// A decimal literal.
    Float(f64),
    /// A date literal.
    Date(NaiveDate),
    /// A datetime literal.
    DateTime(DateTime<Utc>),
    /// A duration literal.
    Duration(Duration),
    /// A string, possibly interpolated.
    Str(Vec<StrPart>),
    /// `[a, b]`
    List(Vec<Expr>),
    /// `{ k: v }`
    Object(Vec<(Ident, Expr)>),
    /// A name.
    Name(Str),
    /// `target.name` or `target?.name`
    Field {
        /// The object.
        target: Box<Expr>,
        /// The field.
        name: Ident,
        /// `?.`: a missing field is null.
        safe: bool,
    },
    /// `target[index]`
    Index {
        /// The list or object.
        target: Box<Expr>,
        /// The index or key.
        index: Box<Expr>,
    },
    /// `callee(args)`
    Call {
        /// The function.
        callee: Box<Expr>,
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
        /// Value when true.
        then: Box<Expr>,
        /// Value when false.
        otherwise: Box<Expr>,
    },
    /// `[elem for var in source where filter]`
    Comprehension {
        /// The produced element.
        elem: Box<Expr>,
        /// The loop.
        binding: Box<Binding>,
    },
    /// `any x in xs: cond`, `all x in xs: cond`
    Quantifier {
        /// `all` rather than `any`.
        all: bool,
        /// The bound name.
        var: Ident,
        /// The collection.
        source: Box<Expr>,
        /// The condition.
        body: Box<Expr>,
    },
}

/// A piece of a string literal.
#[derive(Clone, Debug)]
pub enum StrPart {
    /// Literal text, escapes resolved.
    Text(String),
    /// `{expr}`
    Expr(Expr),
}

/// Prefix operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    /// `not`
    Not,
    /// `-`
    Neg,
}

/// Infix operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `??`
    Coalesce,
    /// `or`
    Or,
    /// `and`
    And,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `in`
    In,
    /// `not in`
    NotIn,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
}

impl BinOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Coalesce => "??",
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::In => "in",
            BinOp::NotIn => "not in",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
        }
    }
}
