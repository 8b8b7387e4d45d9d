//! JSON Lines: the evidence first, one line per subject (passes included), totals last.

use serde_json::{json, Map, Value};

use super::Report;

/// Renders one JSON object a line, each with a `type`: `evidence`, `outcome`, `totals`.
pub fn render(report: &Report) -> String {
    let mut lines: Vec<Value> = Vec::new();
    let mut evidence = Map::new();
    evidence.insert("type".into(), json!("evidence"));
    evidence.insert("tool".into(), json!(report.tool.name));
    merge(&mut evidence, serde_json::to_value(&report.evidence));
    lines.push(Value::Object(evidence));
    for (rule, subject, finding) in report.outcomes() {
        let mut line = Map::new();
        line.insert("type".into(), json!("outcome"));
        line.insert("rule".into(), json!(rule.id));
        line.insert("severity".into(), json!(rule.severity));
        line.insert("level".into(), json!(rule.level));
        line.insert("enforced".into(), json!(rule.enforced));
        match finding {
            Some(f) => merge(&mut line, serde_json::to_value(f)),
            None => {
                line.insert("subject".into(), json!(subject));
                line.insert("outcome".into(), json!("pass"));
            }
        }
        lines.push(Value::Object(line));
    }
    let mut totals = Map::new();
    totals.insert("type".into(), json!("totals"));
    merge(&mut totals, serde_json::to_value(&report.summary));
    lines.push(Value::Object(totals));
    let mut out = String::new();
    for line in lines {
        out.push_str(&line.to_string());
        out.push('\n');
    }
    out
}

/// Appends an object's fields, keeping their order.
fn merge(into: &mut Map<String, Value>, value: Result<Value, serde_json::Error>) {
    if let Ok(Value::Object(fields)) = value {
        into.extend(fields);
    }
}
