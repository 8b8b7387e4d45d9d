//! The shipped examples produce the outcomes their READMEs promise.

use std::collections::BTreeMap;

use crate::common::*;

/// examples/hipaa/expected.json was computed independently of Edict (by a
/// separate re-implementation of the rules over the same facts); every
/// subject's outcome must match it.
#[test]
fn hipaa_example_matches_its_independent_oracle() {
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("examples/hipaa/expected.json")).unwrap(),
    )
    .unwrap();
    let mut args = vec!["eval", "examples/hipaa", "--format", "json"];
    args.extend_from_slice(HIPAA_FACTS);
    let out = edict(&args);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let rules = expected["rules"].as_object().unwrap();
    assert_eq!(report["rules"].as_array().unwrap().len(), rules.len());
    for (id, want) in rules {
        let got = report["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == **id)
            .unwrap_or_else(|| panic!("no rule {id}"));
        assert_rule_matches(id, got, want);
    }
}

/// The facts arguments of the KEV fleet example.
const KEV_FLEET_ARGS: &[&str] = &[
    "eval",
    "examples/kev-fleet",
    "--format",
    "json",
    "--facts",
    "examples/kev-fleet/fleet.json",
    "--facts",
    "examples/kev-fleet/advisories.json",
    "--facts",
    "catalog=examples/kev-fleet/kev.json",
    "--now",
    "2025-09-01",
];

/// examples/kev-fleet/expected.json was worked out by hand (its README shows
/// the working); every subject's outcome and every count must match it.
#[test]
fn kev_fleet_example_matches_its_hand_worked_outcomes() {
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("examples/kev-fleet/expected.json")).unwrap(),
    )
    .unwrap();
    let out = edict(KEV_FLEET_ARGS);
    assert_eq!(
        out.status.code(),
        Some(1),
        "non-compliant run: {}",
        stderr(&out)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let rules = expected["rules"].as_object().unwrap();
    let got_rules = report["rules"].as_array().unwrap();
    assert_eq!(got_rules.len(), rules.len());
    for (id, want) in rules {
        let got = got_rules
            .iter()
            .find(|r| r["id"] == **id)
            .unwrap_or_else(|| panic!("no rule {id}"));
        assert_rule_matches(id, got, want);
    }
}

/// The catalog shipped with the example is CISA's release, unmodified.
#[test]
fn kev_fleet_catalog_is_the_unmodified_cisa_release() {
    let text = std::fs::read_to_string(root().join("examples/kev-fleet/kev.json")).unwrap();
    let catalog: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(catalog["catalogVersion"], "2025.08.25");
    assert_eq!(catalog["count"], 1404);
    assert_eq!(catalog["vulnerabilities"].as_array().unwrap().len(), 1404);
}

/// Every example's `test` blocks pass when the examples are loaded as one
/// policy set, as `edict test examples/` does.
#[test]
fn edict_test_over_all_examples_is_green() {
    let out = edict(&["test", "examples/"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.contains("examples/kev-fleet/tests.edict"), "{text}");
    assert!(text.contains("examples/hipaa/tests.edict"), "{text}");
    assert!(text.contains(" 0 failed"), "{text}");
}

/// Every subject of a reported rule has the expected outcome, and the counts agree.
fn assert_rule_matches(id: &str, got: &serde_json::Value, want: &serde_json::Value) {
    let mut outcomes: BTreeMap<String, String> = BTreeMap::new();
    for f in got["findings"].as_array().unwrap() {
        outcomes.insert(
            f["subject"].as_str().unwrap().into(),
            f["outcome"].as_str().unwrap().into(),
        );
    }
    for p in got["passed"].as_array().unwrap() {
        outcomes.insert(p.as_str().unwrap().into(), "pass".into());
    }
    let want_outcomes: BTreeMap<String, String> = want["subjects"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    assert_eq!(outcomes, want_outcomes, "rule {id}");
    for o in ["pass", "fail", "waived", "error"] {
        assert_eq!(got["counts"][o], want[o], "rule {id} count {o}");
    }
}
