//! Dates, datetimes and durations: conversions and calendar arithmetic.

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc, Weekday};

use super::{arg, int_arg, list_arg, Builtin, BuiltinError};
use crate::eval::value::{parse_date, Value, DAY};

builtins! {
    DAYS = days(1, 1) "days(d: duration) -> number":
        "a duration in days: an integer when whole, else a decimal";
    HOURS = hours(1, 1) "hours(d: duration) -> number":
        "a duration in hours: an integer when whole, else a decimal";
    DATE = date(1, 1) "date(x: string | date | datetime) -> date":
        "the calendar date (UTC) of a date, a datetime or an ISO-8601 string";
    DATETIME = datetime(1, 1) "datetime(x: string | date | datetime) -> datetime":
        "the instant of a datetime, a date (at 00:00 UTC) or an ISO-8601 string";
    DAYS_BETWEEN = days_between(2, 2) "days_between(a: date | datetime, b: date | datetime) -> int":
        "whole days elapsed from a to b (negative when b is earlier), partial days dropped";
    ADD_MONTHS = add_months(2, 2) "add_months(d: date | datetime, n: int) -> date | datetime":
        "d moved by n calendar months (n may be negative), clamped to the month's last day";
    BUSINESS_DAYS = business_days(2, 3) "business_days(a: date, b: date, holidays: [date] = []) -> int":
        "business days (Monday to Friday, not in holidays) elapsed from a to b: those after a up to and including b, negative when b is earlier";
    ADD_BUSINESS_DAYS = add_business_days(2, 3) "add_business_days(d: date, n: int, holidays: [date] = []) -> date":
        "the date n business days (Monday to Friday, not in holidays) after d, or before it when n is negative";
}

/// A duration argument's seconds.
fn duration_seconds(func: &str, args: &[Value]) -> Result<i64, BuiltinError> {
    match arg(args, 0)? {
        Value::Duration(d) => Ok(d.seconds),
        other => Err(BuiltinError::type_mismatch(func, 0, "a duration", other)),
    }
}

/// `seconds / unit` as an integer when exact, else a decimal.
fn in_units(seconds: i64, unit: i64) -> Value {
    if seconds % unit == 0 {
        Value::Int(seconds / unit)
    } else {
        Value::Float(seconds as f64 / unit as f64)
    }
}

fn days(args: &[Value]) -> Result<Value, BuiltinError> {
    Ok(in_units(duration_seconds("days", args)?, DAY))
}

fn hours(args: &[Value]) -> Result<Value, BuiltinError> {
    Ok(in_units(duration_seconds("hours", args)?, 3600))
}

const DATE_LIKE: &str = "a date, datetime or ISO-8601 string";

/// Argument `i` as an instant, naming the value when a string does not parse.
fn instant_arg(func: &str, args: &[Value], i: usize) -> Result<DateTime<Utc>, BuiltinError> {
    let v = arg(args, i)?;
    match v {
        Value::Date(_) | Value::DateTime(_) | Value::Str(_) => v
            .to_datetime()
            .ok_or_else(|| BuiltinError::at(i, format!("string `{v}` is not a date"))),
        other => Err(BuiltinError::type_mismatch(func, i, DATE_LIKE, other)),
    }
}

fn date(args: &[Value]) -> Result<Value, BuiltinError> {
    let v = arg(args, 0)?;
    match v {
        Value::Date(_) | Value::DateTime(_) | Value::Str(_) => v
            .to_date()
            .map(Value::Date)
            .ok_or_else(|| BuiltinError::at(0, format!("string `{v}` is not a date"))),
        other => Err(BuiltinError::type_mismatch("date", 0, DATE_LIKE, other)),
    }
}

fn datetime(args: &[Value]) -> Result<Value, BuiltinError> {
    let v = arg(args, 0)?;
    match v {
        Value::Date(_) | Value::DateTime(_) | Value::Str(_) => v
            .to_datetime()
            .map(Value::DateTime)
            .ok_or_else(|| BuiltinError::at(0, format!("string `{v}` is not a datetime"))),
        other => Err(BuiltinError::type_mismatch("datetime", 0, DATE_LIKE, other)),
    }
}

fn days_between(args: &[Value]) -> Result<Value, BuiltinError> {
    let a = instant_arg("days_between", args, 0)?;
    let b = instant_arg("days_between", args, 1)?;
    // Both lie within chrono's range, so the difference fits in i64 seconds.
    let seconds = b.timestamp() - a.timestamp();
    Ok(Value::Int(seconds / DAY))
}

/// `d` moved by `n` months, or `None` when out of range.
fn shift_months<T>(
    d: T,
    n: i64,
    add: fn(T, Months) -> Option<T>,
    sub: fn(T, Months) -> Option<T>,
) -> Option<T> {
    let months = Months::new(u32::try_from(n.unsigned_abs()).ok()?);
    if n >= 0 {
        add(d, months)
    } else {
        sub(d, months)
    }
}

fn add_months(args: &[Value]) -> Result<Value, BuiltinError> {
    let d = arg(args, 0)?;
    let n = int_arg("add_months", args, 1)?;
    let out_of_range = || {
        BuiltinError::at(
            1,
            format!("`add_months` of {n} months from `{d}` is out of range"),
        )
    };
    match d {
        Value::Date(day) => shift_months(
            *day,
            n,
            NaiveDate::checked_add_months,
            NaiveDate::checked_sub_months,
        )
        .map(Value::Date)
        .ok_or_else(out_of_range),
        Value::DateTime(t) => shift_months(
            *t,
            n,
            DateTime::checked_add_months,
            DateTime::checked_sub_months,
        )
        .map(Value::DateTime)
        .ok_or_else(out_of_range),
        Value::Str(s) => {
            let parsed = match parse_date(s) {
                Some(day) => Value::Date(day),
                None => match d.to_datetime() {
                    Some(t) => Value::DateTime(t),
                    None => return Err(BuiltinError::at(0, format!("string `{s}` is not a date"))),
                },
            };
            add_months(&[parsed, Value::Int(n)])
        }
        other => Err(BuiltinError::type_mismatch(
            "add_months",
            0,
            DATE_LIKE,
            other,
        )),
    }
}

/// Argument `i` as a calendar date (a datetime's UTC date), naming a bad string.
fn date_arg(func: &str, args: &[Value], i: usize) -> Result<NaiveDate, BuiltinError> {
    let v = arg(args, i)?;
    match v {
        Value::Date(_) | Value::DateTime(_) | Value::Str(_) => v
            .to_date()
            .ok_or_else(|| BuiltinError::at(i, format!("string `{v}` is not a date"))),
        other => Err(BuiltinError::type_mismatch(func, i, DATE_LIKE, other)),
    }
}

/// The optional holiday list (argument 2), as sorted distinct dates.
fn holidays_arg(func: &str, args: &[Value]) -> Result<Vec<NaiveDate>, BuiltinError> {
    if args.len() < 3 {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for item in list_arg(func, args, 2)? {
        match item {
            Value::Date(_) | Value::DateTime(_) | Value::Str(_) => {
                out.push(item.to_date().ok_or_else(|| {
                    BuiltinError::at(2, format!("holiday `{item}` is not a date"))
                })?)
            }
            other => {
                return Err(BuiltinError::at(
                    2,
                    format!(
                        "`{func}` expects holidays to be dates, got {}",
                        other.type_name()
                    ),
                ))
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Whether `d` is a business day: a weekday not among the (sorted) holidays.
fn is_business_day(d: NaiveDate, holidays: &[NaiveDate]) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && holidays.binary_search(&d).is_err()
}

/// Business days in `(a, b]`, for `a <= b`, in time independent of the span.
fn business_days_after(a: NaiveDate, b: NaiveDate, holidays: &[NaiveDate]) -> i64 {
    let span = (b - a).num_days();
    let weeks = span / 7;
    let mut count = weeks * 5;
    let mut d = a + chrono::Duration::days(weeks * 7);
    for _ in 0..span % 7 {
        d = d.succ_opt().unwrap_or(d);
        if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
            count += 1;
        }
    }
    let closed = holidays
        .iter()
        .filter(|h| **h > a && **h <= b && !matches!(h.weekday(), Weekday::Sat | Weekday::Sun))
        .count();
    count - closed as i64
}

fn business_days(args: &[Value]) -> Result<Value, BuiltinError> {
    let a = date_arg("business_days", args, 0)?;
    let b = date_arg("business_days", args, 1)?;
    let holidays = holidays_arg("business_days", args)?;
    Ok(Value::Int(if a <= b {
        business_days_after(a, b, &holidays)
    } else {
        -business_days_after(b, a, &holidays)
    }))
}

/// Most business days `add_business_days` moves, about four centuries.
const MAX_BUSINESS_DAYS: i64 = 100_000;

fn add_business_days(args: &[Value]) -> Result<Value, BuiltinError> {
    let mut d = date_arg("add_business_days", args, 0)?;
    let n = int_arg("add_business_days", args, 1)?;
    let holidays = holidays_arg("add_business_days", args)?;
    if n.abs() > MAX_BUSINESS_DAYS {
        return Err(BuiltinError::at(
            1,
            format!("`add_business_days` moves at most {MAX_BUSINESS_DAYS} business days, got {n}"),
        ));
    }
    let start = d;
    let mut left = n.abs();
    while left > 0 {
        d = if n > 0 { d.succ_opt() } else { d.pred_opt() }.ok_or_else(|| {
            BuiltinError::at(
                1,
                format!("`add_business_days` of {n} from `{start}` is out of range"),
            )
        })?;
        if is_business_day(d, &holidays) {
            left -= 1;
        }
    }
    Ok(Value::Date(d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::show;
    use crate::eval::value::{parse_datetime, Duration};

    fn d(s: &str) -> Value {
        Value::Date(parse_date(s).unwrap())
    }

    fn t(s: &str) -> Value {
        Value::DateTime(parse_datetime(s).unwrap())
    }

    fn dur(seconds: i64) -> Value {
        Value::Duration(Duration { seconds })
    }

    #[test]
    fn days_and_hours_of_durations() {
        assert_eq!(show(days(&[dur(15 * DAY)])), "15");
        assert_eq!(show(days(&[dur(36 * 3600)])), "1.5");
        assert_eq!(show(days(&[dur(-DAY)])), "-1");
        assert_eq!(show(hours(&[dur(DAY)])), "24");
        assert_eq!(show(hours(&[dur(90 * 60)])), "1.5");
        assert_eq!(
            show(days(&[Value::Int(3)])),
            "@0: `days` expects a duration, got number"
        );
        assert_eq!(
            show(hours(&[Value::str("1h")])),
            "@0: `hours` expects a duration, got string"
        );
    }

    #[test]
    fn date_converts_and_names_bad_strings() {
        assert_eq!(show(date(&[Value::str("2026-11-29")])), "2026-11-29");
        assert_eq!(
            show(date(&[Value::str("2026-11-29T23:30:00-02:00")])),
            "2026-11-30"
        );
        assert_eq!(show(date(&[t("2026-11-29T08:30:00Z")])), "2026-11-29");
        assert_eq!(show(date(&[d("2026-11-29")])), "2026-11-29");
        assert_eq!(
            show(date(&[Value::str("2026-13-45")])),
            "@0: string `2026-13-45` is not a date"
        );
        assert_eq!(
            show(date(&[Value::Int(20261129)])),
            "@0: `date` expects a date, datetime or ISO-8601 string, got number"
        );
    }

    #[test]
    fn datetime_converts_and_names_bad_strings() {
        assert_eq!(show(datetime(&[d("2026-11-29")])), "2026-11-29T00:00:00Z");
        assert_eq!(
            show(datetime(&[Value::str("2026-11-29T08:30:00+01:00")])),
            "2026-11-29T07:30:00Z"
        );
        assert_eq!(
            show(datetime(&[Value::str("2026-11-29")])),
            "2026-11-29T00:00:00Z"
        );
        assert_eq!(
            show(datetime(&[Value::str("2026-11-29T08:30:00")])),
            "@0: string `2026-11-29T08:30:00` is not a datetime"
        );
        assert_eq!(
            show(datetime(&[Value::Null])),
            "@0: `datetime` expects a date, datetime or ISO-8601 string, got null"
        );
    }

    #[test]
    fn days_between_counts_whole_days() {
        assert_eq!(
            show(days_between(&[d("2026-01-01"), d("2026-03-01")])),
            "59"
        );
        assert_eq!(
            show(days_between(&[d("2026-03-01"), Value::str("2026-01-01")])),
            "-59"
        );
        assert_eq!(
            show(days_between(&[t("2026-01-01T10:00:00Z"), d("2026-01-31")])),
            "29"
        );
        assert_eq!(
            show(days_between(&[
                t("2026-01-31T00:00:00Z"),
                t("2026-01-01T10:00:00Z")
            ])),
            "-29"
        );
        assert_eq!(
            show(days_between(&[d("2026-01-01"), Value::str("soon")])),
            "@1: string `soon` is not a date"
        );
        assert_eq!(
            show(days_between(&[Value::Int(1), d("2026-01-01")])),
            "@0: `days_between` expects a date, datetime or ISO-8601 string, got number"
        );
    }

    #[test]
    fn add_months_clamps_to_month_end() {
        assert_eq!(
            show(add_months(&[d("2026-01-31"), Value::Int(1)])),
            "2026-02-28"
        );
        assert_eq!(
            show(add_months(&[d("2028-01-31"), Value::Int(1)])),
            "2028-02-29"
        );
        assert_eq!(
            show(add_months(&[d("2026-03-31"), Value::Int(-1)])),
            "2026-02-28"
        );
        assert_eq!(
            show(add_months(&[d("2026-05-15"), Value::Int(-17)])),
            "2024-12-15"
        );
        assert_eq!(
            show(add_months(&[d("2026-05-15"), Value::Int(0)])),
            "2026-05-15"
        );
        assert_eq!(
            show(add_months(&[Value::str("2026-01-31"), Value::Float(12.0)])),
            "2027-01-31"
        );
        assert_eq!(
            show(add_months(&[t("2026-01-31T12:00:00Z"), Value::Int(1)])),
            "2026-02-28T12:00:00Z"
        );
        assert_eq!(
            show(add_months(&[
                Value::str("2026-01-31T12:00:00Z"),
                Value::Int(1)
            ])),
            "2026-02-28T12:00:00Z"
        );
    }

    #[test]
    fn add_months_errors() {
        assert_eq!(
            show(add_months(&[d("2026-01-31"), Value::Int(i64::MAX)])),
            "@1: `add_months` of 9223372036854775807 months from `2026-01-31` is out of range"
        );
        assert!(add_months(&[d("2026-01-31"), Value::Int(i64::MIN)]).is_err());
        assert!(add_months(&[d("2026-01-31"), Value::Int(4_000_000_000)]).is_err());
        assert_eq!(
            show(add_months(&[Value::str("31/01/2026"), Value::Int(1)])),
            "@0: string `31/01/2026` is not a date"
        );
        assert_eq!(
            show(add_months(&[d("2026-01-31"), Value::Float(0.5)])),
            "@1: `add_months` expects a whole number, got `0.5`"
        );
        assert_eq!(
            show(add_months(&[d("2026-01-31"), Value::str("1")])),
            "@1: `add_months` expects a whole number, got string"
        );
        assert_eq!(
            show(add_months(&[Value::Bool(true), Value::Int(1)])),
            "@0: `add_months` expects a date, datetime or ISO-8601 string, got bool"
        );
    }
}

#[cfg(test)]
mod business_day_tests {
    use super::*;
    use crate::builtins::show;

    fn d(s: &str) -> Value {
        Value::Date(parse_date(s).unwrap())
    }

    fn days(list: &[&str]) -> Value {
        Value::list(list.iter().map(|s| Value::str(s)).collect())
    }

    // 2026-11-27 is a Friday, 2026-11-30 a Monday.
    #[test]
    fn business_days_skip_weekends_and_holidays() {
        assert_eq!(
            show(business_days(&[d("2026-11-27"), d("2026-11-30")])),
            "1"
        );
        assert_eq!(
            show(business_days(&[d("2026-11-30"), d("2026-12-04")])),
            "4"
        );
        assert_eq!(
            show(business_days(&[d("2026-11-30"), d("2026-11-27")])),
            "-1"
        );
        assert_eq!(
            show(business_days(&[d("2026-11-28"), d("2026-11-29")])),
            "0"
        );
        assert_eq!(
            show(business_days(&[d("2026-11-30"), d("2026-11-30")])),
            "0"
        );
        assert_eq!(
            show(business_days(&[d("2026-01-01"), d("2027-01-01")])),
            "261"
        );
        // Thanksgiving (Thursday) and a holiday on a Saturday, listed twice.
        let holidays = days(&["2026-11-26", "2026-11-28", "2026-11-26"]);
        assert_eq!(
            show(business_days(&[d("2026-11-23"), d("2026-11-30"), holidays])),
            "4"
        );
    }

    #[test]
    fn add_business_days_inverts_business_days() {
        let holidays = days(&["2026-12-25", "2027-01-01"]);
        for start in ["2026-11-27", "2026-11-28", "2026-12-21"] {
            for n in [0, 1, 4, 5, 6, 23] {
                let end = add_business_days(&[d(start), Value::Int(n), holidays.clone()]).unwrap();
                let back = business_days(&[d(start), end, holidays.clone()]);
                assert_eq!(show(back), n.to_string(), "{start} + {n}");
            }
        }
        assert_eq!(
            show(add_business_days(&[d("2026-11-27"), Value::Int(1)])),
            "2026-11-30"
        );
        assert_eq!(
            show(add_business_days(&[d("2026-11-30"), Value::Int(-1)])),
            "2026-11-27"
        );
        assert_eq!(
            show(add_business_days(&[d("2026-11-28"), Value::Int(0)])),
            "2026-11-28"
        );
        assert_eq!(
            show(add_business_days(&[
                d("2026-12-24"),
                Value::Int(1),
                holidays
            ])),
            "2026-12-28"
        );
    }

    #[test]
    fn business_day_errors_name_the_argument() {
        assert_eq!(
            show(business_days(&[d("2026-11-27"), Value::str("soon")])),
            "@1: string `soon` is not a date"
        );
        assert_eq!(
            show(business_days(&[
                d("2026-11-27"),
                d("2026-11-30"),
                days(&["xmas"])
            ])),
            "@2: holiday `xmas` is not a date"
        );
        assert_eq!(
            show(business_days(&[
                d("2026-11-27"),
                d("2026-11-30"),
                Value::list(vec![Value::Int(1)])
            ])),
            "@2: `business_days` expects holidays to be dates, got number"
        );
        assert_eq!(
            show(add_business_days(&[d("2026-11-27"), Value::Int(1_000_000)])),
            "@1: `add_business_days` moves at most 100000 business days, got 1000000"
        );
        assert_eq!(
            show(add_business_days(&[Value::Int(3), Value::Int(1)])),
            "@0: `add_business_days` expects a date, datetime or ISO-8601 string, got number"
        );
    }
}
