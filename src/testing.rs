//! Policy tests: run every `test` block of a policy set and measure which
//! rules, requires and waivers the tests exercise.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::eval::{evaluate_covered, Outcome, RuleResult};
use crate::ir::{Program, WaiverStep};
use crate::source::Span;
use crate::syntax::ast::{self, ExpectTarget, ExprKind, StrPart, TestFacts, UnaryOp};
use crate::{EvalOptions, Facts, PolicySet};

/// Why a test did not pass: one failed expectation or a setup problem.
#[derive(Clone, Debug, PartialEq)]
pub struct TestFailure {
    /// The clause at fault (the `expect`, the `facts from`, or the test).
    pub span: Span,
    /// What went wrong, in one line.
    pub message: String,
    /// Expected and actual lines, messages included.
    pub details: Vec<String>,
}

/// The result of one `test` block.
#[derive(Clone, Debug)]
pub struct TestResult {
    /// The test's description.
    pub name: String,
    /// The whole `test` block.
    pub span: Span,
    /// Failures; empty when the test passed.
    pub failures: Vec<TestFailure>,
}

impl TestResult {
    /// Whether every expectation held.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// What kind of thing a coverage item is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoverageKind {
    /// A rule: covered when a test expects something of it.
    Rule,
    /// A `require` of a rule or a waiver: covered when a test makes it false.
    Require,
    /// A waiver: covered when a test sees it waive a subject.
    Waiver,
}

impl CoverageKind {
    /// The kind's name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            CoverageKind::Rule => "rule",
            CoverageKind::Require => "require",
            CoverageKind::Waiver => "waiver",
        }
    }
}

/// One rule, require or waiver, and whether a test exercised it.
#[derive(Clone, Debug)]
pub struct CoverageItem {
    /// Rule, require or waiver.
    pub kind: CoverageKind,
    /// The rule or waiver's name; for a require, `owner: condition`.
    pub name: String,
    /// Where it is declared.
    pub span: Span,
    /// Whether some test exercised it.
    pub covered: bool,
}

/// The results of a test run.
#[derive(Clone, Debug)]
pub struct TestRun {
    /// One result per test, in source order.
    pub results: Vec<TestResult>,
    /// Every rule, require and waiver of the policy set's own files.
    pub coverage: Vec<CoverageItem>,
}

impl TestRun {
    /// Percentage of coverage items exercised (100 when there are none).
    pub fn coverage_percent(&self) -> f64 {
        if self.coverage.is_empty() {
            return 100.0;
        }
        let covered = self.coverage.iter().filter(|c| c.covered).count();
        covered as f64 * 100.0 / self.coverage.len() as f64
    }

    /// How many tests failed.
    pub fn failed(&self) -> usize {
        self.results.iter().filter(|r| !r.passed()).count()
    }
}

/// Runs every test of a policy set. `roots` are the paths the set was loaded
/// from: a `facts from` file must stay inside the root holding its test.
pub fn run(set: &PolicySet, roots: &[PathBuf]) -> TestRun {
    let program = set.program();
    let mut exercised = Exercised::default();
    let results = program
        .tests
        .iter()
        .map(|t| run_one(program, t, roots, &mut exercised))
        .collect();
    TestRun {
        results,
        coverage: coverage(program, &exercised),
    }
}

#[derive(Default)]
struct Exercised {
    rules: BTreeSet<String>,
    requires: BTreeSet<Span>,
    waivers: BTreeSet<String>,
}

fn run_one(
    program: &Program,
    t: &ast::TestDecl,
    roots: &[PathBuf],
    exercised: &mut Exercised,
) -> TestResult {
    let mut result = TestResult {
        name: t.name.clone(),
        span: t.span,
        failures: Vec::new(),
    };
    let fail = |span: Span, message: String| TestFailure {
        span,
        message,
        details: Vec::new(),
    };
    for e in &t.expects {
        exercised.rules.insert(e.rule.name.to_string());
    }
    let now = match &t.now {
        None => {
            result.failures.push(fail(
                t.span,
                "the test has no `now`: add `now 2026-11-29` so it gives the same result on every day"
                    .into(),
            ));
            return result;
        }
        Some(e) => match test_now(e) {
            Some(now) => now,
            None => {
                result.failures.push(fail(
                    e.span,
                    "`now` must be a date (2026-11-29) or an instant (2026-11-29T08:30:00Z)".into(),
                ));
                return result;
            }
        },
    };
    let file = PathBuf::from(&program.sources.get(t.span.source).name);
    let facts = match test_facts(t, &file, roots) {
        Ok(f) => f,
        Err((span, message)) => {
            result.failures.push(fail(span, message));
            return result;
        }
    };
    let options = EvalOptions {
        now,
        ..EvalOptions::default()
    };
    let (evaluation, failed) = evaluate_covered(program, &facts, &options);
    exercised.requires.extend(failed);
    for r in &evaluation.rules {
        for s in &r.subjects {
            if let Some(w) = &s.waived_by {
                exercised.waivers.insert(w.waiver.clone());
            }
        }
    }
    for e in &t.expects {
        let rule = evaluation.rules.iter().find(|r| {
            program
                .rules
                .get(r.rule)
                .is_some_and(|d| *d.id == *e.rule.name)
        });
        let Some(rule) = rule else {
            result.failures.push(fail(
                e.span,
                format!("no rule `{}` was evaluated", e.rule.name),
            ));
            continue;
        };
        let Some(expected) = Outcome::parse(&e.outcome.name) else {
            continue;
        };
        if let Some(f) = check_expect(program, e, expected, rule) {
            result.failures.push(f);
        }
    }
    result
}

fn test_now(e: &ast::Expr) -> Option<DateTime<Utc>> {
    match &e.kind {
        ExprKind::Date(d) => Some(crate::eval::value::midnight(*d)),
        ExprKind::DateTime(dt) => Some(*dt),
        ExprKind::Str(parts) => match parts.as_slice() {
            [StrPart::Text(s)] => crate::eval::value::parse_datetime(s)
                .or_else(|| crate::eval::value::parse_date(s).map(crate::eval::value::midnight)),
            _ => None,
        },
        _ => None,
    }
}

/// The facts of a test: inline blocks and `facts from` files, merged by key.
fn test_facts(t: &ast::TestDecl, file: &Path, roots: &[PathBuf]) -> Result<Facts, (Span, String)> {
    let mut facts = Facts::default();
    for source in &t.facts {
        match source {
            TestFacts::Inline(entries) => {
                let mut map = serde_json::Map::new();
                for (k, v) in entries {
                    map.insert(k.name.to_string(), literal_json(v)?);
                }
                let text = serde_json::Value::Object(map).to_string();
                facts
                    .add_json("<test facts>", None, &text)
                    .map_err(|e| (t.span, e.to_string()))?;
            }
            TestFacts::File { path, span } => {
                let resolved = resolve_facts_path(file, path, roots).map_err(|m| (*span, m))?;
                facts
                    .add_file(&resolved, None)
                    .map_err(|e| (*span, e.to_string()))?;
            }
        }
    }
    Ok(facts)
}

/// Resolves `facts from "path"` beside the test's file, refusing a path that
/// leaves the policy directory.
fn resolve_facts_path(file: &Path, path: &str, roots: &[PathBuf]) -> Result<PathBuf, String> {
    let dir = file.parent().unwrap_or(Path::new("."));
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let joined = dir.join(path);
    let canonical = joined
        .canonicalize()
        .map_err(|e| format!("cannot read facts file `{}`: {e}", joined.display()))?;
    let file_canon = file.canonicalize().unwrap_or_else(|_| file.to_path_buf());
    let root = roots
        .iter()
        .filter_map(|r| r.canonicalize().ok())
        .map(|r| {
            if r.is_file() {
                r.parent().map(Path::to_path_buf).unwrap_or(r)
            } else {
                r
            }
        })
        .filter(|r| file_canon.starts_with(r))
        .max_by_key(|r| r.components().count())
        .or_else(|| file_canon.parent().map(Path::to_path_buf));
    match root {
        Some(root) if canonical.starts_with(&root) => Ok(canonical),
        Some(root) => Err(format!(
            "`{path}` is outside the policy directory `{}`; keep test fixtures beside the policies",
            root.display()
        )),
        None => Err(format!("cannot resolve `{path}`")),
    }
}

/// A literal expression of an inline `facts` block as JSON, the way a facts
/// file would give it: dates and instants become ISO strings.
fn literal_json(e: &ast::Expr) -> Result<serde_json::Value, (Span, String)> {
    use serde_json::Value as J;
    let not_literal = || {
        (
            e.span,
            "test facts must be literal values (null, booleans, numbers, strings, dates, lists, objects)"
                .to_string(),
        )
    };
    Ok(match &e.kind {
        ExprKind::Null => J::Null,
        ExprKind::Bool(b) => J::Bool(*b),
        ExprKind::Int(i) => J::from(*i),
        ExprKind::Float(f) => serde_json::Number::from_f64(*f)
            .map(J::Number)
            .ok_or_else(not_literal)?,
        ExprKind::Date(d) => J::String(d.format("%Y-%m-%d").to_string()),
        ExprKind::DateTime(dt) => crate::eval::value::Value::DateTime(*dt).to_json(),
        ExprKind::Str(parts) => {
            let mut out = String::new();
            for part in parts {
                match part {
                    StrPart::Text(t) => out.push_str(t),
                    StrPart::Expr(_) => {
                        return Err((e.span, "test facts cannot interpolate `{…}`".into()))
                    }
                }
            }
            J::String(out)
        }
        ExprKind::List(items) => J::Array(
            items
                .iter()
                .map(literal_json)
                .collect::<Result<Vec<_>, _>>()?,
        ),
        ExprKind::Object(entries) => {
            let mut map = serde_json::Map::new();
            for (k, v) in entries {
                map.insert(k.name.to_string(), literal_json(v)?);
            }
            J::Object(map)
        }
        ExprKind::Unary {
            op: UnaryOp::Neg,
            operand,
        } => match &operand.kind {
            ExprKind::Int(i) => J::from(-*i),
            ExprKind::Float(f) => serde_json::Number::from_f64(-*f)
                .map(J::Number)
                .ok_or_else(not_literal)?,
            _ => return Err(not_literal()),
        },
        _ => return Err(not_literal()),
    })
}

/// Checks one expectation against a rule's results.
fn check_expect(
    program: &Program,
    e: &ast::Expect,
    expected: Outcome,
    rule: &RuleResult,
) -> Option<TestFailure> {
    let text = program.sources.slice(e.span).trim().to_string();
    let describe = |s: &crate::eval::SubjectResult| -> Vec<String> {
        let mut lines = vec![format!("{}  {}", s.outcome.as_str(), s.subject)];
        for m in &s.messages {
            lines.push(format!("    {}", m.text));
        }
        if let Some(w) = &s.waived_by {
            lines.push(format!("    waived by {} entry {}", w.waiver, w.entry));
        }
        for r in &s.rejected {
            lines.push(format!(
                "    {} entry {} rejected: {}",
                r.waiver,
                r.entry,
                r.reasons.join("; ")
            ));
        }
        lines
    };
    let listing = |rule: &RuleResult| -> Vec<String> {
        if rule.subjects.is_empty() {
            return vec!["(the rule has no subjects)".into()];
        }
        const SHOWN: usize = 10;
        let mut out: Vec<String> = rule
            .subjects
            .iter()
            .take(SHOWN)
            .map(|s| format!("{}  {}", s.outcome.as_str(), s.subject))
            .collect();
        if rule.subjects.len() > SHOWN {
            out.push(format!("… and {} more", rule.subjects.len() - SHOWN));
        }
        out
    };
    let indent = |lines: Vec<String>| -> Vec<String> {
        lines
            .into_iter()
            .map(|l| format!("            {l}"))
            .collect()
    };
    match &e.target {
        ExpectTarget::Subject(name) => {
            let found: Vec<_> = rule
                .subjects
                .iter()
                .filter(|s| s.subject == *name)
                .collect();
            if found.is_empty() {
                let help = crate::diagnostic::did_you_mean(
                    name,
                    rule.subjects.iter().map(|s| s.subject.as_str()),
                )
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
                let mut details = vec![
                    format!("expected: {} {name:?}", expected.as_str()),
                    format!("actual:   no subject {name:?}{help}; the subjects are"),
                ];
                details.extend(indent(listing(rule)));
                return Some(TestFailure {
                    span: e.span,
                    message: format!("{text}: no such subject"),
                    details,
                });
            }
            if found.iter().any(|s| s.outcome == expected) {
                return None;
            }
            let mut details = vec![format!("expected: {} {name:?}", expected.as_str())];
            for (i, s) in found.iter().enumerate() {
                let mut lines = describe(s).into_iter();
                let first = lines.next().unwrap_or_default();
                details.push(format!(
                    "{}{first}",
                    if i == 0 { "actual:   " } else { "          " }
                ));
                details.extend(lines.map(|l| format!("          {l}")));
            }
            Some(TestFailure {
                span: e.span,
                message: format!("{text}: got {}", found[0].outcome.as_str()),
                details,
            })
        }
        ExpectTarget::Count(n) => {
            let want = match &n.kind {
                ExprKind::Int(i) if *i >= 0 => *i as usize,
                _ => {
                    return Some(TestFailure {
                        span: n.span,
                        message: "`count` must be a whole number".into(),
                        details: Vec::new(),
                    })
                }
            };
            let matching: Vec<_> = rule
                .subjects
                .iter()
                .filter(|s| s.outcome == expected)
                .collect();
            if matching.len() == want {
                return None;
            }
            let mut details = vec![
                format!("expected: {want} {}", expected.as_str()),
                format!(
                    "actual:   {} {} (pass {}, fail {}, waived {}, error {})",
                    matching.len(),
                    expected.as_str(),
                    rule.count(Outcome::Pass),
                    rule.count(Outcome::Fail),
                    rule.count(Outcome::Waived),
                    rule.count(Outcome::Error),
                ),
            ];
            let shown: Vec<String> = matching.iter().take(10).flat_map(|s| describe(s)).collect();
            details.extend(indent(shown));
            Some(TestFailure {
                span: e.span,
                message: format!("{text}: got {}", matching.len()),
                details,
            })
        }
        ExpectTarget::Any => {
            if rule.subjects.iter().any(|s| s.outcome == expected) {
                return None;
            }
            let mut details = vec![
                format!("expected: at least one subject {}", expected.as_str()),
                "actual:   none; the subjects are".to_string(),
            ];
            details.extend(indent(listing(rule)));
            Some(TestFailure {
                span: e.span,
                message: format!("{text}: no subject is {}", expected.as_str()),
                details,
            })
        }
    }
}

/// Every rule, require and waiver declared in the policy set's own files,
/// marked with whether the tests exercised it.
fn coverage(program: &Program, exercised: &Exercised) -> Vec<CoverageItem> {
    let own = |span: Span| !program.sources.get(span.source).name.starts_with('<');
    let mut items = Vec::new();
    let mut seen = BTreeSet::new();
    for rule in program.rules.iter().filter(|r| own(r.span)) {
        items.push(CoverageItem {
            kind: CoverageKind::Rule,
            name: rule.id.to_string(),
            span: rule.name_span,
            covered: exercised.rules.contains(&*rule.id),
        });
        for q in &rule.requires {
            items.push(CoverageItem {
                kind: CoverageKind::Require,
                name: format!("{}: {}", rule.id, q.text),
                span: q.span,
                covered: exercised.requires.contains(&q.span),
            });
        }
    }
    for (index, waiver) in program.waivers.iter().enumerate() {
        if !own(waiver.span) {
            continue;
        }
        items.push(CoverageItem {
            kind: CoverageKind::Waiver,
            name: waiver.name.to_string(),
            span: waiver.span,
            covered: exercised.waivers.contains(&*waiver.name),
        });
        for rule in &program.rules {
            for u in rule.waivers.iter().filter(|u| u.waiver == index) {
                for step in &u.steps {
                    if let WaiverStep::Require(q) = step {
                        if seen.insert(q.span) {
                            items.push(CoverageItem {
                                kind: CoverageKind::Require,
                                name: format!("{}: {}", waiver.name, q.text),
                                span: q.span,
                                covered: exercised.requires.contains(&q.span),
                            });
                        }
                    }
                }
            }
        }
    }
    items
}
