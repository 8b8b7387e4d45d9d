//! Documentation that runs: every ```edict block in docs/ checks cleanly, and
//! evaluates to its expected outcomes when followed by facts; every builtin and
//! standard-library member is documented; every diagnostic code has an entry
//! in the error index. The conventions are in tests/README.md.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use edict::{EvalOptions, Facts, PolicySet};

use crate::common::root;

/// The default evaluation date of a docs example, as for tests/eval cases.
const DEFAULT_NOW: &str = "2026-11-29";

/// One fenced code block of a Markdown file.
#[derive(Debug)]
struct Fence {
    /// The info string after the opening fence, trimmed.
    info: String,
    /// The block's text.
    body: String,
    /// The 1-based line of the opening fence.
    line: usize,
}

/// Every fenced block of a Markdown text, in order.
fn fences(text: &str) -> Vec<Fence> {
    let mut out = Vec::new();
    let mut open: Option<(String, String, usize, usize)> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let ticks = trimmed.chars().take_while(|c| *c == '`').count();
        match &mut open {
            None if ticks >= 3 => {
                open = Some((
                    trimmed[ticks..].trim().to_string(),
                    String::new(),
                    i + 1,
                    ticks,
                ));
            }
            Some((info, body, start, n)) if ticks >= *n && trimmed[ticks..].trim().is_empty() => {
                out.push(Fence {
                    info: std::mem::take(info),
                    body: std::mem::take(body),
                    line: *start,
                });
                open = None;
            }
            Some((_, body, _, _)) => {
                body.push_str(line);
                body.push('\n');
            }
            None => {}
        }
    }
    out
}

/// Whether a block is Edict to check: its info string's first word is `edict`.
fn is_edict(f: &Fence) -> bool {
    f.info.split_whitespace().next() == Some("edict")
}

/// Every Markdown file under docs/, sorted.
fn doc_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![root().join("docs")];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "md") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn rel(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Checks one snippet and, when facts and outcomes follow it, evaluates it.
/// Returns a description of what went wrong, if anything did.
fn run_snippet(
    name: &str,
    code: &Fence,
    facts: Option<&Fence>,
    outcomes: Option<&Fence>,
) -> Option<String> {
    let set = match PolicySet::from_sources([(name.to_string(), code.body.clone())]) {
        Ok(set) if set.warnings().is_empty() => set,
        Ok(set) => {
            return Some(edict::cli::render_diagnostics(
                set.warnings(),
                &set.program().sources,
                false,
            ))
        }
        Err(failure) => {
            return Some(edict::cli::render_diagnostics(
                &failure.diagnostics,
                &failure.sources,
                false,
            ))
        }
    };
    let (facts, outcomes) = match (facts, outcomes) {
        (None, None) => return None,
        (Some(_), None) => {
            return Some("a `json facts` block needs a `text outcomes` block after it".into())
        }
        (f, Some(o)) => (f, o),
    };
    let facts = match facts.map_or(Ok(Facts::default()), |f| Facts::from_json_str(&f.body)) {
        Ok(f) => f,
        Err(e) => return Some(format!("facts block: {e}")),
    };
    let mut now = DEFAULT_NOW.to_string();
    let mut want = Vec::new();
    for line in outcomes
        .body
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        if let Some(date) = line.strip_prefix("now ") {
            now = date.trim().to_string();
        } else {
            want.push(line.split_whitespace().collect::<Vec<_>>().join(" "));
        }
    }
    let Ok(day) = chrono::NaiveDate::parse_from_str(&now, "%Y-%m-%d") else {
        return Some(format!("`now {now}` is not a date"));
    };
    let options = EvalOptions {
        now: day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc(),
        ..EvalOptions::default()
    };
    let evaluation = set.evaluate(&facts, &options);
    let mut got = Vec::new();
    for r in &evaluation.rules {
        let id = &set.program().rules[r.rule].id;
        for s in &r.subjects {
            let mut line = format!("{id} {} {}", s.outcome.as_str(), s.subject);
            if s.subject.is_empty() {
                line = format!("{id} {}", s.outcome.as_str());
            }
            got.push(line);
        }
    }
    want.sort();
    got.sort();
    (want != got).then(|| {
        format!(
            "outcomes differ\n  expected:\n    {}\n  evaluated:\n    {}",
            want.join("\n    "),
            got.join("\n    ")
        )
    })
}

/// Runs every Edict snippet of a Markdown text; returns (snippets run, failures).
fn run_markdown(file: &str, text: &str) -> (usize, Vec<String>) {
    let blocks = fences(text);
    let mut failures = Vec::new();
    let mut run = 0;
    let mut i = 0;
    while i < blocks.len() {
        let b = &blocks[i];
        if b.info == "json facts" || b.info == "text outcomes" {
            failures.push(format!(
                "{file}:{}: `{}` block does not follow an edict block",
                b.line, b.info
            ));
            i += 1;
            continue;
        }
        if !is_edict(b) {
            i += 1;
            continue;
        }
        let facts = blocks.get(i + 1).filter(|f| f.info == "json facts");
        let outcomes = facts
            .and_then(|_| blocks.get(i + 2))
            .filter(|f| f.info == "text outcomes");
        let outcomes = outcomes.or_else(|| blocks.get(i + 1).filter(|f| f.info == "text outcomes"));
        let name = format!("{file}:{}", b.line);
        if let Some(why) = run_snippet(&name, b, facts, outcomes) {
            failures.push(format!("{name}: {why}"));
        }
        run += 1;
        i += 1 + usize::from(facts.is_some()) + usize::from(outcomes.is_some());
    }
    (run, failures)
}

#[test]
fn every_edict_snippet_in_docs_checks_and_meets_its_outcomes() {
    let mut failures = Vec::new();
    let mut run = 0;
    for path in doc_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let (n, mut f) = run_markdown(&rel(&path), &text);
        run += n;
        failures.append(&mut f);
    }
    assert!(run >= 10, "only {run} edict snippets found under docs/");
    assert!(
        failures.is_empty(),
        "{} docs snippets fail:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn the_snippet_runner_catches_broken_snippets() {
    let md = "```edict\nrule r { require count(1, 2) == 1 }\n```\n";
    assert_eq!(run_markdown("x.md", md).1.len(), 1, "wrong arity");
    let md = "```edict\nrule r { for x in xs subject x.id require x.ok }\n```\n\
              ```json facts\n{\"xs\": [{\"id\": \"a\", \"ok\": true}, {\"id\": \"b\", \"ok\": false}]}\n```\n\
              ```text outcomes\nr pass a\nr fail b\n```\n";
    assert_eq!(run_markdown("x.md", md), (1, vec![]));
    let wrong = md.replace("r fail b", "r pass b");
    let (_, f) = run_markdown("x.md", &wrong);
    assert!(f.len() == 1 && f[0].contains("outcomes differ"), "{f:?}");
    let dated = md.replace("r pass a", "now 2026-01-01\nr pass a");
    assert_eq!(run_markdown("x.md", &dated).1, Vec::<String>::new());
    let stray = "```json facts\n{}\n```\n";
    assert_eq!(run_markdown("x.md", stray).1.len(), 1, "stray facts block");
    let other = "```rust\nfn main() {}\n```\n```text\nnot edict\n```\n";
    assert_eq!(run_markdown("x.md", other), (0, vec![]));
}

/// The `### NAME` headings of a Markdown text.
fn headings(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("### "))
        .map(|h| h.trim().trim_matches('`').to_string())
        .collect()
}

/// The text under `### NAME`, up to the next heading.
fn section(text: &str, name: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("### ") {
            inside = h.trim().trim_matches('`') == name;
            continue;
        }
        if line.starts_with("# ") || line.starts_with("## ") {
            inside = false;
        }
        if inside {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Every documented member: each builtin, and `module.name` of each stdlib fn and const.
fn members() -> Vec<String> {
    let mut out: Vec<String> = edict::builtins::all()
        .iter()
        .map(|b| b.name.to_string())
        .collect();
    for (module, text) in edict::stdlib::MODULES {
        for line in text.lines() {
            for kw in ["fn ", "const "] {
                if let Some(rest) = line.strip_prefix(kw) {
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    out.push(format!("{module}.{name}"));
                }
            }
        }
    }
    out
}

#[test]
fn every_builtin_and_stdlib_member_is_documented_with_an_example() {
    let text = std::fs::read_to_string(root().join("docs/stdlib.md")).unwrap();
    let documented = headings(&text);
    let mut missing = Vec::new();
    for name in members() {
        if !documented.contains(&name) {
            missing.push(format!("{name}: no `### {name}` heading in docs/stdlib.md"));
            continue;
        }
        let short = name.rsplit('.').next().unwrap_or(&name).to_string();
        let body = section(&text, &name);
        let has_example = fences(&body)
            .iter()
            .any(|f| is_edict(f) && f.body.contains(&short));
        if !has_example {
            missing.push(format!("{name}: its section has no edict example using it"));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

/// Every diagnostic code literal ("E0123", "F0123") in the Rust sources.
fn diagnostic_codes() -> BTreeSet<String> {
    let mut codes = BTreeSet::new();
    let mut dirs = vec![root().join("src")];
    while let Some(dir) = dirs.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
                continue;
            }
            if p.extension().is_none_or(|x| x != "rs") {
                continue;
            }
            codes.extend(codes_in(&std::fs::read_to_string(&p).unwrap()));
        }
    }
    codes
}

/// The "E0123" / "F0123" string literals of one text.
fn codes_in(text: &str) -> BTreeSet<String> {
    let bytes = text.as_bytes();
    let mut out = BTreeSet::new();
    for i in 0..bytes.len().saturating_sub(6) {
        let w = &bytes[i..i + 7];
        if w[0] == b'"'
            && (w[1] == b'E' || w[1] == b'F')
            && w[2..6].iter().all(u8::is_ascii_digit)
            && w[6] == b'"'
        {
            out.insert(String::from_utf8_lossy(&w[1..6]).into_owned());
        }
    }
    out
}

#[test]
fn every_diagnostic_code_has_an_entry_in_the_error_index() {
    let codes = diagnostic_codes();
    assert!(codes.len() >= 10, "found only {codes:?} in src/");
    let path = root().join("docs/errors.md");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("docs/errors.md, the error index, cannot be read: {e}"));
    let documented = headings(&text);
    let missing: Vec<&String> = codes.iter().filter(|c| !documented.contains(*c)).collect();
    assert!(
        missing.is_empty(),
        "docs/errors.md has no `### CODE` entry for {missing:?}"
    );
}

#[test]
fn code_scanning_finds_literals_only() {
    let found = codes_in(r#"Diagnostic::error("E0100", s, "x"); "F0001"; E0999 "E01234" "e0100""#);
    assert_eq!(
        found,
        BTreeSet::from(["E0100".to_string(), "F0001".to_string()])
    );
}
