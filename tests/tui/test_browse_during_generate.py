"""The TUI labels kernels while `curator generate` writes to the same store: labelling starts
once generate has committed a batch and goes on until it ends, the store's timestamps show the
two interleaved, every label survives, and kernels committed meanwhile appear on refresh."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time

import pytest
from test_browse import SIZE, main, settle

from curator.store import Store
from curator.tui.app import CuratorApp

pytestmark = pytest.mark.anyio


def _stored(db) -> int:
    with Store.open(db, readonly=True) as s:
        return s.conn.execute("SELECT COUNT(*) FROM kernels").fetchone()[0]


async def test_labels_while_generate_writes(small_store, tmp_path):
    db = tmp_path / "live.db"
    shutil.copy(small_store, db)  # seed 7, indices 0-59: the run below adds 60-139
    cmd = [
        sys.executable,
        "-m",
        "curator",
        "generate",
        "--count",
        "140",
        "--seed",
        "7",
        "--workers",
        "1",
        "--db",
        str(db),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    labelled = {}
    try:
        with Store.open(db) as store:
            app = CuratorApp(store)
            async with app.run_test(size=SIZE) as pilot:
                await settle(pilot)
                deadline = time.monotonic() + 120
                while _stored(db) == 60 and proc.poll() is None and time.monotonic() < deadline:
                    await pilot.pause(0.05)  # label only once generate has committed a batch
                assert _stored(db) > 60, "generate committed nothing before the labels"
                keys = [("a", "accepted"), ("x", "rejected"), ("f", "flagged")]
                while proc.poll() is None and len(labelled) < 45:  # until generate ends
                    key, status = keys[len(labelled) % 3]
                    kid = main(app).detail.id
                    await pilot.press(key)  # labels, then moves on to the next unreviewed kernel
                    await settle(pilot)
                    labelled[kid] = status
                while proc.poll() is None:  # keep the app open while generate commits
                    await pilot.pause(0.2)
                await pilot.press("r")  # refresh: the new kernels are listed
                await settle(pilot)
                assert len(main(app).query_one("KernelList").rows) == 140
    finally:
        _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    with Store.open(db, readonly=True) as s:
        assert s.count_kernels() == 140
        assert {k: s.review_of(k)["status"] for k in labelled} == labelled
        first, last = s.conn.execute("SELECT MIN(at), MAX(at) FROM review_events").fetchone()
        between = s.conn.execute(
            "SELECT COUNT(*) FROM kernels WHERE run_index >= 60 AND created_at > ? AND created_at < ?", (first, last)
        ).fetchone()[0]
    assert len(labelled) >= 2
    assert between > 0  # generate committed kernels between the first and the last label
