"""`curator verify`: compile stored CPU/CUDA code with Warp's bundled compilers (no GPU needed)."""

from __future__ import annotations

import os
from pathlib import Path

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
from curator.scale import ClusterError
from curator.verify import BATCH_SIZE
from curator.verify_pool import COMPILE_S_PER_KERNEL, COMPILE_TIMEOUT
from curator.warp import DEFAULT_ARCH
from curator.warp.modes import DEFAULT_MODE, MODES

SHOW_FAILURES = 10
DIAGNOSTIC_LINES = 8


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
        with open_store(db, readonly=True) as store:
            _show_failures(store, devices, limit=50)
        return
    from curator import verify

    pool_factory, cluster_cpus = pool_factory_of(ray)
    workers = workers or cluster_cpus or os.cpu_count() or 1
    arguments = {
        "device": device,
        "sample": fraction,
        "seed": seed,
        "origin": origin,
        "categories": list(categories),
        "arch": arch,
        "workers": workers,
        "batch_size": batch_size,
        "run": launch,
        "mode": mode,
        "execute": execute,
        "compile_timeout": compile_timeout,
    }
    arguments |= {"ray": ray} if ray else {}
    arguments |= {"ids_from": str(ids_file)} if ids_file else {}
    store = open_store(db)
    failed = 0
    with store, interruptible("verify"):
        ids = store.kernel_ids(origin=origin, categories=categories)
        if ids_file:
            wanted = set(ids)
            ids = [k for k in _listed_ids(store, ids_file) if k in wanted]
        skip = {}
        if execute:
            # Runs first: a run compiles the CPU code through Warp's own JIT and checks it is the
            # stored code, so the separate CPU compile is left for the kernels no run compiled.
            failed += _execute(store, verify, ids, fraction, seed, workers, timeout, trust, arguments)
            skip["cpu"] = store.run_compiled_keys(ids)
        if not no_compile:
            failed += _compile(
                store,
                verify,
                devices,
                fraction,
                seed,
                arch,
                workers,
                batch_size,
                mode,
                arguments,
                pool_factory,
                ids,
                skip,
                compile_timeout,
            )
        if launch:
            _differential(store, verify, ids, fraction, seed, trust, workers)
    if failed:
        raise click.ClickException(f"{failed} kernel(s) failed verification; see `curator verify --failures`")


def _listed_ids(store, path: Path) -> list[str]:
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


def _compile(
    store,
    verify,
    devices,
    fraction,
    seed,
    arch,
    workers,
    batch_size,
    mode,
    arguments,
    pool_factory=None,
    ids=None,
    skip=None,
    compile_timeout=COMPILE_TIMEOUT,
) -> int:
    with _progress() as on_progress:
        try:
            report = verify.run(
                store,
                devices,
                fraction=fraction,
                seed=seed,
                arch=arch,
                workers=workers,
                batch_size=batch_size,
                arguments=arguments,
                on_progress=on_progress,
                mode=mode,
                pool_factory=pool_factory,
                ids=ids,
                skip=skip,
                compile_timeout=compile_timeout,
            )
        except (verify.VerifyError, ClusterError) as exc:
            raise click.ClickException(str(exc)) from None
    _summary(report)
    if report.failures:
        _show_failures(store, devices, limit=SHOW_FAILURES, only={k for _, k in report.failures})
    return sum(c.failed for c in report.devices.values())


def _execute(store, verify, ids, fraction, seed, workers, timeout, trust, arguments) -> int:
    """CPU runs of the sample; the number of kernels whose run failed.  A failed adjoint check is
    listed (a finding about the generator or Warp's adjoint) but does not fail the command."""
    from curator import execution

    ids = verify.sample(ids, fraction, seed)
    try:
        with _run_progress(len(ids)) as on_progress:
            report = execution.run(
                store,
                ids,
                workers=workers,
                seed=seed,
                timeout=timeout,
                trust_real=trust,
                arguments=arguments | {"command": "execute"},
                on_progress=on_progress,
            )
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    counts = ", ".join(f"{n} {s}" for s, n in sorted(report.counts.items())) or "nothing new"
    grads = ", ".join(f"{n} {g}" for g, n in sorted(report.grads.items())) or "none"
    click.echo(f"cpu runs: {counts} ({report.skipped} run before); adjoint check: {grads}")
    for kid, status, message in report.failures[:SHOW_FAILURES]:
        click.echo(f"- run {kid} {status}: {message.splitlines()[0] if message else ''}")
    return sum(1 for _, status, _ in report.failures if status != "ran")


def _summary(report) -> None:
    secs = report.seconds
    for d, c in report.devices.items():
        done = c.done
        pct = f" ({100 * c.passed / done:.1f} % passed)" if done else ""
        fatal = [f"{c.crashed} compiler crash{'es' if c.crashed > 1 else ''}"] if c.crashed else []
        fatal += [f"{c.hung} compiler hang{'s' if c.hung > 1 else ''}"] if c.hung else []
        fatal_note = f" ({', '.join(fatal)})" if fatal else ""
        click.echo(
            f"{d}: {c.selected} selected, {c.skipped} verified before, {done} compiled now: "
            f"{c.passed} passed, {c.failed} failed{fatal_note}{pct}"
        )
        rate = f", {1000 * done / c.compile_ms:.2f} kernels per compiler-second" if c.compile_ms else ""
        click.echo(f"  {c.compiler}; {c.options}; {c.compile_calls} compiler calls{rate}")
    if report.worker_deaths or report.hangs:
        hangs = f" ({report.hangs} killed past the compile timeout)" if report.hangs else ""
        click.echo(
            f"{report.worker_deaths} compiler worker process death(s){hangs}: the batches they had were "
            "bisected, the kernels the compiler crashed or hung on recorded as failed"
        )
    if report.done and secs:
        click.echo(f"{report.done} kernel compiles in {secs:.1f} s ({report.done / secs:.2f} kernels/s overall)")


def _show_failures(store, devices, limit: int, only: set[str] | None = None) -> None:
    rows = [r for d in devices for r in store.verification_failures(d, limit=limit)]
    if only is not None:
        rows = [r for r in rows if r["kernel_id"] in only]
    runs = store.execution_failures("cpu", limit=limit) if only is None and "cpu" in devices else []
    for r in runs:
        grad = ""
        if r["grad"] == "fail":
            grad = f"; adjoint check failed (worst rel. error {r['grad_error']:.3g}): {r['grad_note']}"
        click.echo(
            f"- cpu run {r['kernel_id']} [{r['category']}] {r['name']}: {r['status']}"
            f"{': ' + r['message'] if r['message'] else ''}{grad}"
        )
    if not rows:
        if not runs:
            click.echo("no verification failures stored" if only is None else "")
        return
    click.echo(f"failures ({len(rows)} shown):")
    for r in rows[:limit]:
        # a kernel can fail under two option sets (modes fast and full): the line says which
        mode = f", mode {r['mode']}" if r["mode"] else ""
        click.echo(f"- {r['device']} {r['kernel_id']} [{r['category']}] {r['name']} ({r['compiler']}{mode})")
        lines = [ln for ln in (r["diagnostics"] or "(no compiler output)").splitlines() if ln.strip()]
        for ln in lines[:DIAGNOSTIC_LINES]:
            click.echo(f"    {ln}")
        if len(lines) > DIAGNOSTIC_LINES:
            click.echo(f"    ... {len(lines) - DIAGNOSTIC_LINES} more lines")


def _differential(store, verify, ids, fraction, seed, trust, workers: int = 1) -> None:
    from collections import Counter

    from curator import differential
    from curator.warp import launch

    if not launch.cuda_available():
        click.echo("--run: no CUDA driver or GPU on this machine; differential CPU/GPU launches skipped")
        return
    compiled = store.verified_ids("cpu") & store.verified_ids("cuda")
    ids = verify.sample([k for k in ids if k in compiled], fraction, seed)
    counts: Counter = Counter()
    try:
        for r in differential.differential(store, ids, seed=seed, trust_real=trust, workers=workers):
            counts[r.status] += 1
            if not r.ok:
                click.echo(f"- launch {r.kernel_id} ({r.status}): {r.message}")
    except differential.DifferentialError as exc:
        raise click.ClickException(str(exc)) from None
    ok = sum(counts[s] for s in differential.OK_STATUSES)
    detail = ", ".join(f"{n} {s}" for s, n in counts.most_common())
    click.echo(
        f"--run: {ok} of {sum(counts.values())} kernels ran on CPU and GPU alike, their stored CUDA code "
        f"being what Warp compiled ({detail or 'none compiled for both devices'})"
    )


def _progress():
    """A rich progress bar over the kernels to compile (all devices together)."""
    import contextlib

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    @contextlib.contextmanager
    def cm():
        cols = [TextColumn("[bold]verify"), BarColumn(), TextColumn("{task.fields[info]}"), TimeElapsedColumn()]
        with Progress(*cols, transient=False) as bar:
            task = bar.add_task("verify", total=None, info="")

            def update(report):
                secs = report.seconds or 1e-9
                info = f"{report.done / secs:6.1f} kernels/s  " + "  ".join(
                    f"{d} {c.passed} ok {c.failed} failed" for d, c in report.devices.items()
                )
                bar.update(task, total=report.todo, completed=report.done, info=info)

            yield update

    return cm()


def _run_progress(total: int):
    """A rich progress bar over the CPU runs (what ran, failed and crashed so far)."""
    import contextlib
    import time

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    @contextlib.contextmanager
    def cm():
        cols = [TextColumn("[bold]cpu runs"), BarColumn(), TextColumn("{task.fields[info]}"), TimeElapsedColumn()]
        with Progress(*cols, transient=False) as bar:
            task = bar.add_task("runs", total=total, info="")
            started = time.perf_counter()

            def update(report):
                done = sum(report.counts.values())
                rate = done / max(time.perf_counter() - started, 1e-9)
                counts = "  ".join(f"{n} {s}" for s, n in sorted(report.counts.items()))
                bar.update(task, completed=done + report.skipped, info=f"{rate:6.1f} kernels/s  {counts}")

            yield update

    return cm()
