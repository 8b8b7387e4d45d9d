//! `--exit-zero` and `--evidence`: what a partitioned (Spark) run relies on.

use crate::common::{edict, edict_stdin, stderr, stdout};

const STREAM: &[&str] = &[
    "eval",
    "examples/hipaa",
    "--now",
    "2026-11-01",
    "--facts",
    "examples/hipaa/exceptions.json",
    "--facts",
    "examples/hipaa/people.json",
    "--facts",
    "kev=examples/hipaa/kev.json",
    "--rule",
    "legacy_compensating_control",
    "--stream",
    "assets=-",
];

/// Records as the HIPAA schema requires them: streamed records are checked too.
const FAILING: &str = "{\"id\": \"a1\", \"legacy\": true, \"hostname\": \"h\", \"os\": \"XP\", \"criticality\": \"low\", \"findings\": []}\n";
const PASSING: &str = "{\"id\": \"a3\", \"legacy\": true, \"hostname\": \"h3\", \"os\": \"XP\", \"criticality\": \"low\", \"findings\": [], \"compensating_control\": \"vlan\"}\n";

#[test]
fn exit_zero_turns_non_compliance_into_zero_but_not_invalid_input() {
    let plain = edict_stdin(STREAM, FAILING);
    assert_eq!(plain.status.code(), Some(1), "{}", stderr(&plain));
    let zero = edict_stdin(&[STREAM, &["--exit-zero"]].concat(), FAILING);
    assert_eq!(zero.status.code(), Some(0), "{}", stderr(&zero));
    assert_eq!(stdout(&zero), stdout(&plain));
    let broken = format!("{FAILING}{{\"id\": broken\n");
    let invalid = edict_stdin(&[STREAM, &["--exit-zero"]].concat(), &broken);
    assert_eq!(invalid.status.code(), Some(2), "{}", stderr(&invalid));
    // A batch run too.
    let batch_args = [
        "eval",
        "examples/hipaa",
        "--now",
        "2026-11-01",
        "--facts",
        "examples/hipaa/assets.json",
        "--facts",
        "examples/hipaa/exceptions.json",
        "--facts",
        "examples/hipaa/people.json",
        "--facts",
        "kev=examples/hipaa/kev.json",
    ];
    let plain_batch = edict(&batch_args);
    assert_eq!(
        plain_batch.status.code(),
        Some(1),
        "{}",
        stderr(&plain_batch)
    );
    let batch = edict(&[&batch_args[..], &["--exit-zero"]].concat());
    assert_eq!(batch.status.code(), Some(0), "{}", stderr(&batch));
    // The report still says so; only the exit code changes.
    assert!(
        stdout(&batch).contains("NON-COMPLIANT"),
        "{}",
        stdout(&batch)
    );
    let missing = edict(&["eval", "no/such/dir", "--exit-zero"]);
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn evidence_brackets_the_stream_with_digests_and_a_summary() {
    let input = format!("{FAILING}{PASSING}");
    let out = edict_stdin(&[STREAM, &["--evidence"]].concat(), &input);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let first = &lines[0];
    assert_eq!(first["type"], "evidence");
    assert_eq!(first["now"], "2026-11-01T00:00:00Z");
    assert_eq!(first["policy_set_sha256"].as_str().unwrap().len(), 64);
    assert_eq!(first["facts"].as_array().unwrap().len(), 3);
    assert_eq!(first["facts"][2]["mount"], "kev");
    let last = lines.last().unwrap();
    assert_eq!(last["type"], "stream");
    assert_eq!(
        (
            &last["records"],
            &last["rejected"],
            &last["pass"],
            &last["fail"]
        ),
        (&2.into(), &0.into(), &1.into(), &1.into())
    );
    assert_eq!(last["stream_bytes"], input.len());
    let sha = edict::eval::facts::sha256_hex(input.as_bytes());
    assert_eq!(last["stream_sha256"], sha.as_str());
    // Between them, the lines a plain stream writes.
    let plain = edict_stdin(STREAM, &input);
    let text = stdout(&out);
    let middle: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(middle[..middle.len() - 1].join("\n") + "\n", stdout(&plain));
}

#[test]
fn evidence_needs_a_stream() {
    let out = edict(&["eval", "examples/hipaa", "--evidence"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
