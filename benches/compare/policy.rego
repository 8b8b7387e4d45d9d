# The HIPAA example's patch_sla rule with its risk_acceptance waiver
# (examples/hipaa/patching.edict, examples/hipaa/exceptions.edict), in Rego
# for regorus. It reports the same strings as typed() in src/main.rs:
# "ASSET:CVE" for each unwaived late finding and "error ASSET:CVE" for a
# finding whose severity has no SLA.
#
# The fleet document ({"assets": [...], "exceptions": [...]}) is the input;
# data.now is today as YYYY-MM-DD. Dates are ISO YYYY-MM-DD strings, so
# comparing them as strings is exact; only the SLA deadline needs date
# arithmetic (time.parse_ns + time.add_date, midnight UTC).
package compare

# Remediation SLA in days per severity.
sla := {"critical": 15, "high": 30, "medium": 90, "low": 180}

today_ns := time.parse_ns("2006-01-02", data.now)

# Who may accept the risk of a finding, by severity.
approver_for(sev) := "CISO" if {
	sev in {"critical", "high"}
} else := "Security Manager"

# The last day a risk acceptance approved on `approved` may run to: the same
# day 12 months later, 28 February for an approval on 29 February (the
# clamping of chrono's checked_add_months and of Edict's add_months;
# time.add_date would roll over to 1 March).
latest_expiry(approved) := concat("", [year, "-02-28"]) if {
	endswith(approved, "-02-29")
	year := format_int(to_number(substring(approved, 0, 4)) + 1, 10)
} else := concat("", [year, substring(approved, 4, -1)]) if {
	year := format_int(to_number(substring(approved, 0, 4)) + 1, 10)
}

# Every valid risk acceptance, keyed "ASSET|CVE|APPROVER_ROLE", so a finding
# looks up its waiver in one set membership test instead of scanning the
# register. A finding is waived when the key with the role its severity
# needs is present.
waivers contains concat("|", [e.asset, e.cve, e.approver_role]) if {
	some e in input.exceptions
	e.expires >= data.now
	is_string(e.compensating_control)
	trim_space(e.compensating_control) != ""
	e.expires <= latest_expiry(e.approved)
	e.requester != e.approver
}

# The instant a finding is measured at: its patch date, or today if open.
measured_ns(f) := time.parse_ns("2006-01-02", f.patched) if {
	is_string(f.patched)
} else := today_ns

# Arrays, not sets: an asset can list the same CVE twice (the generator
# does), and each late finding is its own violation, as in Edict and typed().
late := [concat(":", [a.id, f.cve]) |
	some a in input.assets
	some f in a.findings
	days := sla[f.severity]
	due := time.add_date(time.parse_ns("2006-01-02", f.published), 0, 0, days)
	measured_ns(f) > due
	not concat("|", [a.id, f.cve, approver_for(f.severity)]) in waivers
]

unknown_severity := [concat("", ["error ", a.id, ":", f.cve]) |
	some a in input.assets
	some f in a.findings
	f.severity != "info"
	not sla[f.severity]
]

violations := array.concat(late, unknown_severity)
