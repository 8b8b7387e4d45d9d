//! The authoring commands as processes: test, fmt, explain, diff, watch.

use crate::common::*;

const POLICY: &str = r#"
rule trained {
  for p in people
  subject p.id
  require p.trained else "{p.id} is not trained"
}
"#;

#[test]
fn test_runs_the_hipaa_tests_green_with_coverage_above_90() {
    let out = edict(&["test", "examples/hipaa", "--coverage-min", "90"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.contains("0 failed"), "{text}");
    let tests = text.lines().filter(|l| l.starts_with("ok ")).count();
    assert!(tests >= 15, "only {tests} tests ran:\n{text}");
    assert!(text.contains("coverage: "), "{text}");
}

#[test]
fn test_failure_shows_expected_actual_messages_and_location() {
    let dir = TempDir::new("test-fail");
    dir.write("policy.edict", POLICY);
    dir.write(
        "tests.edict",
        r#"test "p1 is trained" {
  now 2026-11-29
  facts { people: [{ id: "p1", trained: false }] }
  expect trained pass "p1"
  expect trained fail count 2
}
"#,
    );
    let out = edict_in(&dir.0, &["test", "."]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("FAIL ./tests.edict:1  p1 is trained"),
        "{text}"
    );
    assert!(
        text.contains("./tests.edict:4: expect trained pass \"p1\": got fail"),
        "{text}"
    );
    assert!(text.contains("expected: pass \"p1\""), "{text}");
    assert!(text.contains("actual:   fail  p1"), "{text}");
    assert!(text.contains("p1 is not trained"), "{text}");
    assert!(text.contains("expected: 2 fail"), "{text}");
    assert!(
        text.contains("actual:   1 fail (pass 0, fail 1, waived 0, error 0)"),
        "{text}"
    );
    assert!(text.contains("0 passed, 1 failed"), "{text}");
}

#[test]
fn test_of_an_unknown_subject_suggests_the_nearest() {
    let dir = TempDir::new("test-subject");
    dir.write("policy.edict", POLICY);
    dir.write(
        "tests.edict",
        r#"test "typo" {
  now 2026-11-29
  facts { people: [{ id: "p1", trained: true }] }
  expect trained pass "p2"
}
"#,
    );
    let out = edict_in(&dir.0, &["test"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("no subject \"p2\"; did you mean `p1`?"),
        "{text}"
    );
}

#[test]
fn test_without_now_fails_rather_than_reading_the_clock() {
    let dir = TempDir::new("test-now");
    dir.write("policy.edict", POLICY);
    dir.write(
        "tests.edict",
        r#"test "no clock" {
  facts { people: [] }
  expect trained pass count 0
}
"#,
    );
    let out = edict_in(&dir.0, &["test", "."]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("the test has no `now`"), "{text}");
}

#[test]
fn test_facts_from_a_file_beside_the_test_and_never_outside() {
    let dir = TempDir::new("test-from");
    dir.write("policy/policy.edict", POLICY);
    dir.write(
        "policy/fixtures/people.json",
        r#"{"people": [{"id": "p1", "trained": true}]}"#,
    );
    dir.write("secret.json", r#"{"people": []}"#);
    dir.write(
        "policy/tests.edict",
        r#"test "from a fixture" {
  now 2026-11-29
  facts from "fixtures/people.json"
  expect trained pass "p1"
}
test "escaping" {
  now 2026-11-29
  facts from "../secret.json"
  expect trained pass count 0
}
test "escaping further" {
  now 2026-11-29
  facts from "../../../../../../etc/passwd"
  expect trained pass count 0
}
"#,
    );
    let out = edict_in(&dir.0, &["test", "policy"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("ok   policy/tests.edict:1  from a fixture"),
        "{text}"
    );
    assert!(
        text.contains("FAIL policy/tests.edict:6  escaping"),
        "{text}"
    );
    assert!(
        text.contains("`../secret.json` is outside the policy directory"),
        "{text}"
    );
    assert!(
        text.contains("FAIL policy/tests.edict:11  escaping further"),
        "{text}"
    );
    assert!(text.contains("1 passed, 2 failed"), "{text}");
}

#[test]
fn test_of_a_policy_that_does_not_check_exits_2() {
    let dir = TempDir::new("test-check");
    dir.write(
        "tests.edict",
        r#"test "unknown rule" {
  now 2026-11-29
  facts { people: [] }
  expect trainde pass count 0
}
"#,
    );
    dir.write("policy.edict", POLICY);
    let out = edict_in(&dir.0, &["test", "."]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("did you mean `trained`?"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn test_coverage_lists_what_no_test_exercised_and_enforces_a_minimum() {
    let dir = TempDir::new("test-coverage");
    dir.write(
        "policy.edict",
        r#"rule trained {
  for p in people
  subject p.id
  require p.trained else "{p.id} is not trained"
  require p.badge != null else "{p.id} has no badge"
}
rule other {
  require 1 == 1
}
"#,
    );
    dir.write(
        "tests.edict",
        r#"test "untrained" {
  now 2026-11-29
  facts { people: [{ id: "p1", trained: false, badge: "b" }] }
  expect trained fail "p1"
}
"#,
    );
    let out = edict_in(&dir.0, &["test", ".", "--coverage"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("coverage: 40.0% (2 of 5"), "{text}");
    assert!(
        text.contains("not exercised: require ./policy.edict:5  trained: p.badge != null"),
        "{text}"
    );
    assert!(
        text.contains("not exercised: rule    ./policy.edict:7  other"),
        "{text}"
    );
    let out = edict_in(&dir.0, &["test", ".", "--coverage-min", "50"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("coverage 40.0% is below the minimum 50%"));
}

// ------------------------------------------------------------------ fmt

/// Every .edict file in the repository, as (path, text).
fn repository_policies() -> Vec<(std::path::PathBuf, String)> {
    let dirs = ["examples", "tests", "stdlib"].map(|d| root().join(d));
    let files = edict::policy_files(&dirs).expect("walk the repository");
    assert!(files.len() > 20, "found only {} files", files.len());
    files
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(&f).expect("read");
            (f, text)
        })
        .collect()
}

#[test]
fn fmt_is_idempotent_and_keeps_meaning_on_every_repository_file() {
    use edict::syntax::format::{format, FormatError};
    let mut formatted = 0;
    for (path, text) in repository_policies() {
        let name = path.display().to_string();
        let once = match format(&name, &text) {
            Ok(once) => once,
            Err(FormatError::Syntax(..)) => {
                assert!(name.contains("syntax/err"), "{name} does not parse");
                continue;
            }
            Err(FormatError::Changed) => panic!("formatting {name} changed its meaning"),
        };
        let twice = format(&name, &once).unwrap_or_else(|_| panic!("{name}: formatted text fails"));
        assert_eq!(once, twice, "{name}: fmt of fmt differs");
        for line in text.lines().filter(|l| l.trim_start().starts_with("//")) {
            assert!(once.contains(line.trim()), "{name}: lost comment {line:?}");
        }
        formatted += 1;
    }
    assert!(formatted > 20, "formatted only {formatted} files");
}

/// The outcomes and messages of an evaluation, without source locations.
fn outcomes(set: &edict::PolicySet, facts: &edict::Facts, now: &str) -> Vec<String> {
    let options = edict::EvalOptions {
        now: chrono_now(now),
        ..Default::default()
    };
    let evaluation = set.evaluate(facts, &options);
    let mut out = Vec::new();
    for r in &evaluation.rules {
        for s in &r.subjects {
            let messages: Vec<&str> = s.messages.iter().map(|m| m.text.as_str()).collect();
            out.push(format!(
                "{} {} {} {:?} {:?} {:?}",
                set.program().rules[r.rule].id,
                s.subject,
                s.outcome.as_str(),
                messages,
                s.waived_by.as_ref().map(|w| &w.entry),
                s.rejected.iter().map(|r| &r.reasons).collect::<Vec<_>>()
            ));
        }
    }
    out
}

fn chrono_now(date: &str) -> chrono::DateTime<chrono::Utc> {
    let d = chrono::NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").expect("date");
    d.and_hms_opt(0, 0, 0).expect("midnight").and_utc()
}

#[test]
fn fmt_output_evaluates_identically_on_the_example_and_eval_cases() {
    use edict::syntax::format::format;
    let mut cases: Vec<(Vec<std::path::PathBuf>, edict::Facts, String)> = Vec::new();
    let mut hipaa = edict::Facts::default();
    for (mount, file) in [
        (None, "assets.json"),
        (None, "people.json"),
        (Some("kev"), "kev.json"),
        (None, "exceptions.json"),
    ] {
        hipaa
            .add_file(&root().join("examples/hipaa").join(file), mount)
            .expect("facts");
    }
    let examples = edict::policy_files(&[root().join("examples/hipaa")]).unwrap();
    cases.push((examples, hipaa, "2026-11-29".into()));
    for entry in std::fs::read_dir(root().join("tests/eval")).unwrap() {
        let dir = entry.unwrap().path();
        let facts =
            edict::Facts::from_json_str(&std::fs::read_to_string(dir.join("facts.json")).unwrap())
                .unwrap();
        let now = std::fs::read_to_string(dir.join("now.txt")).unwrap_or("2026-11-29".into());
        cases.push((vec![dir.join("policy.edict")], facts, now));
    }
    assert!(cases.len() > 5);
    for (files, facts, now) in cases {
        let original: Vec<(String, String)> = files
            .iter()
            .map(|f| (f.display().to_string(), std::fs::read_to_string(f).unwrap()))
            .collect();
        let formatted: Vec<(String, String)> = original
            .iter()
            .map(|(n, t)| {
                (
                    n.clone(),
                    format(n, t).unwrap_or_else(|_| panic!("format {n}")),
                )
            })
            .collect();
        let a = edict::PolicySet::from_sources(original).unwrap();
        let b = edict::PolicySet::from_sources(formatted).unwrap();
        let (a, b) = (outcomes(&a, &facts, &now), outcomes(&b, &facts, &now));
        assert!(!a.is_empty(), "{files:?}");
        assert_eq!(a, b, "{files:?}");
    }
}

#[test]
fn fmt_check_lists_unformatted_files_and_fmt_rewrites_them() {
    let dir = TempDir::new("fmt");
    let messy = "rule   trained{\nfor p in people\n  subject p.id\n    require p.trained else \"{p.id} is not trained\" // why\n}\n";
    let file = dir.write("policy.edict", messy);
    let out = edict_in(&dir.0, &["fmt", "--check", "."]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stdout(&out), "./policy.edict\n");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        messy,
        "--check wrote"
    );
    let out = edict_in(&dir.0, &["fmt", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "rule trained {\n  for p in people\n  subject p.id\n  require p.trained else \"{p.id} is not trained\"  // why\n}\n"
    );
    let out = edict_in(&dir.0, &["fmt", "--check", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn fmt_reads_stdin_and_refuses_a_file_that_does_not_parse() {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_edict"))
        .args(["fmt", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"const  A=[1,2 ,3]\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "const A = [1, 2, 3]\n");

    let dir = TempDir::new("fmt-bad");
    let bad = "rule r { require a = b }\n";
    let file = dir.write("bad.edict", bad);
    let out = edict_in(&dir.0, &["fmt", "bad.edict"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("does not parse; left as is"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(file).unwrap(), bad);
}

// ------------------------------------------------------------------ explain

/// The value an explanation shows for a subexpression, by its exact text.
fn explained(text: &str, expr: &str) -> String {
    text.lines()
        .filter_map(|l| l.split_once(" → "))
        .find(|(e, _)| e.trim() == expr)
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_else(|| panic!("no line for {expr}:\n{text}"))
}

#[test]
fn explain_shows_each_subexpression_of_a_failing_require() {
    let mut args = vec![
        "explain",
        "patch_sla",
        "examples/hipaa",
        "--subject",
        "a02:CVE-2026-21877",
    ];
    args.extend_from_slice(HIPAA_FACTS);
    let out = edict(&args);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(
        text.starts_with("patch_sla  a02:CVE-2026-21877  fail\n"),
        "{text}"
    );
    assert!(
        text.contains("require (f.patched ?? today) <= due_on  (examples/hipaa/patching.edict:"),
        "{text}"
    );
    let value = |expr: &str| explained(&text, expr);
    assert_eq!(value("(f.patched ?? today) <= due_on"), "false");
    assert_eq!(value("(f.patched ?? today)"), "2026-11-29");
    assert_eq!(value("f.patched"), "null");
    assert_eq!(value("today"), "2026-11-29");
    assert_eq!(value("due_on"), "2026-11-13");
    assert!(text.contains("let due_on = deadline(f)"), "{text}");
    assert_eq!(value("deadline(f)"), "2026-11-13");
    assert_eq!(text.matches("a02:CVE-2026-21877").count(), 1, "{text}");
}

#[test]
fn explain_respects_short_circuit_and_eval_explain_prints_the_same() {
    let dir = TempDir::new("explain");
    dir.write(
        "policy.edict",
        r#"rule badge {
  for p in people
  subject p.id
  require p.badge != null and p.badge.active
  require p.trained or p.exempt
}
"#,
    );
    dir.write(
        "facts.json",
        r#"{"people": [{"id": "p1", "badge": null, "trained": true, "exempt": false},
                      {"id": "p2", "badge": {"active": true}, "trained": true}]}"#,
    );
    let out = edict_in(
        &dir.0,
        &[
            "explain",
            "badge",
            ".",
            "--facts",
            "facts.json",
            "--now",
            "2026-11-29",
        ],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(text.contains("badge  p1  fail"), "{text}");
    assert!(
        !text.contains("p2"),
        "a passing subject is explained:\n{text}"
    );
    assert_eq!(explained(&text, "p.badge.active"), "not evaluated");
    assert_eq!(explained(&text, "p.badge != null"), "false");
    assert_eq!(explained(&text, "p.badge"), "null");
    assert!(
        !text.contains("p.trained or p.exempt"),
        "a holding require is explained:\n{text}"
    );

    let out = edict_in(
        &dir.0,
        &[
            "eval",
            ".",
            "--facts",
            "facts.json",
            "--now",
            "2026-11-29",
            "--explain",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(explained(&stdout(&out), "p.badge.active"), "not evaluated");

    let out = edict_in(&dir.0, &["explain", "badg", ".", "--facts", "facts.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no rule `badg`; did you mean `badge`?"),
        "{}",
        stderr(&out)
    );
}

// ------------------------------------------------------------------ diff

#[test]
fn diff_lists_the_outcomes_a_policy_change_flips() {
    let dir = TempDir::new("diff");
    dir.write("old/policy.edict", POLICY);
    dir.write(
        "new/policy.edict",
        r#"
rule trained {
  for p in people
  subject p.id
  require p.trained or p.exempt == true else "{p.id} is not trained"
}
rule badge {
  for p in people
  subject p.id
  require p.badge else "{p.id} has no badge"
}
"#,
    );
    dir.write(
        "facts.json",
        r#"{"people": [{"id": "p1", "trained": false, "exempt": true, "badge": true},
                      {"id": "p2", "trained": false, "exempt": false, "badge": false},
                      {"id": "p3", "trained": true, "badge": true}]}"#,
    );
    let out = edict_in(
        &dir.0,
        &[
            "diff",
            "old",
            "new",
            "--facts",
            "facts.json",
            "--now",
            "2026-11-29",
        ],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(text.contains("trained\n  p1  fail → pass\n"), "{text}");
    assert!(!text.contains("p3  pass → pass"), "{text}");
    assert!(
        text.contains("badge\n  p1  absent → pass\n  p2  absent → fail  p2 has no badge\n"),
        "{text}"
    );
    assert!(
        text.contains("4 outcomes changed: absent→fail 1, absent→pass 2, fail→pass 1"),
        "{text}"
    );

    let out = edict_in(
        &dir.0,
        &[
            "diff",
            "old",
            "old",
            "--facts",
            "facts.json",
            "--now",
            "2026-11-29",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(stdout(&out), "no outcome changes\n");
}

#[test]
fn diff_of_a_set_that_does_not_check_exits_2() {
    let dir = TempDir::new("diff-bad");
    dir.write("old/policy.edict", POLICY);
    dir.write("new/policy.edict", "rule r { require x = 1 }\n");
    dir.write("facts.json", r#"{"people": []}"#);
    let out = edict_in(&dir.0, &["diff", "old", "new", "--facts", "facts.json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
}

// ------------------------------------------------------------------ watch

/// A running `edict watch`, its stdout read line by line on a thread.
struct Watching {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    seen: String,
}

impl Watching {
    fn start(dir: &std::path::Path, args: &[&str]) -> Watching {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_edict"))
            .arg("watch")
            .args(args)
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start edict watch");
        let (tx, rx) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let tx2 = tx.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                let _ = tx.send(line);
            }
        });
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                let _ = tx2.send(line);
            }
        });
        Watching {
            child,
            lines: rx,
            seen: String::new(),
        }
    }

    /// Reads output until a line contains `needle`; panics after 10 s.
    fn wait_for(&mut self, needle: &str) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let start = self.seen.len();
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push_str(&line);
                    self.seen.push('\n');
                    if line.contains(needle) {
                        return self.seen[start..].to_string();
                    }
                }
                Err(_) => {
                    let _ = self.child.kill();
                    panic!("no `{needle}` within 10 s; output:\n{}", self.seen);
                }
            }
        }
    }

    /// Sends Ctrl-C (SIGINT) and returns the exit code.
    fn interrupt(mut self) -> Option<i32> {
        let pid = self.child.id().to_string();
        let status = std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .expect("run kill");
        assert!(status.success());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.code();
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("edict watch did not exit on Ctrl-C");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

#[test]
fn watch_reevaluates_on_changes_and_exits_0_on_ctrl_c() {
    let dir = TempDir::new("watch");
    dir.write("policy.edict", POLICY);
    dir.write(
        "facts.json",
        r#"{"people": [{"id": "p1", "trained": false}]}"#,
    );
    let mut w = Watching::start(
        &dir.0,
        &[".", "--facts", "facts.json", "--now", "2026-11-29"],
    );
    let first = w.wait_for("press Ctrl-C");
    assert!(
        first.contains("NON-COMPLIANT: 1 rule, 1 subject: 0 pass, 1 fail"),
        "{first}"
    );

    // A facts change: re-evaluated, and the fix is named.
    dir.write(
        "facts.json",
        r#"{"people": [{"id": "p1", "trained": true}]}"#,
    );
    let fixed = w.wait_for("fixed: trained p1 (fail → pass)");
    assert!(fixed.contains("facts changed: facts.json"), "{fixed}");

    // A half-written facts file is retried, never reported.
    dir.write("facts.json", r#"{"people": [{"id": "p1", "#);
    std::thread::sleep(std::time::Duration::from_millis(300));
    dir.write(
        "facts.json",
        r#"{"people": [{"id": "p1", "trained": true}, {"id": "p2", "trained": false}]}"#,
    );
    let added = w.wait_for("new failure: trained p2 (absent → fail): p2 is not trained");
    assert!(!added.contains("could not be read"), "{added}");
    assert!(!added.contains("malformed"), "{added}");
    assert!(
        added.contains("NON-COMPLIANT: 1 rule, 2 subjects: 1 pass, 1 fail"),
        "{added}"
    );

    // A policy that does not check: diagnostics beside the last good summary.
    std::thread::sleep(std::time::Duration::from_millis(600));
    dir.write("policy.edict", "rule trained { require x = 1 }\n");
    let broken = w.wait_for("the policy set does not check");
    assert!(broken.contains("compare with `==`"), "{broken}");
    assert!(
        broken.contains("last good report: NON-COMPLIANT: 1 rule, 2 subjects: 1 pass, 1 fail"),
        "{broken}"
    );

    // Fixed again: evaluated, and the change since the last good run shown.
    dir.write(
        "policy.edict",
        "rule trained {\n  for p in people\n  subject p.id\n  require p.trained or p.id == \"p2\"\n}\n",
    );
    let back = w.wait_for("fixed: trained p2 (fail → pass)");
    assert!(
        back.contains("COMPLIANT: 1 rule, 2 subjects: 2 pass, 0 fail"),
        "{back}"
    );

    assert_eq!(w.interrupt(), Some(0));
}

#[test]
fn watch_of_a_facts_file_that_stays_broken_reports_it_as_unreadable() {
    let dir = TempDir::new("watch-bad");
    dir.write("policy.edict", POLICY);
    dir.write("facts.json", r#"{"people": []}"#);
    let mut w = Watching::start(
        &dir.0,
        &[".", "--facts", "facts.json", "--now", "2026-11-29"],
    );
    w.wait_for("press Ctrl-C");
    dir.write("facts.json", r#"{"people": [oops]}"#);
    let text = w.wait_for("facts could not be read");
    assert!(text.contains("malformed JSON"), "{text}");
    assert!(text.contains("last good report: COMPLIANT"), "{text}");
    assert!(!text.contains("new failure"), "{text}");
    assert_eq!(w.interrupt(), Some(0));
}
