"""Stores shared by the scale-out tests (Ray, shards, merge): one reference run each session."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.conftest import run_curator

# The reference run: `curator generate --count 300 --device all --seed 5`.
REFERENCE_ARGS = ("generate", "--count", "300", "--device", "all", "--seed", "5")
REFERENCE_COUNT = 300

KERNEL_COLUMNS = (
    "id",
    "name",
    "category",
    "source",
    "origin",
    "seed",
    "run_seed",
    "run_index",
    "generator_version",
    "launch_dim",
    "kernel_args",
    "skeleton_hash",
    "minhash",
)
ARTIFACT_COLUMNS = (
    "kernel_id",
    "device",
    "structs",
    "functions",
    "args",
    "forward",
    "backward",
    "entry",
    "bytes",
    "warp_version",
)


def store_rows(db: Path) -> tuple[list, list]:
    """Every kernel row and every artifact row (content columns, not timestamps), sorted."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        kernels = conn.execute(f"SELECT {', '.join(KERNEL_COLUMNS)} FROM kernels ORDER BY id").fetchall()
        artifacts = conn.execute(
            f"SELECT {', '.join(ARTIFACT_COLUMNS)} FROM artifacts ORDER BY kernel_id, device"
        ).fetchall()
    finally:
        conn.close()
    return kernels, artifacts


@pytest.fixture(scope="session")
def reference_store(tmp_path_factory) -> Path:
    """A local (no Ray) run of the reference arguments; do not modify it."""
    db = tmp_path_factory.mktemp("reference") / "local.db"
    res = run_curator(*REFERENCE_ARGS, "--workers", "2", "--db", str(db))
    assert res.returncode == 0, res.stderr
    return db
