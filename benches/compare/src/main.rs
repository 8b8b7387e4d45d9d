//! Evaluates the HIPAA patch-SLA policy with its risk-acceptance waiver on one
//! fleet document three ways, each in its own process: (a) Edict, (b) a
//! hand-written loop over typed serde structs, (c) JSON parsing alone. Checks
//! (a) and (b) report the same violations and prints throughput, peak memory
//! and ratios to (b).
//!
//! Usage: edict-compare FLEET.json [--runs N] [--now YYYY-MM-DD]
//!        edict-compare --mode edict|typed|parse FLEET.json --now YYYY-MM-DD

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::process::Command;
use std::time::Instant;

use chrono::{Days, Months, NaiveDate};
use serde::Deserialize;

const PATCHING: &str = include_str!("../../../examples/hipaa/patching.edict");
const EXCEPTIONS: &str = include_str!("../../../examples/hipaa/exceptions.edict");

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
    if let Some(mode) = flag("--mode") {
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| die(&e.to_string()));
        let today = NaiveDate::parse_from_str(&now, "%Y-%m-%d").unwrap_or_else(|_| usage());
        let violations = match mode.as_str() {
            "edict" => edict(&text, today, 1),
            "edict2" => edict(&text, today, 2),
            "typed" => typed(&text, today),
            "parse" => parse(&text),
            _ => usage(),
        };
        let mut h = DefaultHasher::new();
        violations.hash(&mut h);
        println!(
            "{} {:016x} {} {}",
            violations.len(),
            h.finish(),
            peak_kb(),
            assets(&text)
        );
        return;
    }
    let runs: usize = flag("--runs").and_then(|r| r.parse().ok()).unwrap_or(3);
    compare(&file, &now, runs);
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
    let facts = edict::Facts::from_json_str(text).unwrap_or_else(|e| die(&e.to_string()));
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

struct Row {
    mode: &'static str,
    seconds: f64,
    peak_kb: u64,
    violations: usize,
    digest: String,
    assets: usize,
}

fn compare(file: &str, now: &str, runs: usize) {
    let exe = std::env::current_exe().unwrap_or_else(|e| die(&e.to_string()));
    let bytes = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0) as f64;
    let mut rows = Vec::new();
    for mode in ["typed", "edict", "edict2", "parse"] {
        let mut times = Vec::new();
        let mut last = String::new();
        for _ in 0..runs.max(1) {
            let start = Instant::now();
            let out = Command::new(&exe)
                .args(["--mode", mode, file, "--now", now])
                .output()
                .unwrap_or_else(|e| die(&e.to_string()));
            times.push(start.elapsed().as_secs_f64());
            if !out.status.success() {
                die(&String::from_utf8_lossy(&out.stderr));
            }
            last = String::from_utf8_lossy(&out.stdout).trim().to_string();
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
    let base = rows[0].seconds;
    println!("| program | violations | median s | assets/s | MB/s | peak MB | time ÷ typed |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        let name = match r.mode {
            "typed" => "(b) hand-written typed Rust",
            "edict" => "(a) Edict, 1 thread",
            "edict2" => "(a) Edict, 2 threads",
            _ => "(c) JSON parse only",
        };
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
    if rows[1..3]
        .iter()
        .any(|r| r.digest != rows[0].digest || r.violations != rows[0].violations)
    {
        die("edict and the typed program report different violations");
    }
    println!(
        "\nedict and the typed program report the same {} violations",
        rows[0].violations
    );
}
