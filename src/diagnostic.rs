//! Diagnostics about a policy set: code, message, spans, help.

use std::fmt;
use std::sync::Arc;

use miette::{LabeledSpan, NamedSource};

use crate::source::{Location, SourceMap, Span};

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The policy set cannot be evaluated.
    Error,
    /// Suspicious, but the policy set still runs.
    Warning,
}

/// A problem found in a policy set, before anything runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    /// Stable code, e.g. `E0101`; documented in docs/errors.md.
    pub code: &'static str,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong: lowercase, no trailing period.
    pub message: String,
    /// Where.
    pub span: Span,
    /// Text under the primary span.
    pub label: Option<String>,
    /// How to fix it.
    pub help: Option<String>,
    /// Other places involved, e.g. the first of two duplicate names.
    pub related: Vec<(Span, String)>,
}

impl Diagnostic {
    /// An error with a code, a span and a message.
    pub fn error(code: &'static str, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            span,
            label: None,
            help: None,
            related: Vec::new(),
        }
    }

    /// A warning with a code, a span and a message.
    pub fn warning(code: &'static str, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, span, message)
        }
    }

    /// Adds text under the primary span.
    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = Some(label.into());
        self
    }

    /// Adds a help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Adds a help line when there is one.
    pub fn with_help_opt(mut self, help: Option<String>) -> Diagnostic {
        self.help = help;
        self
    }

    /// Adds a related span.
    pub fn with_related(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.related.push((span, label.into()));
        self
    }

    /// Whether this diagnostic stops evaluation.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Where it is, in lines and columns.
    pub fn location(&self, sources: &SourceMap) -> Location {
        sources.location(self.span)
    }

    /// A miette report of this diagnostic, with its source attached.
    pub fn render(&self, sources: &SourceMap) -> miette::Report {
        miette::Report::new(Rendered::new(self, sources))
    }
}

/// A diagnostic bound to its source text, for miette to render.
#[derive(Debug)]
pub struct Rendered {
    code: &'static str,
    severity: Severity,
    message: String,
    source: NamedSource<Arc<str>>,
    labels: Vec<LabeledSpan>,
    help: Option<String>,
    related: Vec<Rendered>,
}

impl Rendered {
    fn new(diag: &Diagnostic, sources: &SourceMap) -> Rendered {
        let src = sources.get(diag.span.source);
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            diag.label.clone(),
            diag.span,
        )];
        let mut related = Vec::new();
        for (span, label) in &diag.related {
            if span.source == diag.span.source {
                labels.push(LabeledSpan::new_with_span(Some(label.clone()), *span));
            } else {
                let other = sources.get(span.source);
                related.push(Rendered {
                    code: diag.code,
                    severity: Severity::Warning,
                    message: label.clone(),
                    source: NamedSource::new(other.name.clone(), other.text.clone()),
                    labels: vec![LabeledSpan::new_primary_with_span(None, *span)],
                    help: None,
                    related: Vec::new(),
                });
            }
        }
        Rendered {
            code: diag.code,
            severity: diag.severity,
            message: diag.message.clone(),
            source: NamedSource::new(src.name.clone(), src.text.clone()),
            labels,
            help: diag.help.clone(),
            related,
        }
    }
}

impl fmt::Display for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Rendered {}

impl miette::Diagnostic for Rendered {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(
                self.related.iter().map(|r| r as &dyn miette::Diagnostic),
            ))
        }
    }
}

/// The closest candidate to a misspelt name, if one is close enough to suggest.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (edit_distance(&name.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)))
        .map(|(_, c)| c.to_string())
}

/// Edit distance between two strings, in characters, counting a swap of
/// two neighbours as one edit (optimal string alignment).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for (i, row) in d.chunks_mut(width).enumerate() {
        row[0] = i;
    }
    for (j, cell) in d.iter_mut().take(width).enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(
            did_you_mean("patchd", ["patched", "published"]),
            Some("patched".into())
        );
        assert_eq!(did_you_mean("xyz", ["patched"]), None);
        assert_eq!(edit_distance("critcal", "critical"), 1);
        assert_eq!(edit_distance("hihg", "high"), 1);
    }
}
