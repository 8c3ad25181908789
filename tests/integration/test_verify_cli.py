"""`curator verify` through the command line: --all after a --sample run, several workers, and
Ctrl-C (exit 130, finished batches kept, a rerun completes)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from curator.store import Store
from tests.conftest import in_documented_sample, run_curator


@pytest.fixture(scope="module")
def tiny_store(tmp_path_factory):
    """Eight generated kernels with code for both devices (do not modify: copy it)."""
    db = tmp_path_factory.mktemp("verify") / "t.db"
    res = run_curator("generate", "--device", "all", "--count", "8", "--seed", "21", "--workers", "1", "--db", str(db))
    assert res.returncode == 0, res.stderr
    return db


def _rows(db) -> list[tuple]:
    with Store.open(db, readonly=True) as s:
        return s.conn.execute("SELECT kernel_id, device, ok FROM verifications").fetchall()


def test_all_after_a_sample_verifies_the_rest_with_two_workers(tiny_store, tmp_path):
    db = tmp_path / "v.db"
    shutil.copy(tiny_store, db)
    with Store.open(db, readonly=True) as s:
        ids = [r[0] for r in s.conn.execute("SELECT id FROM kernels")]
    common = ["--device", "cpu", "--workers", "2", "--batch-size", "2", "--db", str(db)]
    res = run_curator("verify", "--sample", "0.5", "--seed", "2", *common)
    assert res.returncode == 0, res.stderr
    sampled = {(k, "cpu") for k in ids if in_documented_sample(k, 0.5, 2)}
    assert 0 < len(sampled) < len(ids)
    assert {(k, d) for k, d, _ in _rows(db)} == sampled
    res = run_curator("verify", "--all", *common)
    assert res.returncode == 0, res.stderr
    rows = _rows(db)
    assert len(rows) == len(set(rows)) == len(ids)  # each kernel once: the sample was not redone
    assert {(k, d) for k, d, _ in rows} == {(k, "cpu") for k in ids}
    assert all(ok == 1 for *_, ok in rows)
    with Store.open(db, readonly=True) as s:
        assert [r["status"] for r in s.runs("verify")] == ["done", "done"]


def test_ctrl_c_exits_130_keeps_finished_batches_and_resumes(tiny_store, tmp_path):
    db = tmp_path / "c.db"
    shutil.copy(tiny_store, db)
    cmd = [
        sys.executable,
        "-m",
        "curator",
        "verify",
        "--device",
        "cpu",
        "--workers",
        "1",
        "--batch-size",
        "2",
        "--db",
        str(db),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while proc.poll() is None and not _rows(db) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None and _rows(db), "verify ended or committed nothing before Ctrl-C"
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends to the group
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "verify interrupted" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    kept = _rows(db)
    assert 0 < len(kept) < 8
    with Store.open(db, readonly=True) as s:
        assert s.runs("verify")[-1]["status"] == "interrupted"
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    rows = _rows(db)
    assert len(rows) == len(set(rows)) == 8 and set(kept) <= set(rows)
