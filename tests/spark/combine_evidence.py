#!/usr/bin/env python3
"""Combines the evidence of a partitioned `edict eval --stream --evidence` run.

Reads JSON Lines (every partition's output, or just its `type` lines) on stdin
or from files and prints one combined summary. Refuses (exit 2) when the
partitions disagree on the instant, the tool version, the policy set or the
shared facts, or when a partition's evidence has no stream summary (its output
was cut short).
"""

import hashlib
import json
import sys

SAME = ("tool_version", "now", "policy_set_sha256", "policy_files", "facts")
COUNTS = ("records", "rejected", "pass", "fail", "waived", "error")


class Mismatch(Exception):
    """The partitions' evidence cannot be combined."""


def _digests(files):
    return [(f.get("mount"), f["sha256"], f["bytes"]) for f in files]


def combine(lines):
    """The combined summary of the evidence and stream lines in `lines` (dicts)."""
    evidence = [l for l in lines if l.get("type") == "evidence"]
    streams = [l for l in lines if l.get("type") == "stream"]
    if not evidence:
        raise Mismatch("no evidence lines: run `edict eval --stream` with --evidence")
    if len(evidence) != len(streams):
        raise Mismatch(
            f"{len(evidence)} evidence lines but {len(streams)} stream summaries: "
            "a partition's output was cut short"
        )
    first = evidence[0]
    for n, e in enumerate(evidence[1:], 2):
        for key in SAME:
            a, b = first[key], e[key]
            if key in ("policy_files", "facts"):
                a, b = _digests(a), _digests(b)
            if a != b:
                raise Mismatch(f"partition {n} differs from partition 1 in `{key}`: {b!r} != {a!r}")
    for n, s in enumerate(streams, 1):
        if s["now"] != first["now"]:
            raise Mismatch(f"stream summary {n} has instant {s['now']}, evidence has {first['now']}")
    partition_digests = sorted(s["stream_sha256"] for s in streams)
    combined = {
        "type": "combined",
        "partitions": len(streams),
        "tool_version": first["tool_version"],
        "now": first["now"],
        "policy_set_sha256": first["policy_set_sha256"],
        "policy_files": first["policy_files"],
        "facts": first["facts"],
        "stream_bytes": sum(s["stream_bytes"] for s in streams),
        "partition_stream_sha256": partition_digests,
        # SHA-256 of the sorted partition digests, one per line: independent
        # of partition order, like the policy set digest.
        "streams_sha256": hashlib.sha256(
            "".join(d + "\n" for d in partition_digests).encode()
        ).hexdigest(),
    }
    for key in COUNTS:
        combined[key] = sum(s[key] for s in streams)
    return combined


def combine_register(entries):
    """One line per exception entry from every partition's register lines: used
    in any partition is used; `waived` is the sum."""
    out = {}
    rank = {"used": 2, "rejected": 1, "stale": 0}
    for e in entries:
        key = (e["waiver"], e["exception"])
        if key not in out:
            out[key] = dict(e)
            continue
        c = out[key]
        c["waived"] += e["waived"]
        if rank.get(e["status"], 0) > rank.get(c["status"], 0):
            c["status"] = e["status"]
    return list(out.values())


def main(argv):
    files = argv[1:] or ["-"]
    lines = []
    for name in files:
        f = sys.stdin if name == "-" else open(name, encoding="utf-8")
        for text in f:
            if text.startswith('{"type":'):
                lines.append(json.loads(text))
    try:
        print(json.dumps(combine(lines)))
    except Mismatch as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
