//! The terminal report: grouped by rule, non-passing subjects first-class.

use std::fmt::Write as _;

use super::{Finding, Report, RuleReport};
use crate::eval::outcome::{EntryStatus, Outcome};

/// ANSI styling, or none.
#[derive(Clone, Copy)]
struct Style {
    color: bool,
}

impl Style {
    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn outcome(self, o: Outcome) -> String {
        let (code, word) = match o {
            Outcome::Pass => ("32", "PASS  "),
            Outcome::Fail => ("31;1", "FAIL  "),
            Outcome::Waived => ("33", "WAIVED"),
            Outcome::Error => ("35;1", "ERROR "),
        };
        self.paint(code, word)
    }
}

/// Renders the report for a terminal; `color` adds ANSI colours.
pub fn render(report: &Report, color: bool) -> String {
    let style = Style { color };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} · now {}\n",
        report.tool.name, report.tool.version, report.now
    );
    for rule in &report.rules {
        render_rule(&mut out, rule, style);
    }
    render_exceptions(&mut out, report, style);
    render_evidence(&mut out, report, style);
    let s = &report.summary;
    let verdict = if s.compliant {
        style.paint("32;1", "COMPLIANT")
    } else {
        style.paint("31;1", "NON-COMPLIANT")
    };
    let _ = writeln!(
        out,
        "{} rules, {} subjects: {} pass, {} fail, {} waived, {} error{} — {verdict}",
        s.rules,
        s.subjects,
        s.pass,
        s.fail,
        s.waived,
        s.error,
        super::records_note(s.records.as_ref())
    );
    out
}

fn render_evidence(out: &mut String, report: &Report, style: Style) {
    let e = &report.evidence;
    let _ = writeln!(
        out,
        "{}: policy set sha256 {}",
        style.paint("1", "Evidence"),
        e.policy_set_sha256
    );
    let mut lines = Vec::new();
    for f in &e.policy_files {
        lines.push(format!("{}  {}", f.sha256, f.path));
    }
    for f in &e.facts {
        match &f.mount {
            Some(m) => lines.push(format!("{}  {m}={}", f.sha256, f.path)),
            None => lines.push(format!("{}  {}", f.sha256, f.path)),
        }
    }
    lines.push(format!("command: {}", e.command()));
    for line in lines {
        let _ = writeln!(out, "  {}", style.paint("2", &line));
    }
    out.push('\n');
}

fn render_rule(out: &mut String, rule: &RuleReport, style: Style) {
    let c = rule.counts;
    let mark = if c.fail + c.error > 0 {
        style.paint("31;1", "✗")
    } else {
        style.paint("32", "✓")
    };
    let title = rule
        .title
        .as_deref()
        .map(|t| format!("  {t}"))
        .unwrap_or_default();
    let _ = writeln!(out, "{mark} {}{title}", style.paint("1", &rule.id));
    let mut facts = vec![rule.severity_label()];
    if !rule.enforced {
        facts.push("advisory".to_string());
    }
    facts.extend(rule.citations.iter().cloned());
    facts.push(format!(
        "{} pass, {} fail, {} waived, {} error",
        c.pass, c.fail, c.waived, c.error
    ));
    let _ = writeln!(out, "  {}", style.paint("2", &facts.join(" · ")));
    for f in &rule.findings {
        render_finding(out, f, style);
    }
    out.push('\n');
}

impl RuleReport {
    fn severity_label(&self) -> String {
        self.severity.as_str().to_string()
    }
}

fn render_finding(out: &mut String, f: &Finding, style: Style) {
    let first = f.messages.first();
    let text = first.map(|m| m.message.as_str()).unwrap_or("");
    let overdue = match f.days_overdue {
        Some(d) if d > 0 => format!(" ({d} days overdue)"),
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "  {} {}  {text}{overdue}",
        style.outcome(f.outcome),
        f.subject
    );
    for m in f.messages.iter().skip(1) {
        let _ = writeln!(out, "          {}", m.message);
    }
    if let Some(m) = first {
        let loc = format!(
            "{}:{}:{}",
            m.location.file, m.location.line, m.location.column
        );
        let _ = writeln!(out, "          {}", style.paint("2", &loc));
    }
    if let Some(w) = &f.waived_by {
        let mut who = Vec::new();
        if let Some(a) = &w.approver {
            who.push(format!("approved by {a}"));
        }
        if let Some(e) = &w.expires {
            who.push(format!("expires {e}"));
        }
        let detail = if who.is_empty() {
            String::new()
        } else {
            format!(" ({})", who.join(", "))
        };
        let _ = writeln!(
            out,
            "          waived by {} via {}{detail}",
            w.entry, w.waiver
        );
    }
    for r in &f.rejected {
        let _ = writeln!(
            out,
            "          rejected {}: {}",
            r.entry,
            r.reasons.join("; ")
        );
    }
}

fn render_exceptions(out: &mut String, report: &Report, style: Style) {
    if report.exceptions.is_empty() {
        return;
    }
    let e = &report.summary.exceptions;
    let _ = writeln!(
        out,
        "{}: {} used, {} rejected, {} stale, {} expired, {} expiring soon",
        style.paint("1", "Exceptions"),
        e.used,
        e.rejected,
        e.stale,
        e.expired,
        e.expiring
    );
    for x in &report.exceptions {
        let mut notes = Vec::new();
        if x.expired {
            notes.push(format!("expired {}", x.expires.as_deref().unwrap_or("")));
        } else if x.expiring {
            notes.push(format!("expires {}", x.expires.as_deref().unwrap_or("")));
        }
        let status = match x.status {
            EntryStatus::Used => format!("waived {}", x.waived.join(", ")),
            EntryStatus::Rejected => "rejected".to_string(),
            EntryStatus::Stale => "stale: no failing subject selected it".to_string(),
        };
        notes.insert(0, status);
        let _ = writeln!(out, "  {:<10} {}", x.entry, notes.join("; "));
    }
    out.push('\n');
}
