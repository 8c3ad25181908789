"""The review TUI driven headless with Pilot: navigation, switches, labels (checked in the
database), search, near-dups, stats, help and refresh."""

from __future__ import annotations

import io

import pytest
from kernels_fixture import HEADER, _Spec
from rich.console import Console
from textual.widgets import Input, OptionList, Static

from curator.store import Store
from curator.tui.app import CuratorApp
from curator.tui.screens.dups import DupsScreen
from curator.tui.screens.help import HelpScreen
from curator.tui.screens.main import MainScreen
from curator.tui.screens.stats import StatsScreen
from curator.tui.widgets.category_list import CategoryList
from curator.tui.widgets.code_view import CodeView
from curator.tui.widgets.kernel_list import KernelList

SIZE = (150, 44)
pytestmark = pytest.mark.anyio


async def settle(pilot) -> None:
    """Let the workers finish and their messages land (again: results start new loads).  An
    exclusive worker replaced by a newer one ends cancelled, which is not a failure here."""
    from textual.worker import WorkerCancelled

    for _ in range(3):
        for _attempt in range(20):
            try:
                await pilot.app.workers.wait_for_complete()
                break
            except WorkerCancelled:
                continue
        await pilot.pause()


def plain(renderable) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def main(app) -> MainScreen:
    screen = app.screen_stack[1]
    assert isinstance(screen, MainScreen)
    return screen


def names(app) -> list[str]:
    return [r.name for r in main(app).query_one(KernelList).rows]


def pane(app, which: str) -> CodeView:
    return main(app).query_one(f"#{which}", CodeView)


async def test_navigate_categories_and_kernels(store):
    app = CuratorApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main(app)
        assert len(names(app)) == 7
        assert screen.detail.name == "scale_add"
        assert "def scale_add" in pane(app, "left").text
        assert "scale_add" in pane(app, "right").text and "cpu_kernel_forward" in pane(app, "right").text
        await pilot.press("right_square_bracket", "right_square_bracket")  # all -> arithmetic -> control_flow
        await settle(pilot)
        assert screen.query_one(CategoryList).category == "control_flow"
        assert names(app) == ["clamp_positive", "sum_loop"]
        assert screen.detail.name == "clamp_positive"
        await pilot.press("down")
        await settle(pilot)
        assert screen.detail.name == "sum_loop" and "def sum_loop" in pane(app, "left").text
        assert "2/2" in str(screen.query_one("#status", Static).render())


async def test_switch_device_piece_and_side_by_side(store):
    app = CuratorApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        right = pane(app, "right")
        assert right.border_title.startswith("CPU C++ · forward")
        await pilot.press("d")
        await settle(pilot)
        assert right.border_title.startswith("CUDA C++")
        assert "cuda_kernel_forward" in right.text and "cpu_kernel_forward" not in right.text
        await pilot.press("p")  # backward
        await settle(pilot)
        assert "cuda_kernel_backward" in right.text and "cuda_kernel_forward" not in right.text
        await pilot.press("d", "p")  # CPU, full kernel: args struct, forward, backward, entry points
        await settle(pilot)
        full = right.text
        assert right.border_title == "CPU C++ · full"
        for part in ("struct wp_args_scale_add", "cpu_kernel_forward", "cpu_kernel_backward", 'extern "C"'):
            assert part in full
        await pilot.press("p", "s")  # forward, CPU | CUDA side by side
        await settle(pilot)
        left = pane(app, "left")
        assert left.border_title.startswith("CPU C++") and right.border_title.startswith("CUDA C++")
        assert "cpu_kernel_forward" in left.text and "cuda_kernel_forward" in right.text


async def test_labels_and_notes_go_to_the_database(store_path):
    store = Store.open(store_path)
    app = CuratorApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main(app)
        first = screen.detail
        await pilot.press("a")
        await settle(pilot)
        assert store.review_of(first.id)["status"] == "accepted"
        assert screen.detail.name == "scale_sub"  # moved on to the next unreviewed kernel
        second = screen.detail
        await pilot.press("x")
        await settle(pilot)
        third = screen.detail
        await pilot.press("f")
        await settle(pilot)
        assert store.review_of(second.id)["status"] == "rejected"
        assert store.review_of(third.id)["status"] == "flagged"
        await pilot.press("up")  # back to the flagged one, clear it, leave a note
        await settle(pilot)
        assert screen.detail.id == third.id
        await pilot.press("c", "n")
        await settle(pilot)
        assert isinstance(app.screen.query_one(Input), Input)
        await pilot.press(*"odd loop", "enter")
        await settle(pilot)
        review = store.review_of(third.id)
        assert review["status"] is None and review["note"] == "odd loop"
        assert [e["status"] for e in store.review_events(third.id)] == ["flagged", None, None]
        counts = screen.query_one(CategoryList).counts
        assert (counts["*"].accepted, counts["*"].rejected, counts["*"].flagged) == (1, 1, 0)
        await pilot.press("v")  # filter: unreviewed
        await settle(pilot)
        assert first.name not in names(app) and second.name not in names(app) and third.name in names(app)
    store.close()
    with Store.open(store_path) as again:  # labels survive a restart
        assert again.review_of(first.id)["status"] == "accepted"


async def test_next_unreviewed_loads_more_pages(store_path, monkeypatch):
    from curator.tui.screens import loaders

    monkeypatch.setattr(loaders, "PAGE_SIZE", 2)  # force several pages over the 7 kernels
    with Store.open(store_path) as store:
        rows = store.kernel_page(None, "all", 0, 100)
        for r in rows[1:5]:
            store.set_review(r.id, "accepted")
        app = CuratorApp(store)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert len(names(app)) <= 4  # lazy: not everything is loaded
            await pilot.press("x")
            await settle(pilot)
            assert main(app).detail.id == rows[5].id
            assert store.review_of(rows[0].id)["status"] == "rejected"


async def test_search_opens_results_in_the_list(store):
    app = CuratorApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"atomic", "enter")
        await settle(pilot)
        assert names(app) == ["dot_atomic"]
        assert main(app).detail.name == "dot_atomic"
        await pilot.press("slash", "ctrl+u", *'x" OR (', "enter")  # FTS5 syntax is just text
        await settle(pilot)
        assert names(app) == []
        await pilot.press("escape")
        await settle(pilot)
        assert len(names(app)) == 7


async def test_dups_view_without_clusters_says_how(store):
    app = CuratorApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        assert isinstance(app.screen, DupsScreen)
        assert "curator dedup" in str(app.screen.query_one("#dups-info").render())


async def test_dups_view_lists_and_opens_members(clustered_store):
    app = CuratorApp(clustered_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        members = app.screen.query_one("#members", OptionList)
        prompts = [str(members.get_option_at_index(i).prompt) for i in range(members.option_count)]
        assert len(prompts) == 2 and "scale_add" in prompts[0] and "0.82" in prompts[1]
        assert members.highlighted == 1  # the cursor starts on the other member
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen) and app.screen.detail.name == "scale_sub"


async def test_stats_and_help_screens(store):
    store.set_review(store.kernel_page("vector")[0].id, "accepted")
    app = CuratorApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, StatsScreen)
        rendered = plain(app.screen.query_one("#stats", Static).content)
        for word in ("CPU C++: 7 kernels", "CUDA C++: 7 kernels", "arithmetic", "control_flow", "vector", "1/2", "█"):
            assert word in rendered
        await pilot.press("escape", "question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        shown = plain(app.screen.query_one(Static).content)
        for binding in [*MainScreen.BINDINGS, *CuratorApp.BINDINGS]:
            assert binding.description in shown
        for key in ("a", "x", "f", "c", "n", "u", "d", "p", "s", "v", "/", "m", "t", "[", "]", "r / f5", "?", "q"):
            assert any(line.split("  ")[0].strip() == key for line in shown.splitlines()), key


async def test_refresh_shows_kernels_written_meanwhile(store_path):
    from curator.generate import record_for_spec

    with Store.open(store_path) as store:
        app = CuratorApp(store)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert len(names(app)) == 7
            body = "@wp.kernel\ndef late_one(x: wp.array(dtype=float)):\n    x[wp.tid()] = 2.0\n"
            rec = record_for_spec(_Spec("late_one", "arithmetic", HEADER + body), None, 99, ("cpu", "cuda"))
            with Store.open(store_path) as writer:  # another process's connection, like `curator generate`
                writer.write_batch([rec], [], None)
            await pilot.press("r")
            await settle(pilot)
            assert names(app)[-1] == "late_one"
            assert main(app).query_one(CategoryList).counts["arithmetic"].kernels == 4


async def test_empty_store_says_so(tmp_path):
    with Store.open(tmp_path / "empty.db", create=True) as store:
        app = CuratorApp(store)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert "no kernels yet" in pane(app, "left").text
            assert "curator generate" in pane(app, "left").text
            await pilot.press("a", "d", "p", "s", "m")  # nothing to act on: no crash
            await settle(pilot)
            assert isinstance(app.screen, MainScreen)
