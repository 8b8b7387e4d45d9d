//! Text to syntax tree. pest's types never leave this module.

pub mod ast;
mod errors;
pub mod format;
mod lower;

use pest::Parser as _;

use crate::diagnostic::Diagnostic;
use crate::source::{SourceId, SourceMap, Span};

/// The pest parser generated from grammar/edict.pest.
#[derive(pest_derive::Parser)]
#[grammar = "grammar/edict.pest"]
pub(crate) struct EdictParser;

/// Deepest nesting of brackets a policy may use.
pub const MAX_NESTING: usize = 64;
/// Most operators one expression may chain without brackets. With
/// `MAX_NESTING` this bounds the depth of every syntax tree, so no recursive
/// pass (checking, evaluation, dropping) can exhaust the stack.
pub const MAX_OPERATORS: usize = 128;
/// Largest policy file accepted, in bytes.
pub const MAX_SOURCE_BYTES: usize = 8 * 1024 * 1024;

/// Parses one source file into a syntax tree, or the diagnostics that prevent it.
pub fn parse(sources: &SourceMap, id: SourceId) -> Result<ast::File, Vec<Diagnostic>> {
    let text = &*sources.get(id).text;
    if text.len() > MAX_SOURCE_BYTES {
        return Err(vec![Diagnostic::error(
            "E0009",
            Span::new(id, 0, 0),
            format!(
                "policy file is {} bytes; the limit is {MAX_SOURCE_BYTES}",
                text.len()
            ),
        )
        .with_help("split the policy set into several files")]);
    }
    if let Some(span) = too_deep(id, text) {
        return Err(vec![Diagnostic::error(
            "E0008",
            span,
            format!("nesting deeper than {MAX_NESTING} levels"),
        )
        .with_label("too deep here")
        .with_help("name intermediate values with `let` or `fn`")]);
    }
    let pairs = EdictParser::parse(Rule::file, text)
        .map_err(|e| vec![errors::syntax_error(id, text, e)])?;
    let mut lowerer = lower::Lowerer::new(id, text);
    let file = lowerer.file(pairs);
    if lowerer.diagnostics.is_empty() {
        Ok(file)
    } else {
        Err(lowerer.diagnostics)
    }
}

/// Finds the first bracket or operator chain nested past the limit, so the
/// recursive parser never meets input that could exhaust its stack.
fn too_deep(id: SourceId, text: &str) -> Option<Span> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut in_string = false;
    let mut interpolation_depths: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if in_string {
            match c {
                b'\\' => i += 1,
                b'"' => in_string = false,
                b'{' => {
                    in_string = false;
                    depth += 1;
                    interpolation_depths.push(depth);
                }
                _ => {}
            }
        } else {
            match c {
                b'"' => in_string = true,
                b'/' if bytes.get(i + 1) == Some(&b'/') => {
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                }
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => {
                    if c == b'}' && interpolation_depths.last() == Some(&depth) {
                        interpolation_depths.pop();
                        in_string = true;
                    }
                    depth = depth.saturating_sub(1);
                }
                _ => {}
            }
        }
        if depth > MAX_NESTING {
            return Some(Span::new(id, i, i + 1));
        }
        i += 1;
    }
    None
}

/// The `///` lines directly above a declaration, joined.
pub(crate) fn doc_comment_before(text: &str, start: usize) -> Option<String> {
    let before = text.get(..start)?;
    let mut lines: Vec<&str> = Vec::new();
    for line in before.lines().rev().skip_while(|l| l.trim().is_empty()) {
        let trimmed = line.trim();
        if let Some(doc) = trimmed.strip_prefix("///") {
            lines.push(doc.strip_prefix(' ').unwrap_or(doc));
        } else {
            break;
        }
    }
    if lines.is_empty() {
        return None;
    }
    lines.reverse();
    Some(lines.join("\n"))
}
