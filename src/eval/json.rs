//! JSON straight into [`Value`]: one pass with serde_json's parser and no
//! intermediate `serde_json::Value`, object keys interned so a fleet's
//! millions of `"cve"` keys share one allocation.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use super::value::{Map, Str, Value};

/// Distinct keys kept for sharing; past this, new keys are allocated each time.
const MAX_INTERNED: usize = 4096;
/// Distinct short strings kept for sharing.
const MAX_INTERNED_VALUES: usize = 65_536;
/// Strings up to this long are shared: severities, dates, statuses and CVE
/// ids repeat across a fleet, while longer text rarely does.
const SHORT_STRING: usize = 24;

/// Shared object keys and short strings, and scratch space for building values.
///
/// Hashed with foldhash, seeded per process: several times faster than the
/// default SipHash on short strings, and the tables are capped, so crafted
/// collisions can only slow one parse down by a bounded factor.
#[derive(Default)]
pub struct Interner {
    keys: HashSet<Str, foldhash::fast::RandomState>,
    values: HashSet<Str, foldhash::fast::RandomState>,
    /// Fields of the objects being parsed, innermost last: each object is
    /// then allocated once at its exact size instead of growing as it fills.
    fields: Vec<(Str, Value)>,
    /// Items of the lists being parsed, innermost last, for the same reason.
    items: Vec<Value>,
    /// Whether some object repeated a key (the value keeps the last one).
    pub duplicate_keys: bool,
}

impl Interner {
    fn key(&mut self, k: &str) -> Str {
        intern(&mut self.keys, MAX_INTERNED, k)
    }

    fn value(&mut self, v: &str) -> Str {
        if v.len() > SHORT_STRING {
            return Arc::from(v);
        }
        intern(&mut self.values, MAX_INTERNED_VALUES, v)
    }
}

/// The shared copy of `s` in `table`, added while the table holds fewer than `cap`.
fn intern(table: &mut HashSet<Str, foldhash::fast::RandomState>, cap: usize, s: &str) -> Str {
    if let Some(shared) = table.get(s) {
        return shared.clone();
    }
    let shared: Str = Arc::from(s);
    if table.len() < cap {
        table.insert(shared.clone());
    }
    shared
}

/// Parses one JSON document into a value; errors carry serde_json's line and column.
pub fn parse(text: &str, interner: &mut Interner) -> Result<Value, serde_json::Error> {
    // A document that failed to parse may have left partial values behind.
    interner.fields.clear();
    interner.items.clear();
    let mut de = serde_json::Deserializer::from_str(text);
    let value = ValueSeed(interner).deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// Documents smaller than this are parsed on one thread: splitting costs more.
const PARALLEL_MIN_BYTES: usize = 1 << 20;
/// Top-level arrays smaller than this are parsed whole.
const SPLIT_MIN_BYTES: usize = 64 << 10;
/// Deeper than this, the layout scan gives up: serde_json's own nesting limit
/// (128) must apply exactly as it does to a whole-document parse.
const SCAN_MAX_DEPTH: usize = 100;

/// Parses one JSON document like [`parse`], using up to `threads` threads for
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
    interner: &mut Interner,
) -> Result<Value, serde_json::Error> {
    if threads > 1 && text.len() >= PARALLEL_MIN_BYTES {
        if let Some(value) = split_parse(text, threads, interner) {
            return Ok(value);
        }
    }
    parse(text, interner)
}

/// A top-level field's value: parsed whole, or split into elements.
enum Part {
    Whole(std::ops::Range<usize>),
    Split(Vec<std::ops::Range<usize>>),
}

fn split_parse(text: &str, threads: usize, interner: &mut Interner) -> Option<Value> {
    let parts = top_level_fields(text.as_bytes())?;
    let elements: Vec<&std::ops::Range<usize>> = parts
        .iter()
        .filter_map(|(_, p)| match p {
            Part::Split(ranges) => Some(ranges),
            Part::Whole(_) => None,
        })
        .flatten()
        .collect();
    let (parsed, duplicate_keys) = parse_elements(text, &elements, threads)?;
    interner.duplicate_keys |= duplicate_keys;
    let mut parsed = parsed.into_iter();
    let mut fields = Vec::with_capacity(parts.len());
    for (key, part) in parts {
        let key: String = serde_json::from_str(&text[key]).ok()?;
        let value = match part {
            Part::Whole(range) => parse(&text[range], interner).ok()?,
            Part::Split(ranges) => Value::list(parsed.by_ref().take(ranges.len()).collect()),
        };
        fields.push((interner.key(&key), value));
    }
    let given = fields.len();
    let map = Map::from_fields(fields);
    interner.duplicate_keys |= map.len() != given;
    Some(Value::Object(Arc::new(map)))
}

/// Parses each element on one of `threads` workers, in contiguous runs of
/// about equal bytes, and returns them in order, and whether some object
/// repeated a key; `None` if any fails.
fn parse_elements(
    text: &str,
    elements: &[&std::ops::Range<usize>],
    threads: usize,
) -> Option<(Vec<Value>, bool)> {
    let total: usize = elements.iter().map(|r| r.len()).sum();
    let share = total / threads + 1;
    let mut chunks: Vec<&[&std::ops::Range<usize>]> = Vec::with_capacity(threads);
    let (mut start, mut bytes) = (0, 0);
    for (i, r) in elements.iter().enumerate() {
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
                        .map(|r| parse(&text[(*r).clone()], &mut interner).ok())
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

/// Deserializes a [`Value`], interning keys.
pub struct ValueSeed<'a>(pub &'a mut Interner);

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Int(i))
    }

    fn visit_u64<E>(self, u: u64) -> Result<Value, E> {
        Ok(i64::try_from(u).map_or(Value::Float(u as f64), Value::Int))
    }

    fn visit_f64<E>(self, f: f64) -> Result<Value, E> {
        Ok(Value::Float(f))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::Str(self.0.value(s)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let start = self.0.items.len();
        while let Some(v) = seq.next_element_seed(ValueSeed(&mut *self.0))? {
            self.0.items.push(v);
        }
        let items: Vec<Value> = self.0.items.drain(start..).collect();
        Ok(Value::list(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let start = self.0.fields.len();
        while let Some(k) = map.next_key_seed(KeySeed(&mut *self.0))? {
            let v = map.next_value_seed(ValueSeed(&mut *self.0))?;
            self.0.fields.push((k, v));
        }
        let fields: Vec<(Str, Value)> = self.0.fields.drain(start..).collect();
        let given = fields.len();
        let map = Map::from_fields(fields);
        self.0.duplicate_keys |= map.len() != given;
        Ok(Value::Object(Arc::new(map)))
    }
}

/// Deserializes an object key through the interner.
struct KeySeed<'a>(&'a mut Interner);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Str;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Str, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Str;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E>(self, s: &str) -> Result<Str, E> {
        Ok(self.0.key(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_serde_json_value() {
        let text = r#"{"b": [1, -2, 1.5, 18446744073709551615, true, null, "x"], "a": {"k": "v"}, "b2": {}}"#;
        let fast = parse(text, &mut Interner::default()).unwrap();
        let slow = Value::from_json(&serde_json::from_str(text).unwrap());
        assert_eq!(fast.to_string(), slow.to_string());
        assert_eq!(fast.loose_eq(&slow), Some(true));
    }

    #[test]
    fn a_duplicate_key_keeps_its_first_place_and_last_value() {
        let v = parse(r#"{"a": 1, "b": 2, "a": 3}"#, &mut Interner::default()).unwrap();
        assert_eq!(v.to_string(), "{a: 3, b: 2}");
    }

    #[test]
    fn errors_keep_line_and_column() {
        let e = parse("{\n  \"a\": [1,\n  }", &mut Interner::default()).unwrap_err();
        assert_eq!((e.line(), e.column()), (3, 3));
        let e = parse("{} x", &mut Interner::default()).unwrap_err();
        assert_eq!((e.line(), e.column()), (1, 4));
    }

    /// A document over the parallel threshold whose elements are awkward:
    /// brackets, quotes and escapes inside strings, nesting, scalars, blanks.
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
        let text = big_document("");
        assert!(text.len() >= PARALLEL_MIN_BYTES);
        let whole = parse(&text, &mut Interner::default()).unwrap().to_string();
        for threads in [2, 3, 7] {
            let mut interner = Interner::default();
            assert!(
                split_parse(&text, threads, &mut interner).is_some(),
                "not split"
            );
            let split = parse_parallel(&text, threads, &mut interner).unwrap();
            assert_eq!(split.to_string(), whole, "{threads} threads");
        }
    }

    #[test]
    fn parallel_parsing_reports_the_whole_document_error() {
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
            let split = parse_parallel(&text, 2, &mut Interner::default()).unwrap_err();
            assert_eq!(
                (split.to_string(), split.line(), split.column()),
                (whole.to_string(), whole.line(), whole.column()),
                "extra {extra:?}"
            );
        }
        let trailing = format!("{} x", big_document(""));
        let whole = parse(&trailing, &mut Interner::default()).unwrap_err();
        let split = parse_parallel(&trailing, 2, &mut Interner::default()).unwrap_err();
        assert_eq!(split.to_string(), whole.to_string());
    }

    #[test]
    fn keys_are_shared() {
        let mut i = Interner::default();
        let v = parse(r#"[{"cve": 1}, {"cve": 2}]"#, &mut i).unwrap();
        let Value::List(items) = v else { panic!() };
        let key = |v: &Value| match v {
            Value::Object(m) => m.get_key_value("cve").unwrap().0.clone(),
            _ => panic!("not an object"),
        };
        assert!(Arc::ptr_eq(&key(&items[0]), &key(&items[1])));
    }
}
