//! The binary as a process: exit codes and outputs.

use crate::common::*;

#[test]
fn eval_of_the_hipaa_example_exits_1_and_reports() {
    let mut args = vec!["eval", "examples/hipaa"];
    args.extend_from_slice(HIPAA_FACTS);
    let out = edict(&args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("NON-COMPLIANT"), "{text}");
    assert!(text.contains("ERROR  a21:CVE-2026-13455  assets[20].findings[0].published: string \"2026-13-45\" is not a date"), "{text}");
}

#[test]
fn json_report_parses_and_has_stable_keys() {
    let mut args = vec!["eval", "examples/hipaa", "--format", "json"];
    args.extend_from_slice(HIPAA_FACTS);
    let out = edict(&args);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "tool",
            "now",
            "inputs",
            "evidence",
            "summary",
            "rules",
            "exceptions"
        ]
    );
    assert_eq!(json["now"], "2026-11-29T00:00:00Z");
    assert_eq!(json["summary"]["compliant"], false);
    let rule = &json["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "patch_sla")
        .unwrap();
    let finding = &rule["findings"][0];
    for key in ["subject", "outcome", "messages"] {
        assert!(finding.get(key).is_some(), "finding lacks {key}");
    }
    assert!(rule["citations"][0].as_str().unwrap().contains("164.308"));
}

#[test]
fn three_mistakes_are_all_reported_with_exit_2() {
    let out = edict(&["check", "tests/check/err/three_mistakes.edict"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("E0104") && err.contains("did you mean `high`?"),
        "{err}"
    );
    assert!(
        err.contains("E0102") && err.contains("did you mean `deadline`?"),
        "{err}"
    );
    assert!(err.contains("did you mean `len`?"), "{err}");
    assert!(err.contains("3 errors"), "{err}");
}

#[test]
fn check_json_gives_one_object_per_diagnostic() {
    let out = edict(&[
        "check",
        "--format",
        "json",
        "tests/check/err/three_mistakes.edict",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["code"], "E0104");
    assert_eq!(lines[0]["line"], 6);
    assert_eq!(lines[0]["column"], 12);
    assert_eq!(lines[0]["end_column"], 16);
    assert_eq!(lines[0]["severity"], "error");
}

#[test]
fn a_compliant_run_exits_0() {
    let dir = TempDir::new("compliant");
    dir.write(
        "p.edict",
        "rule r {\n  for p in people\n  require p.trained\n}\n",
    );
    dir.write("f.json", r#"{"people": [{"id": "p1", "trained": true}]}"#);
    let out = edict_in(
        &dir.0,
        &["eval", ".", "--facts", "f.json", "--now", "2026-11-29"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).contains("COMPLIANT"));
}

#[test]
fn fail_on_ignores_lower_severities_and_advisory_rules_never_fail() {
    let dir = TempDir::new("failon");
    dir.write("p.edict", "rule low { severity low\n for p in people\n require p.a }\nrule adv { level advisory\n severity critical\n for p in people\n require p.a }\n");
    dir.write("f.json", r#"{"people": [{"id": "p1", "a": false}]}"#);
    let base = ["eval", ".", "--facts", "f.json", "--now", "2026-11-29"];
    let out = edict_in(&dir.0, &base);
    assert_eq!(out.status.code(), Some(1));
    let mut args = base.to_vec();
    args.extend(["--fail-on", "medium"]);
    let out = edict_in(&dir.0, &args);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn malformed_facts_report_the_location_and_exit_2() {
    let dir = TempDir::new("badjson");
    dir.write(
        "p.edict",
        "rule r {\n  for p in people\n  require p.trained\n}\n",
    );
    dir.write("f.json", "{\"people\": [\n  {\"id\": \"p1\",, }\n]}\n");
    let out = edict_in(
        &dir.0,
        &["eval", ".", "--facts", "f.json", "--now", "2026-11-29"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("f.json:2:15") && err.contains("F0001"),
        "{err}"
    );
    assert!(stdout(&out).is_empty(), "nothing may be evaluated");
}

#[test]
fn facts_keys_given_twice_are_refused() {
    let dir = TempDir::new("dupkeys");
    dir.write(
        "p.edict",
        "rule r {\n  for p in people\n  require p.trained\n}\n",
    );
    dir.write("a.json", r#"{"people": []}"#);
    dir.write("b.json", r#"{"people": []}"#);
    let out = edict_in(
        &dir.0,
        &["eval", ".", "--facts", "a.json", "--facts", "b.json"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("F0002"), "{}", stderr(&out));
}

#[test]
fn wrong_invocations_exit_2() {
    assert_eq!(
        edict(&["eval", "examples/hipaa", "--now", "tomorrow"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        edict(&[
            "eval",
            "examples/hipaa",
            "--rule",
            "patch_slaa",
            "--now",
            "2026-11-29"
        ])
        .status
        .code(),
        Some(2)
    );
    assert_eq!(edict(&["check", "no/such/dir"]).status.code(), Some(2));
    assert_eq!(edict(&["frobnicate"]).status.code(), Some(2));
}

#[test]
fn rule_filter_evaluates_only_that_rule() {
    let mut args = vec![
        "eval",
        "examples/hipaa",
        "--format",
        "json",
        "--rule",
        "annual_training",
    ];
    args.extend_from_slice(HIPAA_FACTS);
    let out = edict(&args);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["rules"].as_array().unwrap().len(), 1);
    assert_eq!(json["rules"][0]["id"], "annual_training");
}

#[test]
fn a_closed_output_pipe_ends_quietly() {
    use std::io::Read;
    let mut args = vec!["eval", "examples/hipaa", "--format", "json"];
    args.extend_from_slice(HIPAA_FACTS);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_edict"))
        .args(&args)
        .current_dir(root())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start edict");
    let mut first = [0u8; 16];
    child
        .stdout
        .take()
        .expect("stdout")
        .read_exact(&mut first)
        .expect("some output");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}

#[test]
fn a_closed_error_pipe_ends_quietly() {
    use std::io::Read;
    let dir = TempDir::new("closed-stderr");
    let broken: String = (0..300)
        .map(|i| format!("rule r{i} {{ for p in people\n require p.a == = }}\n"))
        .collect();
    dir.write("p.edict", &broken);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_edict"))
        .args(["check", dir.0.to_str().unwrap()])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start edict");
    let mut errors = child.stderr.take().expect("stderr");
    let mut first = [0u8; 5];
    errors.read_exact(&mut first).expect("some output");
    drop(errors);
    // 300 diagnostics overflow the pipe's buffer, so later writes meet the closed pipe.
    assert_eq!(child.wait().expect("wait").code(), Some(2));
}

#[test]
fn a_use_applies_to_its_own_file_only() {
    let dir = TempDir::new("use-per-file");
    dir.write("a.edict", "use std.time\nrule reviewed {\n  for r in reviews\n  require time.days_overdue(r.due) == 0\n}\n");
    dir.write(
        "b.edict",
        "rule clock_synced {\n  require time.synced else \"the time source is not synced\"\n}\n",
    );
    dir.write(
        "f.json",
        r#"{"reviews": [{"id": "r1", "due": "2026-12-01"}], "time": {"synced": true}}"#,
    );
    let out = edict_in(
        &dir.0,
        &["eval", ".", "--facts", "f.json", "--now", "2026-11-29"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    // In the file that uses the module, the module wins.
    dir.write(
        "c.edict",
        "use std.time\nrule wrong {\n  require time.synced\n}\n",
    );
    let out = edict_in(&dir.0, &["check", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("E0106"), "{}", stderr(&out));
}
