"""`curator report` regenerates REPORT.md from a small store; its figures match the store and
the export manifest."""

import json
import re
import shutil

from curator.kernels import CATEGORIES
from curator.store import Store
from tests.conftest import run_curator


def test_report_figures_match_store_and_manifest(small_store, tmp_path):
    db = tmp_path / "r.db"
    shutil.copy(small_store, db)
    out = tmp_path / "exports"
    res = run_curator("export", "--target-mb", "0.3", "--dedup", "--db", str(db), "--out", str(out), "--allow-short")
    assert res.returncode == 0, res.stderr
    report_path = tmp_path / "REPORT.md"
    res = run_curator("report", "--db", str(db), "--exports", str(out), "--out", str(report_path))
    assert res.returncode == 0, res.stderr
    text = report_path.read_text()
    manifest = json.loads((out / "manifest.json").read_text())
    # the store's figures, counted here with plain SQL and Python (not curator.measure.stats, which the
    # report itself uses)
    with Store.open(db, readonly=True) as s:
        kernels = s.conn.execute("SELECT COUNT(*) FROM kernels").fetchone()[0]
        skeletons = s.conn.execute("SELECT COUNT(DISTINCT skeleton_hash) FROM kernels").fetchone()[0]
        per_cat = s.conn.execute(
            "SELECT category, COUNT(*), SUM(origin = 'synthetic'), SUM(origin = 'real'), COUNT(DISTINCT skeleton_hash)"
            " FROM kernels GROUP BY category"
        ).fetchall()
        sources = [r[0] for r in s.conn.execute("SELECT source FROM kernels")]
        first_cpu = s.conn.execute("SELECT COUNT(*) FROM artifacts WHERE device = 'cpu'").fetchone()[0]
        kept = s.conn.execute("SELECT COUNT(*) FROM kernel_measures").fetchone()[0]  # export and report keep them
    wp_names = {m for src in sources for m in re.findall(r"\bwp\.(\w+)", src)}
    assert kernels == 60 and len(per_cat) == len(CATEGORIES)  # 60 kernels round-robin: every category
    assert kept == kernels
    assert f"| kernels | {kernels:,} (synthetic {kernels:,}) |" in text
    assert f"| distinct normalised skeletons | {skeletons:,} (" in text
    assert f"| distinct `wp.<name>` builtins and types in the Python | {len(wp_names)} |" in text
    assert f"| stored cpu code | {first_cpu:,} kernels, " in text
    for cat, n, synthetic, real, skel in per_cat:
        assert f"| {cat} | {n:,} | {synthetic:,} | {real:,} | {skel:,} (" in text
    # the manifest's figures, and the bar chart agrees with the per-category records
    for dev, m in manifest["devices"].items():
        row = re.search(rf"^\| {dev} \| `[^`]+` \| ([\d,]+) \| ([\d.]+) \| ([\d,]+) \|", text, re.M)
        assert row, dev
        assert int(row.group(1).replace(",", "")) == m["bytes"]
        assert int(row.group(3).replace(",", "")) == m["records"]
        for cat, c in m["categories"].items():
            assert re.search(rf"^{cat}\s+{c['records']:,}\s", text, re.M), (dev, cat)
    d = manifest["dedup"]
    assert f"{d['kernels']:,} kernels in {d['clusters']:,} clusters" in text
    # the example pair is real data from the export
    kid = re.search(r"id `([0-9a-f]+)`", text).group(1)
    with Store.open(db, readonly=True) as s:
        k, cpu = s.get_kernel(kid), s.get_artifact(kid, "cpu")
    assert k["source"].strip() in text and cpu["forward"].strip() in text
    # the explanation is there
    for heading in ("**JIT compilation.**", "**IR.**", "**NVIDIA Warp**", "## Reproduce", "load_dataset"):
        assert heading in text


def test_report_without_export_says_so(small_store, tmp_path):
    out = tmp_path / "R.md"
    res = run_curator("report", "--db", str(small_store), "--out", str(out), cwd=tmp_path)  # no exports/ here
    assert res.returncode == 0, res.stderr
    assert "No export yet" in out.read_text()


def test_report_exports_that_hold_no_export_is_an_error(small_store, tmp_path):
    """An explicit --exports that is missing, empty or not curator's stops with one line; no report."""
    empty, foreign = tmp_path / "empty", tmp_path / "foreign"
    empty.mkdir()
    foreign.mkdir()
    (foreign / "manifest.json").write_text('{"name": "someone else\'s dataset"}')
    out = tmp_path / "R.md"
    for folder, why in ((tmp_path / "none", "not a folder"), (empty, "empty"), (foreign, "not a curator export")):
        res = run_curator("report", "--db", str(small_store), "--exports", str(folder), "--out", str(out))
        assert res.returncode == 1 and why in res.stderr, res.stderr
        assert res.stderr.strip().count("\n") == 0 and "Traceback" not in res.stderr
        assert not out.exists()


def test_report_bad_output_folder(small_store, tmp_path):
    res = run_curator("report", "--db", str(small_store), "--out", str(tmp_path / "no" / "R.md"))
    assert res.returncode == 1 and "does not exist" in res.stderr and "Traceback" not in res.stderr


def test_report_rerun_is_byte_identical(small_store, tmp_path):
    """The same store and export give the same REPORT.md, byte for byte."""
    out = tmp_path / "exports"
    res = run_curator(
        "export", "--target-mb", "0.2", "--device", "cpu", "--db", str(small_store), "--out", str(out), "--allow-short"
    )
    assert res.returncode == 0, res.stderr
    texts = []
    for name in ("a.md", "b.md"):
        res = run_curator("report", "--db", str(small_store), "--exports", str(out), "--out", str(tmp_path / name))
        assert res.returncode == 0, res.stderr
        texts.append((tmp_path / name).read_bytes())
    assert texts[0] == texts[1] and b"warp_kernels_cpu.jsonl" in texts[0]
