//! `edict-fleet`: writes a deterministic, seeded synthetic fleet shaped like
//! examples/hipaa's facts (assets with findings, a KEV catalog, an exception
//! register and a workforce roster), for benchmarks and scale tests.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use chrono::{Days, NaiveDate};
use clap::{Parser, ValueEnum};
use serde_json::{json, Value};

/// Output layouts.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Format {
    /// One document, `fleet.json`, with every facts key.
    Json,
    /// `assets.jsonl` (one asset a line) and `shared.json` (everything else).
    Jsonl,
}

/// Writes a synthetic fleet.
#[derive(Debug, Parser)]
#[command(name = "edict-fleet", version, about)]
struct Args {
    /// Number of assets.
    #[arg(long, default_value_t = 1000)]
    assets: usize,
    /// Random seed: the same seed and size give the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output layout.
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
    /// Directory to write into (created if missing).
    #[arg(long, default_value = ".")]
    out: PathBuf,
    /// Give each finding the text a scanner export carries (title,
    /// description, solution, plugin output, CVSS): fields patch rules
    /// do not read. The other values are the same as without it.
    #[arg(long)]
    scanner_detail: bool,
}

/// SplitMix64: small, fast and reproducible everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Distinct CVEs findings draw from; a quarter of them are in the KEV catalog.
const CVE_POOL: u64 = 6000;
/// The reference date findings and records are generated around.
const ANCHOR: (i32, u32, u32) = (2026, 11, 1);

fn anchor() -> NaiveDate {
    NaiveDate::from_ymd_opt(ANCHOR.0, ANCHOR.1, ANCHOR.2).unwrap_or_default()
}

fn date(days_before_anchor: u64) -> NaiveDate {
    anchor()
        .checked_sub_days(Days::new(days_before_anchor))
        .unwrap_or_default()
}

fn cve(n: u64) -> String {
    format!("CVE-{}-{:05}", 2019 + n % 8, 10000 + n)
}

fn plus(d: NaiveDate, days: u64) -> NaiveDate {
    d.checked_add_days(Days::new(days)).unwrap_or(d)
}

fn asset(rng: &mut Rng, i: usize, exceptions: &mut Vec<Value>) -> Value {
    const OS: [&str; 5] = [
        "Red Hat Enterprise Linux 9.4",
        "Ubuntu 22.04 LTS",
        "Windows Server 2019",
        "Windows Server 2022",
        "Windows 7 Embedded",
    ];
    const SEVERITY: [&str; 8] = [
        "critical", "high", "high", "medium", "medium", "medium", "low", "info",
    ];
    const ROLES: [&str; 2] = ["CISO", "Security Manager"];
    let id = format!("a{i:07}");
    let os = *rng.pick(&OS);
    let legacy = os.contains("Windows 7");
    let n = rng.below(9);
    let mut findings = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let c = rng.below(CVE_POOL);
        let severity = *rng.pick(&SEVERITY);
        let published = date(rng.below(400));
        let detected = plus(published, rng.below(20));
        let patched = if rng.chance(60) {
            json!(plus(detected, rng.below(120)).to_string())
        } else {
            Value::Null
        };
        if patched.is_null() && rng.chance(8) {
            let approved = date(rng.below(200));
            let months = if rng.chance(90) { 6 } else { 18 };
            let expires = approved
                .checked_add_months(chrono::Months::new(months))
                .unwrap_or(approved);
            let approver_role = if rng.chance(85) {
                if severity == "critical" || severity == "high" {
                    "CISO"
                } else {
                    "Security Manager"
                }
            } else {
                *rng.pick(&ROLES)
            };
            exceptions.push(json!({
                "id": format!("EX-{:07}", exceptions.len() + 1),
                "asset": id,
                "cve": cve(c),
                "justification": "vendor has not certified the patch for this configuration",
                "compensating_control": if rng.chance(95) { "segmented VLAN; EDR in block mode" } else { " " },
                "approver": format!("approver-{}", rng.below(20)),
                "approver_role": approver_role,
                "requester": format!("requester-{}", rng.below(50)),
                "approved": approved.to_string(),
                "expires": expires.to_string(),
                "review_by": plus(approved, 90).to_string(),
                "ticket": format!("GRC-{}", 1000 + exceptions.len()),
            }));
        }
        findings.push(json!({
            "cve": cve(c),
            "severity": severity,
            "published": published.to_string(),
            "detected": detected.to_string(),
            "patched": patched,
        }));
    }
    let mut a = json!({
        "id": id,
        "hostname": format!("host-{i:07}"),
        "os": os,
        "criticality": *rng.pick(&["low", "medium", "high"]),
        "legacy": legacy,
        "ephi": rng.chance(40),
        "findings": findings,
    });
    if legacy && rng.chance(70) {
        a["compensating_control"] = json!("isolated VLAN, application allow-listing");
    }
    a
}

/// Adds to each finding of an asset what a vulnerability scanner's export
/// carries besides the fields patch rules read, derived from its CVE so the
/// random stream (and every other value) is the same as without it.
fn add_scanner_detail(asset: &mut Value) {
    let Some(findings) = asset["findings"].as_array_mut() else {
        return;
    };
    for f in findings {
        let cve = f["cve"].as_str().unwrap_or_default().to_string();
        let n: u64 = cve
            .rsplit('-')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let score = 4.0 + (n % 60) as f64 / 10.0;
        f["plugin_id"] = json!(100_000 + n);
        f["title"] = json!(format!(
            "vendor{} product{} < {}.{}.{} Multiple Vulnerabilities ({cve})",
            n % 97,
            n % 31,
            n % 9,
            n % 13,
            n % 7
        ));
        f["description"] = json!(format!(
            "The version of product{} installed on the remote host is prior to {}.{}.{}. It is, therefore, \
             affected by multiple vulnerabilities as referenced in the vendor advisory, including {cve}: \
             a flaw in input validation allows a remote, unauthenticated attacker to execute arbitrary code \
             or cause a denial of service by sending specially crafted requests. Note that the scanner has \
             not tested for these issues but has instead relied only on the application's self-reported \
             version number.",
            n % 31, n % 9, n % 13, n % 7
        ));
        f["solution"] = json!(format!(
            "Upgrade product{} to version {}.{}.{} or later.",
            n % 31,
            n % 9,
            n % 13 + 1,
            0
        ));
        f["plugin_output"] = json!(format!(
            "\n  Path              : /opt/vendor{}/product{}\n  Installed version : {}.{}.{}\n  Fixed version     : {}.{}.0\n",
            n % 97, n % 31, n % 9, n % 13, n % 7, n % 9, n % 13 + 1
        ));
        f["port"] = json!(if n % 3 == 0 { 443 } else { 0 });
        f["protocol"] = json!("tcp");
        f["cvss3"] = json!({
            "base_score": score,
            "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        });
    }
}

fn kev() -> Value {
    let vulnerabilities: Vec<Value> = (0..CVE_POOL)
        .filter(|c| c % 4 == 0)
        .map(|c| {
            let added = date(c % 700);
            json!({
                "cveID": cve(c),
                "vendorProject": format!("vendor{}", c % 97),
                "product": format!("product{}", c % 31),
                "vulnerabilityName": "synthetic known exploited vulnerability",
                "dateAdded": added.to_string(),
                "shortDescription": "A synthetic entry shaped like the CISA catalog's.",
                "requiredAction": "Apply mitigations per vendor instructions or discontinue use of the product.",
                "dueDate": plus(added, 21).to_string(),
                "knownRansomwareCampaignUse": if c % 3 == 0 { "Known" } else { "Unknown" },
            })
        })
        .collect();
    json!({
        "title": "Synthetic KEV catalog",
        "catalogVersion": "2026.11.29",
        "dateReleased": "2026-11-29T00:00:00.000Z",
        "count": vulnerabilities.len(),
        "vulnerabilities": vulnerabilities,
    })
}

fn people(rng: &mut Rng, n: usize) -> Value {
    let people: Vec<Value> = (0..n)
        .map(|i| {
            let hired = date(rng.below(3000));
            let first = plus(hired, rng.below(45));
            let last = if rng.chance(90) {
                json!(date(rng.below(500)).to_string())
            } else {
                Value::Null
            };
            json!({
                "id": format!("p{i:06}"),
                "name": format!("Person {i}"),
                "role": *rng.pick(&["Nurse", "Physician", "Analyst", "Engineer", "Clerk"]),
                "hired": hired.to_string(),
                "last_training": last,
                "first_training": first.to_string(),
            })
        })
        .collect();
    Value::Array(people)
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    std::fs::create_dir_all(&args.out)?;
    let mut rng = Rng(args.seed);
    let mut exceptions = Vec::new();
    let people_count = (args.assets / 4).max(1);
    match args.format {
        Format::Json => {
            let mut out = BufWriter::new(File::create(args.out.join("fleet.json"))?);
            out.write_all(b"{\"assets\":[")?;
            for i in 0..args.assets {
                if i > 0 {
                    out.write_all(b",\n")?;
                }
                let mut a = asset(&mut rng, i, &mut exceptions);
                if args.scanner_detail {
                    add_scanner_detail(&mut a);
                }
                serde_json::to_writer(&mut out, &a)?;
            }
            out.write_all(b"],\n\"exceptions\":")?;
            serde_json::to_writer(&mut out, &exceptions)?;
            out.write_all(b",\n\"kev\":")?;
            serde_json::to_writer(&mut out, &kev())?;
            out.write_all(b",\n\"people\":")?;
            serde_json::to_writer(&mut out, &people(&mut rng, people_count))?;
            out.write_all(b"}\n")?;
            out.flush()
        }
        Format::Jsonl => {
            let mut out = BufWriter::new(File::create(args.out.join("assets.jsonl"))?);
            for i in 0..args.assets {
                let mut a = asset(&mut rng, i, &mut exceptions);
                if args.scanner_detail {
                    add_scanner_detail(&mut a);
                }
                serde_json::to_writer(&mut out, &a)?;
                out.write_all(b"\n")?;
            }
            out.flush()?;
            let shared = json!({
                "exceptions": exceptions,
                "kev": kev(),
                "people": people(&mut rng, people_count),
            });
            let mut out = BufWriter::new(File::create(args.out.join("shared.json"))?);
            serde_json::to_writer(&mut out, &shared)?;
            out.flush()
        }
    }
}
