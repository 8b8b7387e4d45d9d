//! What evaluation produces: an outcome for every subject of every rule, and
//! the state of each exception register.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::source::Span;

/// The result of one subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Every `require` held.
    Pass,
    /// A `require` did not hold and no waiver accepted an exception.
    Fail,
    /// A `require` did not hold, but a waiver accepted an exception.
    Waived,
    /// Evaluation failed; counts as non-compliant.
    Error,
}

impl Outcome {
    /// Every outcome, in report order.
    pub const ALL: [Outcome; 4] = [
        Outcome::Pass,
        Outcome::Fail,
        Outcome::Waived,
        Outcome::Error,
    ];

    /// The name as written in tests and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Waived => "waived",
            Outcome::Error => "error",
        }
    }

    /// Parses an outcome name.
    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

/// A message about a subject and the clause it comes from.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    /// The text.
    pub text: String,
    /// The `require` (or the failing expression, for an error).
    pub span: Span,
}

/// A register entry that waived a subject.
#[derive(Clone, Debug, PartialEq)]
pub struct Waived {
    /// The waiver's name.
    pub waiver: String,
    /// The entry's `id`, else its path.
    pub entry: String,
    /// The entry's approver, when it names one.
    pub approver: Option<String>,
    /// The entry's expiry, when it has one.
    pub expires: Option<String>,
}

/// A register entry a waiver considered and rejected, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Rejected {
    /// The waiver's name.
    pub waiver: String,
    /// The entry's `id`, else its path.
    pub entry: String,
    /// Each failing `require`'s message (or the evaluation error).
    pub reasons: Vec<String>,
}

/// The outcome of one subject of one rule.
#[derive(Clone, Debug, PartialEq)]
pub struct SubjectResult {
    /// The subject's name.
    pub subject: String,
    /// Its outcome.
    pub outcome: Outcome,
    /// Why it failed or errored.
    pub messages: Vec<Message>,
    /// Its deadline, from the rule's `due` clause.
    pub due: Option<NaiveDate>,
    /// Days past `due`, for an open failure.
    pub days_overdue: Option<i64>,
    /// The entry that waived it (boxed: few subjects are waived, and a
    /// fleet's evaluation holds hundreds of thousands of subjects).
    pub waived_by: Option<Box<Waived>>,
    /// Entries considered and rejected.
    pub rejected: Vec<Rejected>,
}

/// Every subject of one rule.
impl SubjectResult {
    /// An empty result, to be overwritten or dropped: allocates nothing.
    pub(crate) fn placeholder() -> SubjectResult {
        SubjectResult {
            subject: String::new(),
            outcome: Outcome::Pass,
            messages: Vec::new(),
            due: None,
            days_overdue: None,
            waived_by: None,
            rejected: Vec::new(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct RuleResult {
    /// Index of the rule in the program.
    pub rule: usize,
    /// Whether failures count against compliance now (mandatory and effective).
    pub enforced: bool,
    /// Subjects in evaluation order.
    pub subjects: Vec<SubjectResult>,
}

impl RuleResult {
    /// How many subjects have this outcome.
    pub fn count(&self, outcome: Outcome) -> usize {
        self.subjects
            .iter()
            .filter(|s| s.outcome == outcome)
            .count()
    }
}

/// What became of one exception register entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryStatus {
    /// It waived at least one failing subject.
    Used,
    /// It was considered for a failing subject and rejected every time.
    Rejected,
    /// No failing subject selected it: clean it up.
    Stale,
}

/// One entry of a register a waiver reads.
#[derive(Clone, Debug, PartialEq)]
pub struct RegisterEntry {
    /// The waiver reading the register.
    pub waiver: String,
    /// The entry's `id`, else its path.
    pub entry: String,
    /// What became of it.
    pub status: EntryStatus,
    /// Subjects it waived, as `rule/subject`.
    pub waived: Vec<String>,
    /// The approver it names.
    pub approver: Option<String>,
    /// Its expiry date.
    pub expires: Option<NaiveDate>,
    /// Already expired.
    pub expired: bool,
    /// Expires within the `--expiring-within` window.
    pub expiring: bool,
}

/// The outcome of evaluating a policy set against facts.
#[derive(Clone, Debug)]
pub struct Evaluation {
    /// The evaluation instant.
    pub now: DateTime<Utc>,
    /// One result per evaluated rule, in source order.
    pub rules: Vec<RuleResult>,
    /// Register entries of every waiver whose register is a facts collection.
    pub register: Vec<RegisterEntry>,
}
