//! Name resolution of expressions: every name becomes a slot, a constant, a
//! function, a builtin or a facts key.

use std::sync::Arc;

use indexmap::IndexMap;

use super::Globals;
use crate::builtins;
use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::eval::value::{Str, Value};
use crate::ir::{self, ExprKind, Loop};
use crate::syntax::ast;

/// What a global name refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Global {
    /// A constant, by id.
    Const(usize),
    /// A user function, by id.
    Fn(usize),
    /// A rule, by index.
    Rule(usize),
    /// A waiver, by index.
    Waiver(usize),
    /// A type.
    Type,
}

/// Local names in scope and the slots they occupy.
#[derive(Default)]
pub struct Scope {
    names: Vec<(Str, usize)>,
    next_slot: usize,
    /// The most slots in use at once: the frame size.
    pub max_slots: usize,
}

/// A saved scope depth, to return to after a nested binding.
#[derive(Clone, Copy)]
pub struct Mark {
    names: usize,
    next_slot: usize,
}

impl Scope {
    /// Binds a name to a fresh slot.
    pub fn bind(&mut self, name: &Str) -> usize {
        let slot = self.next_slot;
        self.next_slot += 1;
        self.max_slots = self.max_slots.max(self.next_slot);
        self.names.push((name.clone(), slot));
        slot
    }

    /// The current depth.
    pub fn mark(&self) -> Mark {
        Mark {
            names: self.names.len(),
            next_slot: self.next_slot,
        }
    }

    /// Drops the names bound since `mark`; their slots are reused.
    pub fn reset(&mut self, mark: Mark) {
        self.names.truncate(mark.names);
        self.next_slot = mark.next_slot;
    }

    fn lookup(&self, name: &str) -> Option<usize> {
        self.names
            .iter()
            .rev()
            .find(|(n, _)| &**n == name)
            .map(|(_, s)| *s)
    }

    /// The names in scope, for suggestions.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(|(n, _)| &**n)
    }
}

/// Resolves expressions of one declaration.
pub struct Resolver<'g> {
    /// Global names.
    pub globals: &'g Globals,
    /// The module whose declaration this is (`None` for the user's policy set).
    pub module: Option<Str>,
    /// Locals.
    pub scope: Scope,
    /// Facts keys read, shared by the whole program.
    pub facts: &'g mut IndexMap<Str, ()>,
    /// Problems found.
    pub diagnostics: &'g mut Vec<Diagnostic>,
}

impl Resolver<'_> {
    fn qualified(&self, name: &str) -> Option<(Global, Str)> {
        if let Some(module) = &self.module {
            let q: Str = Arc::from(format!("{module}.{name}"));
            if let Some(g) = self.globals.names.get(&q) {
                return Some((g.0, q));
            }
        }
        self.globals.names.get(name).map(|g| (g.0, Arc::from(name)))
    }

    /// Whether `name` is a module the file of `span` `use`s, not shadowed by a local.
    fn module_in_scope(&self, name: &str, span: crate::source::Span) -> bool {
        self.globals
            .file_uses
            .get(&span.source)
            .is_some_and(|uses| uses.contains(name))
            && self.scope.lookup(name).is_none()
    }

    /// Resolves an expression.
    pub fn expr(&mut self, e: &ast::Expr) -> ir::Expr {
        let span = e.span;
        let kind = match &e.kind {
            ast::ExprKind::Null => ExprKind::Value(Value::Null),
            ast::ExprKind::Bool(b) => ExprKind::Value(Value::Bool(*b)),
            ast::ExprKind::Int(i) => ExprKind::Value(Value::Int(*i)),
            ast::ExprKind::Float(f) => ExprKind::Value(Value::Float(*f)),
            ast::ExprKind::Date(d) => ExprKind::Value(Value::Date(*d)),
            ast::ExprKind::DateTime(t) => ExprKind::Value(Value::DateTime(*t)),
            ast::ExprKind::Duration(d) => ExprKind::Value(Value::Duration(*d)),
            ast::ExprKind::Str(parts) => {
                let parts: Vec<ir::StrPart> = parts
                    .iter()
                    .map(|p| match p {
                        ast::StrPart::Text(t) => ir::StrPart::Text(t.clone()),
                        ast::StrPart::Expr(e) => ir::StrPart::Expr(self.expr(e)),
                    })
                    .collect();
                match parts.as_slice() {
                    [] => ExprKind::Value(Value::str("")),
                    [ir::StrPart::Text(t)] => ExprKind::Value(Value::str(t)),
                    _ => ExprKind::Str(parts),
                }
            }
            ast::ExprKind::List(items) => {
                ExprKind::List(items.iter().map(|i| self.expr(i)).collect())
            }
            ast::ExprKind::Object(entries) => ExprKind::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.name.clone(), self.expr(v)))
                    .collect(),
            ),
            ast::ExprKind::Name(name) => self.name(name, e),
            ast::ExprKind::Field { target, name, safe } => {
                if let ast::ExprKind::Name(module) = &target.kind {
                    if self.module_in_scope(module, target.span) {
                        return self.module_member(module, name, false);
                    }
                }
                ExprKind::Field {
                    target: Box::new(self.expr(target)),
                    name: name.name.clone(),
                    safe: *safe,
                }
            }
            ast::ExprKind::Index { target, index } => ExprKind::Index {
                target: Box::new(self.expr(target)),
                index: Box::new(self.expr(index)),
            },
            ast::ExprKind::Call { callee, args } => return self.call(callee, args, span),
            ast::ExprKind::Unary { op, operand } => ExprKind::Unary {
                op: *op,
                operand: Box::new(self.expr(operand)),
            },
            ast::ExprKind::Binary { op, lhs, rhs } => ExprKind::Binary {
                op: *op,
                lhs: Box::new(self.expr(lhs)),
                rhs: Box::new(self.expr(rhs)),
            },
            ast::ExprKind::If {
                cond,
                then,
                otherwise,
            } => ExprKind::If {
                cond: Box::new(self.expr(cond)),
                then: Box::new(self.expr(then)),
                otherwise: Box::new(self.expr(otherwise)),
            },
            ast::ExprKind::Comprehension { elem, binding } => {
                let mark = self.scope.mark();
                let binding = self.binding(binding);
                let elem = self.expr(elem);
                self.scope.reset(mark);
                ExprKind::Comprehension {
                    elem: Box::new(elem),
                    binding: Box::new(binding),
                }
            }
            ast::ExprKind::Quantifier {
                all,
                var,
                source,
                body,
            } => {
                let source = self.expr(source);
                let mark = self.scope.mark();
                let slot = self.scope.bind(&var.name);
                let body = self.expr(body);
                self.scope.reset(mark);
                ExprKind::Quantifier {
                    all: *all,
                    slot,
                    source: Box::new(source),
                    body: Box::new(body),
                }
            }
        };
        ir::Expr { kind, span }
    }

    /// Resolves `for x in source where filter`, leaving `x` bound.
    pub fn binding(&mut self, b: &ast::Binding) -> Loop {
        let source = self.expr(&b.source);
        let slot = self.scope.bind(&b.var.name);
        let filter = b.filter.as_ref().map(|f| self.expr(f));
        Loop {
            slot,
            source,
            filter,
            span: b.span,
        }
    }

    fn name(&mut self, name: &Str, e: &ast::Expr) -> ExprKind {
        if let Some(slot) = self.scope.lookup(name) {
            return ExprKind::Local(slot);
        }
        match self.qualified(name) {
            Some((Global::Const(id), _)) => return ExprKind::Const(id),
            Some((Global::Fn(_), _)) => {
                self.diagnostics.push(
                    Diagnostic::error(
                        "E0105",
                        e.span,
                        format!("`{name}` is a function, not a value"),
                    )
                    .with_help(format!("call it: `{name}(…)`")),
                );
                return ExprKind::Value(Value::Null);
            }
            Some((Global::Rule(_) | Global::Waiver(_) | Global::Type, _)) => {
                self.diagnostics.push(
                    Diagnostic::error("E0101", e.span, format!("`{name}` is not a value"))
                        .with_label("a rule, waiver or type name"),
                );
                return ExprKind::Value(Value::Null);
            }
            None => {}
        }
        match &**name {
            "now" => return ExprKind::Now,
            "today" => return ExprKind::Today,
            _ => {}
        }
        if builtins::lookup(name).is_some() {
            self.diagnostics.push(
                Diagnostic::error(
                    "E0105",
                    e.span,
                    format!("`{name}` is a function, not a value"),
                )
                .with_help(format!("call it: `{name}(…)`")),
            );
            return ExprKind::Value(Value::Null);
        }
        if self.module_in_scope(name, e.span) {
            self.diagnostics.push(
                Diagnostic::error("E0106", e.span, format!("module `{name}` is not a value"))
                    .with_help(format!("use one of its members: `{name}.…`")),
            );
            return ExprKind::Value(Value::Null);
        }
        // A name nothing declares is a facts key, unless it is so close to a
        // declared name that it is almost certainly a typo of it.
        // A facts key already accepted has no declared global near it (or it
        // would have been refused), so then only the local names can suggest
        // anything: comparing every global again made checking quadratic.
        let globals = (!self.facts.contains_key(name))
            .then(|| self.globals.value_names())
            .into_iter()
            .flatten();
        let declared = self.scope.names().chain(globals).chain(["now", "today"]);
        let suggestion = did_you_mean(name, declared);
        let schema_says_no = self
            .globals
            .schema_keys
            .as_ref()
            .is_some_and(|keys| !keys.iter().any(|k| k == name));
        if suggestion.is_some() || schema_says_no {
            let help = suggestion.or_else(|| {
                self.globals
                    .schema_keys
                    .as_ref()
                    .and_then(|keys| did_you_mean(name, keys.iter().map(|k| &**k)))
            });
            self.diagnostics.push(
                Diagnostic::error("E0101", e.span, format!("unknown name `{name}`"))
                    .with_label("not declared")
                    .with_help_opt(help.map(|h| format!("did you mean `{h}`?"))),
            );
            return ExprKind::Value(Value::Null);
        }
        let (id, _) = self.facts.insert_full(name.clone(), ());
        ExprKind::Fact(id)
    }

    fn module_member(&mut self, module: &str, member: &ast::Ident, call: bool) -> ir::Expr {
        let q = format!("{module}.{}", member.name);
        let span = member.span;
        let found = self.globals.names.get(q.as_str()).map(|g| g.0);
        match found {
            Some(Global::Const(id)) if !call => ir::Expr {
                kind: ExprKind::Const(id),
                span,
            },
            _ => {
                let prefix = format!("{module}.");
                let members = self
                    .globals
                    .names
                    .keys()
                    .filter_map(|k| k.strip_prefix(prefix.as_str()));
                let help = did_you_mean(&member.name, members);
                self.diagnostics.push(
                    Diagnostic::error(
                        "E0106",
                        span,
                        format!(
                            "module `{module}` has no {} `{}`",
                            if call { "function" } else { "constant" },
                            member.name
                        ),
                    )
                    .with_help_opt(help.map(|h| format!("did you mean `{module}.{h}`?"))),
                );
                ir::Expr {
                    kind: ExprKind::Value(Value::Null),
                    span,
                }
            }
        }
    }

    fn call(
        &mut self,
        callee: &ast::Expr,
        args: &[ast::Expr],
        span: crate::source::Span,
    ) -> ir::Expr {
        let resolved_args: Vec<ir::Expr> = args.iter().map(|a| self.expr(a)).collect();
        let null = ir::Expr {
            kind: ExprKind::Value(Value::Null),
            span,
        };
        let (name, name_span, qualified) = match &callee.kind {
            ast::ExprKind::Name(n) => (n.clone(), callee.span, self.qualified(n)),
            ast::ExprKind::Field { target, name, .. } => match &target.kind {
                ast::ExprKind::Name(m) if self.module_in_scope(m, target.span) => {
                    let q: Str = Arc::from(format!("{m}.{}", name.name));
                    match self.globals.names.get(&q) {
                        Some(g) => (q.clone(), callee.span, Some((g.0, q))),
                        None => {
                            self.module_member(m, name, true);
                            return null;
                        }
                    }
                }
                _ => {
                    self.diagnostics.push(
                        Diagnostic::error(
                            "E0107",
                            callee.span,
                            "only named functions can be called",
                        )
                        .with_label("not a function"),
                    );
                    return null;
                }
            },
            _ => {
                self.diagnostics.push(
                    Diagnostic::error("E0107", callee.span, "only named functions can be called")
                        .with_label("not a function"),
                );
                return null;
            }
        };
        if self.scope.lookup(&name).is_some() {
            self.diagnostics.push(
                Diagnostic::error(
                    "E0107",
                    name_span,
                    format!("`{name}` is a variable, not a function"),
                )
                .with_label("not a function"),
            );
            return null;
        }
        match qualified {
            Some((Global::Fn(id), _)) => {
                let arity = self.globals.fn_arity[id];
                if arity != resolved_args.len() {
                    self.arity_error(&name, name_span, &arity.to_string(), resolved_args.len());
                    return null;
                }
                ir::Expr {
                    kind: ExprKind::Call {
                        func: id,
                        args: resolved_args,
                    },
                    span,
                }
            }
            Some(_) => {
                self.diagnostics.push(
                    Diagnostic::error("E0107", name_span, format!("`{name}` is not a function"))
                        .with_label("not a function"),
                );
                null
            }
            None => match builtins::lookup(&name) {
                Some(builtin) => {
                    let n = resolved_args.len();
                    if n < builtin.min_args || n > builtin.max_args {
                        let expected = if builtin.min_args == builtin.max_args {
                            builtin.min_args.to_string()
                        } else {
                            format!("{} to {}", builtin.min_args, builtin.max_args)
                        };
                        self.arity_error(&name, name_span, &expected, n);
                        if let Some(last) = self.diagnostics.last_mut() {
                            last.help = Some(format!("signature: {}", builtin.signature));
                        }
                        return null;
                    }
                    ir::Expr {
                        kind: ExprKind::Builtin {
                            builtin,
                            args: resolved_args,
                        },
                        span,
                    }
                }
                None => {
                    let candidates = builtins::all()
                        .iter()
                        .map(|b| b.name)
                        .chain(self.globals.fn_names());
                    let help = did_you_mean(&name, candidates);
                    self.diagnostics.push(
                        Diagnostic::error("E0102", name_span, format!("unknown function `{name}`"))
                            .with_label("not a builtin or a declared `fn`")
                            .with_help_opt(help.map(|h| format!("did you mean `{h}`?"))),
                    );
                    null
                }
            },
        }
    }

    fn arity_error(&mut self, name: &str, span: crate::source::Span, expected: &str, got: usize) {
        let plural = if expected == "1" { "" } else { "s" };
        self.diagnostics.push(
            Diagnostic::error(
                "E0103",
                span,
                format!("`{name}` takes {expected} argument{plural}, got {got}"),
            )
            .with_label(format!("called with {got}")),
        );
    }
}
