"""`curator eval`: prompts of a release's records for a model, and scoring its predictions by
execution against the stored code (or a baseline)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from curator.cli.common import interruptible, json_option, workers_option

TARGETS = ("forward", "backward", "both")
BASELINES = ("reference", "shuffled", "retrieval")


def _release_options(fn):
    fn = click.option("--split", default="test", show_default=True, help="Which split's records.")(fn)
    fn = click.option(
        "--config", default="cpu", show_default=True, help="Which config: cpu, cuda or paired (with --device)."
    )(fn)
    fn = click.option(
        "--release",
        required=True,
        type=click.Path(file_okay=False, exists=True, path_type=Path),
        help="A release folder `curator export` wrote (JSONL or Parquet); read, never written.",
    )(fn)
    fn = click.option(
        "--device",
        type=click.Choice(["cpu", "cuda"]),
        default=None,
        help="Whose code is the target (default: the config's device; cpu for paired).",
    )(fn)
    return click.option(
        "--target", type=click.Choice(TARGETS), default="forward", show_default=True, help="The piece(s) to write."
    )(fn)


@click.group("eval")
def command():
    """The release as an execution-checked translation benchmark (Python -> C++/CUDA)."""


@command.command("prompts")
@_release_options
@click.option("--context", is_flag=True, help="Also give the stored pieces other than the target.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The prompts file (JSONL).")
def prompts(release, config, split, device, target, context, out):
    """Write one prompt a line: id, Python source, target piece name(s), context pieces."""
    from curator.eval import EvalError
    from curator.eval.prompts import write_prompts
    from curator.eval.release import read_records

    try:
        n = write_prompts(read_records(release, config, split, device), target, context, out)
    except EvalError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {n} prompts to {out}")


@command.command("score")
@_release_options
@click.option(
    "--predictions", type=click.Path(dir_okay=False, path_type=Path), help="JSONL: id, target piece(s), sample."
)
@click.option("--baseline", type=click.Choice(BASELINES), help="Score a baseline instead of predictions.")
@click.option(
    "--results",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append every result here; a rerun skips finished ones.",
)
@click.option("--timeout", default=60.0, show_default=True, help="Wall seconds one compile or launch may take.")
@click.option("--cpu-seconds", default=20.0, show_default=True, help="CPU seconds one compile or launch may use.")
@click.option("--memory-gib", default=2.0, show_default=True, help="Resident memory a prediction may add.")
@click.option("--output-mib", default=256.0, show_default=True, help="The largest file (output) it may write.")
@workers_option("Pairs of worker processes (a prediction's and a reference's), each scoring its own records.")
@json_option("Print the summary as JSON.")
def score(release, config, split, device, target, predictions, baseline, results, workers, as_json, **limits):
    """Compile each prediction, launch it on seeded inputs, compare with the stored code."""
    from curator.eval import EvalError
    from curator.eval.run import Task, evaluate
    from curator.eval.sandbox import GIB, Limits
    from curator.eval.score import Options

    if (predictions is None) == (baseline is None):
        raise click.UsageError("give one of --predictions FILE or --baseline NAME")
    dev = device or (config if config in ("cpu", "cuda") else "cpu")
    opts = Options(
        target=target,
        device=dev,
        limits=Limits(
            limits["timeout"], limits["cpu_seconds"], int(limits["memory_gib"] * GIB), int(limits["output_mib"] * 2**20)
        ),
    )
    opts.gpu = dev == "cuda" and _gpu()
    opts.workers = workers or os.cpu_count() or 1
    task = Task(release, config, split, predictions, baseline, results)
    with interruptible("curator eval score"):
        try:
            summary = evaluate(task, opts)
        except EvalError as exc:
            raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        from curator.eval.summary import render

        render(summary, f"{baseline or predictions}: {config}/{split}, {target} ({dev})")


def _gpu() -> bool:
    from curator.warp.launch import cuda_available

    return cuda_available()


@command.command("figures")
@click.option(
    "--release", required=True, type=click.Path(file_okay=False, exists=True, path_type=Path), help="A release folder."
)
@click.option("--config", "configs", multiple=True, default=("cpu",), show_default=True, help="Repeatable.")
@click.option("--split", "splits", multiple=True, default=("test",), show_default=True, help="Repeatable.")
@click.option(
    "--target", "targets", multiple=True, default=("forward", "backward"), show_default=True, help="Repeatable."
)
@click.option(
    "--results", type=click.Path(file_okay=False, path_type=Path), help="A folder for each run's results (resumes)."
)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The figures (JSON).")
@workers_option("Pairs of worker processes (a prediction's and a reference's), each scoring its own records.")
def figures(release, configs, splits, targets, results, out, workers):
    """Informative records and the three baselines per config, split, target and category, for
    `curator export --benchmark FILE` (the manifest and card) and `curator report`."""
    from curator.eval import EvalError
    from curator.eval.figures import benchmark_figures

    if results:
        results.mkdir(parents=True, exist_ok=True)
    with interruptible("curator eval figures"):
        try:
            data = benchmark_figures(
                release, configs, splits, targets, results, progress=lambda m: click.echo(m, err=True)
            )
        except EvalError as exc:
            raise click.ClickException(str(exc)) from None
    out.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    click.echo(f"wrote {out}")
