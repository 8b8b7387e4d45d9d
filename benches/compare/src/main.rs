//! Evaluates the HIPAA patch-SLA policy with its risk-acceptance waiver on one
//! fleet document several ways, each in its own process: (a) Edict, (a') the
//! `edict eval` CLI as a whole process, (b) a hand-written loop over typed
//! serde structs, (c) JSON parsing alone, (d) the same policy in Rego
//! (policy.rego) on microsoft's regorus. Checks (a), (a'), (b) and (d) report
//! the same violations and prints throughput, peak memory and ratios to (b).
//!
//! Usage: edict-compare FLEET.json [--runs N] [--now YYYY-MM-DD] [--edict PATH]
//!        edict-compare --mode MODE FLEET.json --now YYYY-MM-DD [--stream-dir DIR]
//!        edict-compare --split DIR FLEET.json
//!
//! MODE is edict, edict2, typed, parse, rego (regorus RVM), rego-interp
//! (regorus tree-walking interpreter), rego-data (RVM, fleet as data), cli,
//! cli-jsonl or cli-stream (the assets streamed as JSON Lines, from the
//! `--stream-dir DIR` that `--split DIR` wrote: `assets.jsonl` and
//! `shared.json`).
//! With `EDICT_COMPARE_DUMP=FILE`, a `--mode` run also writes its violations
//! to FILE, one a line, to diff two modes that disagree.
//! The `edict` binary for (a') is `--edict PATH`, else `$EDICT_BIN`, else
//! `edict` next to this executable (both built into one target directory).

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::process::Command;
use std::time::Instant;

use chrono::{Days, Months, NaiveDate};
use serde::Deserialize;

const PATCHING: &str = include_str!("../../../examples/hipaa/patching.edict");
const EXCEPTIONS: &str = include_str!("../../../examples/hipaa/exceptions.edict");
const POLICY_REGO: &str = include_str!("../policy.rego");
const REGO_ENTRY: &str = "data.compare.violations";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let now = flag("--now").unwrap_or_else(|| "2026-11-01".into());
    let file = args
        .iter()
        .skip(1)
        .find(|a| a.ends_with(".json"))
        .cloned()
        .unwrap_or_else(|| usage());
    if let Some(dir) = flag("--split") {
        split_fleet(&file, std::path::Path::new(&dir));
        return;
    }
    if let Some(mode) = flag("--mode") {
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| die(&e.to_string()));
        let today = NaiveDate::parse_from_str(&now, "%Y-%m-%d").unwrap_or_else(|_| usage());
        let mut own = None;
        let violations = match mode.as_str() {
            "edict" => edict(&text, today, 1),
            "edict2" => edict(&text, today, 2),
            "typed" => typed(&text, today),
            "parse" => parse(&text),
            "rego" => rego(&text, &now, RegoMode::Vm),
            "rego-data" => rego(&text, &now, RegoMode::VmData),
            "rego-interp" => rego(&text, &now, RegoMode::Interpreter),
            "cli" | "cli-jsonl" | "cli-stream" => {
                let output = match mode.as_str() {
                    "cli" => Output::Json,
                    "cli-jsonl" => Output::Jsonl,
                    _ => Output::Stream(flag("--stream-dir").unwrap_or_else(|| {
                        die("--mode cli-stream needs --stream-dir DIR, written by --split DIR")
                    })),
                };
                let (v, seconds, kb) = cli(&edict_bin(&flag("--edict")), &file, &now, &output);
                own = Some((seconds, kb));
                v
            }
            _ => usage(),
        };
        if let Some(path) = std::env::var_os("EDICT_COMPARE_DUMP") {
            // One violation a line, to diff two modes that disagree.
            std::fs::write(path, violations.join("\n") + "\n")
                .unwrap_or_else(|e| die(&e.to_string()));
        }
        let mut h = DefaultHasher::new();
        violations.hash(&mut h);
        let (seconds, kb) = own.map_or((String::new(), peak_kb()), |(s, k)| (format!(" {s}"), k));
        println!(
            "{} {:016x} {} {}{}",
            violations.len(),
            h.finish(),
            kb,
            assets(&text),
            seconds
        );
        return;
    }
    let runs: usize = flag("--runs").and_then(|r| r.parse().ok()).unwrap_or(3);
    compare(&file, &now, runs, &edict_bin(&flag("--edict")));
}

fn usage() -> ! {
    die("usage: edict-compare FLEET.json [--runs N] [--now YYYY-MM-DD]")
}

fn die(message: &str) -> ! {
    eprintln!("{message}");
    std::process::exit(2)
}

/// Peak resident memory of this process, from /proc/self/status.
fn peak_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

/// Number of assets, counted cheaply (the generator writes one a line).
fn assets(text: &str) -> usize {
    text.matches("\"hostname\"").count()
}

/// (a) Edict: compile the policy, load the facts, evaluate patch_sla.
fn edict(text: &str, today: NaiveDate, threads: usize) -> Vec<String> {
    let set = edict::PolicySet::from_sources([
        ("patching.edict".to_string(), PATCHING.to_string()),
        ("exceptions.edict".to_string(), EXCEPTIONS.to_string()),
    ])
    .unwrap_or_else(|_| die("the policy does not check"));
    let t = Instant::now();
    let mut facts = edict::Facts::default();
    facts.parse_threads = threads;
    // Build only what the policy reads, as `edict eval` does.
    facts.demand = Some(std::sync::Arc::new(set.demand()));
    facts
        .add_json("fleet.json", None, text)
        .unwrap_or_else(|e| die(&e.to_string()));
    let parsed = t.elapsed();
    let options = edict::EvalOptions {
        now: edict::eval::value::midnight(today),
        rules: Some(vec!["patch_sla".into()]),
        threads,
        ..Default::default()
    };
    let ev = set.evaluate(&facts, &options);
    if std::env::var_os("EDICT_COMPARE_PHASES").is_some() {
        eprintln!("parse {parsed:?}, evaluate {:?}", t.elapsed() - parsed);
    }
    let mut out = Vec::new();
    for r in &ev.rules {
        for s in &r.subjects {
            match s.outcome {
                edict::Outcome::Fail => out.push(s.subject.clone()),
                edict::Outcome::Error => out.push(format!("error {}", s.subject)),
                _ => {}
            }
        }
    }
    out.sort();
    out
}

/// A `YYYY-MM-DD` date, parsed while deserializing.
struct Date(NaiveDate);

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let s = <&str>::deserialize(d)?;
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Date)
            .map_err(serde::de::Error::custom)
    }
}

#[derive(Deserialize)]
struct Fleet {
    assets: Vec<Asset>,
    exceptions: Vec<Exception>,
}

#[derive(Deserialize)]
struct Asset {
    id: String,
    findings: Vec<Finding>,
}

#[derive(Deserialize)]
struct Finding {
    cve: String,
    severity: String,
    published: Date,
    patched: Option<Date>,
}

#[derive(Deserialize)]
struct Exception {
    asset: String,
    cve: String,
    approver: String,
    approver_role: String,
    requester: String,
    approved: Date,
    expires: Date,
    compensating_control: Option<String>,
}

/// (b) The same policy by hand over typed structs, with a hash join.
fn typed(text: &str, today: NaiveDate) -> Vec<String> {
    let fleet: Fleet = serde_json::from_str(text).unwrap_or_else(|e| die(&e.to_string()));
    let mut register: HashMap<(&str, &str), Vec<&Exception>> = HashMap::new();
    for e in &fleet.exceptions {
        register
            .entry((e.asset.as_str(), e.cve.as_str()))
            .or_default()
            .push(e);
    }
    let mut out = Vec::new();
    for a in &fleet.assets {
        for f in &a.findings {
            let sla = match f.severity.as_str() {
                "info" => continue,
                "critical" => 15,
                "high" => 30,
                "medium" => 90,
                "low" => 180,
                _ => {
                    out.push(format!("error {}:{}", a.id, f.cve));
                    continue;
                }
            };
            let due = f.published.0 + Days::new(sla);
            if f.patched.as_ref().map_or(today, |d| d.0) <= due {
                continue;
            }
            let role = if f.severity == "critical" || f.severity == "high" {
                "CISO"
            } else {
                "Security Manager"
            };
            let waived = register
                .get(&(a.id.as_str(), f.cve.as_str()))
                .is_some_and(|entries| {
                    entries.iter().any(|e| {
                        e.approver_role == role
                            && e.expires.0 >= today
                            && !e
                                .compensating_control
                                .as_deref()
                                .unwrap_or("")
                                .trim()
                                .is_empty()
                            && e.approved
                                .0
                                .checked_add_months(Months::new(12))
                                .is_some_and(|m| e.expires.0 <= m)
                            && e.requester != e.approver
                    })
                });
            if !waived {
                out.push(format!("{}:{}", a.id, f.cve));
            }
        }
    }
    out.sort();
    std::mem::forget(register);
    std::mem::forget(fleet);
    out
}

/// (c) JSON parsing alone, into serde_json::Value.
fn parse(text: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(text).unwrap_or_else(|e| die(&e.to_string()));
    std::hint::black_box(&v);
    std::mem::forget(v);
    Vec::new()
}

/// How (d) runs the Rego policy.
#[derive(Clone, Copy, PartialEq)]
enum RegoMode {
    /// Compiled to an RVM program and run on the regorus virtual machine,
    /// with the fleet as `input`.
    Vm,
    /// As `Vm`, with the fleet mounted as `data.fleet` instead of `input`.
    VmData,
    /// The regorus tree-walking interpreter, policy compiled once, fleet as `input`.
    Interpreter,
}

/// (d) The same policy in Rego (policy.rego) on regorus.
///
/// The fleet goes in as `input`: on the 100,000-asset fleet, `input` and
/// `data.fleet` took the same time on the VM within noise (`--mode
/// rego-data` measures the latter), and `input` is how OPA policies
/// normally receive the document under decision.
fn rego(text: &str, now: &str, mode: RegoMode) -> Vec<String> {
    // EDICT_COMPARE_REGO=FILE tries another formulation without rebuilding.
    let policy = std::env::var_os("EDICT_COMPARE_REGO").map_or(POLICY_REGO.to_string(), |p| {
        std::fs::read_to_string(p).unwrap_or_else(|e| die(&e.to_string()))
    });
    let policy = if mode == RegoMode::VmData {
        policy.replace("input.", "data.fleet.")
    } else {
        policy
    };
    let mut engine = regorus::Engine::new();
    engine
        .add_policy("policy.rego".into(), policy)
        .unwrap_or_else(|e| fail(e));
    let phases = std::env::var_os("EDICT_COMPARE_PHASES").is_some();
    let t = Instant::now();
    let fleet = regorus::Value::from_json_str(text).unwrap_or_else(|e| fail(e));
    let parsed = t.elapsed();
    let mut data = regorus::Value::new_object();
    let set = |data: &mut regorus::Value, key: &str, v: regorus::Value| {
        data.as_object_mut()
            .unwrap_or_else(|e| fail(e))
            .insert(regorus::Value::from(key), v);
    };
    set(&mut data, "now", regorus::Value::from(now));
    let result = match mode {
        RegoMode::Interpreter => {
            engine.add_data(data).unwrap_or_else(|e| fail(e));
            engine.set_input(fleet);
            engine
                .eval_rule(REGO_ENTRY.into())
                .unwrap_or_else(|e| fail(e))
        }
        RegoMode::Vm | RegoMode::VmData => {
            let entry: regorus::Rc<str> = REGO_ENTRY.into();
            let compiled = engine
                .compile_with_entrypoint(&entry)
                .unwrap_or_else(|e| fail(e));
            let program = regorus::languages::rego::compiler::Compiler::compile_from_policy(
                &compiled,
                &[REGO_ENTRY],
            )
            .unwrap_or_else(|e| fail(e));
            let mut vm = regorus::rvm::RegoVM::new();
            vm.load_program(program);
            vm.set_max_instructions(usize::MAX);
            if mode == RegoMode::VmData {
                set(&mut data, "fleet", fleet);
            } else {
                vm.set_input(fleet);
            }
            vm.set_data(data).unwrap_or_else(|e| fail(e));
            vm.execute().unwrap_or_else(|e| fail(e))
        }
    };
    if phases {
        eprintln!("parse {parsed:?}, evaluate {:?}", t.elapsed() - parsed);
    }
    let list = result
        .as_array()
        .unwrap_or_else(|_| die(&format!("regorus: {REGO_ENTRY} is not an array: {result}")));
    let mut out: Vec<String> = list
        .iter()
        .map(|v| {
            v.as_string()
                .map(|s| s.to_string())
                .unwrap_or_else(|e| fail(e))
        })
        .collect();
    out.sort();
    std::mem::forget(result);
    out
}

/// Stops with a regorus error.
fn fail<E: std::fmt::Display>(e: E) -> ! {
    die(&format!("regorus: {e}"))
}

/// The `edict` binary for (a'): `--edict PATH`, else `$EDICT_BIN`, else
/// `edict` next to this executable.
fn edict_bin(flag: &Option<String>) -> std::path::PathBuf {
    if let Some(p) = flag {
        return p.into();
    }
    if let Some(p) = std::env::var_os("EDICT_BIN") {
        return p.into();
    }
    std::env::current_exe()
        .map(|e| e.with_file_name("edict"))
        .unwrap_or_else(|e| die(&e.to_string()))
}

/// What the (a') `edict eval` process writes, and from what input.
#[derive(PartialEq)]
enum Output {
    /// `--format json`: one report document.
    Json,
    /// `--format jsonl`: one outcome a line.
    Jsonl,
    /// `--stream assets=DIR/assets.jsonl --facts DIR/shared.json`, the fleet
    /// as `--split DIR` wrote it: one outcome a line, as it goes.
    Stream(String),
}

/// Splits the fleet for `--stream` into `dir`: `assets.jsonl`, one asset a
/// line, and `shared.json` with every other key.
fn split_fleet(file: &str, dir: &std::path::Path) {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| die(&e.to_string()));
    let mut fleet: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&text).unwrap_or_else(|e| die(&e.to_string()));
    let assets = fleet.remove("assets").unwrap_or_default();
    let mut lines = String::new();
    for asset in assets.as_array().into_iter().flatten() {
        lines.push_str(&asset.to_string());
        lines.push('\n');
    }
    std::fs::write(dir.join("assets.jsonl"), lines).unwrap_or_else(|e| die(&e.to_string()));
    std::fs::write(
        dir.join("shared.json"),
        serde_json::Value::Object(fleet).to_string(),
    )
    .unwrap_or_else(|e| die(&e.to_string()));
}

/// (a') `edict eval … --rule patch_sla` as a whole process, writing to a
/// temporary file. Returns the failing subjects read back from that file,
/// the process's wall time in seconds (reading back not included) and its
/// peak resident memory in KB.
fn cli(edict: &std::path::Path, file: &str, now: &str, output: &Output) -> (Vec<String>, f64, u64) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/hipaa");
    let temp = std::env::temp_dir().join(format!("edict-compare-{}", std::process::id()));
    std::fs::create_dir_all(&temp).unwrap_or_else(|e| die(&e.to_string()));
    let out_path = temp.join("out");
    let mut command = Command::new(edict);
    command
        .arg("eval")
        .arg(format!("{dir}/patching.edict"))
        .arg(format!("{dir}/exceptions.edict"))
        .args(["--rule", "patch_sla", "--now", now]);
    match output {
        Output::Json | Output::Jsonl => {
            let format = if *output == Output::Json {
                "json"
            } else {
                "jsonl"
            };
            command.args(["--facts", file, "--format", format, "--output"]);
            command.arg(&out_path);
        }
        Output::Stream(split) => {
            command.args(["--facts", &format!("{split}/shared.json")]);
            command.args(["--stream", &format!("assets={split}/assets.jsonl")]);
            command
                .stdout(std::fs::File::create(&out_path).unwrap_or_else(|e| die(&e.to_string())));
        }
    }
    let start = Instant::now();
    let status = command
        .status()
        .unwrap_or_else(|e| die(&format!("{}: {e}", edict.display())));
    let seconds = start.elapsed().as_secs_f64();
    if !matches!(status.code(), Some(0 | 1)) {
        die(&format!("{} exited with {status}", edict.display()));
    }
    let text = std::fs::read_to_string(&out_path).unwrap_or_else(|e| die(&e.to_string()));
    let _ = std::fs::remove_dir_all(&temp);
    let parse = |s: &str| -> serde_json::Value {
        serde_json::from_str(s).unwrap_or_else(|e| die(&e.to_string()))
    };
    // json: rules[].findings[] holds every non-passing subject; jsonl and a
    // stream: one outcome a line (a stream ends with register lines).
    let outcomes: Vec<serde_json::Value> = if *output == Output::Json {
        let doc = parse(&text);
        doc["rules"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|r| r["findings"].as_array().cloned().unwrap_or_default())
            .collect()
    } else {
        text.lines().map(parse).collect()
    };
    let mut out = Vec::new();
    for v in &outcomes {
        let subject = v["subject"].as_str().unwrap_or_default();
        match v["outcome"].as_str() {
            Some("fail") => out.push(subject.to_string()),
            Some("error") => out.push(format!("error {subject}")),
            _ => {}
        }
    }
    out.sort();
    (out, seconds, children_peak_kb())
}

/// Peak resident memory of the largest waited-for child process, in KB.
fn children_peak_kb() -> u64 {
    // SAFETY: getrusage only writes into the zeroed struct we pass it.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) == 0 {
            usage.ru_maxrss.max(0) as u64
        } else {
            0
        }
    }
}

struct Row {
    mode: &'static str,
    seconds: f64,
    peak_kb: u64,
    violations: usize,
    digest: String,
    assets: usize,
}

/// The table's name for each mode, in the order the rows are printed.
fn modes(edict: &std::path::Path) -> Vec<(&'static str, String)> {
    let mut m = vec![
        ("typed", "(b) hand-written typed Rust".to_string()),
        ("edict", "(a) Edict, 1 thread".to_string()),
        ("edict2", "(a) Edict, 2 threads".to_string()),
    ];
    if edict.exists() {
        m.push((
            "cli",
            "(a') edict CLI, whole process, --format json".to_string(),
        ));
        m.push((
            "cli-jsonl",
            "(a') edict CLI, whole process, --format jsonl".to_string(),
        ));
        m.push((
            "cli-stream",
            "(a') edict CLI, whole process, --stream of the assets as JSON Lines".to_string(),
        ));
    } else {
        eprintln!(
            "skipping (a'): no edict binary at {} (pass --edict PATH or set EDICT_BIN)",
            edict.display()
        );
    }
    m.push(("rego", format!("(d) regorus {REGORUS_VERSION} (RVM)")));
    if std::env::var_os("EDICT_COMPARE_REGO_ALL").is_some() {
        m.push((
            "rego-data",
            format!("(d) regorus {REGORUS_VERSION} (RVM, fleet as data)"),
        ));
        m.push((
            "rego-interp",
            format!("(d) regorus {REGORUS_VERSION} (interpreter)"),
        ));
    }
    m.push(("parse", "(c) JSON parse only".to_string()));
    m
}

/// The regorus version Cargo.toml pins.
const REGORUS_VERSION: &str = "0.14.1";

fn compare(file: &str, now: &str, runs: usize, edict: &std::path::Path) {
    let exe = std::env::current_exe().unwrap_or_else(|e| die(&e.to_string()));
    let bytes = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0) as f64;
    let modes = modes(edict);
    // The fleet as JSON Lines for cli-stream, split once by a process of its
    // own: getrusage's peak for a mode's children would otherwise include it.
    let split = std::env::temp_dir().join(format!("edict-compare-split-{}", std::process::id()));
    if modes.iter().any(|(m, _)| *m == "cli-stream") {
        std::fs::create_dir_all(&split).unwrap_or_else(|e| die(&e.to_string()));
        let status = Command::new(&exe)
            .arg("--split")
            .arg(&split)
            .arg(file)
            .status()
            .unwrap_or_else(|e| die(&e.to_string()));
        if !status.success() {
            die("splitting the fleet into JSON Lines failed");
        }
    }
    let mut rows = Vec::new();
    for (mode, _) in &modes {
        let mut times = Vec::new();
        let mut last = String::new();
        for _ in 0..runs.max(1) {
            let start = Instant::now();
            let out = Command::new(&exe)
                .args(["--mode", mode, file, "--now", now])
                .arg("--edict")
                .arg(edict)
                .arg("--stream-dir")
                .arg(&split)
                .output()
                .unwrap_or_else(|e| die(&e.to_string()));
            let mut elapsed = start.elapsed().as_secs_f64();
            if !out.status.success() {
                die(&String::from_utf8_lossy(&out.stderr));
            }
            last = String::from_utf8_lossy(&out.stdout).trim().to_string();
            // (a') reports the edict process's own wall time as a fifth field.
            if let Some(own) = last.split(' ').nth(4).and_then(|s| s.parse().ok()) {
                elapsed = own;
            }
            times.push(elapsed);
        }
        times.sort_by(f64::total_cmp);
        let f: Vec<&str> = last.split(' ').collect();
        rows.push(Row {
            mode,
            seconds: times[times.len() / 2],
            violations: f.first().and_then(|n| n.parse().ok()).unwrap_or(0),
            digest: f.get(1).unwrap_or(&"").to_string(),
            peak_kb: f.get(2).and_then(|n| n.parse().ok()).unwrap_or(0),
            assets: f.get(3).and_then(|n| n.parse().ok()).unwrap_or(0),
        });
    }
    let _ = std::fs::remove_dir_all(&split);
    let base = rows[0].seconds;
    println!("| program | violations | median s | assets/s | MB/s | peak MB | time ÷ typed |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (r, (_, name)) in rows.iter().zip(&modes) {
        let violations = if r.mode == "parse" {
            "-".to_string()
        } else {
            r.violations.to_string()
        };
        println!(
            "| {name} | {violations} | {:.2} | {:.0} | {:.1} | {:.0} | {:.2} |",
            r.seconds,
            r.assets as f64 / r.seconds,
            bytes / 1e6 / r.seconds,
            r.peak_kb as f64 / 1024.0,
            r.seconds / base
        );
    }
    for (r, (_, name)) in rows.iter().zip(&modes).skip(1) {
        if r.mode != "parse" && (r.digest != rows[0].digest || r.violations != rows[0].violations) {
            die(&format!(
                "{name} and the typed program report different violations"
            ));
        }
    }
    println!(
        "\nevery program but (c) reports the same {} violations as the typed program",
        rows[0].violations
    );
}
