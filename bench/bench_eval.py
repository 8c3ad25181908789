"""Eval throughput: predictions scored per second per core (`curator eval score`: screen, compile
at -O0, launch on 3 seeds, compare with the reference launched in another process) against the
CPU-run rate of `verify --execute` (batched compile, two launches, pair and adjoint checks) on the
same kernels, measured in one run.  One worker each.  Prints figures; asserts nothing.

    python bench/bench_eval.py --release DIR --db STORE [--config cpu] [--split test] [--samples 4] [--limit N]

``--samples`` reference predictions per record (each a distinct prediction: trailing blank lines
differ), so the per-record costs (the informative check: a no-op body, another kernel's code;
the reference launch) spread as they do over a model's samples.  Two passes: the first decides
which records are informative, the second only scores (its results file holds those verdicts).
Besides wall-clock rates (noisy on a shared machine) it gives CPU seconds per item, this process
and its workers together, which other processes' load does not inflate; per core = 1 / that.
The store is copied before `verify --execute` writes to it; the release is only read.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_verify import measure_runs

from curator.eval.prompts import eligible
from curator.eval.release import read_records
from curator.eval.run import Task, evaluate
from curator.eval.score import Options
from curator.verify import executions as execution


def _cpu() -> float:
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime


def _pass(task: Task, n: int) -> dict:
    wall0, cpu0 = time.perf_counter(), _cpu()
    summary = evaluate(task, Options())
    wall, cpu = time.perf_counter() - wall0, _cpu() - cpu0
    return {"predictions_s": n / wall, "cpu_s_per_prediction": cpu / n, "wall_s": wall, "summary": summary}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--release", type=Path, required=True)
    ap.add_argument("--db", type=Path, required=True, help="the store the release came from (copied, not written)")
    ap.add_argument("--config", default="cpu")
    ap.add_argument("--split", default="test")
    ap.add_argument("--samples", type=int, default=4)
    ap.add_argument("--limit", type=int, default=0, help="first N records only (0: all)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    records = [r for r in read_records(args.release, args.config, args.split) if eligible(r, "forward")]
    records = records[: args.limit or None]
    n = len(records) * args.samples
    with tempfile.TemporaryDirectory() as tmp:
        preds = Path(tmp) / "preds.jsonl"
        with open(preds, "w") as fh:
            for r in records:
                for s in range(args.samples):
                    fh.write(
                        json.dumps({"id": r["id"], "sample": s, "forward": r["pieces"]["forward"] + "\n" * s}) + "\n"
                    )
        first = Path(tmp) / "first.jsonl"
        full = _pass(Task(args.release, args.config, args.split, preds, results=first), n)
        verdicts = [ln for ln in first.read_text().splitlines() if '"kind": "result"' not in ln]
        second = Path(tmp) / "second.jsonl"
        second.write_text("\n".join(verdicts) + "\n")
        scoring = _pass(Task(args.release, args.config, args.split, preds, results=second), n)
    runs = measure_runs(args.db, [r["id"] for r in records], execution.BATCH_SIZE)
    ratio = (1 / scoring["cpu_s_per_prediction"]) / (1 / runs["cpu_s_per_kernel"])
    print(f"{len(records)} records x {args.samples} samples = {n} predictions ({args.config}/{args.split})")
    print(
        f"eval, informative check included: {full['predictions_s']:.2f} predictions/s wall, "
        f"{full['cpu_s_per_prediction']:.3f} CPU s each; pass@1 {full['summary']['overall'].get('pass@1')}"
    )
    print(
        f"eval, scoring only:                {scoring['predictions_s']:.2f} predictions/s wall, "
        f"{scoring['cpu_s_per_prediction']:.3f} CPU s each ({1 / scoring['cpu_s_per_prediction']:.2f} per core-second)"
    )
    print(
        f"verify --execute (batch {execution.BATCH_SIZE}):      {runs['kernels_s']:.2f} kernels/s wall, "
        f"{runs['cpu_s_per_kernel']:.3f} CPU s each ({1 / runs['cpu_s_per_kernel']:.2f} per core-second) "
        f"{runs['counts']}"
    )
    print(f"eval scoring rate / verify --execute rate, per core: {ratio:.2f} (goal >= 0.8)")
    if args.json:
        for d in (full, scoring):
            d.pop("summary")
        args.json.write_text(
            json.dumps({"eval_full": full, "eval_scoring": scoring, "verify_execute": runs, "ratio": ratio}, indent=1)
        )


if __name__ == "__main__":
    main()
