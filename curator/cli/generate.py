"""`curator generate`: random Warp kernels and their generated CPU/CUDA code into the store."""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

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
    workers_option,
)
from curator.cli.progress import progress_bar
from curator.cli.scale import pool_factory_of, ray_option
from curator.records import MIB
from curator.scale import parse_shard

if TYPE_CHECKING:
    from curator.store import Store


def _categories():
    from curator.kernels import CATEGORIES

    return CATEGORIES


class CategoryType(click.ParamType):
    name = "CATEGORY"

    def convert(self, value, param, ctx):
        cats = _categories()
        if value not in cats:
            self.fail(f"unknown category {value!r}; choose from: {', '.join(cats)}", param, ctx)
        return value


@click.command("generate")
@device_option("Generate code for the CPU, for CUDA, or both from one build of each kernel.")
@click.option("--count", type=click.IntRange(min=1), help="Kernels of the seed's sequence to have stored.")
@click.option(
    "--target-mb",
    type=click.FloatRange(min=0, min_open=True),
    help="Stop when the stored code of each device reaches this many MiB.",
)
@seed_option("Seed of the kernel sequence (the same seed gives the same kernels).")
@workers_option("Worker processes running Warp codegen.")
@category_option("Only this category (repeatable).  [default: all]", CategoryType())
@click.option(
    "--style",
    type=click.Choice(["realistic", "stress"]),
    default="realistic",
    show_default=True,
    help="realistic: kernels shaped like real Warp code (generator 2); stress: generator 1's dense fuzzer "
    "output (its 20 categories), for robustness data.",
)
@click.option(
    "--verify-sample",
    type=click.FloatRange(min=0, max=1, min_open=True),
    default=None,
    help="Compile this share of the new kernels as the run goes (see `curator verify`).",
)
@ray_option
@click.option(
    "--shard",
    metavar="I/N",
    default=None,
    help="Make only part I of N of the run's plan (plan indices i with i % N == I; needs --count); "
    "`curator merge` combines the N stores into the unsharded run's store.",
)
@db_option
def command(device, count, target_mb, seed, workers, categories, style, verify_sample, ray, shard, db):
    """Generate random, type-correct Warp kernels and store their CPU and/or CUDA code.

    Exactly one of --count and --target-mb.  Batches are committed as they finish, so Ctrl-C
    or a kill loses nothing committed; the same command again resumes without duplicates.
    """
    if (count is None) == (target_mb is None):
        raise click.UsageError("give exactly one of --count N or --target-mb M")
    shard_of = _shard(shard, target_mb)
    from curator import generate

    devices = devices_of(device)
    cats = _chosen_categories(categories, style)
    pool_factory, cluster_cpus = pool_factory_of(ray)
    workers = workers or cluster_cpus or os.cpu_count() or 1
    arguments = {"device": device, "count": count, "target_mb": target_mb, "seed": seed, "workers": workers}
    arguments |= {"categories": list(cats), "style": style, "verify_sample": verify_sample}
    arguments |= ({"ray": ray} if ray else {}) | ({"shard": shard} if shard else {})
    goal = len(range(shard_of[0], count, shard_of[1])) if shard_of and count else count
    store = open_store(db, create=True)
    with store, interruptible("generate"), _progress(goal, target_mb) as on_progress:
        verifier = _verifier(store, devices, workers, verify_sample, seed, pool_factory)
        on_batch = None
        if verifier:
            from curator.verify import sample

            def on_batch(ids):
                verifier.submit(sample(ids, verify_sample, seed))
                verifier.collect()

        try:
            p = generate.run(
                store,
                devices=devices,
                seed=seed,
                categories=cats,
                workers=workers,
                count=count,
                target_mb=target_mb,
                arguments=arguments,
                on_progress=on_progress,
                on_batch=on_batch,
                shard=shard_of,
                pool_factory=pool_factory,
                style=style,
            )
        except BaseException:  # a CuratorError becomes its one line in curator.cli
            if verifier:
                verifier.shutdown(wait_for_workers=False)
            raise
        report = verifier.close() if verifier else None
    _summary(p, devices, report)


def _chosen_categories(categories: tuple[str, ...], style: str) -> tuple[str, ...]:
    """The run's categories, in the generator's order; a usage error for one the style lacks."""
    from curator.kernels import categories_for

    allowed = categories_for(style)
    if any(c not in allowed for c in categories):
        bad = next(c for c in categories if c not in allowed)
        raise click.UsageError(f"category {bad!r} has no {style} style; choose from: {', '.join(allowed)}")
    return tuple(c for c in allowed if c in categories) if categories else allowed


def _summary(p, devices: tuple[str, ...], report) -> None:
    secs = p.as_dict()["seconds"]
    made = p.attempted - p.skipped
    click.echo(
        f"{p.new_kernels} new kernels, {p.new_artifacts} new artifacts, {p.skipped} already stored, "
        f"{p.duplicates} duplicates, {p.failures} failures in {secs:.1f} s"
        + (f" ({made / secs:.0f} kernels/s)" if secs and made else "")
    )
    for d in devices:
        click.echo(f"  {d}: {mib(p.bytes_total.get(d, 0))} stored ({mib(p.bytes_new.get(d, 0))} new)")
    if report is not None:
        for d, c in report.devices.items():
            click.echo(f"  verified {d}: {c.passed} passed, {c.failed} failed ({c.compiler})")
        if report.failures:
            raise click.ClickException(
                f"{len(report.failures)} sampled kernels failed to compile; see `curator verify --failures`"
            )


def _shard(text, target_mb):
    """--shard I/N as (I, N), or None; a usage error for a malformed one or with --target-mb."""
    if text is None:
        return None
    if target_mb is not None:
        raise click.UsageError("--shard needs --count (a size target cannot be split exactly between shards)")
    try:
        return parse_shard(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--shard") from None


def _verifier(store: Store, devices, workers, fraction, seed, pool_factory=None):
    """A background compiler pool for --verify-sample (None without it)."""
    if not fraction:
        return None
    from curator import verify

    try:
        return verify.Verifier(store, devices, workers=max(1, workers // 2), pool_factory=pool_factory)
    except verify.VerifyError as exc:
        raise click.ClickException(str(exc)) from None


@contextlib.contextmanager
def _progress(count, target_mb):
    """A rich progress bar (kernels/s and MiB) that the run updates after each batch."""
    with progress_bar("generate", count if count is not None else target_mb) as bar:

        def update(p):
            secs = p.as_dict()["seconds"] or 1e-9
            made = p.attempted - p.skipped
            mibs = {d: b / MIB for d, b in p.bytes_total.items()}
            done = p.done if count is not None else min(mibs.values())
            info = f"{made / secs:6.1f} kernels/s  " + "  ".join(f"{d} {m:.1f} MiB" for d, m in mibs.items())
            bar(completed=done, info=info)

        yield update
