//! Runtime values: what facts load into and what expressions produce.

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use std::collections::HashMap;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeZone, Utc};

/// A shared, immutable string.
pub type Str = Arc<str>;

/// An object's fields: unique keys, in insertion order.
///
/// Facts hold hundreds of thousands of small objects, so a map is a plain
/// vector of fields (one allocation, searched in order) and grows a hash index
/// only past `LINEAR_FIELDS` (12) fields, where searching in order gets slow.
#[derive(Clone, Debug, Default)]
pub struct Map {
    fields: Vec<(Str, Value)>,
    // Boxed: almost every object has none, and an inline table would add 40
    // bytes to each of them.
    #[allow(clippy::box_collection)]
    index: Option<Box<HashMap<Str, usize>>>,
}

impl Map {
    /// An empty map.
    pub fn new() -> Self {
        Map::default()
    }

    /// An empty map with room for `capacity` fields.
    pub fn with_capacity(capacity: usize) -> Self {
        Map {
            fields: Vec::with_capacity(capacity),
            index: None,
        }
    }

    /// Sets a field; a key already present keeps its place and takes the new value.
    pub fn insert(&mut self, key: Str, value: Value) {
        if let Some(i) = self.position(&key) {
            self.fields[i].1 = value;
            return;
        }
        let position = self.fields.len();
        if let Some(index) = &mut self.index {
            index.insert(key.clone(), position);
        }
        self.fields.push((key, value));
        if self.index.is_none() && self.fields.len() > LINEAR_FIELDS {
            self.index = Some(Box::new(
                self.fields
                    .iter()
                    .enumerate()
                    .map(|(i, (k, _))| (k.clone(), i))
                    .collect(),
            ));
        }
    }

    /// A map of these fields; a repeated key keeps its first place and last value.
    pub fn from_fields(fields: Vec<(Str, Value)>) -> Self {
        let unique = fields.len() <= LINEAR_FIELDS
            && fields
                .iter()
                .enumerate()
                .all(|(i, (k, _))| fields[..i].iter().all(|(seen, _)| seen != k));
        if unique {
            Map {
                fields,
                index: None,
            }
        } else {
            fields.into_iter().collect()
        }
    }

    fn position(&self, key: &str) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(key).copied(),
            None => self.fields.iter().position(|(k, _)| &**k == key),
        }
    }

    /// The value of field `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.position(key).map(|i| &self.fields[i].1)
    }

    /// The stored key and value of field `key`.
    pub fn get_key_value(&self, key: &str) -> Option<(&Str, &Value)> {
        self.position(key).map(|i| {
            let (k, v) = &self.fields[i];
            (k, v)
        })
    }

    /// Whether the map has field `key`.
    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether the map has no fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The fields in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&Str, &Value)> {
        self.fields.iter().map(|(k, v)| (k, v))
    }

    /// The keys in order.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &Str> {
        self.fields.iter().map(|(k, _)| k)
    }

    /// The values in order.
    pub fn values(&self) -> impl ExactSizeIterator<Item = &Value> {
        self.fields.iter().map(|(_, v)| v)
    }
}

impl FromIterator<(Str, Value)> for Map {
    fn from_iter<I: IntoIterator<Item = (Str, Value)>>(fields: I) -> Self {
        let fields = fields.into_iter();
        let mut map = Map::with_capacity(fields.size_hint().0);
        for (k, v) in fields {
            map.insert(k, v);
        }
        map
    }
}

/// A value of the Edict language.
#[derive(Clone, Debug, Default)]
pub enum Value {
    /// `null`, and the value of a missing optional field.
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An exact integer.
    Int(i64),
    /// A decimal number.
    Float(f64),
    /// Text.
    Str(Str),
    /// A calendar date (UTC).
    Date(NaiveDate),
    /// An instant, normalised to UTC.
    DateTime(DateTime<Utc>),
    /// A length of time.
    Duration(Duration),
    /// An ordered list.
    List(Arc<Vec<Value>>),
    /// An object with ordered keys.
    Object(Arc<Map>),
}

/// A length of time in whole seconds; months and years are deliberately absent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration {
    /// Total seconds; may be negative.
    pub seconds: i64,
}

/// Seconds in one day.
pub const DAY: i64 = 86_400;

impl Duration {
    /// A duration of whole days.
    pub fn days(days: i64) -> Self {
        Duration {
            seconds: days.saturating_mul(DAY),
        }
    }

    /// Whether the duration is a whole number of days.
    pub fn is_whole_days(self) -> bool {
        self.seconds % DAY == 0
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.seconds;
        let (sign, s) = if s < 0 {
            ("-", -(s as i128))
        } else {
            ("", s as i128)
        };
        let units: [(i128, &str); 4] = [(DAY as i128, "d"), (3600, "h"), (60, "m"), (1, "s")];
        if s == 0 {
            return write!(f, "0d");
        }
        for (size, unit) in units {
            if s % size == 0 {
                return write!(f, "{sign}{}{unit}", s / size);
            }
        }
        write!(f, "{sign}{s}s")
    }
}

impl Value {
    /// A string value.
    pub fn str(s: &str) -> Value {
        Value::Str(Arc::from(s))
    }

    /// A list value.
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Arc::new(items))
    }

    /// The value as text, as `Display` writes it; a string is copied, not formatted.
    pub fn into_text(self) -> String {
        match self {
            Value::Str(s) => String::from(&*s),
            other => other.to_string(),
        }
    }

    /// The type's name as users read it in messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::Float(_) => "number",
            Value::Str(_) => "string",
            Value::Date(_) => "date",
            Value::DateTime(_) => "datetime",
            Value::Duration(_) => "duration",
            Value::List(_) => "list",
            Value::Object(_) => "object",
        }
    }

    /// Whether the value is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The value as a float, if it is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The field `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(map) => field_of(map, key),
            _ => None,
        }
    }

    /// The value as a date: a date, a datetime's date, or an ISO-8601 string.
    pub fn to_date(&self) -> Option<NaiveDate> {
        match self {
            Value::Date(d) => Some(*d),
            Value::DateTime(t) => Some(t.date_naive()),
            Value::Str(s) => parse_date(s).or_else(|| parse_datetime(s).map(|t| t.date_naive())),
            _ => None,
        }
    }

    /// The value as an instant: a datetime, a date at 00:00 UTC, or an ISO-8601 string.
    pub fn to_datetime(&self) -> Option<DateTime<Utc>> {
        match self {
            Value::Date(d) => Some(midnight(*d)),
            Value::DateTime(t) => Some(*t),
            Value::Str(s) => parse_datetime(s).or_else(|| parse_date(s).map(midnight)),
            _ => None,
        }
    }

    /// Converts a JSON value without a schema: strings stay strings.
    pub fn from_json(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Value::str(s),
            serde_json::Value::Array(items) => {
                Value::list(items.iter().map(Value::from_json).collect())
            }
            serde_json::Value::Object(fields) => Value::Object(Arc::new(
                fields
                    .iter()
                    .map(|(k, v)| (Arc::from(k.as_str()), Value::from_json(v)))
                    .collect(),
            )),
        }
    }

    /// Converts to JSON for reports: dates, datetimes and durations become strings.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::Str(s) => serde_json::Value::String(s.to_string()),
            Value::Date(_) | Value::DateTime(_) | Value::Duration(_) => {
                serde_json::Value::String(self.to_string())
            }
            Value::List(items) => {
                serde_json::Value::Array(items.iter().map(Value::to_json).collect())
            }
            Value::Object(map) => serde_json::Value::Object(
                map.iter()
                    .map(|(k, v)| (k.to_string(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// Equality as the language defines it: numbers numerically, a date equal
    /// to a datetime at its midnight, an ISO string equal to the date it names.
    /// `None` when the two cannot be compared (a date with a malformed string).
    pub fn loose_eq(&self, other: &Value) -> Option<bool> {
        use Value::*;
        Some(match (self, other) {
            (Null, Null) => true,
            (Bool(a), Bool(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            (Int(_) | Float(_), Int(_) | Float(_)) => self.as_f64() == other.as_f64(),
            (Str(a), Str(b)) => a == b,
            (Date(a), Date(b)) => a == b,
            (Date(_) | DateTime(_), Date(_) | DateTime(_) | Str(_))
            | (Str(_), Date(_) | DateTime(_)) => self.to_datetime()? == other.to_datetime()?,
            (Duration(a), Duration(b)) => a == b,
            (List(a), List(b)) => {
                if a.len() != b.len() {
                    return Some(false);
                }
                for (x, y) in a.iter().zip(b.iter()) {
                    if !x.loose_eq(y)? {
                        return Some(false);
                    }
                }
                true
            }
            (Object(a), Object(b)) => {
                if a.len() != b.len() {
                    return Some(false);
                }
                for (k, x) in a.iter() {
                    match b.get(k) {
                        Some(y) if x.loose_eq(y)? => {}
                        _ => return Some(false),
                    }
                }
                true
            }
            _ => false,
        })
    }

    /// Ordering as `<` and friends use it; `None` when the values don't order.
    pub fn loose_cmp(&self, other: &Value) -> Option<Ordering> {
        use Value::*;
        match (self, other) {
            (Int(a), Int(b)) => Some(a.cmp(b)),
            (Int(_) | Float(_), Int(_) | Float(_)) => self.as_f64()?.partial_cmp(&other.as_f64()?),
            (Str(a), Str(b)) => Some(a.cmp(b)),
            (Date(a), Date(b)) => Some(a.cmp(b)),
            (Date(_) | DateTime(_), Date(_) | DateTime(_) | Str(_))
            | (Str(_), Date(_) | DateTime(_)) => {
                Some(self.to_datetime()?.cmp(&other.to_datetime()?))
            }
            (Duration(a), Duration(b)) => Some(a.cmp(b)),
            (Bool(a), Bool(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }

    /// A total order for `sort`, `distinct` and deterministic output:
    /// by type first, then by value.
    pub fn total_cmp(&self, other: &Value) -> Ordering {
        fn rank(v: &Value) -> u8 {
            match v {
                Value::Null => 0,
                Value::Bool(_) => 1,
                Value::Int(_) | Value::Float(_) => 2,
                Value::Str(_) => 3,
                Value::Date(_) | Value::DateTime(_) => 4,
                Value::Duration(_) => 5,
                Value::List(_) => 6,
                Value::Object(_) => 7,
            }
        }
        match (self, other) {
            (Value::Int(a), Value::Int(b)) => a.cmp(b),
            (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => self
                .as_f64()
                .unwrap_or(0.0)
                .total_cmp(&other.as_f64().unwrap_or(0.0)),
            (Value::List(a), Value::List(b)) => {
                for (x, y) in a.iter().zip(b.iter()) {
                    let o = x.total_cmp(y);
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                a.len().cmp(&b.len())
            }
            (Value::Object(a), Value::Object(b)) => {
                for ((ka, va), (kb, vb)) in a.iter().zip(b.iter()) {
                    let o = ka.cmp(kb).then_with(|| va.total_cmp(vb));
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                a.len().cmp(&b.len())
            }
            _ if rank(self) == rank(other) => self.loose_cmp(other).unwrap_or(Ordering::Equal),
            _ => rank(self).cmp(&rank(other)),
        }
    }
}

/// Objects with at most this many fields are searched in order: comparing a
/// few short keys is cheaper than hashing the name.
const LINEAR_FIELDS: usize = 12;

/// The field `key` of an object's map.
pub fn field_of<'a>(map: &'a Map, key: &str) -> Option<&'a Value> {
    map.get(key)
}

/// Midnight UTC at the start of a date.
pub fn midnight(d: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&d.and_time(NaiveTime::MIN))
}

/// Parses a strict `YYYY-MM-DD` calendar date.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = &b[r];
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)
}

/// Parses an RFC 3339 instant; the UTC offset is required.
pub fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    if s.len() < 20 || s.as_bytes().get(10).map(|c| c.to_ascii_uppercase()) != Some(b'T') {
        return None;
    }
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

impl Value {
    /// Appends the value as it reads inside a message (its `Display` text).
    pub fn write_text(&self, out: &mut String) {
        match self {
            Value::Str(s) => out.push_str(s),
            Value::Date(d) => push_date(out, *d),
            v => {
                use std::fmt::Write;
                // Writing to a String cannot fail.
                let _ = write!(out, "{v}");
            }
        }
    }
}

/// Appends a date as `YYYY-MM-DD`: messages print one per failing subject,
/// and the formatting machinery costs more than the digits.
fn push_date(out: &mut String, d: NaiveDate) {
    let (y, m, day) = (d.year(), d.month(), d.day());
    match u32::try_from(y) {
        Ok(y) if y <= 9999 => {
            for digit in [y / 1000, y / 100 % 10, y / 10 % 10, y % 10] {
                out.push(char::from(b'0' + digit as u8));
            }
            for (part, sep) in [(m, '-'), (day, '-')] {
                out.push(sep);
                out.push(char::from(b'0' + (part / 10) as u8));
                out.push(char::from(b'0' + (part % 10) as u8));
            }
        }
        _ => {
            use std::fmt::Write;
            let _ = write!(out, "{y:04}-{m:02}-{day:02}");
        }
    }
}

impl fmt::Display for Value {
    /// How a value reads inside an interpolated message.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => write!(f, "null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => {
                if x.fract() == 0.0 && x.abs() < 1e15 {
                    write!(f, "{x:.1}")
                } else {
                    write!(f, "{x}")
                }
            }
            Value::Str(s) => write!(f, "{s}"),
            Value::Date(d) => write!(f, "{:04}-{:02}-{:02}", d.year(), d.month(), d.day()),
            Value::DateTime(t) => write!(f, "{}", t.format("%Y-%m-%dT%H:%M:%SZ")),
            Value::Duration(d) => write!(f, "{d}"),
            Value::List(items) => {
                write!(f, "[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    item.fmt_quoted(f)?;
                }
                write!(f, "]")
            }
            Value::Object(map) => {
                write!(f, "{{")?;
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{k}: ")?;
                    v.fmt_quoted(f)?;
                }
                write!(f, "}}")
            }
        }
    }
}

impl Value {
    /// Writes the value as it would appear in source: strings quoted.
    pub fn fmt_quoted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) => write!(f, "{s:?}"),
            other => write!(f, "{other}"),
        }
    }

    /// The value as source-like text: strings quoted, for explanations and diagnostics.
    pub fn quoted(&self) -> String {
        struct Q<'a>(&'a Value);
        impl fmt::Display for Q<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt_quoted(f)
            }
        }
        Q(self).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_in_the_largest_whole_unit() {
        assert_eq!(Duration::days(15).to_string(), "15d");
        assert_eq!(Duration { seconds: 36 * 3600 }.to_string(), "36h");
        assert_eq!(Duration { seconds: -90 }.to_string(), "-90s");
    }

    #[test]
    fn dates_write_as_they_display() {
        for (y, m, d) in [
            (2026, 2, 3),
            (1, 1, 1),
            (999, 12, 31),
            (9999, 12, 31),
            (10000, 1, 1),
            (-5, 6, 7),
        ] {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            let mut text = String::from("due ");
            Value::Date(date).write_text(&mut text);
            assert_eq!(text, format!("due {}", Value::Date(date)), "{date:?}");
        }
    }

    #[test]
    fn dates_parse_strictly() {
        assert!(parse_date("2026-11-29").is_some());
        assert!(parse_date("2026-13-45").is_none());
        assert!(parse_date("2026-1-29").is_none());
        assert!(parse_datetime("2026-11-29T08:30:00Z").is_some());
        assert!(parse_datetime("2026-11-29T08:30:00").is_none());
    }

    #[test]
    fn a_date_equals_its_iso_string_and_its_midnight() {
        let d = Value::Date(parse_date("2026-11-29").unwrap());
        assert_eq!(d.loose_eq(&Value::str("2026-11-29")), Some(true));
        assert_eq!(d.loose_eq(&Value::str("not a date")), None);
        let t = Value::DateTime(parse_datetime("2026-11-29T00:00:00Z").unwrap());
        assert_eq!(d.loose_eq(&t), Some(true));
    }

    #[test]
    fn maps_keep_first_place_and_last_value_small_and_large() {
        for size in [3, LINEAR_FIELDS, LINEAR_FIELDS + 1, 100] {
            let key = |i: usize| -> Str { Arc::from(format!("k{i}").as_str()) };
            let mut fields: Vec<(Str, Value)> =
                (0..size).map(|i| (key(i), Value::Int(i as i64))).collect();
            fields.push((key(0), Value::str("last")));
            let built = Map::from_fields(fields.clone());
            let inserted: Map = fields.into_iter().collect();
            for map in [built, inserted] {
                assert_eq!(map.len(), size);
                assert_eq!(map.keys().next().map(|k| &**k), Some("k0"));
                assert_eq!(map.get("k0").map(Value::to_string).as_deref(), Some("last"));
                assert_eq!(
                    map.get(&format!("k{}", size - 1)).map(Value::to_string),
                    Some((size - 1).to_string())
                );
                assert!(map.get("missing").is_none());
                let mut grown = map.clone();
                grown.insert(Arc::from("new"), Value::Bool(true));
                assert_eq!(grown.len(), size + 1);
                assert!(grown.contains_key("new") && grown.contains_key("k1"));
            }
        }
    }
}
