//! A small JSON reader that keeps the line and column of every value.

use super::{Node, NodeKind, SyntaxError};

/// Deepest nesting accepted, so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 256;

/// Parses one JSON document.
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    let mut p = Parser::new(text);
    p.skip_ws();
    let node = p.value(0)?;
    p.skip_ws();
    if p.pos < p.bytes.len() {
        return Err(p.error("trailing characters after the document"));
    }
    Ok(node)
}

/// Parses JSON Lines: one value a line (blank lines skipped), as a list.
pub fn parse_lines(text: &str) -> Result<Node, SyntaxError> {
    let mut p = Parser::new(text);
    let mut items = Vec::new();
    loop {
        p.skip_ws();
        if p.pos >= p.bytes.len() {
            break;
        }
        let line = p.line;
        items.push(p.value(0)?);
        p.skip_inline_ws();
        if p.pos < p.bytes.len() && p.line == line && p.bytes[p.pos] != b'\n' {
            return Err(p.error("expected one value per line"));
        }
    }
    Ok(Node {
        kind: NodeKind::List(items),
        line: 1,
        column: 1,
    })
}

/// Parses JSON Lines line by line, leaving out malformed lines: the
/// well-formed records as a list, and each malformed line's error.
pub fn parse_records(text: &str) -> (Node, Vec<SyntaxError>) {
    let mut items = Vec::new();
    let mut errors = Vec::new();
    for (index, line) in text.split('\n').enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let mut p = Parser::new(line);
        p.line = u32::try_from(index + 1).unwrap_or(u32::MAX);
        p.skip_inline_ws();
        let record = p.value(0).and_then(|node| {
            p.skip_inline_ws();
            if p.pos < p.bytes.len() {
                Err(p.error("expected one value per line"))
            } else {
                Ok(node)
            }
        });
        match record {
            Ok(node) => items.push(node),
            Err(e) => errors.push(e),
        }
    }
    let node = Node {
        kind: NodeKind::List(items),
        line: 1,
        column: 1,
    };
    (node, errors)
}

struct Parser<'t> {
    text: &'t str,
    bytes: &'t [u8],
    pos: usize,
    line: u32,
    line_start: usize,
    /// The last column computed on this line, and where: positions only
    /// grow, so counting on from there keeps minified documents linear.
    col_at: std::cell::Cell<(usize, u32)>,
}

impl<'t> Parser<'t> {
    fn new(text: &'t str) -> Self {
        Parser {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            line: 1,
            line_start: 0,
            col_at: std::cell::Cell::new((0, 1)),
        }
    }

    fn column(&self) -> u32 {
        let (mut at, mut col) = self.col_at.get();
        if at < self.line_start || at > self.pos {
            (at, col) = (self.line_start, 1);
        }
        let more = self.text.get(at..self.pos).unwrap_or("").chars().count() as u32;
        self.col_at.set((self.pos, col + more));
        col + more
    }

    fn error(&self, reason: &str) -> SyntaxError {
        SyntaxError {
            line: self.line as usize,
            column: self.column() as usize,
            reason: reason.to_string(),
        }
    }

    fn skip_ws(&mut self) {
        while let Some(&b) = self.bytes.get(self.pos) {
            match b {
                b'\n' => {
                    self.pos += 1;
                    self.line += 1;
                    self.line_start = self.pos;
                }
                b' ' | b'\t' | b'\r' => self.pos += 1,
                _ => break,
            }
        }
    }

    fn skip_inline_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn node(&self, kind: NodeKind, line: u32, column: u32) -> Node {
        Node { kind, line, column }
    }

    fn value(&mut self, depth: usize) -> Result<Node, SyntaxError> {
        if depth > MAX_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        let (line, column) = (self.line, self.column());
        let Some(&b) = self.bytes.get(self.pos) else {
            return Err(self.error("unexpected end of input, expected a value"));
        };
        let kind = match b {
            b'{' => {
                self.pos += 1;
                let mut entries = Vec::new();
                self.skip_ws();
                if self.bytes.get(self.pos) == Some(&b'}') {
                    self.pos += 1;
                } else {
                    loop {
                        self.skip_ws();
                        if self.bytes.get(self.pos) != Some(&b'"') {
                            return Err(self.error("expected a key in double quotes"));
                        }
                        let key = self.string()?;
                        self.skip_ws();
                        if self.bytes.get(self.pos) != Some(&b':') {
                            return Err(self.error("expected `:` after the key"));
                        }
                        self.pos += 1;
                        self.skip_ws();
                        let v = self.value(depth + 1)?;
                        entries.push((key, v));
                        self.skip_ws();
                        match self.bytes.get(self.pos) {
                            Some(b',') => self.pos += 1,
                            Some(b'}') => {
                                self.pos += 1;
                                break;
                            }
                            _ => return Err(self.error("expected `,` or `}`")),
                        }
                    }
                }
                NodeKind::Map(entries)
            }
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                self.skip_ws();
                if self.bytes.get(self.pos) == Some(&b']') {
                    self.pos += 1;
                } else {
                    loop {
                        self.skip_ws();
                        items.push(self.value(depth + 1)?);
                        self.skip_ws();
                        match self.bytes.get(self.pos) {
                            Some(b',') => self.pos += 1,
                            Some(b']') => {
                                self.pos += 1;
                                break;
                            }
                            _ => return Err(self.error("expected `,` or `]`")),
                        }
                    }
                }
                NodeKind::List(items)
            }
            b'"' => NodeKind::Str {
                text: self.string()?,
                raw: false,
            },
            b't' => self.word("true", NodeKind::Bool(true))?,
            b'f' => self.word("false", NodeKind::Bool(false))?,
            b'n' => self.word("null", NodeKind::Null)?,
            b'-' | b'0'..=b'9' => self.number()?,
            _ => return Err(self.error("expected a value")),
        };
        Ok(self.node(kind, line, column))
    }

    fn word(&mut self, word: &str, kind: NodeKind) -> Result<NodeKind, SyntaxError> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(kind)
        } else {
            Err(self.error("expected a value"))
        }
    }

    fn number(&mut self) -> Result<NodeKind, SyntaxError> {
        let start = self.pos;
        let mut float = false;
        if self.bytes.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        let digits = |p: &mut Self| {
            let s = p.pos;
            while p.bytes.get(p.pos).is_some_and(u8::is_ascii_digit) {
                p.pos += 1;
            }
            p.pos > s
        };
        if !digits(self) {
            return Err(self.error("expected digits"));
        }
        if self.bytes.get(self.pos) == Some(&b'.') {
            float = true;
            self.pos += 1;
            if !digits(self) {
                return Err(self.error("expected digits after the decimal point"));
            }
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.pos) {
            float = true;
            self.pos += 1;
            if let Some(b'+' | b'-') = self.bytes.get(self.pos) {
                self.pos += 1;
            }
            if !digits(self) {
                return Err(self.error("expected digits in the exponent"));
            }
        }
        let text = &self.text[start..self.pos];
        if !float {
            if let Ok(i) = text.parse::<i64>() {
                return Ok(NodeKind::Int(i));
            }
        }
        text.parse::<f64>()
            .map(NodeKind::Float)
            .map_err(|_| self.error("invalid number"))
    }

    fn string(&mut self) -> Result<String, SyntaxError> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let start = self.pos;
            while let Some(&b) = self.bytes.get(self.pos) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            out.push_str(&self.text[start..self.pos]);
            match self.bytes.get(self.pos) {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let Some(&e) = self.bytes.get(self.pos) else {
                        return Err(self.error("unterminated string"));
                    };
                    self.pos += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let c = if (0xD800..0xDC00).contains(&hi) {
                                if self.bytes.get(self.pos..self.pos + 2) != Some(b"\\u") {
                                    return Err(self.error("unpaired surrogate in \\u escape"));
                                }
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.error("unpaired surrogate in \\u escape"));
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            match char::from_u32(c) {
                                Some(c) => out.push(c),
                                None => return Err(self.error("invalid \\u escape")),
                            }
                        }
                        _ => return Err(self.error("invalid escape")),
                    }
                }
                Some(_) => return Err(self.error("control character in a string")),
                None => return Err(self.error("unterminated string")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, SyntaxError> {
        let digits = self
            .text
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.error("invalid \\u escape"))?;
        let v = u32::from_str_radix(digits, 16).map_err(|_| self.error("invalid \\u escape"))?;
        self.pos += 4;
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_positions_and_escapes() {
        let node =
            parse("{\n  \"a\": [1, -2.5e1, \"x\\u00e9\\ud83d\\ude00\"],\n  \"b\": null }").unwrap();
        let NodeKind::Map(entries) = node.kind else {
            panic!("not a map")
        };
        assert_eq!((entries[0].1.line, entries[0].1.column), (2, 8));
        let NodeKind::List(items) = &entries[0].1.kind else {
            panic!("not a list")
        };
        assert_eq!(items[0].kind, NodeKind::Int(1));
        assert_eq!(items[1].kind, NodeKind::Float(-25.0));
        assert_eq!(
            items[2].kind,
            NodeKind::Str {
                text: "xé😀".into(),
                raw: false
            }
        );
        assert_eq!((entries[1].1.line, entries[1].1.column), (3, 8));
    }

    #[test]
    fn counts_columns_in_characters_on_long_lines() {
        let node = parse("[1, \"é\", 3]").unwrap();
        let NodeKind::List(items) = node.kind else {
            panic!("not a list")
        };
        assert_eq!(items[2].column, 10);
        let wide = format!("[{}]", vec!["\"é\""; 5000].join(","));
        let NodeKind::List(items) = parse(&wide).unwrap().kind else {
            panic!("not a list")
        };
        assert_eq!(items[4999].column, 2 + 4 * 4999);
    }

    #[test]
    fn reports_where_input_is_malformed() {
        let err = parse("{\"a\": [1,\n 2,, 3]}").unwrap_err();
        assert_eq!((err.line, err.column), (2, 4));
        assert!(parse("[1] x").is_err());
        assert!(parse(&"[".repeat(1000)).is_err());
    }

    #[test]
    fn reads_json_lines_as_a_list() {
        let node = parse_lines("{\"a\": 1}\n\n{\"a\": 2}\n").unwrap();
        let NodeKind::List(items) = node.kind else {
            panic!("not a list")
        };
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].line, 3);
        assert!(parse_lines("{\"a\": 1} {\"a\": 2}").is_err());
    }
}
