//! `edict explain`: why each failing `require` of a rule failed.

use std::path::PathBuf;

use clap::Args;

use super::inputs::{known_rule, load_facts, load_set};
use super::{parse_now, paths_or_default, EXIT_NONCOMPLIANT, EXIT_OK};
use crate::eval::explain::{explain, Explained};
use crate::eval::Evaluation;
use crate::{EvalOptions, Outcome, PolicySet};

/// Arguments of `edict explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The rule to explain.
    pub rule: String,
    /// Policy files or directories (default: the current directory).
    pub paths: Vec<PathBuf>,
    /// A facts file; `NAME=FILE` mounts it under the key NAME. Repeatable.
    #[arg(long = "facts", value_name = "[NAME=]FILE")]
    pub facts: Vec<String>,
    /// The evaluation instant: a date or an RFC 3339 time (default: now).
    #[arg(long, value_parser = parse_now)]
    pub now: Option<chrono::DateTime<chrono::Utc>>,
    /// Explain only this subject.
    #[arg(long)]
    pub subject: Option<String>,
}

/// Explains one rule: exit 0 when every subject passes, 1 when some fail, 2 on bad input.
pub fn run(args: ExplainArgs) -> u8 {
    let paths = paths_or_default(args.paths);
    let set = match load_set(&paths) {
        Ok(set) => set,
        Err(code) => return code,
    };
    if let Err(code) = known_rule(&set, &args.rule) {
        return code;
    }
    let facts = match load_facts(&args.facts) {
        Ok(f) => f,
        Err(code) => return code,
    };
    let options = EvalOptions {
        now: args.now.unwrap_or_else(chrono::Utc::now),
        rules: Some(vec![args.rule.clone()]),
        ..EvalOptions::default()
    };
    let (evaluation, mut explained) = explain(set.program(), &facts, &options);
    if let Some(only) = &args.subject {
        explained.retain(|e| e.subject == *only);
    }
    let text = render(&set, &evaluation, &explained);
    if text.is_empty() {
        super::out(&format!(
            "every subject of `{}` passes its requires\n",
            args.rule
        ));
    } else {
        super::out(&text);
    }
    let failing = evaluation
        .rules
        .iter()
        .any(|r| r.subjects.iter().any(|s| s.outcome != Outcome::Pass));
    if failing {
        EXIT_NONCOMPLIANT
    } else {
        EXIT_OK
    }
}

/// Renders explanations: each subject, each failing require, each subexpression's value.
pub fn render(set: &PolicySet, evaluation: &Evaluation, explained: &[Explained]) -> String {
    let program = set.program();
    let mut out = String::new();
    for e in explained {
        let Some(rule) = program.rules.get(e.rule) else {
            continue;
        };
        let outcome = evaluation
            .rules
            .iter()
            .filter(|r| r.rule == e.rule)
            .flat_map(|r| r.subjects.iter())
            .find(|s| s.subject == e.subject)
            .map_or("fail", |s| s.outcome.as_str());
        out.push_str(&format!("{}  {}  {outcome}\n", rule.id, e.subject));
        for q in &e.requires {
            let loc = program.sources.location(q.span);
            out.push_str(&format!(
                "  require {}  ({}:{})\n",
                one_line(&q.text),
                loc.file,
                loc.line
            ));
            let width = q
                .steps
                .iter()
                .map(|s| s.depth * 2 + one_line(&s.text).chars().count())
                .max()
                .unwrap_or(0)
                .min(60);
            for s in &q.steps {
                let text = one_line(&s.text);
                let pad = (s.depth * 2 + text.chars().count()).max(width);
                let shown = format!("{}{text}", "  ".repeat(s.depth));
                if s.value.is_empty() {
                    out.push_str(&format!("    {shown}\n"));
                } else {
                    out.push_str(&format!("    {shown:<pad$}  → {}\n", s.value, pad = pad));
                }
            }
        }
        out.push('\n');
    }
    out
}

/// Source text on one line, runs of whitespace collapsed.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
