//! JSON Lines: the evidence first, one line per subject (passes included), totals last.

use serde::Serialize;

use super::{Evidence, Finding, Report, RuleReport, Summary};
use crate::ir::{Level, Severity};

/// The first line: what produced the report.
#[derive(Serialize)]
struct EvidenceLine<'a> {
    r#type: &'static str,
    tool: &'static str,
    #[serde(flatten)]
    evidence: &'a Evidence,
}

/// One subject's outcome, with its rule's identity repeated so each line stands alone.
#[derive(Serialize)]
struct OutcomeLine<'a> {
    r#type: &'static str,
    rule: &'a str,
    severity: Severity,
    level: Level,
    enforced: bool,
    #[serde(flatten)]
    outcome: LineOutcome<'a>,
}

/// A finding as the report holds it, or a bare pass.
#[derive(Serialize)]
#[serde(untagged)]
enum LineOutcome<'a> {
    Finding(&'a Finding),
    Pass {
        subject: &'a str,
        outcome: &'static str,
    },
}

/// The last line: totals and the verdict.
#[derive(Serialize)]
struct TotalsLine<'a> {
    r#type: &'static str,
    #[serde(flatten)]
    summary: &'a Summary,
}

/// Outcome lines below this are written on one thread.
const PARALLEL_MIN_LINES: usize = 4096;

/// Renders one JSON object a line, each with a `type`: `evidence`, `outcome`,
/// `totals`; outcome lines are serialized on up to `threads` threads, in
/// contiguous runs joined in order, so the text is the same at any count.
///
/// Lines are serialized straight into the output: a fleet's report has hundreds
/// of thousands of them, and building each as a `serde_json::Value` first cost
/// more than evaluating the policy.
pub fn render(report: &Report, threads: usize) -> String {
    let mut out = Vec::new();
    line(
        &mut out,
        &EvidenceLine {
            r#type: "evidence",
            tool: report.tool.name,
            evidence: &report.evidence,
        },
    );
    let outcomes: Vec<_> = report.outcomes().collect();
    let threads = threads.clamp(1, outcomes.len() / PARALLEL_MIN_LINES + 1);
    if threads == 1 {
        outcome_lines(&mut out, &outcomes);
    } else {
        let per_thread = outcomes.len().div_ceil(threads);
        let parts: Vec<Vec<u8>> = std::thread::scope(|scope| {
            let workers: Vec<_> = outcomes
                .chunks(per_thread)
                .map(|chunk| {
                    scope.spawn(move || {
                        let mut part = Vec::new();
                        outcome_lines(&mut part, chunk);
                        part
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().unwrap_or_default())
                .collect()
        });
        for part in parts {
            out.extend_from_slice(&part);
        }
    }
    line(
        &mut out,
        &TotalsLine {
            r#type: "totals",
            summary: &report.summary,
        },
    );
    // serde_json writes only valid UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

type OutcomeRef<'a> = (&'a RuleReport, &'a str, Option<&'a Finding>);

fn outcome_lines(out: &mut Vec<u8>, outcomes: &[OutcomeRef<'_>]) {
    for &(rule, subject, finding) in outcomes {
        let outcome = match finding {
            Some(f) => LineOutcome::Finding(f),
            None => LineOutcome::Pass {
                subject,
                outcome: "pass",
            },
        };
        line(
            out,
            &OutcomeLine {
                r#type: "outcome",
                rule: &rule.id,
                severity: rule.severity,
                level: rule.level,
                enforced: rule.enforced,
                outcome,
            },
        );
    }
}

/// Appends one value as a line; a value that cannot be serialized is left out
/// (none of the line types above can fail).
fn line(out: &mut Vec<u8>, value: &impl Serialize) {
    let start = out.len();
    if serde_json::to_writer(&mut *out, value).is_err() {
        out.truncate(start);
        return;
    }
    out.push(b'\n');
}
