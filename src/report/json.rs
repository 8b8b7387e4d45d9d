//! The JSON report: the whole model as one pretty-printed document.

use super::Report;

/// Renders the report as one JSON document, keys in a stable order.
pub fn render(report: &Report) -> String {
    let mut out = serde_json::to_string_pretty(report).unwrap_or_default();
    out.push('\n');
    out
}
