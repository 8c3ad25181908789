"""`curator export`: category-balanced configs (cpu, cuda, paired) and splits in JSONL/Parquet, a sealed
manifest and a dataset card; `--check` re-verifies an export."""

from __future__ import annotations

from pathlib import Path

import click

from curator.cli.common import (
    category_option,
    db_option,
    device_option,
    devices_of,
    interruptible,
    mib,
    open_store,
    seed_option,
    threshold_option,
)
from curator.export.formats import DEFAULT_FORMAT, FORMATS
from curator.store.exports import EXPORT_STATUSES


@click.command("export")
@device_option("Export the CPU code, the CUDA code, or one file of each.")
@click.option(
    "--target-mb",
    type=click.FloatRange(min=0, min_open=True),
    help="Size of each config's train split in MiB (1 MiB = 1,048,576 bytes) of JSONL-encoded records, whatever "
    "the format; lands within +1 %.  Other splits are sized by their share.  [required unless --check]",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("exports"),
    show_default=True,
    help="Output folder: CONFIG/warp_kernels_CONFIG[_SPLIT].FORMAT, manifest.json, README.md.  A different "
    "complete export already there is refused unless --force; files of the previous export not written again "
    "are removed.",
)
@seed_option("Seed of the selection order (the same store and seed give identical files).")
@click.option("--dedup", is_flag=True, help="Export one kernel per near-duplicate cluster (see `curator dedup`).")
@threshold_option("Jaccard threshold of --dedup clusters (recomputed when it or the store changed).")
@click.option(
    "--status",
    type=click.Choice(EXPORT_STATUSES),
    default="unrejected",
    show_default=True,
    help="unrejected: every kernel not rejected in review; accepted: accepted kernels only.",
)
@category_option("Only this category (repeatable).  [default: every category with an eligible kernel]")
@click.option(
    "--allow-short",
    is_flag=True,
    help="If the store cannot fill the target with balanced categories, write what there is.",
)
@click.option(
    "--source",
    type=click.Choice(("synthetic", "real", "all")),
    default="synthetic",
    show_default=True,
    help="Generated kernels, real ones from `curator ingest`, or both (balance then spans the real "
    "kernels' categories too, such as tile and geometry, which `curator generate` cannot fill).",
)
@click.option(
    "--verified-only",
    is_flag=True,
    help="Only kernels whose code compiled for that device and that ran on the CPU (or are not runnable there, "
    "with a reason); see `curator verify --execute`.",
)
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write nothing but this file: the ids of the kernels this export would select (as if "
    "without --verified-only), plus --plan-margin, for `curator verify --ids-from FILE`.",
)
@click.option(
    "--plan-margin",
    type=click.FloatRange(min=0, max=1),
    default=0.05,
    show_default=True,
    help="With --plan: plan this share more bytes per split, and 2 more kernels per category and "
    "split (spares for kernels that fail verification).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(tuple(FORMATS)),
    default=DEFAULT_FORMAT,
    show_default=True,
    help="File format (one per export: `datasets` reads one format per folder).  Sizes count the records as JSONL "
    "in every format, so a Parquet export holds the records of the JSONL export with the same arguments.",
)
@click.option(
    "--splits",
    "splits_text",
    metavar="NAME=SHARE,...",
    help="Cut splits, e.g. train=0.9,validation=0.05,test=0.05: no near-duplicate cluster or skeleton in "
    "two splits, categories balanced in each; --target-mb sizes train.",
)
@click.option(
    "--holdout-category",
    "holdout",
    multiple=True,
    help="Put this category (repeatable) in a `holdout` split of its own.",
)
@click.option(
    "--paired", is_flag=True, help="Also a `paired` config: one row per kernel with the Python, CPU and CUDA."
)
@click.option(
    "--decontaminate",
    is_flag=True,
    help="Drop synthetic kernels within --threshold of a reference kernel (the real kernels in the store, "
    "or --reference).",
)
@click.option(
    "--reference",
    type=click.Path(exists=True, path_type=Path),
    help="Reference kernels for --decontaminate: JSONL with a `source` field, a .py file or a folder of them.",
)
@click.option("--force", is_flag=True, help="Replace a different complete export in --out.")
@click.option(
    "--benchmark",
    "benchmark_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Benchmark figures `curator eval figures` measured on this release, for the manifest and card.",
)
@click.option(
    "--check",
    "check_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Re-verify the export in this folder against its manifest (sizes, SHA-256, no extra files); "
    "nothing is written.",
)
@db_option
def command(
    device,
    target_mb,
    out,
    seed,
    dedup,
    threshold,
    status,
    categories,
    allow_short,
    source,
    verified_only,
    plan_file,
    plan_margin,
    fmt,
    splits_text,
    holdout,
    paired,
    decontaminate,
    reference,
    force,
    benchmark_file,
    check_dir,
    db,
):
    """Write balanced data (equal kernels per category) of the stored kernels, per config and split.

    Rejected kernels are never exported.  Files are written under temporary names and moved
    into place at the end, so an interrupted or failed export leaves the previous files.
    """
    from curator import export as exp

    if check_dir is not None:
        _check(check_dir)
        return
    if target_mb is None:
        raise click.UsageError("Missing option '--target-mb'.")
    if reference is not None and not decontaminate:
        raise click.UsageError("--reference is the reference set of --decontaminate; pass both")
    try:
        shares = exp.parse_splits(splits_text) if splits_text is not None else None
    except exp.SplitError as exc:
        raise click.UsageError(str(exc)) from None
    from curator.measure.measures import RELEASE

    values = dict(out=out, devices=devices_of(device), target_bytes=int(target_mb * exp.MIB), seed=seed)
    values |= dict(status=status, categories=tuple(dict.fromkeys(categories)), dedup=dedup, threshold=threshold)
    values |= dict(allow_short=allow_short, source=source, verified_only=verified_only, format=fmt, splits=shares)
    values |= dict(holdout=tuple(dict.fromkeys(holdout)), paired=paired, decontaminate=decontaminate)
    values |= dict(reference=reference, force=force, db=str(db), describe=RELEASE)
    values["benchmark"] = _benchmark(benchmark_file)
    opts = exp.ExportOptions(**values)
    if opts.target_bytes <= 0:
        raise click.UsageError("--target-mb is below one byte")
    if plan_file is not None:
        _plan(db, opts, plan_file, plan_margin)
        return
    with open_store(db) as store, interruptible("export"):
        result = exp.export(store, opts)
    _tell(result, out)


def _tell(result, out: Path) -> None:
    """What an export wrote: dedup and decontamination figures, each config's splits."""
    from curator import export as exp

    m = result.manifest
    if m["dedup"]:
        d = m["dedup"]
        click.echo(
            f"dedup at {d['threshold']}: {d['kernels']:,} kernels in {d['clusters']:,} clusters "
            f"({d['removed']:,} near-duplicates left out)"
        )
    if m["decontamination"]:
        d = m["decontamination"]
        click.echo(
            f"decontaminated: {d['dropped']:,} of {d['synthetic_checked']:,} synthetic kernels dropped "
            f"(against {d['reference']})"
        )
    for config, c in m["configs"].items():
        for split, s in c["splits"].items():
            b = s["balance"]
            name = f"{config} {split}" if m["splits"] else config
            click.echo(
                f"{name}: {s['records']:,} kernels, {mib(s['bytes'])} in {out / s['file']} "
                f"({len(s['categories'])} categories, {b['min']}-{b['max']} each)"
            )
    for rel in result.removed:
        click.echo(f"removed {out / rel} (previous export)")
    if result.shortfalls:
        click.echo(
            f"warning: short of the target, written as is (--allow-short): {exp.shortfall_summary(result.shortfalls)}",
            err=True,
        )
    click.echo(f"manifest: {out / exp.MANIFEST}, card: {out / exp.CARD}")


def _plan(db, opts, path: Path, margin: float) -> None:
    """`--plan FILE`: the ids to verify before a --verified-only export, one line of figures."""
    from curator import export as exp
    from curator.export import plan

    with open_store(db) as store, interruptible("export --plan"):
        try:
            p = plan.plan(store, opts, margin)
        except exp.ExportError as exc:
            raise click.ClickException(str(exc)) from None
    try:
        plan.write_plan(path, p)
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror or exc}") from None
    per = ", ".join(f"{c} {n:,}" for c, n in p.per_config.items())
    short = f"; short even unverified: {', '.join(p.short)}" if p.short else ""
    click.echo(f"plan: {len(p.ids):,} kernels ({per} records, {margin:.0%} margin) in {path}{short}")


def _check(folder: Path) -> None:
    """`--check`: one line, exit 1 on any mismatch."""
    from curator import export as exp

    try:
        res = exp.check(folder)
    except exp.NotAnExport as exc:
        raise click.ClickException(str(exc)) from None
    if res.ok:
        click.echo(f"OK: {folder}: {res.files} files, {mib(res.bytes)}, match {exp.MANIFEST}")
        return
    more = f" (and {len(res.problems) - 3} more)" if len(res.problems) > 3 else ""
    raise click.ClickException(f"{folder} does not match its {exp.MANIFEST}: {'; '.join(res.problems[:3])}{more}")


def _benchmark(path: Path | None) -> dict | None:
    """The ``benchmark`` of a `curator eval figures` file; one line if it is not one."""
    if path is None:
        return None
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise click.ClickException(f"--benchmark: cannot read {path}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("benchmark"), dict):
        raise click.ClickException(f"--benchmark: {path} is not a `curator eval figures` file")
    return data["benchmark"]
