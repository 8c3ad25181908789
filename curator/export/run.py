"""Running an export: check the options, pick near-duplicate representatives, select a
category-balanced set per device, write each device's file in the chosen format, the manifest
and the dataset card (all staged, moved into place together).

The same store and options give byte-identical data files and card: no timestamps in them,
kernels ordered by ``seed`` (see ``select.seeded_order``) and taken round-robin over the
sorted categories.  Only the manifest's ``created_at`` varies, unless SOURCE_DATE_EPOCH is set.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from curator import __version__, neardup
from curator.export import files, formats, records
from curator.export.select import Selection, seeded_order, select_balanced, upper_bound
from curator.export.shortfall import DeviceShortfall, compute_shortfall, shortfall_message
from curator.records import DEVICES, MIB
from curator.store.exports import EXPORT_STATUSES, ExportFilter

MANIFEST = "manifest.json"
CARD = "README.md"


class ExportError(Exception):
    """The export cannot be done as asked (one sentence for the user); nothing was written."""


@dataclass
class ExportOptions:
    out: Path
    devices: tuple[str, ...]
    target_bytes: int
    seed: int = 0
    status: str = "unrejected"  # unrejected: everything not rejected; accepted: accepted only
    categories: tuple[str, ...] = ()  # empty: every category with an eligible kernel
    dedup: bool = False
    threshold: float = neardup.DEFAULT_THRESHOLD
    allow_short: bool = False
    verified_only: bool = False
    source: str = "all"  # synthetic | real | all
    format: str = formats.DEFAULT_FORMAT
    db: str = "curator.db"  # only for the `curator generate` hint of a shortfall

    def arguments(self) -> dict:
        return {
            "devices": list(self.devices),
            "target_mb": self.target_bytes / MIB,
            "seed": self.seed,
            "status": self.status,
            "categories": list(self.categories),
            "dedup": self.dedup,
            "threshold": self.threshold if self.dedup else None,
            "allow_short": self.allow_short,
            "verified_only": self.verified_only,
            "source": self.source,
            "format": self.format,
        }


@dataclass
class ExportResult:
    manifest: dict
    out: Path
    shortfalls: list[DeviceShortfall]
    dedup_saved: dict | None  # the dedup state stored after recomputing clusters, if any


def export(store, opts: ExportOptions, on_progress: Callable[[str, int, int], None] | None = None) -> ExportResult:
    """Write the export under ``opts.out``; raise ExportError (nothing written) if it cannot."""
    _check(store, opts)
    reps, dedup_info, dedup_run = _representatives(store, opts) if opts.dedup else (None, None, None)
    devices: dict[str, dict] = {}
    shortfalls: list[DeviceShortfall] = []
    try:
        with files.Staging(opts.out) as stage:
            stage.folder("")
            for device in opts.devices:
                summary, short = _export_device(store, opts, device, reps, stage, on_progress)
                devices[device] = summary
                if short:
                    shortfalls.append(short)
            if shortfalls and not opts.allow_short:
                raise ExportError(shortfall_message(shortfalls, opts, store.max_run_seed()))
            for fmt in formats.FORMATS.values():  # an earlier export's files this one does not replace
                for device in DEVICES:
                    stage.remove_on_commit(fmt.path(device))
            manifest = _manifest(opts, devices, dedup_info)
            manifest["measures"] = _measures(store, opts)
            stage.write_text(MANIFEST, files.manifest_text(manifest))
            stage.write_text(CARD, files.dataset_card(manifest, list(records.FIELDS), formats.get(opts.format).builder))
            stage.commit()
    except files.OutputError as exc:
        raise ExportError(str(exc)) from None
    saved = neardup.save_clusters(store, dedup_run) if dedup_run is not None else None
    return ExportResult(manifest, Path(opts.out), shortfalls, saved)


def _check(store, opts: ExportOptions) -> None:
    if opts.target_bytes <= 0:
        raise ExportError("--target-mb must be more than 0")
    if opts.status not in EXPORT_STATUSES:
        raise ExportError(f"unknown --status {opts.status!r}; choose from: {', '.join(EXPORT_STATUSES)}")
    if opts.format not in formats.FORMATS:
        raise ExportError(f"unknown --format {opts.format!r}; choose from: {', '.join(formats.FORMATS)}")
    unknown = [d for d in opts.devices if d not in DEVICES]
    if unknown or not opts.devices:
        raise ExportError(f"unknown device {', '.join(unknown) or '(none)'}; choose cpu, cuda or all")
    if opts.categories:
        have = set(store.categories())
        missing = [c for c in opts.categories if c not in have]
        if missing:
            raise ExportError(
                f"no kernels of category {', '.join(missing)} in the store; it has: {', '.join(sorted(have)) or 'none'}"
            )


def _representatives(store, opts: ExportOptions) -> tuple[set[str], dict, neardup.DedupRun | None]:
    """Cluster representatives: the stored ones when current, else computed now (and stored
    only once the export succeeded, so a failed export leaves the store untouched)."""
    state = store.dedup_state()
    if neardup.is_current(state, store.dedup_fingerprint(), opts.threshold):
        info = {k: state[k] for k in ("threshold", "num_perm", "kernels", "clusters")}
        info["removed"] = state["kernels"] - state["clusters"]
        return store.dedup_representatives(), info, None
    run = neardup.compute_clusters(store, opts.threshold)
    c = run.clusters
    info = {"threshold": opts.threshold, "num_perm": neardup.NUM_PERM, "kernels": c.kernels, "clusters": c.clusters,
            "removed": c.removed}  # fmt: skip
    return c.representatives(), info, run


def _lines(store, device: str, ids: list[str], encode) -> Iterator[tuple[dict, bytes]]:
    for row in store.export_rows(device, ids):
        rec = records.record(row)
        yield rec, encode(rec)


def _export_device(store, opts, device, reps, stage, on_progress) -> tuple[dict, DeviceShortfall | None]:
    flt = ExportFilter(device, opts.status, tuple(opts.categories), opts.verified_only, opts.source)
    candidates = store.export_candidates(flt)
    eligible = [(k, c) for k, c in candidates if reps is None or k in reps]
    by_cat: dict[str, list[str]] = defaultdict(list)
    for k, c in eligible:
        by_cat[c].append(k)
    cats = list(opts.categories) if opts.categories else sorted(by_cat)
    if opts.allow_short:
        cats = [c for c in cats if by_cat.get(c)]
    fmt = formats.get(opts.format)
    streams = {c: _lines(store, device, seeded_order(by_cat.get(c, ()), opts.seed), fmt.encode) for c in cats}
    sel = Selection(tuple(sorted(cats)), opts.target_bytes, upper_bound(opts.target_bytes))
    meta = {"warp": set(), "generator": set(), "run_seeds": set(), "origins": Counter(), "verified": Counter()}
    verified_ids = store.verified_ids(device)
    name = fmt.path(device)
    with fmt.sink(stage, name) as out:
        for n, (_cat, (rec, line)) in enumerate(select_balanced(streams, lambda x: len(x[1]), sel.target, sel.upper,
                                                                 sel)):  # fmt: skip
            out.add(rec, line)
            meta["warp"].add(rec["warp_version"])
            meta["generator"].add(rec["generator_version"])
            meta["run_seeds"].add(rec["run_seed"])
            meta["origins"][rec["origin"]] += 1
            if rec["id"] in verified_ids:
                meta["verified"][rec["category"]] += 1
            if on_progress and n % 256 == 0:
                on_progress(device, out.bytes, opts.target_bytes)
    if on_progress:
        on_progress(device, out.bytes, opts.target_bytes)
    counts = sel.counts
    ratio = round(sel.ratio(), 4) if sel.ratio() != float("inf") else None
    summary = {
        "file": name,
        "bytes": out.bytes,
        "records": sel.records,
        "sha256": out.sha256,
        "target_bytes": opts.target_bytes,
        "reached_target": sel.reached,
        "categories": {c: {"records": counts[c], "bytes": sel.bytes[c]} for c in sel.categories},
        "balance": {"min": min(counts.values(), default=0), "max": max(counts.values(), default=0), "ratio": ratio},
        "candidates": len(candidates),
        "eligible": len(eligible),
        "dedup_removed": len(candidates) - len(eligible) if reps is not None else 0,
        "warp_versions": sorted(v for v in meta["warp"] if v),
        "generator_versions": sorted(v for v in meta["generator"] if v),
        "run_seeds": sorted(s for s in meta["run_seeds"] if s is not None),
        "origins": dict(sorted(meta["origins"].items())),
        # exported kernels whose code compiled for this device (curator verify), per category
        "verified": {"records": sum(meta["verified"].values()), "categories": dict(sorted(meta["verified"].items()))},
        "verification_in_store": _verification_in_store(store, device),
    }
    short = None if sel.reached else compute_shortfall(store, device, sel, by_cat, cats, len(candidates), len(eligible))
    return summary, short


def _manifest(opts: ExportOptions, devices: dict[str, dict], dedup_info: dict | None) -> dict:
    return {
        "curator_version": __version__,
        "created_at": files.creation_time(),
        "git_revision": files.git_revision(),
        "arguments": opts.arguments(),
        "seed": opts.seed,
        "warp_versions": sorted({v for d in devices.values() for v in d["warp_versions"]}),
        "generator_versions": sorted({v for d in devices.values() for v in d["generator_versions"]}),
        "run_seeds": sorted({s for d in devices.values() for s in d["run_seeds"]}),
        "dedup": dedup_info,
        "fields": list(records.KEYS),
        "devices": devices,
    }


def _measures(store, opts: ExportOptions) -> dict:
    """Builtin coverage and kernel shape of the store the export is drawn from (`curator stats`)."""
    from curator import measures

    return {
        "scope": "store",
        "coverage": measures.coverage_of(store, opts.source),
        "profile": measures.profiles_of(store),
    }


def _verification_in_store(store, device: str) -> dict:
    """Verified counts and pass rates of the whole store for one device, per category."""
    rows = [r for r in store.verification_stats() if r["device"] == device]
    verified = sum(r["verified"] for r in rows)
    passed = sum(r["passed"] for r in rows)
    return {
        "verified": verified,
        "passed": passed,
        "pass_rate": passed / verified if verified else None,
        "categories": {r["category"]: {k: r[k] for k in ("verified", "passed", "pass_rate")} for r in rows},
    }
