"""An export of real generated kernels loads with `datasets.load_dataset("json", ...)` through
the card's data_files, and every line is JSON with the card's fields."""

from __future__ import annotations

import json
import shutil
from collections import Counter

import pytest

from tests.conftest import EXPORT_SCHEMA, assert_export_schema, run_curator


@pytest.fixture(scope="module")
def exported(small_store, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("export")
    db = tmp / "copy.db"
    shutil.copy(small_store, db)  # --dedup stores clusters: leave the shared store alone
    out = tmp / "out"
    res = run_curator(
        "export", "--db", str(db), "--out", str(out), "--target-mb", "100", "--allow-short", "--dedup", cwd=tmp
    )
    assert res.returncode == 0, res.stderr
    assert "short of the target" in res.stderr
    return out


def test_every_line_is_json_with_the_same_fields(exported):
    manifest = json.loads((exported / "manifest.json").read_text())
    for device in ("cpu", "cuda"):
        lines = (exported / manifest["devices"][device]["file"]).read_text(encoding="utf-8").splitlines()
        rows = [json.loads(line) for line in lines]
        assert rows
        for r in rows:
            assert_export_schema(r)
        assert all(r["device"] == device and "wp.kernel" in r["source"] and r["forward"] for r in rows)
        counts = Counter(r["category"] for r in rows)  # counted from the lines, not the manifest
        assert max(counts.values()) - min(counts.values()) <= 1  # balanced: round-robin, within one
        assert {c: v["records"] for c, v in manifest["devices"][device]["categories"].items()} == dict(counts)


def test_loads_with_datasets(exported):
    import datasets  # a dev dependency: missing or broken is a failure, not a skip

    card = (exported / "README.md").read_text()
    front = card.split("---\n")[1]
    for device in ("cpu", "cuda"):
        path = f"{device}/warp_kernels_{device}.jsonl"
        assert f"path: {path}" in front
        ds = datasets.load_dataset(
            "json", data_files=str(exported / path), split="train", cache_dir=str(exported.parent / "hf-cache")
        )
        manifest = json.loads((exported / "manifest.json").read_text())
        assert ds.num_rows == manifest["devices"][device]["records"]
        assert ds.column_names == list(EXPORT_SCHEMA)
        assert ds[0]["device"] == device


def test_verified_only_exports_only_compiled_kernels(small_store, tmp_path):
    """`--verified-only`: a kernel qualifies for a device when it compiled there and ran on the
    CPU (and never failed either); the manifest counts the verified records."""
    import json
    import shutil

    from click.testing import CliRunner

    from curator.cli import main
    from curator.store import Store
    from curator.store.executions import ExecutionRow
    from curator.store.verify import Verification

    db = tmp_path / "v.db"
    shutil.copy(small_store, db)
    with Store.open(db) as s:
        rows = s.conn.execute("SELECT id, category FROM kernels ORDER BY id").fetchall()
        passed = {kid for i, (kid, _) in enumerate(rows) if i % 2 == 0}
        failed = {rows[0][0]}  # compiled once, failed once: not verified
        s.record_verifications(
            [Verification(k, "cpu", "clang test", "-O2", True, None, 1.0) for k in passed]
            + [Verification(k, "cpu", "clang test", "-O3", False, "error: boom", 1.0) for k in failed]
        )
        ran = {kid for i, (kid, _) in enumerate(rows) if i % 3 != 2}  # a third never launched
        s.record_executions([ExecutionRow(k, "cpu", 0, "warp test", "ran") for k in ran])
    out = tmp_path / "out"
    res = CliRunner().invoke(
        main,
        [
            "export",
            "--db",
            str(db),
            "--out",
            str(out),
            "--device",
            "cpu",
            "--target-mb",
            "0.2",
            "--verified-only",
            "--allow-short",
        ],
    )
    assert res.exit_code == 0, res.output
    lines = [json.loads(x) for x in (out / "cpu" / "warp_kernels_cpu.jsonl").read_text().splitlines()]
    assert lines and {r["id"] for r in lines} <= (passed & ran) - failed
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["devices"]["cpu"]["verified"]["records"] == len(lines)
