//! Resource limits on built values, nothing lost in batch mode, determinism
//! across threads and modes, and a sandbox: rules reach no file, env, clock
//! or network.

use edict::eval::Limits;
use edict::{EvalOptions, Facts, Outcome, PolicySet};

use crate::common::*;

fn set(text: &str) -> PolicySet {
    PolicySet::from_sources([("p.edict".to_string(), text.to_string())])
        .map_err(|f| f.diagnostics)
        .unwrap()
}

fn options(limits: Limits) -> EvalOptions {
    EvalOptions {
        now: chrono::DateTime::UNIX_EPOCH,
        limits,
        ..EvalOptions::default()
    }
}

/// The first subject's outcome and first message.
fn first(policy: &str, facts: &str, options: &EvalOptions) -> (Outcome, String) {
    let facts = Facts::from_json_str(facts).unwrap();
    let ev = set(policy).evaluate(&facts, options);
    let s = &ev.rules[0].subjects[0];
    let text = s
        .messages
        .first()
        .map(|m| m.text.clone())
        .unwrap_or_default();
    (s.outcome, text)
}

fn small(bytes: usize, items: usize) -> Limits {
    Limits {
        max_string_bytes: bytes,
        max_list_items: items,
    }
}

const DOUBLING: &str = "fn d(s) = s + s\n";

fn doubled(times: usize, seed: &str) -> String {
    format!("{}{seed}{}", "d(".repeat(times), ")".repeat(times))
}

#[test]
fn string_concatenation_past_the_limit_is_an_error_naming_it() {
    let policy = format!(
        "{DOUBLING}rule r {{\n  require {} != \"\"\n}}\n",
        doubled(12, "\"x\"")
    );
    let (outcome, message) = first(&policy, "{}", &options(small(1000, 100)));
    assert_eq!(outcome, Outcome::Error);
    assert!(message.contains("--max-string-bytes"), "{message}");
    assert!(message.contains("1024 bytes"), "{message}");
    // Below the limit the same rule passes.
    let (outcome, message) = first(&policy, "{}", &options(small(4096, 100)));
    assert_eq!(outcome, Outcome::Pass, "{message}");
}

#[test]
fn the_default_string_limit_stops_a_doubling_before_memory_runs_out() {
    // 2^40 bytes if unchecked; refused at 32 MiB, the first over 16 MiB.
    let policy = format!(
        "{DOUBLING}rule r {{\n  require {} != \"\"\n}}\n",
        doubled(40, "\"x\"")
    );
    let (outcome, message) = first(&policy, "{}", &options(Limits::default()));
    assert_eq!(outcome, Outcome::Error);
    assert!(message.contains("33554432 bytes"), "{message}");
}

#[test]
fn interpolation_past_the_limit_is_an_error() {
    let policy = "rule r {\n  require \"{s}{s}{s}\" != \"\"\n}\n";
    let (outcome, message) = first(policy, r#"{"s": "abcdefghij"}"#, &options(small(25, 100)));
    assert_eq!(outcome, Outcome::Error);
    assert!(message.contains("--max-string-bytes"), "{message}");
}

#[test]
fn list_concatenation_and_comprehensions_past_the_limit_are_errors() {
    let facts = r#"{"xs": [1, 2, 3, 4, 5, 6]}"#;
    for policy in [
        "rule r {\n  require count(xs + xs) > 0\n}\n",
        "rule r {\n  require count([x * 2 for x in xs]) > 0\n}\n",
    ] {
        let (outcome, message) = first(policy, facts, &options(small(1000, 5)));
        assert_eq!(outcome, Outcome::Error, "{policy}");
        assert!(message.contains("--max-list-items"), "{message}");
        let (outcome, message) = first(policy, facts, &options(small(1000, 12)));
        assert_eq!(outcome, Outcome::Pass, "{policy}: {message}");
    }
}

#[test]
fn builtins_that_build_lists_and_strings_are_checked() {
    let facts = r#"{"s": "a,b,c,d,e,f", "xs": ["aaaa", "bbbb", "cccc"]}"#;
    let (outcome, message) = first(
        "rule r {\n  require count(split(s, \",\")) > 0\n}\n",
        facts,
        &options(small(1000, 4)),
    );
    assert_eq!(outcome, Outcome::Error);
    assert!(message.contains("a list of 6 items"), "{message}");
    let (outcome, message) = first(
        "rule r {\n  require join(xs, \"--------\") != \"\"\n}\n",
        facts,
        &options(small(20, 100)),
    );
    assert_eq!(outcome, Outcome::Error);
    assert!(message.contains("a string of 28 bytes"), "{message}");
}

#[test]
fn a_limit_is_one_subjects_error_not_the_runs() {
    let policy = "rule r {\n  for p in people\n  require count([c for c in p.tags]) < 100\n}\n";
    let facts =
        r#"{"people": [{"id": "a", "tags": [1, 2]}, {"id": "b", "tags": [1, 2, 3, 4, 5]}]}"#;
    let facts = Facts::from_json_str(facts).unwrap();
    let ev = set(policy).evaluate(&facts, &options(small(1000, 3)));
    let outcomes: Vec<Outcome> = ev.rules[0].subjects.iter().map(|s| s.outcome).collect();
    assert_eq!(outcomes, [Outcome::Pass, Outcome::Error]);
}

#[test]
fn the_limit_flags_reach_the_evaluator() {
    let dir = TempDir::new("limitflags");
    dir.write(
        "p.edict",
        "rule r {\n  for p in people\n  require count([c for c in p.tags]) < 100\n}\n",
    );
    dir.write("f.json", r#"{"people": [{"id": "a", "tags": [1, 2, 3]}]}"#);
    let run = |extra: &[&str]| {
        let mut args = vec![
            "eval",
            "p.edict",
            "--facts",
            "f.json",
            "--now",
            "2026-11-29",
        ];
        args.extend_from_slice(extra);
        edict_in(&dir.0, &args)
    };
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let out = run(&["--max-list-items", "2"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("--max-list-items"),
        "{}",
        stdout(&out)
    );
    let out = run(&["--max-string-bytes", "0", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn each_waiver_candidate_gets_the_whole_step_budget() {
    // Every candidate costs a few hundred steps; together they cost far
    // more than one subject's budget, and only the last entry qualifies.
    let policy = "rule r {\n  for p in people\n  require p.ok else \"{p.id} is not ok\"\n}\n\
        waiver w for r {\n  from e in register where e.who == p.id\n  \
        require count([n for n in nums where n >= 0]) == 100 and e.good\n}\n";
    let entries: Vec<String> = (0..60)
        .map(|i| format!(r#"{{"id": "E{i}", "who": "a", "good": {}}}"#, i == 59))
        .collect();
    let nums: Vec<String> = (0..100).map(|n| n.to_string()).collect();
    let facts = format!(
        r#"{{"people": [{{"id": "a", "ok": false}}], "register": [{}], "nums": [{}]}}"#,
        entries.join(", "),
        nums.join(", ")
    );
    let facts = Facts::from_json_str(&facts).unwrap();
    let options = EvalOptions {
        max_steps: 2_000,
        ..options(Limits::default())
    };
    let ev = set(policy).evaluate(&facts, &options);
    let s = &ev.rules[0].subjects[0];
    assert_eq!(s.outcome, Outcome::Waived, "{:?}", s.rejected.first());
    // A candidate that alone exceeds the budget is rejected, naming it.
    let options = EvalOptions {
        max_steps: 100,
        ..options
    };
    let ev = set(policy).evaluate(&facts, &options);
    let s = &ev.rules[0].subjects[0];
    assert_eq!(s.outcome, Outcome::Fail);
    assert!(
        s.rejected[0].reasons[0].contains("evaluation budget exceeded"),
        "{:?}",
        s.rejected[0]
    );
}

const PEOPLE_POLICY: &str =
    "rule r {\n  for p in people\n  require p.ok else \"{p.id} is not ok\"\n}\n";
/// Five records: lines 2 and 5 are malformed, line 3 is blank.
const PEOPLE_JSONL: &str =
    "{\"id\": \"a\", \"ok\": true}\n{\"id\": \"b\", ok}\n\n{\"id\": \"c\", \"ok\": true}\n[1,\n{\"id\": \"d\", \"ok\": true}\n";

fn eval_people(extra: &[&str]) -> std::process::Output {
    let dir = TempDir::new("records");
    dir.write("p.edict", PEOPLE_POLICY);
    dir.write("people.jsonl", PEOPLE_JSONL);
    let mut args = vec![
        "eval",
        "p.edict",
        "--facts",
        "people.jsonl",
        "--now",
        "2026-11-29",
    ];
    args.extend_from_slice(extra);
    edict_in(&dir.0, &args)
}

#[test]
fn malformed_jsonl_records_are_left_out_located_and_counted() {
    let out = eval_people(&["--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("people.jsonl:2:"), "{err}");
    assert!(err.contains("people.jsonl:5:"), "{err}");
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let records = &report["summary"]["records"];
    assert_eq!(records["read"], 5, "{records}");
    assert_eq!(records["evaluated"], 3, "{records}");
    assert_eq!(records["rejected"], 2, "{records}");
    assert_eq!(records["malformed"].as_array().map(Vec::len), Some(2));
    assert_eq!(report["summary"]["pass"], 3);
    assert_eq!(report["summary"]["compliant"], false);
}

#[test]
fn the_pretty_summary_accounts_for_every_record() {
    let out = eval_people(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains(
            "3 pass, 0 fail, 0 waived, 0 error; 5 records: 3 evaluated, 2 rejected — NON-COMPLIANT"
        ),
        "{}",
        stdout(&out)
    );
}

#[test]
fn exit_zero_never_hides_records_left_out() {
    let out = eval_people(&["--exit-zero"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("left out"), "{}", stderr(&out));
}

#[test]
fn strict_makes_a_malformed_record_fatal() {
    let out = eval_people(&["--strict"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("F0001"), "{}", stderr(&out));
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
}

#[test]
fn well_formed_jsonl_is_counted_and_stays_compliant() {
    let dir = TempDir::new("records-ok");
    dir.write("p.edict", PEOPLE_POLICY);
    dir.write(
        "people.jsonl",
        "{\"id\": \"a\", \"ok\": true}\n{\"id\": \"b\", \"ok\": true}\n",
    );
    let out = edict_in(
        &dir.0,
        &[
            "eval",
            "p.edict",
            "--facts",
            "people.jsonl",
            "--now",
            "2026-11-29",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        report["summary"]["records"],
        serde_json::json!({"read": 2, "evaluated": 2, "rejected": 0})
    );
}

/// Library files that may touch the outside world, and why. Anything else
/// under the evaluator's reach that names one of the banned APIs fails.
const SANDBOX_ALLOWED: &[(&str, &str)] = &[
    ("src/eval/facts.rs", "std::fs"),
    ("src/eval/facts.rs", "std::io"),
    ("src/eval/mod.rs", "Utc::now"),
    ("src/eval/stream.rs", "std::io"),
];

const SANDBOX_BANNED: &[&str] = &[
    "std::fs",
    "std::env",
    "std::net",
    "std::process",
    "std::io",
    "SystemTime",
    "Utc::now",
    "Local::now",
    "Instant::now",
    "std::time",
    "TcpStream",
    "File::",
    "env!(",
    "include_str!(",
];

#[test]
fn rules_can_reach_no_file_env_clock_or_network() {
    let root = root();
    let mut files = vec![root.join("src/ir.rs")];
    for dir in ["src/check", "src/eval", "src/builtins"] {
        let mut stack = vec![root.join(dir)];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    files.push(path);
                }
            }
        }
    }
    assert!(files.len() > 10, "{files:?}");
    let mut found = Vec::new();
    for file in &files {
        let rel = file
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(file).unwrap();
        // Unit tests may use anything.
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for banned in SANDBOX_BANNED {
            if code.contains(banned) && !SANDBOX_ALLOWED.contains(&(rel.as_str(), *banned)) {
                found.push(format!("{rel}: {banned}"));
            }
        }
    }
    assert!(
        found.is_empty(),
        "rule evaluation must not reach files, the environment, the clock or the network; \
         allow-list a legitimate use in SANDBOX_ALLOWED: {found:#?}"
    );
    // The scan sees a real use: the facts loader reads files.
    let facts = std::fs::read_to_string(root.join("src/eval/facts.rs")).unwrap();
    assert!(facts.contains("std::fs"));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    const POLICY: &str = r#"rule ok_rule {
  for p in people
  require p.ok else "{p.id} is not ok"
}

rule score_rule {
  for p in people
  require p.score >= 50 else "{p.id} scored {p.score}"
  require count([t for t in p.tags where t != "x"]) <= 2 else "{p.id} has too many tags"
}

rule ratio {
  for p in people
  require 100 / p.score > 1
}

waiver accepted for ok_rule {
  from e in exceptions where e.who == p.id
  require e.good else "exception {e.id} is not good"
}
"#;

    /// One person: ok, score, tags.
    type Person = (bool, i64, Vec<String>);

    fn people() -> impl Strategy<Value = Vec<Person>> {
        proptest::collection::vec(
            (
                any::<bool>(),
                0i64..100,
                proptest::collection::vec("[a-z]{1,2}", 0..4),
            ),
            0..24,
        )
    }

    fn exceptions() -> impl Strategy<Value = Vec<(usize, bool)>> {
        proptest::collection::vec((0usize..24, any::<bool>()), 0..6)
    }

    fn person_json(i: usize, (ok, score, tags): &Person) -> serde_json::Value {
        serde_json::json!({"id": format!("p{i}"), "ok": ok, "score": score, "tags": tags})
    }

    fn exceptions_json(ex: &[(usize, bool)]) -> serde_json::Value {
        let list: Vec<serde_json::Value> = ex
            .iter()
            .enumerate()
            .map(|(k, (who, good))| serde_json::json!({"id": format!("E{k}"), "who": format!("p{who}"), "good": good}))
            .collect();
        serde_json::json!({ "exceptions": list })
    }

    fn report_json(set: &PolicySet, facts: &Facts, threads: usize) -> String {
        let options = EvalOptions {
            now: chrono::DateTime::UNIX_EPOCH,
            threads,
            ..EvalOptions::default()
        };
        let ev = set.evaluate(facts, &options);
        edict::report::Report::new(set.program(), &ev, &Default::default()).to_json()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, rng_seed: proptest::test_runner::RngSeed::Fixed(0xED1C7), ..ProptestConfig::default() })]

        #[test]
        fn reports_are_byte_identical_at_any_thread_count(ps in people(), ex in exceptions()) {
            let set = set(POLICY);
            let mut doc = exceptions_json(&ex);
            doc["people"] = ps.iter().enumerate().map(|(i, p)| person_json(i, p)).collect();
            let facts = Facts::from_json_str(&doc.to_string()).unwrap();
            let one = report_json(&set, &facts, 1);
            prop_assert_eq!(&one, &report_json(&set, &facts, 2));
            prop_assert_eq!(&one, &report_json(&set, &facts, 4));
        }
    }

    /// A message with the index after `people[` blanked: a streamed record
    /// is bound as a one-element list, so its fact path reads `people[0]`
    /// where a batch run says `people[N]` (docs/robustness.md).
    fn without_index(message: &str) -> String {
        let mut out = String::new();
        let mut rest = message;
        while let Some(at) = rest.find("people[") {
            let (before, after) = rest.split_at(at + "people[".len());
            out.push_str(before);
            rest = after.trim_start_matches(|c: char| c.is_ascii_digit());
            out.push('_');
        }
        out.push_str(rest);
        out
    }

    /// (rule, subject, outcome, messages) of every outcome line, sorted.
    fn outcomes(jsonl: &str, batch: bool) -> Vec<(String, String, String, Vec<String>)> {
        let mut out: Vec<_> = jsonl
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| {
                if batch {
                    v["type"] == "outcome"
                } else {
                    v["outcome"].is_string()
                }
            })
            .map(|v| {
                let messages = v["messages"]
                    .as_array()
                    .map(|ms| {
                        ms.iter()
                            .map(|m| m.get("message").unwrap_or(m).as_str().unwrap_or(""))
                            .map(without_index)
                            .collect()
                    })
                    .unwrap_or_default();
                let s = |k: &str| v[k].as_str().unwrap_or("").to_string();
                (s("rule"), s("subject"), s("outcome"), messages)
            })
            .collect();
        out.sort();
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 6, failure_persistence: None, rng_seed: proptest::test_runner::RngSeed::Fixed(0xED1C7), ..ProptestConfig::default() })]

        #[test]
        fn streamed_and_batch_outcomes_agree(ps in people(), ex in exceptions()) {
            let dir = TempDir::new("streambatch");
            dir.write("p.edict", POLICY);
            dir.write("ex.json", &exceptions_json(&ex).to_string());
            let lines: Vec<String> = ps.iter().enumerate().map(|(i, p)| person_json(i, p).to_string()).collect();
            dir.write("people.jsonl", &format!("{}\n", lines.join("\n")));
            let common = ["eval", "p.edict", "--facts", "ex.json", "--now", "2026-11-29"];
            let mut batch = common.to_vec();
            batch.extend(["--facts", "people.jsonl", "--format", "jsonl"]);
            let mut stream = common.to_vec();
            stream.extend(["--stream", "people=people.jsonl"]);
            let b = edict_in(&dir.0, &batch);
            let s = edict_in(&dir.0, &stream);
            prop_assert_eq!(b.status.code(), s.status.code(), "{}{}", stderr(&b), stderr(&s));
            let (b, s) = (outcomes(&stdout(&b), true), outcomes(&stdout(&s), false));
            prop_assert!(!ps.is_empty() || b.is_empty());
            prop_assert_eq!(b, s);
        }

        #[test]
        fn fact_paths_are_compared_without_their_stream_index(i in 0usize..1000) {
            prop_assert_eq!(
                without_index(&format!("people[{i}].score: division by zero")),
                "people[_].score: division by zero"
            );
        }
    }
}

#[test]
fn a_policy_file_over_8_mib_is_refused_with_e0009() {
    let dir = TempDir::new("bigpolicy");
    let line = "# padding padding padding padding padding padding padding padding\n";
    let text = line.repeat(8 * 1024 * 1024 / line.len() + 1);
    dir.write("p.edict", &format!("{text}rule r {{\n  require true\n}}\n"));
    let out = edict_in(&dir.0, &["check", "p.edict"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("E0009"), "{}", stderr(&out));
}
