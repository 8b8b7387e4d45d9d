//! `edict test`: run the policy set's `test` blocks.

use std::path::PathBuf;

use clap::Args;

use super::{paths_or_default, EXIT_OK};
use crate::testing::{self, TestRun};
use crate::PolicySet;

/// Exit code: a test failed, or coverage is below `--coverage-min`.
const EXIT_TEST_FAILED: u8 = 1;

/// Arguments of `edict test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// Policy files or directories (default: the current directory).
    pub paths: Vec<PathBuf>,
    /// Report the rules, requires and waivers no test exercised.
    #[arg(long)]
    pub coverage: bool,
    /// Fail when coverage is below this percentage (implies --coverage).
    #[arg(long, value_name = "PERCENT")]
    pub coverage_min: Option<f64>,
}

/// Runs the tests: exit 0 all pass, 1 a test failed, 2 the set does not check.
pub fn run(args: TestArgs) -> u8 {
    let paths = paths_or_default(args.paths);
    let set = match super::inputs::load_set(&paths) {
        Ok(set) => set,
        Err(code) => return code,
    };
    let run = testing::run(&set, &paths);
    super::out(&render(&set, &run));
    let mut code = if run.failed() > 0 {
        EXIT_TEST_FAILED
    } else {
        EXIT_OK
    };
    if args.coverage || args.coverage_min.is_some() {
        super::out(&render_coverage(&set, &run));
    }
    if let Some(min) = args.coverage_min {
        let percent = run.coverage_percent();
        if percent < min {
            super::out(&format!(
                "coverage {percent:.1}% is below the minimum {min}%\n"
            ));
            code = EXIT_TEST_FAILED;
        }
    }
    code
}

/// The results of a run as text: one line per test, details for failures.
pub fn render(set: &PolicySet, run: &TestRun) -> String {
    let sources = &set.program().sources;
    let at = |span| {
        let loc = sources.location(span);
        format!("{}:{}", loc.file, loc.line)
    };
    let mut out = String::new();
    for r in &run.results {
        let status = if r.passed() { "ok  " } else { "FAIL" };
        out.push_str(&format!("{status} {}  {}\n", at(r.span), r.name));
        for f in &r.failures {
            out.push_str(&format!("     {}: {}\n", at(f.span), f.message));
            for d in &f.details {
                out.push_str(&format!("       {d}\n"));
            }
        }
    }
    let failed = run.failed();
    let passed = run.results.len() - failed;
    out.push_str(&format!(
        "\n{passed} passed, {failed} failed, {} test{}\n",
        run.results.len(),
        if run.results.len() == 1 { "" } else { "s" }
    ));
    out
}

/// The coverage summary and every item no test exercised.
pub fn render_coverage(set: &PolicySet, run: &TestRun) -> String {
    let sources = &set.program().sources;
    let covered = run.coverage.iter().filter(|c| c.covered).count();
    let mut out = format!(
        "coverage: {:.1}% ({covered} of {} rules, requires and waivers exercised)\n",
        run.coverage_percent(),
        run.coverage.len()
    );
    for item in run.coverage.iter().filter(|c| !c.covered) {
        let loc = sources.location(item.span);
        out.push_str(&format!(
            "  not exercised: {:<7} {}:{}  {}\n",
            item.kind.as_str(),
            loc.file,
            loc.line,
            item.name
        ));
    }
    out
}
