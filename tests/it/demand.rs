//! Building only the facts a policy reads: the same outcomes, messages and
//! register as building everything, on the example's facts and on a
//! generated fleet with awkward records.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use edict::{EvalOptions, Facts, PolicySet};

use crate::common::*;

/// The HIPAA example without its schema: with a schema, facts are validated
/// whole and built whole.
fn hipaa_without_schema() -> PolicySet {
    let dir = root().join("examples/hipaa");
    let sources = ["patching", "exceptions", "operations", "training"].map(|name| {
        let path = dir.join(format!("{name}.edict"));
        (
            path.display().to_string(),
            std::fs::read_to_string(&path).unwrap(),
        )
    });
    PolicySet::from_sources(sources)
        .map_err(|f| f.diagnostics)
        .unwrap()
}

/// Every rule's subjects, outcomes, messages and waivers, and the register.
fn evaluate(
    set: &PolicySet,
    inputs: &[(Option<&str>, PathBuf)],
    read: bool,
    threads: usize,
) -> String {
    let mut facts = Facts::default();
    facts.parse_threads = threads;
    if read {
        facts.demand = Some(Arc::new(set.demand()));
    }
    for (mount, path) in inputs {
        facts.add_source(path, *mount, None, None).unwrap();
    }
    let options = EvalOptions {
        now: edict::eval::value::midnight(chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()),
        threads,
        ..EvalOptions::default()
    };
    let ev = set.evaluate(&facts, &options);
    let mut out = String::new();
    for r in &ev.rules {
        for s in &r.subjects {
            out += &format!("{} {s:?}\n", r.rule);
        }
    }
    for e in &ev.register {
        out += &format!("{e:?}\n");
    }
    out
}

fn same_either_way(set: &PolicySet, inputs: &[(Option<&str>, PathBuf)]) -> String {
    let all = evaluate(set, inputs, false, 1);
    for threads in [1, 2] {
        assert_eq!(
            evaluate(set, inputs, true, threads),
            all,
            "{threads} threads"
        );
    }
    all
}

#[test]
fn the_example_reports_the_same_from_the_fields_it_reads() {
    let dir = root().join("examples/hipaa");
    let at = |f: &str| dir.join(f);
    let inputs: Vec<(Option<&str>, PathBuf)> = [
        "assets.json",
        "people.json",
        "exceptions.json",
        "asset_controls.json",
        "changes.json",
        "deployments.json",
        "scans.json",
    ]
    .iter()
    .map(|f| (None, at(f)))
    .chain([(Some("kev"), at("kev.json"))])
    .collect();
    let all = same_either_way(&hipaa_without_schema(), &inputs);
    // The example's bad data makes error subjects, whose messages must match.
    assert!(all.contains("outcome: Error"), "{all}");
    assert!(all.contains("outcome: Waived"), "{all}");
}

/// Generates a fleet into `dir` and returns its `fleet.json`.
fn generated(dir: &TempDir, assets: &str, seed: &str, extra: &[&str]) -> PathBuf {
    edict_fleet(
        dir,
        &[&["--assets", assets, "--seed", seed][..], extra].concat(),
    );
    dir.0.join("fleet.json")
}

/// Edits a generated fleet's assets so that values are not what the policy
/// expects, in every way a message could show them.
fn awkward(fleet: &Path) -> PathBuf {
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fleet).unwrap()).unwrap();
    let assets = doc["assets"].as_array_mut().unwrap();
    // Assets with findings, whose first finding the edits below change.
    let with: Vec<usize> = (0..assets.len())
        .filter(|&i| {
            assets[i]["findings"]
                .as_array()
                .is_some_and(|f| !f.is_empty())
        })
        .take(6)
        .collect();
    // Findings as an object: iterating it fails, quoting it.
    assets[with[2]]["findings"] = serde_json::json!({"cve": "CVE-1", "note": "not a list"});
    // A misspelt field: reading `severity` fails with a hint naming it.
    let f = assets[with[0]]["findings"][0].as_object_mut().unwrap();
    let severity = f.remove("severity").unwrap();
    f.insert("severty".into(), severity);
    // A number where a severity goes, and an object for an id.
    assets[with[1]]["findings"][0]["severity"] = serde_json::json!(5);
    assets[with[3]]["id"] = serde_json::json!({"x": 1, "y": [2]});
    // A list where an asset goes: reading its fields fails, quoting it.
    assets[with[4]] = serde_json::json!([{"id": "z", "os": "x"}, 2]);
    // No hostname, but a key like it.
    let a = assets[with[5]].as_object_mut().unwrap();
    let host = a.remove("hostname").unwrap();
    a.insert("HostName_".into(), host);
    // Catalog entries that are not what a lookup expects: a string, a
    // number for a CVE id, and one whose fields a message would print.
    let catalog = doc["kev"]["vulnerabilities"].as_array_mut().unwrap();
    catalog.insert(0, serde_json::json!("CVE-2019-10000"));
    catalog.push(serde_json::json!({"cveID": 5, "dueDate": "2026-01-01"}));
    let path = fleet.with_file_name("awkward.json");
    std::fs::write(&path, serde_json::to_string(&doc).unwrap()).unwrap();
    path
}

#[test]
fn awkward_records_report_the_same_from_the_fields_read() {
    let dir = TempDir::new("demand-fleet");
    let fleet = awkward(&generated(&dir, "2000", "3", &[]));
    assert!(
        std::fs::metadata(&fleet).unwrap().len() > 1 << 20,
        "too small to be parsed on threads"
    );
    let all = same_either_way(&hipaa_without_schema(), &[(None, fleet)]);
    for expected in [
        "expected a list to iterate over",
        "cannot read field `cveID`",
        "did you mean `severty`?",
        "has no field `hostname`",
        "x: 1",
    ] {
        assert!(
            all.contains(expected),
            "no {expected:?} in the outcomes:\n{}",
            all.lines()
                .filter(|l| l.contains("Error"))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

#[test]
fn scanner_detail_adds_fields_and_changes_no_other_value() {
    let generate = |dir: &TempDir, detail: bool| -> serde_json::Value {
        let extra: &[&str] = if detail { &["--scanner-detail"] } else { &[] };
        let fleet = generated(dir, "60", "9", extra);
        serde_json::from_str(&std::fs::read_to_string(fleet).unwrap()).unwrap()
    };
    let plain = generate(&TempDir::new("plain-fleet"), false);
    let mut detailed = generate(&TempDir::new("detail-fleet"), true);
    let mut added = 0;
    for asset in detailed["assets"].as_array_mut().unwrap() {
        for f in asset["findings"].as_array_mut().unwrap() {
            let f = f.as_object_mut().unwrap();
            for key in [
                "plugin_id",
                "title",
                "description",
                "solution",
                "plugin_output",
                "port",
                "protocol",
                "cvss3",
            ] {
                added += usize::from(f.remove(key).is_some());
            }
        }
    }
    assert!(added > 60 * 8, "{added} fields added");
    assert_eq!(detailed, plain);
}

/// Streamed records built to the policy's demand give the outcomes of
/// records built whole, awkward ones included, on one and two threads.
#[test]
fn streamed_records_report_the_same_from_the_fields_read() {
    use edict::eval::stream::{evaluate_stream, StreamEvent, Streamed};
    let dir = TempDir::new("demand-stream");
    let fleet = awkward(&generated(&dir, "600", "4", &[]));
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&fleet).unwrap()).unwrap();
    let assets = doc["assets"].take();
    let lines: String = assets
        .as_array()
        .unwrap()
        .iter()
        .map(|a| format!("{a}\n"))
        .collect();
    let shared = dir.write("shared.json", &doc.to_string());
    let set = hipaa_without_schema();
    let plan = edict::check::stream::plan(set.program(), "assets");
    assert!(plan.diagnostics.is_empty());
    let run = |read: bool, threads: usize| {
        let mut facts = Facts::default();
        if read {
            facts.demand = Some(Arc::new(set.demand()));
        }
        facts.add_source(&shared, None, None, None).unwrap();
        let options = EvalOptions {
            now: edict::eval::value::midnight(
                chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            ),
            threads,
            ..EvalOptions::default()
        };
        let mut events = String::new();
        let summary = evaluate_stream(
            set.program(),
            &facts,
            Streamed {
                name: "assets",
                rules: &plan.streamed,
            },
            lines.as_bytes(),
            &options,
            |ev| match ev {
                StreamEvent::Subject {
                    line,
                    id,
                    rule,
                    result,
                } => {
                    format!("{line} {id:?} {rule} {result:?}\n")
                }
                other => format!("{other:?}\n"),
            },
            |text| events += &text,
        )
        .unwrap();
        format!("{events}{:?}", summary.register)
    };
    let all = run(false, 1);
    assert!(
        all.contains("did you mean `severty`?"),
        "no hint in the outcomes"
    );
    for threads in [1, 2] {
        assert!(
            run(true, threads) == all,
            "{threads} threads: outcomes differ"
        );
    }
}
