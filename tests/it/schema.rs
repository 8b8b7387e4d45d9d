//! Typed facts: schemas catch mistakes in policies and in facts, facts load
//! from JSON, JSON Lines, YAML, CSV, stdin and directories, and `edict.toml`
//! supplies defaults.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::common::*;

const FORMATS: &str = "tests/fixtures/formats";

/// (code, JSON path, message) of each violation line on stderr, and its line.
fn violations(stderr: &str) -> Vec<(String, String, usize)> {
    stderr
        .lines()
        .filter(|l| l.starts_with("error[F"))
        .map(|l| {
            let code = l[6..11].to_string();
            let rest = &l[14..];
            // FILE:LINE:COL: `PATH`: MESSAGE
            let (loc, tail) = rest.split_once(": `").unwrap();
            let line: usize = loc.split(':').nth(1).map_or(0, |n| n.parse().unwrap());
            (code, format!("`{tail}"), line)
        })
        .collect()
}

fn eval_formats(file: &str) -> std::process::Output {
    edict(&[
        "eval",
        &format!("{FORMATS}/findings.edict"),
        "--facts",
        &format!("{FORMATS}/{file}"),
        "--now",
        "2026-11-29",
        "--format",
        "json",
    ])
}

#[test]
fn a_bad_date_is_reported_at_its_line_with_its_json_path() {
    let out = eval_formats("findings.json");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "nothing is evaluated");
    let err = stderr(&out);
    assert!(
        err.contains(
            "error[F0008]: tests/fixtures/formats/findings.json:40:20: `findings[4].published`: `2026-02-30` is not a date (YYYY-MM-DD)"
        ),
        "{err}"
    );
    assert!(
        err.contains("`findings[6].severity`: `critcal` is not one of \"low\", \"medium\", \"high\", \"critical\" (did you mean \"critical\"?)"),
        "{err}"
    );
}

#[test]
fn json_yaml_and_csv_give_the_same_violations() {
    let mut seen = Vec::new();
    for file in ["findings.json", "findings.yaml", "findings.csv"] {
        let out = eval_formats(file);
        assert_eq!(out.status.code(), Some(2), "{file}");
        let text = std::fs::read_to_string(root().join(FORMATS).join(file)).unwrap();
        let found = violations(&stderr(&out));
        assert_eq!(found.len(), 2, "{file}: {}", stderr(&out));
        // Each is reported at the line that holds the bad value.
        for (_, message, line) in &found {
            let bad = if message.contains("2026-02-30") {
                "2026-02-30"
            } else {
                "critcal"
            };
            assert!(
                text.lines().nth(line - 1).unwrap().contains(bad),
                "{file}:{line}"
            );
        }
        seen.push(
            found
                .into_iter()
                .map(|(c, m, _)| (c, m))
                .collect::<Vec<_>>(),
        );
    }
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[0], seen[2]);
}

#[test]
fn json_yaml_and_csv_give_the_same_report() {
    let dir = TempDir::new("formats");
    let mut reports = Vec::new();
    for file in ["findings.json", "findings.yaml", "findings.csv"] {
        let text = std::fs::read_to_string(root().join(FORMATS).join(file))
            .unwrap()
            .replace("2026-02-30", "2026-02-28")
            .replace("critcal", "critical");
        let path = dir.write(file, &text);
        let out = edict(&[
            "eval",
            &format!("{FORMATS}/findings.edict"),
            "--facts",
            path.to_str().unwrap(),
            "--now",
            "2026-11-29",
            "--format",
            "json",
        ]);
        assert_eq!(out.status.code(), Some(1), "{file}: {}", stderr(&out));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        reports.push(report["rules"].clone());
    }
    assert!(reports[0][0]["counts"]["fail"].as_u64().unwrap() > 0);
    assert_eq!(reports[0], reports[1]);
    assert_eq!(reports[0], reports[2]);
}

#[test]
fn every_class_of_facts_mistake_is_caught_against_the_hipaa_schema() {
    let dir = TempDir::new("hipaa-facts");
    let assets = std::fs::read_to_string(root().join("examples/hipaa/assets.json")).unwrap();
    let assets = assets
        .replacen(
            "\"detected\": \"2026-10-16\"",
            "\"detected\": \"16/10/2026\"",
            1,
        )
        .replacen("\"criticality\": \"high\"", "\"criticality\": \"hihg\"", 1)
        .replacen("\"legacy\": false", "\"legacy\": \"no\"", 1)
        .replacen("\"hostname\": \"ehr-db-02\",", "", 1)
        .replacen("\"patched\": null", "\"pathced\": null", 1);
    let path = dir.write("assets.json", &assets);
    let mut args = vec!["eval", "examples/hipaa"];
    for f in HIPAA_FACTS {
        args.push(if f.ends_with("assets.json") {
            path.to_str().unwrap()
        } else {
            f
        });
    }
    let out = edict(&args);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    for (code, path) in [
        ("F0008", "`assets[0].findings[0].detected`"),
        ("F0007", "`assets[0].criticality`"),
        ("F0005", "`assets[0].legacy`"),
        ("F0006", "`assets[1].hostname`"),
        ("F0009", "`assets[0].findings[1].pathced`"),
    ] {
        assert!(
            err.lines()
                .any(|l| l.starts_with(&format!("error[{code}]")) && l.contains(path)),
            "{code} {path} not reported:\n{err}"
        );
    }
}

#[test]
fn every_class_of_policy_mistake_is_caught_against_the_hipaa_schema() {
    let cases = [
        ("for a in assets\n  require a.hostnme != \"\"", "E0403", "did you mean `hostname`?"),
        (
            "for a in assets\n  for f in a.findings where f.severity == \"critcal\"\n  require false",
            "E0404",
            "did you mean \"critical\"?",
        ),
        (
            "for p in people\n  require p.hired > 30",
            "E0405",
            "cannot compare `date` and `int`",
        ),
        ("for p in people\n  require count(peopel) > 0", "E0101", "did you mean `people`?"),
    ];
    for (body, code, expected) in cases {
        let dir = TempDir::new("hipaa-policy");
        for f in ["patching", "training", "exceptions", "schema"] {
            let text =
                std::fs::read_to_string(root().join(format!("examples/hipaa/{f}.edict"))).unwrap();
            dir.write(&format!("{f}.edict"), &text);
        }
        dir.write("mistake.edict", &format!("rule mistake {{\n  {body}\n}}\n"));
        let out = edict(&["check", dir.0.to_str().unwrap(), "--format", "json"]);
        assert_eq!(out.status.code(), Some(2), "{code}");
        let text = stdout(&out);
        let diag: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(diag["code"], code, "{text}");
        assert!(diag["file"].as_str().unwrap().ends_with("mistake.edict"));
        assert_eq!(diag["line"], 3, "{text}");
        let all = format!(
            "{} {}",
            diag["message"].as_str().unwrap(),
            diag["help"].as_str().unwrap_or("")
        );
        assert!(all.contains(expected), "{code}: {all}");
    }
}

#[test]
fn a_schema_in_a_policy_set_does_not_change_the_hipaa_outcomes() {
    // The example test compares every outcome with expected.json; here, only
    // that the schema is part of the set and checks cleanly.
    let out = edict(&["check", "examples/hipaa"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(root().join("examples/hipaa/schema.edict").exists());
}

#[test]
fn the_cisa_kev_catalog_loads_under_its_schema() {
    let kev = "tests/fixtures/kev/cisa_kev_2025-08-25.json";
    let out = edict(&[
        "eval",
        "tests/fixtures/kev/kev.edict",
        "--facts",
        &format!("kev={kev}"),
        "--now",
        "2025-08-25",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Counted independently from the raw catalog.
    let raw: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join(kev)).unwrap()).unwrap();
    let known: Vec<&serde_json::Value> = raw["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["knownRansomwareCampaignUse"] == "Known")
        .collect();
    let day = |s: &serde_json::Value| {
        chrono::NaiveDate::parse_from_str(s.as_str().unwrap(), "%Y-%m-%d").unwrap()
    };
    let late = known
        .iter()
        .filter(|v| (day(&v["dueDate"]) - day(&v["dateAdded"])).num_days() > 21)
        .count();
    let counts = &report["rules"][0]["counts"];
    assert_eq!(counts["fail"], late as u64);
    assert_eq!(counts["pass"], (known.len() - late) as u64);
    assert_eq!(counts["error"], 0);
}

#[test]
fn malformed_input_reports_its_location_and_evaluates_nothing() {
    let dir = TempDir::new("malformed");
    for (name, text, format, at) in [
        (
            "f.json",
            "{\"findings\": [\n  {\"cve\": \"x\",,}\n]}",
            "JSON",
            ":2:",
        ),
        (
            "f.yaml",
            "findings:\n  - cve: [x\n  - cve: y\n",
            "YAML",
            ":",
        ),
        ("findings.csv", "cve,score\nx,1\n\"y,2\n", "CSV", ":3:1"),
    ] {
        let path = dir.write(name, text);
        let out = edict(&[
            "eval",
            &format!("{FORMATS}/findings.edict"),
            "--facts",
            path.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(out.stdout.is_empty(), "{name}");
        let err = stderr(&out);
        assert!(err.contains(&format!("malformed {format}")), "{err}");
        assert!(err.contains(&format!("{name}{at}")), "{err}");
        assert!(err.contains("F0001"), "{err}");
    }
}

#[test]
fn jsonl_stdin_and_directories_are_facts_sources() {
    let dir = TempDir::new("sources");
    let policy = dir.write(
        "p.edict",
        "rule r {\n  for f in findings\n  subject f.cve\n  require f.score < 9\n}\n",
    );
    let policy = policy.to_str().unwrap();
    let jsonl = dir.write(
        "facts/findings.jsonl",
        "{\"cve\": \"a\", \"score\": 3}\n{\"cve\": \"b\", \"score\": 9.8}\n",
    );
    dir.write("facts/extra.yaml", "owners:\n  - team-a\n");
    let counts = |out: &std::process::Output| {
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (
            r["rules"][0]["counts"]["pass"].clone(),
            r["rules"][0]["counts"]["fail"].clone(),
        )
    };
    // A .jsonl file is a list, mounted under its stem or under NAME=.
    let out = edict(&[
        "eval",
        policy,
        "--facts",
        jsonl.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(counts(&out), (1.into(), 1.into()), "{}", stderr(&out));
    let other = dir.write("facts2/x.ndjson", "{\"cve\": \"c\", \"score\": 1}\n");
    let spec = format!("findings={}", other.display());
    let out = edict(&["eval", policy, "--facts", &spec, "--format", "json"]);
    assert_eq!(counts(&out), (1.into(), 0.into()), "{}", stderr(&out));
    // A directory: every facts file in it.
    let facts_dir = dir.0.join("facts");
    let out = edict(&[
        "eval",
        policy,
        "--facts",
        facts_dir.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(counts(&out), (1.into(), 1.into()), "{}", stderr(&out));
    // `-` with --facts-format.
    let mut child = Command::new(env!("CARGO_BIN_EXE_edict"))
        .args([
            "eval",
            policy,
            "--facts",
            "findings=-",
            "--facts-format",
            "csv",
            "--format",
            "json",
        ])
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"cve,score\nx,9.5\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    // Without a schema CSV cells are strings, so `score < 9` is an error.
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["rules"][0]["counts"]["error"], 1, "{}", stderr(&out));
    // An unknown extension needs --facts-format.
    let odd = dir.write("facts.txt", "{}");
    let out = edict(&["eval", policy, "--facts", odd.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("F0010"), "{}", stderr(&out));
}

#[test]
fn edict_toml_supplies_defaults_and_flags_override_it() {
    // Plain `edict eval` in the example directory: paths, facts, now, format.
    let dir = root().join("examples/hipaa");
    let out = edict_in(&dir, &["eval"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        !stdout(&out).trim_start().starts_with('{'),
        "pretty by default"
    );
    let out = edict_in(&dir, &["eval", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report["now"].as_str().unwrap().starts_with("2026-11-29"),
        "{report}"
    );
    // From a subdirectory, the file is found upward; --fail-on overrides it.
    let sub = TempDir::new("toml");
    sub.write("edict.toml", "paths = [\"p.edict\"]\nfacts = [\"f.json\"]\nnow = \"2026-01-01\"\nformat = \"json\"\nfail-on = \"critical\"\n");
    sub.write(
        "p.edict",
        "rule r {\n  severity low\n  for x in xs\n  require x < 1\n}\n",
    );
    sub.write("f.json", "{\"xs\": [1, 2]}");
    let nested = sub.0.join("a/b");
    std::fs::create_dir_all(&nested).unwrap();
    let out = edict_in(&nested, &["eval"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "low failures are under fail-on = critical: {}",
        stderr(&out)
    );
    assert!(stdout(&out).trim_start().starts_with('{'));
    let out = edict_in(&nested, &["eval", "--fail-on", "low"]);
    assert_eq!(out.status.code(), Some(1));
    let out = edict_in(&nested, &["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // A mistake in the project file is an invocation error.
    sub.write("edict.toml", "pathz = []\n");
    let out = edict_in(&nested, &["eval"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("edict.toml"), "{}", stderr(&out));
}

#[test]
fn streamed_records_are_checked_against_the_schema_as_a_batch_is() {
    let dir = TempDir::new("hipaa-stream-schema");
    let assets: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("examples/hipaa/assets.json")).unwrap(),
    )
    .unwrap();
    let mut records = assets["assets"].as_array().unwrap().clone();
    // The mistakes the batch test above makes, in two records.
    records[1]["criticality"] = "hihg".into();
    records[1]["findings"][0]["detected"] = "16/10/2026".into();
    records[1]["legacy"] = "no".into();
    records[2].as_object_mut().unwrap().remove("hostname");
    let finding = records[2]["findings"][0].as_object_mut().unwrap();
    let patched = finding.remove("patched").unwrap();
    finding.insert("pathced".into(), patched);
    let rejected_ids = [records[1]["id"].clone(), records[2]["id"].clone()];
    let lines: String = records.iter().map(|r| format!("{r}\n")).collect();
    let stream = dir.write("assets.jsonl", &lines);
    let spec = format!("assets={}", stream.display());
    let mut args = vec!["eval", "examples/hipaa"];
    // Every other input, and the assets streamed.
    args.extend(
        HIPAA_FACTS
            .chunks(2)
            .filter(|flag| flag[1] != "examples/hipaa/assets.json")
            .flatten(),
    );
    args.extend(["--stream", &spec]);
    let out = edict(&args);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let expected = format!("{} records streamed, 2 lines rejected", records.len() - 2);
    assert!(stderr(&out).contains(&expected), "{}", stderr(&out));
    let streamed: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let rejected: Vec<String> = streamed
        .iter()
        .filter(|v| v["outcome"] == "rejected")
        .map(|v| serde_json::to_string_pretty(v).unwrap())
        .collect();
    insta::assert_snapshot!(rejected.join("\n"));

    // Every other record is evaluated as the batch run evaluates it: the
    // same outcomes, deadlines and messages. A
    // streamed record is `assets[0]` to the policy; a batch report gives
    // deadlines only for findings.
    let key = |rule: &serde_json::Value, subject: &serde_json::Value, v: &serde_json::Value| {
        let messages: Vec<String> = v["messages"]
            .as_array()
            .map(|ms| {
                ms.iter()
                    .map(|m| m.get("message").unwrap_or(m).as_str().unwrap())
                    .map(|m| match m.split_once("assets[") {
                        Some((before, after)) => {
                            let rest = after.trim_start_matches(|c: char| c.is_ascii_digit());
                            format!("{before}assets[0{rest}")
                        }
                        None => m.to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let due = if v["outcome"] == "pass" {
            &serde_json::Value::Null
        } else {
            &v["due"]
        };
        format!("{rule} {subject} {} {due} {messages:?}", v["outcome"])
    };
    let from_stream: std::collections::BTreeSet<String> = streamed
        .iter()
        .filter(|v| v["line"].as_u64().is_some_and(|l| l > 0) && v["outcome"] != "rejected")
        .map(|v| key(&v["rule"], &v["subject"], v))
        .collect();
    let streamed_rules: std::collections::BTreeSet<String> = streamed
        .iter()
        .filter(|v| v["line"].as_u64().is_some_and(|l| l > 0))
        .filter_map(|v| v["rule"].as_str().map(str::to_string))
        .collect();
    let mut batch_args = vec!["eval", "examples/hipaa"];
    batch_args.extend(HIPAA_FACTS);
    batch_args.extend(["--format", "jsonl"]);
    let batch = edict(&batch_args);
    assert_eq!(batch.status.code(), Some(1), "{}", stderr(&batch));
    let of_rejected = |subject: &str| {
        rejected_ids.iter().any(|id| {
            let id = id.as_str().unwrap();
            subject == id || subject.starts_with(&format!("{id}:"))
        })
    };
    let from_batch: std::collections::BTreeSet<String> = stdout(&batch)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["type"] == "outcome")
        .filter(|v| streamed_rules.contains(v["rule"].as_str().unwrap()))
        .filter(|v| !of_rejected(v["subject"].as_str().unwrap()))
        .map(|v| key(&v["rule"], &v["subject"], &v))
        .collect();
    assert!(from_stream.len() > 20, "{from_stream:?}");
    assert_eq!(from_stream, from_batch);
}
