//! The canonical layout of a policy file, for `edict fmt`.
//!
//! The formatter works on tokens: it keeps the author's line breaks (at most
//! one blank line in a row), every comment and doc comment, and rewrites the
//! spacing between tokens and the indentation of every line. It never changes
//! a token, so the formatted file parses to the same syntax tree; `format`
//! checks that before returning and refuses otherwise.

use crate::diagnostic::Diagnostic;
use crate::source::{SourceId, SourceMap};

/// Spaces per indentation level.
const INDENT: &str = "  ";

/// Words that start a top-level declaration.
const DECL_WORDS: [&str; 8] = [
    "use", "const", "fn", "facts", "type", "rule", "waiver", "test",
];
/// Words that start a clause inside a rule, waiver or test.
const CLAUSE_WORDS: [&str; 18] = [
    "title",
    "severity",
    "level",
    "cite",
    "tags",
    "remediation",
    "effective",
    "for",
    "let",
    "where",
    "subject",
    "due",
    "require",
    "from",
    "now",
    "facts",
    "expect",
    "else",
];
/// Words that are operators or introduce an expression: a `(` or `[` after
/// one of them is grouping or a list, not a call or an index.
const OPERATOR_WORDS: [&str; 11] = [
    "and", "or", "not", "in", "if", "then", "else", "for", "where", "any", "all",
];
/// Words that are values: an operator after one of them is binary.
const VALUE_WORDS: [&str; 3] = ["true", "false", "null"];

/// Why a file could not be formatted.
#[derive(Debug)]
pub enum FormatError {
    /// The file does not parse; nothing was formatted.
    Syntax(Vec<Diagnostic>, SourceMap),
    /// The formatted text would parse differently: a formatter bug, refused.
    Changed,
}

/// Formats one policy file's text.
pub fn format(name: &str, text: &str) -> Result<String, FormatError> {
    let mut sources = SourceMap::default();
    let id = sources.add(name, text);
    let before = match super::parse(&sources, id) {
        Ok(file) => file,
        Err(diagnostics) => return Err(FormatError::Syntax(diagnostics, sources)),
    };
    let out = layout(text);
    let mut check = SourceMap::default();
    let id2 = check.add(name, out.as_str());
    match super::parse(&check, id2) {
        Ok(after) if shape(&before, id) == shape(&after, id2) => Ok(out),
        _ => Err(FormatError::Changed),
    }
}

/// A syntax tree's debug form with every span removed, to compare meaning.
fn shape(file: &super::ast::File, _id: SourceId) -> String {
    let text = format!("{:?}", file.decls);
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(i) = rest.find("Span {") {
        out.push_str(&rest[..i]);
        match rest[i..].find('}') {
            Some(j) => rest = &rest[i + j + 1..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// A lexical token of a policy file.
#[derive(Clone, Debug, PartialEq)]
enum Tok<'a> {
    /// A name, keyword or literal that is not a string.
    Word(&'a str),
    /// A string literal, interpolations included, exactly as written.
    Str(&'a str),
    /// Punctuation or an operator.
    Punct(&'a str),
    /// A `//` or `///` comment, without the line break.
    Comment(&'a str),
}

/// A line of tokens, and how many blank lines came before it.
struct Line<'a> {
    toks: Vec<Tok<'a>>,
    blank_before: bool,
}

fn flush<'a>(current: &mut Vec<Tok<'a>>, lines: &mut Vec<Line<'a>>, newlines: usize) {
    if !current.is_empty() {
        lines.push(Line {
            toks: std::mem::take(current),
            blank_before: newlines > 1,
        });
    }
}

fn lex(text: &str) -> Vec<Line<'_>> {
    let bytes = text.as_bytes();
    let mut lines: Vec<Line<'_>> = Vec::new();
    let mut current: Vec<Tok<'_>> = Vec::new();
    let mut newlines = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'\n' {
            if !current.is_empty() {
                flush(&mut current, &mut lines, newlines);
                newlines = 0;
            }
            newlines += 1;
            i += 1;
            continue;
        }
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if c == b'/' && bytes.get(i + 1) == Some(&b'/') {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            current.push(Tok::Comment(text[start..i].trim_end()));
            continue;
        }
        if c == b'"' {
            i = skip_string(bytes, i, 0);
            current.push(Tok::Str(&text[start..i]));
            continue;
        }
        if c.is_ascii_alphanumeric() || c == b'_' {
            i = skip_word(bytes, i);
            current.push(Tok::Word(&text[start..i]));
            continue;
        }
        const TWO: [&str; 6] = ["??", "?.", "==", "!=", "<=", ">="];
        let two = text.get(i..i + 2).filter(|t| TWO.contains(t));
        let len = two.map_or_else(|| text[i..].chars().next().map_or(1, char::len_utf8), |_| 2);
        current.push(Tok::Punct(&text[i..i + len]));
        i += len;
    }
    flush(&mut current, &mut lines, newlines);
    lines
}

/// The end of a word: a name, number, duration, date or datetime.
fn skip_word(bytes: &[u8], mut i: usize) -> usize {
    let start = i;
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    if bytes[i].is_ascii_digit() {
        // A date or datetime: digits and `-`, `:`, `.`, `+`, `T`, `Z` when the
        // shape is `dddd-dd-dd`.
        let is_date = bytes.len() >= i + 10
            && bytes[i..i + 4].iter().all(u8::is_ascii_digit)
            && bytes[i + 4] == b'-'
            && bytes[i + 5..i + 7].iter().all(u8::is_ascii_digit)
            && bytes[i + 7] == b'-'
            && bytes[i + 8..i + 10].iter().all(u8::is_ascii_digit);
        if is_date {
            i += 10;
            if matches!(bytes.get(i), Some(b'T' | b't'))
                && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
            {
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b':' | b'.'))
                {
                    i += 1;
                }
                if matches!(bytes.get(i), Some(b'+' | b'-'))
                    && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
                {
                    i += 1;
                    while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b':') {
                        i += 1;
                    }
                }
            }
            while i < bytes.len() && word(bytes[i]) {
                i += 1;
            }
            return i;
        }
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if bytes.get(i) == Some(&b'.') && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    while i < bytes.len() && word(bytes[i]) {
        i += 1;
    }
    i.max(start + 1)
}

/// The end of a string literal starting at `i`, nested interpolations included.
fn skip_string(bytes: &[u8], mut i: usize, depth: usize) -> usize {
    i += 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            b'{' if depth < super::MAX_NESTING => {
                i += 1;
                let mut braces = 0usize;
                while i < bytes.len() {
                    match bytes[i] {
                        b'"' => {
                            i = skip_string(bytes, i, depth + 1);
                            continue;
                        }
                        b'{' => braces += 1,
                        b'}' if braces == 0 => break,
                        b'}' => braces -= 1,
                        _ => {}
                    }
                    i += 1;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    bytes.len()
}

/// What a bracket encloses, which decides how its lines are indented.
#[derive(Clone, Copy, PartialEq)]
enum Block {
    /// The body of a rule, waiver or test: clauses, continuations indented.
    Clauses,
    /// Anything else: every line at the bracket's content level.
    Plain,
}

/// Lays the tokens out in the canonical form.
fn layout(text: &str) -> String {
    let lines = lex(text);
    // Indentation of each line, then comment lines take the next code line's.
    let mut stack: Vec<(Block, usize)> = Vec::new();
    let mut decl: Option<&str> = None;
    let mut levels: Vec<usize> = Vec::with_capacity(lines.len());
    for line in &lines {
        let first = &line.toks[0];
        let leading_closers = line
            .toks
            .iter()
            .take_while(|t| matches!(t, Tok::Punct(")" | "]" | "}")))
            .count();
        let level = if leading_closers > 0 {
            let keep = stack.len().saturating_sub(leading_closers);
            stack
                .get(keep)
                .map(|(_, content)| content.saturating_sub(1))
                .unwrap_or(0)
        } else {
            let (block, content) = stack.last().copied().unwrap_or((Block::Clauses, 0));
            let starts_clause = match first {
                Tok::Word(w) if stack.is_empty() => DECL_WORDS.contains(w),
                Tok::Word(w) => CLAUSE_WORDS.contains(w),
                Tok::Comment(_) => true,
                _ => false,
            };
            let is_else = matches!(first, Tok::Word("else"));
            if block == Block::Clauses && (!starts_clause || is_else) {
                content + 1
            } else {
                content
            }
        };
        levels.push(level);
        for tok in &line.toks {
            match tok {
                Tok::Word(w) if stack.is_empty() && DECL_WORDS.contains(w) && decl.is_none() => {
                    decl = Some(w)
                }
                Tok::Punct("(" | "[" | "{") => {
                    let block = if stack.is_empty()
                        && *tok == Tok::Punct("{")
                        && matches!(decl, Some("rule" | "waiver" | "test"))
                    {
                        Block::Clauses
                    } else {
                        Block::Plain
                    };
                    stack.push((block, level + 1));
                }
                Tok::Punct(")" | "]" | "}") => {
                    stack.pop();
                    if stack.is_empty() {
                        decl = None;
                    }
                }
                _ => {}
            }
        }
        if stack.is_empty() && !matches!(line.toks.last(), Some(Tok::Punct("{" | "(" | "["))) {
            // A one-line declaration ends with its line unless it continues.
            if matches!(line.toks.first(), Some(Tok::Word(w)) if DECL_WORDS.contains(w)) {
                decl = None;
            }
        }
    }
    for i in (0..lines.len()).rev() {
        if lines[i].toks.iter().all(|t| matches!(t, Tok::Comment(_))) {
            if let Some(next) = lines.get(i + 1) {
                if !matches!(next.toks.first(), Some(Tok::Punct(")" | "]" | "}"))) {
                    levels[i] = levels[i + 1];
                }
            }
        }
    }
    let mut out = String::with_capacity(text.len());
    for (n, line) in lines.iter().enumerate() {
        let after_open =
            n > 0 && matches!(lines[n - 1].toks.last(), Some(Tok::Punct("{" | "(" | "[")));
        let before_close = matches!(line.toks.first(), Some(Tok::Punct("}" | ")" | "]")));
        if line.blank_before && n > 0 && !after_open && !before_close {
            out.push('\n');
        }
        for _ in 0..levels[n] {
            out.push_str(INDENT);
        }
        render_line(&line.toks, &mut out);
        out.push('\n');
    }
    out
}

/// Whether `toks[j]` ends an operand, so a `-` after it is binary.
fn is_value_end(toks: &[Tok<'_>], j: usize) -> bool {
    match &toks[j] {
        Tok::Word(w) if VALUE_WORDS.contains(w) => true,
        Tok::Word(w) if j == 0 && CLAUSE_WORDS.contains(w) => false,
        Tok::Word(w) => !OPERATOR_WORDS.contains(w),
        Tok::Str(_) => true,
        Tok::Punct(p) => matches!(*p, ")" | "]" | "}" | "?"),
        Tok::Comment(_) => false,
    }
}

fn render_line(toks: &[Tok<'_>], out: &mut String) {
    for (i, tok) in toks.iter().enumerate() {
        if i > 0 && space_between(toks, i) {
            out.push(' ');
            if matches!(tok, Tok::Comment(_)) {
                out.push(' ');
            }
        }
        match tok {
            Tok::Word(s) | Tok::Str(s) | Tok::Punct(s) | Tok::Comment(s) => out.push_str(s),
        }
    }
}

/// Whether a space goes between `toks[i - 1]` and `toks[i]`.
fn space_between(toks: &[Tok<'_>], i: usize) -> bool {
    let prev = &toks[i - 1];
    let next = &toks[i];
    let unary_minus = |j: usize| -> bool {
        toks.get(j) == Some(&Tok::Punct("-")) && (j == 0 || !is_value_end(toks, j - 1))
    };
    if let Tok::Comment(_) = next {
        return true;
    }
    if let Tok::Punct(p) = prev {
        match *p {
            "(" | "[" | "." | "?." => return false,
            "{" => return *next != Tok::Punct("}"),
            "-" if unary_minus(i - 1) => return false,
            _ => {}
        }
    }
    match next {
        Tok::Punct(p) => match *p {
            ")" | "]" | "," | ":" | ";" | "." | "?." => false,
            "?" => false,
            "}" => *prev != Tok::Punct("{"),
            "(" | "[" => match prev {
                Tok::Word(w) if i == 1 && CLAUSE_WORDS.contains(w) => true,
                Tok::Word(w) if OPERATOR_WORDS.contains(w) => true,
                Tok::Word(_) => false,
                Tok::Punct(")" | "]") => false,
                _ => true,
            },
            _ => true,
        },
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(text: &str) -> String {
        match format("t.edict", text) {
            Ok(s) => s,
            Err(FormatError::Syntax(d, _)) => panic!("does not parse: {d:?}"),
            Err(FormatError::Changed) => panic!("changed meaning"),
        }
    }

    #[test]
    fn spacing_and_indentation_are_canonical() {
        let text = "rule   r{\nfor a in assets where a.x>-1\n   subject a.id\nrequire  f( a.b , [1,2] )<=SLA[ a.s ]\nelse \"{a.id} late\"\n}\n";
        assert_eq!(
            fmt(text),
            "rule r {\n  for a in assets where a.x > -1\n  subject a.id\n  require f(a.b, [1, 2]) <= SLA[a.s]\n    else \"{a.id} late\"\n}\n"
        );
    }

    #[test]
    fn comments_and_blank_lines_are_kept() {
        let text = "// head\n\n\n/// doc\nconst A = { a: 1d,   b: 2w }   // trailing\nfn f(x) = if x then (1)\n  else -2\n";
        assert_eq!(
            fmt(text),
            "// head\n\n/// doc\nconst A = { a: 1d, b: 2w }  // trailing\nfn f(x) = if x then (1)\n  else -2\n"
        );
    }

    #[test]
    fn keywords_before_parentheses_keep_a_space() {
        let text = "rule r {\n require (a ?? today) <= 1 and not (b) and count(xs) > 0\n}\n";
        assert_eq!(
            fmt(text),
            "rule r {\n  require (a ?? today) <= 1 and not (b) and count(xs) > 0\n}\n"
        );
    }

    #[test]
    fn formatting_is_idempotent_on_nested_literals() {
        let text = "test \"t\" {\n now 2026-11-29T08:30:00Z\n facts { a: [{ id: \"x\",\n b: null }],\n c: -3.5 }\n expect r pass count 0\n}\n";
        let once = fmt(text);
        assert_eq!(fmt(&once), once);
        assert!(once.contains("    b: null }],\n"), "{once}");
    }

    #[test]
    fn schemas_unions_and_interpolations_are_handled() {
        let text = "type Sev = \"low\"|\"high\"\nfacts {\n  assets : [Asset]\n  ex ?: [ E ]?\n}\nfn f( a ) = \"x {a ?? \"{a} \\{lit\\}\"} y\"\nrule r {\n  for a in assets where a.id not in [ \"y\" ]\n  require any t in a.tags ?? []: t == \"z\"\n  require -a.n < 0 or a.n*2 % 3 >= 1\n}\n";
        let once = fmt(text);
        assert_eq!(
            once,
            "type Sev = \"low\" | \"high\"\nfacts {\n  assets: [Asset]\n  ex?: [E]?\n}\nfn f(a) = \"x {a ?? \"{a} \\{lit\\}\"} y\"\nrule r {\n  for a in assets where a.id not in [\"y\"]\n  require any t in a.tags ?? []: t == \"z\"\n  require -a.n < 0 or a.n * 2 % 3 >= 1\n}\n"
        );
        assert_eq!(fmt(&once), once);
    }

    #[test]
    fn the_meaning_check_sees_token_changes_but_not_spacing() {
        let tree = |text: &str| {
            let mut sources = SourceMap::default();
            let id = sources.add("t.edict", text);
            shape(&crate::syntax::parse(&sources, id).unwrap(), id)
        };
        assert_eq!(tree("const A = 1 + 2"), tree("const A=1+2\n"));
        assert_ne!(tree("const A = 1 + 2"), tree("const A = 1 + 3"));
        assert_ne!(tree("const A = (1 + 2) * 3"), tree("const A = 1 + 2 * 3"));
    }

    #[test]
    fn a_file_that_does_not_parse_is_refused() {
        assert!(matches!(
            format("t.edict", "rule r { require a = b }"),
            Err(FormatError::Syntax(..))
        ));
    }
}
