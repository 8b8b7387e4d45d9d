//! Lists and objects: counting, aggregates, ordering and membership.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{arg, list_arg, merge_sort, obj_arg, Builtin, BuiltinError};
use crate::eval::value::{Duration, Value};

builtins! {
    COUNT = count(1, 1) "count(xs: list) -> int":
        "the number of elements in a list";
    LEN = len(1, 1) "len(x: list | string | object) -> int":
        "the length of a list, the characters in a string or the keys of an object";
    SUM = sum(1, 1) "sum(xs: list) -> number | duration":
        "the total of a list of numbers (integers stay exact) or of durations; 0 when empty";
    MIN = min(1, 1) "min(xs: list) -> any":
        "the smallest of a list of numbers, strings, dates or durations; null when empty";
    MAX = max(1, 1) "max(xs: list) -> any":
        "the largest of a list of numbers, strings, dates or durations; null when empty";
    AVG = avg(1, 1) "avg(xs: list) -> number":
        "the mean of a list of numbers, as a decimal; null when empty";
    SORT = sort(1, 1) "sort(xs: list) -> list":
        "the list in ascending order (by type, then value); equal elements keep their order";
    DISTINCT = distinct(1, 1) "distinct(xs: list) -> list":
        "the list without repeats, keeping each first occurrence in order";
    KEYS = keys(1, 1) "keys(obj: object) -> list":
        "an object's keys, in order";
    VALUES = values(1, 1) "values(obj: object) -> list":
        "an object's values, in key order";
    CONTAINS = contains(2, 2) "contains(haystack: list | string, needle: any) -> bool":
        "whether a list has an element equal to needle, or a string contains the substring needle";
    FIRST = first(1, 1) "first(xs: list) -> any":
        "the first element of a list; null when empty";
}

fn int_len(n: usize) -> Value {
    Value::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

fn count(args: &[Value]) -> Result<Value, BuiltinError> {
    Ok(int_len(list_arg("count", args, 0)?.len()))
}

fn len(args: &[Value]) -> Result<Value, BuiltinError> {
    match arg(args, 0)? {
        Value::List(items) => Ok(int_len(items.len())),
        Value::Str(s) => Ok(int_len(s.chars().count())),
        Value::Object(map) => Ok(int_len(map.len())),
        other => Err(BuiltinError::type_mismatch(
            "len",
            0,
            "a list, string or object",
            other,
        )),
    }
}

/// A running total for `sum`.
enum Total {
    Int(i64),
    Float(f64),
    Duration(i64),
}

fn element_error(func: &str, expected: &str, index: usize, got: &Value) -> BuiltinError {
    BuiltinError::at(
        0,
        format!(
            "`{func}` expects a list of {expected}, got {} at index {index}",
            got.type_name()
        ),
    )
}

fn sum(args: &[Value]) -> Result<Value, BuiltinError> {
    let xs = list_arg("sum", args, 0)?;
    let overflow = || BuiltinError::at(0, "`sum` overflows: the total is too large");
    let mut total: Option<Total> = None;
    for (i, x) in xs.iter().enumerate() {
        total = Some(match (total, x) {
            (None, Value::Int(n)) => Total::Int(*n),
            (None, Value::Float(f)) => Total::Float(*f),
            (None, Value::Duration(d)) => Total::Duration(d.seconds),
            (Some(Total::Int(a)), Value::Int(b)) => {
                Total::Int(a.checked_add(*b).ok_or_else(overflow)?)
            }
            (Some(Total::Int(a)), Value::Float(b)) => Total::Float(a as f64 + b),
            (Some(Total::Float(a)), Value::Int(_) | Value::Float(_)) => {
                Total::Float(a + x.as_f64().unwrap_or(0.0))
            }
            (Some(Total::Duration(a)), Value::Duration(b)) => {
                Total::Duration(a.checked_add(b.seconds).ok_or_else(overflow)?)
            }
            (Some(Total::Duration(_)), other) => {
                return Err(element_error("sum", "durations", i, other))
            }
            (_, other) => return Err(element_error("sum", "numbers", i, other)),
        });
    }
    Ok(match total {
        None => Value::Int(0),
        Some(Total::Int(n)) => Value::Int(n),
        Some(Total::Float(f)) => Value::Float(f),
        Some(Total::Duration(s)) => Value::Duration(Duration { seconds: s }),
    })
}

fn avg(args: &[Value]) -> Result<Value, BuiltinError> {
    let xs = list_arg("avg", args, 0)?;
    if xs.is_empty() {
        return Ok(Value::Null);
    }
    let mut exact: i128 = 0;
    let mut float = 0.0_f64;
    let mut all_ints = true;
    for (i, x) in xs.iter().enumerate() {
        match x {
            Value::Int(n) => {
                exact += i128::from(*n);
                float += *n as f64;
            }
            Value::Float(f) => {
                all_ints = false;
                float += f;
            }
            other => return Err(element_error("avg", "numbers", i, other)),
        }
    }
    let total = if all_ints { exact as f64 } else { float };
    Ok(Value::Float(total / xs.len() as f64))
}

/// Which kind of values `min`/`max` is ordering.
#[derive(PartialEq)]
enum Kind {
    Number,
    Text,
    Time,
    Duration,
}

fn kind_of(v: &Value) -> Option<Kind> {
    match v {
        Value::Int(_) | Value::Float(_) => Some(Kind::Number),
        Value::Str(_) => Some(Kind::Text),
        Value::Date(_) | Value::DateTime(_) => Some(Kind::Time),
        Value::Duration(_) => Some(Kind::Duration),
        _ => None,
    }
}

/// The instant a `min`/`max` element stands for, when the list holds dates.
fn instant(func: &str, index: usize, v: &Value) -> Result<DateTime<Utc>, BuiltinError> {
    match v {
        Value::Date(_) | Value::DateTime(_) | Value::Str(_) => v.to_datetime().ok_or_else(|| {
            BuiltinError::at(
                0,
                format!("`{func}`: {} at index {index} is not a date", v.quoted()),
            )
        }),
        other => Err(element_error(func, "dates", index, other)),
    }
}

/// The element of `xs` that `pick` prefers (the first among equals); null when empty.
fn extreme(func: &str, args: &[Value], pick: Ordering) -> Result<Value, BuiltinError> {
    let xs = list_arg(func, args, 0)?;
    let Some(head) = xs.first() else {
        return Ok(Value::Null);
    };
    let expected = "numbers, strings, dates or durations";
    if xs.iter().any(|x| kind_of(x) == Some(Kind::Time)) {
        let mut best = (head, instant(func, 0, head)?);
        for (i, x) in xs.iter().enumerate().skip(1) {
            let t = instant(func, i, x)?;
            if t.cmp(&best.1) == pick {
                best = (x, t);
            }
        }
        return Ok(best.0.clone());
    }
    let kind = kind_of(head).ok_or_else(|| element_error(func, expected, 0, head))?;
    let mut best = head;
    for (i, x) in xs.iter().enumerate().skip(1) {
        match kind_of(x) {
            Some(k) if k == kind => {}
            Some(_) => {
                return Err(BuiltinError::at(
                    0,
                    format!(
                        "`{func}` cannot compare {} with {} (index {i})",
                        head.type_name(),
                        x.type_name()
                    ),
                ))
            }
            None => return Err(element_error(func, expected, i, x)),
        }
        match x.loose_cmp(best) {
            Some(o) if o == pick => best = x,
            Some(_) => {}
            None => {
                return Err(BuiltinError::at(
                    0,
                    format!("`{func}` cannot order `{x}` at index {i}"),
                ))
            }
        }
    }
    if best.as_f64().is_some_and(f64::is_nan) {
        return Err(BuiltinError::at(0, format!("`{func}` cannot order `NaN`")));
    }
    Ok(best.clone())
}

fn min(args: &[Value]) -> Result<Value, BuiltinError> {
    extreme("min", args, Ordering::Less)
}

fn max(args: &[Value]) -> Result<Value, BuiltinError> {
    extreme("max", args, Ordering::Greater)
}

fn sort(args: &[Value]) -> Result<Value, BuiltinError> {
    let xs = list_arg("sort", args, 0)?;
    Ok(Value::list(merge_sort(xs.to_vec(), &Value::total_cmp)))
}

/// A coarse hash key: values that are `loose_eq` always share one.
#[derive(PartialEq, Eq, Hash)]
enum Bucket {
    Null,
    Bool(bool),
    Number(u64),
    Text(Arc<str>),
    Instant(DateTime<Utc>),
    Duration(i64),
    Compound,
}

fn bucket(v: &Value) -> Bucket {
    match v {
        Value::Null => Bucket::Null,
        Value::Bool(b) => Bucket::Bool(*b),
        Value::Int(_) | Value::Float(_) => {
            let f = v.as_f64().unwrap_or(0.0);
            Bucket::Number(if f == 0.0 { 0 } else { f.to_bits() })
        }
        Value::Str(s) => match v.to_datetime() {
            Some(t) => Bucket::Instant(t),
            None => Bucket::Text(s.clone()),
        },
        Value::Date(_) | Value::DateTime(_) => {
            v.to_datetime().map_or(Bucket::Compound, Bucket::Instant)
        }
        Value::Duration(d) => Bucket::Duration(d.seconds),
        Value::List(_) | Value::Object(_) => Bucket::Compound,
    }
}

fn distinct(args: &[Value]) -> Result<Value, BuiltinError> {
    let xs = list_arg("distinct", args, 0)?;
    let mut seen: HashMap<Bucket, Vec<usize>> = HashMap::new();
    let mut out: Vec<Value> = Vec::new();
    for x in xs {
        let kept = seen.entry(bucket(x)).or_default();
        let repeat = kept
            .iter()
            .any(|&k| out.get(k).and_then(|y| y.loose_eq(x)) == Some(true));
        if !repeat {
            kept.push(out.len());
            out.push(x.clone());
        }
    }
    Ok(Value::list(out))
}

fn keys(args: &[Value]) -> Result<Value, BuiltinError> {
    let map = obj_arg("keys", args, 0)?;
    Ok(Value::list(
        map.keys().map(|k| Value::Str(k.clone())).collect(),
    ))
}

fn values(args: &[Value]) -> Result<Value, BuiltinError> {
    let map = obj_arg("values", args, 0)?;
    Ok(Value::list(map.values().cloned().collect()))
}

/// Fails closed: when no element matches but some could not be compared
/// (a date against a malformed string), the answer is unknown, so an error.
fn contains(args: &[Value]) -> Result<Value, BuiltinError> {
    let needle = arg(args, 1)?;
    match arg(args, 0)? {
        Value::List(items) => {
            let mut unknown = None;
            for (i, item) in items.iter().enumerate() {
                match item.loose_eq(needle) {
                    Some(true) => return Ok(Value::Bool(true)),
                    Some(false) => {}
                    None => unknown = unknown.or(Some((i, item))),
                }
            }
            match unknown {
                None => Ok(Value::Bool(false)),
                Some((i, item)) => Err(BuiltinError::at(
                    0,
                    format!(
                        "`contains` cannot compare {} at index {i} with {}",
                        item.quoted(),
                        needle.quoted()
                    ),
                )),
            }
        }
        Value::Str(s) => match needle {
            Value::Str(n) => Ok(Value::Bool(s.contains(&**n))),
            other => Err(BuiltinError::type_mismatch(
                "contains",
                1,
                "a string to look for in a string",
                other,
            )),
        },
        other => Err(BuiltinError::type_mismatch(
            "contains",
            0,
            "a list or string",
            other,
        )),
    }
}

fn first(args: &[Value]) -> Result<Value, BuiltinError> {
    let xs = list_arg("first", args, 0)?;
    Ok(xs.first().cloned().unwrap_or(Value::Null))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::show;
    use crate::eval::value::parse_date;

    fn ints(ns: &[i64]) -> Value {
        Value::list(ns.iter().map(|n| Value::Int(*n)).collect())
    }

    fn strs(ss: &[&str]) -> Value {
        Value::list(ss.iter().map(|s| Value::str(s)).collect())
    }

    fn date(s: &str) -> Value {
        Value::Date(parse_date(s).unwrap())
    }

    fn obj() -> Value {
        let mut m = crate::eval::value::Map::new();
        m.insert(Arc::from("b"), Value::Int(1));
        m.insert(Arc::from("a"), Value::str("x"));
        Value::Object(Arc::new(m))
    }

    #[test]
    fn count_and_len() {
        assert_eq!(show(count(&[ints(&[1, 2, 3])])), "3");
        assert_eq!(
            show(count(&[Value::str("ab")])),
            "@0: `count` expects a list, got string"
        );
        assert_eq!(show(len(&[Value::str("héllo")])), "5");
        assert_eq!(show(len(&[obj()])), "2");
        assert_eq!(show(len(&[ints(&[])])), "0");
        assert_eq!(
            show(len(&[Value::Int(3)])),
            "@0: `len` expects a list, string or object, got number"
        );
    }

    #[test]
    fn sum_keeps_integers_exact_and_adds_durations() {
        assert_eq!(show(sum(&[ints(&[1, 2, 3])])), "6");
        assert_eq!(show(sum(&[ints(&[])])), "0");
        let mixed = Value::list(vec![Value::Int(1), Value::Float(0.5)]);
        assert_eq!(show(sum(&[mixed])), "1.5");
        let ds = Value::list(vec![
            Value::Duration(Duration::days(1)),
            Value::Duration(Duration { seconds: 3600 }),
        ]);
        assert_eq!(show(sum(&[ds])), "25h");
        assert_eq!(
            show(sum(&[ints(&[i64::MAX, 1])])),
            "@0: `sum` overflows: the total is too large"
        );
        assert_eq!(
            show(sum(&[strs(&["a"])])),
            "@0: `sum` expects a list of numbers, got string at index 0"
        );
        let bad = Value::list(vec![Value::Duration(Duration::days(1)), Value::Int(1)]);
        assert_eq!(
            show(sum(&[bad])),
            "@0: `sum` expects a list of durations, got number at index 1"
        );
    }

    #[test]
    fn avg_is_a_decimal_or_null() {
        assert_eq!(show(avg(&[ints(&[1, 2])])), "1.5");
        assert_eq!(
            show(avg(&[ints(&[i64::MAX, i64::MAX])])),
            format!("{}", Value::Float(i64::MAX as f64))
        );
        assert_eq!(show(avg(&[ints(&[])])), "null");
        assert_eq!(
            show(avg(&[Value::list(vec![Value::Null])])),
            "@0: `avg` expects a list of numbers, got null at index 0"
        );
    }

    #[test]
    fn min_and_max_of_each_kind() {
        assert_eq!(show(min(&[ints(&[3, 1, 2])])), "1");
        assert_eq!(
            show(max(&[Value::list(vec![Value::Int(3), Value::Float(3.5)])])),
            "3.5"
        );
        assert_eq!(show(max(&[strs(&["b", "c", "a"])])), "\"c\"");
        assert_eq!(show(min(&[ints(&[])])), "null");
        let ds = Value::list(vec![
            Value::Duration(Duration::days(2)),
            Value::Duration(Duration::days(1)),
        ]);
        assert_eq!(show(min(&[ds])), "1d");
        let dates = Value::list(vec![
            Value::str("2026-03-01"),
            date("2026-01-05"),
            Value::str("2026-02-01T10:00:00Z"),
        ]);
        assert_eq!(show(min(std::slice::from_ref(&dates))), "2026-01-05");
        assert_eq!(show(max(&[dates])), "\"2026-03-01\"");
        // all strings and no date: compared as text
        assert_eq!(show(max(&[strs(&["2026-01-05", "b"])])), "\"b\"");
    }

    #[test]
    fn min_and_max_refuse_mixed_or_bad_elements() {
        let mixed = Value::list(vec![Value::Int(1), Value::str("a")]);
        assert_eq!(
            show(min(&[mixed])),
            "@0: `min` cannot compare number with string (index 1)"
        );
        let bad_date = Value::list(vec![date("2026-01-05"), Value::str("soon")]);
        assert_eq!(
            show(max(&[bad_date])),
            "@0: `max`: \"soon\" at index 1 is not a date"
        );
        let nulls = Value::list(vec![Value::Null]);
        assert_eq!(
            show(max(&[nulls])),
            "@0: `max` expects a list of numbers, strings, dates or durations, got null at index 0"
        );
        assert!(min(&[Value::list(vec![Value::Float(f64::NAN), Value::Int(1)])]).is_err());
    }

    #[test]
    fn sort_is_stable_across_types() {
        let xs = Value::list(vec![
            Value::str("b"),
            Value::Int(2),
            Value::Null,
            Value::Float(1.5),
            Value::str("a"),
        ]);
        assert_eq!(show(sort(&[xs])), "[null, 1.5, 2, \"a\", \"b\"]");
        // a date and its midnight compare equal: original order kept
        let t =
            Value::DateTime(crate::eval::value::parse_datetime("2026-01-01T00:00:00Z").unwrap());
        let xs = Value::list(vec![t, date("2026-01-01"), date("2025-12-31")]);
        assert_eq!(
            show(sort(&[xs])),
            "[2025-12-31, 2026-01-01T00:00:00Z, 2026-01-01]"
        );
        let big = Value::list(vec![
            Value::Int((1 << 53) + 1),
            Value::Float(9007199254740992.0),
            Value::Int(1 << 53),
        ]);
        assert!(sort(&[big]).is_ok());
        assert_eq!(
            show(sort(&[obj()])),
            "@0: `sort` expects a list, got object"
        );
    }

    #[test]
    fn distinct_keeps_first_occurrences() {
        let xs = Value::list(vec![
            Value::Int(1),
            Value::str("a"),
            Value::Float(1.0),
            date("2026-01-01"),
            Value::str("2026-01-01"),
            Value::str("a"),
            Value::Float(f64::NAN),
            Value::Float(f64::NAN),
            Value::Float(-0.0),
            Value::Int(0),
            ints(&[1]),
            ints(&[1]),
        ]);
        assert_eq!(
            show(distinct(&[xs])),
            "[1, \"a\", 2026-01-01, NaN, NaN, -0.0, [1]]"
        );
        assert_eq!(
            show(distinct(&[Value::Null])),
            "@0: `distinct` expects a list, got null"
        );
    }

    #[test]
    fn distinct_is_fast_on_many_scalars() {
        let xs = Value::list((0..200_000).map(|i| Value::Int(i % 1000)).collect());
        let Ok(Value::List(out)) = distinct(&[xs]) else {
            panic!()
        };
        assert_eq!(out.len(), 1000);
    }

    #[test]
    fn keys_and_values_keep_order() {
        assert_eq!(show(keys(&[obj()])), "[\"b\", \"a\"]");
        assert_eq!(show(values(&[obj()])), "[1, \"x\"]");
        assert_eq!(
            show(keys(&[ints(&[])])),
            "@0: `keys` expects an object, got list"
        );
        assert_eq!(
            show(values(&[Value::Null])),
            "@0: `values` expects an object, got null"
        );
    }

    #[test]
    fn contains_lists_and_strings() {
        assert_eq!(show(contains(&[ints(&[1, 2]), Value::Float(2.0)])), "true");
        assert_eq!(show(contains(&[ints(&[1, 2]), Value::str("2")])), "false");
        assert_eq!(
            show(contains(&[Value::str("openssl"), Value::str("ssl")])),
            "true"
        );
        assert_eq!(
            show(contains(&[strs(&["2026-01-01"]), date("2026-01-01")])),
            "true"
        );
        assert_eq!(
            show(contains(&[strs(&["someday"]), date("2026-01-01")])),
            "@0: `contains` cannot compare \"someday\" at index 0 with 2026-01-01"
        );
        assert_eq!(
            show(contains(&[Value::str("abc"), Value::Int(1)])),
            "@1: `contains` expects a string to look for in a string, got number"
        );
        assert_eq!(
            show(contains(&[Value::Int(1), Value::Int(1)])),
            "@0: `contains` expects a list or string, got number"
        );
    }

    #[test]
    fn first_or_null() {
        assert_eq!(show(first(&[ints(&[7, 8])])), "7");
        assert_eq!(show(first(&[ints(&[])])), "null");
        assert_eq!(
            show(first(&[Value::str("x")])),
            "@0: `first` expects a list, got string"
        );
    }
}
