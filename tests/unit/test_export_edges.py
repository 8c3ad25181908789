"""`curator export` at its edges: targets on and below line boundaries, an --out the user may
not write, re-exporting one device over an older export, an empty store."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from test_export import MIB, build, invoke, target_mb

from curator.store import Store
from tests.conftest import run_as_nobody


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    """The store of test_export's tests (these tests only read it)."""
    return build(tmp_path_factory.mktemp("edges") / "base.db")


def _file_lines(db, out) -> list[bytes]:
    """The lines of an export of everything (cpu), in the order the selection takes them."""
    res = invoke("--db", db, "--out", out, "--target-mb", 100, "--device", "cpu", "--allow-short")
    assert res.exit_code == 0, res.output
    return (out / "cpu" / "warp_kernels_cpu.jsonl").read_bytes().splitlines(keepends=True)


def test_target_below_every_line_fails_cleanly(db, tmp_path):
    # Half the smallest line: every line overshoots the +1 % window, so nothing can land in it.
    smallest = min(len(line) for line in _file_lines(db, tmp_path / "all"))
    res = invoke("--db", db, "--out", tmp_path / "o", "--target-mb", smallest / 2 / MIB, "--device", "cpu")
    assert res.exit_code == 1, res.output
    assert "no line left is small enough" in res.output and "curator generate" not in res.output
    assert not (tmp_path / "o").exists()


def test_target_on_a_line_boundary_is_hit_exactly(db, tmp_path):
    # A target equal to the first k lines of the selection order: the export is those k lines.
    lines = _file_lines(db, tmp_path / "all")
    k = 37
    target = sum(len(line) for line in lines[:k])
    res = invoke("--db", db, "--out", tmp_path / "o", "--target-mb", target / MIB, "--device", "cpu")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "o" / "cpu" / "warp_kernels_cpu.jsonl").read_bytes() == b"".join(lines[:k])


def test_read_only_out(db, nobody_dir):
    """An --out folder the user may not write (run as an unprivileged user: root writes anywhere)."""
    store = nobody_dir / "s.db"
    shutil.copy(db, store)
    os.chown(store, *nobody_dir.owner_ids)
    out = nobody_dir / "ro"
    out.mkdir(mode=0o555)  # owned by root: read-only for the user
    res = run_as_nobody("export", "--db", str(store), "--out", str(out), "--target-mb", "0.05", home=nobody_dir)
    assert res.returncode == 1 and "Traceback" not in res.stderr, res.stderr
    assert "permission denied" in res.stderr.lower() and len(res.stderr.strip().splitlines()) == 1
    assert list(out.iterdir()) == []


def test_one_device_over_an_older_export_replaces_it(db, tmp_path):
    """Re-exporting only cuda into a folder holding a cpu+cuda export: the folder then holds
    what its manifest describes (no stale cpu file of the older export)."""
    out = tmp_path / "out"
    assert invoke("--db", db, "--out", out, "--target-mb", target_mb(db, 0.3)).exit_code == 0
    assert (out / "cpu" / "warp_kernels_cpu.jsonl").is_file()
    (out / "notes.txt").write_text("mine")  # the user's own file stays
    res = invoke("--db", db, "--out", out, "--target-mb", target_mb(db, 0.3), "--device", "cuda", "--seed", 4)
    assert res.exit_code == 0, res.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert list(manifest["devices"]) == ["cuda"]
    data = sorted(str(p.relative_to(out)) for p in out.rglob("*.jsonl"))
    assert data == ["cuda/warp_kernels_cuda.jsonl"]
    assert not (out / "cpu").exists() and (out / "notes.txt").read_text() == "mine"
    assert "config_name: cpu" not in (out / "README.md").read_text()


def test_empty_store_says_there_is_nothing_to_export(tmp_path):
    db = tmp_path / "e.db"
    Store.open(db, create=True).close()
    res = invoke("--db", db, "--out", tmp_path / "o", "--target-mb", 1, "--dedup")
    assert res.exit_code == 1 and "Traceback" not in res.output
    line = res.output.strip()
    assert "\n" not in line and "cpu: no kernel to export" in line and "cuda: no kernel to export" in line
    assert "small enough" not in line  # not the (wrong) advice to raise --target-mb
    assert not (tmp_path / "o").exists()
