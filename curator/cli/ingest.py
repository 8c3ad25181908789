"""`curator ingest`: real @wp.kernel definitions from existing files, folders or installed
packages, with their generated CPU/CUDA code and provenance, into the store."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import click

from curator.cli.common import (
    db_option,
    device_option,
    devices_of,
    interruptible,
    json_option,
    mib,
    open_store,
    workers_option,
)
from curator.cli.progress import progress_bar
from curator.cli.scale import ray_option, ray_worker_factory_of
from curator.scale import ClusterError


@click.command("ingest")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--package",
    "packages",
    multiple=True,
    metavar="NAME",
    help="An installed package (or subpackage, e.g. warp.tests) to ingest (repeatable).",
)
@click.option(
    "--trust", is_flag=True, help="Allow PATHs outside installed packages (their top-level code runs on import)."
)
@device_option("Generate code for the CPU, for CUDA, or both from one build of each kernel.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=60,
    show_default=True,
    help="Seconds a module may stay silent (importing, generating) before its worker is killed.",
)
@workers_option("Modules imported at once, each in its own worker process (results are stored in file order).")
@json_option("Print the summary as JSON.")
@ray_option
@db_option
def command(paths, packages, trust, device, timeout, workers, as_json, ray, db):
    """Store the @wp.kernel definitions found in PATHs (files or folders) and --package NAMEs.

    Each module is IMPORTED in an isolated worker process, which RUNS ITS TOP-LEVEL CODE: PATHs
    outside installed packages therefore need --trust.  Kernels get the same codegen as
    `generate`, origin 'real', provenance (file relative to its root, line, package, version,
    license) and a category from what their AST uses.  Kernels defined inside functions
    (factories) are stored when the module made them at import, else recorded as skipped;
    modules that fail to import, hang or crash the worker are recorded and the run goes on.
    Skips and failures are in the failures table (stages ingest-import, ingest-skip,
    ingest-codegen); `curator stats --failures` lists them.
    """
    if not paths and not packages:
        raise click.UsageError("give at least one PATH or --package NAME")
    from curator import ingest

    try:
        jobs = ingest.find_jobs(list(paths), list(packages), trust=trust)
    except ingest.DiscoverError as exc:
        raise click.UsageError(str(exc)) from None
    if not jobs:
        raise click.ClickException("no @wp.kernel definitions found in the given paths or packages")
    devices = devices_of(device)
    worker_factory = ray_worker_factory_of(ray)
    workers = workers or os.cpu_count() or 1
    arguments = {
        "paths": [str(p) for p in paths],
        "packages": list(packages),
        "device": device,
        "timeout": timeout,
        "trust": trust,
        "workers": workers,
    }
    arguments |= {"ray": ray} if ray else {}
    store = open_store(db, create=True)
    with store, interruptible("ingest"), _progress(len(jobs), as_json) as on_progress:
        try:
            report = ingest.run(
                store,
                jobs,
                devices=devices,
                timeout=timeout,
                arguments=arguments,
                on_progress=on_progress,
                worker_factory=worker_factory,
                workers=workers,
            )
        except (ingest.IngestError, ClusterError) as exc:
            raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
        return
    _summary(report, devices)


def _summary(r, devices) -> None:
    click.echo(
        f"{r.files} files, {r.definitions} @wp.kernel definitions, {r.instances} kernel instances in {r.seconds:.1f} s"
    )
    stored = ", ".join(f"{d} {r.stored.get(d, 0)}" for d in devices)
    click.echo(
        f"stored: {r.stored.get('all', 0)} kernels with code for {'+'.join(devices)} ({stored}); "
        f"{r.new_kernels} new, {r.already_stored} already stored, {r.same_source} instances sharing a source"
    )
    for d in devices:
        click.echo(f"  {d}: {mib(r.new_bytes.get(d, 0))} new code")
    if r.skipped:
        click.echo(f"skipped: {sum(r.skipped.values())}")
        for reason, n in r.skipped.most_common():
            click.echo(f"  {reason}: {n}")
    if r.import_failures:
        click.echo(
            f"modules not imported: {sum(r.import_failures.values())} "
            f"(holding {r.kernels_in_failed_modules} kernel definitions)"
        )
        for exc_type, n in r.import_failures.most_common():
            click.echo(f"  {exc_type}: {n}")


@contextlib.contextmanager
def _progress(total: int, quiet: bool):
    """A transient rich progress bar over modules."""
    if quiet:
        yield None
        return
    with progress_bar("ingest", total, counts=True, transient=True) as bar:

        def update(report, job):
            bar(completed=report.modules_done, info=f"{report.new_kernels} new  {job.rel[-50:]}")

        yield update
