//! `edict diff`: the outcomes a policy change flips on the same facts.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;
use indexmap::IndexMap;

use super::inputs::{load_facts, load_set};
use super::{parse_now, EXIT_NONCOMPLIANT, EXIT_OK};
use crate::eval::Evaluation;
use crate::{EvalOptions, Outcome, PolicySet};

/// Arguments of `edict diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The policy set before the change: a file or directory.
    pub old: PathBuf,
    /// The policy set after the change: a file or directory.
    pub new: PathBuf,
    /// A facts file; `NAME=FILE` mounts it under the key NAME. Repeatable.
    #[arg(long = "facts", value_name = "[NAME=]FILE")]
    pub facts: Vec<String>,
    /// The evaluation instant: a date or an RFC 3339 time (default: now).
    #[arg(long, value_parser = parse_now)]
    pub now: Option<chrono::DateTime<chrono::Utc>>,
}

/// One subject whose outcome differs; `None` where the subject does not exist.
#[derive(Debug, Clone, PartialEq)]
pub struct Flip {
    /// The rule's id.
    pub rule: String,
    /// The subject.
    pub subject: String,
    /// The outcome under the old policy set.
    pub old: Option<Outcome>,
    /// The outcome under the new one.
    pub new: Option<Outcome>,
    /// The new side's first message, when it has one.
    pub message: Option<String>,
}

/// Compares both policy sets on the same facts: exit 0 nothing flips, 1 something does, 2 bad input.
pub fn run(args: DiffArgs) -> u8 {
    let old = match load_set(std::slice::from_ref(&args.old)) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let new = match load_set(std::slice::from_ref(&args.new)) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let facts = match load_facts(&args.facts) {
        Ok(f) => f,
        Err(code) => return code,
    };
    let options = EvalOptions {
        now: args.now.unwrap_or_else(chrono::Utc::now),
        ..EvalOptions::default()
    };
    let before = old.evaluate(&facts, &options);
    let after = new.evaluate(&facts, &options);
    let flips = flips(&old, &before, &new, &after);
    super::out(&render(&flips));
    if flips.is_empty() {
        EXIT_OK
    } else {
        EXIT_NONCOMPLIANT
    }
}

type Outcomes = IndexMap<(String, String), (Outcome, Option<String>)>;

fn outcomes(set: &PolicySet, evaluation: &Evaluation) -> Outcomes {
    let mut out = IndexMap::new();
    for r in &evaluation.rules {
        let Some(rule) = set.program().rules.get(r.rule) else {
            continue;
        };
        for s in &r.subjects {
            out.insert(
                (rule.id.to_string(), s.subject.clone()),
                (s.outcome, s.messages.first().map(|m| m.text.clone())),
            );
        }
    }
    out
}

/// Every subject whose outcome differs between the two evaluations, in the
/// new set's order, then subjects only the old set had.
pub fn flips(
    old: &PolicySet,
    before: &Evaluation,
    new: &PolicySet,
    after: &Evaluation,
) -> Vec<Flip> {
    let a = outcomes(old, before);
    let b = outcomes(new, after);
    let mut out = Vec::new();
    for ((rule, subject), (outcome, message)) in &b {
        let was = a.get(&(rule.clone(), subject.clone())).map(|(o, _)| *o);
        if was != Some(*outcome) {
            out.push(Flip {
                rule: rule.clone(),
                subject: subject.clone(),
                old: was,
                new: Some(*outcome),
                message: message.clone(),
            });
        }
    }
    for ((rule, subject), (outcome, _)) in &a {
        if !b.contains_key(&(rule.clone(), subject.clone())) {
            out.push(Flip {
                rule: rule.clone(),
                subject: subject.clone(),
                old: Some(*outcome),
                new: None,
                message: None,
            });
        }
    }
    out
}

fn name(o: Option<Outcome>) -> &'static str {
    o.map_or("absent", Outcome::as_str)
}

/// The flips grouped by rule, then a count of each kind of flip.
pub fn render(flips: &[Flip]) -> String {
    if flips.is_empty() {
        return "no outcome changes\n".into();
    }
    let mut by_rule: IndexMap<&str, Vec<&Flip>> = IndexMap::new();
    for f in flips {
        by_rule.entry(&f.rule).or_default().push(f);
    }
    let mut out = String::new();
    for (rule, list) in &by_rule {
        out.push_str(&format!("{rule}\n"));
        let width = list.iter().map(|f| f.subject.len()).max().unwrap_or(0);
        for f in list {
            let change = format!("{} → {}", name(f.old), name(f.new));
            out.push_str(&format!("  {:<width$}  {change}", f.subject));
            if let (Some(m), Some(Outcome::Fail | Outcome::Error)) = (&f.message, f.new) {
                out.push_str(&format!("  {m}"));
            }
            out.push('\n');
        }
    }
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for f in flips {
        *kinds
            .entry(format!("{}→{}", name(f.old), name(f.new)))
            .or_default() += 1;
    }
    let kinds: Vec<String> = kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
    out.push_str(&format!(
        "\n{} outcome{} changed: {}\n",
        flips.len(),
        if flips.len() == 1 { "" } else { "s" },
        kinds.join(", ")
    ));
    out
}
