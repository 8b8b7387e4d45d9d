//! Strings: prefixes, case, trimming, splitting, joining and regular expressions.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Write as _;

use regex_lite::Regex;

use super::{list_arg, str_arg, Builtin, BuiltinError};
use crate::eval::value::Value;

builtins! {
    STARTS_WITH = starts_with(2, 2) "starts_with(s: string, prefix: string) -> bool":
        "whether s begins with prefix";
    ENDS_WITH = ends_with(2, 2) "ends_with(s: string, suffix: string) -> bool":
        "whether s ends with suffix";
    LOWER = lower(1, 1) "lower(s: string) -> string":
        "s in lower case";
    UPPER = upper(1, 1) "upper(s: string) -> string":
        "s in upper case";
    TRIM = trim(1, 1) "trim(s: string) -> string":
        "s without leading and trailing whitespace";
    SPLIT = split(2, 2) "split(s: string, sep: string) -> list":
        "the parts of s between occurrences of a non-empty separator";
    JOIN = join(2, 2) "join(xs: list, sep: string) -> string":
        "the elements of xs as text, with sep between them";
    MATCHES = matches(2, 2) "matches(s: string, re: string) -> bool":
        "whether the regular expression re matches somewhere in s (anchor with ^ and $)";
}

fn starts_with(args: &[Value]) -> Result<Value, BuiltinError> {
    let s = str_arg("starts_with", args, 0)?;
    let p = str_arg("starts_with", args, 1)?;
    Ok(Value::Bool(s.starts_with(p)))
}

fn ends_with(args: &[Value]) -> Result<Value, BuiltinError> {
    let s = str_arg("ends_with", args, 0)?;
    let p = str_arg("ends_with", args, 1)?;
    Ok(Value::Bool(s.ends_with(p)))
}

fn lower(args: &[Value]) -> Result<Value, BuiltinError> {
    Ok(Value::str(&str_arg("lower", args, 0)?.to_lowercase()))
}

fn upper(args: &[Value]) -> Result<Value, BuiltinError> {
    Ok(Value::str(&str_arg("upper", args, 0)?.to_uppercase()))
}

fn trim(args: &[Value]) -> Result<Value, BuiltinError> {
    Ok(Value::str(str_arg("trim", args, 0)?.trim()))
}

fn split(args: &[Value]) -> Result<Value, BuiltinError> {
    let s = str_arg("split", args, 0)?;
    let sep = str_arg("split", args, 1)?;
    if sep.is_empty() {
        return Err(BuiltinError::at(1, "`split` needs a non-empty separator"));
    }
    Ok(Value::list(s.split(sep).map(Value::str).collect()))
}

fn join(args: &[Value]) -> Result<Value, BuiltinError> {
    let xs = list_arg("join", args, 0)?;
    let sep = str_arg("join", args, 1)?;
    let mut out = String::new();
    for (i, x) in xs.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        // Writing to a String cannot fail.
        let _ = write!(out, "{x}");
    }
    Ok(Value::str(&out))
}

/// Compiled patterns kept per thread, so a rule applied to many subjects
/// compiles its pattern once.
const REGEX_CACHE_SIZE: usize = 64;

thread_local! {
    static REGEXES: RefCell<HashMap<String, Regex>> = RefCell::new(HashMap::new());
}

fn compile(pattern: &str) -> Result<Regex, BuiltinError> {
    let cached = REGEXES.with(|c| c.try_borrow().ok().and_then(|m| m.get(pattern).cloned()));
    if let Some(re) = cached {
        return Ok(re);
    }
    let re = Regex::new(pattern).map_err(|e| {
        let detail = e.to_string();
        let first_line = detail.lines().last().unwrap_or("").trim();
        BuiltinError::at(
            1,
            format!("`{pattern}` is not a valid regular expression: {first_line}"),
        )
    })?;
    REGEXES.with(|c| {
        if let Ok(mut m) = c.try_borrow_mut() {
            if m.len() >= REGEX_CACHE_SIZE {
                m.clear();
            }
            m.insert(pattern.to_string(), re.clone());
        }
    });
    Ok(re)
}

fn matches(args: &[Value]) -> Result<Value, BuiltinError> {
    let s = str_arg("matches", args, 0)?;
    let pattern = str_arg("matches", args, 1)?;
    Ok(Value::Bool(compile(pattern)?.is_match(s)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::show;

    fn s(x: &str) -> Value {
        Value::str(x)
    }

    #[test]
    fn prefixes_and_suffixes() {
        assert_eq!(show(starts_with(&[s("openssl-3.0"), s("openssl")])), "true");
        assert_eq!(show(starts_with(&[s("libssl"), s("ssl")])), "false");
        assert_eq!(show(ends_with(&[s("report.pdf"), s(".pdf")])), "true");
        assert_eq!(show(ends_with(&[s("a"), s("ab")])), "false");
        assert_eq!(
            show(starts_with(&[s("a"), Value::Int(1)])),
            "@1: `starts_with` expects a string, got number"
        );
        assert_eq!(
            show(ends_with(&[Value::Null, s("a")])),
            "@0: `ends_with` expects a string, got null"
        );
    }

    #[test]
    fn case_and_whitespace() {
        assert_eq!(show(lower(&[s("CVE-Ä")])), "\"cve-ä\"");
        assert_eq!(show(upper(&[s("straße")])), "\"STRASSE\"");
        assert_eq!(show(trim(&[s("  x y \n")])), "\"x y\"");
        assert_eq!(
            show(lower(&[Value::Int(1)])),
            "@0: `lower` expects a string, got number"
        );
        assert_eq!(
            show(upper(&[Value::Bool(true)])),
            "@0: `upper` expects a string, got bool"
        );
        assert_eq!(
            show(trim(&[Value::list(vec![])])),
            "@0: `trim` expects a string, got list"
        );
    }

    #[test]
    fn split_and_join() {
        assert_eq!(
            show(split(&[s("a,b,,c"), s(",")])),
            "[\"a\", \"b\", \"\", \"c\"]"
        );
        assert_eq!(show(split(&[s(""), s(",")])), "[\"\"]");
        assert_eq!(
            show(split(&[s("abc"), s("")])),
            "@1: `split` needs a non-empty separator"
        );
        let xs = Value::list(vec![s("a"), Value::Int(1), Value::Float(2.0), Value::Null]);
        assert_eq!(show(join(&[xs, s(", ")])), "\"a, 1, 2.0, null\"");
        assert_eq!(show(join(&[Value::list(vec![]), s("-")])), "\"\"");
        assert_eq!(
            show(join(&[s("ab"), s("-")])),
            "@0: `join` expects a list, got string"
        );
    }

    #[test]
    fn regular_expressions() {
        assert_eq!(
            show(matches(&[s("CVE-2026-1234"), s(r"^CVE-\d{4}-\d+$")])),
            "true"
        );
        assert_eq!(show(matches(&[s("xCVE-1"), s("CVE")])), "true");
        assert_eq!(show(matches(&[s("abc"), s("^b")])), "false");
        // cached the second time
        assert_eq!(show(matches(&[s("abc"), s("^b")])), "false");
        let e = matches(&[s("abc"), s("(")]).unwrap_err();
        assert_eq!(e.arg, Some(1));
        assert!(
            e.message
                .starts_with("`(` is not a valid regular expression: "),
            "{}",
            e.message
        );
        assert!(!e.message.contains('\n'));
        assert_eq!(
            show(matches(&[Value::Int(1), s("1")])),
            "@0: `matches` expects a string, got number"
        );
    }

    #[test]
    fn the_regex_cache_stays_bounded() {
        for i in 0..(REGEX_CACHE_SIZE * 2) {
            assert!(matches(&[s("x"), s(&format!("x{{0,{i}}}"))]).is_ok());
        }
        REGEXES.with(|c| assert!(c.borrow().len() <= REGEX_CACHE_SIZE));
    }
}
