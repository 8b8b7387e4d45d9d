//! JUnit XML: one testsuite per rule, one testcase per subject, for CI test views.

use std::fmt::Write as _;

use super::{Finding, Report, RuleReport};
use crate::eval::outcome::Outcome;

/// Renders the report as JUnit XML: failures as `<failure>`, evaluation
/// errors as `<error>`, waived subjects as `<skipped>` naming the exception.
pub fn render(report: &Report) -> String {
    let s = &report.summary;
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"edict\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">",
        s.subjects, s.fail, s.error, s.waived
    );
    for rule in &report.rules {
        render_suite(&mut out, report, rule);
    }
    out.push_str("</testsuites>\n");
    out
}

fn render_suite(out: &mut String, report: &Report, rule: &RuleReport) {
    let c = rule.counts;
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">",
        escape(&rule.id),
        c.pass + c.fail + c.waived + c.error,
        c.fail,
        c.error,
        c.waived
    );
    out.push_str("    <properties>\n");
    let mut props: Vec<(&str, String)> = Vec::new();
    if let Some(t) = &rule.title {
        props.push(("title", t.clone()));
    }
    props.push(("severity", rule.severity.as_str().to_string()));
    props.push(("enforced", rule.enforced.to_string()));
    for c in &rule.citations {
        props.push(("citation", c.clone()));
    }
    let l = &rule.location;
    props.push(("location", format!("{}:{}:{}", l.file, l.line, l.column)));
    let e = &report.evidence;
    props.push(("edict.version", e.tool_version.to_string()));
    props.push(("edict.now", e.now.clone()));
    props.push(("edict.command_line", e.command()));
    props.push(("edict.policy_set_sha256", e.policy_set_sha256.clone()));
    for f in &e.policy_files {
        props.push(("edict.policy_file", format!("{}  {}", f.sha256, f.path)));
    }
    for f in &e.facts {
        props.push(("edict.facts", format!("{}  {}", f.sha256, f.path)));
    }
    for (name, value) in props {
        let _ = writeln!(
            out,
            "      <property name=\"{name}\" value=\"{}\"/>",
            escape(&value)
        );
    }
    out.push_str("    </properties>\n");
    for (_, subject, finding) in report.outcomes().filter(|(r, _, _)| r.id == rule.id) {
        let head = format!(
            "    <testcase name=\"{}\" classname=\"{}\"",
            escape(subject),
            escape(&rule.id)
        );
        match finding {
            None => {
                let _ = writeln!(out, "{head}/>");
            }
            Some(f) => {
                let loc = f.messages.first().map(|m| &m.location).unwrap_or(l);
                let _ = writeln!(
                    out,
                    "{head} file=\"{}\" line=\"{}\">",
                    escape(&loc.file),
                    loc.line
                );
                render_outcome(out, rule, f);
                out.push_str("    </testcase>\n");
            }
        }
    }
    out.push_str("  </testsuite>\n");
}

fn render_outcome(out: &mut String, rule: &RuleReport, f: &Finding) {
    let first = f
        .messages
        .first()
        .map(|m| m.message.clone())
        .unwrap_or_default();
    let mut body = String::new();
    for m in &f.messages {
        let l = &m.location;
        let _ = writeln!(
            body,
            "{}\n  at {}:{}:{}",
            m.message, l.file, l.line, l.column
        );
    }
    if let Some(due) = &f.due {
        let _ = write!(body, "due {due}");
        match f.days_overdue {
            Some(d) if d > 0 => {
                let _ = writeln!(body, " ({d} days overdue)");
            }
            _ => body.push('\n'),
        }
    }
    for r in &f.rejected {
        let _ = writeln!(
            body,
            "exception {} rejected: {}",
            r.entry,
            r.reasons.join("; ")
        );
    }
    let kind = rule.severity.as_str();
    match f.outcome {
        Outcome::Fail => {
            let advisory = if rule.enforced { "" } else { " (advisory)" };
            let _ = writeln!(
                out,
                "      <failure message=\"{}{advisory}\" type=\"{kind}\">{}</failure>",
                escape(&first),
                escape_text(&body)
            );
        }
        Outcome::Error => {
            let _ = writeln!(
                out,
                "      <error message=\"{}\" type=\"evaluation\">{}</error>",
                escape(&first),
                escape_text(&body)
            );
        }
        Outcome::Waived => {
            let message = match &f.waived_by {
                Some(w) => {
                    let mut m = format!("waived by exception {} via {}", w.entry, w.waiver);
                    if let Some(a) = &w.approver {
                        let _ = write!(m, ", approved by {a}");
                    }
                    if let Some(e) = &w.expires {
                        let _ = write!(m, ", expires {e}");
                    }
                    m
                }
                None => "waived".to_string(),
            };
            let _ = writeln!(
                out,
                "      <skipped message=\"{}\">{}</skipped>",
                escape(&message),
                escape_text(&body)
            );
        }
        Outcome::Pass => {}
    }
}

/// Escapes element text: newlines stay as they are.
fn escape_text(text: &str) -> String {
    escape(text).replace("&#10;", "\n")
}

/// Escapes text for an XML attribute; replaces characters XML 1.0 forbids.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' | '\r' => {
                let _ = write!(out, "&#{};", u32::from(c));
            }
            c if u32::from(c) < 0x20 => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escape_covers_markup_and_control_characters() {
        assert_eq!(
            escape("a<b>&\"'\n\u{1}"),
            "a&lt;b&gt;&amp;&quot;&apos;&#10;\u{fffd}"
        );
    }
}
