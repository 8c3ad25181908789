"""What makes a move fast, checked for behaviour: kernels near the cursor are read ahead and a
move to one shows it without a store read; cached kernels stay true to labels and refresh;
lines rendered in a worker match the event loop's; the second connection; the GC policy."""

from __future__ import annotations

import gc
import threading

import pytest
from test_browse import SIZE, main, pane, settle
from textual.strip import Strip

from curator.store import Store
from curator.tui.access import StoreAccess
from curator.tui.app import CuratorApp
from curator.tui.screens.loaders import DetailCache
from curator.tui.screens.main import PREFETCH_AHEAD, PREFETCH_DELAY
from curator.tui.views import Code
from curator.tui.widgets.kernel_list import KernelList

pytestmark = pytest.mark.anyio


async def read_ahead(pilot) -> None:
    """Wait past the prefetch timer, then for its worker."""
    await pilot.pause(PREFETCH_DELAY * 3)
    await settle(pilot)


async def test_a_move_to_a_prefetched_kernel_reads_nothing(store):
    app = CuratorApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await read_ahead(pilot)
        screen = main(app)
        rows = screen.query_one(KernelList).rows
        assert all(r.id in screen.details for r in rows[1 : 1 + PREFETCH_AHEAD])
        loads: list[str] = []
        screen.load_detail = lambda kernel_id, *args: loads.append(kernel_id)
        await pilot.press("down")
        assert loads == [] and screen.detail.id == rows[1].id
        assert f"def {rows[1].name}" in pane(app, "left").text
        assert rows[1].name in pane(app, "left").border_title


async def test_cached_kernels_keep_labels_and_refresh_rereads_them(store_path):
    with Store.open(store_path) as store:
        app = CuratorApp(store)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await read_ahead(pilot)
            screen = main(app)
            first = screen.detail.id
            await pilot.press("a")  # accept; the cursor moves on to the next unreviewed kernel
            await settle(pilot)
            assert screen.detail.id != first
            await pilot.press("up")
            await settle(pilot)
            assert screen.detail.id == first and screen.detail.status == "accepted"
            assert "accepted" in pane(app, "left").border_subtitle
            with Store.open(store_path) as other:  # another process labels it meanwhile
                other.set_review(first, "flagged")
            await pilot.press("r")
            await settle(pilot)
            assert screen.detail.id == first and screen.detail.status == "flagged"
            assert "flagged" in pane(app, "left").border_subtitle


async def test_lines_rendered_in_a_worker_match_the_event_loop(store):
    app = CuratorApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main(app)
        (style, width, height), _, parse = screen.geometry
        source = screen.detail.source
        in_worker = Code(source, "python")
        thread = threading.Thread(target=in_worker.prepare, args=(height, style, width, parse))
        thread.start()
        thread.join()
        on_loop = Code(source, "python")
        colours = set()
        for index in range(min(height, len(on_loop))):
            line = on_loop.line(index)
            expected = Strip(line.render_segments(style), line.cell_length)
            assert list(in_worker.strip(index, style)) == list(expected)
            colours |= {segment.style.color for segment in expected if segment.style}
        assert len(colours) > 2  # highlighted in the theme's colours, not plain text


def test_detail_cache_drops_the_least_recently_used(store):
    rows = store.kernel_page(None, "all", 0, 3)
    cache = DetailCache(size=2)
    a, b, c = (store.kernel_detail(r.id) for r in rows)
    cache.put(a)
    cache.put(b)
    assert cache.get(a.id) is a  # a is now the most recent
    cache.put(c)
    assert b.id not in cache and a.id in cache and c.id in cache
    cache.clear()
    assert a.id not in cache


def test_scans_use_a_second_connection_that_sees_saved_labels(store):
    access = StoreAccess(store)
    kernel_id = store.kernel_page(None, "all", 0, 1)[0].id
    before = sum(c.accepted for c in access.scan(lambda s: s.category_counts()))
    access.queue_review(kernel_id, status="accepted")
    assert access.flush_reviews() == ([kernel_id], None)
    assert access.scan(lambda s: s is not store)
    assert sum(c.accepted for c in access.scan(lambda s: s.category_counts())) == before + 1
    access.close()
    assert store.conn.execute("SELECT 1").fetchone() == (1,)  # the first stays open (its owner closes it)


async def test_gc_policy_is_undone_when_the_app_exits(store):
    threshold, frozen = gc.get_threshold(), gc.get_freeze_count()
    app = CuratorApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert gc.get_threshold()[2] >= 100 and gc.get_freeze_count() > frozen
    assert gc.get_threshold() == threshold
    assert gc.get_freeze_count() == frozen
