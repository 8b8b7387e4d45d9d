//! Hostile input: limits give clear diagnostics, never a crash or a hang.

use crate::common::*;

fn check_text(text: &str) -> std::process::Output {
    let dir = TempDir::new("robust");
    dir.write("p.edict", text);
    edict_in(&dir.0, &["check", "p.edict"])
}

#[test]
fn deeply_nested_brackets_are_refused_with_e0008() {
    let text = format!(
        "const DEEP = {}1{}\n",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    let out = check_text(&text);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("E0008"), "{}", stderr(&out));
}

#[test]
fn long_operator_chains_are_refused_with_e0008() {
    for chain in [
        format!("const C = 1{}\n", " + 1".repeat(20_000)),
        format!("const C = {}true\n", "not ".repeat(20_000)),
        format!("const C = {}1\n", "- ".repeat(20_000)),
        format!("const C = null{}\n", " ?? null".repeat(20_000)),
    ] {
        let out = check_text(&chain);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains("E0008"), "{}", stderr(&out));
    }
}

#[test]
fn long_if_and_quantifier_chains_are_refused_with_e0008() {
    let rule = |body: String| format!("rule r {{\n  for p in people\n  require {body}\n}}\n");
    let cases = [
        // Past the nesting limit: lowering refuses them, with the span.
        (
            rule("if p.a then true else ".repeat(200) + "false"),
            "nest more than 128 levels",
        ),
        (rule("any x in p.xs: ".repeat(20_000) + "true"), "E0008"),
        // Far past it: refused before parsing, which would exhaust the stack.
        (
            rule("any x in p.xs: ".repeat(250_000) + "true"),
            "more than 10000 `if`, `any` and `all` in one declaration",
        ),
    ];
    for (text, expected) in cases {
        let out = check_text(&text);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(expected) && !err.contains("panicked"), "{err}");
    }
    // The count is per declaration: many plain `if`s across rules are fine.
    let many: String = (0..2)
        .map(|r| {
            let requires = "  require if p.a then true else false\n".repeat(6_000);
            format!("rule r{r} {{\n  for p in people\n{requires}}}\n")
        })
        .collect();
    let out = check_text(&many);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn the_largest_allowed_expression_still_evaluates() {
    // 64 levels of brackets, each chaining 128 operators: the bounds together.
    let mut expr = String::from("1");
    for _ in 0..63 {
        expr = format!("({expr}{})", " + 0".repeat(127));
    }
    let dir = TempDir::new("bigexpr");
    dir.write(
        "p.edict",
        &format!("rule r {{\n  require {expr} == 1\n}}\n"),
    );
    dir.write("f.json", "{}");
    let out = edict_in(
        &dir.0,
        &[
            "eval",
            "p.edict",
            "--facts",
            "f.json",
            "--now",
            "2026-11-29",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
}

#[test]
fn deeply_nested_json_facts_are_a_located_error() {
    let dir = TempDir::new("deepjson");
    dir.write("p.edict", "rule r {\n  require count(x) > 0\n}\n");
    dir.write(
        "f.json",
        &format!("{{\"x\": {}{}}}", "[".repeat(100_000), "]".repeat(100_000)),
    );
    let out = edict_in(
        &dir.0,
        &[
            "eval",
            "p.edict",
            "--facts",
            "f.json",
            "--now",
            "2026-11-29",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("F0001") && err.contains("f.json:1:"), "{err}");
}

#[test]
fn a_pathological_subject_exceeds_its_budget_and_the_others_still_run() {
    let dir = TempDir::new("budget");
    dir.write(
        "p.edict",
        "rule r {\n  for p in people\n  let n = sum([count([b for b in p.xs where b >= a]) for a in p.xs])\n  require n >= 0\n}\n",
    );
    let big: Vec<String> = (0..3000).map(|i| i.to_string()).collect();
    dir.write(
        "f.json",
        &format!(
            r#"{{"people": [{{"id": "small", "xs": [1, 2]}}, {{"id": "huge", "xs": [{}]}}]}}"#,
            big.join(",")
        ),
    );
    let out = edict_in(
        &dir.0,
        &[
            "eval",
            "p.edict",
            "--facts",
            "f.json",
            "--now",
            "2026-11-29",
            "--max-steps",
            "100000",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rule = &json["rules"][0];
    assert_eq!(rule["passed"], serde_json::json!(["small"]));
    assert_eq!(rule["findings"][0]["subject"], "huge");
    assert_eq!(rule["findings"][0]["outcome"], "error");
    let message = rule["findings"][0]["messages"][0]["message"]
        .as_str()
        .unwrap();
    assert!(message.contains("evaluation budget exceeded"), "{message}");
}

/// Found by fuzzing: a list and a comprehension both began with `[ expr`, so
/// each nesting level parsed its contents twice and 50 levels never finished.
#[test]
fn nested_lists_parse_in_linear_time() {
    for (open, close) in [("[", "]"), ("[(", ")]"), ("{a: [", "]}")] {
        let text = format!("const X = {}1{}\n", open.repeat(30), close.repeat(30));
        let started = std::time::Instant::now();
        let out = check_text(&text);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{open}…{close} took {:?}",
            started.elapsed()
        );
    }
}
