"""`curator generate` options and exits not covered elsewhere: --category, --workers (the same
store whatever the count), the give-up exit, and a store another process holds locked."""

from __future__ import annotations

import shutil
import sqlite3

from click.testing import CliRunner

from curator import generate
from curator.cli import main
from curator.store import Store
from curator.store import base as store_base
from tests.conftest import run_curator


def _contents(db) -> tuple[list, list]:
    """Everything a run decides (not when it ran): kernels and their code, in id order."""
    with Store.open(db, readonly=True) as s:
        kernels = s.conn.execute(
            "SELECT id, name, category, source, seed, run_seed, run_index, skeleton_hash, minhash FROM kernels"
            " ORDER BY id"
        ).fetchall()
        artifacts = s.conn.execute(
            "SELECT kernel_id, device, structs, functions, args, forward, backward, entry, bytes FROM artifacts"
            " ORDER BY kernel_id, device"
        ).fetchall()
    return kernels, artifacts


def test_category_option_generates_only_those_round_robin(tmp_path):
    db = tmp_path / "c.db"
    res = run_curator(
        "generate",
        "--count",
        "12",
        "--seed",
        "5",
        "--workers",
        "1",
        "--device",
        "cpu",
        "--category",
        "vector",
        "--category",
        "atomic",
        "--db",
        str(db),
    )
    assert res.returncode == 0, res.stderr
    with Store.open(db, readonly=True) as s:
        rows = s.conn.execute("SELECT category, run_index FROM kernels ORDER BY run_index").fetchall()
    assert [c for c, _ in rows] == ["vector", "atomic"] * 6 or [c for c, _ in rows] == ["atomic", "vector"] * 6
    assert [i for _, i in rows] == list(range(12))


def test_worker_count_does_not_change_the_store(tmp_path):
    one, two = tmp_path / "one.db", tmp_path / "two.db"
    for db, workers in ((one, "1"), (two, "2")):
        res = run_curator(
            "generate", "--count", "12", "--seed", "9", "--device", "all", "--workers", workers, "--db", str(db)
        )
        assert res.returncode == 0, res.stderr
    kernels, artifacts = _contents(one)
    assert len(kernels) == 12 and len(artifacts) == 24
    assert _contents(two) == (kernels, artifacts)


def test_gives_up_when_nothing_new_comes(small_store, tmp_path, monkeypatch):
    """--target-mb beyond what a seed adds: a run whose kernels are all stored already stops
    with one line and exit 1 (here after 16 fruitless kernels instead of 20,000)."""
    db = tmp_path / "g.db"
    shutil.copy(small_store, db)  # seed 7, indices 0-59 stored
    monkeypatch.setattr(generate, "MAX_FRUITLESS", 16)
    before = _contents(db)
    res = CliRunner().invoke(main, ["generate", "--seed", "7", "--target-mb", "50", "--workers", "1", "--db", str(db)])
    assert res.exit_code == 1, res.output
    last = res.output.strip().splitlines()[-1]
    assert last.startswith("Error: the last ") and "were all stored already or failed" in last
    assert "Traceback" not in res.output
    with Store.open(db, readonly=True) as s:
        assert s.runs("generate")[-1]["status"] == "failed"
    assert _contents(db) == before


def test_busy_store_is_one_line_and_untouched(small_store, tmp_path, monkeypatch):
    """Another process holds the write lock past the busy timeout: `store is busy`, exit 1."""
    db = tmp_path / "b.db"
    shutil.copy(small_store, db)
    monkeypatch.setattr(store_base, "BUSY_TIMEOUT_MS", 300)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        for args in (["generate", "--count", "3"], ["dedup"]):
            res = CliRunner().invoke(main, [*args, "--db", str(db)])
            assert res.exit_code == 1, (args, res.output)
            line = res.output.strip().splitlines()[-1]
            assert line.startswith("Error: the store is busy"), line
            assert "Traceback" not in res.output
    finally:
        holder.rollback()
        holder.close()
    with Store.open(db, readonly=True) as s:
        assert s.count_kernels() == 60 and s.dedup_state() is None
        assert [r for r in s.runs() if r["command"] in ("generate", "dedup") and r["status"] != "done"] == []
