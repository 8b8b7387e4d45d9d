//! JSON straight into [`Value`]: one pass with serde_json's parser and no
//! intermediate `serde_json::Value`, object keys interned so a fleet's
//! millions of `"cve"` keys share one allocation.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use super::demand::{Demand, Shape};

mod split;

use super::value::{Map, Str, Value};
pub use split::parse_parallel;

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

/// The shape each element of a list of this shape is built with.
pub fn element_shape(list: &Shape) -> &Shape {
    // A list read as an object fails in a message that quotes it: whole.
    if list.whole || !list.fields.is_empty() {
        return Shape::whole();
    }
    list.items.as_deref().unwrap_or(Shape::empty())
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
