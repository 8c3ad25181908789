"""`curator export --benchmark FILE`: the figures `curator eval figures` measured go into the
manifest and the card (and REPORT.md's section reads them), and `export --check` still passes;
the same data files as without them."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from test_export import build, target_mb

from curator.cli import main
from curator.export.benchmark import benchmark_markdown


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return build(tmp_path_factory.mktemp("bench") / "s.db", per_cat=20)


FIGURES = {
    "benchmark": {
        "cpu/test/forward": {
            "informative": {"arithmetic": 3, "math": 2},
            "excluded": 1,
            "excluded_why": {"vacuous": 1},
            "baselines": {
                "reference": {
                    "overall": {"pass@1": 1.0},
                    "categories": {"arithmetic": {"pass@1": 1.0}, "math": {"pass@1": 1.0}},
                },
                "shuffled": {
                    "overall": {"pass@1": 0.0},
                    "categories": {"arithmetic": {"pass@1": 0.0}, "math": {"pass@1": 0.0}},
                },
                "retrieval": {
                    "overall": {"pass@1": 0.2},
                    "categories": {"arithmetic": {"pass@1": 0.3333}, "math": {"pass@1": 0.0}},
                },
            },
        }
    }
}


def test_benchmark_figures_reach_manifest_and_card_and_check_passes(db, tmp_path):
    fig = tmp_path / "figures.json"
    fig.write_text(json.dumps(FIGURES))
    plain, with_fig = tmp_path / "plain", tmp_path / "rel"
    args = ("export", "--db", db, "--target-mb", target_mb(db, 0.4), "--splits", "train=0.8,validation=0.1,test=0.1")
    assert invoke(*args, "--out", plain).exit_code == 0
    res = invoke(*args, "--out", with_fig, "--benchmark", fig)
    assert res.exit_code == 0, res.output
    manifest = json.loads((with_fig / "manifest.json").read_text())
    assert manifest["benchmark"] == FIGURES["benchmark"]
    card = (with_fig / "README.md").read_text()
    assert "## Benchmark" in card and "| arithmetic | 3 | 100.0 % | 0.0 % | 33.3 % |" in card
    assert "| **overall** | 5 | 100.0 % | 0.0 % | 20.0 % |" in card
    assert invoke("export", "--check", with_fig).exit_code == 0
    for p in sorted(plain.rglob("*.jsonl")):  # the data is the same; only the manifest and card differ
        assert (with_fig / p.relative_to(plain)).read_bytes() == p.read_bytes()
    assert "## Benchmark" not in (plain / "README.md").read_text()


def test_benchmark_file_that_is_not_one_is_refused(db, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"other": 1}')
    res = invoke("export", "--db", db, "--target-mb", "0.01", "--out", tmp_path / "o", "--benchmark", bad)
    assert res.exit_code == 1 and "not a `curator eval figures` file" in res.output
    assert not (tmp_path / "o").exists()


def test_markdown_rounds_and_totals():
    lines = benchmark_markdown(FIGURES["benchmark"])
    assert lines[0] == "### `cpu` / `test`, target `forward`"
    assert "5 informative records (1 left out: 1 vacuous)." in lines
