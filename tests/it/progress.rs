//! The progress line on a terminal: shown once a run has taken a second,
//! cleared before anything else is written, never with `--quiet`. The
//! terminal is util-linux's `script`; input held back for 1.5 s makes a run
//! take that long on any machine.

use std::process::{Command, Stdio};

use crate::common::*;

/// Runs `sh -c command` on a pseudo-terminal from the repository root: its
/// exit code and everything it wrote there, stdout and stderr together;
/// `None` when `script` is not installed.
fn on_terminal(command: &str) -> Option<(Option<i32>, String)> {
    let out = Command::new("script")
        .args(["-qec", command, "/dev/null"])
        .current_dir(root())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output();
    match out {
        Ok(out) => Some((
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )),
        Err(e) => {
            assert!(
                std::env::var_os("EDICT_REQUIRE_PTY").is_none(),
                "EDICT_REQUIRE_PTY is set but `script` cannot run: {e}"
            );
            eprintln!(
                "skipped: util-linux `script` is not available ({e}); set EDICT_REQUIRE_PTY=1 to require it"
            );
            None
        }
    }
}

fn policy(dir: &TempDir) -> String {
    let p = dir.write(
        "p.edict",
        "rule r {\n  for a in assets\n  require a.ok\n}\n",
    );
    p.display().to_string()
}

#[test]
fn a_slow_batch_run_on_a_terminal_shows_its_progress_then_clears_it() {
    let dir = TempDir::new("progress-batch");
    let policy = policy(&dir);
    let report = dir.0.join("report.jsonl");
    let edict = env!("CARGO_BIN_EXE_edict");
    let run = |quiet: &str| {
        on_terminal(&format!(
            "(sleep 1.5; echo '{{\"assets\": [{{\"ok\": true}}]}}') | {edict} eval {policy} \
             --facts - --facts-format json --now 2026-11-01 --format jsonl --output {} {quiet}",
            report.display()
        ))
    };
    let Some((code, shown)) = run("") else { return };
    assert_eq!(code, Some(0), "{shown:?}");
    let wrote = shown.find("edict: wrote jsonl report").expect(&shown);
    let drawn = shown.rfind("\r\x1b[Kloading facts…").expect(&shown);
    assert!(
        shown[drawn..wrote].contains("loading facts…\r\x1b[K"),
        "the line is cleared before the report's message: {shown:?}"
    );
    let (code, quiet) = run("--quiet").expect("script ran once");
    assert_eq!(code, Some(0), "{quiet:?}");
    assert!(!quiet.contains("loading"), "{quiet:?}");
    assert!(quiet.contains("edict: wrote jsonl report"), "{quiet:?}");
}

#[test]
fn a_slow_stream_on_a_terminal_shows_records_and_rate() {
    let dir = TempDir::new("progress-stream");
    let policy = policy(&dir);
    let out = dir.0.join("out.jsonl");
    let edict = env!("CARGO_BIN_EXE_edict");
    let run = |redirect: &str| {
        on_terminal(&format!(
            "(echo '{{\"id\": \"a1\", \"ok\": true}}'; sleep 1.5; echo '{{\"id\": \"a2\", \"ok\": true}}') \
             | {edict} eval {policy} --now 2026-11-01 --stream assets=- --threads 1 {redirect}"
        ))
    };
    let Some((code, shown)) = run(&format!("> {}", out.display())) else {
        return;
    };
    assert_eq!(code, Some(0), "{shown:?}");
    // Both records are read once the second arrives: the first one written
    // after the first second is drawn, with its line number and the rate.
    let drawn = shown.find("\r\x1b[K1 record, ").expect(&shown);
    let summary = shown
        .find("2 records streamed, 0 lines rejected")
        .expect(&shown);
    assert!(drawn < summary, "{shown:?}");
    assert!(
        shown[drawn..summary].contains("/s\r\x1b[K"),
        "the bar is cleared before the summary: {shown:?}"
    );
    let written = std::fs::read_to_string(&out).unwrap();
    assert_eq!(written.lines().count(), 2, "{written}");
    // With the outcomes on the terminal too, no bar is drawn among them.
    let (code, shown) = run("").expect("script ran once");
    assert_eq!(code, Some(0), "{shown:?}");
    assert!(!shown.contains(" record, "), "{shown:?}");
    assert!(shown.contains(r#""subject":"a2""#), "{shown:?}");
}
