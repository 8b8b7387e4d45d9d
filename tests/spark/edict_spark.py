"""Edict on Apache Spark: pipe each partition's JSON Lines through `edict eval --stream`.

Used by tests/spark and shown in docs/scale-out.md.
"""

import json
import shlex

from pyspark.sql import types as T

# The outcome lines of `edict eval --stream` (docs/performance.md). Evidence,
# stream summary and register lines parse with `rule` null and are set apart.
OUTCOME_SCHEMA = T.StructType(
    [
        T.StructField("type", T.StringType()),
        T.StructField("rule", T.StringType()),
        T.StructField("subject", T.StringType()),
        T.StructField("outcome", T.StringType()),
        T.StructField("messages", T.ArrayType(T.StringType())),
        T.StructField("line", T.LongType()),
        T.StructField("id", T.StringType()),
        T.StructField("due", T.StringType()),
        T.StructField("waived_by", T.StringType()),
        T.StructField("exception", T.StringType()),
    ]
)


def edict_command(binary, policies, shared, now, stream="assets"):
    """The command each partition runs: absolute paths, fixed instant, exit 0 unless invalid."""
    return " ".join(
        shlex.quote(str(a))
        for a in [
            binary, "eval", policies, "--facts", shared, "--now", now,
            "--stream", f"{stream}=-", "--exit-zero", "--evidence", "--quiet",
        ]
    )


def evaluate(df, command):
    """Pipes every row of `df` through `command`; returns the raw output lines (cached)."""
    # checkCode=True: a crash or invalid input fails the job instead of
    # silently returning fewer rows. The environment is empty: paths are absolute.
    return df.toJSON().pipe(command, env={}, checkCode=True).cache()


def outcomes(spark, lines):
    """The outcome lines as a DataFrame (rule, subject, outcome, id, ...)."""
    df = spark.read.schema(OUTCOME_SCHEMA).json(lines)
    return df.where("type IS NULL AND rule IS NOT NULL")


def evidence_lines(lines):
    """Each partition's evidence and stream summary lines, parsed."""
    return [json.loads(l) for l in lines.filter(lambda l: l.startswith('{"type":')).collect()]


def register_lines(lines):
    """Each partition's exception register lines, parsed."""
    return [json.loads(l) for l in lines.filter(lambda l: l.startswith('{"waiver":')).collect()]
