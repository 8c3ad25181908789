"""`curator export`: category-balanced JSONL per device, manifest.json and a dataset card."""

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
    required=True,
    help="Size of each device's JSONL in MiB (1 MiB = 1,048,576 bytes); lands within +1 %.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("exports"),
    show_default=True,
    help="Output folder: DEVICE/warp_kernels_DEVICE.jsonl, manifest.json, README.md.",
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
    help="Only kernels whose code compiled for that device (see `curator verify`).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(tuple(FORMATS)),
    default=DEFAULT_FORMAT,
    show_default=True,
    help="File format of each device's data.",
)
@db_option
def command(device, target_mb, out, seed, dedup, threshold, status, categories, allow_short, source, verified_only,
            fmt, db):  # fmt: skip
    """Write balanced JSONL (equal kernels per category) of the stored kernels, per device.

    Rejected kernels are never exported.  Files are written under temporary names and moved
    into place at the end, so an interrupted or failed export leaves the previous files.
    """
    from curator import export as exp

    opts = exp.ExportOptions(
        out=out, devices=devices_of(device), target_bytes=int(target_mb * exp.MIB), seed=seed, status=status,
        categories=tuple(dict.fromkeys(categories)), dedup=dedup, threshold=threshold, allow_short=allow_short,
        source=source, verified_only=verified_only, format=fmt, db=str(db),
    )  # fmt: skip
    if opts.target_bytes <= 0:
        raise click.UsageError("--target-mb is below one byte")
    with open_store(db) as store, interruptible("export"):
        try:
            result = exp.export(store, opts)
        except exp.ExportError as exc:
            raise click.ClickException(str(exc)) from None
    m = result.manifest
    if m["dedup"]:
        d = m["dedup"]
        click.echo(f"dedup at {d['threshold']}: {d['kernels']:,} kernels in {d['clusters']:,} clusters "
                   f"({d['removed']:,} near-duplicates left out)")  # fmt: skip
    for dev, s in m["devices"].items():
        b = s["balance"]
        click.echo(f"{dev}: {s['records']:,} kernels, {mib(s['bytes'])} in {out / s['file']} "
                   f"({len(s['categories'])} categories, {b['min']}-{b['max']} each)")  # fmt: skip
    if result.shortfalls:
        click.echo(f"warning: short of the target, written as is (--allow-short): "
                   f"{exp.shortfall_summary(result.shortfalls)}", err=True)  # fmt: skip
    click.echo(f"manifest: {out / exp.MANIFEST}, card: {out / exp.CARD}")
