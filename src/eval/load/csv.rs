//! CSV facts (RFC 4180): a header row, then one record a row. Cells are text
//! until the schema says a column holds numbers, bools or dates.

use super::{Node, NodeKind, SyntaxError};

/// Parses CSV text into a list of records keyed by the header row.
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = Reader {
        chars: text.chars().peekable(),
        line: 1,
        column: 1,
    };
    let Some(header) = reader.record()? else {
        return Ok(list(Vec::new()));
    };
    let names: Vec<String> = header.iter().map(|c| c.0.clone()).collect();
    for (i, (name, line, column)) in header.iter().enumerate() {
        if name.is_empty() || names[..i].contains(name) {
            return Err(SyntaxError {
                line: *line as usize,
                column: *column as usize,
                reason: format!("header cell `{name}` is empty or repeated"),
            });
        }
    }
    let mut rows = Vec::new();
    while let Some(cells) = reader.record()? {
        let (line, column) = (cells[0].1, cells[0].2);
        if cells.len() == 1 && cells[0].0.is_empty() {
            continue;
        }
        if cells.len() != names.len() {
            return Err(SyntaxError {
                line: line as usize,
                column: column as usize,
                reason: format!(
                    "expected {} cells as in the header row, found {}",
                    names.len(),
                    cells.len()
                ),
            });
        }
        let entries = names
            .iter()
            .zip(cells)
            .map(|(name, (text, line, column))| {
                let kind = NodeKind::Str { text, raw: true };
                (name.clone(), Node { kind, line, column })
            })
            .collect();
        rows.push(Node {
            kind: NodeKind::Map(entries),
            line,
            column,
        });
    }
    Ok(list(rows))
}

fn list(rows: Vec<Node>) -> Node {
    Node {
        kind: NodeKind::List(rows),
        line: 1,
        column: 1,
    }
}

struct Reader<'t> {
    chars: std::iter::Peekable<std::str::Chars<'t>>,
    line: u32,
    column: u32,
}

type Cell = (String, u32, u32);

impl Reader<'_> {
    fn bump(&mut self) -> Option<char> {
        let c = self.chars.next()?;
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
        Some(c)
    }

    /// One record's cells with their positions, or `None` at the end.
    fn record(&mut self) -> Result<Option<Vec<Cell>>, SyntaxError> {
        if self.chars.peek().is_none() {
            return Ok(None);
        }
        let mut cells = Vec::new();
        loop {
            let (line, column) = (self.line, self.column);
            let mut cell = String::new();
            if self.chars.peek() == Some(&'"') {
                self.bump();
                loop {
                    match self.bump() {
                        Some('"') if self.chars.peek() == Some(&'"') => {
                            self.bump();
                            cell.push('"');
                        }
                        Some('"') => break,
                        Some(c) => cell.push(c),
                        None => {
                            return Err(SyntaxError {
                                line: line as usize,
                                column: column as usize,
                                reason: "unterminated quoted cell".into(),
                            })
                        }
                    }
                }
                match self.chars.peek() {
                    None | Some(',' | '\n' | '\r') => {}
                    Some(_) => {
                        return Err(SyntaxError {
                            line: self.line as usize,
                            column: self.column as usize,
                            reason: "expected `,` or the end of the row after a quoted cell".into(),
                        })
                    }
                }
            } else {
                while let Some(&c) = self.chars.peek() {
                    if matches!(c, ',' | '\n' | '\r') {
                        break;
                    }
                    if c == '"' {
                        return Err(SyntaxError {
                            line: self.line as usize,
                            column: self.column as usize,
                            reason: "a quote inside an unquoted cell; quote the whole cell".into(),
                        });
                    }
                    cell.push(c);
                    self.bump();
                }
            }
            cells.push((cell, line, column));
            match self.bump() {
                Some(',') => continue,
                Some('\r') => {
                    if self.chars.peek() == Some(&'\n') {
                        self.bump();
                    }
                    return Ok(Some(cells));
                }
                _ => return Ok(Some(cells)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(n: &Node) -> &str {
        match &n.kind {
            NodeKind::Str { text, .. } => text,
            _ => "",
        }
    }

    #[test]
    fn reads_records_with_quotes_and_positions() {
        let node = parse("id,note\r\na1,\"say \"\"hi\"\", ok\"\na2,\"two\nlines\"\n").unwrap();
        let NodeKind::List(rows) = node.kind else {
            panic!("not a list")
        };
        assert_eq!(rows.len(), 2);
        let NodeKind::Map(cells) = &rows[0].kind else {
            panic!("not a map")
        };
        assert_eq!(text(&cells[1].1), "say \"hi\", ok");
        assert_eq!((cells[1].1.line, cells[1].1.column), (2, 4));
        assert_eq!(rows[1].line, 3);
    }

    #[test]
    fn reports_ragged_rows_and_bad_quotes() {
        let err = parse("a,b\n1,2\n3\n").unwrap_err();
        assert_eq!(err.line, 3);
        assert!(parse("a\n\"open\n").is_err());
        assert!(parse("a\nx\"y\n").is_err());
    }
}
