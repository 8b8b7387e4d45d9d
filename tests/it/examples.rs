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
}
