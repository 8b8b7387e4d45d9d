//! JSON straight into [`Value`]: one pass with serde_json's parser and no
//! intermediate `serde_json::Value`, object keys interned so a fleet's
//! millions of `"cve"` keys share one allocation.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use super::demand::{Demand, Shape};
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
    /// Per shape id, the keys met in objects of that shape and what to do
    /// with each, in the order first met: records repeat their keys in the
    /// same order, so the next key is usually the one predicted.
    decisions: Vec<Vec<(Str, Decision)>>,
    /// The demand `decisions` were made for.
    decided_for: u64,
}

impl Interner {
    fn key(&mut self, k: &str) -> Str {
        intern(&mut self.keys, MAX_INTERNED, k)
    }

    /// The object of the fields parsed since `start`, taken off the scratch stack.
    fn object(&mut self, start: usize) -> Value {
        let fields: Vec<(Str, Value)> = self.fields.drain(start..).collect();
        let given = fields.len();
        let map = Map::from_fields(fields);
        self.duplicate_keys |= map.len() != given;
        Value::Object(Arc::new(map))
    }

    fn value(&mut self, v: &str) -> Str {
        if v.len() > SHORT_STRING {
            return Arc::from(v);
        }
        intern(&mut self.values, MAX_INTERNED_VALUES, v)
    }
}

/// What loading does with an object's field.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Decision {
    /// Build it with the shape of the field at this index of `Shape::fields`.
    Field(usize),
    /// Build it whole: a policy may see its key in a "did you mean" hint.
    Whole,
    /// Keep it with nothing observed (a top-level key no rule reads).
    Unnamed,
    /// Check that it is well-formed, and drop it.
    Skip,
}

/// Keys remembered per shape; past this, each further key is decided afresh.
const MAX_DECISIONS: usize = 64;

/// What to do with field `key` of an object whose shape is `shape`.
fn decide(shape: &Shape, key: &str) -> Decision {
    if let Some(i) = shape.fields.iter().position(|(k, _)| &**k == key) {
        return Decision::Field(i);
    }
    if shape.keep_unnamed {
        return Decision::Unnamed;
    }
    // A read field that is missing gets a "did you mean" hint naming a
    // similar key: keep every key that could be that hint.
    let near = shape.fields.iter().any(|(name, _)| {
        let limit = (name.chars().count() / 3).max(1);
        name.len().abs_diff(key.len()) <= 4 * limit
            && crate::diagnostic::edit_distance(&name.to_lowercase(), &key.to_lowercase()) <= limit
    });
    if near {
        Decision::Whole
    } else {
        Decision::Skip
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

/// Parses one JSON document like [`parse`], building only what `shape` (a
/// part of `demand`) observes. Everything is still checked: a document
/// [`parse`] rejects is rejected here too, at the same line and column.
pub fn parse_shaped(
    text: &str,
    demand: &Demand,
    shape: &Shape,
    interner: &mut Interner,
) -> Result<Value, serde_json::Error> {
    if shape.whole {
        return parse(text, interner);
    }
    interner.fields.clear();
    interner.items.clear();
    if interner.decided_for != demand.serial || interner.decisions.len() <= demand.shapes() {
        interner.decisions = vec![Vec::new(); demand.shapes() + 1];
        interner.decided_for = demand.serial;
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let value = ShapedSeed { interner, shape }.deserialize(&mut de)?;
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

/// The shape each element of a list of this shape is built with.
pub fn element_shape(list: &Shape) -> &Shape {
    // A list read as an object fails in a message that quotes it: whole.
    if list.whole || !list.fields.is_empty() {
        return Shape::whole();
    }
    list.items.as_deref().unwrap_or(Shape::empty())
}

fn split_parse(
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

/// Deserializes a [`Value`], interning keys.
pub struct ValueSeed<'a>(pub &'a mut Interner);

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        ShapedSeed {
            interner: self.0,
            shape: Shape::whole(),
        }
        .deserialize(d)
    }
}

/// Deserializes the parts of a [`Value`] that a [`Shape`] observes.
struct ShapedSeed<'a, 'd> {
    interner: &'a mut Interner,
    shape: &'d Shape,
}

impl<'de> DeserializeSeed<'de> for ShapedSeed<'_, '_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ShapedSeed<'_, '_> {
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
        Ok(Value::Str(self.interner.value(s)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let item = element_shape(self.shape);
        let start = self.interner.items.len();
        while let Some(v) = seq.next_element_seed(ShapedSeed {
            interner: &mut *self.interner,
            shape: item,
        })? {
            self.interner.items.push(v);
        }
        let items: Vec<Value> = self.interner.items.drain(start..).collect();
        Ok(Value::list(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        // An object iterated as a list fails in a message that quotes it.
        if self.shape.whole || self.shape.items.is_some() {
            let start = self.interner.fields.len();
            while let Some(k) = map.next_key_seed(KeySeed(&mut *self.interner))? {
                let v = map.next_value_seed(ShapedSeed {
                    interner: &mut *self.interner,
                    shape: Shape::whole(),
                })?;
                self.interner.fields.push((k, v));
            }
            return Ok(self.interner.object(start));
        }
        let start = self.interner.fields.len();
        let mut at = 0;
        while let Some((decision, key)) = map.next_key_seed(KeyChoice {
            interner: &mut *self.interner,
            shape: self.shape,
            at,
        })? {
            at += 1;
            let value = match decision {
                Decision::Field(i) => map.next_value_seed(ShapedSeed {
                    interner: &mut *self.interner,
                    shape: &self.shape.fields[i].1,
                })?,
                Decision::Whole => map.next_value_seed(ShapedSeed {
                    interner: &mut *self.interner,
                    shape: Shape::whole(),
                })?,
                Decision::Unnamed => map.next_value_seed(ShapedSeed {
                    interner: &mut *self.interner,
                    shape: Shape::empty(),
                })?,
                Decision::Skip => {
                    map.next_value_seed(Discard)?;
                    continue;
                }
            };
            if let Some(key) = key {
                self.interner.fields.push((key, value));
            }
        }
        Ok(self.interner.object(start))
    }
}

/// Reads an object key and decides what to do with its value.
struct KeyChoice<'a, 'd> {
    interner: &'a mut Interner,
    shape: &'d Shape,
    /// The key's position in its object, to try the predicted key first.
    at: usize,
}

impl<'de> DeserializeSeed<'de> for KeyChoice<'_, '_> {
    type Value = (Decision, Option<Str>);

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyChoice<'_, '_> {
    type Value = (Decision, Option<Str>);

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        let Some(known) = self.interner.decisions.get_mut(self.shape.id) else {
            let decision = decide(self.shape, s);
            return Ok((decision, Some(self.interner.key(s))));
        };
        let hit = match known.get(self.at) {
            Some((k, d)) if &**k == s => Some((k, d)),
            _ => known.iter().find(|(k, _)| &**k == s).map(|(k, d)| (k, d)),
        };
        if let Some((k, d)) = hit {
            let key = (*d != Decision::Skip).then(|| k.clone());
            return Ok((*d, key));
        }
        let decision = decide(self.shape, s);
        let key = self.interner.key(s);
        if let Some(known) = self.interner.decisions.get_mut(self.shape.id) {
            if known.len() < MAX_DECISIONS {
                known.push((key.clone(), decision));
            }
        }
        Ok((decision, Some(key)))
    }
}

/// Checks a value is well-formed, exactly as building it would, and drops it.
struct Discard;

impl<'de> DeserializeSeed<'de> for Discard {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        // `deserialize_any`, not `deserialize_ignored_any`: serde_json's
        // ignoring reader does not range-check numbers or decode escapes,
        // so it would accept what a whole parse rejects.
        d.deserialize_any(Discard)
    }
}

impl<'de> Visitor<'de> for Discard {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Discard)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key_seed(Discard)?.is_some() {
            map.next_value_seed(Discard)?;
        }
        Ok(())
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

    fn demand(src: &str) -> Demand {
        crate::PolicySet::from_sources([("p.edict".to_string(), src.to_string())])
            .unwrap_or_else(|e| panic!("{e:?}"))
            .demand()
    }

    /// Reads `assets[].hostname` and `assets[].findings[].cve`.
    const READS_HOSTS_AND_CVES: &str = r#"rule r {
  for a in assets
  for f in a.findings
  subject "{a.hostname}:{f.cve}"
  require true
}"#;

    fn shaped(d: &Demand, text: &str) -> Result<String, serde_json::Error> {
        parse_shaped(text, d, d.root(), &mut Interner::default()).map(|v| v.to_string())
    }

    fn whole(text: &str) -> String {
        parse(text, &mut Interner::default()).unwrap().to_string()
    }

    #[test]
    fn shaped_parsing_builds_only_what_the_policy_reads() {
        let d = demand(READS_HOSTS_AND_CVES);
        let text = r#"{"assets": [{"id": "a1", "hostname": "h1", "os": "RHEL 9", "tags": ["x"],
            "findings": [{"cve": "CVE-1", "severity": "high", "detail": {"a": [1, 2]}}]}],
            "people": [{"name": "p", "team": "t"}, 3], "n": {"k": 1}}"#;
        // Unread top-level keys stay, with nothing in them; lists keep their length.
        let expected = r#"{"assets": [{"id": "a1", "hostname": "h1",
            "findings": [{"cve": "CVE-1"}]}], "people": [{}, 3], "n": {}}"#;
        assert_eq!(shaped(&d, text).unwrap(), whole(expected));
    }

    #[test]
    fn a_key_that_a_hint_could_name_is_kept() {
        let d = demand(READS_HOSTS_AND_CVES);
        let text = r#"{"assets": [{"HostNme": "h1", "os": "RHEL", "findings": []}]}"#;
        let got = shaped(&d, text).unwrap();
        assert_eq!(
            got,
            whole(r#"{"assets": [{"HostNme": "h1", "findings": []}]}"#)
        );
    }

    #[test]
    fn a_value_of_another_kind_than_its_use_is_kept_whole() {
        // Iterating an object, or reading a field of a list, fails with a
        // message that quotes the value: it must be the value as given.
        let d = demand(READS_HOSTS_AND_CVES);
        let text = r#"{"assets": [{"findings": {"cve": "CVE-1", "x": 1}}, [{"x": 1}]]}"#;
        assert_eq!(shaped(&d, text).unwrap(), whole(text));
    }

    #[test]
    fn skipped_values_are_checked_as_strictly_as_built_ones() {
        let d = demand(READS_HOSTS_AND_CVES);
        for bad in [
            "1e999",
            r#""\ud800""#,
            r#""\x""#,
            "\"tab\there\"",
            "tru",
            "[1,]",
            "{\"a\" 1}",
            "01",
        ] {
            let text = format!(r#"{{"assets": [{{"hostname": "h", "os": {bad}}}], "other": 1}}"#);
            let full = parse(&text, &mut Interner::default()).unwrap_err();
            let part = shaped(&d, &text).unwrap_err();
            assert_eq!(
                (part.to_string(), part.line(), part.column()),
                (full.to_string(), full.line(), full.column()),
                "{bad}"
            );
        }
    }

    #[test]
    fn shaped_parsing_on_threads_gives_the_one_thread_value() {
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
