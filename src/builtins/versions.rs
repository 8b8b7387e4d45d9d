//! Version ordering: SemVer 2.0.0, Debian (dpkg) and RPM (rpmvercmp).

use std::cmp::Ordering;

use super::{arg, str_arg, Builtin, BuiltinError};
use crate::eval::value::Value;

builtins! {
    VERSION_COMPARE = version_compare(2, 3) "version_compare(a: string, b: string, scheme: string = \"semver\") -> int":
        "-1, 0 or 1 as version a is older than, equal to or newer than b under \"semver\", \"deb\" or \"rpm\" rules";
}

fn version_compare(args: &[Value]) -> Result<Value, BuiltinError> {
    let a = str_arg("version_compare", args, 0)?;
    let b = str_arg("version_compare", args, 1)?;
    let scheme = match args.get(2) {
        None => "semver",
        Some(_) => str_arg("version_compare", args, 2)?,
    };
    let order = match scheme {
        "semver" => semver::compare(a, b),
        "deb" => deb::compare(a, b),
        "rpm" => rpm::compare(a, b),
        other => {
            return Err(BuiltinError::at(
                2,
                format!("unknown version scheme `{other}`; expected `semver`, `deb` or `rpm`"),
            ))
        }
    }
    .map_err(|(i, why)| {
        let v = arg(args, i).map(|v| v.to_string()).unwrap_or_default();
        BuiltinError::at(i, format!("`{v}` is not a valid {scheme} version: {why}"))
    })?;
    Ok(Value::Int(match order {
        Ordering::Less => -1,
        Ordering::Equal => 0,
        Ordering::Greater => 1,
    }))
}

/// Which argument (0 or 1) was malformed, and why.
type Malformed = (usize, &'static str);

/// Compares two runs of ASCII digits as numbers of any size.
fn cmp_digits(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit())
}

/// Splits off an `epoch:` prefix (digits), as dpkg and rpm write it.
fn split_epoch(v: &str) -> Result<(&str, &str), &'static str> {
    match v.split_once(':') {
        Some((epoch, rest)) if all_digits(epoch) => Ok((epoch, rest)),
        Some(_) => Err("the epoch before `:` must be a number"),
        None => Ok(("0", v)),
    }
}

mod semver {
    use super::*;

    /// A parsed version: numeric core, pre-release identifiers (build dropped).
    struct Version<'a> {
        core: [&'a str; 3],
        pre: Vec<&'a str>,
    }

    fn identifier_ok(id: &str) -> bool {
        !id.is_empty() && id.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
    }

    fn number_ok(n: &str) -> bool {
        all_digits(n) && (n == "0" || !n.starts_with('0'))
    }

    fn parse(v: &str) -> Result<Version<'_>, &'static str> {
        let v = v.strip_prefix('v').unwrap_or(v);
        let (v, build) = match v.split_once('+') {
            Some((v, build)) => (v, Some(build)),
            None => (v, None),
        };
        if let Some(build) = build {
            if !build.split('.').all(identifier_ok) {
                return Err("bad build metadata after `+`");
            }
        }
        let (core, pre) = match v.split_once('-') {
            Some((core, pre)) => (core, Some(pre)),
            None => (v, None),
        };
        let mut parts = core.split('.');
        let (Some(major), Some(minor), Some(patch), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err("expected MAJOR.MINOR.PATCH");
        };
        if ![major, minor, patch].iter().all(|n| number_ok(n)) {
            return Err("MAJOR.MINOR.PATCH must be numbers without leading zeros");
        }
        let pre: Vec<&str> = match pre {
            Some(pre) => pre.split('.').collect(),
            None => Vec::new(),
        };
        for id in &pre {
            if !identifier_ok(id) || (all_digits(id) && !number_ok(id)) {
                return Err("bad pre-release identifier after `-`");
            }
        }
        Ok(Version {
            core: [major, minor, patch],
            pre,
        })
    }

    fn cmp_identifier(a: &str, b: &str) -> Ordering {
        match (all_digits(a), all_digits(b)) {
            (true, true) => cmp_digits(a, b),
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) => a.cmp(b),
        }
    }

    /// SemVer 2.0.0 precedence (section 11).
    pub(super) fn compare(a: &str, b: &str) -> Result<Ordering, Malformed> {
        let a = parse(a).map_err(|why| (0, why))?;
        let b = parse(b).map_err(|why| (1, why))?;
        for (x, y) in a.core.iter().zip(b.core.iter()) {
            let o = cmp_digits(x, y);
            if o != Ordering::Equal {
                return Ok(o);
            }
        }
        Ok(match (a.pre.is_empty(), b.pre.is_empty()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => {
                for (x, y) in a.pre.iter().zip(b.pre.iter()) {
                    let o = cmp_identifier(x, y);
                    if o != Ordering::Equal {
                        return Ok(o);
                    }
                }
                a.pre.len().cmp(&b.pre.len())
            }
        })
    }
}

mod deb {
    use super::*;

    /// dpkg's weight of a non-digit character: `~` lowest, end of string next,
    /// then letters, then everything else.
    fn order(c: Option<u8>) -> i32 {
        match c {
            None => 0,
            Some(c) if c.is_ascii_digit() => 0,
            Some(c) if c.is_ascii_alphabetic() => i32::from(c),
            Some(b'~') => -1,
            Some(c) => i32::from(c) + 256,
        }
    }

    /// dpkg's `verrevcmp`: alternating non-digit and digit runs.
    pub(super) fn verrevcmp(a: &str, b: &str) -> Ordering {
        let (a, b) = (a.as_bytes(), b.as_bytes());
        let (mut i, mut j) = (0, 0);
        let digit = |s: &[u8], k: usize| s.get(k).is_some_and(u8::is_ascii_digit);
        let non_digit = |s: &[u8], k: usize| s.get(k).is_some_and(|c| !c.is_ascii_digit());
        while i < a.len() || j < b.len() {
            while non_digit(a, i) || non_digit(b, j) {
                let (ac, bc) = (order(a.get(i).copied()), order(b.get(j).copied()));
                if ac != bc {
                    return ac.cmp(&bc);
                }
                i += 1;
                j += 1;
            }
            while a.get(i) == Some(&b'0') {
                i += 1;
            }
            while b.get(j) == Some(&b'0') {
                j += 1;
            }
            let mut first_diff = Ordering::Equal;
            while digit(a, i) && digit(b, j) {
                if first_diff == Ordering::Equal {
                    first_diff = a.get(i).cmp(&b.get(j));
                }
                i += 1;
                j += 1;
            }
            if digit(a, i) {
                return Ordering::Greater;
            }
            if digit(b, j) {
                return Ordering::Less;
            }
            if first_diff != Ordering::Equal {
                return first_diff;
            }
        }
        Ordering::Equal
    }

    /// `[epoch:]upstream[-revision]`, checked as dpkg checks it.
    fn parse(v: &str) -> Result<(&str, &str, &str), &'static str> {
        let v = v.trim();
        let (epoch, rest) = split_epoch(v)?;
        let (upstream, revision) = match rest.rsplit_once('-') {
            Some((_, "")) => return Err("the revision after `-` is empty"),
            Some((u, r)) => (u, r),
            None => (rest, ""),
        };
        if upstream.is_empty() {
            return Err("the version is empty");
        }
        let ok = |c: char| c.is_ascii_alphanumeric() || ".+~-:".contains(c);
        if !upstream.chars().all(ok) || !revision.chars().all(|c| c != '-' && c != ':' && ok(c)) {
            return Err("only letters, digits and `.+~-:` are allowed");
        }
        Ok((epoch, upstream, revision))
    }

    /// dpkg's version comparison: epoch, then upstream, then revision.
    pub(super) fn compare(a: &str, b: &str) -> Result<Ordering, Malformed> {
        let (ea, ua, ra) = parse(a).map_err(|why| (0, why))?;
        let (eb, ub, rb) = parse(b).map_err(|why| (1, why))?;
        Ok(cmp_digits(ea, eb)
            .then_with(|| verrevcmp(ua, ub))
            .then_with(|| verrevcmp(ra, rb)))
    }
}

mod rpm {
    use super::*;

    /// rpm's `rpmvercmp` (4.15+, with `~` and `^`): alphanumeric segments,
    /// numbers above letters, `~` before anything, `^` after the base version.
    pub(super) fn rpmvercmp(a: &str, b: &str) -> Ordering {
        if a == b {
            return Ordering::Equal;
        }
        let (a, b) = (a.as_bytes(), b.as_bytes());
        let (mut i, mut j) = (0, 0);
        let sep = |c: Option<&u8>| {
            c.is_some_and(|c| !c.is_ascii_alphanumeric() && *c != b'~' && *c != b'^')
        };
        loop {
            while sep(a.get(i)) {
                i += 1;
            }
            while sep(b.get(j)) {
                j += 1;
            }
            let (x, y) = (a.get(i).copied(), b.get(j).copied());
            if x == Some(b'~') || y == Some(b'~') {
                if x != Some(b'~') {
                    return Ordering::Greater;
                }
                if y != Some(b'~') {
                    return Ordering::Less;
                }
                i += 1;
                j += 1;
                continue;
            }
            if x == Some(b'^') || y == Some(b'^') {
                if x.is_none() {
                    return Ordering::Less;
                }
                if y.is_none() {
                    return Ordering::Greater;
                }
                if x != Some(b'^') {
                    return Ordering::Greater;
                }
                if y != Some(b'^') {
                    return Ordering::Less;
                }
                i += 1;
                j += 1;
                continue;
            }
            let (Some(x), Some(_)) = (x, y) else {
                break;
            };
            let numeric = x.is_ascii_digit();
            let (sa, sb) = (segment(a, i, numeric), segment(b, j, numeric));
            if sb.is_empty() {
                // One numeric, one alphabetic: the number is newer.
                return if numeric {
                    Ordering::Greater
                } else {
                    Ordering::Less
                };
            }
            i += sa.len();
            j += sb.len();
            let o = if numeric {
                let strip = |s: &[u8]| s.iter().position(|c| *c != b'0').map_or(0, |p| s.len() - p);
                let (la, lb) = (strip(sa), strip(sb));
                la.cmp(&lb)
                    .then_with(|| sa.get(sa.len() - la..).cmp(&sb.get(sb.len() - lb..)))
            } else {
                sa.cmp(sb)
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        match (a.get(i), b.get(j)) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), _) => Ordering::Greater,
        }
    }

    /// The run of digits (or of letters) starting at `k`.
    fn segment(s: &[u8], k: usize, numeric: bool) -> &[u8] {
        let rest = s.get(k..).unwrap_or(&[]);
        let len = rest
            .iter()
            .take_while(|c| {
                if numeric {
                    c.is_ascii_digit()
                } else {
                    c.is_ascii_alphabetic()
                }
            })
            .count();
        rest.get(..len).unwrap_or(&[])
    }

    /// `[epoch:]version[-release]`.
    fn parse(v: &str) -> Result<(&str, &str, Option<&str>), &'static str> {
        let (epoch, rest) = split_epoch(v.trim())?;
        let (version, release) = match rest.rsplit_once('-') {
            Some((_, "")) => return Err("the release after `-` is empty"),
            Some((v, r)) => (v, Some(r)),
            None => (rest, None),
        };
        if version.is_empty() {
            return Err("the version is empty");
        }
        Ok((epoch, version, release))
    }

    /// rpm's EVR comparison; the release counts only when both have one.
    pub(super) fn compare(a: &str, b: &str) -> Result<Ordering, Malformed> {
        let (ea, va, ra) = parse(a).map_err(|why| (0, why))?;
        let (eb, vb, rb) = parse(b).map_err(|why| (1, why))?;
        Ok(cmp_digits(ea, eb)
            .then_with(|| rpmvercmp(va, vb))
            .then_with(|| match (ra, rb) {
                (Some(x), Some(y)) => rpmvercmp(x, y),
                _ => Ordering::Equal,
            }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::{Equal, Greater, Less};

    fn vc(a: &str, b: &str, scheme: &str) -> Result<Value, BuiltinError> {
        version_compare(&[Value::str(a), Value::str(b), Value::str(scheme)])
    }

    fn check(scheme: &str, cases: &[(&str, &str, i64)]) {
        for (a, b, want) in cases {
            let got = vc(a, b, scheme).unwrap();
            assert!(
                matches!(got, Value::Int(n) if n == *want),
                "{scheme}: {a} vs {b}: got {got}, want {want}"
            );
            let back = vc(b, a, scheme).unwrap();
            assert!(
                matches!(back, Value::Int(n) if n == -*want),
                "{scheme}: {b} vs {a} not antisymmetric"
            );
        }
    }

    #[test]
    fn semver_follows_the_specs_ordering() {
        let chain = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "2.0.0",
            "2.1.0",
            "2.1.1",
        ];
        for pair in chain.windows(2) {
            check("semver", &[(pair[0], pair[1], -1)]);
        }
        check(
            "semver",
            &[
                ("1.0.0+build.1", "1.0.0+build.2", 0),
                ("v1.2.3", "1.2.3", 0),
                ("1.10.0", "1.9.0", 1),
                ("1.0.0-alpha-1", "1.0.0-alpha", 1),
                ("99999999999999999999999.0.0", "9.0.0", 1),
            ],
        );
        let default = version_compare(&[Value::str("1.0.0"), Value::str("1.0.0-rc.1")]).unwrap();
        assert!(matches!(default, Value::Int(1)));
    }

    #[test]
    fn semver_rejects_malformed_versions() {
        for bad in [
            "1.0",
            "1.0.0.0",
            "01.0.0",
            "1.0.0-",
            "1.0.0-01",
            "1.0.0+",
            "1.0.0-a..b",
            "",
            "1.x.0",
            "1.0.0-é",
        ] {
            let e = vc(bad, "1.0.0", "semver").unwrap_err();
            assert_eq!(e.arg, Some(0), "{bad}");
        }
        let e = vc("1.0.0", "1.2", "semver").unwrap_err();
        assert_eq!(e.arg, Some(1));
        assert_eq!(
            e.message,
            "`1.2` is not a valid semver version: expected MAJOR.MINOR.PATCH"
        );
    }

    #[test]
    fn deb_follows_dpkg() {
        check(
            "deb",
            &[
                ("1.0~rc1", "1.0", -1),
                ("1:0.1", "2.0", 1),
                ("1.0-1", "1.0-2", -1),
                ("0:1.0", "1.0", 0),
                ("1.0", "1.0-0", 0),
                ("1.0a", "1.0", 1),
                ("1.0a", "1.0+", -1),
                ("1.0+", "1.0", 1),
                ("2.30-1", "2.4-1", 1),
                ("1.2.3-1ubuntu1", "1.2.3-1", 1),
                ("1.0~~", "1.0~~a", -1),
                ("1.0~~a", "1.0~", -1),
                ("1.0~", "1.0", -1),
                ("1.0", "1.0a", -1),
                ("1.001", "1.1", 0),
                ("2:1.0", "10:0.1", -1),
                ("7.6p2-4", "7.6-0", 1),
                ("1.0.0-2-1", "1.0.0-1-1", 1),
            ],
        );
        assert_eq!(deb::verrevcmp("", "0"), Equal);
        assert_eq!(deb::verrevcmp("a", ""), Greater);
        assert_eq!(deb::verrevcmp("~", ""), Less);
    }

    #[test]
    fn deb_rejects_malformed_versions() {
        for bad in ["", "a:1.0", "1.0-", ":1.0", "1.0 beta", "-1"] {
            assert_eq!(vc(bad, "1.0", "deb").unwrap_err().arg, Some(0), "{bad}");
        }
        assert_eq!(vc("1.0", "x:1", "deb").unwrap_err().arg, Some(1));
    }

    #[test]
    fn rpm_follows_rpmvercmp() {
        // From rpm's tests/rpmvercmp.at.
        let cases: &[(&str, &str, Ordering)] = &[
            ("1.0", "1.0", Equal),
            ("1.0", "2.0", Less),
            ("2.0.1", "2.0", Greater),
            ("2.0.1a", "2.0.1", Greater),
            ("5.5p1", "5.5p2", Less),
            ("5.5p1", "5.5p10", Less),
            ("10xyz", "10.1xyz", Less),
            ("xyz10", "xyz10.1", Less),
            ("xyz.4", "8", Less),
            ("xyz.4", "2", Less),
            ("5.5p2", "5.6p1", Less),
            ("5.6p1", "6.5p1", Less),
            ("6.0.rc1", "6.0", Greater),
            ("10b2", "10a1", Greater),
            ("10a2", "10b2", Less),
            ("1.0a", "1.0aa", Less),
            ("10.0001", "10.1", Equal),
            ("10.0001", "10.0039", Less),
            ("4.999.9", "5.0", Less),
            ("20101121", "20101122", Less),
            ("2_0", "2.0", Equal),
            ("a+", "a_", Equal),
            ("+a", "_a", Equal),
            ("_+", "+_", Equal),
            ("_+", "_", Equal),
            ("+", "_", Equal),
            ("1.0~rc1", "1.0", Less),
            ("1.0~rc1", "1.0~rc2", Less),
            ("1.0~rc1~git123", "1.0~rc1", Less),
            ("1.0^", "1.0", Greater),
            ("1.0^git1", "1.0", Greater),
            ("1.0^git1", "1.0^git2", Less),
            ("1.0^git1", "1.01", Less),
            ("1.0^20160101", "1.0.1", Less),
            ("1.0^20160102", "1.0^20160101^git1", Greater),
            ("1.0~rc1^git1", "1.0~rc1", Greater),
            ("1.0^git1~pre", "1.0^git1", Less),
            ("1.0^git1", "1.0^git1~pre", Greater),
        ];
        for (a, b, want) in cases {
            assert_eq!(rpm::rpmvercmp(a, b), *want, "{a} vs {b}");
            assert_eq!(rpm::rpmvercmp(b, a), want.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn rpm_compares_epoch_version_release() {
        check(
            "rpm",
            &[
                ("1.0~rc1", "1.0", -1),
                ("1.0^", "1.0", 1),
                ("1.0a", "1.0", 1),
                ("1:1.0-1", "2.0-1", 1),
                ("1.0-1.el9", "1.0-2.el9", -1),
                ("1.0-1", "1.0", 0),
                ("0:2.4.57-5.el9", "2.4.57-5.el9", 0),
            ],
        );
        for bad in ["", "x:1.0", "1.0-", "-1"] {
            assert_eq!(vc(bad, "1.0", "rpm").unwrap_err().arg, Some(0), "{bad}");
        }
    }

    #[test]
    fn scheme_and_type_errors() {
        let e = vc("1", "2", "pep440").unwrap_err();
        assert_eq!(e.arg, Some(2));
        assert_eq!(
            e.message,
            "unknown version scheme `pep440`; expected `semver`, `deb` or `rpm`"
        );
        let e = version_compare(&[Value::str("1.0.0"), Value::Int(1)]).unwrap_err();
        assert_eq!(e.message, "`version_compare` expects a string, got number");
        assert_eq!(e.arg, Some(1));
        let e =
            version_compare(&[Value::str("1.0.0"), Value::str("1.0.0"), Value::Null]).unwrap_err();
        assert_eq!(e.arg, Some(2));
    }
}
