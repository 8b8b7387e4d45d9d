//! YAML facts, read with saphyr-parser (a maintained YAML 1.2 parser whose
//! events carry positions), resolving plain scalars by the YAML 1.2 core schema.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span};

use super::{Node, NodeKind, SyntaxError};

/// Deepest nesting accepted, so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 256;

/// Parses one YAML document; an empty document is null.
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    let mut reader = Reader {
        parser: Parser::new_from_str(text),
        anchors: HashMap::new(),
        last: Span::default(),
    };
    let mut doc = None;
    loop {
        let (event, span) = reader.next()?;
        match event {
            Event::StreamEnd => break,
            Event::StreamStart | Event::DocumentStart(_) | Event::DocumentEnd | Event::Nothing => {}
            other => {
                if doc.is_some() {
                    return Err(at(span, "expected one YAML document, found a second"));
                }
                doc = Some(reader.node(other, span, 0)?);
            }
        }
    }
    Ok(doc.unwrap_or(Node {
        kind: NodeKind::Null,
        line: 1,
        column: 1,
    }))
}

fn at(span: Span, reason: &str) -> SyntaxError {
    SyntaxError {
        line: span.start.line(),
        column: span.start.col() + 1,
        reason: reason.to_string(),
    }
}

struct Reader<'t> {
    parser: Parser<'t, saphyr_parser::StrInput<'t>>,
    anchors: HashMap<usize, Node>,
    last: Span,
}

impl<'t> Reader<'t> {
    fn next(&mut self) -> Result<(Event<'t>, Span), SyntaxError> {
        match self.parser.next_event() {
            Some(Ok((event, span))) => {
                self.last = span;
                Ok((event, span))
            }
            Some(Err(e)) => Err(scan_error(&e)),
            None => Err(at(self.last, "unexpected end of input")),
        }
    }

    fn node(&mut self, event: Event<'t>, span: Span, depth: usize) -> Result<Node, SyntaxError> {
        if depth > MAX_DEPTH {
            return Err(at(span, "nested too deeply"));
        }
        let (line, column) = (span.start.line() as u32, span.start.col() as u32 + 1);
        let (kind, anchor) = match event {
            Event::Scalar(text, style, anchor, _) => (scalar(&text, style), anchor),
            Event::SequenceStart(anchor, _) => {
                let mut items = Vec::new();
                loop {
                    let (e, s) = self.next()?;
                    if let Event::SequenceEnd = e {
                        break;
                    }
                    items.push(self.node(e, s, depth + 1)?);
                }
                (NodeKind::List(items), anchor)
            }
            Event::MappingStart(anchor, _) => {
                let mut entries = Vec::new();
                loop {
                    let (e, s) = self.next()?;
                    let key = match e {
                        Event::MappingEnd => break,
                        Event::Scalar(text, ..) => text.into_owned(),
                        _ => return Err(at(s, "only plain keys are supported in facts")),
                    };
                    let (e, s) = self.next()?;
                    entries.push((key, self.node(e, s, depth + 1)?));
                }
                (NodeKind::Map(entries), anchor)
            }
            Event::Alias(id) => {
                return match self.anchors.get(&id) {
                    Some(n) => Ok(Node {
                        line,
                        column,
                        ..n.clone()
                    }),
                    None => Err(at(span, "alias to an unknown anchor")),
                }
            }
            _ => return Err(at(span, "unexpected YAML event")),
        };
        let node = Node { kind, line, column };
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        Ok(node)
    }
}

fn scan_error(e: &ScanError) -> SyntaxError {
    SyntaxError {
        line: e.marker().line(),
        column: e.marker().col() + 1,
        reason: e.info().to_string(),
    }
}

/// A scalar's value: quoted and block scalars are strings; plain ones may be
/// null, a bool or a number (YAML 1.2 core schema).
fn scalar(text: &str, style: ScalarStyle) -> NodeKind {
    if style != ScalarStyle::Plain {
        return NodeKind::Str {
            text: text.to_string(),
            raw: false,
        };
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return NodeKind::Null,
        "true" | "True" | "TRUE" => return NodeKind::Bool(true),
        "false" | "False" | "FALSE" => return NodeKind::Bool(false),
        _ => {}
    }
    let numeric = text
        .trim_start_matches(['-', '+'])
        .starts_with(|c: char| c.is_ascii_digit() || c == '.');
    if numeric {
        if let Ok(i) = text.parse::<i64>() {
            return NodeKind::Int(i);
        }
        if text
            .bytes()
            .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
        {
            if let Ok(f) = text.parse::<f64>() {
                return NodeKind::Float(f);
            }
        }
    }
    NodeKind::Str {
        text: text.to_string(),
        raw: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_scalars_by_the_core_schema_with_positions() {
        let node = parse("a: 1\nb:\n  - x\n  - '2'\n  - ~\n  - 2.5\n  - 2026-01-01\n").unwrap();
        let NodeKind::Map(entries) = node.kind else {
            panic!("not a map")
        };
        assert_eq!(entries[0].1.kind, NodeKind::Int(1));
        let NodeKind::List(items) = &entries[1].1.kind else {
            panic!("not a list")
        };
        assert_eq!((items[0].line, items[0].column), (3, 5));
        assert_eq!(
            items[1].kind,
            NodeKind::Str {
                text: "2".into(),
                raw: false
            }
        );
        assert_eq!(items[2].kind, NodeKind::Null);
        assert_eq!(items[3].kind, NodeKind::Float(2.5));
        assert!(matches!(items[4].kind, NodeKind::Str { .. }));
    }

    #[test]
    fn reports_where_input_is_malformed() {
        let err = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.line >= 1, "{err:?}");
        assert!(parse("a: 1\n---\nb: 2\n").is_err());
    }
}
