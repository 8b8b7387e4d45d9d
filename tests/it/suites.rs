//! Case-folder suites: adding a case is adding a file (see tests/README.md).

use std::path::Path;

use edict::report::{Report, ReportOptions};
use edict::{EvalOptions, Facts, PolicySet};

use crate::common::root;

fn render_failure(name: &str, text: &str) -> Option<String> {
    match PolicySet::from_sources([(name.to_string(), text.to_string())]) {
        Ok(set) if set.warnings().is_empty() => None,
        Ok(set) => Some(edict::cli::render_diagnostics(
            set.warnings(),
            &set.program().sources,
            false,
        )),
        Err(failure) => Some(edict::cli::render_diagnostics(
            &failure.diagnostics,
            &failure.sources,
            false,
        )),
    }
}

fn case_name(path: &Path) -> String {
    path.file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("case")
        .to_string()
}

#[test]
fn syntax_ok_cases_parse_and_check() {
    insta::glob!("../syntax/ok", "*.edict", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        if let Some(diags) = render_failure(&case_name(path), &text) {
            panic!("{} should check cleanly:\n{diags}", path.display());
        }
    });
}

#[test]
fn syntax_err_cases_report_diagnostics() {
    insta::glob!("../syntax/err", "*.edict", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let diags = render_failure(&case_name(path), &text)
            .unwrap_or_else(|| panic!("{} should not parse", path.display()));
        insta::assert_snapshot!(diags);
    });
}

#[test]
fn check_ok_cases_check_cleanly() {
    insta::glob!("../check/ok", "*.edict", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        if let Some(diags) = render_failure(&case_name(path), &text) {
            panic!("{} should check cleanly:\n{diags}", path.display());
        }
    });
}

#[test]
fn check_err_cases_report_diagnostics() {
    insta::glob!("../check/err", "*.edict", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let diags = render_failure(&case_name(path), &text)
            .unwrap_or_else(|| panic!("{} should report a diagnostic", path.display()));
        insta::assert_snapshot!(diags);
    });
}

/// Each folder under tests/eval holds policy.edict, facts.json and optionally
/// now.txt (default 2026-11-29); the JSON report is the snapshot.
#[test]
fn eval_cases_produce_their_reports() {
    insta::glob!("../eval", "*/policy.edict", |path| {
        let dir = path.parent().unwrap();
        let text = std::fs::read_to_string(path).unwrap();
        let set = PolicySet::from_sources([("policy.edict".to_string(), text)])
            .unwrap_or_else(|f| panic!("{}: {:?}", dir.display(), f.diagnostics));
        let facts_text = std::fs::read_to_string(dir.join("facts.json")).unwrap();
        let facts = Facts::from_json_str(&facts_text).unwrap();
        let now =
            std::fs::read_to_string(dir.join("now.txt")).unwrap_or_else(|_| "2026-11-29".into());
        let now = edict::eval::value::parse_date(now.trim())
            .map(edict::eval::value::midnight)
            .unwrap();
        let evaluation = set.evaluate(
            &facts,
            &EvalOptions {
                now,
                ..EvalOptions::default()
            },
        );
        let report = Report::new(set.program(), &evaluation, &ReportOptions::default());
        insta::assert_snapshot!(report.to_json());
    });
}

#[test]
fn suites_are_not_empty() {
    for dir in ["syntax/ok", "syntax/err", "check/ok", "check/err", "eval"] {
        let n = std::fs::read_dir(root().join("tests").join(dir))
            .map(|d| d.count())
            .unwrap_or(0);
        assert!(n > 0, "tests/{dir} has no cases");
    }
}
