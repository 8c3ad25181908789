"""`curator stats --tables`: every table of a store with its rows and columns, read through
sqlite-utils; the figures are counted here with plain sqlite3."""

from __future__ import annotations

import json
import sqlite3

from click.testing import CliRunner

from curator.cli import main


def test_tables_list_every_table_with_its_rows_and_columns(small_store):
    res = CliRunner().invoke(main, ["stats", "--tables", "--json", "--db", str(small_store)])
    assert res.exit_code == 0, res.output
    listed = {r["table"]: r for r in json.loads(res.output)}
    conn = sqlite3.connect(f"file:{small_store}?mode=ro", uri=True)
    names = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    shadow = {n for n in names if n.startswith("kernels_fts_")}
    assert shadow and set(listed) == set(names) - shadow  # FTS5's shadow tables left out, the rest all there
    for name in ("kernels", "artifacts", "runs"):
        (rows,) = conn.execute(f"SELECT COUNT(*) FROM {name}").fetchone()
        columns = [r[1] for r in conn.execute(f"PRAGMA table_info({name})")]
        assert listed[name]["rows"] == rows and listed[name]["columns"] == columns
    assert listed["kernels"]["rows"] > 0


def test_tables_is_its_own_report(small_store):
    res = CliRunner().invoke(main, ["stats", "--tables", "--profile", "--db", str(small_store)])
    assert res.exit_code == 2 and "separate reports" in res.output
