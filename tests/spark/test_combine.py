"""combine_evidence refuses partitions that do not belong to one run."""

import copy

import pytest

from combine_evidence import Mismatch, combine, combine_register

EVIDENCE = {
    "type": "evidence", "tool": "edict", "tool_version": "0.1.0", "now": "2026-11-01T00:00:00Z",
    "command_line": ["edict"], "policy_set_sha256": "p" * 64,
    "policy_files": [{"path": "a.edict", "bytes": 3, "sha256": "a" * 64}],
    "facts": [{"path": "shared.json", "bytes": 5, "sha256": "f" * 64}],
}
STREAM = {
    "type": "stream", "now": "2026-11-01T00:00:00Z", "records": 2, "rejected": 0,
    "stream_bytes": 10, "stream_sha256": "s" * 64, "pass": 1, "fail": 1, "waived": 0, "error": 0,
}


def partition(**changes):
    e = copy.deepcopy(EVIDENCE)
    e.update(changes)
    return [e, dict(STREAM)]


def test_matching_partitions_sum():
    c = combine(partition() + partition())
    assert (c["partitions"], c["records"], c["fail"]) == (2, 4, 2)


@pytest.mark.parametrize(
    "change",
    [
        {"now": "2026-11-02T00:00:00Z"},
        {"policy_set_sha256": "q" * 64},
        {"facts": [{"path": "shared.json", "bytes": 5, "sha256": "0" * 64}]},
        {"tool_version": "0.2.0"},
    ],
)
def test_a_mismatch_is_refused(change):
    with pytest.raises(Mismatch):
        combine(partition() + partition(**change))


def test_a_partition_without_its_summary_is_refused():
    with pytest.raises(Mismatch, match="cut short"):
        combine(partition() + partition()[:1])


def test_register_entries_used_anywhere_are_used():
    a = {"waiver": "w", "exception": "e1", "status": "stale", "waived": 0}
    b = {"waiver": "w", "exception": "e1", "status": "used", "waived": 2}
    assert combine_register([a, b]) == [{"waiver": "w", "exception": "e1", "status": "used", "waived": 2}]
