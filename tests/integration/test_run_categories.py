"""Every category of the realistic generator makes kernels that run on the CPU: one kernel per
category, generated, stored and launched through ``curator verify --execute``'s workers (real
Warp, no GPU)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from curator.cli import main
from curator.kernels import categories_for
from curator.store import Store
from curator.verify import executions as execution


@pytest.mark.slow
def test_a_generated_kernel_of_each_category_runs(tmp_path):
    db = str(tmp_path / "k.db")
    count = len(categories_for("realistic"))
    res = CliRunner().invoke(
        main, ["generate", "--count", str(count), "--seed", "11", "--device", "cpu", "--workers", "1", "--db", db]
    )
    assert res.exit_code == 0, res.output
    with Store.open(db) as store:
        ids = store.kernel_ids()
        execution.run(store, ids, workers=1, seed=0, timeout=120, grad=False)
        runs = {k: store.kernel_executions(k)[-1] for k in ids}
        categories = {k: store.get_kernel(k)["category"] for k in ids}
    assert set(categories.values()) == set(categories_for("realistic"))
    # Every kernel launched twice with the same result (no crash, timeout, error or not-runnable:
    # the only parameter no input is built for, a fabric array of arrays, is never generated).
    unlaunched = {categories[k]: (r["status"], r["message"]) for k, r in runs.items() if r["checksum"] is None}
    assert not unlaunched, unlaunched
    assert all(r["repeatable"] == 1 for r in runs.values())
    # ... and the pair check passed (a generic kernel's stored pair is one of the overloads Warp
    # compiles together at launch).
    failed = {categories[k]: r["message"] for k, r in runs.items() if r["status"] != "ran"}
    assert not failed, failed
