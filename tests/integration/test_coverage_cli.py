"""Builtin signatures recorded from Warp's own overload resolution, and `curator stats --coverage`."""

import json

import pytest

from curator.kernels.surface import load_surface
from curator.measure.coverage import names_in_source
from curator.store import Store
from tests.conftest import run_curator

FIXTURE = """
import warp as wp

@wp.func
def squash(a: float):
    return wp.min(a, 1.0)

@wp.kernel
def k(x: wp.array(dtype=float), v: wp.array(dtype=wp.vec3)):
    i = wp.tid()
    y = x[i] + squash(x[i])
    v[i] = wp.normalize(v[i]) * y
    for j in range(wp.static(2)):
        y = y + float(j)
    if i > 3:
        y = 2.0 * y
    else:
        y = 0.5 * y
    x[i] = y
"""


def test_recorded_signatures_come_from_overload_resolution():
    from curator.warp import build, init_warp
    from curator.warp.calls import recording_builtin_calls, signatures_of_calls

    init_warp()
    with recording_builtin_calls() as calls:
        build.generate(FIXTURE, "k", "curator_test_coverage_fixture", ("cpu",))
    sigs = signatures_of_calls(calls, FIXTURE)
    visible = {s.text for s in load_surface().signatures()}
    assert set(sigs) <= visible
    # wp.min(float, float) resolves to a hidden concrete overload; it counts as the visible generic one
    assert "min(a: Scalar, b: Scalar) -> Scalar" in sigs
    assert "add(a: Scalar, b: Scalar) -> Scalar" in sigs  # x[i] + ..., inside the kernel
    assert "mul(a: Vector[Scalar, Any], b: Scalar) -> Vector[Scalar, Any]" in sigs
    assert "normalize(a: Vector[Float, Any]) -> Vector[Float, Any]" in sigs
    assert "static(expr: Any) -> Any" in sigs  # evaluated at parse time, counted from the source
    assert not any(s.startswith("sin(") for s in sigs)  # nothing the kernel does not call
    # the if/else merge of y is a `where` Warp inserts itself: not the kernel's; a ternary is
    assert not any(s.startswith("where(") for s in sigs)
    ternary = FIXTURE.replace("    x[i] = y\n", "    x[i] = y if i > 1 else 0.0\n")
    with recording_builtin_calls() as calls2:
        build.generate(ternary, "k", "curator_test_coverage_ternary", ("cpu",))
    assert "where(cond: bool, value_if_true: Any, value_if_false: Any) -> Any" in signatures_of_calls(calls2, ternary)
    # the recorder is gone after the block: nothing more is recorded
    n = len(calls)
    build.generate(FIXTURE, "k", "curator_test_coverage_fixture2", ("cpu",))
    assert len(calls) == n


@pytest.mark.slow
def test_generate_records_signatures_and_stats_reports_them(small_store):
    surface = load_surface()
    single = {b.name: b.signatures[0].text for b in surface.builtins if len(b.signatures) == 1}
    with Store.open(small_store, readonly=True) as s:
        rows = list(s.kernels_with_builtin_signatures("synthetic", surface.warp_version))
    assert rows and all(sigs is not None for _k, _s, sigs in rows)
    expected_sigs = set()
    for _kid, source, sigs in rows:
        expected_sigs |= set(sigs)
        # the source-level names (AST) and the codegen record are made apart: they must agree
        for name in names_in_source(source) & single.keys():
            assert single[name] in sigs, f"{name} is in the source but its only signature was not recorded"
    res = run_curator("stats", "--coverage", "--json", "--db", str(small_store))
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert report["kernels"] == report["kernels_with_signatures"] == len(rows)
    assert report["signatures_covered"] == len(expected_sigs & {s.text for s in surface.signatures()})
    fam = report["families"]["tile"]
    assert fam["names_covered"] + len(fam["uncovered_names"]) == fam["names"] == surface.names_per_family()["tile"]
    real = run_curator("stats", "--coverage", "--source", "real", "--json", "--db", str(small_store))
    assert json.loads(real.stdout)["kernels"] == 0


def test_coverage_of_missing_store_is_one_line(tmp_path):
    res = run_curator("stats", "--coverage", "--db", str(tmp_path / "none.db"))
    assert res.returncode == 1 and "Traceback" not in res.stderr and "no curator store" in res.stderr


@pytest.mark.slow
def test_stats_profile_reports_both_origins(small_store):
    import sqlite3

    from curator.measure.profile import kernel_shape, summarize

    res = run_curator("stats", "--profile", "--json", "--db", str(small_store))
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    conn = sqlite3.connect(f"file:{small_store}?mode=ro", uri=True)
    rows = conn.execute("SELECT name, source FROM kernels WHERE origin = 'synthetic'").fetchall()
    geometry = frozenset(b.name for f in ("geometry", "volume", "texture") for b in load_surface().family(f))
    expected = summarize(kernel_shape(src, name, geometry) for name, src in rows)
    # strict diversity, counted here from the stored skeleton hashes (names and numbers normalised)
    cats = conn.execute("SELECT category, skeleton_hash FROM kernels WHERE origin = 'synthetic'").fetchall()
    distinct = {c: len({h for cc, h in cats if cc == c}) / sum(cc == c for cc, _ in cats) for c, _ in cats}
    expected["lowest_distinct_share"] = min(distinct.values())
    survival = report["synthetic"].pop("neardup_survival")
    assert 0 < survival <= len({h for _, h in cats}) / len(cats)  # clusters never outnumber distinct skeletons
    assert report["synthetic"] == pytest.approx(expected)
    assert report["synthetic"]["measured"] == len(rows) > 0
    assert report["real"] == {"kernels": 0, "measured": 0}
    table = run_curator("stats", "--profile", "--db", str(small_store))
    assert table.returncode == 0 and "mean expression depth" in table.stdout


def test_coverage_and_profile_together_is_a_usage_error(small_store):
    res = run_curator("stats", "--profile", "--coverage", "--db", str(small_store))
    assert res.returncode == 2 and "Traceback" not in res.stderr


@pytest.mark.slow
def test_report_and_card_show_the_coverage_and_profile(small_store, tmp_path):
    cov = json.loads(run_curator("stats", "--coverage", "--json", "--db", str(small_store)).stdout)
    prof = json.loads(run_curator("stats", "--profile", "--json", "--db", str(small_store)).stdout)
    exp = tmp_path / "exp"
    res = run_curator("export", "--target-mb", "0.05", "--allow-short", "--out", str(exp), "--db", str(small_store))
    assert res.returncode == 0, res.stderr
    out = tmp_path / "REPORT.md"
    res = run_curator("report", "--db", str(small_store), "--exports", str(exp), "--out", str(out))
    assert res.returncode == 0, res.stderr
    text = out.read_text()
    assert f"reference {cov['names_covered']} names" in text and f"{cov['signatures_covered']} signatures" in text
    assert f"| mean expression depth | {prof['synthetic']['mean_expression_depth']:.2f} |" in text
    tile = cov["families"]["tile"]
    assert f"| tile | {tile['names']} | {tile['names_covered']} |" in text
    manifest = json.loads((exp / "manifest.json").read_text())
    assert manifest["measures"]["coverage"]["signatures_covered"] == cov["signatures_covered"]
    card = (exp / "README.md").read_text()
    assert (
        "## Warp builtins covered" in card
        and f"| mean expression depth | {prof['synthetic']['mean_expression_depth']:.2f} |" in card
    )
