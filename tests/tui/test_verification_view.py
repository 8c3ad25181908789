"""The TUI shows verification state: compile/run/grad per kernel with diagnostics (`i`), a list
filter for failing kernels (`v`), and `m` says so when a kernel has no near-duplicates."""

from __future__ import annotations

import pytest
from test_browse import SIZE, main, names, settle

from curator.store import Store
from curator.store.executions import ExecutionRow
from curator.store.verify import Verification
from curator.tui.app import CuratorApp
from curator.tui.screens.dups import DupsScreen
from curator.tui.screens.verification import VerificationScreen

pytestmark = pytest.mark.anyio


def _plant(store: Store) -> dict[str, str]:
    """One kernel fails to compile, one crashes on the CPU, one fails the adjoint check."""
    ids = {r[1]: r[0] for r in store.conn.execute("SELECT id, name FROM kernels")}
    picked = dict(zip(("compile", "crash", "grad"), sorted(ids)[:3], strict=True))
    store.record_verifications(
        [
            Verification(
                ids[picked["compile"]],
                "cpu",
                "clang",
                "-O0",
                False,
                "kernel.cpp:3: error: planted_diagnostic",
                1.0,
                "fast",
            )
        ]
    )
    store.record_executions(
        [
            ExecutionRow(ids[picked["crash"]], "cpu", 0, "warp", "crashed", "the worker died: planted_crash (SIGFPE)"),
            ExecutionRow(
                ids[picked["grad"]], "cpu", 0, "warp", "ran", grad="fail", grad_error=0.5, grad_note="planted_grad_note"
            ),
        ]
    )
    return {what: ids[name] for what, name in picked.items()} | {f"{w}_name": n for w, n in picked.items()}


async def test_failing_filter_and_diagnostics(store):
    planted = _plant(store)
    app = CuratorApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        while main(app).filter != "failing":
            await pilot.press("v")
            await settle(pilot)
        assert sorted(names(app)) == sorted(planted[f"{w}_name"] for w in ("compile", "crash", "grad"))
        for what, word in (("compile", "planted_diagnostic"), ("crash", "planted_crash"), ("grad", "planted_grad")):
            main(app).open_kernel(planted[what])
            await settle(pilot)
            assert main(app).detail.id == planted[what]
            await pilot.press("i")
            await settle(pilot)
            assert isinstance(app.screen, VerificationScreen)
            assert word in str(app.screen.query_one("#verification-body").render())
            await pilot.press("escape")
            await settle(pilot)


async def test_m_without_near_duplicates_says_so(clustered_store):
    ids = {r[1]: r[0] for r in clustered_store.conn.execute("SELECT id, name FROM kernels")}
    lonely = next(n for n in ids if n not in ("scale_add", "scale_sub", "square_all"))
    app = CuratorApp(clustered_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main(app).open_kernel(ids[lonely])
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        assert isinstance(app.screen, DupsScreen)
        assert "no near-duplicates" in str(app.screen.query_one("#dups-info").render())
