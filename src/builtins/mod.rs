//! Functions implemented in Rust, one file per family.
//!
//! Every builtin takes its arguments already evaluated and returns a value or
//! a span-less [`BuiltinError`]; the evaluator attaches the call site and, via
//! [`BuiltinError::arg`], the fact path of the argument at fault.

use std::cmp::Ordering;

use crate::eval::value::{Map, Value};

/// Declares `Builtin` constants: `CONST = function(min, max) "signature": "doc";`,
/// the builtin's name being its function's.
macro_rules! builtins {
    ($($konst:ident = $call:ident($min:literal, $max:literal) $sig:literal: $doc:literal;)*) => {$(
        #[doc = concat!("`", $sig, "`")]
        pub(super) const $konst: Builtin = Builtin {
            name: stringify!($call),
            signature: $sig,
            doc: $doc,
            min_args: $min,
            max_args: $max,
            call: $call,
        };
    )*};
}

mod collections;
mod cvss;
mod text;
mod time;
mod versions;

/// Why a builtin call failed; `arg` is the 0-based argument at fault, so the evaluator can name its fact path.
#[derive(Debug, Clone, PartialEq)]
pub struct BuiltinError {
    /// What went wrong: lowercase, no trailing period, user values in backticks.
    pub message: String,
    /// The 0-based argument at fault, if one is.
    pub arg: Option<usize>,
}

impl BuiltinError {
    /// An error not tied to one argument.
    pub fn new(message: impl Into<String>) -> Self {
        BuiltinError {
            message: message.into(),
            arg: None,
        }
    }

    /// An error about argument `arg` (0-based).
    pub fn at(arg: usize, message: impl Into<String>) -> Self {
        BuiltinError {
            message: message.into(),
            arg: Some(arg),
        }
    }

    /// "`f` expects a string, got number", about argument `arg`.
    pub fn type_mismatch(func: &str, arg: usize, expected: &str, got: &Value) -> Self {
        Self::at(
            arg,
            format!("`{func}` expects {expected}, got {}", got.type_name()),
        )
    }
}

impl std::fmt::Display for BuiltinError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for BuiltinError {}

/// A function implemented in Rust.
#[derive(Debug)]
pub struct Builtin {
    /// The name rules call it by.
    pub name: &'static str,
    /// Parameters and result, e.g. `add_months(d: date, n: int) -> date`.
    pub signature: &'static str,
    /// One line: what it does.
    pub doc: &'static str,
    /// Fewest arguments accepted.
    pub min_args: usize,
    /// Most arguments accepted.
    pub max_args: usize,
    /// The implementation; never panics, whatever the arguments.
    pub call: fn(&[Value]) -> Result<Value, BuiltinError>,
}

/// Every builtin, sorted by name (a test keeps it so).
static ALL: &[Builtin] = &[
    time::ADD_BUSINESS_DAYS,
    time::ADD_MONTHS,
    collections::AVG,
    time::BUSINESS_DAYS,
    collections::CONTAINS,
    collections::COUNT,
    cvss::CVSS_SEVERITY,
    cvss::CVSS_VECTOR,
    time::DATE,
    time::DATETIME,
    time::DAYS,
    time::DAYS_BETWEEN,
    collections::DISTINCT,
    text::ENDS_WITH,
    collections::FIRST,
    time::HOURS,
    text::JOIN,
    collections::KEYS,
    collections::LEN,
    text::LOWER,
    text::MATCHES,
    collections::MAX,
    collections::MIN,
    collections::SORT,
    text::SPLIT,
    text::STARTS_WITH,
    collections::SUM,
    text::TRIM,
    text::UPPER,
    collections::VALUES,
    versions::VERSION_COMPARE,
];

/// The builtin called `name`, if there is one.
pub fn lookup(name: &str) -> Option<&'static Builtin> {
    ALL.binary_search_by(|b| b.name.cmp(name))
        .ok()
        .and_then(|i| ALL.get(i))
}

/// Every builtin, sorted by name.
pub fn all() -> &'static [Builtin] {
    ALL
}

/// Argument `i`, or an error if the caller passed too few.
fn arg(args: &[Value], i: usize) -> Result<&Value, BuiltinError> {
    args.get(i)
        .ok_or_else(|| BuiltinError::new(format!("missing argument {}", i + 1)))
}

/// Argument `i` as a string.
fn str_arg<'a>(func: &str, args: &'a [Value], i: usize) -> Result<&'a str, BuiltinError> {
    match arg(args, i)? {
        Value::Str(s) => Ok(s),
        other => Err(BuiltinError::type_mismatch(func, i, "a string", other)),
    }
}

/// Argument `i` as a list.
fn list_arg<'a>(func: &str, args: &'a [Value], i: usize) -> Result<&'a [Value], BuiltinError> {
    match arg(args, i)? {
        Value::List(items) => Ok(items),
        other => Err(BuiltinError::type_mismatch(func, i, "a list", other)),
    }
}

/// Argument `i` as an object.
fn obj_arg<'a>(func: &str, args: &'a [Value], i: usize) -> Result<&'a Map, BuiltinError> {
    match arg(args, i)? {
        Value::Object(map) => Ok(map),
        other => Err(BuiltinError::type_mismatch(func, i, "an object", other)),
    }
}

/// Argument `i` as a whole number: an integer, or a float with no fraction.
fn int_arg(func: &str, args: &[Value], i: usize) -> Result<i64, BuiltinError> {
    match arg(args, i)? {
        Value::Int(n) => Ok(*n),
        Value::Float(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => Ok(*x as i64),
        Value::Float(x) => Err(BuiltinError::at(
            i,
            format!(
                "`{func}` expects a whole number, got `{}`",
                Value::Float(*x)
            ),
        )),
        other => Err(BuiltinError::type_mismatch(
            func,
            i,
            "a whole number",
            other,
        )),
    }
}

/// A stable merge sort that stays sound even if `cmp` is not a true total
/// order (the standard sort may panic then, and `total_cmp` equates a large
/// integer with a nearby float that orders differently against another integer).
fn merge_sort(items: Vec<Value>, cmp: &impl Fn(&Value, &Value) -> Ordering) -> Vec<Value> {
    if items.len() <= 1 {
        return items;
    }
    let mut left = items;
    let right = left.split_off(left.len() / 2);
    let left = merge_sort(left, cmp);
    let right = merge_sort(right, cmp);
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut l = left.into_iter().peekable();
    let mut r = right.into_iter().peekable();
    loop {
        let take_right = match (l.peek(), r.peek()) {
            (Some(a), Some(b)) => cmp(b, a) == Ordering::Less,
            (Some(_), None) => false,
            (None, Some(_)) => true,
            (None, None) => break,
        };
        let next = if take_right { r.next() } else { l.next() };
        out.extend(next);
    }
    out
}

/// A call's outcome as test text: the value quoted, or `@arg: message`.
#[cfg(test)]
fn show(v: Result<Value, BuiltinError>) -> String {
    match v {
        Ok(v) => v.quoted(),
        Err(e) => match e.arg {
            Some(i) => format!("@{i}: {}", e.message),
            None => format!("@-: {}", e.message),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_is_sorted_and_unique() {
        for pair in ALL.windows(2) {
            assert!(
                pair[0].name < pair[1].name,
                "{} / {}",
                pair[0].name,
                pair[1].name
            );
        }
    }

    #[test]
    fn every_builtin_is_described_and_found() {
        for b in all() {
            assert!(
                b.signature.starts_with(&format!("{}(", b.name)),
                "{}",
                b.name
            );
            assert!(!b.doc.is_empty() && !b.doc.contains('\n'), "{}", b.name);
            assert!(b.min_args <= b.max_args, "{}", b.name);
            assert!(std::ptr::eq(lookup(b.name).unwrap(), b));
        }
        assert!(lookup("nope").is_none());
    }

    #[test]
    fn no_builtin_panics_on_odd_arguments() {
        let odd = [
            Value::Null,
            Value::Bool(true),
            Value::Int(i64::MIN),
            Value::Float(f64::NAN),
            Value::str(""),
            Value::str("2026-13-45"),
            Value::list(vec![Value::Null, Value::Float(f64::INFINITY)]),
            Value::list(vec![]),
            Value::Object(Default::default()),
        ];
        for b in all() {
            let _ = (b.call)(&[]);
            for a in &odd {
                let _ = (b.call)(std::slice::from_ref(a));
                for c in &odd {
                    let _ = (b.call)(&[a.clone(), c.clone()]);
                    let _ = (b.call)(&[a.clone(), c.clone(), c.clone()]);
                }
            }
        }
    }

    #[test]
    fn type_errors_name_the_argument() {
        let e = str_arg("lower", &[Value::Int(1)], 0).unwrap_err();
        assert_eq!(e.message, "`lower` expects a string, got number");
        assert_eq!(e.arg, Some(0));
        assert_eq!(arg(&[], 1).unwrap_err().message, "missing argument 2");
        assert_eq!(int_arg("f", &[Value::Float(2.0)], 0), Ok(2));
        assert_eq!(
            int_arg("f", &[Value::Float(2.5)], 0).unwrap_err().arg,
            Some(0)
        );
    }
}
