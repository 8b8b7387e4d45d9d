//! pest pairs to the typed syntax tree, one `lower_*` method per grammar rule.

use std::sync::{Arc, LazyLock};

use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};

use super::ast::*;
use super::{doc_comment_before, Rule};
use crate::diagnostic::Diagnostic;
use crate::eval::value::{parse_date, parse_datetime, Duration, DAY};
use crate::source::{SourceId, Span};

/// Operator precedence, loosest first (LANGUAGE.md "Expressions").
static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::op_coalesce, Assoc::Left))
        .op(Op::infix(Rule::op_or, Assoc::Left))
        .op(Op::infix(Rule::op_and, Assoc::Left))
        .op(Op::prefix(Rule::op_not))
        .op(Op::infix(Rule::op_eq, Assoc::Left)
            | Op::infix(Rule::op_ne, Assoc::Left)
            | Op::infix(Rule::op_lt, Assoc::Left)
            | Op::infix(Rule::op_le, Assoc::Left)
            | Op::infix(Rule::op_gt, Assoc::Left)
            | Op::infix(Rule::op_ge, Assoc::Left)
            | Op::infix(Rule::op_in, Assoc::Left)
            | Op::infix(Rule::op_not_in, Assoc::Left))
        .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
        .op(Op::infix(Rule::op_mul, Assoc::Left)
            | Op::infix(Rule::op_div, Assoc::Left)
            | Op::infix(Rule::op_rem, Assoc::Left))
        .op(Op::prefix(Rule::op_neg))
        .op(Op::postfix(Rule::field)
            | Op::postfix(Rule::safe_field)
            | Op::postfix(Rule::index)
            | Op::postfix(Rule::call))
});

/// Turns pairs of one source into syntax, collecting diagnostics as it goes.
pub(super) struct Lowerer<'t> {
    id: SourceId,
    text: &'t str,
    /// Where the parsed text starts in `text`, when a part of it is parsed alone.
    base: usize,
    /// Problems found while lowering (bad literals).
    pub diagnostics: Vec<Diagnostic>,
    /// `if` and `any`/`all` expressions around the one being lowered.
    branching: usize,
}

impl<'t> Lowerer<'t> {
    pub fn new(id: SourceId, text: &'t str) -> Self {
        Lowerer {
            id,
            text,
            base: 0,
            diagnostics: Vec::new(),
            branching: 0,
        }
    }

    /// A lowerer for a part of `text` starting at byte `base`, parsed on its own.
    pub fn at(id: SourceId, text: &'t str, base: usize) -> Self {
        Lowerer {
            base,
            ..Lowerer::new(id, text)
        }
    }

    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        Span::new(self.id, self.base + s.start(), self.base + s.end())
    }

    fn ident(&self, pair: Pair<'_, Rule>) -> Ident {
        Ident {
            name: Arc::from(pair.as_str()),
            span: self.span(&pair),
        }
    }

    fn doc(&self, pair: &Pair<'_, Rule>) -> Option<String> {
        doc_comment_before(self.text, self.base + pair.as_span().start())
    }

    pub fn file(&mut self, mut pairs: Pairs<'_, Rule>) -> File {
        let mut decls = Vec::new();
        if let Some(file) = pairs.next() {
            for pair in file.into_inner() {
                if let Some(decl) = self.decl(pair) {
                    decls.push(decl);
                }
            }
        }
        File { decls }
    }

    fn decl(&mut self, pair: Pair<'_, Rule>) -> Option<Decl> {
        let span = self.span(&pair);
        let doc = self.doc(&pair);
        let rule = pair.as_rule();
        let mut inner = pair.into_inner().filter(|p| !is_keyword(p.as_rule()));
        Some(match rule {
            Rule::use_decl => Decl::Use(UseDecl {
                path: self.ident(inner.next()?),
                span,
            }),
            Rule::const_decl => Decl::Const(ConstDecl {
                doc,
                name: self.ident(inner.next()?),
                value: self.expr(inner.next()?),
                span,
            }),
            Rule::fn_decl => {
                let name = self.ident(inner.next()?);
                let mut params = Vec::new();
                let mut body = None;
                for p in inner {
                    match p.as_rule() {
                        Rule::params => params = p.into_inner().map(|i| self.ident(i)).collect(),
                        _ => body = Some(self.expr(p)),
                    }
                }
                Decl::Fn(FnDecl {
                    doc,
                    name,
                    params,
                    body: body?,
                    span,
                })
            }
            Rule::facts_decl => Decl::Facts(FactsDecl {
                fields: inner.map(|f| self.field_decl(f)).collect(),
                span,
            }),
            Rule::type_decl => {
                let name = self.ident(inner.next()?);
                let body_pair = inner.next()?;
                let body = match body_pair.as_rule() {
                    Rule::record_type => TypeBody::Record(
                        body_pair.into_inner().map(|f| self.field_decl(f)).collect(),
                    ),
                    _ => TypeBody::Alias(self.type_expr(body_pair)),
                };
                Decl::Type(TypeDecl {
                    doc,
                    name,
                    body,
                    span,
                })
            }
            Rule::rule_decl => Decl::Rule(self.rule_decl(inner, doc, span)?),
            Rule::waiver_decl => Decl::Waiver(self.waiver_decl(inner, doc, span)?),
            Rule::test_decl => Decl::Test(self.test_decl(inner, span)?),
            _ => return None,
        })
    }

    fn field_decl(&mut self, pair: Pair<'_, Rule>) -> FieldDecl {
        let mut name = None;
        let mut optional = false;
        let mut ty = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::field_name => {
                    let span = self.span(&p);
                    name = p.into_inner().next().map(|inner| match inner.as_rule() {
                        Rule::string => Ident {
                            name: Arc::from(self.plain_string(inner).as_str()),
                            span,
                        },
                        _ => self.ident(inner),
                    });
                }
                Rule::optional_mark => optional = true,
                Rule::type_expr => ty = Some(self.type_expr(p)),
                _ => {}
            }
        }
        let fallback = Span::new(self.id, self.base, self.base);
        FieldDecl {
            name: name.unwrap_or(Ident {
                name: Arc::from(""),
                span: fallback,
            }),
            optional,
            ty: ty.unwrap_or(TypeExpr {
                members: Vec::new(),
                span: fallback,
            }),
        }
    }

    fn type_expr(&mut self, pair: Pair<'_, Rule>) -> TypeExpr {
        let span = self.span(&pair);
        let members = pair
            .into_inner()
            .filter_map(|atom| {
                let span = self.span(&atom);
                let mut nullable = false;
                let mut kind = None;
                for p in atom.into_inner() {
                    match p.as_rule() {
                        Rule::nullable_mark => nullable = true,
                        Rule::list_type => {
                            let inner = p.into_inner().next()?;
                            kind = Some(TypeAtomKind::List(Box::new(self.type_expr(inner))));
                        }
                        Rule::string => kind = Some(TypeAtomKind::Literal(self.plain_string(p))),
                        _ => kind = Some(TypeAtomKind::Named(self.ident(p))),
                    }
                }
                Some(TypeAtom {
                    kind: kind?,
                    nullable,
                    span,
                })
            })
            .collect();
        TypeExpr { members, span }
    }

    fn rule_decl<'i>(
        &mut self,
        mut inner: impl Iterator<Item = Pair<'i, Rule>>,
        doc: Option<String>,
        span: Span,
    ) -> Option<RuleDecl> {
        let name = self.ident(inner.next()?);
        let mut meta = RuleMeta::default();
        let mut body = Vec::new();
        for clause in inner {
            let clause_span = self.span(&clause);
            let rule = clause.as_rule();
            let mut parts = clause.into_inner().filter(|p| !is_keyword(p.as_rule()));
            match rule {
                Rule::title_clause => meta.title = Some(self.expr(parts.next()?)),
                Rule::severity_clause => meta.severity = Some(self.ident(parts.next()?)),
                Rule::level_clause => meta.level = Some(self.ident(parts.next()?)),
                Rule::cite_clause => meta.cites.push(self.expr(parts.next()?)),
                Rule::tags_clause => meta.tags = Some(self.expr(parts.next()?)),
                Rule::remediation_clause => meta.remediation = Some(self.expr(parts.next()?)),
                Rule::effective_clause => meta.effective = Some(self.expr(parts.next()?)),
                Rule::for_clause => body.push(Clause::For(self.binding(parts, clause_span)?)),
                Rule::let_clause => body.push(Clause::Let {
                    var: self.ident(parts.next()?),
                    value: self.expr(parts.next()?),
                }),
                Rule::where_clause => body.push(Clause::Where(self.expr(parts.next()?))),
                Rule::subject_clause => body.push(Clause::Subject(self.expr(parts.next()?))),
                Rule::due_clause => body.push(Clause::Due(self.expr(parts.next()?))),
                Rule::require_clause => {
                    body.push(Clause::Require(self.require(parts, clause_span)?))
                }
                _ => {}
            }
        }
        Some(RuleDecl {
            doc,
            name,
            meta,
            body,
            span,
        })
    }

    fn binding<'i>(
        &mut self,
        mut parts: impl Iterator<Item = Pair<'i, Rule>>,
        span: Span,
    ) -> Option<Binding> {
        let var = self.ident(parts.next()?);
        let source = self.expr(parts.next()?);
        let filter = parts.next().map(|p| self.expr(p));
        Some(Binding {
            var,
            source,
            filter,
            span,
        })
    }

    fn require<'i>(
        &mut self,
        mut parts: impl Iterator<Item = Pair<'i, Rule>>,
        span: Span,
    ) -> Option<Require> {
        let cond = self.expr(parts.next()?);
        let message = parts.next().map(|p| self.expr(p));
        Some(Require {
            cond,
            message,
            span,
        })
    }

    fn waiver_decl<'i>(
        &mut self,
        mut inner: impl Iterator<Item = Pair<'i, Rule>>,
        doc: Option<String>,
        span: Span,
    ) -> Option<WaiverDecl> {
        let name = self.ident(inner.next()?);
        let mut rules = Vec::new();
        let mut title = None;
        let mut from = None;
        let mut body = Vec::new();
        for p in inner {
            let clause_span = self.span(&p);
            let rule = p.as_rule();
            match rule {
                Rule::ident => rules.push(self.ident(p)),
                _ => {
                    let mut parts = p.into_inner().filter(|p| !is_keyword(p.as_rule()));
                    match rule {
                        Rule::title_clause => title = Some(self.expr(parts.next()?)),
                        Rule::from_clause => from = Some(self.binding(parts, clause_span)?),
                        Rule::let_clause => body.push(Clause::Let {
                            var: self.ident(parts.next()?),
                            value: self.expr(parts.next()?),
                        }),
                        Rule::require_clause => {
                            body.push(Clause::Require(self.require(parts, clause_span)?))
                        }
                        _ => {}
                    }
                }
            }
        }
        Some(WaiverDecl {
            doc,
            name,
            rules,
            title,
            from,
            body,
            span,
        })
    }

    fn test_decl<'i>(
        &mut self,
        mut inner: impl Iterator<Item = Pair<'i, Rule>>,
        span: Span,
    ) -> Option<TestDecl> {
        let name = self.plain_string(inner.next()?);
        let mut now = None;
        let mut facts = Vec::new();
        let mut expects = Vec::new();
        for clause in inner {
            let clause_span = self.span(&clause);
            let rule = clause.as_rule();
            let mut parts = clause.into_inner().filter(|p| !is_keyword(p.as_rule()));
            match rule {
                Rule::now_clause => now = Some(self.expr(parts.next()?)),
                Rule::facts_from_clause => {
                    let p = parts.next()?;
                    let path_span = self.span(&p);
                    facts.push(TestFacts::File {
                        path: self.plain_string(p),
                        span: path_span,
                    });
                }
                Rule::facts_block => {
                    let entries = parts.filter_map(|e| self.object_entry(e)).collect();
                    facts.push(TestFacts::Inline(entries));
                }
                Rule::expect_clause => {
                    let rule_name = self.ident(parts.next()?);
                    let outcome = self.ident(parts.next()?);
                    let target = match parts.next() {
                        None => ExpectTarget::Any,
                        Some(p) if p.as_rule() == Rule::string => {
                            ExpectTarget::Subject(self.plain_string(p))
                        }
                        Some(p) => ExpectTarget::Count(self.expr(p)),
                    };
                    expects.push(Expect {
                        rule: rule_name,
                        outcome,
                        target,
                        span: clause_span,
                    });
                }
                _ => {}
            }
        }
        Some(TestDecl {
            name,
            now,
            facts,
            expects,
            span,
        })
    }

    fn object_entry(&mut self, pair: Pair<'_, Rule>) -> Option<(Ident, Expr)> {
        let mut parts = pair.into_inner();
        let key = parts.next()?;
        let key = match key.as_rule() {
            Rule::string => {
                let span = self.span(&key);
                Ident {
                    name: Arc::from(self.plain_string(key).as_str()),
                    span,
                }
            }
            _ => self.ident(key),
        };
        Some((key, self.expr(parts.next()?)))
    }

    /// A string literal's text; interpolations are kept as written.
    fn plain_string(&mut self, pair: Pair<'_, Rule>) -> String {
        let mut out = String::new();
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::escape => out.push(unescape(part.as_str())),
                _ => out.push_str(part.as_str()),
            }
        }
        out
    }

    /// Lowers an `expr` pair (or any expression-producing pair).
    pub fn expr(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::expr => match pair.into_inner().next() {
                Some(inner) => self.expr(inner),
                None => self.placeholder(span),
            },
            Rule::if_expr | Rule::quantifier if self.branching >= super::MAX_OPERATORS => {
                // `else if` chains and nested `any`/`all` need no brackets, so
                // the bracket limit does not bound them; unbounded, the
                // recursive passes after this one exhaust the stack.
                self.diagnostics.push(
                    Diagnostic::error(
                        "E0008",
                        span,
                        format!(
                            "`if` and `any`/`all` nest more than {} levels deep",
                            super::MAX_OPERATORS
                        ),
                    )
                    .with_label("this expression")
                    .with_help("name intermediate values with `let`, `const` or `fn`"),
                );
                self.placeholder(span)
            }
            Rule::if_expr | Rule::quantifier => {
                self.branching += 1;
                let lowered = self.branch(pair, span);
                self.branching -= 1;
                lowered
            }
            Rule::operation => self.operation(pair.into_inner()),
            _ => self.operand(pair),
        }
    }

    /// Lowers an `if` or a quantifier.
    fn branch(&mut self, pair: Pair<'_, Rule>, span: Span) -> Expr {
        match pair.as_rule() {
            Rule::if_expr => {
                let mut parts = pair.into_inner().filter(|p| !is_keyword(p.as_rule()));
                let (Some(c), Some(t), Some(o)) = (parts.next(), parts.next(), parts.next()) else {
                    return self.placeholder(span);
                };
                Expr {
                    kind: ExprKind::If {
                        cond: Box::new(self.expr(c)),
                        then: Box::new(self.expr(t)),
                        otherwise: Box::new(self.expr(o)),
                    },
                    span,
                }
            }
            Rule::quantifier => {
                let mut parts = pair.into_inner().filter(|p| p.as_rule() != Rule::kw_in);
                let (Some(q), Some(v), Some(s), Some(b)) =
                    (parts.next(), parts.next(), parts.next(), parts.next())
                else {
                    return self.placeholder(span);
                };
                Expr {
                    kind: ExprKind::Quantifier {
                        all: q.as_rule() == Rule::kw_all,
                        var: self.ident(v),
                        source: Box::new(self.expr(s)),
                        body: Box::new(self.expr(b)),
                    },
                    span,
                }
            }
            _ => self.placeholder(span),
        }
    }

    fn placeholder(&self, span: Span) -> Expr {
        Expr {
            kind: ExprKind::Null,
            span,
        }
    }

    fn operation(&mut self, pairs: Pairs<'_, Rule>) -> Expr {
        // Most operations are one operand: what the Pratt parser would return,
        // without setting it up.
        let mut single = pairs.clone();
        if let (Some(only), None) = (single.next(), single.next()) {
            return self.operand(only);
        }
        let operators = pairs
            .clone()
            .filter(|p| {
                !matches!(
                    p.as_rule(),
                    Rule::field | Rule::safe_field | Rule::index | Rule::call
                )
            })
            .count()
            / 2;
        if operators > super::MAX_OPERATORS {
            let span = pairs
                .clone()
                .next()
                .map(|p| self.span(&p))
                .unwrap_or_else(|| Span::new(self.id, 0, 0));
            self.diagnostics.push(
                Diagnostic::error(
                    "E0008",
                    span,
                    format!(
                        "expression chains more than {} operators",
                        super::MAX_OPERATORS
                    ),
                )
                .with_label("this expression")
                .with_help("name intermediate values with `let`, `const` or `fn`"),
            );
            return self.placeholder(span);
        }
        // The Pratt callbacks each need `&mut self`: lend it through a RefCell
        // for the duration of the parse.
        let id = self.id;
        let text = self.text;
        let base = self.base;
        let lowerer = std::cell::RefCell::new(std::mem::replace(self, Lowerer::at(id, text, base)));
        let result = PRATT
            .map_primary(|p| lowerer.borrow_mut().operand(p))
            .map_prefix(|op, operand| {
                let span = Span::new(id, base + op.as_span().start(), 0).to(operand.span);
                let op = if op.as_rule() == Rule::op_not {
                    UnaryOp::Not
                } else {
                    UnaryOp::Neg
                };
                fold_negation(op, operand, span)
            })
            .map_postfix(|target, op| lowerer.borrow_mut().postfix(target, op))
            .map_infix(|lhs, op, rhs| {
                let span = lhs.span.to(rhs.span);
                Expr {
                    kind: ExprKind::Binary {
                        op: binop(op.as_rule()),
                        lhs: Box::new(lhs),
                        rhs: Box::new(rhs),
                    },
                    span,
                }
            })
            .parse(pairs);
        *self = lowerer.into_inner();
        result
    }

    fn postfix(&mut self, target: Expr, op: Pair<'_, Rule>) -> Expr {
        let op_span = self.span(&op);
        let span = target.span.to(op_span);
        let rule = op.as_rule();
        let mut inner = op.into_inner();
        let kind = match rule {
            Rule::field | Rule::safe_field => match inner.next() {
                Some(name) => ExprKind::Field {
                    target: Box::new(target),
                    name: self.ident(name),
                    safe: rule == Rule::safe_field,
                },
                None => return target,
            },
            Rule::index => match inner.next() {
                Some(index) => ExprKind::Index {
                    target: Box::new(target),
                    index: Box::new(self.expr(index)),
                },
                None => return target,
            },
            _ => ExprKind::Call {
                callee: Box::new(target),
                args: inner.map(|a| self.expr(a)).collect(),
            },
        };
        Expr { kind, span }
    }

    fn operand(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let span = self.span(&pair);
        let text = pair.as_str();
        let kind = match pair.as_rule() {
            Rule::kw_true => ExprKind::Bool(true),
            Rule::kw_false => ExprKind::Bool(false),
            Rule::kw_null => ExprKind::Null,
            Rule::ident => ExprKind::Name(Arc::from(text)),
            Rule::number => {
                if text.contains('.') {
                    match text.parse::<f64>() {
                        Ok(f) => ExprKind::Float(f),
                        Err(_) => return self.bad_literal(span, "number", text),
                    }
                } else {
                    match text.parse::<i64>() {
                        Ok(i) => ExprKind::Int(i),
                        Err(_) => {
                            self.diagnostics.push(
                                Diagnostic::error(
                                    "E0003",
                                    span,
                                    format!("number `{text}` does not fit in a 64-bit integer"),
                                )
                                .with_help(
                                    "write it as a decimal (`1.0e19` is not supported; add `.0`)",
                                ),
                            );
                            return self.placeholder(span);
                        }
                    }
                }
            }
            Rule::date => match parse_date(text) {
                Some(d) => ExprKind::Date(d),
                None => return self.bad_literal(span, "date", text),
            },
            Rule::datetime => match parse_datetime(text) {
                Some(t) => ExprKind::DateTime(t),
                None => return self.bad_literal(span, "datetime", text),
            },
            Rule::duration => {
                let (digits, unit) = text.split_at(text.len() - 1);
                let scale = match unit {
                    "w" => 7 * DAY,
                    "d" => DAY,
                    "h" => 3600,
                    "m" => 60,
                    _ => 1,
                };
                match digits
                    .parse::<i64>()
                    .ok()
                    .and_then(|n| n.checked_mul(scale))
                {
                    Some(seconds) => ExprKind::Duration(Duration { seconds }),
                    None => return self.bad_literal(span, "duration", text),
                }
            }
            Rule::string => {
                let mut parts: Vec<StrPart> = Vec::new();
                for part in pair.into_inner() {
                    match part.as_rule() {
                        Rule::interpolation => {
                            if let Some(e) = part.into_inner().next() {
                                parts.push(StrPart::Expr(self.expr(e)));
                            }
                        }
                        Rule::escape => push_text(&mut parts, &unescape(part.as_str()).to_string()),
                        _ => push_text(&mut parts, part.as_str()),
                    }
                }
                ExprKind::Str(parts)
            }
            Rule::list => {
                let mut items = Vec::new();
                for p in pair.into_inner() {
                    if p.as_rule() != Rule::comprehension_tail {
                        items.push(p);
                        continue;
                    }
                    let mut parts = p.into_inner().filter(|p| !is_keyword(p.as_rule()));
                    let (Some(elem), Some(var), Some(source)) =
                        (items.pop(), parts.next(), parts.next())
                    else {
                        return self.placeholder(span);
                    };
                    let elem = self.expr(elem);
                    let var = self.ident(var);
                    let source = self.expr(source);
                    let filter = parts.next().map(|f| self.expr(f));
                    return Expr {
                        kind: ExprKind::Comprehension {
                            elem: Box::new(elem),
                            binding: Box::new(Binding {
                                var,
                                source,
                                filter,
                                span,
                            }),
                        },
                        span,
                    };
                }
                ExprKind::List(items.into_iter().map(|e| self.expr(e)).collect())
            }
            Rule::object => ExprKind::Object(
                pair.into_inner()
                    .filter_map(|e| self.object_entry(e))
                    .collect(),
            ),
            Rule::paren => match pair.into_inner().next() {
                Some(inner) => {
                    let mut e = self.expr(inner);
                    e.span = span;
                    return e;
                }
                None => return self.placeholder(span),
            },
            Rule::expr | Rule::if_expr | Rule::quantifier | Rule::operation => {
                return self.expr(pair)
            }
            _ => return self.placeholder(span),
        };
        Expr { kind, span }
    }

    fn bad_literal(&mut self, span: Span, what: &str, text: &str) -> Expr {
        self.diagnostics.push(
            Diagnostic::error("E0004", span, format!("`{text}` is not a valid {what}"))
                .with_label(format!("invalid {what}")),
        );
        self.placeholder(span)
    }
}

/// `-3` is the literal minus three, so constants need no runtime negation.
fn fold_negation(op: UnaryOp, operand: Expr, span: Span) -> Expr {
    let kind = match (op, &operand.kind) {
        (UnaryOp::Neg, ExprKind::Int(i)) => ExprKind::Int(-i),
        (UnaryOp::Neg, ExprKind::Float(f)) => ExprKind::Float(-f),
        (UnaryOp::Neg, ExprKind::Duration(d)) => ExprKind::Duration(Duration {
            seconds: -d.seconds,
        }),
        _ => ExprKind::Unary {
            op,
            operand: Box::new(operand),
        },
    };
    Expr { kind, span }
}

fn push_text(parts: &mut Vec<StrPart>, text: &str) {
    if let Some(StrPart::Text(last)) = parts.last_mut() {
        last.push_str(text);
    } else {
        parts.push(StrPart::Text(text.to_string()));
    }
}

fn unescape(escape: &str) -> char {
    match escape.as_bytes().get(1) {
        Some(b'n') => '\n',
        Some(b't') => '\t',
        Some(&c) => c as char,
        None => '\\',
    }
}

fn binop(rule: Rule) -> BinOp {
    match rule {
        Rule::op_coalesce => BinOp::Coalesce,
        Rule::op_or => BinOp::Or,
        Rule::op_and => BinOp::And,
        Rule::op_eq => BinOp::Eq,
        Rule::op_ne => BinOp::Ne,
        Rule::op_lt => BinOp::Lt,
        Rule::op_le => BinOp::Le,
        Rule::op_gt => BinOp::Gt,
        Rule::op_ge => BinOp::Ge,
        Rule::op_in => BinOp::In,
        Rule::op_not_in => BinOp::NotIn,
        Rule::op_add => BinOp::Add,
        Rule::op_sub => BinOp::Sub,
        Rule::op_mul => BinOp::Mul,
        Rule::op_div => BinOp::Div,
        _ => BinOp::Rem,
    }
}

fn is_keyword(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::kw_use
            | Rule::kw_const
            | Rule::kw_fn
            | Rule::kw_facts
            | Rule::kw_type
            | Rule::kw_rule
            | Rule::kw_waiver
            | Rule::kw_test
            | Rule::kw_title
            | Rule::kw_severity
            | Rule::kw_level
            | Rule::kw_cite
            | Rule::kw_tags
            | Rule::kw_remediation
            | Rule::kw_effective
            | Rule::kw_for
            | Rule::kw_in
            | Rule::kw_where
            | Rule::kw_let
            | Rule::kw_subject
            | Rule::kw_due
            | Rule::kw_require
            | Rule::kw_else
            | Rule::kw_from
            | Rule::kw_now
            | Rule::kw_expect
            | Rule::kw_count
            | Rule::kw_if
            | Rule::kw_then
            | Rule::EOI
    )
}
