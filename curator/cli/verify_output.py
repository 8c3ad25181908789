"""What `curator verify` prints: progress bars, the summaries of CPU runs, compiles and launches,
and the stored failures with the compiler's messages."""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from typing import TYPE_CHECKING

import click

from curator.cli.progress import progress_bar
from curator.verify import Observer

if TYPE_CHECKING:
    from curator.store import Store

SHOW_FAILURES = 10
DIAGNOSTIC_LINES = 8


class Printer(Observer):
    """Tells a verification's progress and results on the terminal."""

    def __init__(self, store: Store, devices: tuple[str, ...]):
        self.store, self.devices = store, devices

    @contextlib.contextmanager
    def running(self, total: int):
        with progress_bar("cpu runs", total) as bar:
            started = time.perf_counter()

            def update(report):
                done = sum(report.counts.values())
                rate = done / max(time.perf_counter() - started, 1e-9)
                counts = "  ".join(f"{n} {s}" for s, n in sorted(report.counts.items()))
                bar(completed=done + report.skipped, info=f"{rate:6.1f} kernels/s  {counts}")

            yield update

    def ran(self, report) -> None:
        counts = ", ".join(f"{n} {s}" for s, n in sorted(report.counts.items())) or "nothing new"
        grads = ", ".join(f"{n} {g}" for g, n in sorted(report.grads.items())) or "none"
        click.echo(f"cpu runs: {counts} ({report.skipped} run before); adjoint check: {grads}")
        for kid, status, message in report.failures[:SHOW_FAILURES]:
            click.echo(f"- run {kid} {status}: {message.splitlines()[0] if message else ''}")

    @contextlib.contextmanager
    def compiling(self):
        with progress_bar("verify") as bar:

            def update(report):
                secs = report.seconds or 1e-9
                info = f"{report.done / secs:6.1f} kernels/s  " + "  ".join(
                    f"{d} {c.passed} ok {c.failed} failed" for d, c in report.devices.items()
                )
                bar(completed=report.done, total=report.todo, info=info)

            yield update

    def compiled(self, report) -> None:
        summary(report)
        if report.failures:
            show_failures(self.store, self.devices, limit=SHOW_FAILURES, only={k for _, k in report.failures})

    def no_gpu(self) -> None:
        click.echo("--run: no CUDA driver or GPU on this machine; differential CPU/GPU launches skipped")

    def launched(self, result) -> None:
        if not result.ok:
            click.echo(f"- launch {result.kernel_id} ({result.status}): {result.message}")

    def launches_done(self, counts: Counter) -> None:
        from curator.verify.differential import OK_STATUSES

        ok = sum(counts[s] for s in OK_STATUSES)
        detail = ", ".join(f"{n} {s}" for s, n in counts.most_common())
        click.echo(
            f"--run: {ok} of {sum(counts.values())} kernels ran on CPU and GPU alike, their stored CUDA code "
            f"being what Warp compiled ({detail or 'none compiled for both devices'})"
        )


def summary(report) -> None:
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


def show_failures(store: Store, devices, limit: int, only: set[str] | None = None) -> None:
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
