"""Builtin coverage and kernel shape of a store: the figures `curator stats`, the report and the card show."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from curator.store import Store

ORIGINS = {"synthetic": "synthetic", "real": "real", "all": None}
_LABEL = {"synthetic": "synthetic", "real": "real (ingested)", "all": "synthetic and real"}
# What a kernel's row in kernel_measures holds was computed by this version of the measure code:
# bump it when coverage.names_in_tree or profile.kernel_figures (or what they call) change, and
# rows of the older version are recomputed.  tests/unit/test_measures_cache.py pins the code.
MEASURES_VERSION = 5
FILL_BATCH = 500  # kernels measured per committed transaction
PARALLEL_FROM = 2000  # kernels to measure before a pool of processes pays for its start-up


def coverage_of(store: Store, source: str = "synthetic") -> dict:
    """curator.measure.coverage.measure over the store's kernels of ``source`` (synthetic, real or all)."""
    from curator.kernels.surface import load_surface
    from curator.measure import coverage

    surface = load_surface()
    rows = measured_kernels(store, ORIGINS[source], surface.warp_version)
    return coverage.measure_names(surface, ((names, sigs) for names, _figs, sigs in rows)) | {"source": source}


def profiles_of(store: Store, diversity: bool = False) -> dict[str, dict]:
    """curator.measure.profile figures of the synthetic and of the real (ingested) kernels; with ``diversity``
    also the lowest distinct share of a category and the near-dedup survival (strict_diversity_of)."""
    from curator.kernels.surface import load_surface
    from curator.measure import profile

    surface = load_surface()
    geometry = frozenset(b.name for f in ("geometry", "volume", "texture") for b in surface.family(f))
    out = {
        origin: profile.summarize(
            None if figs is None else profile.shape_of(figs, geometry)
            for _names, figs, _sigs in measured_kernels(store, origin, None)
        )
        for origin in ("synthetic", "real")
    }
    for origin, figures in (strict_diversity_of(store) if diversity else {}).items():
        if out[origin].get("measured"):
            out[origin]["lowest_distinct_share"] = figures["lowest_distinct_share"]
            out[origin]["neardup_survival"] = figures["neardup_survival"]
    return out


def strict_diversity_of(store: Store) -> dict[str, dict]:
    """curator.neardup.strict_diversity of the synthetic and of the real kernels, from their stored
    skeleton hashes and MinHash signatures (recomputed from source where a BLOB is missing)."""
    import numpy as np

    from curator import neardup

    out = {}
    for origin in ("synthetic", "real"):
        rows = store.signature_rows(origin)
        hv, bad = neardup.hashvalues_of_blobs([r[3] for r in rows])
        for i in bad:
            tokens = neardup.normalize_tokens(store.kernel_source(rows[i][0]) or "")
            hv[i] = np.asarray(neardup.minhash_of_tokens(tokens).hashvalues, dtype=np.uint32)
        out[origin] = neardup.strict_diversity([r[1] for r in rows], [r[2] for r in rows], hv)
    return out


def kernel_measures(source: str, name: str):
    """What the measures read from one kernel's source, parsed and walked once: (coverage.names_in_source,
    profile.kernel_figures or None when the source does not parse or holds no kernel ``name``)."""
    import ast

    from curator.measure import coverage, profile

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set(), None
    nodes = list(ast.walk(tree))
    return coverage.names_in_tree(tree, nodes), profile.kernel_figures(tree, source, name, nodes)


def measured_kernels(store: Store, origin: str | None, warp_version: str | None) -> Iterator[tuple]:
    """(names, figures or None, signatures or None) of every kernel of ``origin`` (None: all), by id: kept
    measures where the store has them (fill keeps the missing ones first, unless the store is read-only),
    else measured here."""
    from curator.measure.profile import KernelFigures

    if not store.readonly:
        fill(store, origin)
    for _kid, name, source, names, figs, sigs in store.kernel_measures(origin, MEASURES_VERSION, warp_version):
        if names is None:  # not kept: a read-only store, or a kernel stored since the fill
            assert source is not None  # the store gives the source exactly where no measures are kept
            names, figures = kernel_measures(source, name)
        else:
            figures = (
                None
                if figs is None
                else KernelFigures(
                    **figs | {"called": frozenset(figs["called"]), "groups": tuple(figs.get("groups", ()))}
                )
            )
        yield names, figures, sigs


def fill(store: Store, origin: str | None = None) -> int:
    """Measure the kernels of ``origin`` (None: all) that have no kept measures of MEASURES_VERSION and keep
    them, FILL_BATCH kernels per transaction (an interrupted fill keeps its committed batches); how many.
    Over PARALLEL_FROM kernels to measure, every core measures (the first export of a fresh store
    measures all of them)."""
    import os

    done, after = 0, ""
    cores = os.cpu_count() or 1
    pool = None
    if cores > 1 and store.count_kernels_without_measures(MEASURES_VERSION, origin) >= PARALLEL_FROM:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(cores, mp_context=multiprocessing.get_context("spawn"))
    try:
        while batch := store.kernels_without_measures(MEASURES_VERSION, origin, after, FILL_BATCH):
            if pool is not None:
                rows = list(pool.map(_measure_row, batch, chunksize=max(1, len(batch) // (4 * cores))))
            else:
                rows = [_measure_row(row) for row in batch]
            store.write_kernel_measures(MEASURES_VERSION, rows)
            done, after = done + len(batch), batch[-1][0]
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return done


def _measure_row(row: tuple[str, str, str]) -> tuple[str, list[str], dict | None]:
    """(id, names, figures as kept) of one (id, name, source) row."""
    kid, name, source = row
    names, figures = kernel_measures(source, name)
    return kid, sorted(names), None if figures is None else _as_json(figures)


def _as_json(figures) -> dict:
    return asdict(figures) | {"called": sorted(figures.called)}


def coverage_markdown(report: dict) -> list[str]:
    """A Markdown table of names and signatures covered per family, then the uncovered names."""
    from curator.measure.coverage import NOT_GENERATED

    out = [
        f"Warp {report['warp_version']} has {report['names']} visible builtin names with {report['signatures']}"
        f" visible signatures; the {report['kernels']:,} {_LABEL[report['source']]} kernels reference"
        f" {report['names_covered']} names ({100 * report['names_share']:.1f} %) and"
        f" {report['signatures_covered']} signatures ({100 * report['signatures_share']:.1f} %)."
        " Names: `wp.<name>(...)` calls and the operators Warp maps to builtins, read from the Python;"
        " signatures: the overloads Warp resolved when it built each kernel.",
        "",
        "| family | names | covered | % | signatures | covered | % |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for family, f in [*report["families"].items(), ("**all**", report)]:
        out.append(
            f"| {family} | {f['names']} | {f['names_covered']} | {100 * f['names_share']:.0f} |"
            f" {f['signatures']} | {f['signatures_covered']} | {100 * f['signatures_share']:.0f} |"
        )
    if report["kernels_with_signatures"] < report["kernels"]:
        out += [
            "",
            f"Signatures were recorded for {report['kernels_with_signatures']:,} of the"
            f" {report['kernels']:,} kernels (the rest were stored before curator recorded them).",
        ]
    from curator.measure.coverage import vocabulary_lines

    out += ["", *(f"Warp's {line[0].lower()}{line[1:]}." for line in vocabulary_lines(report))]
    uncovered = [(fam, f["uncovered_names"]) for fam, f in report["families"].items() if f["uncovered_names"]]
    if uncovered:
        out += ["", "Names no kernel references:", ""]
        for fam, names in uncovered:
            shown = [f"`{n}` ({NOT_GENERATED[n]})" if n in NOT_GENERATED else f"`{n}`" for n in names]
            out.append(f"- {fam}: {', '.join(shown)}")
    return [*out, ""]


def profile_markdown(profiles: dict[str, dict]) -> list[str]:
    """A Markdown table of the shape figures, one column per kernel origin that has kernels."""
    from curator.measure.profile import ROWS

    shown = {origin: p for origin, p in profiles.items() if p.get("measured")}
    if not shown:
        return ["No kernels to measure.", ""]
    out = ["| figure | " + " | ".join(shown) + " |", "| --- |" + " ---: |" * len(shown)]
    for label, key, fmt in ROWS:
        out.append(f"| {label} | " + " | ".join(fmt.format(p[key]) if key in p else "-" for p in shown.values()) + " |")
    out += [
        "",
        "Measured on the Python AST of each `@wp.kernel` body; the definitions are in `curator/measure/profile.py`.",
    ]
    return [*out, ""]


class ReleaseMeasures:
    """What an export's manifest keeps and its card shows of the store it is drawn from: builtin
    coverage and kernel shape (`curator stats --coverage` and `--profile`)."""

    def measures(self, store: Store, source: str) -> dict:
        return {"scope": "store", "coverage": coverage_of(store, source), "profile": profiles_of(store)}

    def markdown(self, measures: dict) -> list[str]:
        out = [
            "## Warp builtins covered",
            "",
            "Figures of the store this export was drawn from (`curator stats --coverage`).",
            "",
        ]
        out += coverage_markdown(measures["coverage"])
        out += [
            "## Kernel shape",
            "",
            "Figures of the store this export was drawn from (`curator stats --profile`).",
            "",
        ]
        return out + profile_markdown(measures["profile"])


RELEASE = ReleaseMeasures()
