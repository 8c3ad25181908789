"""`curator verify`: compile stored CPU/CUDA code with Warp's bundled compilers (no GPU needed)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from curator.cli.common import (
    category_option,
    db_option,
    device_option,
    devices_of,
    interruptible,
    open_store,
    seed_option,
    workers_option,
)
from curator.cli.scale import pool_factory_of, ray_option
from curator.verify import BATCH_SIZE
from curator.verify.pool import COMPILE_S_PER_KERNEL, COMPILE_TIMEOUT
from curator.warp import DEFAULT_ARCH
from curator.warp.modes import DEFAULT_MODE, MODES

if TYPE_CHECKING:
    from curator.store import Store


@click.command("verify")
@device_option("Compile the CPU C++ (Warp's Clang), the CUDA C++ (NVRTC, to PTX), or both.")
@click.option(
    "--sample",
    "fraction",
    type=click.FloatRange(min=0, max=1, min_open=True),
    help="Verify this share of the kernels, chosen by a hash of --seed and the kernel id.",
)
@click.option("--all", "all_kernels", is_flag=True, help="Verify every kernel (the default).")
@click.option(
    "--ids-from",
    "ids_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Verify only the kernels listed in this file, one id per line (`curator export --plan FILE` writes one).",
)
@seed_option("Seed of the --sample choice.")
@click.option(
    "--origin",
    type=click.Choice(("synthetic", "real")),
    help="Only kernels of this origin: made by the generator, or real (`curator ingest`).",
)
@category_option("Only kernels of this category (repeatable).")
@click.option(
    "--arch",
    type=click.IntRange(min=1),
    default=DEFAULT_ARCH,
    show_default=True,
    help="CUDA architecture (sm_XX) NVRTC compiles for.",
)
@workers_option("Compiler worker processes.")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1, max=1024),
    default=BATCH_SIZE,
    show_default=True,
    help="Kernels per translation unit (a failing batch is bisected).",
)
@click.option(
    "--mode",
    type=click.Choice(sorted(MODES)),
    default=DEFAULT_MODE,
    show_default=True,
    help="full: Warp's own options (-O2 CPU, -O3 CUDA); fast: -O0 CPU, NVRTC's front end alone for CUDA "
    "(docs/verification.md).",
)
@click.option(
    "--compile-timeout",
    type=click.FloatRange(min=1),
    default=COMPILE_TIMEOUT,
    show_default=True,
    help=f"Seconds a compiler worker may take over one batch ({COMPILE_S_PER_KERNEL:g} s a kernel of it if more) "
    "before it counts as hung: it is killed and the batch bisected; a kernel that hangs alone twice is recorded "
    "as failed.",
)
@click.option(
    "--execute",
    is_flag=True,
    help="Also launch every selected kernel on the CPU (random inputs, checksum, pair and adjoint checks).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=60.0,
    show_default=True,
    help="With --execute: seconds one kernel may run before it counts as hung.",
)
@click.option(
    "--no-compile",
    is_flag=True,
    help="With --execute: only the CPU runs, no separate compile.",
)
@click.option(
    "--run",
    "launch",
    is_flag=True,
    help="Also launch each kernel compiled for both devices on CPU and GPU with the same seeded inputs, compare "
    "every array and check that the .cu Warp compiled is the stored CUDA code (needs a GPU; --workers processes).",
)
@click.option(
    "--trust",
    is_flag=True,
    help="With --run, also execute ingested (real) kernels' Python (it runs their code).",
)
@click.option(
    "--failures",
    "show_failures",
    is_flag=True,
    help="Only list the failures stored so far, with the compiler's messages.",
)
@ray_option
@db_option
def command(
    device,
    fraction,
    all_kernels,
    ids_file,
    seed,
    origin,
    categories,
    arch,
    workers,
    batch_size,
    mode,
    compile_timeout,
    execute,
    timeout,
    no_compile,
    launch,
    trust,
    show_failures,
    ray,
    db,
):
    """Compile the stored code of kernels and record, per kernel and device, whether it compiled,
    the compiler's messages, the compiler with its version and options, and the time.

    Many kernels share one translation unit (a failing one is found by bisection), in worker
    processes that keep their precompiled headers.  A rerun skips kernels already verified with
    the same compiler and options; Ctrl-C keeps every finished batch.
    """
    if fraction is not None and all_kernels:
        raise click.UsageError("give at most one of --sample FRACTION and --all")
    devices = devices_of(device)
    if show_failures:
        _list_failures(db, devices)
        return
    from curator import verify
    from curator.cli.verify_output import Printer

    pool_factory, cluster_cpus = pool_factory_of(ray)
    workers = workers or cluster_cpus or os.cpu_count() or 1
    arguments = {"device": device, "sample": fraction, "seed": seed, "origin": origin, "categories": list(categories)}
    arguments |= {"arch": arch, "workers": workers, "batch_size": batch_size, "run": launch, "mode": mode}
    arguments |= {"execute": execute, "compile_timeout": compile_timeout}
    arguments |= {"ray": ray} if ray else {}
    arguments |= {"ids_from": str(ids_file)} if ids_file else {}
    values = dict(fraction=fraction, seed=seed, arch=arch, workers=workers, batch_size=batch_size, mode=mode)
    values |= dict(compile_timeout=compile_timeout, compile=not no_compile, cpu_runs=execute, timeout=timeout)
    values |= dict(launch=launch, trust=trust, pool_factory=pool_factory, arguments=arguments)
    options = verify.Options(devices=devices, **values)
    store = open_store(db)
    with store, interruptible("verify"):
        ids = store.kernel_ids(origin=origin, categories=categories)
        if ids_file:
            wanted = set(ids)
            ids = [k for k in _listed_ids(store, ids_file) if k in wanted]
        outcome = verify.run(store, ids, options, Printer(store, devices))
    if outcome.failed:
        raise click.ClickException(f"{outcome.failed} kernel(s) failed verification; see `curator verify --failures`")


def _list_failures(db, devices: tuple[str, ...]) -> None:
    from curator.cli.verify_output import show_failures

    with open_store(db, readonly=True) as store:
        show_failures(store, devices, limit=50)


def _listed_ids(store: Store, path: Path) -> list[str]:
    """The ids of an --ids-from file; every one must be a stored kernel."""
    from curator.export.plan import read_ids

    try:
        ids = read_ids(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"cannot read --ids-from {path}: {exc}") from None
    missing = set(ids) - store.artifact_ids("cpu", ids) - store.artifact_ids("cuda", ids)
    if missing:
        raise click.ClickException(
            f"--ids-from {path}: {len(missing):,} id(s) not in the store, such as {sorted(missing)[0]!r}"
        )
    return ids
