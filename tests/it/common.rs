//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the `edict` binary with arguments, from the repository root.
pub fn edict(args: &[&str]) -> Output {
    edict_in(&root(), args)
}

/// Runs the `edict` binary in a directory.
pub fn edict_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_edict"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run edict")
}

/// Runs the `edict` binary from the repository root with `input` on stdin.
pub fn edict_stdin(args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_edict"))
        .args(args)
        .current_dir(root())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start edict");
    // Written from its own thread while the output is read: a command whose
    // output fills the pipe before it has read all its input would otherwise
    // wait on us as we wait on it. It may also exit before reading (E0160),
    // closing the pipe.
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_string();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let output = child.wait_with_output().expect("wait for edict");
    writer.join().expect("stdin writer");
    output
}

/// Runs `edict-fleet` with `args`, writing into `dir`.
pub fn edict_fleet(dir: &TempDir, args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_edict-fleet"))
        .args(args)
        .arg("--out")
        .arg(&dir.0)
        .output()
        .expect("run edict-fleet");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The facts arguments of the shipped HIPAA example.
pub const HIPAA_FACTS: &[&str] = &[
    "--facts",
    "examples/hipaa/assets.json",
    "--facts",
    "examples/hipaa/people.json",
    "--facts",
    "kev=examples/hipaa/kev.json",
    "--facts",
    "examples/hipaa/exceptions.json",
    "--facts",
    "examples/hipaa/asset_controls.json",
    "--facts",
    "examples/hipaa/changes.json",
    "--facts",
    "examples/hipaa/deployments.json",
    "--facts",
    "examples/hipaa/scans.json",
    "--now",
    "2026-11-29",
];

/// A fresh temporary directory, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// Creates an empty directory under the system temp dir.
    pub fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "edict-test-{tag}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    /// Writes a file inside it.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create dirs");
        }
        std::fs::write(&path, text).expect("write file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
