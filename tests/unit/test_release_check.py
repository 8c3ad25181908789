"""A release is immutable: `curator export --check` catches a flipped byte in any file, a
missing or an extra file; exporting over a different complete export is refused unless
--force, and a re-export leaves no file of the previous one behind."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner
from test_export import build, target_mb

from curator.cli import main


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return build(tmp_path_factory.mktemp("check") / "s.db", per_cat=50)


def export(db, out, *extra):
    res = invoke("export", "--db", db, "--out", out, "--target-mb", target_mb(db, 0.4), *extra)
    assert res.exit_code == 0, res.output
    return res


def check(out):
    res = invoke("export", "--check", out)
    assert res.output.strip().count("\n") == 0 and "Traceback" not in res.output, res.output
    return res


def snapshot(out) -> dict:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_check_catches_a_flipped_byte_in_every_file(db, tmp_path):
    out = tmp_path / "rel"
    export(db, out, "--splits", "train=0.8,validation=0.1,test=0.1", "--paired")
    assert check(out).exit_code == 0
    files = sorted(p for p in out.rglob("*") if p.is_file())
    assert len(files) == 3 * 3 + 2  # 3 configs x 3 splits, the manifest and the card
    for path in files:
        data = path.read_bytes()
        for pos in (0, len(data) // 2, len(data) - 1):
            flipped = bytearray(data)
            flipped[pos] ^= 0x01
            path.write_bytes(bytes(flipped))
            res = check(out)
            named = path.relative_to(out).as_posix() if path.name != "manifest.json" else "manifest"
            assert res.exit_code == 1 and named in res.output, (path, pos, res.output)
            path.write_bytes(data)
    assert check(out).exit_code == 0


def test_check_catches_missing_and_extra_files(db, tmp_path):
    out = tmp_path / "rel"
    export(db, out, "--format", "parquet")
    extra = out / "cpu" / "warp_kernels_cpu_old.jsonl"
    extra.write_text("{}\n")
    res = check(out)
    assert res.exit_code == 1 and "warp_kernels_cpu_old.jsonl is not part of the export" in res.output
    extra.unlink()
    data = out / "cuda" / "warp_kernels_cuda.parquet"
    data.unlink()
    res = check(out)
    assert res.exit_code == 1 and "warp_kernels_cuda.parquet is missing" in res.output
    for folder, text in ((tmp_path / "nothing", "not a folder"), (tmp_path, "no manifest.json")):
        res = check(folder)
        assert res.exit_code == 1 and text in res.output


def test_a_release_is_not_overwritten_without_force(db, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    out = tmp_path / "rel"
    export(db, out, "--seed", 1)
    before = snapshot(out)
    res = invoke("export", "--db", db, "--out", out, "--target-mb", target_mb(db, 0.4), "--seed", 2)
    assert res.exit_code == 1 and "holds a different export" in res.output and "--force" in res.output
    assert snapshot(out) == before
    export(db, out, "--seed", 1)  # the same release again: allowed, nothing changes
    assert snapshot(out) == before
    # --force with one device and another format: nothing of the previous export is left
    res = export(db, out, "--seed", 2, "--device", "cpu", "--format", "parquet", "--force")
    assert "removed" in res.output
    after = snapshot(out)
    assert sorted(after) == ["README.md", "cpu/warp_kernels_cpu.parquet", "manifest.json"]
    assert not (out / "cuda").exists() and check(out).exit_code == 0


def test_an_incomplete_export_is_replaced(db, tmp_path):
    out = tmp_path / "rel"
    export(db, out, "--seed", 1)
    (out / "cuda" / "warp_kernels_cuda.jsonl").unlink()  # no longer a complete release
    export(db, out, "--seed", 2)
    assert check(out).exit_code == 0
    m = json.loads((out / "manifest.json").read_text())
    assert m["arguments"]["seed"] == 2


def test_check_and_target_usage(db, tmp_path):
    res = invoke("export", "--db", db, "--out", tmp_path / "o")
    assert res.exit_code == 2 and "--target-mb" in res.output
    res = invoke("export", "--db", db, "--out", tmp_path / "o", "--target-mb", 1, "--reference", db)
    assert res.exit_code == 2 and "--decontaminate" in res.output
    res = invoke("export", "--db", db, "--out", tmp_path / "o", "--target-mb", 1, "--paired", "--device", "cpu")
    assert res.exit_code == 1 and "--paired needs both devices" in res.output
    shutil.rmtree(tmp_path / "o", ignore_errors=True)


def test_card_shows_coverage_when_the_manifest_has_it(db, tmp_path):
    from curator.export import card

    out = tmp_path / "rel"
    export(db, out)
    m = json.loads((out / "manifest.json").read_text())
    from curator.measure.measures import RELEASE

    assert "## Warp builtins covered" in (out / "README.md").read_text()
    assert "## Warp builtins covered" in card.dataset_card(m, RELEASE.markdown)
    m.pop("measures")
    assert "## Warp builtins covered" not in card.dataset_card(m, RELEASE.markdown)


def test_report_reads_a_release(db, tmp_path):
    out = tmp_path / "rel"
    export(db, out, "--splits", "train=0.8,validation=0.1,test=0.1", "--paired")
    m = json.loads((out / "manifest.json").read_text())
    res = invoke("report", "--db", db, "--exports", out, "--out", tmp_path / "R.md")
    assert res.exit_code == 0, res.output
    text = (tmp_path / "R.md").read_text()
    for config in ("cpu", "cuda", "paired"):
        for split in ("train", "validation", "test"):
            s = m["configs"][config]["splits"][split]
            assert f"| {config} | {split} | {s['records']:,} |" in text
    assert "--splits train=0.8,validation=0.1,test=0.1 --paired" in text
