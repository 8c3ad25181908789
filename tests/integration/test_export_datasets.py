"""An export of real generated kernels loads with `datasets.load_dataset("json", ...)` through
the card's data_files, and every line is JSON with the card's fields."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import run_curator

from curator.export import records


@pytest.fixture(scope="module")
def exported(small_store, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("export")
    db = tmp / "copy.db"
    shutil.copy(small_store, db)  # --dedup stores clusters: leave the shared store alone
    out = tmp / "out"
    res = run_curator("export", "--db", str(db), "--out", str(out), "--target-mb", "100", "--allow-short", "--dedup",
                      cwd=tmp)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "short of the target" in res.stderr
    return out


def test_every_line_is_json_with_the_same_fields(exported):
    manifest = json.loads((exported / "manifest.json").read_text())
    for device in ("cpu", "cuda"):
        lines = (exported / manifest["devices"][device]["file"]).read_text(encoding="utf-8").splitlines()
        rows = [json.loads(line) for line in lines]
        assert rows and all(tuple(r) == records.KEYS for r in rows)
        assert all(r["device"] == device and "wp.kernel" in r["source"] and r["forward"] for r in rows)
        counts = manifest["devices"][device]["categories"]
        assert len({v["records"] for v in counts.values()}) <= 2  # balanced


def test_loads_with_datasets(exported):
    datasets = pytest.importorskip("datasets")
    card = (exported / "README.md").read_text()
    front = card.split("---\n")[1]
    for device in ("cpu", "cuda"):
        path = f"{device}/warp_kernels_{device}.jsonl"
        assert f"path: {path}" in front
        ds = datasets.load_dataset("json", data_files=str(exported / path), split="train",
                                   cache_dir=str(exported.parent / "hf-cache"))  # fmt: skip
        manifest = json.loads((exported / "manifest.json").read_text())
        assert ds.num_rows == manifest["devices"][device]["records"]
        assert tuple(ds.column_names) == records.KEYS
        assert ds[0]["device"] == device
