//! Arithmetic and comparison on values, with the language's date rules.

use std::cmp::Ordering;

use chrono::{Duration as ChronoDuration, TimeDelta};

use super::value::{midnight, Duration, Value, DAY};
use crate::syntax::ast::BinOp;

/// Which operand an operator error is about, so its fact path can be named.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Culprit {
    /// The left operand.
    Left,
    /// The right operand.
    Right,
    /// The combination.
    Both,
}

/// Why an operator could not be applied.
pub(crate) struct OpError {
    pub culprit: Culprit,
    pub message: String,
}

fn err(culprit: Culprit, message: impl Into<String>) -> OpError {
    OpError {
        culprit,
        message: message.into(),
    }
}

fn mismatch(op: BinOp, a: &Value, b: &Value) -> OpError {
    err(
        Culprit::Both,
        format!(
            "cannot apply `{}` to {} {} and {} {}",
            op.symbol(),
            a.type_name(),
            a.quoted(),
            b.type_name(),
            b.quoted()
        ),
    )
}

/// A string where a date is needed: parsed as ISO-8601, or an error naming it.
fn as_date_operand(v: &Value, culprit: Culprit) -> Result<Value, OpError> {
    match v {
        Value::Str(s) => v
            .to_datetime()
            .map(|t| {
                if s.len() == 10 {
                    Value::Date(t.date_naive())
                } else {
                    Value::DateTime(t)
                }
            })
            .ok_or_else(|| err(culprit, format!("string {} is not a date", v.quoted()))),
        other => Ok(other.clone()),
    }
}

fn is_temporal(v: &Value) -> bool {
    matches!(v, Value::Date(_) | Value::DateTime(_) | Value::Duration(_))
}

/// Coerces ISO strings paired with a date, datetime or duration.
fn coerce_pair(a: &Value, b: &Value) -> Result<(Value, Value), OpError> {
    match (a, b) {
        (Value::Str(_), other) if is_temporal(other) => {
            Ok((as_date_operand(a, Culprit::Left)?, b.clone()))
        }
        (other, Value::Str(_)) if is_temporal(other) => {
            Ok((a.clone(), as_date_operand(b, Culprit::Right)?))
        }
        _ => Ok((a.clone(), b.clone())),
    }
}

/// `==` and `!=`.
pub(crate) fn equals(a: &Value, b: &Value) -> Result<bool, OpError> {
    a.loose_eq(b).ok_or_else(|| {
        let culprit = if matches!(a, Value::Str(_)) {
            Culprit::Left
        } else {
            Culprit::Right
        };
        let s = if culprit == Culprit::Left { a } else { b };
        err(culprit, format!("string {} is not a date", s.quoted()))
    })
}

/// `<`, `<=`, `>`, `>=`.
pub(crate) fn compare(op: BinOp, a: &Value, b: &Value) -> Result<bool, OpError> {
    let (a, b) = coerce_pair(a, b)?;
    let ord = a.loose_cmp(&b).ok_or_else(|| mismatch(op, &a, &b))?;
    Ok(match op {
        BinOp::Lt => ord == Ordering::Less,
        BinOp::Le => ord != Ordering::Greater,
        BinOp::Gt => ord == Ordering::Greater,
        _ => ord != Ordering::Less,
    })
}

/// `in` and `not in` (before negation).
pub(crate) fn contains(needle: &Value, haystack: &Value) -> Result<bool, OpError> {
    match haystack {
        Value::List(items) => {
            for item in items.iter() {
                if needle.loose_eq(item) == Some(true) {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Value::Object(map) => match needle {
            Value::Str(k) => Ok(map.contains_key(k)),
            _ => Err(err(
                Culprit::Left,
                format!("object keys are strings, not {}", needle.type_name()),
            )),
        },
        Value::Str(s) => match needle {
            Value::Str(n) => Ok(s.contains(&**n)),
            _ => Err(err(
                Culprit::Left,
                format!("cannot look for a {} in a string", needle.type_name()),
            )),
        },
        other => Err(err(
            Culprit::Right,
            format!(
                "`in` needs a list, object or string, got {} {}",
                other.type_name(),
                other.quoted()
            ),
        )),
    }
}

fn add_to_date(d: &Value, by: Duration) -> Result<Value, OpError> {
    let delta = TimeDelta::try_seconds(by.seconds)
        .ok_or_else(|| err(Culprit::Right, "duration out of range"))?;
    let out_of_range = || err(Culprit::Both, "date out of range");
    match d {
        Value::Date(date) if by.is_whole_days() => date
            .checked_add_signed(ChronoDuration::days(by.seconds / DAY))
            .map(Value::Date)
            .ok_or_else(out_of_range),
        Value::Date(date) => midnight(*date)
            .checked_add_signed(delta)
            .map(Value::DateTime)
            .ok_or_else(out_of_range),
        Value::DateTime(t) => t
            .checked_add_signed(delta)
            .map(Value::DateTime)
            .ok_or_else(out_of_range),
        _ => Err(out_of_range()),
    }
}

fn between(a: &Value, b: &Value) -> Option<Duration> {
    let (x, y) = (a.to_datetime()?, b.to_datetime()?);
    Some(Duration {
        seconds: (x - y).num_seconds(),
    })
}

/// `+ - * / %`.
pub(crate) fn arithmetic(op: BinOp, a: &Value, b: &Value) -> Result<Value, OpError> {
    use Value::*;
    let (a, b) = coerce_pair(a, b)?;
    let overflow = || err(Culprit::Both, format!("`{}` overflows", op.symbol()));
    match (op, &a, &b) {
        (BinOp::Add, Int(x), Int(y)) => x.checked_add(*y).map(Int).ok_or_else(overflow),
        (BinOp::Sub, Int(x), Int(y)) => x.checked_sub(*y).map(Int).ok_or_else(overflow),
        (BinOp::Mul, Int(x), Int(y)) => x.checked_mul(*y).map(Int).ok_or_else(overflow),
        (BinOp::Div | BinOp::Rem, _, Int(0)) => Err(err(Culprit::Right, "division by zero")),
        (BinOp::Div | BinOp::Rem, _, Float(y)) if *y == 0.0 => {
            Err(err(Culprit::Right, "division by zero"))
        }
        (BinOp::Div, Int(x), Int(y)) if x % y == 0 => Ok(Int(x / y)),
        (BinOp::Rem, Int(x), Int(y)) => Ok(Int(x.rem_euclid(*y))),
        (_, Int(_) | Float(_), Int(_) | Float(_)) => {
            let (x, y) = (a.as_f64().unwrap_or(0.0), b.as_f64().unwrap_or(0.0));
            Ok(Float(match op {
                BinOp::Add => x + y,
                BinOp::Sub => x - y,
                BinOp::Mul => x * y,
                BinOp::Div => x / y,
                _ => x.rem_euclid(y),
            }))
        }
        (BinOp::Add, Str(x), Str(y)) => Ok(Value::str(&format!("{x}{y}"))),
        (BinOp::Add, List(x), List(y)) => {
            Ok(Value::list(x.iter().chain(y.iter()).cloned().collect()))
        }
        (BinOp::Add, Date(_) | DateTime(_), Duration(d)) => add_to_date(&a, *d),
        (BinOp::Add, Duration(d), Date(_) | DateTime(_)) => add_to_date(&b, *d),
        (BinOp::Sub, Date(_) | DateTime(_), Duration(d)) => add_to_date(
            &a,
            self::Duration {
                seconds: -d.seconds,
            },
        ),
        (BinOp::Sub, Date(_) | DateTime(_), Date(_) | DateTime(_)) => {
            between(&a, &b).map(Duration).ok_or_else(overflow)
        }
        (BinOp::Add, Duration(x), Duration(y)) => x
            .seconds
            .checked_add(y.seconds)
            .map(|s| Duration(self::Duration { seconds: s }))
            .ok_or_else(overflow),
        (BinOp::Sub, Duration(x), Duration(y)) => x
            .seconds
            .checked_sub(y.seconds)
            .map(|s| Duration(self::Duration { seconds: s }))
            .ok_or_else(overflow),
        (BinOp::Mul, Duration(d), Int(_) | Float(_))
        | (BinOp::Mul, Int(_) | Float(_), Duration(d)) => {
            let factor = if let Duration(_) = a {
                b.as_f64()
            } else {
                a.as_f64()
            };
            scale(*d, factor.unwrap_or(0.0)).ok_or_else(overflow)
        }
        (BinOp::Div, Duration(d), Int(_) | Float(_)) => {
            scale(*d, 1.0 / b.as_f64().unwrap_or(1.0)).ok_or_else(overflow)
        }
        (BinOp::Div, Duration(x), Duration(y)) if y.seconds != 0 => {
            Ok(Float(x.seconds as f64 / y.seconds as f64))
        }
        (BinOp::Div, Duration(_), Duration(_)) => Err(err(Culprit::Right, "division by zero")),
        _ => Err(mismatch(op, &a, &b)),
    }
}

fn scale(d: Duration, factor: f64) -> Option<Value> {
    let seconds = (d.seconds as f64 * factor).round();
    if seconds.is_finite() && seconds.abs() < i64::MAX as f64 {
        Some(Value::Duration(Duration {
            seconds: seconds as i64,
        }))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::value::parse_date;

    fn date(s: &str) -> Value {
        Value::Date(parse_date(s).unwrap())
    }

    #[test]
    fn date_plus_whole_days_is_a_date() {
        let v = arithmetic(
            BinOp::Add,
            &date("2026-11-20"),
            &Value::Duration(Duration::days(15)),
        )
        .ok()
        .unwrap();
        assert_eq!(v.to_string(), "2026-12-05");
    }

    #[test]
    fn date_minus_date_is_a_duration() {
        let v = arithmetic(BinOp::Sub, &date("2026-11-29"), &date("2026-11-01"))
            .ok()
            .unwrap();
        assert_eq!(v.to_string(), "28d");
    }

    #[test]
    fn iso_strings_coerce_beside_dates_only() {
        let v = arithmetic(
            BinOp::Add,
            &Value::str("2026-11-01"),
            &Value::Duration(Duration::days(1)),
        )
        .ok()
        .unwrap();
        assert_eq!(v.to_string(), "2026-11-02");
        let bad = arithmetic(
            BinOp::Add,
            &Value::str("2026-13-45"),
            &Value::Duration(Duration::days(1)),
        );
        assert!(matches!(
            bad,
            Err(OpError {
                culprit: Culprit::Left,
                ..
            })
        ));
        assert!(arithmetic(BinOp::Add, &Value::str("a"), &Value::Int(1)).is_err());
    }

    #[test]
    fn division_by_zero_is_an_error() {
        assert!(arithmetic(BinOp::Div, &Value::Int(1), &Value::Int(0)).is_err());
        assert!(arithmetic(BinOp::Rem, &Value::Int(1), &Value::Int(0)).is_err());
    }
}
