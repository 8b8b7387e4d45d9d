//! Parsing a large document on several threads: a scan finds the top-level
//! object's fields and the elements of its large arrays, and workers parse
//! the elements. Anything unusual goes through the whole-document parse.

use std::sync::Arc;

use super::{decide, element_shape, parse_shaped, Decision, Interner};
use crate::eval::demand::{Demand, Shape};
use crate::eval::value::{Map, Value};

/// Documents smaller than this are parsed on one thread: splitting costs more.
const PARALLEL_MIN_BYTES: usize = 1 << 20;
/// Top-level arrays smaller than this are parsed whole.
const SPLIT_MIN_BYTES: usize = 64 << 10;
/// Deeper than this, the layout scan gives up: serde_json's own nesting limit
/// (128) must apply exactly as it does to a whole-document parse.
const SCAN_MAX_DEPTH: usize = 100;

/// Parses one JSON document like [`parse`](super::parse), using up to `threads` threads for
/// the elements of large arrays at the top level (a fleet's `assets`).
///
/// A quick scan finds the top-level object's fields and the elements of its
/// large arrays; each element is then parsed by serde_json on a worker, and
/// the separators between them are checked by the scan. The result is the
/// same value a whole-document parse gives. Anything unusual, and every
/// error, goes through the whole-document parse, so error messages and their
/// line and column are exactly that parse's.
pub fn parse_parallel(
    text: &str,
    threads: usize,
    demand: &Demand,
    shape: &Shape,
    interner: &mut Interner,
) -> Result<Value, serde_json::Error> {
    if threads > 1 && text.len() >= PARALLEL_MIN_BYTES {
        if let Some(value) = split_parse(text, threads, demand, shape, interner) {
            return Ok(value);
        }
    }
    parse_shaped(text, demand, shape, interner)
}

/// A top-level field's value: parsed whole, or split into elements.
enum Part {
    Whole(std::ops::Range<usize>),
    Split(Vec<std::ops::Range<usize>>),
}

pub(super) fn split_parse(
    text: &str,
    threads: usize,
    demand: &Demand,
    shape: &Shape,
    interner: &mut Interner,
) -> Option<Value> {
    // An object iterated as a list fails in a message that quotes it: the
    // whole-document parse builds it whole.
    if !shape.whole && shape.items.is_some() {
        return None;
    }
    let parts = top_level_fields(text.as_bytes())?;
    let mut plans = Vec::with_capacity(parts.len());
    for (key, _) in &parts {
        let key: String = serde_json::from_str(&text[key.clone()]).ok()?;
        let (keep, field) = if shape.whole {
            (true, shape)
        } else {
            match decide(shape, &key) {
                Decision::Field(i) => (true, &shape.fields[i].1),
                Decision::Whole => (true, Shape::whole()),
                Decision::Unnamed => (true, Shape::empty()),
                // Still parsed, to reject what a whole parse would reject.
                Decision::Skip => (false, Shape::empty()),
            }
        };
        plans.push((key, keep, field));
    }
    let elements: Vec<(&std::ops::Range<usize>, &Shape)> = parts
        .iter()
        .zip(&plans)
        .filter_map(|((_, p), (_, _, field))| match p {
            Part::Split(ranges) => Some(ranges.iter().map(|r| (r, element_shape(field)))),
            Part::Whole(_) => None,
        })
        .flatten()
        .collect();
    let (parsed, duplicate_keys) = parse_elements(text, &elements, threads, demand)?;
    interner.duplicate_keys |= duplicate_keys;
    let mut parsed = parsed.into_iter();
    let mut fields = Vec::with_capacity(parts.len());
    for ((_, part), (key, keep, field)) in parts.into_iter().zip(plans) {
        let value = match part {
            Part::Whole(range) => parse_shaped(&text[range], demand, field, interner).ok()?,
            Part::Split(ranges) => Value::list(parsed.by_ref().take(ranges.len()).collect()),
        };
        if keep {
            fields.push((interner.key(&key), value));
        }
    }
    let given = fields.len();
    let map = Map::from_fields(fields);
    interner.duplicate_keys |= map.len() != given;
    Some(Value::Object(Arc::new(map)))
}

/// Parses each element with its shape on one of `threads` workers, in
/// contiguous runs of about equal bytes, and returns them in order, and
/// whether some object repeated a key; `None` if any fails.
fn parse_elements(
    text: &str,
    elements: &[(&std::ops::Range<usize>, &Shape)],
    threads: usize,
    demand: &Demand,
) -> Option<(Vec<Value>, bool)> {
    let total: usize = elements.iter().map(|(r, _)| r.len()).sum();
    let share = total / threads + 1;
    let mut chunks: Vec<&[(&std::ops::Range<usize>, &Shape)]> = Vec::with_capacity(threads);
    let (mut start, mut bytes) = (0, 0);
    for (i, (r, _)) in elements.iter().enumerate() {
        bytes += r.len();
        if bytes >= share {
            chunks.push(&elements[start..=i]);
            (start, bytes) = (i + 1, 0);
        }
    }
    chunks.push(&elements[start..]);
    let results: Vec<Option<(Vec<Value>, bool)>> = std::thread::scope(|scope| {
        let workers: Vec<_> = chunks
            .iter()
            .map(|chunk| {
                scope.spawn(move || {
                    let mut interner = Interner::default();
                    let values = chunk
                        .iter()
                        .map(|(r, shape)| {
                            parse_shaped(&text[(*r).clone()], demand, shape, &mut interner).ok()
                        })
                        .collect::<Option<Vec<Value>>>()?;
                    Some((values, interner.duplicate_keys))
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().ok().flatten())
            .collect()
    });
    let mut out = Vec::with_capacity(elements.len());
    let mut duplicate_keys = false;
    for chunk in results {
        let (values, duplicates) = chunk?;
        out.extend(values);
        duplicate_keys |= duplicates;
    }
    Some((out, duplicate_keys))
}

fn skip_whitespace(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// The end of the string starting at `b[i] == b'"'`, past its closing quote.
fn skip_string(b: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    loop {
        // Most of a fleet's bytes are string text: jump to what ends it.
        i += memchr::memchr2(b'"', b'\\', b.get(i..)?)?;
        match b[i] {
            b'"' => return Some(i + 1),
            _ => i += 2,
        }
    }
}

/// The end of the value starting at `b[i]`. Only its extent is found: its
/// content is checked when serde_json parses it.
fn skip_value(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i)? {
        b'"' => skip_string(b, i),
        b'{' | b'[' => {
            let mut depth = 0;
            let mut j = i;
            loop {
                match b.get(j)? {
                    b'"' => {
                        j = skip_string(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => {
                        depth += 1;
                        if depth > SCAN_MAX_DEPTH {
                            return None;
                        }
                    }
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        _ => {
            let mut j = i;
            while !matches!(
                b.get(j),
                None | Some(b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
            ) {
                j += 1;
            }
            (j > i).then_some(j)
        }
    }
}

/// The keys (quotes included) of a top-level object's fields, and their
/// values: large arrays as their elements' ranges, anything else whole;
/// `None` if the document is not an object laid out as JSON requires.
fn top_level_fields(b: &[u8]) -> Option<Vec<(std::ops::Range<usize>, Part)>> {
    let mut i = skip_whitespace(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i = skip_whitespace(b, i + 1);
    let mut fields = Vec::new();
    if b.get(i) == Some(&b'}') {
        i += 1;
    } else {
        loop {
            if b.get(i) != Some(&b'"') {
                return None;
            }
            let key_end = skip_string(b, i)?;
            let key = i..key_end;
            i = skip_whitespace(b, key_end);
            if b.get(i) != Some(&b':') {
                return None;
            }
            let start = skip_whitespace(b, i + 1);
            // An array's elements are found in the same pass that finds its end.
            let (end, part) = if b.get(start) == Some(&b'[') {
                let (end, elements) = array_elements(b, start)?;
                if end - start >= SPLIT_MIN_BYTES {
                    (end, Part::Split(elements))
                } else {
                    (end, Part::Whole(start..end))
                }
            } else {
                let end = skip_value(b, start)?;
                (end, Part::Whole(start..end))
            };
            fields.push((key, part));
            i = skip_whitespace(b, end);
            match b.get(i)? {
                b',' => i = skip_whitespace(b, i + 1),
                b'}' => {
                    i += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    (skip_whitespace(b, i) == b.len()).then_some(fields)
}

/// The end of the array starting at `b[start] == b'['`, and its elements' ranges.
fn array_elements(b: &[u8], start: usize) -> Option<(usize, Vec<std::ops::Range<usize>>)> {
    let mut i = skip_whitespace(b, start + 1);
    let mut elements = Vec::new();
    if b.get(i) == Some(&b']') {
        return Some((i + 1, elements));
    }
    loop {
        // Two levels below the document (object, array), an element may
        // nest SCAN_MAX_DEPTH deep, well inside serde_json's own limit.
        let end = skip_value(b, i)?;
        elements.push(i..end);
        i = skip_whitespace(b, end);
        match b.get(i)? {
            b',' => i = skip_whitespace(b, i + 1),
            b']' => return Some((i + 1, elements)),
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    fn big_document(extra: &str) -> String {
        let mut items = Vec::new();
        for i in 0..40_000 {
            items.push(match i % 6 {
                0 => format!(
                    r#"{{"id": "a{i}", "s": "br]ack}}et, \"q\" \\", "n": [1, 2.5e3, -0, null]}}"#
                ),
                1 => format!("{i}"),
                2 => r#""just [a] string""#.to_string(),
                3 => "[[], {}, [[{\"k\": [true, false]}]]]".to_string(),
                4 => "\n\t { \"x\" : \"\\u00e9\\\"\" } \r\n".to_string(),
                _ => "null".to_string(),
            });
        }
        format!(
            "{{\"small\": [1, 2], \"assets\": [{}{extra}], \"k\\\"ey\": {{\"a\": 1}}, \"people\": [{}], \"n\": 3}} ",
            items.join(","),
            items[..3000].join(" , ")
        )
    }

    #[test]
    fn parallel_parsing_gives_the_same_value() {
        let everything = Demand::everything();
        let text = big_document("");
        assert!(text.len() >= PARALLEL_MIN_BYTES);
        let whole = parse(&text, &mut Interner::default()).unwrap().to_string();
        for threads in [2, 3, 7] {
            let mut interner = Interner::default();
            assert!(
                split_parse(
                    &text,
                    threads,
                    &everything,
                    everything.root(),
                    &mut interner
                )
                .is_some(),
                "not split"
            );
            let split = parse_parallel(
                &text,
                threads,
                &everything,
                everything.root(),
                &mut interner,
            )
            .unwrap();
            assert_eq!(split.to_string(), whole, "{threads} threads");
        }
    }

    #[test]
    fn parallel_parsing_reports_the_whole_document_error() {
        let everything = Demand::everything();
        let deep = format!("{}{}", "[".repeat(127), "]".repeat(127));
        for extra in [
            ",",
            ",,1",
            " 1",
            ", tru",
            ", \"open",
            ", {\"a\" 1}",
            ", ]",
            &format!(", {deep}"),
        ] {
            let text = big_document(extra);
            assert!(text.len() >= PARALLEL_MIN_BYTES);
            let whole = parse(&text, &mut Interner::default()).unwrap_err();
            let split = parse_parallel(
                &text,
                2,
                &everything,
                everything.root(),
                &mut Interner::default(),
            )
            .unwrap_err();
            assert_eq!(
                (split.to_string(), split.line(), split.column()),
                (whole.to_string(), whole.line(), whole.column()),
                "extra {extra:?}"
            );
        }
        let trailing = format!("{} x", big_document(""));
        let whole = parse(&trailing, &mut Interner::default()).unwrap_err();
        let split = parse_parallel(
            &trailing,
            2,
            &everything,
            everything.root(),
            &mut Interner::default(),
        )
        .unwrap_err();
        assert_eq!(split.to_string(), whole.to_string());
    }

    #[test]
    fn shaped_parsing_on_threads_gives_the_one_thread_value() {
        let demand = |src: &str| {
            crate::PolicySet::from_sources([("p.edict".to_string(), src.to_string())])
                .unwrap()
                .demand()
        };
        let shaped = |d: &Demand, text: &str| {
            parse_shaped(text, d, d.root(), &mut Interner::default()).map(|v| v.to_string())
        };
        let whole = |text: &str| parse(text, &mut Interner::default()).unwrap().to_string();
        let d = demand("rule r {\n  for a in assets\n  subject a.s\n  require a.n == people\n}");
        let text = big_document("");
        let one = shaped(&d, &text).unwrap();
        assert!(one.len() < whole(&text).len(), "nothing was left out");
        for threads in [2, 3] {
            let mut interner = Interner::default();
            let split = split_parse(&text, threads, &d, d.root(), &mut interner).expect("split");
            assert_eq!(split.to_string(), one, "{threads} threads");
        }
    }

    #[test]
    fn the_layout_scan_finds_every_value_end_at_any_alignment() {
        // Strings and containers whose quotes, escapes and brackets fall on
        // every byte of a word, each followed by a sentinel.
        let pieces = [
            r#""""#,
            r#""a""#,
            r#""\"""#,
            r#""\\""#,
            r#""x\\\"y""#,
            r#""]}{[""#,
            r#""é \u00e9 \"""#,
            "[]",
            "{}",
            r#"{"a": [1, "]", {"b": "}"}], "c\"": "\\"}"#,
            r#"[[[["]]]"]]]]"#,
        ];
        for piece in pieces {
            for pad in 0..17 {
                let text = format!("{}{piece},", " ".repeat(pad));
                let end = skip_value(text.as_bytes(), pad);
                assert_eq!(end, Some(text.len() - 1), "{piece:?} after {pad} spaces");
                let long = format!("{}{piece}{},", " ".repeat(pad), " ".repeat(pad));
                let end = skip_value(long.as_bytes(), pad);
                assert_eq!(end, Some(pad + piece.len()), "{piece:?} then {pad} spaces");
            }
        }
        // An unterminated string or container has no end.
        for bad in [r#""abc"#, r#""abc\""#, "[1, 2", r#"{"a": "}"#] {
            assert_eq!(skip_value(bad.as_bytes(), 0), None, "{bad:?}");
        }
    }
}
