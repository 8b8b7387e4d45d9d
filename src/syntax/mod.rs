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
///
/// When the file does not parse, every syntax error is reported, not only the
/// first: see [`parse_partial`].
pub fn parse(sources: &SourceMap, id: SourceId) -> Result<ast::File, Vec<Diagnostic>> {
    let (file, diagnostics) = parse_partial(sources, id);
    if diagnostics.is_empty() {
        Ok(file)
    } else {
        Err(diagnostics)
    }
}

/// Parses several files, on as many threads as there are cores when they are
/// large enough to be worth it; the results are in the order of `ids`.
pub fn parse_files(
    sources: &SourceMap,
    ids: &[SourceId],
) -> Vec<Result<ast::File, Vec<Diagnostic>>> {
    let bytes: usize = ids.iter().map(|&id| sources.get(id).text.len()).sum();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    if ids.len() < 2 || threads < 2 || bytes < PARALLEL_MIN_BYTES {
        return ids.iter().map(|&id| parse(sources, id)).collect();
    }
    let per_thread = ids.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = ids
            .chunks(per_thread)
            .map(|group| {
                let parse_group =
                    move || -> Vec<_> { group.iter().map(|&id| parse(sources, id)).collect() };
                (
                    group,
                    std::thread::Builder::new()
                        .stack_size(PARSE_STACK_BYTES)
                        .spawn_scoped(scope, parse_group),
                )
            })
            .collect();
        let mut results = Vec::with_capacity(ids.len());
        for (group, handle) in handles {
            match handle.map(|h| h.join()) {
                Ok(Ok(mut parsed)) => results.append(&mut parsed),
                // No thread, or it panicked: parse here, where a panic is reported.
                _ => results.extend(group.iter().map(|&id| parse(sources, id))),
            }
        }
        results
    })
}

/// Parses one source file as far as it can: the declarations that parse, and
/// the diagnostics of those that do not.
///
/// A file that fails to parse as a whole is re-parsed declaration by
/// declaration (split before each top-level keyword), so a mistake in one
/// declaration neither hides the mistakes in the others nor their syntax.
pub fn parse_partial(sources: &SourceMap, id: SourceId) -> (ast::File, Vec<Diagnostic>) {
    let empty = || ast::File { decls: Vec::new() };
    match parse_whole(sources, id) {
        Ok(file) => (file, Vec::new()),
        Err(Failed::Limit(diagnostics)) => (empty(), diagnostics),
        Err(Failed::Lowering(file, diagnostics)) => (file, diagnostics),
        Err(Failed::Syntax(first)) => {
            let text = &*sources.get(id).text;
            let mut decls = Vec::new();
            let mut diagnostics = Vec::new();
            for (start, end) in declaration_chunks(text) {
                let chunk = text.get(start..end).unwrap_or("");
                if let Some(deep) = too_deep(id, chunk, start) {
                    diagnostics.push(deep.diagnostic());
                    continue;
                }
                match EdictParser::parse(Rule::file, chunk) {
                    Ok(pairs) => {
                        let mut lowerer = lower::Lowerer::at(id, text, start);
                        decls.extend(lowerer.file(pairs).decls);
                        diagnostics.append(&mut lowerer.diagnostics);
                    }
                    Err(e) => diagnostics.push(errors::syntax_error_at(id, text, start, e)),
                }
            }
            if !diagnostics.iter().any(|d| d.code == "E0001") {
                // Split apart, every piece parsed: the error was in how they join.
                diagnostics.insert(0, *first);
            }
            (ast::File { decls }, diagnostics)
        }
    }
}

/// Why a whole file did not parse.
enum Failed {
    /// Too large or too deeply nested to try.
    Limit(Vec<Diagnostic>),
    /// The grammar rejected it: the first error.
    Syntax(Box<Diagnostic>),
    /// It parsed, but some literals are invalid.
    Lowering(ast::File, Vec<Diagnostic>),
}

/// Words that start a declaration.
const DECLARATION_KEYWORDS: [&str; 8] = [
    "use", "const", "fn", "facts", "type", "rule", "waiver", "test",
];

/// Byte ranges of a file's declarations, each starting at a declaration
/// keyword: outside brackets, strings and comments, or at the start of a line
/// whatever precedes it (so an unclosed bracket does not swallow the rest).
fn declaration_chunks(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut starts = vec![0usize];
    let mut depth = 0usize;
    let mut in_string = false;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let line_start = i == 0 || bytes[i - 1] == b'\n';
        let word_start = i == 0 || bytes[i - 1].is_ascii_whitespace();
        if word_start && (line_start || (depth == 0 && !in_string)) {
            if let Some(kw) = DECLARATION_KEYWORDS
                .iter()
                .find(|kw| keyword_at(bytes, i, kw))
                .filter(|_| !names_follow(bytes, i))
            {
                if line_start {
                    depth = 0;
                    in_string = false;
                }
                if i > 0 {
                    starts.push(i);
                }
                i += kw.len();
                continue;
            }
        }
        if in_string {
            match c {
                b'\\' => i += 1,
                b'"' | b'\n' => in_string = false,
                _ => {}
            }
        } else {
            match c {
                b'"' => in_string = true,
                b'/' if bytes.get(i + 1) == Some(&b'/') => {
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                    continue;
                }
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        i += 1;
    }
    let mut chunks = Vec::with_capacity(starts.len());
    for (n, &start) in starts.iter().enumerate() {
        let end = starts.get(n + 1).copied().unwrap_or(text.len());
        chunks.push((start, end));
    }
    chunks
}

/// Whether the word before `i` expects a name next (`rule test`, `for type`),
/// so a keyword at `i` is that name.
fn names_follow(bytes: &[u8], i: usize) -> bool {
    let before = &bytes[..i];
    let end = before
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |p| p + 1);
    let start = before[..end]
        .iter()
        .rposition(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
        .map_or(0, |p| p + 1);
    let word = &before[start..end];
    word == b"for" || DECLARATION_KEYWORDS.iter().any(|kw| kw.as_bytes() == word)
}

/// Whether `kw` is written at `i` as a whole word.
fn keyword_at(bytes: &[u8], i: usize, kw: &str) -> bool {
    bytes.get(i..i + kw.len()) == Some(kw.as_bytes())
        && !bytes
            .get(i + kw.len())
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
}

/// Parses a whole file in one go.
fn parse_whole(sources: &SourceMap, id: SourceId) -> Result<ast::File, Failed> {
    let text = &*sources.get(id).text;
    if text.len() > MAX_SOURCE_BYTES {
        return Err(Failed::Limit(vec![Diagnostic::error(
            "E0009",
            Span::new(id, 0, 0),
            format!(
                "policy file is {} bytes; the limit is {MAX_SOURCE_BYTES}",
                text.len()
            ),
        )
        .with_help("split the policy set into several files")]));
    }
    if let Some(deep) = too_deep(id, text, 0) {
        return Err(Failed::Limit(vec![deep.diagnostic()]));
    }
    let (file, diagnostics) = match parse_in_parallel(id, text) {
        Some(parsed) => parsed,
        None => {
            let pairs = EdictParser::parse(Rule::file, text)
                .map_err(|e| Failed::Syntax(Box::new(errors::syntax_error(id, text, e))))?;
            let mut lowerer = lower::Lowerer::new(id, text);
            let file = lowerer.file(pairs);
            (file, lowerer.diagnostics)
        }
    };
    if diagnostics.is_empty() {
        Ok(file)
    } else {
        Err(Failed::Lowering(file, diagnostics))
    }
}

/// The first line at or after byte `from` that starts with a declaration
/// keyword, as a byte offset. It may be inside a string or brackets: the run
/// it ends then does not parse, and the file is parsed whole instead.
fn declaration_line_after(text: &str, from: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = from;
    loop {
        i += bytes.get(i..)?.iter().position(|&b| b == b'\n')? + 1;
        if DECLARATION_KEYWORDS
            .iter()
            .any(|kw| keyword_at(bytes, i, kw))
        {
            return Some(i);
        }
    }
}

/// Smallest file worth splitting across threads: below this, starting them
/// costs more than it saves.
const PARALLEL_MIN_BYTES: usize = 64 * 1024;

/// Stack for each parsing thread, as the CLI's worker has: virtual memory,
/// committed only as deep as parsing goes.
const PARSE_STACK_BYTES: usize = 64 * 1024 * 1024;

/// Parses a large file as a few runs of whole declarations, one thread each,
/// and joins their syntax in source order; `None` to parse it in one piece
/// instead (a small file, one core, or a run that does not parse).
///
/// A run starts at a declaration keyword at the start of a line. No
/// declaration can continue with such a word (it is not an operator, and a
/// string or brackets cut this way leave a run that does not parse), so when
/// every run parses, its declarations are the ones the whole file parses into. When one does not, the whole file is parsed again
/// in one piece, so syntax errors are reported exactly as before.
fn parse_in_parallel(id: SourceId, text: &str) -> Option<(ast::File, Vec<Diagnostic>)> {
    if text.len() < PARALLEL_MIN_BYTES {
        return None;
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    if threads < 2 {
        return None;
    }
    // Cut at the first line starting with a declaration keyword after each
    // equal share of the bytes.
    let mut runs = Vec::with_capacity(threads);
    let mut start = 0;
    for share in 1..threads {
        let Some(cut) = declaration_line_after(text, (share * text.len() / threads).max(start))
        else {
            break;
        };
        if cut > start {
            runs.push((start, cut));
            start = cut;
        }
    }
    runs.push((start, text.len()));
    if runs.len() < 2 {
        return None;
    }
    let parse_run = |(start, end): (usize, usize)| -> Option<(Vec<ast::Decl>, Vec<Diagnostic>)> {
        let run = text.get(start..end)?;
        if too_deep(id, run, start).is_some() {
            return None;
        }
        let pairs = EdictParser::parse(Rule::file, run).ok()?;
        let mut lowerer = lower::Lowerer::at(id, text, start);
        let file = lowerer.file(pairs);
        Some((file.decls, lowerer.diagnostics))
    };
    let parse_run = &parse_run;
    let parsed: Vec<Option<(Vec<ast::Decl>, Vec<Diagnostic>)>> = std::thread::scope(|scope| {
        let (first, rest) = runs.split_first()?;
        let handles: Vec<_> = rest
            .iter()
            .map(|&run| {
                std::thread::Builder::new()
                    .stack_size(PARSE_STACK_BYTES)
                    .spawn_scoped(scope, move || parse_run(run))
            })
            .collect();
        let mut parsed = vec![parse_run(*first)];
        for handle in handles {
            parsed.push(handle.ok()?.join().ok()?);
        }
        Some(parsed)
    })?;
    let mut decls = Vec::new();
    let mut diagnostics = Vec::new();
    for run in parsed {
        let (mut run_decls, mut run_diagnostics) = run?;
        decls.append(&mut run_decls);
        diagnostics.append(&mut run_diagnostics);
    }
    Some((ast::File { decls }, diagnostics))
}

/// Most `if`, `any` and `all` one declaration may hold. They nest without
/// brackets, and the parser recurses once per level: far past any real
/// policy, this keeps a hostile chain (`else if` a hundred thousand times)
/// from exhausting its stack. Lowering then refuses nesting past
/// [`MAX_OPERATORS`] levels with a precise span.
pub const MAX_BRANCHES: usize = 10_000;

/// Input the recursive parser must not be given.
enum TooDeep {
    /// Brackets nested past [`MAX_NESTING`], at this span.
    Brackets(Span),
    /// A declaration with more than [`MAX_BRANCHES`] branching keywords.
    Branches(Span),
}

impl TooDeep {
    /// The E0008 error for it.
    fn diagnostic(&self) -> Diagnostic {
        match self {
            TooDeep::Brackets(span) => Diagnostic::error(
                "E0008",
                *span,
                format!("nesting deeper than {MAX_NESTING} levels"),
            )
            .with_label("too deep here"),
            TooDeep::Branches(span) => Diagnostic::error(
                "E0008",
                *span,
                format!("more than {MAX_BRANCHES} `if`, `any` and `all` in one declaration"),
            )
            .with_label("one too many here"),
        }
        .with_help("name intermediate values with `let` or `fn`")
    }
}

/// Finds the first bracket nested past the limit, or the first declaration
/// with too many branching keywords, so the recursive parser never meets
/// input that could exhaust its stack. `text` starts at byte `base` of the
/// source (a part parsed on its own): every text given to the parser is
/// checked, since a part can be nested where the whole file reads as one
/// long string.
fn too_deep(id: SourceId, text: &str, base: usize) -> Option<TooDeep> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut in_string = false;
    let mut interpolation_depths: Vec<usize> = Vec::new();
    let mut branches = 0usize;
    let mut after_dot = false;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if !in_string && (c.is_ascii_alphabetic() || c == b'_') {
            let start = i;
            while bytes
                .get(i)
                .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
            {
                i += 1;
            }
            let word = &bytes[start..i];
            // A field may be named like a keyword (`x.rule`): only a word
            // that is not a field counts.
            if !after_dot {
                if matches!(word, b"if" | b"any" | b"all") {
                    branches += 1;
                    if branches > MAX_BRANCHES {
                        return Some(TooDeep::Branches(Span::new(id, base + start, base + i)));
                    }
                } else if depth == 0 && DECLARATION_KEYWORDS.iter().any(|k| k.as_bytes() == word) {
                    // A declaration starts: a new count of branches begins.
                    branches = 0;
                }
            }
            after_dot = false;
            continue;
        }
        if !in_string && !c.is_ascii_whitespace() {
            after_dot = c == b'.';
        }
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
            return Some(TooDeep::Brackets(Span::new(id, base + i, base + i + 1)));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn partial(text: &str) -> (ast::File, Vec<Diagnostic>) {
        let mut map = SourceMap::default();
        let id = map.add("t.edict", text);
        parse_partial(&map, id)
    }

    #[test]
    fn every_broken_declaration_is_reported_and_the_rest_kept() {
        let text = "const A = 1 +\nrule ok { require true }\nfn f(x = x\nconst B = 2\n";
        let (file, diags) = partial(text);
        let names: Vec<&str> = file
            .decls
            .iter()
            .filter_map(|d| d.name().map(|n| &*n.name))
            .collect();
        assert_eq!(names, ["ok", "B"]);
        let at: Vec<&str> = diags
            .iter()
            .map(|d| &text[d.span.start as usize..])
            .map(|rest| rest.lines().next().unwrap_or(""))
            .collect();
        assert_eq!(diags.len(), 2, "{diags:?}");
        assert!(diags.iter().all(|d| d.code == "E0001"));
        // The first error is at the start of `rule` (the expression is cut off).
        assert_eq!(at, ["rule ok { require true }", "fn f(x = x"]);
        assert!(
            diags[0].message.ends_with("found `rule`"),
            "{}",
            diags[0].message
        );
    }

    #[test]
    fn a_part_nested_too_deep_behind_an_unclosed_string_is_refused() {
        // The whole file is one unclosed string, so it passes the depth
        // check; the declaration after the line break is parsed on its own.
        let deep = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
        let (_, diags) = partial(&format!("const a = \"\nconst b = {deep}\n"));
        assert!(diags.iter().any(|d| d.code == "E0008"), "{diags:?}");
    }

    #[test]
    fn a_run_nested_too_deep_is_not_parsed_in_parallel() {
        let mut text = big_file(400);
        let middle = text.len() / 2;
        let middle = middle + text[middle..].find("\nconst ").expect("a const") + 1;
        let deep = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
        text.insert_str(middle, &format!("const a = \"\nconst b = {deep}\n"));
        let mut map = SourceMap::default();
        let id = map.add("t.edict", text.as_str());
        assert!(parse_in_parallel(id, &text).is_none());
        let (_, diags) = parse_partial(&map, id);
        assert!(diags.iter().any(|d| d.code == "E0008"), "{diags:?}");
    }

    #[test]
    fn an_unclosed_brace_does_not_swallow_the_next_declaration() {
        let (file, diags) = partial("rule a {\n  require true\n\nrule b { require true }\n");
        assert_eq!(diags.len(), 1);
        assert_eq!(file.decls.len(), 1);
        assert_eq!(file.decls[0].name().map(|n| &*n.name), Some("b"));
    }

    #[test]
    fn declaration_words_used_as_names_do_not_split() {
        let text = "rule test { require true }\nwaiver w for test { require x. }\n";
        assert_eq!(declaration_chunks(text), [(0, 27), (27, text.len())]);
    }

    /// A file over [`PARALLEL_MIN_BYTES`]: `n` copies of a declaration group
    /// using most of the grammar, with doc comments and a keyword-named field.
    fn big_file(n: usize) -> String {
        let mut text = String::from("use std.time\n");
        for k in 0..n {
            text.push_str(&format!(
                "/// rule {k}\nrule r{k} {{\n  title \"t {{x.type}} \\{{\"\n  \
                 for x in xs where x?.a != [1, 2d]\n  \
                 let y = if x.b then {{a: 1}} else (x.c ?? 3) * -2\n  \
                 subject \"{{x.id}}\"\n  \
                 require any z in x.zs: z not in [y] else \"bad\"\n}}\n\
                 const C{k} = [v for v in [1, 2] where v > 1]\nfn f{k}(a, b) = a + b\n\
                 type T{k} = \"a\" | \"b\"\n"
            ));
        }
        text
    }

    #[test]
    fn a_large_file_split_across_threads_parses_as_one_piece() {
        let text = big_file(400);
        assert!(text.len() > PARALLEL_MIN_BYTES);
        let mut map = SourceMap::default();
        let id = map.add("t.edict", text.as_str());
        let (split, split_diags) = parse_in_parallel(id, &text).expect("splits");
        let pairs = EdictParser::parse(Rule::file, &text).expect("parses");
        let mut lowerer = lower::Lowerer::new(id, &text);
        let whole = lowerer.file(pairs);
        assert_eq!(split.decls.len(), 400 * 4 + 1);
        assert_eq!(format!("{split:?}"), format!("{whole:?}"));
        assert_eq!(
            format!("{split_diags:?}"),
            format!("{:?}", lowerer.diagnostics)
        );
    }

    #[test]
    fn files_parsed_in_parallel_come_back_in_order_and_as_parsed_alone() {
        let mut map = SourceMap::default();
        let ids = [
            map.add("a.edict", big_file(300).as_str()),
            map.add("b.edict", "const B = (\n"),
            map.add("c.edict", "const C = 1\n"),
            map.add("d.edict", big_file(200).as_str()),
        ];
        let together = parse_files(&map, &ids);
        let alone: Vec<_> = ids.iter().map(|&id| parse(&map, id)).collect();
        assert_eq!(format!("{together:?}"), format!("{alone:?}"));
        assert!(together[1].is_err() && together[2].is_ok());
    }

    #[test]
    fn a_large_file_with_a_syntax_error_reports_it_from_the_whole_file() {
        let mut text = big_file(400);
        let at = text.len() * 3 / 4;
        let at = at + text[at..].find("let y").expect("a let");
        text.replace_range(at..at + 5, "let = ");
        let mut map = SourceMap::default();
        let id = map.add("t.edict", text.as_str());
        assert!(parse_in_parallel(id, &text).is_none());
        let (file, diags) = parse_partial(&map, id);
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(diags[0].code, "E0001");
        assert_eq!(diags[0].span.start as usize, at + 4);
        assert_eq!(file.decls.len(), 400 * 4);
    }

    #[test]
    fn a_clean_file_parses_whole() {
        let (file, diags) = partial("/// doc\nconst A = 1\n");
        assert!(diags.is_empty());
        match &file.decls[0] {
            ast::Decl::Const(c) => assert_eq!(c.doc.as_deref(), Some("doc")),
            _ => panic!("not a const"),
        }
    }

    #[test]
    fn spans_and_docs_of_recovered_declarations_point_into_the_file() {
        let text = "const A = (\n/// the b\nconst B = 2\n";
        let (file, diags) = partial(text);
        assert_eq!(diags.len(), 1);
        let ast::Decl::Const(b) = &file.decls[0] else {
            panic!("not a const")
        };
        assert_eq!(
            &text[b.name.span.start as usize..b.name.span.end as usize],
            "B"
        );
        assert_eq!(b.doc.as_deref(), Some("the b"));
    }
}
