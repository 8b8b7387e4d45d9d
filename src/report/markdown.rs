//! Markdown: a summary table and the findings, for a pull-request comment.

use std::fmt::Write as _;

use super::{Finding, Report};
use crate::eval::outcome::{EntryStatus, Outcome};

/// Renders the report as GitHub-flavoured Markdown.
pub fn render(report: &Report) -> String {
    let s = &report.summary;
    let mut out = String::new();
    let verdict = if s.compliant {
        "✅ COMPLIANT"
    } else {
        "❌ NON-COMPLIANT"
    };
    let _ = writeln!(out, "## Edict compliance report: {verdict}\n");
    let _ = writeln!(
        out,
        "{} rules, {} subjects: **{} pass, {} fail, {} waived, {} error** · fail-on `{}` · now `{}`\n",
        s.rules, s.subjects, s.pass, s.fail, s.waived, s.error, s.fail_on, report.now
    );
    out.push_str("| Rule | Title | Severity | Level | Pass | Fail | Waived | Error |\n");
    out.push_str("|---|---|---|---|--:|--:|--:|--:|\n");
    for r in &report.rules {
        let c = r.counts;
        let mark = if c.fail + c.error > 0 { "❌" } else { "✅" };
        let level = if r.enforced { "mandatory" } else { "advisory" };
        let _ = writeln!(
            out,
            "| {mark} `{}` | {} | {} | {level} | {} | {} | {} | {} |",
            code(&r.id),
            cell(r.title.as_deref().unwrap_or("")),
            r.severity.as_str(),
            c.pass,
            c.fail,
            c.waived,
            c.error
        );
    }
    out.push('\n');
    let with_findings: Vec<_> = report
        .rules
        .iter()
        .filter(|r| !r.findings.is_empty())
        .collect();
    if !with_findings.is_empty() {
        out.push_str("### Findings\n");
    }
    for r in with_findings {
        let title = r
            .title
            .as_deref()
            .map(|t| format!(" — {}", cell(t)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "\n#### `{}`{title} ({})\n",
            code(&r.id),
            r.severity.as_str()
        );
        if !r.citations.is_empty() {
            let _ = writeln!(out, "Cites: {}\n", cell(&r.citations.join("; ")));
        }
        out.push_str("| Outcome | Subject | Message | Due | Days overdue | Location |\n");
        out.push_str("|---|---|---|---|--:|---|\n");
        for f in &r.findings {
            finding_row(&mut out, f);
        }
    }
    exceptions(&mut out, report);
    evidence(&mut out, report);
    out
}

fn finding_row(out: &mut String, f: &Finding) {
    let outcome = match f.outcome {
        Outcome::Fail => "**fail**",
        Outcome::Error => "**error**",
        Outcome::Waived => "waived",
        Outcome::Pass => "pass",
    };
    let mut message = f
        .messages
        .iter()
        .map(|m| cell(&m.message))
        .collect::<Vec<_>>()
        .join("<br>");
    if let Some(w) = &f.waived_by {
        let mut by = format!("waived by {} via {}", w.entry, w.waiver);
        if let Some(a) = &w.approver {
            let _ = write!(by, ", approved by {a}");
        }
        if let Some(e) = &w.expires {
            let _ = write!(by, ", expires {e}");
        }
        let _ = write!(message, "<br>_{}_", cell(&by));
    }
    for r in &f.rejected {
        let _ = write!(
            message,
            "<br>rejected {}: {}",
            cell(&r.entry),
            cell(&r.reasons.join("; "))
        );
    }
    let location = f
        .messages
        .first()
        .map(|m| {
            format!(
                "`{}:{}:{}`",
                code(&m.location.file),
                m.location.line,
                m.location.column
            )
        })
        .unwrap_or_default();
    let overdue = match f.days_overdue {
        Some(d) if d > 0 => d.to_string(),
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "| {outcome} | {} | {message} | {} | {overdue} | {location} |",
        cell(&f.subject),
        f.due.as_deref().unwrap_or("")
    );
}

fn exceptions(out: &mut String, report: &Report) {
    if report.exceptions.is_empty() {
        return;
    }
    let e = &report.summary.exceptions;
    let _ = writeln!(
        out,
        "\n### Exceptions\n\n{} used, {} rejected, {} stale, {} expired, {} expiring soon\n",
        e.used, e.rejected, e.stale, e.expired, e.expiring
    );
    out.push_str("| Entry | Waiver | Status | Approver | Expires | Waived |\n");
    out.push_str("|---|---|---|---|---|---|\n");
    for x in &report.exceptions {
        let status = match x.status {
            EntryStatus::Used => "used",
            EntryStatus::Rejected => "rejected",
            EntryStatus::Stale => "stale",
        };
        let mut expires = x.expires.clone().unwrap_or_default();
        if x.expired {
            expires.push_str(" (expired)");
        } else if x.expiring {
            expires.push_str(" (expiring)");
        }
        let _ = writeln!(
            out,
            "| {} | {} | {status} | {} | {} | {} |",
            cell(&x.entry),
            cell(&x.waiver),
            cell(x.approver.as_deref().unwrap_or("")),
            cell(&expires),
            cell(&x.waived.join(", "))
        );
    }
}

fn evidence(out: &mut String, report: &Report) {
    let e = &report.evidence;
    out.push_str("\n<details><summary>Evidence</summary>\n\n");
    let _ = writeln!(
        out,
        "- tool: edict {}\n- now: `{}`\n- command: `{}`\n- policy set SHA-256: `{}`\n",
        e.tool_version,
        e.now,
        code(&e.command()),
        e.policy_set_sha256
    );
    out.push_str("| Input | File | Bytes | SHA-256 |\n|---|---|--:|---|\n");
    for f in &e.policy_files {
        let _ = writeln!(
            out,
            "| policy | `{}` | {} | `{}` |",
            code(&f.path),
            f.bytes,
            f.sha256
        );
    }
    for f in &e.facts {
        let name = match &f.mount {
            Some(m) => format!("{m}={}", f.path),
            None => f.path.clone(),
        };
        let _ = writeln!(
            out,
            "| facts | `{}` | {} | `{}` |",
            code(&name),
            f.bytes,
            f.sha256
        );
    }
    out.push_str("\n</details>\n");
}

/// Text safe inside a table cell: pipes escaped, markup and line breaks neutralised.
fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '*' | '_' | '`' | '[' | ']' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Text safe inside a code span in a table cell: backticks and pipes cannot close it.
fn code(text: &str) -> String {
    text.replace('`', "'")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_break_the_table_or_inject_markup() {
        assert_eq!(cell("a|b\n<img>*x*"), "a\\|b &lt;img&gt;\\*x\\*");
        assert_eq!(code("a`b|c"), "a'b\\|c");
    }
}
