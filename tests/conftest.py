"""Shared fixtures: small real stores made through the real pipeline."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_curator(*args: str, cwd: Path | None = None, timeout: float = 600, **kw) -> subprocess.CompletedProcess:
    """Run the real `curator` command line in a subprocess (as a user would)."""
    env = os.environ | {"PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, "-m", "curator", *args], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=timeout, **kw,
    )  # fmt: skip


@pytest.fixture(scope="session")
def small_store(tmp_path_factory) -> Path:
    """A store with 60 generated kernels (3 per category), both devices; do not modify it."""
    db = tmp_path_factory.mktemp("small") / "small.db"
    res = run_curator("generate", "--device", "all", "--count", "60", "--seed", "7", "--workers", "2", "--db", str(db))
    assert res.returncode == 0, res.stderr
    return db
