//! What the language server knows about a policy set: diagnostics, names and
//! where they are declared, computed from buffers and files without any LSP types.

use std::path::{Path, PathBuf};

use crate::builtins;
use crate::check;
use crate::diagnostic::{Diagnostic, Severity};
use crate::source::{SourceId, SourceMap, Span};
use crate::syntax::{self, ast};

/// Words with a meaning in the grammar (every `kw_*` rule of grammar/edict.pest).
pub const KEYWORDS: &[&str] = &[
    "all",
    "and",
    "any",
    "cite",
    "const",
    "count",
    "due",
    "effective",
    "else",
    "expect",
    "facts",
    "false",
    "fn",
    "for",
    "from",
    "if",
    "in",
    "let",
    "level",
    "not",
    "now",
    "null",
    "or",
    "remediation",
    "require",
    "rule",
    "severity",
    "subject",
    "tags",
    "test",
    "then",
    "title",
    "true",
    "type",
    "use",
    "waiver",
    "where",
];

/// Most `.edict` files gathered for one policy set, so a file opened in a
/// huge directory cannot stall the server.
const MAX_SET_FILES: usize = 2000;
/// Most directory entries looked at while gathering a policy set.
const MAX_WALK_ENTRIES: usize = 50_000;
/// Deepest directory nesting searched.
const MAX_WALK_DEPTH: usize = 16;

/// One file of a policy set: its key (a URI), and its text.
#[derive(Debug, Clone)]
pub struct Member {
    /// The document's URI as the client spells it, or a `file://` URI for a file read from disk.
    pub uri: String,
    /// The text: the open buffer's, or the file's on disk.
    pub text: String,
}

/// A diagnostic placed in one member, with byte offsets.
#[derive(Debug, Clone)]
pub struct Placed {
    /// Byte range in the member's text.
    pub start: usize,
    /// End of the byte range.
    pub end: usize,
    /// The diagnostic.
    pub diagnostic: Diagnostic,
    /// Other places involved, as (member index, start, end, label).
    pub related: Vec<(usize, usize, usize, String)>,
}

/// A declaration found in a member.
#[derive(Debug, Clone)]
pub struct Declared {
    /// Which member.
    pub member: usize,
    /// The declaration.
    pub decl: ast::Decl,
}

/// A checked policy set: its members, each one's diagnostics and declarations.
#[derive(Debug)]
pub struct Analysis {
    /// The files, in the order they were given.
    pub members: Vec<Member>,
    /// Diagnostics per member (same index), always present, possibly empty.
    pub diagnostics: Vec<Vec<Placed>>,
    /// Every declaration that parsed, in every member.
    pub decls: Vec<Declared>,
}

impl Analysis {
    /// Checks a policy set made of these members.
    pub fn new(members: Vec<Member>) -> Analysis {
        let mut map = SourceMap::default();
        for m in &members {
            map.add(m.uri.clone(), m.text.clone());
        }
        let mut decls = Vec::new();
        for (i, _) in members.iter().enumerate() {
            let (file, _) = syntax::parse_partial(&map, SourceId(i as u32));
            decls.extend(
                file.decls
                    .into_iter()
                    .map(|decl| Declared { member: i, decl }),
            );
        }
        let found = match check::compile(map) {
            Ok((_, warnings)) => warnings,
            Err(failure) => failure.diagnostics,
        };
        let mut diagnostics: Vec<Vec<Placed>> = vec![Vec::new(); members.len()];
        let in_set = |span: Span| (span.source.0 as usize) < members.len();
        for d in found {
            if !in_set(d.span) {
                continue;
            }
            let related = d
                .related
                .iter()
                .filter(|(s, _)| in_set(*s))
                .map(|(s, l)| {
                    (
                        s.source.0 as usize,
                        s.start as usize,
                        s.end as usize,
                        l.clone(),
                    )
                })
                .collect();
            diagnostics[d.span.source.0 as usize].push(Placed {
                start: d.span.start as usize,
                end: d.span.end as usize,
                diagnostic: d,
                related,
            });
        }
        Analysis {
            members,
            diagnostics,
            decls,
        }
    }

    /// The index of the member with this URI.
    pub fn member(&self, uri: &str) -> Option<usize> {
        self.members.iter().position(|m| m.uri == uri).or_else(|| {
            let path = uri_to_path(uri)?;
            self.members
                .iter()
                .position(|m| uri_to_path(&m.uri).as_deref() == Some(path.as_path()))
        })
    }

    /// The top-level declaration named `name`, in any member.
    pub fn declaration(&self, name: &str) -> Option<&Declared> {
        self.decls
            .iter()
            .find(|d| d.decl.name().is_some_and(|n| &*n.name == name))
    }

    /// A schema field named `name` (from `facts { }` or a record type), with its member.
    pub fn field(&self, name: &str) -> Option<(usize, &ast::FieldDecl)> {
        self.fields().find(|(_, f)| &*f.name.name == name)
    }

    /// Every schema field declared in the set.
    pub fn fields(&self) -> impl Iterator<Item = (usize, &ast::FieldDecl)> {
        self.decls.iter().flat_map(|d| {
            let fields: &[ast::FieldDecl] = match &d.decl {
                ast::Decl::Facts(f) => &f.fields,
                ast::Decl::Type(ast::TypeDecl {
                    body: ast::TypeBody::Record(fields),
                    ..
                }) => fields,
                _ => &[],
            };
            fields.iter().map(move |f| (d.member, f))
        })
    }

    /// Markdown describing the word at `offset` of member `member`, if it names something.
    pub fn hover(&self, member: usize, offset: usize) -> Option<(usize, usize, String)> {
        let text = &self.members.get(member)?.text;
        let (start, end) = word_at(text, offset)?;
        let word = &text[start..end];
        let after_dot = text[..start].ends_with('.');
        let markdown = if after_dot {
            let (m, f) = self.field(word)?;
            let ty = slice(&self.members[m].text, f.ty.span);
            format!(
                "```edict\n{}{}: {ty}\n```",
                f.name.name,
                if f.optional { "?" } else { "" }
            )
        } else if let Some(d) = self.declaration(word) {
            describe(&self.members[d.member].text, &d.decl)
        } else if let Some(b) = builtins::lookup(word) {
            format!("```edict\n{}\n```\n\n{}", b.signature, b.doc)
        } else if KEYWORDS.contains(&word) {
            format!("`{word}`: keyword")
        } else {
            return None;
        };
        Some((start, end, markdown))
    }

    /// Where the word at `offset` of member `member` is declared: (member, start, end).
    pub fn definition(&self, member: usize, offset: usize) -> Option<(usize, usize, usize)> {
        let text = &self.members.get(member)?.text;
        let (start, end) = word_at(text, offset)?;
        let word = &text[start..end];
        if text[..start].ends_with('.') {
            let (m, f) = self.field(word)?;
            return Some((m, f.name.span.start as usize, f.name.span.end as usize));
        }
        let d = self.declaration(word)?;
        let name = d.decl.name()?;
        Some((d.member, name.span.start as usize, name.span.end as usize))
    }
}

/// A declaration described for a hover: its head, then its doc comment.
fn describe(text: &str, decl: &ast::Decl) -> String {
    let mut out = String::new();
    let mut doc = None;
    match decl {
        ast::Decl::Rule(r) => {
            out.push_str(&format!("```edict\nrule {}\n```\n", r.name.name));
            if let Some(title) = &r.meta.title {
                out.push_str(&format!("\n**{}**\n", unquote(slice(text, title.span))));
            }
            let mut facets = Vec::new();
            if let Some(s) = &r.meta.severity {
                facets.push(format!("severity `{}`", s.name));
            }
            if let Some(l) = &r.meta.level {
                facets.push(format!("level `{}`", l.name));
            }
            if !facets.is_empty() {
                out.push_str(&format!("\n{}\n", facets.join(" · ")));
            }
            for cite in &r.meta.cites {
                out.push_str(&format!("\n- {}", unquote(slice(text, cite.span))));
            }
            if !r.meta.cites.is_empty() {
                out.push('\n');
            }
            doc = r.doc.as_deref();
        }
        ast::Decl::Const(c) => {
            out.push_str(&format!("```edict\nconst {}\n```\n", c.name.name));
            doc = c.doc.as_deref();
        }
        ast::Decl::Fn(f) => {
            let params: Vec<&str> = f.params.iter().map(|p| &*p.name).collect();
            out.push_str(&format!(
                "```edict\nfn {}({})\n```\n",
                f.name.name,
                params.join(", ")
            ));
            doc = f.doc.as_deref();
        }
        ast::Decl::Type(t) => {
            out.push_str(&format!("```edict\ntype {}\n```\n", t.name.name));
            doc = t.doc.as_deref();
        }
        ast::Decl::Waiver(w) => {
            let rules: Vec<&str> = w.rules.iter().map(|r| &*r.name).collect();
            out.push_str(&format!(
                "```edict\nwaiver {} for {}\n```\n",
                w.name.name,
                rules.join(", ")
            ));
            doc = w.doc.as_deref();
        }
        ast::Decl::Use(_) | ast::Decl::Facts(_) | ast::Decl::Test(_) => {}
    }
    if let Some(doc) = doc {
        out.push('\n');
        out.push_str(doc);
        out.push('\n');
    }
    out
}

fn slice(text: &str, span: Span) -> &str {
    text.get(span.start as usize..span.end as usize)
        .unwrap_or("")
}

fn unquote(s: &str) -> &str {
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s)
}

/// The byte range of the name under or just before `offset`.
pub fn word_at(text: &str, offset: usize) -> Option<(usize, usize)> {
    let offset = offset.min(text.len());
    if !text.is_char_boundary(offset) {
        return None;
    }
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let start = text[..offset]
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_word(*c))
        .last()
        .map_or(offset, |(i, _)| i);
    let end = offset
        + text[offset..]
            .char_indices()
            .take_while(|(_, c)| is_word(*c))
            .last()
            .map_or(0, |(i, c)| i + c.len_utf8());
    (start < end).then_some((start, end))
}

/// Severity as the LSP numbers it: 1 error, 2 warning.
pub fn lsp_severity(s: Severity) -> u8 {
    match s {
        Severity::Error => 1,
        Severity::Warning => 2,
    }
}

/// The `.edict` files of the policy set a file at `path` belongs to: every
/// `.edict` file under its directory, sorted (as `edict check DIR` reads them).
pub fn set_files(path: &Path) -> Vec<PathBuf> {
    let Some(dir) = path.parent() else {
        return vec![path.to_path_buf()];
    };
    let mut out = Vec::new();
    let mut budget = MAX_WALK_ENTRIES;
    walk(dir, 0, &mut budget, &mut out);
    out.sort();
    out
}

fn walk(dir: &Path, depth: usize, budget: &mut usize, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if *budget == 0 || out.len() >= MAX_SET_FILES {
            return;
        }
        *budget -= 1;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_str().unwrap_or("");
        if name.starts_with('.') || name == "target" || name == "node_modules" {
            continue;
        }
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() && depth < MAX_WALK_DEPTH {
            walk(&path, depth + 1, budget, out);
        } else if kind.is_file() && name.ends_with(".edict") {
            out.push(path);
        }
    }
}

/// The path of a `file://` URI, percent-decoded.
pub fn uri_to_path(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = rest.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(PathBuf::from(String::from_utf8(out).ok()?))
}

/// A `file://` URI for an absolute path, percent-encoding what needs it.
pub fn path_to_uri(path: &Path) -> String {
    let mut out = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A byte offset as an LSP position: 0-based line and UTF-16 column.
pub fn position(text: &str, offset: usize) -> (u32, u32) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col: usize = before[line_start..].chars().map(char::len_utf16).sum();
    (line as u32, col as u32)
}

/// An LSP position (0-based line, UTF-16 column) as a byte offset, clamped to the text.
pub fn offset(text: &str, line: u32, character: u32) -> usize {
    let mut start = 0;
    for _ in 0..line {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let mut units = 0;
    for (i, c) in text[start..].char_indices() {
        if units >= character as usize || c == '\n' {
            return start + i;
        }
        units += c.len_utf16();
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(texts: &[(&str, &str)]) -> Analysis {
        Analysis::new(
            texts
                .iter()
                .map(|(u, t)| Member {
                    uri: u.to_string(),
                    text: t.to_string(),
                })
                .collect(),
        )
    }

    #[test]
    fn keywords_match_the_grammar() {
        let grammar = include_str!("../../../grammar/edict.pest");
        let mut from_grammar: Vec<&str> = grammar
            .lines()
            .filter_map(|l| l.strip_prefix("kw_"))
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        from_grammar.sort_unstable();
        assert_eq!(from_grammar, KEYWORDS);
    }

    #[test]
    fn positions_count_utf16_units() {
        let text = "a\n\u{e9}\u{1F600}x\n";
        assert_eq!(position(text, 0), (0, 0));
        let x = text.find('x').unwrap();
        assert_eq!(position(text, x), (1, 3));
        assert_eq!(offset(text, 1, 3), x);
        assert_eq!(offset(text, 9, 0), text.len());
        assert_eq!(offset(text, 0, 99), 1);
    }

    #[test]
    fn uris_round_trip() {
        let p = Path::new("/tmp/a b/%x.edict");
        let uri = path_to_uri(p);
        assert_eq!(uri, "file:///tmp/a%20b/%25x.edict");
        assert_eq!(uri_to_path(&uri).as_deref(), Some(p));
        assert_eq!(uri_to_path("untitled:1"), None);
    }

    #[test]
    fn diagnostics_land_in_the_file_they_are_about() {
        let a = set(&[
            ("file:///a.edict", "const X = 1\n"),
            ("file:///b.edict", "const Y = Z\n"),
        ]);
        assert!(a.diagnostics[0].is_empty());
        assert_eq!(a.diagnostics[1].len(), 1);
        let d = &a.diagnostics[1][0];
        assert_eq!(&a.members[1].text[d.start..d.end], "Z");
    }

    #[test]
    fn hover_and_definition_find_declarations_across_files() {
        let a = set(&[
            ("file:///a.edict", "/// The limit.\nconst LIMIT = 3\n"),
            (
                "file:///b.edict",
                "rule r {\n  title \"T\"\n  cite \"C 1\"\n  require len([1]) < LIMIT\n}\n",
            ),
        ]);
        let text = &a.members[1].text;
        let at = text.find("LIMIT").unwrap() + 2;
        let (_, _, md) = a.hover(1, at).unwrap();
        assert!(
            md.contains("const LIMIT") && md.contains("The limit."),
            "{md}"
        );
        let (m, s, e) = a.definition(1, at).unwrap();
        assert_eq!((m, &a.members[0].text[s..e]), (0, "LIMIT"));
        let (_, _, md) = a.hover(1, text.find("len").unwrap()).unwrap();
        assert!(md.contains("len("), "{md}");
        let (_, _, md) = a.hover(1, text.find("r {").unwrap()).unwrap();
        assert!(md.contains("**T**") && md.contains("- C 1"), "{md}");
    }

    #[test]
    fn word_at_takes_the_word_under_or_before_the_cursor() {
        assert_eq!(word_at("ab cd", 4), Some((3, 5)));
        assert_eq!(word_at("ab cd", 2), Some((0, 2)));
        assert_eq!(word_at("ab  cd", 3), None);
        assert_eq!(word_at("\u{e9}", 1), None);
    }
}
