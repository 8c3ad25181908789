"""Running an export: check the options, pick near-duplicate representatives, drop contaminated
kernels, assign kernels to splits, select a category-balanced set per config and split, write
it in every chosen format, then the manifest and the dataset card (all staged, moved into place
together; a different complete release already there is refused unless ``force``).

The same store and options give byte-identical data files and card: no timestamps in them,
kernels ordered by ``seed`` (see ``select.seeded_order``) and taken round-robin over the
sorted categories.  Only the manifest's ``created_at`` varies, unless SOURCE_DATE_EPOCH is set.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curator import __version__, neardup
from curator.errors import CuratorError
from curator.export import card, decontaminate, files, formats, records, release, splits
from curator.export.release import CARD, MANIFEST
from curator.export.shortfall import DeviceShortfall, compute_shortfall, shortfall_message
from curator.export.write import PAIRED, SplitJob, config_devices, config_keys, write_split
from curator.records import DEVICES, MIB
from curator.store.exports import EXPORT_STATUSES, ExportFilter

if TYPE_CHECKING:
    from curator.neardup import DedupRun
    from curator.store import Store

# Splits other than train stop at the record that reaches their share of the target (no upper
# bound: they hold few records, 5 % of 200 MiB is ~190 of ~60 KiB, so +1 % would be luck).
HOLDOUT_TARGET = 1 << 62  # holdout: every eligible kernel (balanced), no size target


class ExportError(CuratorError):
    """The export cannot be done as asked (one sentence for the user); nothing was written."""


@dataclass
class ExportOptions:
    out: Path
    devices: tuple[str, ...]
    target_bytes: int  # of each config's train split (the only split without --splits)
    seed: int = 0
    status: str = "unrejected"  # unrejected: everything not rejected; accepted: accepted only
    categories: tuple[str, ...] = ()  # empty: every category with an eligible kernel
    dedup: bool = False
    threshold: float = neardup.DEFAULT_THRESHOLD
    allow_short: bool = False
    verified_only: bool = False
    source: str = "all"  # synthetic | real | all
    format: str = formats.DEFAULT_FORMAT  # one per export: `datasets` reads one format per folder
    splits: dict[str, float] | None = None  # name -> share (train first); None: one train split
    holdout: tuple[str, ...] = ()  # categories of the held-out split
    paired: bool = False  # also the `paired` config (needs both devices)
    decontaminate: bool = False
    reference: Path | None = None  # None: the real kernels in the store
    force: bool = False  # replace a different complete export in ``out``
    db: str = "curator.db"  # only for the `curator generate` hint of a shortfall
    benchmark: dict | None = None  # `curator eval figures` of this release, for the manifest and card
    # What the card shows of the store (builtin coverage, kernel shape): the measure stage's
    # ``curator.measure.measures.RELEASE``, passed in by the command (a stage imports no other stage).
    describe: card.Describe | None = None

    @property
    def configs(self) -> tuple[str, ...]:
        return (*self.devices, PAIRED) if self.paired else self.devices

    def split_names(self) -> list[str | None]:
        """The splits to write; None is the single split of an export without splits."""
        if self.splits is None and not self.holdout:
            return [None]
        return [*(self.splits or {splits.TRAIN: 1.0}), *([splits.HOLDOUT] if self.holdout else [])]

    def arguments(self) -> dict:
        return {
            "devices": list(self.devices),
            "target_mb": self.target_bytes / MIB,
            "seed": self.seed,
            "status": self.status,
            "categories": list(self.categories),
            "dedup": self.dedup,
            "threshold": self.threshold if (self.dedup or self.decontaminate or self.splits) else None,
            "allow_short": self.allow_short,
            "verified_only": self.verified_only,
            "source": self.source,
            "format": self.format,
            "splits": splits.format_splits(self.splits) if self.splits else None,
            "holdout_categories": list(self.holdout),
            "paired": self.paired,
            "decontaminate": self.decontaminate,
            "reference": str(self.reference) if self.reference else None,
        }


@dataclass
class ExportResult:
    manifest: dict
    out: Path
    shortfalls: list[DeviceShortfall]
    dedup_saved: dict | None  # the dedup state stored after recomputing clusters, if any
    removed: list[str] = field(default_factory=list)  # files of the previous export removed


def export(
    store: Store, opts: ExportOptions, on_progress: Callable[[str, int, int], None] | None = None
) -> ExportResult:
    """Write the export under ``opts.out``; raise ExportError (nothing written) if it cannot."""
    prep = prepare(store, opts)
    dedup_info, dedup_run, decon = prep.dedup_info, prep.dedup_run, prep.decon
    eligible, assignment = prep.eligible, prep.assignment
    fmt = formats.get(opts.format)
    configs: dict[str, dict] = {}
    shortfalls: list[DeviceShortfall] = []
    try:
        with files.Staging(opts.out) as stage:
            stage.folder("")
            for config in opts.configs:
                configs[config] = _export_config(
                    store, opts, config, eligible[config], assignment, fmt, stage, shortfalls, on_progress
                )
            if shortfalls and not opts.allow_short:
                raise ExportError(shortfall_message(shortfalls, opts, store.max_run_seed()))
            manifest = _manifest(opts, configs, dedup_info, decon, assignment)
            for device, d in manifest["devices"].items():
                d["verification_in_store"] = _verification_in_store(store, device)
            describe = opts.describe
            if describe is not None:
                manifest["measures"] = describe.measures(store, opts.source)
            if opts.benchmark:
                manifest["benchmark"] = opts.benchmark
            text = card.dataset_card(manifest, describe.markdown if describe is not None else None)
            written = stage.write_text(CARD, text)
            manifest["files"][CARD] = {"bytes": written.bytes, "sha256": written.sha256}
            stage.write_text(MANIFEST, release.seal(manifest))
            old = _previous(opts, manifest)
            stage.commit()
    except files.OutputError as exc:
        raise ExportError(str(exc)) from None
    removed = release.remove_stale(opts.out, old, manifest)
    saved = neardup.save_clusters(store, dedup_run) if dedup_run is not None else None
    return ExportResult(manifest, Path(opts.out), shortfalls, saved, removed)


@dataclass
class Prepared:
    """What every config's selection starts from: near-duplicate clusters, decontamination, the
    eligible kernels per config and their split assignment."""

    clusters: dict[str, str]
    dedup_info: dict | None
    dedup_run: DedupRun | None
    decon: dict | None
    eligible: dict[str, Eligible]
    assignment: dict[str, str]


def prepare(store: Store, opts: ExportOptions) -> Prepared:
    """Check ``opts`` and compute what the selection needs.  Splits are assigned over the kernels
    eligible without ``verified_only``, so a kernel's split does not depend on which other kernels
    were verified: a `--verified-only` export draws, per split, from the same kernels as the
    export planned for verification (``curator.export.plan``)."""
    _check(store, opts)
    clusters, dedup_info, dedup_run = _clusters(store, opts)
    reps = {r for r in clusters.values()} if opts.dedup else None
    dropped, decon = _decontaminate(store, opts)
    eligible = {c: _eligible(store, opts, c, reps, dropped) for c in opts.configs}
    unfiltered = eligible
    if opts.verified_only:
        everything = replace(opts, verified_only=False)
        unfiltered = {c: _eligible(store, everything, c, reps, dropped) for c in opts.configs}
    assignment = _assign(store, opts, unfiltered, clusters)
    return Prepared(clusters, dedup_info, dedup_run, decon, eligible, assignment)


def _check(store: Store, opts: ExportOptions) -> None:
    if opts.target_bytes <= 0:
        raise ExportError("--target-mb must be more than 0")
    if opts.status not in EXPORT_STATUSES:
        raise ExportError(f"unknown --status {opts.status!r}; choose from: {', '.join(EXPORT_STATUSES)}")
    if opts.format not in formats.FORMATS:
        raise ExportError(f"unknown --format {opts.format!r}; choose from: {', '.join(formats.FORMATS)}")
    unknown = [d for d in opts.devices if d not in DEVICES]
    if unknown or not opts.devices:
        raise ExportError(f"unknown device {', '.join(unknown) or '(none)'}; choose cpu, cuda or all")
    if opts.paired and set(opts.devices) != set(DEVICES):
        raise ExportError("--paired needs both devices (--device all)")
    have = set(store.categories())
    for name, cats in (("category", opts.categories), ("holdout category", opts.holdout)):
        missing = [c for c in cats if c not in have]
        if missing:
            raise ExportError(
                f"no kernels of {name} {', '.join(missing)} in the store; it has: {', '.join(sorted(have)) or 'none'}"
            )
    if opts.categories and opts.holdout and not set(opts.categories) - set(opts.holdout):
        raise ExportError("every --category is held out: nothing is left for the other splits")


def _clusters(store: Store, opts: ExportOptions) -> tuple[dict[str, str], dict | None, neardup.DedupRun | None]:
    """kernel id -> cluster representative (empty when neither --dedup nor splits need them):
    the stored clusters when current, else computed now (and stored only once the export
    succeeded, so a failed export leaves the store untouched)."""
    if not (opts.dedup or opts.split_names() != [None]):
        return {}, None, None
    state = store.dedup_state()
    if state is not None and neardup.is_current(state, store.dedup_fingerprint(), opts.threshold):
        info = {k: state[k] for k in ("threshold", "num_perm", "kernels", "clusters")}
        info["removed"] = state["kernels"] - state["clusters"]
        return store.cluster_representatives(), info if opts.dedup else None, None
    run = neardup.compute_clusters(store, opts.threshold)
    c = run.clusters
    info = {
        "threshold": opts.threshold,
        "num_perm": neardup.NUM_PERM,
        "kernels": c.kernels,
        "clusters": c.clusters,
        "removed": c.removed,
    }
    return dict(zip(c.ids, c.representative, strict=True)), info if opts.dedup else None, run


def _decontaminate(store: Store, opts: ExportOptions) -> tuple[dict[str, str], dict | None]:
    if not opts.decontaminate:
        return {}, None
    try:
        ref = decontaminate.path_reference(opts.reference) if opts.reference else decontaminate.store_reference(store)
    except decontaminate.BadReference as exc:
        raise ExportError(str(exc)) from None
    if not ref.kernels:
        raise ExportError(
            "--decontaminate: the store holds no real kernels to compare against; run "
            "`curator ingest --package warp` first or pass --reference PATH"
        )
    dropped = decontaminate.contaminated(store, ref, opts.threshold)
    checked = len(store.signature_rows("synthetic"))
    return dropped, decontaminate.summary(ref, opts.threshold, checked, dropped)


@dataclass
class Eligible:
    """The kernels a config may export: (id, category) of the candidates and of the eligible."""

    candidates: list[tuple[str, str]]
    kernels: list[tuple[str, str]]
    dedup_removed: int
    decontaminated: int


def _eligible(store: Store, opts: ExportOptions, config: str, reps, dropped) -> Eligible:
    per_device = []
    for device in config_devices(config):
        flt = ExportFilter(device, opts.status, tuple(opts.categories), opts.verified_only, opts.source)
        per_device.append(store.export_candidates(flt))
    common = set.intersection(*({k for k, _ in rows} for rows in per_device))
    candidates = [(k, c) for k, c in per_device[0] if k in common]
    after_dedup = [(k, c) for k, c in candidates if reps is None or k in reps]
    kernels = [(k, c) for k, c in after_dedup if k not in dropped]
    return Eligible(candidates, kernels, len(candidates) - len(after_dedup), len(after_dedup) - len(kernels))


def _assign(
    store: Store, opts: ExportOptions, eligible: dict[str, Eligible], clusters: dict[str, str]
) -> dict[str, str]:
    """kernel id -> split, one assignment for every config (a kernel's split is the same in
    cpu, cuda and paired); empty for an export without splits."""
    if opts.split_names() == [None]:
        return {}
    cats = {k: c for e in eligible.values() for k, c in e.kernels}
    skeletons = store.skeleton_hashes(list(cats))
    keys = [splits.KernelKeys(k, c, clusters.get(k, k), skeletons.get(k) or k) for k, c in cats.items()]
    return splits.assign(keys, opts.splits or {splits.TRAIN: 1.0}, opts.seed, opts.holdout)


def _export_config(store: Store, opts, config, elig: Eligible, assignment, fmt, stage, shortfalls, on_progress) -> dict:
    verified = set.intersection(*(store.verified_ids(d) for d in config_devices(config)))
    ran_on_cpu = frozenset(store.ran_ids("cpu"))  # the kernel ran (or is not-runnable) on the CPU
    names = opts.split_names()
    shares = opts.splits or {splits.TRAIN: 1.0}
    out: dict[str, Any] = {
        "devices": list(config_devices(config)),
        "fields": list(config_keys(config)),
        "candidates": len(elig.candidates),
        "eligible": len(elig.kernels),
        "dedup_removed": elig.dedup_removed,
        "decontaminated": elig.decontaminated,
        "splits": {},
    }
    upper: int | None
    for split in names:
        by_cat: dict[str, list[str]] = defaultdict(list)
        for k, c in elig.kernels:
            if split is None or assignment.get(k) == split:
                by_cat[c].append(k)
        if split == splits.HOLDOUT:
            cats = [c for c in opts.holdout if by_cat.get(c)] if opts.allow_short else list(opts.holdout)
            target = upper = HOLDOUT_TARGET
        else:
            cats = [c for c in (opts.categories or sorted({c for _, c in elig.kernels})) if c not in opts.holdout]
            if opts.allow_short:
                cats = [c for c in cats if by_cat.get(c)]
            target = (
                opts.target_bytes
                if split in (None, splits.TRAIN)
                else round(opts.target_bytes * shares[split] / shares[splits.TRAIN])
            )
            upper = None if split in (None, splits.TRAIN) else HOLDOUT_TARGET
        job = SplitJob(config, split, by_cat, cats, target, upper)
        summary, sel = write_split(store, job, fmt, stage, opts.seed, verified, on_progress, ran_on_cpu)
        out["splits"][split or splits.TRAIN] = summary
        if not sel.reached and split != splits.HOLDOUT:
            device = config if config != PAIRED else "all"
            short = compute_shortfall(store, device, sel, by_cat, cats, len(elig.candidates), len(elig.kernels))
            short.label = f"{config}/{split}" if split else config
            shortfalls.append(short)
    return out


def _manifest(opts: ExportOptions, configs: dict[str, dict], dedup_info, decon, assignment) -> dict:
    splits_all = [s for c in configs.values() for s in c["splits"].values()]
    devices = {
        d: {
            **configs[d]["splits"][splits.TRAIN],
            **{k: configs[d][k] for k in ("candidates", "eligible", "dedup_removed", "decontaminated")},
        }
        for d in opts.devices
    }
    data = {s["file"]: {"bytes": s["file_bytes"], "sha256": s["sha256"]} for s in splits_all}
    return {
        "curator_version": __version__,
        "created_at": files.creation_time(),
        "git_revision": files.git_revision(),
        "arguments": opts.arguments(),
        "seed": opts.seed,
        "warp_versions": sorted({v for s in splits_all for v in s["warp_versions"]}),
        "generator_versions": sorted({v for s in splits_all for v in s["generator_versions"]}),
        "run_seeds": sorted({r for s in splits_all for r in s["run_seeds"]}),
        "dedup": dedup_info,
        "decontamination": decon,
        "splits": _split_info(opts, assignment),
        "format": opts.format,
        "builder": formats.get(opts.format).builder,
        "fields": list(records.KEYS),
        "configs": configs,
        "devices": devices,
        "files": dict(sorted(data.items())),
    }


def _split_info(opts: ExportOptions, assignment: dict[str, str]) -> dict | None:
    if not assignment and opts.split_names() == [None]:
        return None
    pool: dict[str, int] = defaultdict(int)
    for split in assignment.values():
        pool[split] += 1
    return {
        "shares": [[k, v] for k, v in (opts.splits or {splits.TRAIN: 1.0}).items()],  # in the order given
        "holdout_categories": list(opts.holdout),
        "grouped_by": ["near-duplicate cluster", "normalised skeleton"],
        "threshold": opts.threshold,
        "eligible_kernels": dict(sorted(pool.items())),  # kernels each split could draw from
    }


def _previous(opts: ExportOptions, manifest: dict) -> dict | None:
    """The manifest of the export already in the folder (its files not in the new export are
    removed after the commit); ExportError when it is a complete export with other data and
    ``force`` is off: a release is immutable once written."""
    try:
        old = release.load_manifest(opts.out)
    except release.NotAnExport:
        return None
    if opts.force or release.data_files(old) == release.data_files(manifest):
        return old
    if release.complete_export(opts.out) is not None:
        raise ExportError(
            f"{opts.out} holds a different export (release); pass --force to replace it, or export to another folder"
        )
    return old


def _verification_in_store(store: Store, device: str) -> dict:
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
