//! Every report format of the same HIPAA evaluation, parsed back and checked
//! against the JSON report; evidence, byte-stability, `--output` and exit codes.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use sha2::Digest as _;

use crate::common::*;

const FORMATS: [&str; 7] = [
    "pretty", "json", "jsonl", "sarif", "junit", "markdown", "html",
];

/// `edict eval examples/hipaa` in a format, extra arguments appended.
fn hipaa(format: &str, extra: &[&str]) -> Output {
    let mut args = vec!["eval", "examples/hipaa", "--format", format];
    args.extend_from_slice(HIPAA_FACTS);
    args.extend_from_slice(extra);
    edict(&args)
}

/// The JSON report: the reference every other format is compared with.
fn reference() -> Value {
    let out = hipaa("json", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

fn n(v: &Value) -> usize {
    v.as_u64().expect("a count") as usize
}

fn sha256(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn json_evidence_digests_are_the_sha256_of_the_inputs() {
    let json = reference();
    let e = &json["evidence"];
    assert_eq!(e["tool_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(e["now"], "2026-11-29T00:00:00Z");
    let mut digests = Vec::new();
    for f in e["policy_files"].as_array().unwrap() {
        let bytes = std::fs::read(root().join(f["path"].as_str().unwrap())).unwrap();
        assert_eq!(f["sha256"], sha256(&bytes), "{f}");
        assert_eq!(n(&f["bytes"]), bytes.len());
        digests.push(sha256(&bytes));
    }
    assert_eq!(digests.len(), hipaa_policy_files());
    digests.sort();
    let lines: String = digests.iter().map(|d| format!("{d}\n")).collect();
    assert_eq!(e["policy_set_sha256"], sha256(lines.as_bytes()));
    let facts = e["facts"].as_array().unwrap();
    assert_eq!(facts.len(), 8);
    for f in facts {
        let bytes = std::fs::read(root().join(f["path"].as_str().unwrap())).unwrap();
        assert_eq!(f["sha256"], sha256(&bytes), "{f}");
    }
    assert_eq!(facts[2]["mount"], "kev");
    let cmd: Vec<&str> = e["command_line"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(cmd[..3], ["edict", "eval", "examples/hipaa"]);
    assert!(cmd.contains(&"kev=examples/hipaa/kev.json"), "{cmd:?}");
}

#[test]
fn pretty_report_counts_match_json() {
    let json = reference();
    let s = &json["summary"];
    let out = hipaa("pretty", &[]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    for (word, key) in [
        ("FAIL  ", "fail"),
        ("WAIVED", "waived"),
        ("ERROR ", "error"),
    ] {
        let lines = text
            .lines()
            .filter(|l| l.starts_with(&format!("  {word} ")))
            .count();
        assert_eq!(lines, n(&s[key]), "{word}");
    }
    let last = text.lines().last().unwrap();
    assert_eq!(
        last,
        format!(
            "{} rules, {} subjects: {} pass, {} fail, {} waived, {} error — NON-COMPLIANT",
            s["rules"], s["subjects"], s["pass"], s["fail"], s["waived"], s["error"]
        )
    );
    let digest = json["evidence"]["policy_set_sha256"].as_str().unwrap();
    assert!(
        text.contains(&format!("policy set sha256 {digest}")),
        "{text}"
    );
}

#[test]
fn jsonl_has_evidence_first_every_outcome_then_totals() {
    let json = reference();
    let out = hipaa("jsonl", &[]);
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect();
    let first = lines.first().unwrap();
    assert_eq!(first["type"], "evidence");
    assert_eq!(
        first["policy_set_sha256"],
        json["evidence"]["policy_set_sha256"]
    );
    assert_eq!(first["facts"], json["evidence"]["facts"]);
    let last = lines.last().unwrap();
    assert_eq!(last["type"], "totals");
    let s = &json["summary"];
    for key in [
        "compliant",
        "rules",
        "subjects",
        "pass",
        "fail",
        "waived",
        "error",
    ] {
        assert_eq!(last[key], s[key], "{key}");
    }
    let outcomes = &lines[1..lines.len() - 1];
    assert_eq!(outcomes.len(), n(&s["subjects"]));
    for o in ["pass", "fail", "waived", "error"] {
        let count = outcomes.iter().filter(|l| l["outcome"] == o).count();
        assert_eq!(count, n(&s[o]), "{o}");
    }
    assert!(outcomes
        .iter()
        .all(|l| l["type"] == "outcome" && l["rule"].is_string() && l["subject"].is_string()));
}

#[test]
fn sarif_is_valid_against_the_official_schema_and_counts_match() {
    let json = reference();
    let s = &json["summary"];
    let out = hipaa("sarif", &[]);
    assert_eq!(out.status.code(), Some(1));
    let sarif: Value = serde_json::from_slice(&out.stdout).expect("SARIF is JSON");
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler.enable_format_assertions();
    compiler
        .add_resource("file:///sarif-schema-2.1.0.json", schema)
        .unwrap();
    let index = compiler
        .compile("file:///sarif-schema-2.1.0.json", &mut schemas)
        .expect("the schema compiles");
    if let Err(e) = schemas.validate(&sarif, index) {
        panic!("SARIF does not validate: {e:#}");
    }
    let run = &sarif["runs"][0];
    let results = run["results"].as_array().unwrap();
    assert_eq!(
        results.len(),
        n(&s["fail"]) + n(&s["waived"]) + n(&s["error"])
    );
    let suppressed = results
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .count();
    assert_eq!(suppressed, n(&s["waived"]));
    let errors = results
        .iter()
        .filter(|r| r["properties"]["outcome"] == "error")
        .count();
    assert_eq!(errors, n(&s["error"]));
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), n(&s["rules"]));
    let kev = rules.iter().find(|r| r["id"] == "kev_deadline").unwrap();
    assert_eq!(kev["defaultConfiguration"]["level"], "error");
    assert!(kev["help"]["text"].as_str().unwrap().contains("CFR"));
    for r in results {
        let id = r["ruleId"].as_str().unwrap();
        assert_eq!(rules[n(&r["ruleIndex"])]["id"], id);
        let loc = &r["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
        assert!(uri.starts_with("examples/hipaa/") && uri.ends_with(".edict"));
        assert!(loc["region"]["startLine"].as_u64().unwrap() > 0);
    }
    let waived = results
        .iter()
        .find(|r| r["properties"]["subject"] == "a15:CVE-2026-24310")
        .unwrap();
    assert!(waived["suppressions"][0]["justification"]
        .as_str()
        .unwrap()
        .contains("EX-01"));
    let hashes: Vec<&Value> = run["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["hashes"]["sha-256"])
        .collect();
    assert_eq!(hashes.len(), hipaa_policy_files() + 8);
    assert_eq!(
        *hashes[hipaa_policy_files()],
        json["evidence"]["facts"][0]["sha256"]
    );
    assert_eq!(
        run["properties"]["evidence"]["policy_set_sha256"],
        json["evidence"]["policy_set_sha256"]
    );
}

#[test]
fn junit_has_one_testcase_per_subject() {
    let json = reference();
    let s = &json["summary"];
    let out = hipaa("junit", &[]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let doc = roxmltree::Document::parse(&text).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(root.attribute("tests"), Some(&*s["subjects"].to_string()));
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), n(&s["subjects"]));
    let with = |tag: &str| {
        cases
            .iter()
            .filter(|c| c.children().any(|k| k.has_tag_name(tag)))
            .count()
    };
    assert_eq!(with("failure"), n(&s["fail"]));
    assert_eq!(with("error"), n(&s["error"]));
    assert_eq!(with("skipped"), n(&s["waived"]));
    let suites: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(suites.len(), n(&s["rules"]));
    let waived = cases
        .iter()
        .find(|c| c.attribute("name") == Some("a15:CVE-2026-24310"))
        .unwrap();
    let skipped = waived
        .children()
        .find(|k| k.has_tag_name("skipped"))
        .unwrap();
    assert!(skipped.attribute("message").unwrap().contains("EX-01"));
    let digest = doc
        .descendants()
        .find(|n| n.attribute("name") == Some("edict.policy_set_sha256"))
        .unwrap();
    assert_eq!(
        digest.attribute("value"),
        json["evidence"]["policy_set_sha256"].as_str()
    );
}

#[test]
fn markdown_report_of_the_hipaa_example() {
    let json = reference();
    let s = &json["summary"];
    let out = hipaa("markdown", &[]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let rows = |prefix: &str| text.lines().filter(|l| l.starts_with(prefix)).count();
    assert_eq!(rows("| **fail** |"), n(&s["fail"]));
    assert_eq!(rows("| **error** |"), n(&s["error"]));
    assert_eq!(rows("| waived |"), n(&s["waived"]));
    assert_eq!(rows("| ❌ `") + rows("| ✅ `"), n(&s["rules"]));
    // Digests and sizes change with every edit of the example; their values
    // are checked against sha2 in json_evidence_digests_are_the_sha256_of_the_inputs.
    insta::with_settings!({filters => vec![
        (r"`[0-9a-f]{64}`", "`[sha256]`"),
        (r"\| \d+ \| `\[sha256\]`", "| [bytes] | `[sha256]`"),
    ]}, {
        insta::assert_snapshot!(text);
    });
}

#[test]
fn html_report_is_self_contained_and_counts_match() {
    let json = reference();
    let s = &json["summary"];
    let out = hipaa("html", &[]);
    assert_eq!(out.status.code(), Some(1));
    let html = stdout(&out);
    assert!(
        html.contains(
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src &#39;none&#39;"
        ),
        "no CSP"
    );
    for forbidden in [
        "<link", " src=", "href=", "url(", "@import", "http://", "https://",
    ] {
        assert!(!html.contains(forbidden), "{forbidden} in the HTML report");
    }
    for o in ["fail", "waived", "error"] {
        let rows = html
            .matches(&format!("<tr class=\"finding\" data-outcome=\"{o}\""))
            .count();
        assert_eq!(rows, n(&s[o]), "{o}");
    }
    assert_eq!(
        html.matches("<tr class=\"entry\"").count(),
        json["exceptions"].as_array().unwrap().len()
    );
    for chart in [
        "chart-rules",
        "chart-severity",
        "chart-overdue",
        "chart-expiring",
    ] {
        assert!(
            html.contains(&format!("<figure id=\"{chart}\">")),
            "{chart}"
        );
    }
    assert!(html.contains(json["evidence"]["policy_set_sha256"].as_str().unwrap()));
}

/// The `chromium` binary, or why the browser test cannot run.
fn chromium() -> Option<String> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("chromium"))
            .find(|p| p.is_file())
    });
    match found {
        Some(p) => Some(p.display().to_string()),
        None => {
            assert!(
                std::env::var("EDICT_REQUIRE_BROWSER").as_deref() != Ok("1"),
                "EDICT_REQUIRE_BROWSER=1 but chromium is not on PATH"
            );
            eprintln!("skipped: chromium is not installed (apt-get install chromium)");
            None
        }
    }
}

fn run_chromium(chromium: &str, profile: &Path, args: &[&str]) -> Output {
    Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .expect("run chromium")
}

#[test]
fn html_report_renders_in_a_real_browser() {
    let Some(chromium) = chromium() else { return };
    let json = reference();
    let s = &json["summary"];
    let dir = TempDir::new("html");
    let file = dir.0.join("report.html");
    let out = hipaa("html", &["--output", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let profile = TempDir::new("chromium-profile");
    let url = format!("file://{}#sort=days:desc", file.display());
    let dom = run_chromium(&chromium, &profile.0, &["--dump-dom", &url]);
    let dom = stdout(&dom);
    assert!(
        dom.contains("data-js=\"ready\""),
        "the inline script did not run (CSP hash?): {}",
        &dom[..dom.len().min(400)]
    );
    assert!(
        dom.contains("data-css=\"ready\""),
        "the inline style was blocked"
    );
    let rows: Vec<&str> = dom.split("<tr class=\"finding\"").skip(1).collect();
    assert_eq!(rows.len(), n(&s["fail"]) + n(&s["waived"]) + n(&s["error"]));
    for o in ["fail", "waived", "error"] {
        let count = rows
            .iter()
            .filter(|r| r.starts_with(&format!(" data-outcome=\"{o}\"")))
            .count();
        assert_eq!(count, n(&s[o]), "{o}");
    }
    // #sort=days:desc sorted the table: the first row is the most overdue.
    let max_days = json["rules"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["findings"].as_array().unwrap())
        .filter_map(|f| f["days_overdue"].as_i64())
        .max()
        .unwrap();
    assert!(
        rows[0].contains(&format!("data-v=\"{max_days}\"")),
        "not sorted by days: {}",
        rows[0]
    );
    assert!(dom.contains("aria-sort=\"descending\""));
    let shot = dir.0.join("report.png");
    let taken = run_chromium(
        &chromium,
        &profile.0,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,1600",
            &format!("file://{}", file.display()),
        ],
    );
    let png = std::fs::read(&shot).unwrap_or_else(|_| panic!("no screenshot: {}", stderr(&taken)));
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "{} bytes",
        png.len()
    );
    if let Some(keep) = std::env::var_os("EDICT_SCREENSHOT") {
        std::fs::copy(&shot, keep).unwrap();
    }
}

#[test]
fn the_same_inputs_give_byte_identical_reports() {
    for format in FORMATS {
        let a = hipaa(format, &[]);
        let b = hipaa(format, &[]);
        assert!(!a.stdout.is_empty(), "{format}");
        assert!(a.stdout == b.stdout, "{format} differs between runs");
    }
}

#[test]
fn output_writes_the_file_and_a_summary_line() {
    let dir = TempDir::new("output");
    for format in FORMATS {
        let file = dir.0.join(format!("report.{format}"));
        let out = hipaa(format, &["--output", file.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{format}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{format} wrote to stdout");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains(&format!("wrote {format} report to"))
                && err
                    .contains("121 subjects: 76 pass, 38 fail, 5 waived, 2 error — NON-COMPLIANT"),
            "{err}"
        );
        let written = std::fs::read_to_string(&file).unwrap();
        assert!(
            !written.contains('\x1b'),
            "{format}: colour codes in a file"
        );
        let direct = stdout(&hipaa(format, &["--output", file.to_str().unwrap()]));
        assert!(direct.is_empty());
        assert_eq!(std::fs::read_to_string(&file).unwrap(), written, "{format}");
    }
    let names: Vec<String> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names.len(),
        FORMATS.len(),
        "temporary files left: {names:?}"
    );
    let missing = dir.0.join("no/such/dir/report.json");
    let out = hipaa("json", &["--output", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot write"), "{}", stderr(&out));
}

/// `--output` replaces a regular file atomically, but a pipe or device is
/// written in place (renaming over /dev/null would delete it) and a link
/// keeps pointing at the report.
#[test]
fn output_writes_into_pipes_and_through_links() {
    let dir = TempDir::new("output-special");
    let fifo = dir.0.join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let out = hipaa("json", &["--output", fifo.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    // Checked before waiting for the reader, which a replaced pipe would block.
    let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(
        std::os::unix::fs::FileTypeExt::is_fifo(&kind),
        "the pipe was replaced"
    );
    let read = reader.join().unwrap();
    assert!(read.contains("\"summary\""), "{read}");

    let target = dir.write("target.json", "old");
    let link = dir.0.join("link.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let out = hipaa("json", &["--output", link.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(std::fs::read_to_string(&target)
        .unwrap()
        .contains("\"summary\""));
}

#[test]
fn exit_codes_are_the_same_in_every_format() {
    let dir = TempDir::new("formats-exit");
    dir.write(
        "p.edict",
        "rule low { severity low\n for p in people\n require p.a }\nrule adv { level advisory\n severity critical\n for p in people\n require p.a }\n",
    );
    dir.write("f.json", r#"{"people": [{"id": "p1", "a": false}]}"#);
    for format in FORMATS {
        let base = [
            "eval",
            ".",
            "--facts",
            "f.json",
            "--now",
            "2026-11-29",
            "--format",
            format,
        ];
        assert_eq!(edict_in(&dir.0, &base).status.code(), Some(1), "{format}");
        let mut args = base.to_vec();
        args.extend(["--fail-on", "medium"]);
        let out = edict_in(&dir.0, &args);
        assert_eq!(out.status.code(), Some(0), "{format}: {}", stdout(&out));
        args.extend(["--output", "out.report"]);
        assert_eq!(edict_in(&dir.0, &args).status.code(), Some(0), "{format}");
        assert_eq!(hipaa(format, &[]).status.code(), Some(1), "{format}");
    }
}

/// How many policy files the HIPAA example has.
fn hipaa_policy_files() -> usize {
    std::fs::read_dir(root().join("examples/hipaa"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "edict")
        })
        .count()
}
