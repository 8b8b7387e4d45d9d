//! The HTML audit report: one self-contained file with inline CSS, SVG charts
//! and a little JS, locked down by a Content-Security-Policy that allows no network.

use std::fmt::Write as _;

use chrono::NaiveDate;

use super::{Counts, Finding, Report, RuleReport};
use crate::eval::outcome::{EntryStatus, Outcome};
use crate::ir::Severity;

const CSS: &str = r#"
:root{--edict:1;--pass:#2e7d32;--fail:#c62828;--waived:#b7791f;--error:#6a1b9a;--ink:#1f2328;--muted:#59636e;--line:#d8dee4;--bg:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:#fff}
header{padding:20px 32px;background:var(--bg);border-bottom:1px solid var(--line)}
h1{margin:0 0 4px;font-size:22px}
h2{font-size:17px;margin:28px 0 10px;border-bottom:1px solid var(--line);padding-bottom:4px}
main{padding:0 32px 32px;max-width:1400px}
.meta{color:var(--muted)}
.verdict{display:inline-block;padding:2px 10px;border-radius:12px;font-weight:700;color:#fff;margin-left:8px;font-size:14px;vertical-align:middle}
.verdict.bad{background:var(--fail)}.verdict.good{background:var(--pass)}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin-top:16px}
.card{border:1px solid var(--line);border-radius:8px;padding:8px 14px;min-width:110px;background:#fff}
.card b{display:block;font-size:22px}
.card.pass b{color:var(--pass)}.card.fail b{color:var(--fail)}.card.waived b{color:var(--waived)}.card.error b{color:var(--error)}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:16px}
figure{margin:0;border:1px solid var(--line);border-radius:8px;padding:10px 12px}
figcaption{font-weight:600;margin-bottom:6px}
svg text{font:12px system-ui,sans-serif;fill:var(--ink)}
svg .muted{fill:var(--muted)}
.s-pass{fill:var(--pass)}.s-fail{fill:var(--fail)}.s-waived{fill:var(--waived)}.s-error{fill:var(--error)}.s-bar{fill:#0969da}.s-axis{stroke:var(--muted)}.s-dot{fill:var(--waived)}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
th{background:var(--bg);position:sticky;top:0}
th button{all:unset;cursor:pointer;font-weight:600}
th[aria-sort=ascending] button::after{content:" \25B2"}th[aria-sort=descending] button::after{content:" \25BC"}
td.num,th.num{text-align:right}
.o-fail{color:var(--fail);font-weight:700}.o-error{color:var(--error);font-weight:700}.o-waived{color:var(--waived);font-weight:600}.o-pass{color:var(--pass)}
.st-used{color:var(--pass)}.st-rejected{color:var(--fail)}.st-stale{color:var(--muted)}
.nw{white-space:nowrap}.loc{word-break:break-all;min-width:120px}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
.small{font-size:12px;color:var(--muted)}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px}dt{font-weight:600}dd{margin:0;word-break:break-all}
"#;

const JS: &str = r#"
(function(){
  var t=document.getElementById('findings-table');
  if(t){
    var heads=t.tHead.rows[0].cells,state={};
    var value=function(row,i,num){var c=row.cells[i],v=c.getAttribute('data-v');if(v===null)v=c.textContent;if(num){var n=parseFloat(v);return isNaN(n)?-Infinity:n;}return v;};
    var sortBy=function(i,dir){
      var num=heads[i].getAttribute('data-type')==='num',body=t.tBodies[0];
      var rows=Array.prototype.slice.call(body.rows);
      rows.sort(function(a,b){var x=value(a,i,num),y=value(b,i,num);var r=num?(x<y?-1:x>y?1:0):x.localeCompare(y);return dir*r;});
      rows.forEach(function(r){body.appendChild(r);});
      for(var k=0;k<heads.length;k++)heads[k].removeAttribute('aria-sort');
      heads[i].setAttribute('aria-sort',dir>0?'ascending':'descending');
      state={i:i,dir:dir};
    };
    Array.prototype.forEach.call(heads,function(h,i){
      var b=h.querySelector('button');
      if(b)b.addEventListener('click',function(){sortBy(i,state.i===i?-state.dir:(h.getAttribute('data-type')==='num'?-1:1));});
    });
    var m=/sort=([a-z]+)(?::(asc|desc))?/.exec(location.hash);
    if(m){Array.prototype.forEach.call(heads,function(h,i){if(h.getAttribute('data-key')===m[1])sortBy(i,m[2]==='desc'?-1:1);});}
  }
  var root=document.documentElement;
  root.setAttribute('data-js','ready');
  if(getComputedStyle(root).getPropertyValue('--edict').trim()==='1')root.setAttribute('data-css','ready');
})();
"#;

/// Renders the report as one self-contained HTML file.
pub fn render(report: &Report) -> String {
    let s = &report.summary;
    let mut out = String::new();
    let csp = format!(
        "default-src 'none'; style-src 'sha256-{}'; script-src 'sha256-{}'; img-src data:; base-uri 'none'; form-action 'none'",
        base64_sha256(CSS),
        base64_sha256(JS)
    );
    let verdict = if s.compliant {
        "<span class=\"verdict good\">COMPLIANT</span>"
    } else {
        "<span class=\"verdict bad\">NON-COMPLIANT</span>"
    };
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"edict {}\">\n\
         <title>Edict audit report · {} · {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        esc(&csp),
        esc(report.tool.version),
        if s.compliant {
            "compliant"
        } else {
            "non-compliant"
        },
        esc(&report.now)
    );
    let _ = writeln!(
        out,
        "<header>\n<h1>Compliance audit report {verdict}</h1>\n<div class=\"meta\">edict {} · evaluated at <b>{}</b> · fail-on {} · policy set sha256 <span class=\"mono\">{}</span></div>",
        esc(report.tool.version),
        esc(&report.now),
        esc(&s.fail_on),
        esc(&report.evidence.policy_set_sha256)
    );
    let e = &s.exceptions;
    let _ = writeln!(
        out,
        "<div class=\"cards\" id=\"summary\">\
         <div class=\"card\"><b>{}</b>rules</div>\
         <div class=\"card\"><b>{}</b>subjects</div>\
         <div class=\"card pass\"><b data-count=\"pass\">{}</b>pass</div>\
         <div class=\"card fail\"><b data-count=\"fail\">{}</b>fail</div>\
         <div class=\"card waived\"><b data-count=\"waived\">{}</b>waived</div>\
         <div class=\"card error\"><b data-count=\"error\">{}</b>error</div>\
         <div class=\"card\"><b>{}</b>exceptions: {} used, {} rejected, {} stale, {} expired</div>\
         </div>\n</header>\n<main>",
        s.rules,
        s.subjects,
        s.pass,
        s.fail,
        s.waived,
        s.error,
        report.exceptions.len(),
        e.used,
        e.rejected,
        e.stale,
        e.expired
    );
    charts(&mut out, report);
    findings_table(&mut out, report);
    rules_table(&mut out, report);
    register(&mut out, report);
    evidence(&mut out, report);
    let _ = write!(out, "</main>\n<script>{JS}</script>\n</body>\n</html>\n");
    out
}

fn charts(out: &mut String, report: &Report) {
    out.push_str("<h2>Charts</h2>\n<div class=\"charts\">\n");
    let by_rule: Vec<(String, Counts)> = report
        .rules
        .iter()
        .map(|r| (r.id.clone(), r.counts))
        .collect();
    figure(
        out,
        "chart-rules",
        "Outcomes by rule",
        &stacked_bars(&by_rule),
    );
    let by_severity: Vec<(String, Counts)> = Severity::ALL
        .iter()
        .rev()
        .map(|sev| {
            let mut c = Counts::default();
            for r in report.rules.iter().filter(|r| r.severity == *sev) {
                c.pass += r.counts.pass;
                c.fail += r.counts.fail;
                c.waived += r.counts.waived;
                c.error += r.counts.error;
            }
            (sev.as_str().to_string(), c)
        })
        .collect();
    figure(
        out,
        "chart-severity",
        "Outcomes by severity",
        &stacked_bars(&by_severity),
    );
    figure(
        out,
        "chart-overdue",
        "Open findings by days overdue",
        &overdue_histogram(report),
    );
    figure(
        out,
        "chart-expiring",
        "Exceptions expiring in the next 90 days",
        &expiry_timeline(report),
    );
    out.push_str("</div>\n");
}

fn figure(out: &mut String, id: &str, caption: &str, svg: &str) {
    let _ = writeln!(
        out,
        "<figure id=\"{id}\"><figcaption>{}</figcaption>\n{svg}</figure>",
        esc(caption)
    );
}

const OUTCOME_CLASSES: [(Outcome, &str); 4] = [
    (Outcome::Pass, "s-pass"),
    (Outcome::Fail, "s-fail"),
    (Outcome::Waived, "s-waived"),
    (Outcome::Error, "s-error"),
];

fn count(c: &Counts, o: Outcome) -> usize {
    match o {
        Outcome::Pass => c.pass,
        Outcome::Fail => c.fail,
        Outcome::Waived => c.waived,
        Outcome::Error => c.error,
    }
}

/// Horizontal stacked bars, one row per label, with a legend.
fn stacked_bars(rows: &[(String, Counts)]) -> String {
    let (label_w, bar_w, row_h) = (200.0, 300.0, 24.0);
    let total = |c: &Counts| c.pass + c.fail + c.waived + c.error;
    let max = rows.iter().map(|(_, c)| total(c)).max().unwrap_or(0).max(1);
    let height = 28.0 + row_h * rows.len() as f64;
    let mut svg = format!(
        "<svg role=\"img\" viewBox=\"0 0 560 {height}\" width=\"560\" height=\"{height}\">"
    );
    let mut x = label_w;
    for (o, class) in OUTCOME_CLASSES {
        let _ = write!(
            svg,
            "<rect class=\"{class}\" x=\"{x}\" y=\"4\" width=\"10\" height=\"10\"/><text x=\"{}\" y=\"13\">{}</text>",
            x + 14.0,
            o.as_str()
        );
        x += 70.0;
    }
    for (i, (label, c)) in rows.iter().enumerate() {
        let y = 24.0 + row_h * i as f64;
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            label_w - 8.0,
            y + 15.0,
            esc(label)
        );
        let mut x = label_w;
        for (o, class) in OUTCOME_CLASSES {
            let n = count(c, o);
            if n == 0 {
                continue;
            }
            let w = bar_w * n as f64 / max as f64;
            let _ = write!(
                svg,
                "<rect class=\"{class}\" data-outcome=\"{}\" data-n=\"{n}\" x=\"{x:.1}\" y=\"{}\" width=\"{w:.1}\" height=\"{}\"><title>{}: {n} {}</title></rect>",
                o.as_str(),
                y + 3.0,
                row_h - 6.0,
                esc(label),
                o.as_str()
            );
            x += w;
        }
        let _ = write!(
            svg,
            "<text class=\"muted\" x=\"{:.1}\" y=\"{}\">{}</text>",
            x + 6.0,
            y + 15.0,
            total(c)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// Overdue-days buckets of open (failing) findings.
const OVERDUE_BUCKETS: [(&str, i64, i64); 7] = [
    ("not overdue", i64::MIN, 0),
    ("1–7", 1, 7),
    ("8–30", 8, 30),
    ("31–90", 31, 90),
    ("91–180", 91, 180),
    ("181–365", 181, 365),
    (">365", 366, i64::MAX),
];

fn overdue_histogram(report: &Report) -> String {
    let open: Vec<&Finding> = report
        .rules
        .iter()
        .flat_map(|r| r.findings.iter())
        .filter(|f| f.outcome == Outcome::Fail)
        .collect();
    let mut counts = [0usize; OVERDUE_BUCKETS.len()];
    let mut no_due = 0;
    for f in &open {
        match f.days_overdue {
            Some(d) => {
                if let Some(i) = OVERDUE_BUCKETS
                    .iter()
                    .position(|(_, lo, hi)| d >= *lo && d <= *hi)
                {
                    counts[i] += 1;
                }
            }
            None => no_due += 1,
        }
    }
    let max = counts.iter().copied().max().unwrap_or(0).max(1);
    let (plot_h, col_w, left) = (150.0, 70.0, 20.0);
    let mut svg =
        String::from("<svg role=\"img\" viewBox=\"0 0 560 210\" width=\"560\" height=\"210\">");
    for (i, ((label, _, _), n)) in OVERDUE_BUCKETS.iter().zip(counts).enumerate() {
        let x = left + col_w * i as f64;
        let h = plot_h * n as f64 / max as f64;
        let y = 20.0 + plot_h - h;
        let _ = write!(
            svg,
            "<rect class=\"s-bar\" data-bucket=\"{label}\" data-n=\"{n}\" x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{h:.1}\"><title>{label} days: {n}</title></rect>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{n}</text>\
             <text class=\"muted\" x=\"{:.1}\" y=\"190\" text-anchor=\"middle\">{}</text>",
            x + 8.0,
            col_w - 16.0,
            x + col_w / 2.0,
            y - 4.0,
            x + col_w / 2.0,
            esc(label)
        );
    }
    let _ = writeln!(
        svg,
        "<line class=\"s-axis\" x1=\"{left}\" y1=\"170\" x2=\"{}\" y2=\"170\"/>\
         <text class=\"muted\" x=\"{left}\" y=\"206\">days overdue · {} open findings{}</text></svg>",
        left + col_w * OVERDUE_BUCKETS.len() as f64,
        open.len(),
        if no_due > 0 {
            format!(", {no_due} without a deadline")
        } else {
            String::new()
        }
    );
    svg
}

/// The window the expiry chart covers, in days.
const EXPIRY_WINDOW: i64 = 90;

fn expiry_timeline(report: &Report) -> String {
    let today = NaiveDate::parse_from_str(report.now.get(..10).unwrap_or(""), "%Y-%m-%d").ok();
    let mut upcoming: Vec<(i64, &str, &str)> = Vec::new();
    let (mut expired, mut later) = (0, 0);
    for x in &report.exceptions {
        let date = x
            .expires
            .as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
        let (Some(today), Some(date)) = (today, date) else {
            continue;
        };
        let days = (date - today).num_days();
        if days < 0 {
            expired += 1;
        } else if days > EXPIRY_WINDOW {
            later += 1;
        } else {
            upcoming.push((days, &x.entry, x.expires.as_deref().unwrap_or("")));
        }
    }
    upcoming.sort();
    let (left, width) = (20.0, 520.0);
    let xpos = |d: i64| left + width * d as f64 / EXPIRY_WINDOW as f64;
    let mut svg =
        String::from("<svg role=\"img\" viewBox=\"0 0 560 210\" width=\"560\" height=\"210\">");
    let axis_y = 40.0;
    let _ = write!(
        svg,
        "<line class=\"s-axis\" x1=\"{left}\" y1=\"{axis_y}\" x2=\"{}\" y2=\"{axis_y}\"/>",
        left + width
    );
    for tick in (0..=EXPIRY_WINDOW).step_by(15) {
        let x = xpos(tick);
        let label = today
            .and_then(|t| t.checked_add_signed(chrono::Duration::days(tick)))
            .map(|d| d.format("%m-%d").to_string())
            .unwrap_or_default();
        let _ = write!(
            svg,
            "<line class=\"s-axis\" x1=\"{x:.1}\" y1=\"{}\" x2=\"{x:.1}\" y2=\"{}\"/><text class=\"muted\" x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\">{label}</text>",
            axis_y - 4.0,
            axis_y + 4.0,
            axis_y - 10.0
        );
    }
    // Stack labels into rows so neighbours do not overlap.
    let mut row_ends: Vec<f64> = Vec::new();
    for (days, entry, date) in &upcoming {
        let x = xpos(*days);
        let label = format!("{entry} · {date}");
        let w = 7.0 * label.chars().count() as f64;
        // Labels that would run off the right edge extend leftwards instead.
        let leftwards = x + w > left + width + 20.0;
        let (start, end, tx, anchor) = if leftwards {
            (x - w - 8.0, x, x - 3.0, "end")
        } else {
            (x, x + w + 8.0, x + 3.0, "start")
        };
        let row = match row_ends.iter().position(|e| *e < start) {
            Some(r) => r,
            None => {
                row_ends.push(f64::MIN);
                row_ends.len() - 1
            }
        };
        if let Some(e) = row_ends.get_mut(row) {
            *e = end;
        }
        let y = axis_y + 22.0 + 20.0 * row as f64;
        let _ = write!(
            svg,
            "<g data-entry=\"{}\" data-days=\"{days}\"><line class=\"s-axis\" x1=\"{x:.1}\" y1=\"{axis_y}\" x2=\"{x:.1}\" y2=\"{:.1}\"/><circle class=\"s-dot\" cx=\"{x:.1}\" cy=\"{axis_y}\" r=\"5\"/><text x=\"{tx:.1}\" y=\"{y:.1}\" text-anchor=\"{anchor}\">{}</text></g>",
            esc(entry),
            y - 4.0,
            esc(&label)
        );
    }
    let note = if upcoming.is_empty() {
        "no exception expires in the next 90 days".to_string()
    } else {
        format!("{} expiring in the next 90 days", upcoming.len())
    };
    let _ = writeln!(
        svg,
        "<text class=\"muted\" x=\"{left}\" y=\"206\">{note} · {expired} already expired · {later} later</text></svg>"
    );
    svg
}

fn findings_table(out: &mut String, report: &Report) {
    out.push_str(
        "<h2>Findings</h2>\n<p class=\"small\">Every subject that did not pass. Click a column to sort.</p>\n\
         <table id=\"findings-table\">\n<thead><tr>\
         <th data-key=\"rule\"><button type=\"button\">Rule</button></th>\
         <th data-key=\"severity\" data-type=\"num\"><button type=\"button\">Severity</button></th>\
         <th data-key=\"subject\"><button type=\"button\">Subject</button></th>\
         <th data-key=\"outcome\"><button type=\"button\">Outcome</button></th>\
         <th data-key=\"days\" data-type=\"num\" class=\"num\"><button type=\"button\">Days overdue</button></th>\
         <th data-key=\"due\"><button type=\"button\">Due</button></th>\
         <th>Message</th><th>Exception</th><th data-key=\"location\"><button type=\"button\">Location</button></th>\
         </tr></thead>\n<tbody>\n",
    );
    for r in &report.rules {
        for f in &r.findings {
            finding_row(out, r, f);
        }
    }
    out.push_str("</tbody>\n</table>\n");
}

fn finding_row(out: &mut String, r: &RuleReport, f: &Finding) {
    let messages = f
        .messages
        .iter()
        .map(|m| esc(&m.message))
        .collect::<Vec<_>>()
        .join("<br>");
    let mut exception = String::new();
    if let Some(w) = &f.waived_by {
        let _ = write!(
            exception,
            "waived by <b>{}</b> via {}",
            esc(&w.entry),
            esc(&w.waiver)
        );
        if let Some(a) = &w.approver {
            let _ = write!(exception, ", approved by {}", esc(a));
        }
        if let Some(e) = &w.expires {
            let _ = write!(exception, ", expires {}", esc(e));
        }
    }
    for rej in &f.rejected {
        if !exception.is_empty() {
            exception.push_str("<br>");
        }
        let _ = write!(
            exception,
            "rejected <b>{}</b>: {}",
            esc(&rej.entry),
            esc(&rej.reasons.join("; "))
        );
    }
    let location = f
        .messages
        .first()
        .map(|m| {
            format!(
                "{}:{}:{}",
                m.location.file, m.location.line, m.location.column
            )
        })
        .unwrap_or_default();
    let days = match f.days_overdue {
        Some(d) if d > 0 => d.to_string(),
        _ => String::new(),
    };
    let o = f.outcome.as_str();
    let _ = writeln!(
        out,
        "<tr class=\"finding\" data-outcome=\"{o}\" data-rule=\"{}\"><td class=\"mono\">{}</td><td data-v=\"{}\">{}</td><td class=\"mono nw\">{}</td><td class=\"o-{o}\">{o}</td><td class=\"num\" data-v=\"{}\">{days}</td><td class=\"nw\">{}</td><td>{messages}</td><td>{exception}</td><td class=\"mono loc\">{}</td></tr>",
        esc(&r.id),
        esc(&r.id),
        severity_rank(r.severity),
        r.severity.as_str(),
        esc(&f.subject),
        f.days_overdue.map(|d| d.to_string()).unwrap_or_default(),
        esc(f.due.as_deref().unwrap_or("")),
        esc(&location)
    );
}

fn severity_rank(s: Severity) -> usize {
    Severity::ALL.iter().position(|x| *x == s).unwrap_or(0)
}

fn rules_table(out: &mut String, report: &Report) {
    out.push_str(
        "<h2>Rules</h2>\n<table id=\"rules-table\">\n<thead><tr><th>Rule</th><th>Title</th><th>Severity</th><th>Level</th>\
         <th class=\"num\">Pass</th><th class=\"num\">Fail</th><th class=\"num\">Waived</th><th class=\"num\">Error</th><th>Citations</th><th>Declared at</th></tr></thead>\n<tbody>\n",
    );
    for r in &report.rules {
        let c = r.counts;
        let l = &r.location;
        let _ = writeln!(
            out,
            "<tr class=\"rule\" data-rule=\"{}\"><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"mono\">{}:{}:{}</td></tr>",
            esc(&r.id),
            esc(&r.id),
            esc(r.title.as_deref().unwrap_or("")),
            r.severity.as_str(),
            if r.enforced { "mandatory" } else { "advisory" },
            c.pass,
            c.fail,
            c.waived,
            c.error,
            r.citations.iter().map(|c| esc(c)).collect::<Vec<_>>().join("<br>"),
            esc(&l.file),
            l.line,
            l.column
        );
    }
    out.push_str("</tbody>\n</table>\n");
}

fn register(out: &mut String, report: &Report) {
    let e = &report.summary.exceptions;
    let _ = writeln!(
        out,
        "<h2>Exception register</h2>\n<p class=\"small\">{} used, {} rejected, {} stale, {} expired, {} expiring soon</p>",
        e.used, e.rejected, e.stale, e.expired, e.expiring
    );
    out.push_str(
        "<table id=\"register-table\">\n<thead><tr><th>Entry</th><th>Waiver</th><th>Status</th><th>Approver</th><th>Expires</th><th>Waived</th></tr></thead>\n<tbody>\n",
    );
    for x in &report.exceptions {
        let status = match x.status {
            EntryStatus::Used => "used",
            EntryStatus::Rejected => "rejected",
            EntryStatus::Stale => "stale",
        };
        let mut expires = esc(x.expires.as_deref().unwrap_or(""));
        if x.expired {
            expires.push_str(" <b>(expired)</b>");
        } else if x.expiring {
            expires.push_str(" <b>(expiring)</b>");
        }
        let _ = writeln!(
            out,
            "<tr class=\"entry\" data-status=\"{status}\"><td class=\"mono\">{}</td><td>{}</td><td class=\"st-{status}\">{status}</td><td>{}</td><td>{expires}</td><td class=\"mono\">{}</td></tr>",
            esc(&x.entry),
            esc(&x.waiver),
            esc(x.approver.as_deref().unwrap_or("")),
            x.waived.iter().map(|w| esc(w)).collect::<Vec<_>>().join("<br>")
        );
    }
    out.push_str("</tbody>\n</table>\n");
}

fn evidence(out: &mut String, report: &Report) {
    let e = &report.evidence;
    let _ = writeln!(
        out,
        "<h2>Evidence</h2>\n<section id=\"evidence\">\n<dl>\
         <dt>Tool</dt><dd>edict {}</dd>\
         <dt>Evaluated at</dt><dd class=\"mono\">{}</dd>\
         <dt>Command line</dt><dd class=\"mono\" id=\"command-line\">{}</dd>\
         <dt>Policy set SHA-256</dt><dd class=\"mono\" id=\"policy-set-sha256\">{}</dd></dl>",
        esc(e.tool_version),
        esc(&e.now),
        esc(&e.command()),
        esc(&e.policy_set_sha256)
    );
    out.push_str(
        "<table id=\"evidence-table\">\n<thead><tr><th>Input</th><th>File</th><th class=\"num\">Bytes</th><th>SHA-256</th></tr></thead>\n<tbody>\n",
    );
    let rows = e
        .policy_files
        .iter()
        .map(|f| ("policy", f))
        .chain(e.facts.iter().map(|f| ("facts", f)));
    for (kind, f) in rows {
        let name = match &f.mount {
            Some(m) => format!("{m}={}", f.path),
            None => f.path.clone(),
        };
        let _ = writeln!(
            out,
            "<tr class=\"digest\" data-kind=\"{kind}\"><td>{kind}</td><td class=\"mono\">{}</td><td class=\"num\">{}</td><td class=\"mono\">{}</td></tr>",
            esc(&name),
            f.bytes,
            esc(&f.sha256)
        );
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

/// Escapes text for HTML element content and quoted attributes.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The base64 SHA-256 of a text, as a CSP hash source wants it.
fn base64_sha256(text: &str) -> String {
    use sha2::Digest as _;
    base64(&sha2::Sha256::digest(text.as_bytes()))
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), want);
        }
    }

    #[test]
    fn escaping_neutralises_markup() {
        assert_eq!(
            esc("<a href=\"x\">'&"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;"
        );
    }
}
