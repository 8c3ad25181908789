"""The benchmark figures of a release (`curator eval figures`): informative records per config,
split, target and category, and the three baselines' compile@1 and pass@1, for the manifest and
card (`curator export --benchmark FILE`; ``curator.export.benchmark``) and REPORT.md."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from curator.eval.run import Task, evaluate
from curator.eval.score import Options

BASELINES = ("reference", "shuffled", "retrieval")


def benchmark_figures(
    release: Path,
    configs: tuple[str, ...],
    splits: tuple[str, ...],
    targets: tuple[str, ...],
    results: Path | None = None,
    progress: Callable[[str], None] | None = None,
    workers: int = 1,
) -> dict:
    """{"benchmark": {"CONFIG/SPLIT/TARGET": {"informative": {category: n}, "excluded": n,
    "baselines": {name: {"overall": ..., "categories": ...}}}}}; ``results``: a folder for each
    run's results file (a rerun resumes)."""
    out: dict = {}
    for config in configs:
        for split in splits:
            for target in targets:
                key = f"{config}/{split}/{target}"
                runs: dict = {}
                verdicts: dict = {}  # the informative records, decided once for the three
                for name in BASELINES:
                    path = Path(results) / f"{config}_{split}_{target}_{name}.jsonl" if results else None
                    if progress:
                        progress(f"{key}: {name}")
                    task = Task(release, config, split, baseline=name, results=path)
                    opts = Options(target=target, device=config if config != "paired" else "cpu", workers=workers)
                    runs[name] = evaluate(task, opts, verdicts=verdicts)
                ref = runs["reference"]
                out[key] = {
                    "informative": {c: f["records"] for c, f in ref["categories"].items()},
                    "excluded": ref["excluded"],
                    "excluded_why": ref["excluded_why"],
                    "baselines": {n: {"overall": r["overall"], "categories": r["categories"]} for n, r in runs.items()},
                }
    return {"benchmark": out}
