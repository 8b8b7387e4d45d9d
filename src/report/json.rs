//! The JSON report: the whole model as one pretty-printed document.

use std::io::Write;

use serde::Serialize;

use super::{
    Counts, Evidence, ExceptionReport, Finding, Inputs, Report, RuleReport, Summary, Tool,
};
use crate::ir::{Level, Severity};
use crate::source::Location;

/// Renders the report as one JSON document, keys in a stable order.
pub fn render(report: &Report) -> String {
    let mut out = serde_json::to_string_pretty(report).unwrap_or_default();
    out.push('\n');
    out
}

/// Findings rendered per thread at a time; each block is written before the
/// next is rendered, so the document is never held whole.
const BLOCK_FINDINGS: usize = 4096;

/// Writes the document [`render`] renders, without holding it whole, its
/// findings rendered on up to `threads` threads.
///
/// The document around the findings (totals, inputs, evidence, rules'
/// metadata, exceptions) is serialized with a marker in place of each
/// rule's `findings` and `passed`; the lists are written where the markers
/// are. A finding rendered on its own and indented by its depth is what the
/// pretty printer writes in place: no JSON string holds a raw newline. A
/// test compares the two documents.
pub fn write(report: &Report, threads: usize, out: &mut dyn Write) -> std::io::Result<()> {
    let skeleton = serde_json::to_vec_pretty(&Skeleton::of(report))?;
    let mut rest = &skeleton[..];
    for (k, rule) in report.rules.iter().enumerate() {
        for list in [List::Findings, List::Passed] {
            let marker = format!("{}: {}", json(list.key()), json(&marker(list, k)));
            let Some(at) = find(rest, marker.as_bytes()) else {
                return Err(std::io::Error::other("the report skeleton lost a marker"));
            };
            // Up to and including the key.
            let value_at = at + json(list.key()).len() + 2;
            out.write_all(&rest[..value_at])?;
            match list {
                List::Findings => write_findings(&rule.findings, threads, out)?,
                List::Passed => write_passed(&rule.passed, out)?,
            }
            rest = &rest[at + marker.len()..];
        }
    }
    out.write_all(rest)?;
    out.write_all(b"\n")
}

/// Elements of a rule's lists sit four levels deep: report, `rules`, the
/// rule, the list.
const ELEMENT_INDENT: &[u8] = b"        ";
/// The closing bracket of a rule's list, three levels deep.
const LIST_INDENT: &[u8] = b"      ";

fn write_findings(
    findings: &[Finding],
    threads: usize,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    if findings.is_empty() {
        return out.write_all(b"[]");
    }
    out.write_all(b"[")?;
    let threads = threads.max(1);
    for (b, block) in findings.chunks(BLOCK_FINDINGS * threads).enumerate() {
        let per = block.len().div_ceil(threads);
        let rendered: Vec<std::io::Result<Vec<u8>>> = if threads == 1 || block.len() < 2 * per {
            vec![render_findings(block, b == 0)]
        } else {
            std::thread::scope(|scope| {
                let workers: Vec<_> = block
                    .chunks(per)
                    .enumerate()
                    .map(|(i, chunk)| scope.spawn(move || render_findings(chunk, b == 0 && i == 0)))
                    .collect();
                workers
                    .into_iter()
                    .map(|w| {
                        w.join().unwrap_or_else(|_| {
                            Err(std::io::Error::other("a report worker failed"))
                        })
                    })
                    .collect()
            })
        };
        for part in rendered {
            out.write_all(&part?)?;
        }
    }
    out.write_all(b"\n")?;
    out.write_all(LIST_INDENT)?;
    out.write_all(b"]")
}

/// Findings as elements of a pretty-printed list, each after its separator.
fn render_findings(findings: &[Finding], first: bool) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut one = Vec::new();
    for (i, f) in findings.iter().enumerate() {
        out.extend_from_slice(if first && i == 0 { b"\n" } else { b",\n" });
        out.extend_from_slice(ELEMENT_INDENT);
        one.clear();
        serde_json::to_writer_pretty(&mut one, f)?;
        for (j, line) in one.split(|&b| b == b'\n').enumerate() {
            if j > 0 {
                out.push(b'\n');
                out.extend_from_slice(ELEMENT_INDENT);
            }
            out.extend_from_slice(line);
        }
    }
    Ok(out)
}

fn write_passed(passed: &[String], out: &mut dyn Write) -> std::io::Result<()> {
    if passed.is_empty() {
        return out.write_all(b"[]");
    }
    let mut text = Vec::with_capacity(passed.len() * 24);
    text.push(b'[');
    for (i, subject) in passed.iter().enumerate() {
        text.extend_from_slice(if i == 0 { b"\n" } else { b",\n" });
        text.extend_from_slice(ELEMENT_INDENT);
        serde_json::to_writer(&mut text, subject)?;
    }
    text.push(b'\n');
    text.extend_from_slice(LIST_INDENT);
    text.push(b']');
    out.write_all(&text)
}

#[derive(Clone, Copy)]
enum List {
    Findings,
    Passed,
}

impl List {
    fn key(self) -> &'static str {
        match self {
            List::Findings => "findings",
            List::Passed => "passed",
        }
    }
}

/// Stands in for rule `k`'s list: a control character no report string
/// holds raw, after the key, which no string holds with its quotes raw.
fn marker(list: List, k: usize) -> String {
    format!("\u{1}edict:{}:{k}", list.key())
}

fn json(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

/// The report with a marker for each rule's findings and passes. Its fields
/// are [`Report`]'s and [`RuleReport`]'s, in their order; the test that
/// compares documents fails if they drift apart.
#[derive(Serialize)]
struct Skeleton<'a> {
    tool: &'a Tool,
    now: &'a str,
    inputs: &'a Inputs,
    evidence: &'a Evidence,
    summary: &'a Summary,
    rules: Vec<RuleSkeleton<'a>>,
    exceptions: &'a [ExceptionReport],
}

#[derive(Serialize)]
struct RuleSkeleton<'a> {
    id: &'a str,
    title: &'a Option<String>,
    severity: Severity,
    level: Level,
    enforced: bool,
    citations: &'a [String],
    remediation: &'a Option<String>,
    location: &'a Location,
    counts: &'a Counts,
    findings: String,
    passed: String,
}

impl<'a> Skeleton<'a> {
    fn of(r: &'a Report) -> Skeleton<'a> {
        Skeleton {
            tool: &r.tool,
            now: &r.now,
            inputs: &r.inputs,
            evidence: &r.evidence,
            summary: &r.summary,
            rules: r
                .rules
                .iter()
                .enumerate()
                .map(|(k, rule): (usize, &'a RuleReport)| RuleSkeleton {
                    id: &rule.id,
                    title: &rule.title,
                    severity: rule.severity,
                    level: rule.level,
                    enforced: rule.enforced,
                    citations: &rule.citations,
                    remediation: &rule.remediation,
                    location: &rule.location,
                    counts: &rule.counts,
                    findings: marker(List::Findings, k),
                    passed: marker(List::Passed, k),
                })
                .collect(),
            exceptions: &r.exceptions,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_what_serde_pretty_prints() {
        let policy = r#"
/// A rule with every kind of outcome.
rule r {
  title "R \"one\""
  cite "§ 1"
  for a in assets
  subject a.id
  due a.due
  require a.n % 3 != 0 else "{a.id}: \"fails\" é"
  require a.n % 5 != 0 else "{a.id} fails twice"
}
rule all_pass {
  for a in assets
  subject a.id
  require true
}
rule none_pass {
  for a in assets where a.n < 3
  subject a.id
  require false
}
rule nothing {
  for a in assets where false
  require true
}
waiver w for r {
  from e in register where e.asset == a.id
  require e.ok == true else "entry {e.id} is not ok"
}
"#;
        // A control character in every id, for escaping.
        let (set, ev) = super::super::evaluate_fleet(policy, 30_000, r"\u0007");
        let report = Report::new(set.program(), &ev, &super::super::ReportOptions::default());
        let expected = render(&report);
        for threads in [1, 2, 3] {
            let mut written = Vec::new();
            write(&report, threads, &mut written).unwrap();
            assert!(
                String::from_utf8(written).unwrap() == expected,
                "{threads} threads: the documents differ"
            );
        }
        assert!(expected.contains(r#""findings": [],"#));
        assert!(expected.contains(r#""passed": []"#));
    }
}
