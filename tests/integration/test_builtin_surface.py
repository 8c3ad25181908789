"""The committed builtin table is exactly the visible surface of the installed Warp."""

import json
import subprocess
import sys

import pytest

from curator.kernels.surface import load_surface, parse_surface
from curator.warp import surface as warp_surface


@pytest.fixture(scope="module")
def derived():
    """The surface a fresh process derives (what `--write` commits): this test process may have
    built kernels since Warp's init (under pytest-xdist, other files' tests share it), and a build
    can leave a builtin's entry changed (transform_decompose's return type was, once)."""
    out = subprocess.run([sys.executable, "-m", "curator.warp.surface"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def _sigs(surface_dict):
    return {(b["name"], s["text"]) for b in surface_dict["builtins"] for s in b["signatures"]}


def test_committed_table_matches_installed_warp(derived):
    committed = json.loads(warp_surface.DATA_PATH.read_text())
    assert committed["warp_version"] == derived["warp_version"]
    assert {b["name"] for b in committed["builtins"]} == {b["name"] for b in derived["builtins"]}, (
        "Warp added or dropped a visible builtin name: run python -m curator.warp.surface --write"
    )
    assert _sigs(committed) == _sigs(derived), (
        "Warp added or dropped a visible signature: run python -m curator.warp.surface --write"
    )
    assert warp_surface.render(derived) == warp_surface.DATA_PATH.read_text()


def test_check_fails_on_a_dropped_signature(derived, tmp_path, monkeypatch):
    edited = json.loads(warp_surface.render(derived))
    dropped = edited["builtins"][0]["signatures"].pop()
    table = tmp_path / "warp_builtins.json"
    table.write_text(warp_surface.render(edited))
    monkeypatch.setattr(warp_surface, "DATA_PATH", table)
    assert warp_surface.main(["--check"]) == 1
    assert (edited["builtins"][0]["name"], dropped["text"]) in _sigs(derived) - _sigs(edited)


def test_table_counts_follow_warp_registry(derived):
    # Independent count straight from the registry: overloads not hidden and not marked deprecated.
    from warp._src.context import builtin_functions

    names, signatures = set(), 0
    for name, func in builtin_functions.items():
        visible = [
            o
            for o in (getattr(func, "overloads", None) or [func])
            if not o.hidden and ".. deprecated::" not in (o.doc or "")
        ]
        names |= {name} if visible else set()
        signatures += len(visible)
    surface = load_surface()
    assert {b.name for b in surface.builtins} == names
    assert len(surface.signatures()) == signatures
    assert "tile_matmul" in names and "mesh_query_point" in names and "select" not in names  # select is deprecated
    assert surface.names_per_family()["tile"] == sum(1 for b in derived["builtins"] if b["family"] == "tile")


def test_loader_does_not_import_warp():
    code = "import sys, curator.kernels.surface as s; s.load_surface(); print('warp' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "False"


def test_parse_surface_reads_families():
    text = json.dumps(
        {
            "warp_version": "x",
            "builtins": [
                {
                    "name": "add",
                    "family": "operators",
                    "signatures": [
                        {"text": "add(a: Scalar, b: Scalar) -> Scalar", "family": "operators"},
                        {"text": "add(a: Tile, b: Tile) -> Tile", "family": "tile"},
                    ],
                }
            ],
        }
    )
    surface = parse_surface(text)
    assert surface.names_per_family() == {"operators": 1}
    assert surface.signatures_per_family() == {"operators": 1, "tile": 1}
