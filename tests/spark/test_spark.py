"""Edict on Spark local[2] gives, record for record, what one `edict eval --stream` gives."""

import json
import os
import subprocess
import time

import pytest

import combine_evidence
import edict_spark
from conftest import ROOT

NOW = "2026-11-01"
POLICIES = str(ROOT / "examples" / "hipaa")
KEY = ["rule", "subject", "outcome", "id", "waived_by"]


def timing(name, seconds):
    print(f"\n[timing] {name}: {seconds:.2f} s")
    path = os.environ.get("EDICT_SPARK_TIMINGS")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"{name}\t{seconds:.2f}\n")


def test_spark_outcomes_equal_a_single_process_stream(spark, edict, fleet):
    assets, shared = fleet / "assets.jsonl", fleet / "shared.json"
    command = edict_spark.edict_command(edict, POLICIES, shared, NOW)

    start = time.monotonic()
    single_out = fleet / "single.jsonl"
    with open(assets, "rb") as stdin, open(single_out, "wb") as stdout:
        run = subprocess.run(
            [str(edict), "eval", POLICIES, "--facts", str(shared), "--now", NOW,
             "--stream", "assets=-", "--exit-zero", "--evidence", "--quiet"],
            stdin=stdin, stdout=stdout, stderr=subprocess.PIPE, check=False,
        )
    timing("single process edict eval --stream", time.monotonic() - start)
    assert run.returncode == 0, run.stderr.decode()

    start = time.monotonic()
    # Two input splits, so local[2] runs two partitions without a shuffle.
    spark.conf.set("spark.sql.files.maxPartitionBytes", str(assets.stat().st_size // 2 + 1))
    df = spark.read.json(str(assets))  # scans the file once to infer the schema
    timing("spark read.json (schema inference)", time.monotonic() - start)
    lines = edict_spark.evaluate(df, command)
    got = edict_spark.outcomes(spark, lines).select(KEY + ["line"]).cache()
    per_rule = {r["rule"]: r["count"] for r in got.groupBy("rule").count().collect()}
    timing("spark local[2] total: read + pipe + outcomes by rule", time.monotonic() - start)
    assert lines.getNumPartitions() == 2

    want = spark.read.schema(edict_spark.OUTCOME_SCHEMA).json(str(single_out))
    want = want.where("type IS NULL AND rule IS NOT NULL").select(KEY + ["line"]).cache()
    # Per-record outcomes (they carry the record's line): a multiset, both
    # ways, so nothing is missing, extra or duplicated.
    got_records = got.where("line IS NOT NULL").select(KEY)
    want_records = want.where("line IS NOT NULL").select(KEY)
    assert got_records.count() == want_records.count() > 200
    assert set(per_rule) >= {"patch_sla", "kev_deadline", "legacy_compensating_control"}, per_rule
    assert got_records.exceptAll(want_records).count() == 0
    assert want_records.exceptAll(got_records).count() == 0
    assert got_records.where("id IS NULL").count() == 0
    # Rules that do not iterate the stream run once per partition, the same each time.
    got_once = got.where("line IS NULL").select(KEY)
    want_once = want.where("line IS NULL").select(KEY)
    assert want_once.count() > 0
    assert got_once.count() == 2 * want_once.count()
    assert got_once.exceptAll(want_once.union(want_once)).count() == 0

    # Each partition's evidence agrees; combined, the counts are the single run's.
    evidence = edict_spark.evidence_lines(lines)
    combined = combine_evidence.combine(evidence)
    single = [json.loads(l) for l in open(single_out, encoding="utf-8") if l.startswith('{"type":')]
    alone = combine_evidence.combine(single)
    assert combined["partitions"] == 2
    assert combined["records"] == alone["records"] == int(os.environ.get("EDICT_SPARK_ASSETS", "200000"))
    for key in ("now", "policy_set_sha256", "tool_version", "rejected"):
        assert combined[key] == alone[key], key
    # The summaries count every outcome line written (once-per-run rules once per partition).
    outcome_total = lambda c: sum(c[k] for k in ("pass", "fail", "waived", "error"))
    assert outcome_total(combined) == got.count()
    assert outcome_total(alone) == want.count()
    assert [f["sha256"] for f in combined["facts"]] == [f["sha256"] for f in alone["facts"]]

    # The exception register, combined across partitions, is the single run's.
    register = combine_evidence.combine_register(edict_spark.register_lines(lines))
    single_register = [json.loads(l) for l in open(single_out, encoding="utf-8") if l.startswith('{"waiver":')]
    assert len(single_register) > 0
    assert sorted(map(json.dumps, register)) == sorted(map(json.dumps, single_register))


def test_a_malformed_record_fails_the_spark_job(spark, edict, fleet):
    shared = fleet / "shared.json"
    command = edict_spark.edict_command(edict, POLICIES, shared, NOW)
    with open(fleet / "assets.jsonl", encoding="utf-8") as f:
        good = [next(f).rstrip("\n") for _ in range(20)]
    rdd = spark.sparkContext.parallelize(good[:10] + ['{"id": broken'] + good[10:], 2)
    with pytest.raises(Exception) as failure:
        rdd.pipe(command, env={}, checkCode=True).collect()
    assert "exited with error code 2" in str(failure.value), str(failure.value)[-2000:]
    # Without the malformed record the same job succeeds (the failure is the record's).
    assert len(spark.sparkContext.parallelize(good, 2).pipe(command, env={}, checkCode=True).collect()) > 20
