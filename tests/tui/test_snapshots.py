"""Snapshots of the main screen, the CPU|CUDA side-by-side view and the stats screen, over the
fixed fixture store (fixed size, theme and data; no clock, no blinking cursor on screen)."""

from __future__ import annotations

from curator.tui.app import CuratorApp

SIZE = (150, 44)


def settle_then(*keys: str):
    """A run_before that waits for the store reads, presses ``keys``, and waits again."""

    async def run(pilot) -> None:
        async def settle() -> None:
            from textual.worker import WorkerCancelled

            for _ in range(3):
                for _attempt in range(20):  # a replaced exclusive worker ends cancelled: wait again
                    try:
                        await pilot.app.workers.wait_for_complete()
                        break
                    except WorkerCancelled:
                        continue
                await pilot.pause()

        await settle()
        for key in keys:
            await pilot.press(key)
            await settle()

    return run


def test_main_screen(snap_compare, store):
    store.set_review(store.kernel_page("arithmetic")[0].id, "accepted", note="reads well")
    assert snap_compare(CuratorApp(store), terminal_size=SIZE, run_before=settle_then("right_square_bracket", "down"))


def test_side_by_side(snap_compare, store):
    assert snap_compare(CuratorApp(store), terminal_size=SIZE, run_before=settle_then("s"))


def test_stats_screen(snap_compare, store):
    store.set_review(store.kernel_page("vector")[0].id, "flagged")
    assert snap_compare(CuratorApp(store), terminal_size=SIZE, run_before=settle_then("t"))
