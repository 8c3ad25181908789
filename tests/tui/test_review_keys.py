"""Browse keys the other TUI tests do not press: `u` (next unreviewed without labelling), `[`
(previous category), a note cancelled with Escape, and a label the database refuses (locked
past the busy timeout): the user is told, and the label is written on the next try."""

from __future__ import annotations

import sqlite3

import pytest
from test_browse import SIZE, main, names, settle
from textual.widgets import Input

from curator.tui.app import CuratorApp
from curator.tui.widgets.category_list import CategoryList

pytestmark = pytest.mark.anyio


def _sql(store, query: str, *args) -> list[tuple]:
    return store.conn.execute(query, args).fetchall()


async def test_u_skips_reviewed_kernels_without_labelling(store):
    listed = [r[0] for r in _sql(store, "SELECT id FROM kernels ORDER BY rowid")]
    for kid in listed[1:3]:
        store.set_review(kid, "accepted")
    app = CuratorApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main(app)
        assert screen.detail.id == listed[0]
        await pilot.press("u")  # the next two are reviewed: straight to the fourth
        await settle(pilot)
        assert screen.detail.id == listed[3]
    assert _sql(store, "SELECT COUNT(*) FROM review_events")[0][0] == 2  # u wrote nothing


async def test_left_bracket_goes_to_the_previous_category(store):
    cats = sorted(r[0] for r in _sql(store, "SELECT DISTINCT category FROM kernels"))
    app = CuratorApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main(app)
        await pilot.press("left_square_bracket")  # from "all", round to the last category
        await settle(pilot)
        assert screen.query_one(CategoryList).category == cats[-1]
        expected = {r[0] for r in _sql(store, "SELECT name FROM kernels WHERE category = ?", cats[-1])}
        assert set(names(app)) == expected
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert screen.query_one(CategoryList).category == cats[-2]


async def test_escape_cancels_a_note(store):
    app = CuratorApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        kid = main(app).detail.id
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen.query_one(Input), Input)
        await pilot.press(*"never saved", "escape")
        await settle(pilot)
        assert main(app) is app.screen  # the dialog is gone
    assert store.review_of(kid) is None or store.review_of(kid)["note"] is None
    assert _sql(store, "SELECT COUNT(*) FROM review_events")[0][0] == 0


async def test_label_refused_by_a_locked_store_is_reported_and_retried(store):
    store.conn.execute("PRAGMA busy_timeout = 100")  # give up quickly (default: 30 s)
    holder = sqlite3.connect(store.path, isolation_level=None)
    app = CuratorApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main(app)
        first = screen.detail.id
        holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        try:
            await pilot.press("a")
            await settle(pilot)
            errors = [n.message for n in app._notifications if n.severity == "error"]
            assert errors and "could not save the review of " + first in errors[-1]
            assert _sql(store, "SELECT COUNT(*) FROM review_events")[0][0] == 0
        finally:
            holder.rollback()
        second = screen.detail.id
        assert second != first  # it moved on; the label is queued
        await pilot.press("x")  # the next label writes both, oldest first
        await settle(pilot)
    holder.close()
    events = _sql(store, "SELECT kernel_id, status FROM review_events ORDER BY id")
    assert events == [(first, "accepted"), (second, "rejected")]
