//! The JSON report: the whole model as one pretty-printed document.

use super::Report;

/// Renders the report as one JSON document, keys in a stable order.
pub fn render(report: &Report) -> String {
    let mut out = serde_json::to_string_pretty(report).unwrap_or_default();
    out.push('\n');
    out
}

/// Writes the document [`render`] renders, without holding it whole.
pub fn write(report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    out.write_all(b"\n")
}
