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
}

impl Interner {
    fn key(&mut self, k: &str) -> Str {
        if let Some(s) = self.keys.get(k) {
            return s.clone();
        }
        let s: Str = Arc::from(k);
        if self.keys.len() < MAX_INTERNED {
            self.keys.insert(s.clone());
        }
        s
    }

    fn value(&mut self, v: &str) -> Str {
        if v.len() > SHORT_STRING {
            return Arc::from(v);
        }
        if let Some(s) = self.values.get(v) {
            return s.clone();
        }
        let s: Str = Arc::from(v);
        if self.values.len() < MAX_INTERNED_VALUES {
            self.values.insert(s.clone());
        }
        s
    }
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
        Ok(Value::Object(Arc::new(Map::from_fields(fields))))
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
