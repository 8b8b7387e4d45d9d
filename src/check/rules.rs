//! Rules, waivers and tests: clause-level checks and compilation.

use super::resolve::Resolver;
use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::eval::{self, value::Value};
use crate::ir::{
    self, ExprKind, Level, Program, RequireDef, RuleDef, Severity, Step, WaiverDef, WaiverStep,
    WaiverUse,
};
use crate::source::Span;
use crate::syntax::ast;

/// A rule's metadata expressions, evaluated once the whole program exists.
pub struct PendingMeta {
    title: Option<ir::Expr>,
    cites: Vec<ir::Expr>,
    tags: Option<ir::Expr>,
    remediation: Option<ir::Expr>,
    effective: Option<ir::Expr>,
}

/// Compiles a rule and the waivers that apply to it.
pub fn compile_rule(
    mut r: Resolver<'_>,
    rule: &ast::RuleDecl,
    waivers: &[&ast::WaiverDecl],
) -> (RuleDef, PendingMeta) {
    let meta = PendingMeta {
        title: rule.meta.title.as_ref().map(|e| r.expr(e)),
        cites: rule.meta.cites.iter().map(|e| r.expr(e)).collect(),
        tags: rule.meta.tags.as_ref().map(|e| r.expr(e)),
        remediation: rule.meta.remediation.as_ref().map(|e| r.expr(e)),
        effective: rule.meta.effective.as_ref().map(|e| r.expr(e)),
    };
    let severity = match &rule.meta.severity {
        None => Severity::Medium,
        Some(s) => Severity::parse(&s.name).unwrap_or_else(|| {
            let names = Severity::ALL.map(Severity::as_str);
            r.diagnostics.push(unknown_word("severity", s, &names));
            Severity::Medium
        }),
    };
    let level = match rule.meta.level.as_ref().map(|l| (&*l.name, l)) {
        None | Some(("mandatory", _)) => Level::Mandatory,
        Some(("advisory", _)) => Level::Advisory,
        Some((_, l)) => {
            r.diagnostics
                .push(unknown_word("level", l, &["mandatory", "advisory"]));
            Level::Mandatory
        }
    };
    let mut steps = Vec::new();
    let mut for_slots = Vec::new();
    let mut subject: Option<ir::Expr> = None;
    let mut due: Option<ir::Expr> = None;
    let mut requires = Vec::new();
    for clause in &rule.body {
        match clause {
            ast::Clause::For(b) => {
                let l = r.binding(b);
                for_slots.push(l.slot);
                steps.push(Step::For(l));
            }
            ast::Clause::Let { var, value } => {
                let value = r.expr(value);
                let slot = r.scope.bind(&var.name);
                steps.push(Step::Let { slot, value });
            }
            ast::Clause::Where(e) => steps.push(Step::Where(r.expr(e))),
            ast::Clause::Subject(e) => once(&mut subject, r.expr(e), "subject", r.diagnostics),
            ast::Clause::Due(e) => once(&mut due, r.expr(e), "due", r.diagnostics),
            ast::Clause::Require(q) => requires.push(require(&mut r, q)),
        }
    }
    if requires.is_empty() {
        r.diagnostics.push(
            Diagnostic::warning(
                "E0121",
                rule.name.span,
                format!("rule `{}` has no `require`", rule.name.name),
            )
            .with_label("every subject passes")
            .with_help("add `require CONDITION else \"message\"`"),
        );
    }
    let rule_slots = r.scope.max_slots;
    let mut uses = Vec::new();
    for (index, w) in waivers.iter().enumerate() {
        if w.rules.iter().any(|t| t.name == rule.name.name) {
            if let Some(u) = compile_waiver_use(&mut r, index, w, rule, rule_slots) {
                uses.push(u);
            }
        }
    }
    let def = RuleDef {
        id: rule.name.name.clone(),
        title: None,
        severity,
        level,
        cites: Vec::new(),
        tags: Vec::new(),
        remediation: None,
        effective: None,
        doc: rule.doc.clone(),
        span: rule.span,
        name_span: rule.name.span,
        steps,
        for_slots,
        subject,
        due,
        requires,
        waivers: uses,
        frame_size: r.scope.max_slots,
    };
    (def, meta)
}

fn once(slot: &mut Option<ir::Expr>, e: ir::Expr, what: &str, diagnostics: &mut Vec<Diagnostic>) {
    if let Some(first) = slot {
        diagnostics.push(
            Diagnostic::error(
                "E0114",
                e.span,
                format!("a rule has at most one `{what}` clause"),
            )
            .with_related(first.span, "the first one"),
        );
    } else {
        *slot = Some(e);
    }
}

fn require(r: &mut Resolver<'_>, q: &ast::Require) -> RequireDef {
    RequireDef {
        cond: r.expr(&q.cond),
        message: q.message.as_ref().map(|m| r.expr(m)),
        text: String::new(),
        span: q.span,
    }
}

fn unknown_word(what: &str, word: &ast::Ident, allowed: &[&str]) -> Diagnostic {
    let help = match did_you_mean(&word.name, allowed.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!("a {what} is one of {}", allowed.join(", ")),
    };
    Diagnostic::error(
        "E0104",
        word.span,
        format!("unknown {what} `{}`", word.name),
    )
    .with_label(format!("not a {what}"))
    .with_help(help)
}

fn compile_waiver_use(
    r: &mut Resolver<'_>,
    index: usize,
    w: &ast::WaiverDecl,
    rule: &ast::RuleDecl,
    rule_slots: usize,
) -> Option<WaiverUse> {
    let Some(from) = &w.from else {
        r.diagnostics.push(
            Diagnostic::error("E0109", w.name.span, format!("waiver `{}` has no `from` clause", w.name.name))
                .with_help("say which register entries may waive: `from e in exceptions where e.asset == asset.id`"),
        );
        return None;
    };
    let mark = r.scope.mark();
    let from = r.binding(from);
    let reads_rule = |e: &ir::Expr| {
        let mut found = false;
        e.visit(&mut |x| {
            if let ExprKind::Local(s) = x.kind {
                found |= s < rule_slots;
            }
        });
        found
    };
    let register_is_global = !reads_rule(&from.source);
    if register_is_global && !from.filter.as_ref().is_some_and(reads_rule) {
        r.diagnostics.push(
            Diagnostic::warning(
                "E0120",
                from.span,
                format!(
                    "waiver `{}` selects entries without looking at `{}`'s subject",
                    w.name.name, rule.name.name
                ),
            )
            .with_label("any entry of the register may waive any failure")
            .with_help(
                "match the entry to the subject: `where e.asset == asset.id and e.cve == f.cve`",
            ),
        );
    }
    let mut steps = Vec::new();
    for clause in &w.body {
        match clause {
            ast::Clause::Let { var, value } => {
                let value = r.expr(value);
                let slot = r.scope.bind(&var.name);
                steps.push(WaiverStep::Let { slot, value });
            }
            ast::Clause::Require(q) => steps.push(WaiverStep::Require(require(r, q))),
            _ => {}
        }
    }
    r.scope.reset(mark);
    Some(WaiverUse {
        waiver: index,
        from,
        register_is_global,
        steps,
    })
}

/// A waiver's metadata; its title must be a constant string.
pub fn waiver_def(w: &ast::WaiverDecl) -> WaiverDef {
    let title = w.title.as_ref().and_then(|t| match &t.kind {
        ast::ExprKind::Str(parts) => parts
            .iter()
            .map(|p| match p {
                ast::StrPart::Text(s) => Some(s.as_str()),
                ast::StrPart::Expr(_) => None,
            })
            .collect::<Option<String>>(),
        _ => None,
    });
    WaiverDef {
        name: w.name.name.clone(),
        title,
        doc: w.doc.clone(),
        span: w.span,
    }
}

/// A waiver naming a rule that does not exist is an error.
pub fn check_waiver_targets(
    w: &ast::WaiverDecl,
    rules: &[&ast::RuleDecl],
    diagnostics: &mut Vec<Diagnostic>,
) {
    for target in &w.rules {
        if !rules.iter().any(|r| r.name.name == target.name) {
            diagnostics.push(unknown_rule("E0108", target, rules));
        }
    }
}

fn unknown_rule(code: &'static str, name: &ast::Ident, rules: &[&ast::RuleDecl]) -> Diagnostic {
    let help = did_you_mean(&name.name, rules.iter().map(|r| &*r.name.name));
    Diagnostic::error(code, name.span, format!("unknown rule `{}`", name.name))
        .with_label("no rule has this name")
        .with_help_opt(help.map(|h| format!("did you mean `{h}`?")))
}

/// Expectations must name a rule and an outcome that exist.
pub fn check_test(t: &ast::TestDecl, rules: &[&ast::RuleDecl], diagnostics: &mut Vec<Diagnostic>) {
    const OUTCOMES: [&str; 4] = ["pass", "fail", "waived", "error"];
    for e in &t.expects {
        if !rules.iter().any(|r| r.name.name == e.rule.name) {
            diagnostics.push(unknown_rule("E0112", &e.rule, rules));
        }
        if !OUTCOMES.contains(&&*e.outcome.name) {
            let mut d = unknown_word("outcome", &e.outcome, &OUTCOMES);
            d.code = "E0115";
            diagnostics.push(d);
        }
    }
}

/// Evaluates every rule's metadata, now that constants can be computed, and
/// records each `require`'s source text for its default message.
pub fn finish_meta(
    program: &mut Program,
    pending: Vec<PendingMeta>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    for (index, meta) in pending.into_iter().enumerate() {
        let text = |p: &Program,
                    e: &ir::Expr,
                    what: &str,
                    d: &mut Vec<Diagnostic>|
         -> Option<String> {
            match constant(p, e, what, d)? {
                Value::Str(s) => Some(s.to_string()),
                other => {
                    d.push(
                        Diagnostic::error("E0113", e.span, format!("`{what}` must be a string"))
                            .with_label(format!("this is a {}", other.type_name())),
                    );
                    None
                }
            }
        };
        let title = meta
            .title
            .as_ref()
            .and_then(|e| text(program, e, "title", diagnostics));
        let cites = meta
            .cites
            .iter()
            .filter_map(|e| text(program, e, "cite", diagnostics))
            .collect();
        let remediation = meta
            .remediation
            .as_ref()
            .and_then(|e| text(program, e, "remediation", diagnostics));
        let tags = match meta
            .tags
            .as_ref()
            .and_then(|e| constant(program, e, "tags", diagnostics).map(|v| (e.span, v)))
        {
            None => Vec::new(),
            Some((_, Value::List(items))) if items.iter().all(|i| matches!(i, Value::Str(_))) => {
                items.iter().map(|i| i.to_string()).collect()
            }
            Some((span, _)) => {
                diagnostics.push(Diagnostic::error(
                    "E0113",
                    span,
                    "`tags` must be a list of strings",
                ));
                Vec::new()
            }
        };
        let effective = match meta
            .effective
            .as_ref()
            .and_then(|e| constant(program, e, "effective", diagnostics).map(|v| (e.span, v)))
        {
            None => None,
            Some((_, Value::Date(d))) => Some(d),
            Some((span, _)) => {
                diagnostics.push(Diagnostic::error(
                    "E0113",
                    span,
                    "`effective` must be a date such as `2026-01-01`",
                ));
                None
            }
        };
        let sources = &program.sources;
        let rule = &mut program.rules[index];
        rule.title = title;
        rule.cites = cites;
        rule.tags = tags;
        rule.remediation = remediation;
        rule.effective = effective;
        for q in rule.requires.iter_mut() {
            q.text = sources.slice(q.cond.span).to_string();
        }
        for u in rule.waivers.iter_mut() {
            for step in u.steps.iter_mut() {
                if let WaiverStep::Require(q) = step {
                    q.text = sources.slice(q.cond.span).to_string();
                }
            }
        }
    }
}

fn constant(
    program: &Program,
    e: &ir::Expr,
    what: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Value> {
    if !e.is_constant(program) {
        diagnostics.push(
            Diagnostic::error("E0113", e.span, format!("`{what}` must be a constant"))
                .with_label("reads facts, variables or the clock")
                .with_help("use a literal or a `const`"),
        );
        return None;
    }
    match eval::constant(program, e) {
        Ok(v) => Some(v),
        Err(message) => {
            diagnostics.push(Diagnostic::error(
                "E0113",
                span_of(e),
                format!("`{what}` cannot be computed: {message}"),
            ));
            None
        }
    }
}

fn span_of(e: &ir::Expr) -> Span {
    e.span
}
