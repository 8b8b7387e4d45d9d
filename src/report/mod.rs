//! Reports: one model of an evaluation, one renderer per output format.

pub mod pretty;

use serde::Serialize;

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
    /// The exception that waived it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waived_by: Option<WaivedBy>,
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
}

impl Report {
    /// Builds the report of an evaluation.
    pub fn new(program: &Program, evaluation: &Evaluation, options: &ReportOptions) -> Report {
        let fail_on = options.fail_on.unwrap_or(Severity::Info);
        let mut summary = Summary {
            compliant: true,
            fail_on: fail_on.as_str().to_string(),
            ..Summary::default()
        };
        let mut rules = Vec::new();
        for result in &evaluation.rules {
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
                findings: result
                    .subjects
                    .iter()
                    .filter(|s| s.outcome != Outcome::Pass)
                    .map(|s| finding(program, s))
                    .collect(),
                passed: result
                    .subjects
                    .iter()
                    .filter(|s| s.outcome == Outcome::Pass)
                    .map(|s| s.subject.clone())
                    .collect(),
            });
        }
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
            now: evaluation.now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            inputs: Inputs {
                policy_files: options.policy_files.clone(),
                facts: options.facts.clone(),
            },
            summary,
            rules,
            exceptions,
        }
    }

    /// The report as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

fn finding(program: &Program, s: &SubjectResult) -> Finding {
    Finding {
        subject: s.subject.clone(),
        outcome: s.outcome,
        messages: s
            .messages
            .iter()
            .map(|m| FindingMessage {
                message: m.text.clone(),
                location: program.sources.location(m.span),
            })
            .collect(),
        due: s.due.map(|d| d.to_string()),
        days_overdue: s.days_overdue,
        waived_by: s.waived_by.as_ref().map(|w| WaivedBy {
            waiver: w.waiver.clone(),
            entry: w.entry.clone(),
            approver: w.approver.clone(),
            expires: w.expires.clone(),
        }),
        rejected: s
            .rejected
            .iter()
            .map(|r| RejectedEntry {
                waiver: r.waiver.clone(),
                entry: r.entry.clone(),
                reasons: r.reasons.clone(),
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
