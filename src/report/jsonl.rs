//! JSON Lines: the evidence first, one line per subject (passes included), totals last.

use std::io::Write;

use serde::Serialize;

use super::{Evidence, Finding, Report, RuleReport, Summary};

/// The first line: what produced the report.
#[derive(Serialize)]
struct EvidenceLine<'a> {
    r#type: &'static str,
    tool: &'static str,
    #[serde(flatten)]
    evidence: &'a Evidence,
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

/// Writes one subject's outcome a line, its rule's identity repeated so each
/// line stands alone: `type`, `rule`, `severity`, `level`, `enforced`, then
/// the finding's fields as the JSON report has them (or `subject` and
/// `outcome: pass`).
///
/// Assembled by hand: a fleet's report has hundreds of thousands of lines,
/// the part naming the rule is the same on all of a rule's lines, and most
/// strings need no escaping. The text is what serializing the line with
/// serde gives (a test compares them).
fn outcome_lines(out: &mut Vec<u8>, outcomes: &[OutcomeRef<'_>]) {
    let mut head: (*const RuleReport, Vec<u8>) = (std::ptr::null(), Vec::new());
    for &(rule, subject, finding) in outcomes {
        if !std::ptr::eq(head.0, rule) {
            head = (rule, line_head(rule));
        }
        out.extend_from_slice(&head.1);
        json_str(out, subject);
        match finding {
            None => out.extend_from_slice(br#","outcome":"pass"}"#),
            Some(f) => {
                outcome_and_messages(out, f.outcome, &f.messages, |out, m| {
                    out.extend_from_slice(br#"{"message":"#);
                    json_str(out, &m.message);
                    let l = &m.location;
                    out.extend_from_slice(br#","location":{"file":"#);
                    json_str(out, &l.file);
                    // Writing to a vector cannot fail.
                    let _ = write!(
                        out,
                        r#","line":{},"column":{},"end_line":{},"end_column":{}}}}}"#,
                        l.line, l.column, l.end_line, l.end_column
                    );
                });
                if let Some(due) = &f.due {
                    out.extend_from_slice(br#","due":"#);
                    json_str(out, due);
                }
                if let Some(days) = f.days_overdue {
                    let _ = write!(out, r#","days_overdue":{days}"#);
                }
                if let Some(w) = &f.waived_by {
                    out.extend_from_slice(br#","waived_by":"#);
                    serialize(out, w);
                }
                if !f.rejected.is_empty() {
                    out.extend_from_slice(br#","rejected":"#);
                    serialize(out, &f.rejected);
                }
                out.push(b'}');
            }
        }
        out.push(b'\n');
    }
}

/// The start of each of a rule's outcome lines, up to the subject's value.
fn line_head(rule: &RuleReport) -> Vec<u8> {
    let mut head = br#"{"type":"outcome","rule":"#.to_vec();
    json_str(&mut head, &rule.id);
    head.extend_from_slice(br#","severity":"#);
    serialize(&mut head, &rule.severity);
    head.extend_from_slice(br#","level":"#);
    serialize(&mut head, &rule.level);
    head.extend_from_slice(br#","enforced":"#);
    head.extend_from_slice(if rule.enforced { b"true" } else { b"false" });
    head.extend_from_slice(br#","subject":"#);
    head
}

/// Appends `,"outcome":"…","messages":[…]`, each message written by `message`.
pub(crate) fn outcome_and_messages<M>(
    out: &mut Vec<u8>,
    outcome: crate::eval::Outcome,
    messages: &[M],
    mut message: impl FnMut(&mut Vec<u8>, &M),
) {
    out.extend_from_slice(br#","outcome":""#);
    out.extend_from_slice(outcome.as_str().as_bytes());
    out.extend_from_slice(br#"","messages":["#);
    for (i, m) in messages.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        message(out, m);
    }
    out.push(b']');
}

/// Appends a JSON string: copied as it is unless a byte needs escaping.
pub(crate) fn json_str(out: &mut Vec<u8>, s: &str) {
    // No early exit, so the check runs over whole vectors of bytes.
    let escapes = s.bytes().fold(false, |any, b| {
        any | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if escapes {
        serialize(out, s);
    } else {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    }
}

/// Appends a value as serde serializes it (none of the report's can fail).
fn serialize(out: &mut Vec<u8>, value: &(impl Serialize + ?Sized)) {
    let _ = serde_json::to_writer(&mut *out, value);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Level, Severity};

    /// An outcome line as serde writes it: what the hand-assembled line must equal.
    #[derive(Serialize)]
    struct Reference<'a> {
        r#type: &'static str,
        rule: &'a str,
        severity: Severity,
        level: Level,
        enforced: bool,
        #[serde(flatten)]
        outcome: ReferenceOutcome<'a>,
    }

    #[derive(Serialize)]
    #[serde(untagged)]
    enum ReferenceOutcome<'a> {
        Finding(&'a Finding),
        Pass {
            subject: &'a str,
            outcome: &'static str,
        },
    }

    #[test]
    fn outcome_lines_are_what_serde_writes() {
        let policy = r#"
rule r1 {
  severity critical
  for a in assets
  subject "{a.id}"
  due a.due
  require a.ok else "{a.id}: not ok \"quoted\" é"
  require a.id != "x" else "second message"
}
rule r2 {
  level advisory
  for a in assets
  subject a.id
  require a.n > 0
}
waiver w for r1 {
  from e in register where e.asset == a.id
  require e.ok == true else "entry {e.id} is \"bad\""
}
"#;
        let set =
            crate::PolicySet::from_sources([("p.edict".to_string(), policy.to_string())]).unwrap();
        let facts = crate::Facts::from_json_str(
            r#"{"assets": [
                {"id": "x", "ok": false, "due": "2026-01-01", "n": 1},
                {"id": "y\u0007\"", "ok": true, "due": "2026-01-01", "n": 0},
                {"id": "w", "ok": false, "due": "2026-12-31", "n": "bad"},
                {"id": "v", "ok": false, "due": "2026-01-01", "n": 2}
            ],
            "register": [
                {"id": "E1", "asset": "w", "ok": true, "approver": "ann", "expires": "2027-01-01"},
                {"id": "E2", "asset": "v", "ok": false}
            ]}"#,
        )
        .unwrap();
        let options = crate::EvalOptions {
            now: crate::eval::value::midnight(chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()),
            ..Default::default()
        };
        let ev = set.evaluate(&facts, &options);
        let report = Report::new(set.program(), &ev, &super::super::ReportOptions::default());
        let outcomes: Vec<_> = report.outcomes().collect();
        let mut fast = Vec::new();
        outcome_lines(&mut fast, &outcomes);
        let mut reference = Vec::new();
        for &(rule, subject, finding) in &outcomes {
            let outcome = match finding {
                Some(f) => ReferenceOutcome::Finding(f),
                None => ReferenceOutcome::Pass {
                    subject,
                    outcome: "pass",
                },
            };
            let r = Reference {
                r#type: "outcome",
                rule: &rule.id,
                severity: rule.severity,
                level: rule.level,
                enforced: rule.enforced,
                outcome,
            };
            line(&mut reference, &r);
        }
        let (fast, reference) = (
            String::from_utf8(fast).unwrap(),
            String::from_utf8(reference).unwrap(),
        );
        assert_eq!(fast, reference);
        // Every kind of line is there, and strings that need escaping.
        for expected in [
            r#""outcome":"pass""#,
            r#""outcome":"fail""#,
            r#""outcome":"waived""#,
            r#""outcome":"error""#,
            r#""waived_by":"#,
            r#""rejected":"#,
            r#""days_overdue":"#,
            r#"\"quoted\""#,
            r#"\u0007"#,
        ] {
            assert!(fast.contains(expected), "no {expected} in\n{fast}");
        }
    }
}
