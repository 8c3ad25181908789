"""Writing one config's split: its records (one per kernel and device, or one per kernel for
`paired`) selected category-balanced up to a target and written to every format at once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from curator.export import records
from curator.export.formats import ExportFormat
from curator.export.select import Selection, seeded_order, select_balanced, upper_bound
from curator.records import DEVICES

if TYPE_CHECKING:
    from curator.store import Store

PAIRED = "paired"  # the config with one row per kernel: the Python and every CPU and CUDA piece


def config_devices(config: str) -> tuple[str, ...]:
    return DEVICES if config == PAIRED else (config,)


def config_keys(config: str) -> tuple[str, ...]:
    return records.PAIRED_KEYS if config == PAIRED else records.KEYS


def record_stream(store: Store, config: str, ids: list[str]) -> Iterator[dict]:
    """The records of ``ids`` (in that order) for ``config``."""
    if config != PAIRED:
        for row in store.export_rows(config, ids):
            yield records.record(row)
        return
    cpu, cuda = store.export_rows("cpu", ids), store.export_rows("cuda", ids)
    for a, b in zip(cpu, cuda, strict=True):
        yield records.paired_record(records.record(a), records.record(b))


@dataclass
class SplitJob:
    """One config's split to write."""

    config: str
    split: str | None  # None: an export without splits (legacy file names)
    ids_by_category: dict[str, list[str]]
    categories: list[str]
    target: int
    upper: int | None = None  # default: +1 % of the target


def write_split(
    store: Store,
    job: SplitJob,
    fmt: ExportFormat,
    stage,
    seed: int,
    verified: set[str],
    on_progress: Callable[[str, int, int], None] | None = None,
    ran_on_cpu: frozenset[str] = frozenset(),
) -> tuple[dict, Selection]:
    """Select ``job``'s records and write them in ``fmt``; the split's manifest summary and its
    Selection (``reached`` false when the store could not fill the target)."""
    encode = fmt.encode  # the JSONL line in every format (see curator.export.formats)
    streams = {
        c: (
            (rec, encode(rec))
            for rec in record_stream(store, job.config, seeded_order(job.ids_by_category.get(c, ()), seed))
        )
        for c in job.categories
    }
    upper = job.upper if job.upper is not None else upper_bound(job.target)
    sel = Selection(tuple(sorted(job.categories)), job.target, upper)
    meta: dict[str, Any] = {
        "warp": set(),
        "generator": set(),
        "run_seeds": set(),
        "origins": Counter(),
        "verified": Counter(),
        "checks": Counter(),
    }
    label = f"{job.config}/{job.split}" if job.split else job.config
    path = fmt.path(job.config, job.split)
    with fmt.sink(stage, path, config_keys(job.config)) as sink:
        for n, (_cat, (rec, line)) in enumerate(
            select_balanced(streams, lambda x: len(x[1]), sel.target, sel.upper, sel)
        ):
            sink.add(rec, line)
            _note(meta, rec, verified)
            if "compiled" in rec:  # the per-device configs carry the verification fields
                meta["checks"].update(_checks(rec))
                meta["checks"]["kernel_ran_on_cpu"] += rec["id"] in ran_on_cpu
            if on_progress and n % 256 == 0:
                on_progress(label, sel.size, job.target)
    if on_progress:
        on_progress(label, sel.size, job.target)
    return _summary(job, sel, meta, path, sink), sel


def _note(meta: dict, rec: dict, verified: set[str]) -> None:
    meta["warp"].add(rec["warp_version"])
    meta["generator"].add(rec["generator_version"])
    meta["run_seeds"].add(rec["run_seed"])
    meta["origins"][rec["origin"]] += 1
    if rec["id"] in verified:
        meta["verified"][rec["category"]] += 1


def _checks(rec: dict) -> list[str]:
    """The manifest's check counters one record adds to (its compiled / ran / grad_check fields)."""
    out = [f"compiled_{str(rec['compiled']).lower()}" if rec["compiled"] is not None else "compiled_unknown"]
    out.append(f"ran_{rec['ran']}" if rec["ran"] else "ran_unknown")
    if rec["grad_check"]:
        out.append(f"grad_{rec['grad_check']}")
    return out


def _summary(job: SplitJob, sel: Selection, meta: dict, path: str, sink) -> dict:
    counts = sel.counts
    ratio = round(sel.ratio(), 4) if sel.ratio() != float("inf") else None
    return {
        "file": path,
        "bytes": sel.size,  # JSONL bytes of the records: what --target-mb measures, whatever the format
        "file_bytes": sink.bytes,  # the file's size (equal to bytes for JSONL; Parquet is compressed)
        "records": sel.records,
        "sha256": sink.sha256,
        "target_bytes": job.target,
        "reached_target": sel.reached,
        "categories": {c: {"records": counts[c], "bytes": sel.bytes[c]} for c in sel.categories},
        "balance": {"min": min(counts.values(), default=0), "max": max(counts.values(), default=0), "ratio": ratio},
        # what the records' compiled / ran / grad_check fields say, counted (per-device configs)
        "checks": {"records": sel.records} | dict(sorted(meta["checks"].items())),
        "warp_versions": sorted(v for v in meta["warp"] if v),
        "generator_versions": sorted(v for v in meta["generator"] if v),
        "run_seeds": sorted(s for s in meta["run_seeds"] if s is not None),
        "origins": dict(sorted(meta["origins"].items())),
        # exported kernels whose code compiled (for both devices in `paired`), per category
        "verified": {"records": sum(meta["verified"].values()), "categories": dict(sorted(meta["verified"].items()))},
    }
