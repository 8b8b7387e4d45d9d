//! CVSS v3.x: severity bands and base scores from vector strings.

use std::sync::Arc;

use super::{arg, str_arg, Builtin, BuiltinError};
use crate::eval::value::{Map, Value};

builtins! {
    CVSS_SEVERITY = cvss_severity(1, 1) "cvss_severity(score: number) -> string":
        "the CVSS v3 rating of a score from 0.0 to 10.0: none, low, medium, high or critical";
    CVSS_VECTOR = cvss_vector(1, 1) "cvss_vector(v: string) -> object":
        "the metrics of a CVSS v3.0/v3.1 vector string, with its computed base_score and severity";
}

/// The rating band of a score, per the CVSS v3.1 specification, table 14.
fn severity(score: f64) -> Option<&'static str> {
    Some(match score {
        s if !(0.0..=10.0).contains(&s) => return None,
        0.0 => "none",
        s if s < 4.0 => "low",
        s if s < 7.0 => "medium",
        s if s < 9.0 => "high",
        _ => "critical",
    })
}

fn cvss_severity(args: &[Value]) -> Result<Value, BuiltinError> {
    let v = arg(args, 0)?;
    let score = v
        .as_f64()
        .ok_or_else(|| BuiltinError::type_mismatch("cvss_severity", 0, "a number", v))?;
    severity(score)
        .map(Value::str)
        .ok_or_else(|| BuiltinError::at(0, format!("cvss score `{v}` is outside 0.0 to 10.0")))
}

/// Every metric a v3 vector may carry and its allowed values, in the
/// specification's order: base, then temporal, then environmental.
const METRICS: &[(&str, &[&str])] = &[
    ("AV", &["N", "A", "L", "P"]),
    ("AC", &["L", "H"]),
    ("PR", &["N", "L", "H"]),
    ("UI", &["N", "R"]),
    ("S", &["U", "C"]),
    ("C", &["H", "L", "N"]),
    ("I", &["H", "L", "N"]),
    ("A", &["H", "L", "N"]),
    ("E", &["X", "H", "F", "P", "U"]),
    ("RL", &["X", "U", "W", "T", "O"]),
    ("RC", &["X", "C", "R", "U"]),
    ("CR", &["X", "H", "M", "L"]),
    ("IR", &["X", "H", "M", "L"]),
    ("AR", &["X", "H", "M", "L"]),
    ("MAV", &["X", "N", "A", "L", "P"]),
    ("MAC", &["X", "L", "H"]),
    ("MPR", &["X", "N", "L", "H"]),
    ("MUI", &["X", "N", "R"]),
    ("MS", &["X", "U", "C"]),
    ("MC", &["X", "H", "L", "N"]),
    ("MI", &["X", "H", "L", "N"]),
    ("MA", &["X", "H", "L", "N"]),
];

/// The eight base metrics, all required.
const BASE: usize = 8;

/// The specification's Roundup: the smallest one-decimal number >= `x`,
/// computed on integers to avoid floating-point artefacts (v3.1, appendix A).
fn roundup(x: f64) -> f64 {
    let int_input = (x * 100_000.0).round() as i64;
    if int_input % 10_000 == 0 {
        int_input as f64 / 100_000.0
    } else {
        ((int_input / 10_000) + 1) as f64 / 10.0
    }
}

/// The base score from the eight base metric values (in `METRICS` order).
fn base_score(m: &[&str; BASE]) -> f64 {
    let [av, ac, pr, ui, s, c, i, a] = *m;
    let changed = s == "C";
    let av = match av {
        "N" => 0.85,
        "A" => 0.62,
        "L" => 0.55,
        _ => 0.2,
    };
    let ac = if ac == "L" { 0.77 } else { 0.44 };
    let pr = match (pr, changed) {
        ("N", _) => 0.85,
        ("L", false) => 0.62,
        ("L", true) => 0.68,
        (_, false) => 0.27,
        (_, true) => 0.5,
    };
    let ui = if ui == "N" { 0.85 } else { 0.62 };
    let cia = |x: &str| match x {
        "H" => 0.56,
        "L" => 0.22,
        _ => 0.0,
    };
    let iss: f64 = 1.0 - (1.0 - cia(c)) * (1.0 - cia(i)) * (1.0 - cia(a));
    let impact = if changed {
        7.52 * (iss - 0.029) - 3.25 * (iss - 0.02).powi(15)
    } else {
        6.42 * iss
    };
    let exploitability = 8.22 * av * ac * pr * ui;
    if impact <= 0.0 {
        0.0
    } else if changed {
        roundup(f64::min(1.08 * (impact + exploitability), 10.0))
    } else {
        roundup(f64::min(impact + exploitability, 10.0))
    }
}

fn cvss_vector(args: &[Value]) -> Result<Value, BuiltinError> {
    let vector = str_arg("cvss_vector", args, 0)?;
    let bad =
        |why: String| BuiltinError::at(0, format!("`{vector}` is not a CVSS v3 vector: {why}"));
    let mut parts = vector.trim().split('/');
    let version = match parts.next() {
        Some("CVSS:3.1") => "3.1",
        Some("CVSS:3.0") => "3.0",
        _ => return Err(bad("it must start with `CVSS:3.1/` or `CVSS:3.0/`".into())),
    };
    let mut seen: [Option<&str>; METRICS.len()] = [None; METRICS.len()];
    for part in parts {
        let Some((key, value)) = part.split_once(':') else {
            return Err(bad(format!("`{part}` is not METRIC:VALUE")));
        };
        let Some(index) = METRICS.iter().position(|(k, _)| *k == key) else {
            return Err(bad(format!("unknown metric `{key}`")));
        };
        let allowed = METRICS.get(index).map_or(&[][..], |(_, vs)| *vs);
        let Some(value) = allowed.iter().find(|v| **v == value) else {
            return Err(bad(format!(
                "`{value}` is not a value of `{key}` (expected one of {})",
                allowed.join(", ")
            )));
        };
        match seen.get_mut(index) {
            Some(slot @ None) => *slot = Some(value),
            _ => return Err(bad(format!("metric `{key}` appears twice"))),
        }
    }
    let mut base = [""; BASE];
    for (k, slot) in base.iter_mut().enumerate() {
        match (seen.get(k).copied().flatten(), METRICS.get(k)) {
            (Some(v), _) => *slot = v,
            (None, Some((key, _))) => return Err(bad(format!("base metric `{key}` is missing"))),
            (None, None) => return Err(bad("a base metric is missing".into())),
        }
    }
    let score = base_score(&base);
    let mut out = Map::new();
    out.insert(Arc::from("version"), Value::str(version));
    for ((key, _), value) in METRICS.iter().zip(seen.iter()) {
        if let Some(v) = value {
            out.insert(Arc::from(*key), Value::str(v));
        }
    }
    out.insert(Arc::from("base_score"), Value::Float(score));
    out.insert(
        Arc::from("severity"),
        Value::str(severity(score).unwrap_or("none")),
    );
    Ok(Value::Object(Arc::new(out)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::show;

    fn score(vector: &str) -> f64 {
        match cvss_vector(&[Value::str(vector)]) {
            Ok(v) => v.get("base_score").and_then(Value::as_f64).unwrap(),
            Err(e) => panic!("{vector}: {}", e.message),
        }
    }

    #[test]
    fn severity_bands() {
        let band = |x: f64| show(cvss_severity(&[Value::Float(x)]));
        assert_eq!(band(0.0), "\"none\"");
        assert_eq!(band(0.1), "\"low\"");
        assert_eq!(band(3.9), "\"low\"");
        assert_eq!(band(4.0), "\"medium\"");
        assert_eq!(band(6.9), "\"medium\"");
        assert_eq!(band(7.0), "\"high\"");
        assert_eq!(band(8.9), "\"high\"");
        assert_eq!(band(9.0), "\"critical\"");
        assert_eq!(show(cvss_severity(&[Value::Int(10)])), "\"critical\"");
    }

    #[test]
    fn severity_errors() {
        assert_eq!(
            show(cvss_severity(&[Value::Float(10.5)])),
            "@0: cvss score `10.5` is outside 0.0 to 10.0"
        );
        assert_eq!(
            show(cvss_severity(&[Value::Int(-1)])),
            "@0: cvss score `-1` is outside 0.0 to 10.0"
        );
        assert!(cvss_severity(&[Value::Float(f64::NAN)]).is_err());
        assert_eq!(
            show(cvss_severity(&[Value::str("9.8")])),
            "@0: `cvss_severity` expects a number, got string"
        );
    }

    #[test]
    fn base_scores_match_published_values() {
        let known = [
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
            ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4),
            ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
            ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 5.9),
            ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5),
            ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N", 0.0),
            ("CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.8),
        ];
        for (vector, want) in known {
            assert_eq!(score(vector), want, "{vector}");
        }
    }

    #[test]
    fn roundup_avoids_float_artefacts() {
        assert_eq!(roundup(4.000_000_000_000_001), 4.0);
        assert_eq!(roundup(4.02), 4.1);
        assert_eq!(roundup(4.0), 4.0);
    }

    #[test]
    fn a_vector_becomes_an_object() {
        let v = cvss_vector(&[Value::str(
            "CVSS:3.1/S:U/AV:N/AC:L/PR:N/UI:N/C:H/I:H/A:H/E:P",
        )]);
        assert_eq!(
            show(v),
            "{version: \"3.1\", AV: \"N\", AC: \"L\", PR: \"N\", UI: \"N\", S: \"U\", C: \"H\", I: \"H\", A: \"H\", \
             E: \"P\", base_score: 9.8, severity: \"critical\"}"
        );
    }

    #[test]
    fn malformed_vectors_are_errors() {
        let err = |v: &str| show(cvss_vector(&[Value::str(v)]));
        assert_eq!(
            err("AV:N/AC:L"),
            "@0: `AV:N/AC:L` is not a CVSS v3 vector: it must start with `CVSS:3.1/` or `CVSS:3.0/`"
        );
        let base = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H";
        assert!(err(base).ends_with("base metric `A` is missing"));
        assert!(err(&format!("{base}/A:H/A:H")).ends_with("metric `A` appears twice"));
        assert!(err(&format!("{base}/A:Q"))
            .ends_with("`Q` is not a value of `A` (expected one of H, L, N)"));
        assert!(err(&format!("{base}/A:H/ZZ:1")).ends_with("unknown metric `ZZ`"));
        assert!(err(&format!("{base}/A:H/")).ends_with("`` is not METRIC:VALUE"));
        assert!(err("CVSS:2.0/AV:N").contains("must start with"));
        assert!(err("CVSS:3.1/AV:N:L").contains("not a value of `AV`"));
        assert_eq!(
            show(cvss_vector(&[Value::Null])),
            "@0: `cvss_vector` expects a string, got null"
        );
    }
}
