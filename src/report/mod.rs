//! Reports: one model of an evaluation, one renderer per output format.

pub mod html;
pub mod json;
pub mod jsonl;
pub mod junit;
pub mod markdown;
pub mod pretty;
pub mod sarif;

use serde::Serialize;

use crate::eval::facts::{sha256_hex, FactsInput};
use crate::eval::outcome::{EntryStatus, Evaluation, Outcome, RegisterEntry, SubjectResult};
use crate::ir::{Level, Program, Severity};
use crate::source::Location;

/// The tool's version, printed in every report.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Everything a report says, in a stable key order.
#[derive(Debug, Serialize)]
pub struct Report {
    /// The tool and its version.
    pub tool: Tool,
    /// The evaluation instant.
    pub now: String,
    /// Policy files and facts inputs.
    pub inputs: Inputs,
    /// What an auditor needs to reproduce the run: digests and the command line.
    pub evidence: Evidence,
    /// Totals and the verdict.
    pub summary: Summary,
    /// One entry per evaluated rule.
    pub rules: Vec<RuleReport>,
    /// Every entry of every exception register, with what became of it.
    pub exceptions: Vec<ExceptionReport>,
}

/// The tool that wrote the report.
#[derive(Debug, Serialize)]
pub struct Tool {
    /// `edict`.
    pub name: &'static str,
    /// Its version.
    pub version: &'static str,
}

/// What was evaluated.
#[derive(Debug, Serialize)]
pub struct Inputs {
    /// The policy files.
    pub policy_files: Vec<String>,
    /// The facts inputs.
    pub facts: Vec<String>,
}

/// Digests of every input, the instant and the command line of a run.
#[derive(Debug, Serialize)]
pub struct Evidence {
    /// The tool's version.
    pub tool_version: &'static str,
    /// The evaluation instant.
    pub now: String,
    /// The command line, program name first as `edict`.
    pub command_line: Vec<String>,
    /// SHA-256 of the policy set: see [`policy_set_sha256`].
    pub policy_set_sha256: String,
    /// Each policy file's digest, in load order.
    pub policy_files: Vec<FileDigest>,
    /// Each facts input's digest, in the order given.
    pub facts: Vec<FileDigest>,
}

impl Evidence {
    /// The command line as one POSIX shell command.
    pub fn command(&self) -> String {
        shell_join(&self.command_line)
    }
}

/// Joins arguments into one POSIX shell command line, quoting where needed.
pub fn shell_join(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            let plain = !a.is_empty()
                && a.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,@%+".contains(&b));
            if plain {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The digest of every policy file the user gave (standard modules excluded).
pub fn policy_file_digests(program: &Program) -> Vec<FileDigest> {
    program
        .sources
        .iter()
        .map(|(_, s)| s)
        .filter(|s| !s.name.starts_with('<'))
        .map(|s| FileDigest {
            path: s.name.clone(),
            mount: None,
            bytes: s.text.len(),
            sha256: sha256_hex(s.text.as_bytes()),
        })
        .collect()
}

/// The digest of every facts input, in the order given.
pub fn facts_digests(inputs: &[crate::eval::facts::FactsInput]) -> Vec<FileDigest> {
    inputs
        .iter()
        .map(|i| FileDigest {
            path: i.path.display().to_string(),
            mount: i.mount.clone(),
            bytes: i.bytes,
            sha256: i.sha256.clone(),
        })
        .collect()
}

/// One input file and the SHA-256 of its bytes.
#[derive(Debug, Serialize, Clone)]
pub struct FileDigest {
    /// The file as named on the command line or found under a directory.
    pub path: String,
    /// The key a facts file is mounted under.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mount: Option<String>,
    /// Its length in bytes.
    pub bytes: usize,
    /// SHA-256 of its bytes, lowercase hex.
    pub sha256: String,
}

/// The policy set's digest: SHA-256 of each file's lowercase-hex SHA-256
/// followed by a newline, the lines sorted; independent of file names and order,
/// and equal to `sha256sum FILES | cut -d' ' -f1 | LC_ALL=C sort | sha256sum`.
pub fn policy_set_sha256<'a>(file_digests: impl IntoIterator<Item = &'a str>) -> String {
    let mut lines: Vec<&str> = file_digests.into_iter().collect();
    lines.sort_unstable();
    let mut text = String::with_capacity(lines.len() * 65);
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    sha256_hex(text.as_bytes())
}

/// `; N records: E evaluated, R rejected` when records were counted.
pub fn records_note(records: Option<&RecordCounts>) -> String {
    records.map_or_else(String::new, |r| {
        format!(
            "; {} records: {} evaluated, {} rejected",
            r.read, r.evaluated, r.rejected
        )
    })
}

/// Outcome totals and the verdict.
#[derive(Debug, Serialize, Default)]
pub struct Summary {
    /// Whether the run is compliant at the `fail-on` threshold.
    pub compliant: bool,
    /// The lowest severity that fails the run.
    pub fail_on: String,
    /// Rules evaluated.
    pub rules: usize,
    /// Subjects evaluated.
    pub subjects: usize,
    /// Outcome counts.
    pub pass: usize,
    /// Failures.
    pub fail: usize,
    /// Waived failures.
    pub waived: usize,
    /// Evaluation errors.
    pub error: usize,
    /// Exception register counts.
    pub exceptions: ExceptionCounts,
    /// JSON Lines facts records, when any were read: none goes unaccounted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub records: Option<RecordCounts>,
}

/// What became of the JSON Lines facts records: `read = evaluated + rejected`.
#[derive(Debug, Serialize, Default, Clone, PartialEq)]
pub struct RecordCounts {
    /// Records read, well-formed or not.
    pub read: usize,
    /// Well-formed records, evaluated.
    pub evaluated: usize,
    /// Malformed records, left out.
    pub rejected: usize,
    /// Where each rejected record is and why: `FILE:LINE:COLUMN: reason`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub malformed: Vec<String>,
}

/// How many register entries are in each state.
#[derive(Debug, Serialize, Default)]
pub struct ExceptionCounts {
    /// Entries that waived something.
    pub used: usize,
    /// Entries considered and rejected.
    pub rejected: usize,
    /// Entries no failing subject selected.
    pub stale: usize,
    /// Entries past their expiry.
    pub expired: usize,
    /// Entries expiring soon.
    pub expiring: usize,
}

/// One rule's results.
#[derive(Debug, Serialize)]
pub struct RuleReport {
    /// The rule's id.
    pub id: String,
    /// Its title.
    pub title: Option<String>,
    /// Its severity.
    pub severity: Severity,
    /// Mandatory or advisory.
    pub level: Level,
    /// Whether its failures count now (mandatory and effective).
    pub enforced: bool,
    /// Its citations.
    pub citations: Vec<String>,
    /// Its remediation advice.
    pub remediation: Option<String>,
    /// Where it is declared.
    pub location: Location,
    /// Outcome counts.
    pub counts: Counts,
    /// Every subject that did not pass.
    pub findings: Vec<Finding>,
    /// The subjects that passed.
    pub passed: Vec<String>,
}

/// Outcome counts of one rule.
#[derive(Debug, Serialize, Default, Clone, Copy)]
pub struct Counts {
    /// Passed.
    pub pass: usize,
    /// Failed.
    pub fail: usize,
    /// Waived.
    pub waived: usize,
    /// Errored.
    pub error: usize,
}

/// A subject that did not pass.
#[derive(Debug, Serialize)]
pub struct Finding {
    /// The subject.
    pub subject: String,
    /// fail, waived or error.
    pub outcome: Outcome,
    /// Why.
    pub messages: Vec<FindingMessage>,
    /// Its deadline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due: Option<String>,
    /// Days past its deadline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_overdue: Option<i64>,
    /// The exception that waived it (boxed, as few findings have one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waived_by: Option<Box<WaivedBy>>,
    /// Exceptions considered and rejected.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rejected: Vec<RejectedEntry>,
}

/// A message and where in the policy it comes from.
#[derive(Debug, Serialize)]
pub struct FindingMessage {
    /// The text.
    pub message: String,
    /// The `require` or failing expression.
    pub location: Location,
}

/// The register entry that waived a subject.
#[derive(Debug, Serialize)]
pub struct WaivedBy {
    /// The waiver.
    pub waiver: String,
    /// The entry.
    pub entry: String,
    /// Its approver.
    pub approver: Option<String>,
    /// Its expiry.
    pub expires: Option<String>,
}

/// A register entry considered and rejected.
#[derive(Debug, Serialize)]
pub struct RejectedEntry {
    /// The waiver.
    pub waiver: String,
    /// The entry.
    pub entry: String,
    /// Why.
    pub reasons: Vec<String>,
}

/// One register entry's state.
#[derive(Debug, Serialize)]
pub struct ExceptionReport {
    /// The waiver reading the register.
    pub waiver: String,
    /// The entry.
    pub entry: String,
    /// used, rejected or stale.
    pub status: EntryStatus,
    /// Its approver.
    pub approver: Option<String>,
    /// Its expiry.
    pub expires: Option<String>,
    /// Already expired.
    pub expired: bool,
    /// Expiring within the window.
    pub expiring: bool,
    /// Subjects it waived.
    pub waived: Vec<String>,
}

/// What a report needs besides the evaluation.
#[derive(Debug, Default, Clone)]
pub struct ReportOptions {
    /// Policy file names.
    pub policy_files: Vec<String>,
    /// Facts input names.
    pub facts: Vec<String>,
    /// The lowest severity whose failures make the run non-compliant.
    pub fail_on: Option<Severity>,
    /// The facts inputs as read, with their digests.
    pub facts_inputs: Vec<FactsInput>,
    /// The command line, program name first.
    pub command_line: Vec<String>,
    /// Threads for building the report from a large evaluation (0 or 1: the calling thread).
    pub threads: usize,
}

impl Report {
    /// Accounts for the JSON Lines records the facts read; a run that left
    /// any out is non-compliant, since its verdict covers less than its input.
    pub fn account_records(&mut self, facts: &crate::Facts) {
        if facts.records_read == 0 && facts.rejected.is_empty() {
            return;
        }
        let malformed: Vec<String> = facts
            .rejected
            .iter()
            .map(|e| match e {
                crate::FactsError::Syntax {
                    path,
                    line,
                    column,
                    reason,
                    ..
                } => format!("{path}:{line}:{column}: {reason}"),
                other => other.to_string(),
            })
            .collect();
        let rejected = malformed.len();
        if rejected > 0 {
            self.summary.compliant = false;
        }
        self.summary.records = Some(RecordCounts {
            read: facts.records_read,
            evaluated: facts.records_read.saturating_sub(rejected),
            rejected,
            malformed,
        });
    }

    /// Builds the report of an evaluation.
    pub fn new(program: &Program, evaluation: &Evaluation, options: &ReportOptions) -> Report {
        Report::from_evaluation(program, evaluation.clone(), options)
    }

    /// Builds the report of an evaluation, taking its subject names and
    /// messages rather than copying them (a fleet has hundreds of thousands).
    pub fn from_evaluation(
        program: &Program,
        evaluation: Evaluation,
        options: &ReportOptions,
    ) -> Report {
        let fail_on = options.fail_on.unwrap_or(Severity::Info);
        let mut summary = Summary {
            compliant: true,
            fail_on: fail_on.as_str().to_string(),
            ..Summary::default()
        };
        let mut rules = Vec::new();
        let mut locations = Locations::default();
        for result in evaluation.rules {
            let rule = &program.rules[result.rule];
            let counts = Counts {
                pass: result.count(Outcome::Pass),
                fail: result.count(Outcome::Fail),
                waived: result.count(Outcome::Waived),
                error: result.count(Outcome::Error),
            };
            summary.rules += 1;
            summary.subjects += result.subjects.len();
            summary.pass += counts.pass;
            summary.fail += counts.fail;
            summary.waived += counts.waived;
            summary.error += counts.error;
            if result.enforced && rule.severity >= fail_on && counts.fail + counts.error > 0 {
                summary.compliant = false;
            }
            let (findings, passed) =
                if options.threads > 1 && result.subjects.len() >= SPLIT_SUBJECTS {
                    split_on_threads(program, result.subjects, options.threads)
                } else {
                    let mut findings = Vec::with_capacity(result.subjects.len() - counts.pass);
                    let mut passed = Vec::with_capacity(counts.pass);
                    for s in result.subjects {
                        if s.outcome == Outcome::Pass {
                            passed.push(s.subject);
                        } else {
                            findings.push(finding(program, s, &mut locations));
                        }
                    }
                    (findings, passed)
                };
            rules.push(RuleReport {
                id: rule.id.to_string(),
                title: rule.title.clone(),
                severity: rule.severity,
                level: rule.level,
                enforced: result.enforced,
                citations: rule.cites.clone(),
                remediation: rule.remediation.clone(),
                location: program.sources.location(rule.name_span),
                counts,
                findings,
                passed,
            });
        }
        let policy_files = policy_file_digests(program);
        let now = evaluation.now.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let evidence = Evidence {
            tool_version: VERSION,
            now: now.clone(),
            command_line: options.command_line.clone(),
            policy_set_sha256: policy_set_sha256(policy_files.iter().map(|f| f.sha256.as_str())),
            policy_files,
            facts: facts_digests(&options.facts_inputs),
        };
        let exceptions: Vec<ExceptionReport> = evaluation.register.iter().map(exception).collect();
        for e in &exceptions {
            match e.status {
                EntryStatus::Used => summary.exceptions.used += 1,
                EntryStatus::Rejected => summary.exceptions.rejected += 1,
                EntryStatus::Stale => summary.exceptions.stale += 1,
            }
            summary.exceptions.expired += usize::from(e.expired);
            summary.exceptions.expiring += usize::from(e.expiring);
        }
        Report {
            tool: Tool {
                name: "edict",
                version: VERSION,
            },
            now,
            inputs: Inputs {
                policy_files: options.policy_files.clone(),
                facts: options.facts.clone(),
            },
            evidence,
            summary,
            rules,
            exceptions,
        }
    }

    /// The report as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        json::render(self).trim_end().to_string()
    }

    /// Renders the report in a format.
    pub fn render(&self, format: Format, color: bool) -> String {
        self.render_on(format, color, 1)
    }

    /// Renders the report like [`Report::render`], using up to `threads`
    /// threads where the format allows (JSON Lines); the text is the same.
    pub fn render_on(&self, format: Format, color: bool, threads: usize) -> String {
        let mut out = Vec::new();
        // Writing to memory cannot fail, and every format writes UTF-8.
        let _ = self.write_to(&mut out, format, color, threads);
        String::from_utf8(out).unwrap_or_default()
    }

    /// Writes the report as [`Report::render_on`] renders it. JSON and JSON
    /// Lines are serialized straight into `out`, never held whole: a fleet's
    /// report is hundreds of megabytes.
    pub fn write_to(
        &self,
        out: &mut dyn std::io::Write,
        format: Format,
        color: bool,
        threads: usize,
    ) -> std::io::Result<()> {
        let text = match format {
            Format::Json => return json::write(self, threads, out),
            Format::Jsonl => return jsonl::write(self, threads, out),
            Format::Pretty => pretty::render(self, color),
            Format::Sarif => sarif::render(self),
            Format::Junit => junit::render(self),
            Format::Markdown => markdown::render(self),
            Format::Html => html::render(self),
        };
        out.write_all(text.as_bytes())
    }

    /// One line for a terminal: totals and the verdict.
    pub fn summary_line(&self) -> String {
        let s = &self.summary;
        format!(
            "{} rules, {} subjects: {} pass, {} fail, {} waived, {} error{} — {}",
            s.rules,
            s.subjects,
            s.pass,
            s.fail,
            s.waived,
            s.error,
            records_note(s.records.as_ref()),
            if s.compliant {
                "COMPLIANT"
            } else {
                "NON-COMPLIANT"
            }
        )
    }

    /// Every subject's outcome as (rule, subject, finding if it did not pass),
    /// per rule: findings first, then passes, each in evaluation order.
    pub fn outcomes(&self) -> impl Iterator<Item = (&RuleReport, &str, Option<&Finding>)> {
        self.rules.iter().flat_map(|r| {
            r.findings
                .iter()
                .map(move |f| (r, f.subject.as_str(), Some(f)))
                .chain(r.passed.iter().map(move |p| (r, p.as_str(), None)))
        })
    }
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Format {
    /// Grouped by rule, for people at a terminal.
    Pretty,
    /// One JSON document.
    Json,
    /// One JSON object a line: evidence, every outcome, totals.
    Jsonl,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
    /// JUnit XML, one testcase per subject, for CI test views.
    Junit,
    /// Markdown, for a pull-request comment.
    Markdown,
    /// A self-contained HTML audit report.
    Html,
}

impl Format {
    /// The format's name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Pretty => "pretty",
            Format::Json => "json",
            Format::Jsonl => "jsonl",
            Format::Sarif => "sarif",
            Format::Junit => "junit",
            Format::Markdown => "markdown",
            Format::Html => "html",
        }
    }
}

/// Rules with fewer subjects than this are reported on one thread.
const SPLIT_SUBJECTS: usize = 16_384;

/// A rule's findings and passed subjects, in order, built on `threads`
/// threads: each takes a contiguous run of subjects and fills its own part
/// of the two lists, sized beforehand from the outcomes.
fn split_on_threads(
    program: &Program,
    mut subjects: Vec<SubjectResult>,
    threads: usize,
) -> (Vec<Finding>, Vec<String>) {
    let per = subjects.len().div_ceil(threads);
    let parts: Vec<(usize, usize)> = subjects
        .chunks(per)
        .map(|chunk| {
            let passed = chunk.iter().filter(|s| s.outcome == Outcome::Pass).count();
            (chunk.len() - passed, passed)
        })
        .collect();
    let (failed, passed): (usize, usize) = parts
        .iter()
        .fold((0, 0), |(f, p), (cf, cp)| (f + cf, p + cp));
    let mut findings: Vec<Finding> = std::iter::repeat_with(Finding::placeholder)
        .take(failed)
        .collect();
    let mut passes = vec![String::new(); passed];
    std::thread::scope(|scope| {
        let (mut findings_left, mut passes_left) = (&mut findings[..], &mut passes[..]);
        for (chunk, &(failed, passed)) in subjects.chunks_mut(per).zip(&parts) {
            let (into_findings, rest) = std::mem::take(&mut findings_left).split_at_mut(failed);
            findings_left = rest;
            let (into_passes, rest) = std::mem::take(&mut passes_left).split_at_mut(passed);
            passes_left = rest;
            scope.spawn(move || {
                let mut locations = Locations::default();
                let (mut into_findings, mut into_passes) =
                    (into_findings.iter_mut(), into_passes.iter_mut());
                for s in chunk {
                    let s = std::mem::replace(s, SubjectResult::placeholder());
                    if s.outcome == Outcome::Pass {
                        if let Some(slot) = into_passes.next() {
                            *slot = s.subject;
                        }
                    } else if let Some(slot) = into_findings.next() {
                        *slot = finding(program, s, &mut locations);
                    }
                }
            });
        }
    });
    (findings, passes)
}

impl Finding {
    /// An empty finding, to be overwritten: allocates nothing.
    fn placeholder() -> Finding {
        Finding {
            subject: String::new(),
            outcome: Outcome::Fail,
            messages: Vec::new(),
            due: None,
            days_overdue: None,
            waived_by: None,
            rejected: Vec::new(),
        }
    }
}

/// Locations of the few spans a run's messages come from, each worked out
/// once: a fleet's report has hundreds of thousands of messages.
#[derive(Default)]
struct Locations(Vec<(crate::source::Span, Location)>);

impl Locations {
    /// Spans remembered; past this, a location is worked out each time.
    const MAX: usize = 256;

    fn of(&mut self, program: &Program, span: crate::source::Span) -> Location {
        if let Some((_, l)) = self.0.iter().find(|(s, _)| *s == span) {
            return l.clone();
        }
        let l = program.sources.location(span);
        if self.0.len() < Self::MAX {
            self.0.push((span, l.clone()));
        }
        l
    }
}

fn finding(program: &Program, s: SubjectResult, locations: &mut Locations) -> Finding {
    Finding {
        subject: s.subject,
        outcome: s.outcome,
        messages: s
            .messages
            .into_iter()
            .map(|m| FindingMessage {
                message: m.text,
                location: locations.of(program, m.span),
            })
            .collect(),
        due: s.due.map(|d| d.to_string()),
        days_overdue: s.days_overdue,
        waived_by: s.waived_by.map(|w| {
            Box::new(WaivedBy {
                waiver: w.waiver,
                entry: w.entry,
                approver: w.approver,
                expires: w.expires,
            })
        }),
        rejected: s
            .rejected
            .into_iter()
            .map(|r| RejectedEntry {
                waiver: r.waiver,
                entry: r.entry,
                reasons: r.reasons,
            })
            .collect(),
    }
}

fn exception(e: &RegisterEntry) -> ExceptionReport {
    ExceptionReport {
        waiver: e.waiver.clone(),
        entry: e.entry.clone(),
        status: e.status,
        approver: e.approver.clone(),
        expires: e.expires.map(|d| d.to_string()),
        expired: e.expired,
        expiring: e.expiring,
        waived: e.waived.clone(),
    }
}

/// `policy` evaluated over a generated fleet, for report tests: `n` assets
/// (`id` ending in `suffix`, given as JSON string text, `n`, and a `due` that is not a date on every
/// seventh, an error subject) and a `register` with an entry for every
/// ninth asset, every other one not `ok`.
#[cfg(test)]
pub(crate) fn evaluate_fleet(
    policy: &str,
    n: usize,
    suffix: &str,
) -> (crate::PolicySet, crate::Evaluation) {
    let set = crate::PolicySet::from_sources([("p.edict".to_string(), policy.to_string())])
        .unwrap_or_else(|f| panic!("{:?}", f.diagnostics));
    let assets: Vec<String> = (0..n)
        .map(|i| {
            let due = if i % 7 == 0 { "soon" } else { "2026-01-01" };
            format!(r#"{{"id": "a{i}{suffix}", "n": {i}, "due": "{due}"}}"#)
        })
        .collect();
    let register: Vec<String> = (0..n)
        .step_by(9)
        .map(|i| {
            format!(
                r#"{{"id": "E{i}", "asset": "a{i}{suffix}", "ok": {}}}"#,
                i % 2 == 0
            )
        })
        .collect();
    let facts = crate::Facts::from_json_str(&format!(
        r#"{{"assets": [{}], "register": [{}]}}"#,
        assets.join(","),
        register.join(",")
    ))
    .unwrap();
    let ev = set.evaluate(&facts, &crate::EvalOptions::default());
    (set, ev)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_built_on_threads_equals_one_built_on_one() {
        let policy = r#"
rule r {
  for a in assets
  subject a.id
  due a.due
  require a.n % 3 != 0 else "{a.id} fails"
  require a.n % 5 != 0 else "{a.id} fails twice"
}
waiver w for r {
  from e in register where e.asset == a.id
  require e.ok == true else "entry {e.id} is not ok"
}
"#;
        let (set, ev) = evaluate_fleet(policy, 40_000, "");
        let build = |threads: usize| {
            let options = ReportOptions {
                threads,
                ..ReportOptions::default()
            };
            let report = Report::new(set.program(), &ev, &options);
            serde_json::to_string(&report).unwrap()
        };
        let one = build(1);
        for outcome in ["fail", "waived", "error"] {
            assert!(
                one.contains(&format!("\"outcome\":\"{outcome}\"")),
                "no {outcome}"
            );
        }
        assert!(one.contains(r#""passed":["a1","#), "no passes");
        assert_eq!(build(2), one);
        assert_eq!(build(3), one);
    }

    #[test]
    fn shell_join_quotes_only_what_needs_it() {
        let args = ["edict", "eval", "a b", "it's", ""].map(String::from);
        assert_eq!(shell_join(&args), r"edict eval 'a b' 'it'\''s' ''");
    }

    #[test]
    fn policy_set_digest_ignores_order_and_matches_sha256sum_of_sorted_lines() {
        let a = sha256_hex(b"rule a {}");
        let b = sha256_hex(b"rule b {}");
        assert_eq!(
            policy_set_sha256([a.as_str(), b.as_str()]),
            policy_set_sha256([b.as_str(), a.as_str()])
        );
        let mut lines = [a.clone(), b.clone()];
        lines.sort();
        let text = format!("{}\n{}\n", lines[0], lines[1]);
        assert_eq!(
            policy_set_sha256([a.as_str(), b.as_str()]),
            sha256_hex(text.as_bytes())
        );
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
