//! Performance features: join indexes equal the scan exactly, the fleet
//! generator is deterministic.

use edict::{EvalOptions, Facts, PolicySet};
use serde_json::json;

use crate::common::*;

/// A policy whose waiver and comprehension filters are equality joins.
/// `[[x == y]]` is a join as written; as `(x == y) == true`, which means the
/// same, it is scanned.
const POLICY: &str = r#"
rule patched {
  for a in assets
  let k = first([v for v in kev where [[v.cve == a.cve]] and true])
  subject a.id
  require a.patched or k == null else "{a.id} {a.cve} is unpatched"
}
waiver accepted for patched {
  from e in register where [[e.asset == a.id]] and e.cve == a.cve
  require e.ok == true else "entry {e.id} is not ok"
}
rule joined {
  for a in assets
  for r in register where [[r.asset == a.id]]
  subject "{a.id}/{r.id}"
  require r.ok == true else "{r.id} not ok"
}
"#;

fn outcomes(join: bool, facts: &serde_json::Value, max_steps: u64) -> String {
    outcomes_on(join, facts, max_steps, 1)
}

fn outcomes_on(join: bool, facts: &serde_json::Value, max_steps: u64, threads: usize) -> String {
    let set = PolicySet::from_sources([(
        "p.edict".to_string(),
        if join {
            POLICY.replace("[[", "").replace("]]", "")
        } else {
            POLICY.replace("[[", "(").replace("]]", ") == true")
        },
    )])
    .map_err(|f| f.diagnostics)
    .unwrap();
    let facts = Facts::from_json_str(&facts.to_string()).unwrap();
    let options = EvalOptions {
        now: chrono::DateTime::UNIX_EPOCH,
        max_steps,
        threads,
        ..EvalOptions::default()
    };
    let ev = set.evaluate(&facts, &options);
    let mut out = String::new();
    for r in &ev.rules {
        for s in &r.subjects {
            let texts: Vec<&str> = s.messages.iter().map(|m| m.text.as_str()).collect();
            out += &format!(
                "{} {} {:?} {:?} {:?} {:?}\n",
                r.rule, s.subject, s.outcome, texts, s.waived_by, s.rejected
            );
        }
    }
    for e in &ev.register {
        out += &format!("{e:?}\n");
    }
    out
}

fn fleet(register: Vec<serde_json::Value>, asset_id: serde_json::Value) -> serde_json::Value {
    let kev: Vec<_> = (0..20)
        .map(|i| json!({"cve": format!("CVE-{i}")}))
        .collect();
    let assets: Vec<_> = (0..12)
        .map(|i| {
            let id = if i == 3 {
                asset_id.clone()
            } else {
                json!(format!("a{i}"))
            };
            json!({"id": id, "cve": format!("CVE-{}", i * 2), "patched": i % 3 == 0})
        })
        .collect();
    json!({"assets": assets, "kev": kev, "register": register})
}

fn register() -> Vec<serde_json::Value> {
    (0..12)
        .map(|i| {
            json!({"id": format!("EX-{i}"), "asset": format!("a{}", i % 6),
                   "cve": format!("CVE-{}", (i % 6) * 2), "ok": i % 4 != 1})
        })
        .collect()
}

fn same_as_scan(facts: serde_json::Value) {
    let joined = outcomes(true, &facts, 10_000_000);
    let scanned = outcomes(false, &facts, 10_000_000);
    assert!(
        joined.contains("Waived") || joined.contains("Error"),
        "{joined}"
    );
    assert_eq!(joined, scanned);
}

#[test]
fn a_join_reports_what_the_scan_reports() {
    same_as_scan(fleet(register(), json!("a3")));
}

#[test]
fn a_join_over_odd_elements_falls_back_to_the_scan() {
    let mut missing = register();
    missing[5] = json!({"id": "EX-5", "cve": "CVE-10", "ok": true});
    same_as_scan(fleet(missing, json!("a3")));
    let mut not_object = register();
    not_object[2] = json!("EX-2");
    same_as_scan(fleet(not_object, json!("a3")));
    let mut number_key = register();
    number_key[7] = json!({"id": "EX-7", "asset": 3, "cve": "CVE-2", "ok": true});
    same_as_scan(fleet(number_key, json!(3)));
    let mut date_key = register();
    date_key[0]["asset"] = json!("2026-01-01");
    same_as_scan(fleet(date_key, json!("2026-01-01")));
}

#[test]
fn a_probe_that_fails_or_is_not_a_string_falls_back_to_the_scan() {
    same_as_scan(fleet(register(), json!(3)));
    same_as_scan(fleet(register(), json!(null)));
    same_as_scan(fleet(register(), json!({"x": 1})));
}

#[test]
fn a_join_does_not_scan_the_whole_collection() {
    // 5,000 catalog entries: the scan needs far more than 2,000 steps for a
    // subject, the index a handful.
    let kev: Vec<_> = (0..5000)
        .map(|i| json!({"cve": format!("CVE-{i}")}))
        .collect();
    let facts = json!({"assets": [{"id": "a0", "cve": "CVE-4999", "patched": false}],
                       "kev": kev, "register": []});
    let joined = outcomes(true, &facts, 2_000);
    assert!(joined.starts_with("0 a0 Fail"), "{joined}");
    let scanned = outcomes(false, &facts, 2_000);
    assert!(scanned.contains("budget exceeded"), "{scanned}");
}

#[test]
fn two_threads_report_what_one_thread_reports() {
    let facts = fleet(register(), json!("a3"));
    let one = outcomes_on(true, &facts, 10_000_000, 1);
    for threads in [2, 3, 5, 64] {
        assert_eq!(outcomes_on(true, &facts, 10_000_000, threads), one);
    }
    // The register's used-by lists keep subject order across chunks.
    assert!(one.contains("Waived"), "{one}");
}

#[test]
fn the_threads_option_keeps_the_report_byte_for_byte() {
    let run = |threads: &str| {
        let mut args = vec![
            "eval",
            "examples/hipaa",
            "--format",
            "json",
            "--threads",
            threads,
        ];
        args.extend_from_slice(HIPAA_FACTS);
        let out = edict(&args);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        // The evidence records the command line, which names the thread count.
        stdout(&out).replace(
            &format!("\"--threads\",\n      \"{threads}\""),
            "\"--threads\", N",
        )
    };
    let one = run("1");
    assert!(one.contains("\"outcome\""), "{one}");
    assert_eq!(run("2"), one);
    let zero = edict(&["eval", "examples/hipaa", "--threads", "0"]);
    assert_eq!(zero.status.code(), Some(2));
}

/// A generated fleet's assets as JSON Lines (the shared facts stay in `dir`).
fn jsonl_fleet(dir: &TempDir, assets: &str, seed: &str) -> String {
    fleet_bytes(
        dir,
        &["--assets", assets, "--format", "jsonl", "--seed", seed],
    );
    std::fs::read_to_string(dir.0.join("assets.jsonl")).unwrap()
}

fn fleet_bytes(dir: &TempDir, args: &[&str]) -> Vec<(String, Vec<u8>)> {
    edict_fleet(dir, args);
    let mut files: Vec<_> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn the_fleet_generator_is_deterministic_and_evaluates_like_the_example() {
    let (a, b, c) = (
        TempDir::new("fleet-a"),
        TempDir::new("fleet-b"),
        TempDir::new("fleet-c"),
    );
    let first = fleet_bytes(&a, &["--assets", "300", "--seed", "7"]);
    assert_eq!(first, fleet_bytes(&b, &["--assets", "300", "--seed", "7"]));
    assert_ne!(first, fleet_bytes(&c, &["--assets", "300", "--seed", "8"]));
    // The HIPAA example's policies run on it without a single error outcome.
    let path = a.0.join("fleet.json");
    let out = edict(&[
        "eval",
        "examples/hipaa",
        "--facts",
        path.to_str().unwrap(),
        "--now",
        "2026-11-01",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let summary = report["summary"].to_string();
    assert!(report["rules"].as_array().unwrap().len() >= 5, "{summary}");
    assert_eq!(report["summary"]["error"], 0, "{summary}");
    assert!(
        report["summary"]["waived"].as_u64().unwrap() > 0,
        "{summary}"
    );
    assert!(
        report["summary"]["exceptions"]["rejected"]
            .as_u64()
            .unwrap()
            > 0,
        "{summary}"
    );
    // JSONL: one asset a line, the rest in shared.json.
    let d = TempDir::new("fleet-d");
    let files = fleet_bytes(&d, &["--assets", "50", "--format", "jsonl"]);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["assets.jsonl", "shared.json"]);
    let lines = String::from_utf8_lossy(&files[0].1).lines().count();
    assert_eq!(lines, 50);
}

/// (rule, subject, outcome) of every subject in a batch JSON report.
fn batch_outcomes(report: &serde_json::Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for r in report["rules"].as_array().unwrap() {
        let id = r["id"].as_str().unwrap().to_string();
        for f in r["findings"].as_array().unwrap() {
            out.push((
                id.clone(),
                f["subject"].as_str().unwrap().into(),
                f["outcome"].as_str().unwrap().into(),
            ));
        }
        for p in r["passed"].as_array().unwrap() {
            out.push((id.clone(), p.as_str().unwrap().into(), "pass".into()));
        }
    }
    out.sort();
    out
}

#[test]
fn streaming_reports_the_outcomes_a_batch_run_reports() {
    let dir = TempDir::new("stream");
    let lines = jsonl_fleet(&dir, "60", "3");
    let assets: Vec<serde_json::Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let batch_file = dir.write("assets.json", &json!({ "assets": assets }).to_string());
    let shared = dir.0.join("shared.json");
    let (shared, batch_file) = (shared.to_str().unwrap(), batch_file.to_str().unwrap());
    let common = [
        "eval",
        "examples/hipaa",
        "--now",
        "2026-11-01",
        "--facts",
        shared,
    ];
    let batch = edict(&[&common[..], &["--facts", batch_file, "--format", "json"]].concat());
    assert_eq!(batch.status.code(), Some(1), "{}", stderr(&batch));
    let want = batch_outcomes(&serde_json::from_slice(&batch.stdout).unwrap());
    let stream_file = dir.0.join("assets.jsonl");
    let spec = format!("assets={}", stream_file.display());
    let streamed = edict(&[&common[..], &["--stream", &spec]].concat());
    assert_eq!(streamed.status.code(), Some(1), "{}", stderr(&streamed));
    let mut got: Vec<(String, String, String)> = stdout(&streamed)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v.get("exception").is_none())
        .map(|v| {
            if v["rule"] == "patch_sla" {
                // Every streamed subject names its record's line and id.
                let line = v["line"].as_u64().unwrap() as usize;
                let asset: serde_json::Value =
                    serde_json::from_str(lines.lines().nth(line - 1).unwrap()).unwrap();
                assert_eq!(v["id"], asset["id"]);
            }
            let s = |k: &str| v[k].as_str().unwrap().to_string();
            (s("rule"), s("subject"), s("outcome"))
        })
        .collect();
    got.sort();
    assert!(want.len() > 100, "{}", want.len());
    assert_eq!(got, want);
    // The register listing matches the batch report's.
    let batch_report: serde_json::Value = serde_json::from_slice(&batch.stdout).unwrap();
    let entries = stdout(&streamed)
        .lines()
        .filter(|l| l.contains("\"exception\""))
        .count();
    let want_entries = batch_report["exceptions"].as_array().map_or(0, Vec::len);
    assert!(want_entries > 0);
    assert_eq!(entries, want_entries);
    // The same from stdin.
    let piped = edict_stdin(&[&common[..], &["--stream", "assets=-"]].concat(), &lines);
    assert_eq!(stdout(&piped), stdout(&streamed));
}

#[test]
fn a_malformed_line_is_rejected_with_its_number_and_the_rest_still_run() {
    let input = "{\"id\": \"a1\", \"legacy\": true, \"hostname\": \"h\", \"os\": \"XP\", \"criticality\": \"low\", \"findings\": []}\n{\"id\": broken\n{\"id\": \"a3\", \"legacy\": true, \"hostname\": \"h3\", \"os\": \"XP\", \"criticality\": \"low\", \"findings\": [], \"compensating_control\": \"vlan\"}\n";
    let out = edict_stdin(
        &[
            "eval",
            "examples/hipaa",
            "--now",
            "2026-11-01",
            "--facts",
            "examples/hipaa/exceptions.json",
            "--facts",
            "examples/hipaa/people.json",
            "--facts",
            "kev=examples/hipaa/kev.json",
            "--rule",
            "legacy_compensating_control",
            "--stream",
            "assets=-",
        ],
        input,
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{}", stdout(&out));
    assert_eq!(
        (lines[0]["line"].as_u64(), lines[0]["outcome"].as_str()),
        (Some(1), Some("fail"))
    );
    assert_eq!(
        (lines[1]["line"].as_u64(), lines[1]["outcome"].as_str()),
        (Some(2), Some("rejected"))
    );
    assert_eq!(
        (lines[2]["line"].as_u64(), lines[2]["outcome"].as_str()),
        (Some(3), Some("pass"))
    );
    assert!(stderr(&out).contains("2 records streamed, 1 line rejected"));
}

#[test]
fn a_rule_that_cannot_stream_is_rejected_before_anything_runs() {
    let dir = TempDir::new("e0160");
    let policy = dir.write(
        "p.edict",
        "rule ok {\n  for a in assets\n  require a.id != \"\"\n}\nrule counts {\n  for a in assets\n  require count(assets) > 0\n}\n",
    );
    let out = edict_stdin(
        &["eval", policy.to_str().unwrap(), "--stream", "assets=-"],
        "{\"id\": \"a1\"}\n",
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    assert!(err.contains("E0160"), "{err}");
    assert!(
        err.contains("rule `counts` cannot stream `assets`"),
        "{err}"
    );
    assert!(!err.contains("rule `ok`"), "{err}");
    assert!(err.contains("p.edict:5:1"), "{err}");
}

/// A generated fleet big enough that facts are parsed, checked against the
/// schema, evaluated and rendered on several threads, and a run on one thread
/// gives the same JSON Lines.
#[test]
fn a_fleet_reads_and_reports_the_same_on_any_number_of_threads() {
    let dir = TempDir::new("threads-fleet");
    fleet_bytes(&dir, &["--assets", "2000", "--seed", "7"]);
    let fleet = dir.0.join("fleet.json");
    assert!(
        std::fs::metadata(&fleet).unwrap().len() > 1 << 20,
        "too small to split"
    );
    let fleet = fleet.to_str().unwrap();
    let run = |threads: &str| {
        let args = [
            "eval",
            "examples/hipaa",
            "--facts",
            fleet,
            "--now",
            "2026-11-01",
            "--format",
            "jsonl",
            "--threads",
            threads,
        ];
        let out = edict(&args);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let text = stdout(&out);
        // The evidence line records the command line, which names the count.
        text.replacen(
            &format!("\"--threads\",\"{threads}\""),
            "\"--threads\",N",
            1,
        )
    };
    let one = run("1");
    assert!(
        one.lines().count() > 4096 * 2,
        "{} lines",
        one.lines().count()
    );
    assert!(one.contains("\"outcome\":\"waived\""));
    assert_eq!(run("2"), one);
    assert_eq!(run("3"), one);
}

#[test]
fn streaming_on_several_threads_writes_the_same_bytes_as_one_thread() {
    let dir = TempDir::new("pstream");
    let clean = jsonl_fleet(&dir, "2500", "5");
    // Malformed, blank and CRLF lines, some at the edges of 256-line batches
    // (lines 1,024 and 2,048), so rejections must keep their line numbers
    // across batches.
    let mut input = String::new();
    for (i, line) in clean.lines().enumerate() {
        match i {
            3 | 1023 | 2047 => input.push_str("{\"id\": broken\n"),
            10 | 1024 => input.push('\n'),
            _ => {}
        }
        input.push_str(line);
        input.push_str(if i % 7 == 0 { "\r\n" } else { "\n" });
    }
    let stream = dir.write("assets.jsonl", &input);
    let spec = format!("assets={}", stream.display());
    let shared = dir.0.join("shared.json");
    let shared = shared.to_str().unwrap();
    fn args<'a>(shared: &'a str, spec: &'a str, threads: &'a str) -> [&'a str; 10] {
        [
            "eval",
            "examples/hipaa",
            "--now",
            "2026-11-01",
            "--facts",
            shared,
            "--stream",
            spec,
            "--threads",
            threads,
        ]
    }
    let run = |threads: &str, spec: &str| {
        let out = edict(&args(shared, spec, threads));
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("2500 records streamed, 3 lines rejected"),
            "{}",
            stderr(&out)
        );
        stdout(&out)
    };
    let one = run("1", &spec);
    let rejected: Vec<u64> = one
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["outcome"] == "rejected")
        .map(|v| v["line"].as_u64().unwrap())
        .collect();
    assert_eq!(rejected, [4, 1026, 2052]);
    // Waivers were used, so the register's used-by lists are compared too.
    assert!(one.contains("\"waived_by\""));
    assert!(one.contains("\"exception\""));
    for threads in ["2", "3", "8"] {
        // Not assert_eq!: the output is too long to print usefully.
        assert!(
            run(threads, &spec) == one,
            "--threads {threads} wrote other bytes"
        );
    }
    // From stdin, on two threads: the output outgrows a pipe long before the
    // input is all written, which `edict_stdin` must (and does) survive.
    let piped = edict_stdin(&args(shared, "assets=-", "2"), &input);
    assert!(
        stdout(&piped) == one,
        "stdin on two threads wrote other bytes"
    );
}

/// A report of more lines than several rounds of per-thread blocks: JSON
/// Lines rendered on worker threads while earlier blocks are written is the
/// same text as rendered on one thread.
#[test]
fn json_lines_rendered_on_several_threads_equal_one_thread() {
    let set = PolicySet::from_sources([(
        "p.edict".to_string(),
        "rule trained {\n  for p in people\n  subject p.id\n  require p.trained else \"{p.id} is not trained\"\n}\n"
            .to_string(),
    )])
    .map_err(|f| f.diagnostics)
    .unwrap();
    let people: Vec<serde_json::Value> = (0..70_000)
        .map(|i| json!({"id": format!("p{i}"), "trained": i % 3 == 0}))
        .collect();
    let facts = Facts::from_json_str(&json!({ "people": people }).to_string()).unwrap();
    let ev = set.evaluate(&facts, &EvalOptions::default());
    let report = edict::report::Report::new(set.program(), &ev, &Default::default());
    let one = report.render_on(edict::report::Format::Jsonl, false, 1);
    assert_eq!(one.lines().count(), 70_002);
    for threads in [2, 3] {
        assert_eq!(
            report.render_on(edict::report::Format::Jsonl, false, threads),
            one
        );
    }
}

/// `--stream` writes JSON Lines to standard output as it goes: asked for
/// another format, a file or an explanation, it says so instead of quietly
/// writing something else.
#[test]
fn a_stream_refuses_flags_it_cannot_honour() {
    let dir = TempDir::new("stream-flags");
    jsonl_fleet(&dir, "5", "1");
    let shared = dir.0.join("shared.json");
    let spec = format!("assets={}", dir.0.join("assets.jsonl").display());
    let run = |extra: &[&str]| {
        let args = [
            &["eval", "examples/hipaa", "--now", "2026-11-01", "--quiet"][..],
            &["--facts", shared.to_str().unwrap(), "--stream", &spec],
            extra,
        ]
        .concat();
        edict(&args)
    };
    let output = dir.0.join("report.jsonl");
    for (extra, says) in [
        (vec!["--format", "pretty"], "--format pretty"),
        (vec!["--format", "sarif"], "--format sarif"),
        (vec!["--output", output.to_str().unwrap()], "--output"),
        (vec!["--explain"], "--explain"),
    ] {
        let out = run(&extra);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{extra:?}: {}", stderr(&out));
        assert!(stdout(&out).is_empty(), "{extra:?} wrote output");
    }
    assert!(!output.exists());
    // JSON Lines, asked for or not, streams.
    for extra in [vec![], vec!["--format", "jsonl"]] {
        let out = run(&extra);
        assert_eq!(out.status.code(), Some(1), "{extra:?}: {}", stderr(&out));
        assert!(stdout(&out).lines().count() > 5, "{extra:?}");
    }
}
