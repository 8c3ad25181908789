"""`curator eval score`: the tasks of a release's config and split, which of them are
informative, every prediction's result (appended to a results file as it comes, so a rerun
with the same predictions skips finished ones), and the summary."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from curator.eval import EvalError
from curator.eval.baselines import Retrieval, baseline_pieces
from curator.eval.predictions import Prediction, read_predictions
from curator.eval.prompts import eligible, target_pieces
from curator.eval.release import manifest, read_records
from curator.eval.score import Options, Scorer, code_key
from curator.eval.summary import summarise

PREFETCH = 16  # records whose stored code the reference's worker compiles into one object


@dataclass
class Task:
    release: Path
    config: str
    split: str
    predictions: Path | None = None
    baseline: str | None = None
    results: Path | None = None


def evaluate(
    task: Task,
    opts: Options,
    progress: Callable[[str], None] | None = None,
    root: str | None = None,
    verdicts: dict | None = None,
) -> dict:
    """The summary of ``task`` (predictions or a baseline); results to ``task.results`` if given.
    ``verdicts``: which records are informative, known from another run of the same release,
    config, split and target (used, and completed with the ones found here)."""
    records = [r for r in read_records(task.release, task.config, task.split, opts.device) if eligible(r, opts.target)]
    train = read_records(task.release, task.config, "train", opts.device)
    predictions = _predictions(task, opts, records, train, {r["id"] for r in records})
    header = _header(task, opts)
    done, informative = _load_results(task.results, header)
    informative = {**(verdicts or {}), **informative}
    state = _State(done, informative)
    scorers = [Scorer(opts, root) for _ in range(max(1, opts.workers))]
    with contextlib.ExitStack() as stack:
        for scorer in scorers:
            stack.callback(scorer.close)
        if task.results:
            fresh = not Path(task.results).exists() or Path(task.results).stat().st_size == 0
            state.out = stack.enter_context(open(task.results, "a", encoding="utf-8"))
            if fresh:
                state.write(header)
        todo: dict[str, list[Prediction]] = {}
        for p in predictions:
            todo.setdefault(p.id, []).append(p)
        chunks = iter([records[i : i + PREFETCH] for i in range(0, len(records), PREFETCH)])
        _run_chunks(scorers, chunks, state, train, todo, progress, len(records))
    if verdicts is not None:
        verdicts.update(state.informative)
    summary = summarise(state.tasks, state.results, state.excluded)
    summary["task"] = {k: v for k, v in header.items() if k != "kind"}
    summary["deaths"] = sum(s.pred.deaths for s in scorers)
    return summary


def _run_chunks(
    scorers: list[Scorer], chunks, state: _State, train: list[dict], todo: dict, progress, total: int
) -> None:
    """Each scorer (a prediction worker and a reference worker) takes the next chunk of records
    until none is left: one thread per scorer, the results file and the state under one lock."""

    def work(scorer: Scorer) -> None:
        while True:
            with state.lock:
                chunk = next(chunks, None)
                if chunk is not None:
                    chunk_todo = [r for r in chunk if _unfinished(state, r, todo)]
            if chunk is None:
                return
            scorer.prefetch(chunk_todo)
            for record in chunk:
                _record(scorer, state, record, train, todo.get(record["id"], []))
                scorer.forget(record["id"])
                with state.lock:
                    state.finished += 1
                    if progress:
                        progress(f"{state.finished}/{total} records")

    if len(scorers) == 1:
        work(scorers[0])
        return
    with ThreadPoolExecutor(len(scorers), thread_name_prefix="curator-eval") as pool:
        for fut in [pool.submit(work, s) for s in scorers]:
            fut.result()


@dataclass
class _State:
    done: dict  # (id, sample, code) -> result row
    informative: dict  # id -> verdict row
    out: IO[str] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    finished: int = 0
    tasks: dict = field(default_factory=dict)
    excluded: dict = field(default_factory=dict)
    results: list = field(default_factory=list)

    def write(self, row: dict) -> None:
        """Append a row to the results file (the caller holds ``lock`` where threads share it)."""
        if self.out is not None:
            self.out.write(json.dumps(row) + "\n")
            self.out.flush()


def _unfinished(state: _State, record: dict, todo: dict) -> bool:
    """Whether ``record`` still needs its reference: no verdict yet, or a prediction not scored."""
    info = state.informative.get(record["id"])
    if info is None:
        return True
    return info["informative"] and any(
        (p.id, p.sample, code_key(p.pieces)) not in state.done for p in todo.get(record["id"], [])
    )


def _record(scorer: Scorer, state: _State, record: dict, train: list[dict], predictions: list[Prediction]) -> None:
    """Whether ``record`` is informative (known from the results file, or found now), then the
    result of each of its predictions not finished before."""
    rid = record["id"]  # a record is one thread's: the lock guards the shared file and lists
    if rid not in state.informative:
        ok, why, seeds = scorer.informative(record, train)
        row = {"kind": "informative", "id": rid, "informative": ok, "why": why, "seeds": list(seeds)}
        row["checked"] = scorer.checked  # the candidates' results, reused below
        with state.lock:
            state.informative[rid] = row
            state.write(row)
    info = state.informative[rid]
    if not info["informative"]:
        with state.lock:
            state.excluded[rid] = info["why"]
        return
    with state.lock:
        state.tasks[rid] = record
    for p in predictions:
        key = (p.id, p.sample, code_key(p.pieces))
        if key not in state.done:
            res = info.get("checked", {}).get(key[2]) or scorer.score(record, p.pieces, tuple(info["seeds"]))
            row = {"kind": "result", "id": p.id, "sample": p.sample, "code": key[2], "category": record["category"]}
            with state.lock:
                state.done[key] = {**row, **res}
                state.write(state.done[key])
        with state.lock:
            state.results.append(state.done[key])


def _predictions(task: Task, opts: Options, records: list[dict], train: list[dict], ids: set[str]) -> list[Prediction]:
    if task.baseline:
        retrieval = Retrieval(train, opts.target) if task.baseline == "retrieval" else None
        return [
            Prediction(r["id"], 0, baseline_pieces(task.baseline, r, opts.target, train, retrieval), 0) for r in records
        ]
    assert task.predictions is not None, "a task without a baseline has predictions"
    return read_predictions(task.predictions, ids, target_pieces(opts.target))


def _header(task: Task, opts: Options) -> dict:
    m = manifest(task.release)
    return {
        "kind": "run",
        "release": m.get("manifest_sha256", ""),
        "config": task.config,
        "split": task.split,
        "target": opts.target,
        "device": opts.device,
        "baseline": task.baseline,
    }


def _load_results(path: Path | None, header: dict) -> tuple[dict, dict]:
    """(finished results by (id, sample, code), informative verdicts by id) of a results file."""
    done: dict = {}
    informative: dict = {}
    if path is None or not Path(path).exists():
        return done, informative
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                raise EvalError(f"{path}:{n}: not a results line (bad JSON); use another --results file") from None
            if row.get("kind") == "run" and row != header:
                raise EvalError(f"{path}:{n}: results of another run ({row}); use another --results file")
            if row.get("kind") == "informative":
                informative[row["id"]] = row
            elif row.get("kind") == "result":
                done[(row["id"], row["sample"], row["code"])] = row
    return done, informative
