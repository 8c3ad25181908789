"""Bad input to every command: one clear line, a documented exit code (2 usage, 1 failure), no
traceback, and the store (or the file given as one) untouched."""

from __future__ import annotations

import shutil
import sqlite3

import pytest
from click.testing import CliRunner

from curator.cli import main
from curator.store import Store
from curator.store import base as store_base

COMMANDS_WITH_DB = {
    "generate": ["--count", "3"],
    "verify": ["--sample", "0.5"],
    "dedup": [],
    "export": ["--target-mb", "1"],
    "report": [],
    "stats": [],
    "browse": [],
    "ingest": ["--package", "warp"],
}

BAD_OPTIONS = [
    ("generate", ["--device", "gpu", "--count", "1"]),
    ("generate", ["--count", "-5"]),
    ("generate", ["--count", "1", "--category", "nope"]),
    ("generate", ["--count", "1", "--verify-sample", "1.5"]),
    ("generate", ["--count", "1", "--workers", "many"]),
    ("generate", ["--count", "1", "--frobnicate"]),
    ("verify", ["--device", "tpu"]),
    ("verify", ["--sample", "0"]),
    ("verify", ["--sample", "abc"]),
    ("verify", ["--arch", "0"]),
    ("verify", ["--batch-size", "0"]),
    ("dedup", ["--threshold", "0"]),
    ("dedup", ["--threshold", "1.5"]),
    ("dedup", ["--threshold", "high"]),
    ("export", ["--target-mb", "0"]),
    ("export", ["--target-mb", "-3"]),
    ("export", ["--target-mb", "x"]),
    ("export", []),
    ("export", ["--target-mb", "1", "--device", "fpga"]),
    ("export", ["--target-mb", "1", "--status", "maybe"]),
    ("export", ["--target-mb", "1", "--source", "imagined"]),
    ("export", ["--target-mb", "1", "--threshold", "2"]),
    ("export", ["--target-mb", "1", "--seed", "-1"]),
    ("ingest", ["--timeout", "0", "--package", "warp"]),
    ("ingest", ["--device", "abc", "--package", "warp"]),
    ("ingest", ["/tmp"]),  # outside installed packages without --trust
    ("stats", ["--bogus"]),
    ("browse", ["--device", "cpu"]),
]


def one_line_error(result) -> str:
    out = result.output.strip()
    assert "Traceback" not in out
    lines = [ln for ln in out.splitlines() if ln.strip()]
    return lines[-1] if lines else ""


@pytest.fixture(scope="module")
def good_store(tmp_path_factory, small_store):
    return small_store


@pytest.mark.parametrize(("command", "args"), BAD_OPTIONS)
def test_bad_option_is_a_usage_error_and_the_store_untouched(command, args, small_store, tmp_path):
    db = tmp_path / "s.db"
    shutil.copy(small_store, db)
    before = db.read_bytes()
    result = CliRunner().invoke(main, [command, *args, "--db", str(db)])
    assert result.exit_code == 2, result.output
    assert one_line_error(result).startswith("Error:")
    assert db.read_bytes() == before


def _other_app(path):
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.execute("INSERT INTO invoices (total) VALUES (9.5)")
    conn.commit()
    conn.close()


def _future(path):
    Store.open(path, create=True).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {store_base.SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()


def _truncated(path, small_store):
    data = small_store.read_bytes()
    path.write_bytes(data[: len(data) // 2])


BAD_DBS = {
    "directory": (lambda p, s: p.mkdir(), "directory"),
    "empty file": (lambda p, s: p.write_bytes(b""), "empty file"),
    "text file": (lambda p, s: p.write_text("id,name\n1,foo\n"), "not an SQLite database"),
    "other application": (lambda p, s: _other_app(p), "another application"),
    "future schema": (lambda p, s: _future(p), f"schema version {store_base.SCHEMA_VERSION + 1}"),
    "truncated": (_truncated, "is a truncated SQLite file"),
}


@pytest.mark.parametrize("kind", sorted(BAD_DBS))
@pytest.mark.parametrize("command", sorted(COMMANDS_WITH_DB))
def test_bad_db_is_refused_untouched(command, kind, small_store, tmp_path):
    make, needle = BAD_DBS[kind]
    db = tmp_path / "bad.db"
    make(db, small_store)
    before = db.read_bytes() if db.is_file() else None
    listing = sorted(p.name for p in tmp_path.iterdir())
    out = tmp_path / "exports"
    extra = ["--out", str(out)] if command == "export" else []
    if command == "report":
        extra = ["--out", str(tmp_path / "R.md"), "--exports", str(out)]
    result = CliRunner().invoke(main, [command, *COMMANDS_WITH_DB[command], *extra, "--db", str(db)])
    assert result.exit_code == 1, result.output
    line = one_line_error(result)
    assert line.startswith("Error:") and needle in line, line
    if before is not None:
        assert db.read_bytes() == before
    assert not out.exists() and not (tmp_path / "R.md").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == listing  # no -wal, -shm or backup left


@pytest.mark.parametrize("command", sorted(set(COMMANDS_WITH_DB) - {"generate", "ingest"}))
def test_missing_store_is_not_created(command, tmp_path):
    db = tmp_path / "missing.db"
    result = CliRunner().invoke(main, [command, *COMMANDS_WITH_DB[command], "--db", str(db)])
    assert result.exit_code == 1, result.output
    assert "no curator store" in one_line_error(result)
    assert not db.exists()
