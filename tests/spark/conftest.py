"""Fixtures of the Spark tests: the release binaries, a generated fleet, a local[2] session."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))


def release_binary(name):
    target = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target")
    if not target.is_absolute():
        target = ROOT / target
    path = target / "release" / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run `cargo build --release --locked --bins` first")
    return path


@pytest.fixture(scope="session")
def edict():
    return release_binary("edict")


@pytest.fixture(scope="session")
def fleet(tmp_path_factory):
    """A generated fleet (assets.jsonl + shared.json), never committed."""
    out = tmp_path_factory.mktemp("fleet")
    assets = os.environ.get("EDICT_SPARK_ASSETS", "200000")
    subprocess.run(
        [str(release_binary("edict-fleet")), "--assets", assets, "--seed", "1",
         "--format", "jsonl", "--out", str(out)],
        check=True,
    )
    yield out
    # About 330 MB with the outputs: do not leave it to pytest's retention.
    shutil.rmtree(out, ignore_errors=True)


@pytest.fixture(scope="session")
def spark():
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("edict-spark-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        # Keep `"patched": null`: by default toJSON drops null fields.
        .config("spark.sql.jsonGenerator.ignoreNullFields", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
