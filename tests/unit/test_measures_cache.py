"""The per-kernel measures kept in the store (kernel_measures) give the very figures a fresh computation
gives: coverage, profile, their Markdown and JSON, on generated and on real (Warp's own) kernels."""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import inspect
import json
import os
import random
from pathlib import Path

import pytest

from curator.ingest.discover import kernel_defs
from curator.kernels import CATEGORIES, STRESS_CATEGORIES, dataflow, generate_kernel
from curator.kernels.surface import load_surface
from curator.measure import coverage, measures, profile
from curator.records import KernelRecord
from curator.store import Store

GENERATED = 240  # realistic kernels, every category (and one stress kernel of each of its categories)
ODD_SOURCES = {
    "does_not_parse": "import warp as wp\n\n@wp.kernel\ndef does_not_parse(:\n    pass\n",
    "no_kernel_here": "import warp as wp\n\nx = wp.vec3(1.0, 2.0, 3.0) + wp.vec3()\n",
}
SYNTHETIC = GENERATED + len(STRESS_CATEGORIES) + len(ODD_SOURCES)


def _record(name: str, source: str, category: str, origin: str) -> KernelRecord:
    kid = hashlib.sha256(source.encode()).hexdigest()[:20]
    pieces = {p: f"// {p}\n" for p in ("structs", "functions", "args", "forward", "backward", "entry")}
    return KernelRecord(
        id=kid,
        name=name,
        category=category,
        source=source,
        skeleton_hash="s" + kid,
        minhash=None,
        origin=origin,
        artifacts={"cpu": {"pieces": pieces, "codegen_ms": 1.0, "warp_version": "1.19.0"}},
    )


def _real_kernels() -> list[KernelRecord]:
    """Kernels of Warp's own examples and of the ingest fixtures, stored as ingest stores them (module source)."""
    warp_dir = Path(importlib.util.find_spec("warp").submodule_search_locations[0])
    files = sorted((warp_dir / "examples").rglob("example_*.py"))[:12]
    files += sorted((Path(__file__).parents[1] / "fixtures" / "ingest" / "kernels").glob("*.py"))
    out = []
    for path in files:
        text = path.read_text()
        for d in kernel_defs(text):
            # each kernel a distinct source (content-hash ids), as files differ
            out.append(_record(d.qualname.rsplit(".", 1)[-1], f"{text}\n# {d.qualname}\n", "real", "real"))
    return out


@pytest.fixture(scope="module")
def store_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("measures") / "m.db"
    surface = load_surface()
    visible = [s.text for s in surface.signatures()]
    rng = random.Random(3)
    records = [
        _record(spec.name, spec.source, spec.category, "synthetic")
        for i in range(GENERATED)
        for spec in [generate_kernel(i, CATEGORIES[i % len(CATEGORIES)])]
    ]
    records += [
        _record(spec.name, spec.source, spec.category, "synthetic")
        for i, category in enumerate(STRESS_CATEGORIES)
        for spec in [generate_kernel(i, category, "stress")]
    ]
    records += [_record(name, src, "odd", "synthetic") for name, src in ODD_SOURCES.items()]
    records += _real_kernels()
    assert sum(r.origin == "real" for r in records) >= 20
    with Store.open(path, create=True) as s:
        s.write_batch(records, [], None)
        # signatures for most kernels, not all (stored before they were recorded, or by another Warp)
        sigs = [(r.id, surface.warp_version, rng.sample(visible, 12)) for r in records if rng.random() < 0.8]
        s.write_builtin_signatures(sigs)
        s.write_builtin_signatures([(records[0].id, "0.0.0", visible[:3])])
    return path


def _uncached_coverage(store, source: str) -> dict:
    """The computation before measures were kept: every source parsed (curator.measure.coverage.measure)."""
    surface = load_surface()
    rows = store.kernels_with_builtin_signatures(measures.ORIGINS[source], surface.warp_version)
    return coverage.measure(surface, ((src, sigs) for _kid, src, sigs in rows)) | {"source": source}


def _uncached_profiles(store) -> dict:
    surface = load_surface()
    geometry = frozenset(b.name for f in ("geometry", "volume", "texture") for b in surface.family(f))
    return {
        origin: profile.summarize(
            profile.kernel_shape(src, name, geometry) for name, src in store.kernel_names_and_sources(origin)
        )
        for origin in ("synthetic", "real")
    }


def _everything(store) -> str:
    """Every figure the commands show, as the bytes they show them in (JSON and Markdown)."""
    cov = {source: measures.coverage_of(store, source) for source in measures.ORIGINS}
    prof = measures.profiles_of(store)
    md = [line for c in cov.values() for line in measures.coverage_markdown(c)] + measures.profile_markdown(prof)
    return json.dumps({"coverage": cov, "profile": prof}, indent=2) + "\n".join(md)


def _expected(store) -> str:
    cov = {source: _uncached_coverage(store, source) for source in measures.ORIGINS}
    prof = _uncached_profiles(store)
    md = [line for c in cov.values() for line in measures.coverage_markdown(c)] + measures.profile_markdown(prof)
    return json.dumps({"coverage": cov, "profile": prof}, indent=2) + "\n".join(md)


def _kept(path: Path) -> dict[str, int]:
    with Store.open(path, readonly=True) as s:
        return dict(s.conn.execute("SELECT kernel_id, version FROM kernel_measures").fetchall())


def test_kept_measures_give_the_figures_of_a_fresh_computation(store_path, tmp_path, monkeypatch):
    path = tmp_path / "m.db"
    path.write_bytes(store_path.read_bytes())
    with Store.open(path, readonly=True) as s:
        expected = _expected(s)
        kernels = s.count_kernels()
        profiles = _uncached_profiles(s)
        assert _everything(s) == expected  # read-only: measured on the fly, nothing kept
    assert _kept(path) == {}
    assert profiles["real"]["measured"] >= 20 and profiles["synthetic"]["kernels"] == SYNTHETIC
    with Store.open(path) as s:
        assert _everything(s) == expected  # the first run keeps every kernel's measures
    assert len(_kept(path)) == kernels and set(_kept(path).values()) == {measures.MEASURES_VERSION}

    def parse_nothing(source, name):
        raise AssertionError(f"{name} parsed again although its measures are kept")

    with monkeypatch.context() as m:
        m.setattr(measures, "kernel_measures", parse_nothing)
        with Store.open(path) as s:
            assert _everything(s) == expected  # the second run reads them all
        with Store.open(path, readonly=True) as s:
            assert _everything(s) == expected


def test_each_kept_row_holds_its_own_kernels_figures(store_path, tmp_path):
    """Per kernel, not only summed: a name or figure lost in one row would hide behind the other kernels."""
    path = tmp_path / "m.db"
    path.write_bytes(store_path.read_bytes())
    surface = load_surface()
    geometry = frozenset(b.name for f in ("geometry", "volume", "texture") for b in surface.family(f))
    with Store.open(path) as s:
        measures.fill(s)
        sources = {kid: (name, src) for kid, name, src in s.conn.execute("SELECT id, name, source FROM kernels")}
        rows = list(s.kernel_measures(None, measures.MEASURES_VERSION, surface.warp_version))
        kept = list(measures.measured_kernels(s, None, surface.warp_version))
    assert len(rows) == len(kept) == len(sources)
    for (kid, _name, source, *_), (names, figures, _sigs) in zip(rows, kept, strict=True):
        name, src = sources[kid]
        assert source is None and set(names) == coverage.names_in_source(src), kid
        shape = None if figures is None else profile.shape_of(figures, geometry)
        assert shape == profile.kernel_shape(src, name, geometry), kid
        assert figures is None or figures == profile.kernel_figures(ast.parse(src), src, name), kid
    assert sum(f is None for _n, f, _s in kept) >= len(ODD_SOURCES)


def test_fill_commits_batches_and_a_new_version_measures_again(store_path, tmp_path, monkeypatch):
    path = tmp_path / "m.db"
    path.write_bytes(store_path.read_bytes())
    monkeypatch.setattr(measures, "FILL_BATCH", 7)
    with Store.open(path) as s:
        kernels = s.count_kernels()
        writes = []
        original = s.write_kernel_measures
        monkeypatch.setattr(s, "write_kernel_measures", lambda v, rows: writes.append(len(rows)) or original(v, rows))
        real = measures.fill(s, "real")
        assert real == sum(writes) == len(_kept(path)) < kernels
        assert max(writes) == 7 and len(writes) > 4  # one transaction per batch
        assert measures.fill(s) == kernels - real
        assert measures.fill(s) == 0
        expected = _everything(s)
        monkeypatch.setattr(measures, "MEASURES_VERSION", measures.MEASURES_VERSION + 1)
        assert measures.fill(s, "synthetic") == SYNTHETIC
        assert _everything(s) == expected
    assert set(_kept(path).values()) == {measures.MEASURES_VERSION}


def test_an_edited_or_deleted_kernel_loses_its_kept_measures(store_path, tmp_path):
    path = tmp_path / "m.db"
    path.write_bytes(store_path.read_bytes())
    with Store.open(path) as s:
        measures.fill(s)
        kid, name, source = s.conn.execute("SELECT id, name, source FROM kernels WHERE origin = 'synthetic'").fetchone()
        edited = source.replace(f"def {name}(", f"def {name}(extra: int, ", 1) + "\n"
        s.conn.execute("UPDATE kernels SET source = ? WHERE id = ?", (edited, kid))
        assert kid not in _kept(path)
        assert measures.fill(s) == 1
        s.conn.execute("DELETE FROM kernels WHERE id = ?", (kid,))
        assert kid not in _kept(path) and len(_kept(path)) == s.count_kernels()


def test_a_kernel_stored_after_the_fill_is_measured_all_the_same(store_path, tmp_path):
    path = tmp_path / "m.db"
    path.write_bytes(store_path.read_bytes())
    with Store.open(path) as s:
        measures.fill(s)
        spec = generate_kernel(10_000, "tile")
        s.write_batch([_record(spec.name, spec.source, spec.category, "synthetic")], [], None)
        rows = list(s.kernel_measures("synthetic", measures.MEASURES_VERSION, None))
        assert sum(names is None for _k, _n, _s, names, _f, _sig in rows) == 1
    with Store.open(path, readonly=True) as s:
        assert _everything(s) == _expected(s)


# The code whose output a kernel_measures row holds.  When it changes, bump measures.MEASURES_VERSION
# (kept rows of the old version are then measured again) and update the pin below.
# (2, "235286f686bd317f"): the move to curator/measure/ and ruff format changed the text, not the output
# (2, "61923ccba4d37711"): coverage._is_overload's return annotated TypeGuard[ast.Call] (for mypy), same output
# (3, ...): generator 3 measures data-flow groups; the move to curator/measure/ changed the text
# (4, ...): names_in_tree also records the Warp type names and constants a kernel references
# (5, ...): an index read through the thread index (idx = indices[tid]) counts as the thread index
PINNED = (5, "ef6d51c9ee58903d")


def _measure_code() -> str:
    parts = [
        inspect.getsource(f)
        for f in (
            coverage.names_in_tree,
            coverage._vocabulary_refs,
            coverage._folded_or_inplace,
            coverage._outside_annotations,
            coverage._is_overload,
            profile.KernelFigures,
            profile.kernel_figures,
            profile._find_kernel,
            profile._decorator_name,
            profile._statements,
            profile._own_expressions,
            profile.expression_depth,
            profile._called_wp_names,
            measures.kernel_measures,
            measures._as_json,
        )
    ]
    parts.append(inspect.getsource(dataflow))
    parts += [repr(sorted((k.__name__, v) for k, v in coverage.OPERATOR_BUILTINS.items()))]
    for constant in (
        coverage.BARE_BUILTINS,
        coverage.WARP_MODULE_NAMES,
        coverage.VOCABULARY,
        profile._HELPER_DECORATORS,
    ):
        parts.append(repr(sorted(constant)))
    parts += [repr(profile.LONG_LINE), repr([c.__name__ for c in (*profile._OPERATIONS, *profile._TRANSPARENT)])]
    return "\n".join(parts)


def test_measure_code_changes_come_with_a_new_version():
    digest = hashlib.sha256(_measure_code().encode()).hexdigest()[:16]
    assert (measures.MEASURES_VERSION, digest) == PINNED, (
        "the per-kernel measure code changed: bump MEASURES_VERSION in curator/measure/measures.py (kept measures"
        f" of the old version are recomputed) and set PINNED = ({measures.MEASURES_VERSION + 1}, {digest!r})"
    )


def test_a_pool_of_processes_keeps_what_this_process_keeps(store_path, tmp_path, monkeypatch):
    """Over PARALLEL_FROM kernels to measure, fill measures on every core: the same rows."""
    import concurrent.futures

    pools = []

    class Spied(concurrent.futures.ProcessPoolExecutor):
        def __init__(self, *args, **kwargs):
            pools.append(args)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", Spied)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)  # a pool even on a one-core machine
    kept = {}
    for label, parallel_from in (("here", 10**9), ("pool", 1)):
        path = tmp_path / f"{label}.db"
        path.write_bytes(store_path.read_bytes())
        monkeypatch.setattr(measures, "PARALLEL_FROM", parallel_from)
        with Store.open(path) as s:
            assert measures.fill(s) == s.count_kernels()
            kept[label] = s.conn.execute(
                "SELECT kernel_id, version, names, figures FROM kernel_measures ORDER BY 1"
            ).fetchall()
        assert len(pools) == (label == "pool")
    assert kept["pool"] and kept["pool"] == kept["here"]
