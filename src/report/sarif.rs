//! SARIF 2.1.0: one result per non-passing subject, for code-scanning dashboards.

use serde_json::{json, Map, Value};

use super::{Finding, Report, RuleReport};
use crate::eval::outcome::Outcome;
use crate::ir::Severity;

/// Where the SARIF 2.1.0 schema is published.
pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Renders the report as a SARIF 2.1.0 log with one run.
pub fn render(report: &Report) -> String {
    let mut artifacts = Vec::new();
    for f in &report.evidence.policy_files {
        artifacts.push(json!({
            "location": { "uri": uri_reference(&f.path) },
            "length": f.bytes,
            "roles": ["analysisTarget"],
            "hashes": { "sha-256": f.sha256 },
        }));
    }
    for f in &report.evidence.facts {
        artifacts.push(json!({
            "location": { "uri": uri_reference(&f.path) },
            "length": f.bytes,
            "roles": ["referencedOnCommandLine"],
            "hashes": { "sha-256": f.sha256 },
        }));
    }
    let artifact_index = |file: &str| {
        report
            .evidence
            .policy_files
            .iter()
            .position(|f| f.path == file)
    };
    let rules: Vec<Value> = report.rules.iter().map(rule).collect();
    let mut results = Vec::new();
    for (index, r) in report.rules.iter().enumerate() {
        for f in &r.findings {
            results.push(result(r, index, f, &artifact_index));
        }
    }
    let command_line = report.evidence.command();
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": report.tool.name,
                "version": report.tool.version,
                "semanticVersion": report.tool.version,
                "rules": rules,
            }},
            "invocations": [{
                "executionSuccessful": true,
                "commandLine": command_line,
                "arguments": report.evidence.command_line.iter().skip(1).collect::<Vec<_>>(),
                "properties": { "now": report.now },
            }],
            "artifacts": artifacts,
            "results": results,
            "properties": {
                "summary": report.summary,
                "evidence": report.evidence,
            },
        }],
    });
    let mut out = serde_json::to_string_pretty(&log).unwrap_or_default();
    out.push('\n');
    out
}

/// The SARIF level of a rule's findings: by severity; advisory rules only `note`.
pub fn level(rule: &RuleReport) -> &'static str {
    if !rule.enforced {
        return "note";
    }
    match rule.severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's numeric `security-severity` for a severity.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

fn rule(r: &RuleReport) -> Value {
    let title = r.title.clone().unwrap_or_else(|| r.id.clone());
    let mut text = String::new();
    let mut markdown = String::new();
    if !r.citations.is_empty() {
        text.push_str(&format!("Citations: {}.", r.citations.join("; ")));
        markdown.push_str("**Citations**\n\n");
        for c in &r.citations {
            markdown.push_str(&format!("- {c}\n"));
        }
    }
    if let Some(rem) = &r.remediation {
        if !text.is_empty() {
            text.push(' ');
            markdown.push('\n');
        }
        text.push_str(&format!("Remediation: {rem}"));
        markdown.push_str(&format!("**Remediation**\n\n{rem}\n"));
    }
    if text.is_empty() {
        text = title.clone();
        markdown = title.clone();
    }
    let mut tags = vec!["compliance".to_string()];
    tags.extend(r.citations.iter().cloned());
    json!({
        "id": r.id,
        "name": r.id,
        "shortDescription": { "text": title },
        "help": { "text": text, "markdown": markdown },
        "defaultConfiguration": { "level": level(r) },
        "properties": {
            "severity": r.severity,
            "level": r.level,
            "enforced": r.enforced,
            "citations": r.citations,
            "tags": tags,
            "security-severity": security_severity(r.severity),
            "location": r.location,
        },
    })
}

fn result(
    r: &RuleReport,
    rule_index: usize,
    f: &Finding,
    artifact_index: &dyn Fn(&str) -> Option<usize>,
) -> Value {
    let mut text = f
        .messages
        .iter()
        .map(|m| m.message.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    if text.is_empty() {
        text = format!("{} did not pass", f.subject);
    }
    let text = match f.outcome {
        Outcome::Error => format!("{}: evaluation error: {text}", f.subject),
        _ => format!("{}: {text}", f.subject),
    };
    let loc = f
        .messages
        .first()
        .map(|m| &m.location)
        .unwrap_or(&r.location);
    let mut artifact = Map::new();
    artifact.insert("uri".into(), json!(uri_reference(&loc.file)));
    if let Some(i) = artifact_index(&loc.file) {
        artifact.insert("index".into(), json!(i));
    }
    let mut properties = Map::new();
    properties.insert("subject".into(), json!(f.subject));
    properties.insert("outcome".into(), json!(f.outcome));
    if let Some(due) = &f.due {
        properties.insert("due".into(), json!(due));
    }
    if let Some(d) = f.days_overdue {
        properties.insert("daysOverdue".into(), json!(d));
    }
    if !f.rejected.is_empty() {
        properties.insert("rejectedExceptions".into(), json!(f.rejected));
    }
    let mut result = json!({
        "ruleId": r.id,
        "ruleIndex": rule_index,
        "kind": "fail",
        "level": if f.outcome == Outcome::Error { "error" } else { level(r) },
        "message": { "text": text },
        "locations": [{ "physicalLocation": {
            "artifactLocation": artifact,
            "region": {
                "startLine": loc.line,
                "startColumn": loc.column,
                "endLine": loc.end_line,
                "endColumn": loc.end_column,
            },
        }}],
        "partialFingerprints": { "edictSubject/v1": format!("{}/{}", r.id, f.subject) },
        "properties": properties,
    });
    if let (Some(w), Some(obj)) = (&f.waived_by, result.as_object_mut()) {
        let mut why = format!("waived by exception {} via {}", w.entry, w.waiver);
        if let Some(a) = &w.approver {
            why.push_str(&format!(", approved by {a}"));
        }
        if let Some(e) = &w.expires {
            why.push_str(&format!(", expires {e}"));
        }
        obj.insert(
            "suppressions".into(),
            json!([{
                "kind": "external",
                "status": "accepted",
                "justification": why,
                "properties": w,
            }]),
        );
    }
    result
}

/// A file path as a relative URI reference: `/` separators, unsafe bytes percent-encoded.
pub fn uri_reference(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(uri_reference("a b\\c.edict"), "a%20b/c.edict");
        assert_eq!(uri_reference("examples/x.edict"), "examples/x.edict");
    }
}
