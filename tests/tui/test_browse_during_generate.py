"""The TUI labels kernels while `curator generate` writes to the same store: every label
survives, and kernels committed meanwhile appear on refresh."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from test_browse import SIZE, main, settle

from curator.store import Store
from curator.tui.app import CuratorApp

pytestmark = pytest.mark.anyio


async def test_labels_while_generate_writes(small_store, tmp_path):
    db = tmp_path / "live.db"
    shutil.copy(small_store, db)
    cmd = [sys.executable, "-m", "curator", "generate", "--count", "120", "--seed", "7", "--workers", "1",
           "--db", str(db)]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    labelled = {}
    try:
        with Store.open(db) as store:
            app = CuratorApp(store)
            async with app.run_test(size=SIZE) as pilot:
                await settle(pilot)
                for key, status in [("a", "accepted"), ("x", "rejected"), ("f", "flagged")] * 4:
                    kid = main(app).detail.id
                    await pilot.press(key)  # labels, then moves on to the next unreviewed kernel
                    await settle(pilot)
                    labelled[kid] = status
                while proc.poll() is None:  # keep the app open while generate commits
                    await pilot.pause(0.2)
                await pilot.press("r")  # refresh: the new kernels are listed
                await settle(pilot)
                assert len(main(app).query_one("KernelList").rows) > 60
    finally:
        _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    with Store.open(db, readonly=True) as s:
        assert s.count_kernels() == 120
        assert {k: s.review_of(k)["status"] for k in labelled} == labelled
        assert len(labelled) == 12
