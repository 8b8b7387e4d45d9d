//! Rules: enumerate subjects, decide each one's outcome, consult waivers for
//! failures, and keep track of which register entries were used.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use super::expr::visit_order;
use super::origin::Origin;
use super::outcome::*;
use super::progress::PUBLISH_EVERY;
use super::value::Value;
use super::{EvalError, Machine};
use crate::ir::{ExprKind, Level, RequireDef, RuleDef, Step, WaiverStep, WaiverUse};

/// Which register entries were used or rejected, by (waiver, entry index).
#[derive(Default)]
pub(crate) struct Registers {
    pub(super) used: BTreeMap<(usize, usize), Vec<String>>,
    pub(super) considered: BTreeSet<(usize, usize)>,
    /// A register-reading use of each waiver, to list its entries.
    pub(super) global_uses: BTreeMap<usize, (usize, usize)>,
}

/// Fields that conventionally hold an entry's approver.
const APPROVER_FIELDS: [&str; 3] = ["approver", "approved_by", "approver_role"];
/// Fields that conventionally hold an entry's expiry date.
const EXPIRY_FIELDS: [&str; 5] = [
    "expires",
    "expiry",
    "expires_on",
    "expiration",
    "expiry_date",
];

fn first_field(entry: &Value, names: &[&str]) -> Option<Value> {
    names
        .iter()
        .find_map(|n| entry.get(n))
        .filter(|v| !v.is_null())
        .cloned()
}

impl<'p> Machine<'p> {
    /// Evaluates every subject of a rule.
    pub(crate) fn run_rule(&mut self, rule: &'p RuleDef, registers: &mut Registers) -> RuleResult {
        let index = self
            .program
            .rules
            .iter()
            .position(|r| std::ptr::eq(r, rule))
            .unwrap_or(0);
        for (u, w) in rule.waivers.iter().enumerate() {
            if w.register_is_global {
                registers.global_uses.entry(w.waiver).or_insert((index, u));
            }
        }
        self.stack.clear();
        self.origins.clear();
        self.base = 0;
        let mut subjects = Vec::new();
        self.walk(rule, 0, &mut subjects, registers);
        let effective = rule.effective.is_none_or(|d| self.today >= d);
        RuleResult {
            rule: index,
            enforced: rule.level == Level::Mandatory && effective,
            subjects,
        }
    }

    fn walk(
        &mut self,
        rule: &'p RuleDef,
        step: usize,
        out: &mut Vec<SubjectResult>,
        registers: &mut Registers,
    ) {
        let Some(current) = rule.steps.get(step) else {
            self.steps = 0;
            let result = self.subject(rule, registers);
            out.push(result);
            return;
        };
        self.steps = 0;
        match current {
            Step::For(l) => {
                let items = match self.list(&l.source) {
                    Ok(items) => items,
                    Err(e) => return out.push(self.error_subject(rule, step, e)),
                };
                let candidates = self.join_candidates(l, &items);
                let chunk = match (&self.first_range, step) {
                    (Some(r), 0) => r.clone(),
                    _ => 0..items.len(),
                };
                // The first `for`'s records are counted for a progress display;
                // a worker's chunk is counted toward the total its caller set.
                let progress = if step == 0 {
                    self.progress.clone()
                } else {
                    None
                };
                if let (Some(progress), None) = (&progress, &self.first_range) {
                    progress.set_total(items.len());
                }
                let mut unpublished = 0;
                for index in visit_order(candidates.as_deref(), items.len()) {
                    if !chunk.contains(&index) {
                        continue;
                    }
                    if let Some(progress) = &progress {
                        unpublished += 1;
                        if unpublished == PUBLISH_EVERY {
                            progress.add(unpublished);
                            unpublished = 0;
                        }
                    }
                    let Some(item) = items.get(index) else {
                        continue;
                    };
                    self.steps = 0;
                    self.set_local(
                        l.slot,
                        item.clone(),
                        Origin::Element {
                            source: &l.source,
                            index,
                            base: 0,
                        },
                    );
                    if let Some(filter) = &l.filter {
                        match self.condition(filter) {
                            Ok(true) => {}
                            Ok(false) => continue,
                            Err(e) => {
                                out.push(self.error_subject(rule, step + 1, e));
                                continue;
                            }
                        }
                    }
                    self.walk(rule, step + 1, out, registers);
                }
                if let Some(progress) = &progress {
                    progress.add(unpublished);
                }
            }
            Step::Let { slot, value } => match self.eval(value) {
                Ok(v) => {
                    self.set_local(
                        *slot,
                        v,
                        Origin::Alias {
                            expr: value,
                            base: 0,
                        },
                    );
                    self.walk(rule, step + 1, out, registers);
                }
                Err(e) => out.push(self.error_subject(rule, step, e)),
            },
            Step::Where(cond) => match self.condition(cond) {
                Ok(true) => self.walk(rule, step + 1, out, registers),
                Ok(false) => {}
                Err(e) => out.push(self.error_subject(rule, step, e)),
            },
        }
    }

    /// The slots bound by the first `steps` steps.
    fn bound_slots(rule: &RuleDef, steps: usize) -> Vec<usize> {
        rule.steps[..steps.min(rule.steps.len())]
            .iter()
            .filter_map(|s| match s {
                Step::For(l) => Some(l.slot),
                Step::Let { slot, .. } => Some(*slot),
                Step::Where(_) => None,
            })
            .collect()
    }

    /// Names the subject: the `subject` clause when it can be evaluated with
    /// what is bound, else the bound records' ids, else the innermost path.
    pub(crate) fn subject_name(&mut self, rule: &'p RuleDef, bound_steps: usize) -> String {
        let bound = Self::bound_slots(rule, bound_steps);
        if let Some(subject) = &rule.subject {
            let mut inner = BTreeSet::new();
            subject.visit(&mut |e| match &e.kind {
                ExprKind::Comprehension { binding, .. } => {
                    inner.insert(binding.slot);
                }
                ExprKind::Quantifier { slot, .. } => {
                    inner.insert(*slot);
                }
                _ => {}
            });
            let mut free_ok = true;
            subject.visit(&mut |e| {
                if let ExprKind::Local(s) = e.kind {
                    free_ok &= inner.contains(&s) || bound.contains(&s);
                }
            });
            if free_ok {
                if let Ok(v) = self.eval(subject) {
                    return v.into_text();
                }
            }
        }
        let fors: Vec<usize> = rule
            .for_slots
            .iter()
            .copied()
            .filter(|s| bound.contains(s))
            .collect();
        if fors.is_empty() {
            return rule.id.to_string();
        }
        let ids: Option<Vec<String>> = fors
            .iter()
            .map(|s| match self.local(*s).get("id") {
                Some(v @ (Value::Str(_) | Value::Int(_) | Value::Float(_))) => Some(v.to_string()),
                _ => None,
            })
            .collect();
        if let Some(ids) = ids {
            return ids.join(":");
        }
        let innermost = fors.last().copied().unwrap_or(0);
        match self.origins.get(innermost).copied() {
            Some(Origin::Element {
                source,
                index,
                base,
            }) => {
                let saved = self.base;
                self.base = base;
                let path = self.path_of(source).map(|p| format!("{p}[{index}]"));
                self.base = saved;
                path.unwrap_or_else(|| format!("{}[{index}]", rule.id))
            }
            _ => rule.id.to_string(),
        }
    }

    fn error_subject(
        &mut self,
        rule: &'p RuleDef,
        bound_steps: usize,
        error: EvalError,
    ) -> SubjectResult {
        let subject = self.subject_name(rule, bound_steps);
        SubjectResult {
            subject,
            outcome: Outcome::Error,
            messages: vec![Message {
                text: error.message,
                span: error.span,
            }],
            due: None,
            days_overdue: None,
            waived_by: None,
            rejected: Vec::new(),
        }
    }

    fn subject(&mut self, rule: &'p RuleDef, registers: &mut Registers) -> SubjectResult {
        let all = rule.steps.len();
        // Evaluated once: every binding exists here, so the clause's value is
        // the name; only subjects without a clause need the default naming.
        let clause_name = match &rule.subject {
            Some(s) => match self.text(s) {
                Ok(name) => Some(name),
                Err(e) => return self.error_subject(rule, all, e),
            },
            None => None,
        };
        let due = match &rule.due {
            None => None,
            Some(d) => match self.eval(d) {
                Ok(v) => match v.to_date() {
                    Some(date) => Some(date),
                    None => {
                        let e = EvalError::new(
                            d.span,
                            format!(
                                "`due` must be a date; {} is {} {}",
                                self.describe(d),
                                v.type_name(),
                                v.quoted()
                            ),
                        );
                        return self.error_subject(rule, all, e);
                    }
                },
                Err(e) => return self.error_subject(rule, all, e),
            },
        };
        let mut messages = Vec::new();
        for q in &rule.requires {
            match self.require(q) {
                Ok(None) => {}
                Ok(Some(m)) => messages.push(m),
                Err(e) => {
                    let mut r = self.error_subject(rule, all, e);
                    r.due = due;
                    return r;
                }
            }
        }
        if !messages.is_empty() {
            self.explain_subject(rule, all);
        }
        let name = match clause_name {
            Some(name) => name,
            None => self.subject_name(rule, all),
        };
        let mut result = SubjectResult {
            subject: name,
            outcome: if messages.is_empty() {
                Outcome::Pass
            } else {
                Outcome::Fail
            },
            messages,
            due,
            days_overdue: None,
            waived_by: None,
            rejected: Vec::new(),
        };
        if result.outcome == Outcome::Fail {
            for w in &rule.waivers {
                self.waive(rule, w, &mut result, registers);
            }
            if result.waived_by.is_some() {
                result.outcome = Outcome::Waived;
            } else if let Some(d) = due {
                let overdue = (self.today - d).num_days();
                result.days_overdue = Some(overdue.max(0));
            }
        }
        result
    }

    /// `Ok(None)` when the requirement holds, else its message.
    fn require(&mut self, q: &'p RequireDef) -> Result<Option<Message>, EvalError> {
        if self.condition(&q.cond)? {
            return Ok(None);
        }
        if let Some(failed) = &mut self.failed_requires {
            failed.push(q.span);
        }
        let text = match &q.message {
            Some(m) => self.text(m)?,
            None => q.text.clone(),
        };
        Ok(Some(Message { text, span: q.span }))
    }

    fn waive(
        &mut self,
        rule: &'p RuleDef,
        w: &'p WaiverUse,
        result: &mut SubjectResult,
        registers: &mut Registers,
    ) {
        // Named only in what a candidate entry yields: most failing subjects have none.
        let waiver_name: &'p str = self.program.waivers.get(w.waiver).map_or("", |d| &d.name);
        let items = match self.list(&w.from.source) {
            Ok(items) => items,
            Err(e) => {
                result.rejected.push(Rejected {
                    waiver: waiver_name.to_string(),
                    entry: self.describe(&w.from.source),
                    reasons: vec![format!("the register could not be read: {}", e.message)],
                });
                return;
            }
        };
        let candidates = self.join_candidates(&w.from, &items);
        for index in visit_order(candidates.as_deref(), items.len()) {
            let Some(item) = items.get(index) else {
                continue;
            };
            // Each candidate entry gets the whole budget, like a subject.
            self.steps = 0;
            self.set_local(
                w.from.slot,
                item.clone(),
                Origin::Element {
                    source: &w.from.source,
                    index,
                    base: 0,
                },
            );
            let entry = entry_name(item).unwrap_or_else(|| {
                let path = self
                    .path_of(&w.from.source)
                    .unwrap_or_else(|| "register".into());
                format!("{path}[{index}]")
            });
            if let Some(filter) = &w.from.filter {
                match self.condition(filter) {
                    Ok(true) => {}
                    Ok(false) => continue,
                    Err(e) => {
                        result.rejected.push(Rejected {
                            waiver: waiver_name.to_string(),
                            entry,
                            reasons: vec![e.message],
                        });
                        continue;
                    }
                }
            }
            registers.considered.insert((w.waiver, index));
            let mut reasons = Vec::new();
            for step in &w.steps {
                match step {
                    WaiverStep::Let { slot, value } => match self.eval(value) {
                        Ok(v) => self.set_local(
                            *slot,
                            v,
                            Origin::Alias {
                                expr: value,
                                base: 0,
                            },
                        ),
                        Err(e) => {
                            reasons.push(e.message);
                            break;
                        }
                    },
                    WaiverStep::Require(q) => {
                        let reason = match self.require(q) {
                            Ok(None) => continue,
                            Ok(Some(m)) => m.text,
                            Err(e) => e.message,
                        };
                        if !reasons.contains(&reason) {
                            reasons.push(reason);
                        }
                    }
                }
            }
            if reasons.is_empty() && result.waived_by.is_none() {
                registers
                    .used
                    .entry((w.waiver, index))
                    .or_default()
                    .push(format!("{}/{}", rule.id, result.subject));
                result.waived_by = Some(Box::new(Waived {
                    waiver: waiver_name.to_string(),
                    entry,
                    approver: first_field(item, &APPROVER_FIELDS).map(|v| v.to_string()),
                    expires: first_field(item, &EXPIRY_FIELDS).map(|v| v.to_string()),
                }));
            } else if !reasons.is_empty() {
                result.rejected.push(Rejected {
                    waiver: waiver_name.to_string(),
                    entry,
                    reasons,
                });
            }
        }
    }

    /// Lists every entry of each register a waiver reads, with what became of it.
    pub(crate) fn register_hygiene(
        &mut self,
        registers: &Registers,
        expiring_within_days: i64,
    ) -> Vec<RegisterEntry> {
        let mut out = Vec::new();
        for (&waiver, &(rule_index, use_index)) in &registers.global_uses {
            let Some(w) = self
                .program
                .rules
                .get(rule_index)
                .and_then(|r| r.waivers.get(use_index))
            else {
                continue;
            };
            self.stack.clear();
            self.origins.clear();
            self.base = 0;
            self.steps = 0;
            let Ok(items) = self.list(&w.from.source) else {
                continue;
            };
            let waiver_name = self
                .program
                .waivers
                .get(waiver)
                .map(|d| d.name.to_string())
                .unwrap_or_default();
            let path = self
                .path_of(&w.from.source)
                .unwrap_or_else(|| "register".into());
            for (index, item) in items.iter().enumerate() {
                let used = registers.used.get(&(waiver, index));
                let status = if used.is_some() {
                    EntryStatus::Used
                } else if registers.considered.contains(&(waiver, index)) {
                    EntryStatus::Rejected
                } else {
                    EntryStatus::Stale
                };
                let expires: Option<NaiveDate> =
                    first_field(item, &EXPIRY_FIELDS).and_then(|v| v.to_date());
                let days_left = expires.map(|d| (d - self.today).num_days());
                out.push(RegisterEntry {
                    waiver: waiver_name.clone(),
                    entry: entry_name(item).unwrap_or_else(|| format!("{path}[{index}]")),
                    status,
                    waived: used.cloned().unwrap_or_default(),
                    approver: first_field(item, &APPROVER_FIELDS).map(|v| v.to_string()),
                    expires,
                    expired: days_left.is_some_and(|d| d < 0),
                    expiring: days_left.is_some_and(|d| (0..=expiring_within_days).contains(&d)),
                });
            }
        }
        out
    }
}

/// An entry's `id` field, when it has a scalar one.
fn entry_name(entry: &Value) -> Option<String> {
    match entry.get("id")? {
        v @ (Value::Str(_) | Value::Int(_) | Value::Float(_)) => Some(v.to_string()),
        _ => None,
    }
}
