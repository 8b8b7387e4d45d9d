//! `cargo bench`: the compiler (checking the HIPAA example policies, and a
//! generated set of 200 or 2,000 rules) and the
//! evaluator (a generated fleet, with and without its join-heavy waiver).
//! The cross-program comparison lives in benches/compare.

use edict::{EvalOptions, Facts, PolicySet};
use serde_json::json;

fn main() {
    divan::main();
}

fn sources() -> Vec<(String, String)> {
    ["patching", "exceptions", "training"]
        .iter()
        .map(|n| {
            let path = format!("{}/examples/hipaa/{n}.edict", env!("CARGO_MANIFEST_DIR"));
            (path.clone(), std::fs::read_to_string(&path).unwrap())
        })
        .collect()
}

/// A fleet of `n` assets shaped like examples/hipaa's, deterministic.
fn fleet(n: usize) -> Facts {
    let severities = ["critical", "high", "medium", "low", "info"];
    let mut exceptions = Vec::new();
    let assets: Vec<_> = (0..n)
        .map(|i| {
            let findings: Vec<_> = (0..i % 9)
                .map(|j| {
                    let cve = format!("CVE-2026-{:05}", (i * 7 + j * 13) % 6000);
                    if (i + j) % 25 == 0 {
                        exceptions.push(json!({
                            "id": format!("EX-{}", exceptions.len()), "asset": format!("a{i}"),
                            "cve": cve, "approver_role": "CISO", "approver": "x", "requester": "y",
                            "approved": "2026-06-01", "expires": "2026-12-01", "review_by": "2026-09-01",
                            "compensating_control": "vlan", "ticket": "T"}));
                    }
                    json!({"cve": cve, "severity": severities[(i + j) % 5],
                           "published": "2026-08-01", "detected": "2026-08-03",
                           "patched": if j % 2 == 0 { json!("2026-08-20") } else { json!(null) }})
                })
                .collect();
            json!({"id": format!("a{i}"), "hostname": format!("h{i}"), "os": "Linux",
                   "legacy": i % 50 == 0, "findings": findings})
        })
        .collect();
    let kev: Vec<_> = (0..1500)
        .map(|c| {
            json!({"cveID": format!("CVE-2026-{:05}", c * 4), "dueDate": "2026-09-01",
                         "vendorProject": "v", "product": "p"})
        })
        .collect();
    let people: Vec<_> = (0..n / 4)
        .map(|i| {
            json!({"id": format!("p{i}"), "name": "n", "role": "r", "hired": "2020-01-01",
                         "last_training": "2026-03-01", "first_training": "2020-01-10"})
        })
        .collect();
    let doc = json!({"assets": assets, "exceptions": exceptions,
                     "kev": {"vulnerabilities": kev}, "people": people});
    Facts::from_json_str(&doc.to_string()).unwrap()
}

#[divan::bench]
fn check_hipaa_policies() -> PolicySet {
    PolicySet::from_sources(sources())
        .map_err(|f| f.diagnostics)
        .unwrap()
}

/// examples/hipaa/patching.edict with its `patch_sla` rule repeated `n`
/// times under distinct names, as one file (docs/performance.md).
fn repeated_rules(n: usize) -> Vec<(String, String)> {
    let path = format!(
        "{}/examples/hipaa/patching.edict",
        env!("CARGO_MANIFEST_DIR")
    );
    let src = std::fs::read_to_string(&path).unwrap();
    let (i, j) = (
        src.find("rule patch_sla").unwrap(),
        src.find("/// Findings whose CVE").unwrap(),
    );
    let mut text = src[..i].to_string();
    for k in 0..n {
        text.push_str(&src[i..j].replace("rule patch_sla", &format!("rule patch_sla_{k}")));
    }
    vec![("rules.edict".to_string(), text)]
}

#[divan::bench(args = [200, 2000])]
fn check_repeated_rules(bencher: divan::Bencher, n: usize) {
    let sources = repeated_rules(n);
    bencher.bench(|| {
        PolicySet::from_sources(sources.clone())
            .map_err(|f| f.diagnostics)
            .unwrap()
    });
}

#[divan::bench(args = [1000, 10000])]
fn evaluate_hipaa(bencher: divan::Bencher, n: usize) {
    let set = PolicySet::from_sources(sources())
        .map_err(|f| f.diagnostics)
        .unwrap();
    let facts = fleet(n);
    let options = EvalOptions {
        now: edict::eval::value::midnight(chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()),
        ..EvalOptions::default()
    };
    bencher.bench(|| set.evaluate(&facts, &options));
}

#[divan::bench(args = [1000, 10000])]
fn parse_facts(bencher: divan::Bencher, n: usize) {
    let text = {
        let assets: Vec<_> = (0..n)
            .map(|i| json!({"id": format!("a{i}"), "findings": [{"cve": "CVE-1", "severity": "high"}]}))
            .collect();
        json!({ "assets": assets }).to_string()
    };
    bencher.bench(|| Facts::from_json_str(&text).unwrap());
}
