//! JSON Lines: the evidence first, one line per subject (passes included), totals last.

use std::io::Write;

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

/// Outcome lines serialized per thread at a time: each thread's buffer is
/// reused for the next block, so the whole report is never held in memory.
const BLOCK_LINES: usize = 8192;

/// Writes one JSON object a line, each with a `type`: `evidence`, `outcome`,
/// `totals`. Outcome lines are serialized in
/// blocks, each block's lines split among up to `threads` threads and written
/// in order, so the text is the same at any count.
///
/// Lines are serialized straight into buffers: a fleet's report has hundreds
/// of thousands of them, and building each as a `serde_json::Value` first cost
/// more than evaluating the policy.
pub fn write(report: &Report, threads: usize, out: &mut dyn Write) -> std::io::Result<()> {
    let mut head = Vec::new();
    line(
        &mut head,
        &EvidenceLine {
            r#type: "evidence",
            tool: report.tool.name,
            evidence: &report.evidence,
        },
    );
    out.write_all(&head)?;
    let outcomes: Vec<_> = report.outcomes().collect();
    let threads = threads.max(1);
    let mut buffers: Vec<Vec<u8>> = vec![Vec::new(); threads];
    for block in outcomes.chunks(BLOCK_LINES * threads) {
        if threads == 1 || block.len() < BLOCK_LINES {
            buffers[0].clear();
            outcome_lines(&mut buffers[0], block);
            out.write_all(&buffers[0])?;
            continue;
        }
        let per_thread = block.len().div_ceil(threads);
        let rendered: std::io::Result<Vec<Vec<u8>>> = std::thread::scope(|scope| {
            let workers: Vec<_> = buffers
                .drain(..)
                .zip(block.chunks(per_thread))
                .map(|(mut buffer, chunk)| {
                    // Each worker owns its vector: vectors side by side in one
                    // array share a cache line, and updating their lengths
                    // from two cores made every write bounce it.
                    scope.spawn(move || {
                        buffer.clear();
                        outcome_lines(&mut buffer, chunk);
                        buffer
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| {
                    w.join()
                        .map_err(|_| std::io::Error::other("a report worker failed"))
                })
                .collect()
        });
        buffers = rendered?;
        for buffer in &buffers {
            out.write_all(buffer)?;
        }
        buffers.resize_with(threads, Vec::new);
    }
    let mut tail = Vec::new();
    line(
        &mut tail,
        &TotalsLine {
            r#type: "totals",
            summary: &report.summary,
        },
    );
    out.write_all(&tail)
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
