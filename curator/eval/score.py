"""Score predictions of one record: screen, compile and launch them in the prediction's worker,
launch the stored code in the reference's worker, compare in the driver; and whether a record's
reference is informative (a no-op body, an all-zero output and another kernel's code all fail)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace

from curator.eval import worker
from curator.eval.baselines import baseline_pieces, noop
from curator.eval.compare import first_difference
from curator.eval.prompts import target_pieces
from curator.eval.release import RUN_FIELDS
from curator.eval.sandbox import Limits, Sandbox, TaskFailed
from curator.eval.screen import screen

MODES = {"forward": ("forward",), "backward": ("backward",), "both": ("forward", "backward")}
SEEDS = (1, 2, 3)
MORE_SEEDS = (4, 5, 6, 7, 8, 9)  # tried when the first seeds leave a record vacuous


@dataclass
class Options:
    target: str = "forward"
    device: str = "cpu"
    limits: Limits = field(default_factory=Limits)
    gpu: bool = False  # CUDA predictions run (else: compiled, not run)
    workers: int = 1  # pairs of workers (prediction, reference), each scoring its own records


def result(compiled: bool, ran: bool, correct: bool, status: str, diagnostic: str = "") -> dict:
    return {"compiled": compiled, "ran": ran, "correct": correct, "status": status, "diagnostic": diagnostic[:1000]}


class Scorer:
    """Two workers: the prediction's (untrusted code) and the reference's (the stored code)."""

    def __init__(self, opts: Options, root: str | None = None):
        self.opts = opts
        self.modes = MODES[opts.target]
        self.pred = Sandbox(replace(opts.limits, address_backstop=not opts.gpu), root)
        ref_limits = Limits(
            seconds=max(120.0, opts.limits.seconds), cpu_seconds=max(60.0, opts.limits.cpu_seconds), memory_bytes=0
        )
        self.ref = Sandbox(ref_limits, root)
        self._refs: dict[tuple, tuple] = {}
        self.checked: dict[str, dict] = {}  # code key -> result of the last informative check's candidates

    def close(self) -> None:
        self.pred.close()
        self.ref.close()

    def reference(self, record: dict, seeds: tuple) -> tuple[str, dict | str]:
        """('ran', mode -> per-seed arrays, 'inputs' included) or (status, why) of the stored code."""
        key = (record["id"], seeds)
        if key not in self._refs:
            self._refs[key] = self._reference(record, seeds)
        return self._refs[key]

    def forget(self, record_id: str) -> None:
        """Drop a finished record's reference launches."""
        self._refs = {k: v for k, v in self._refs.items() if k[0] != record_id}

    def prefetch(self, records: list[dict], seeds: tuple = SEEDS) -> None:
        """Launch the stored code of ``records`` from one object compiled for all of them (a
        compile per record costs the precompiled header's load each time: most of a reference's
        cost); a record the batch does not serve is launched alone when asked."""
        todo = [r for r in records if (r["id"], seeds) not in self._refs]
        if not self.runs or len(todo) < 2:
            return
        modes = ("inputs", *self.modes)
        try:
            obj = self.ref.call(worker.compile_batch, self.opts.device, [r["pieces"] for r in todo])
            if obj is None:
                return
            for r in todo:
                self._refs[(r["id"], seeds)] = self.ref.call(
                    worker.launch_kept, _run_fields(r), obj, list(seeds), modes
                )
            self.ref.call(worker.remove, obj)
        except Exception:  # the worker died (TaskFailed) or Warp refused one: the rest are launched alone
            return

    def _reference(self, record: dict, seeds: tuple) -> tuple[str, dict | str]:
        try:
            ok, diag, obj = self.ref.call(worker.compile_unit, self.opts.device, record["pieces"])
            if not ok:
                return "compile-error", diag
            return self.ref.call(worker.launch, _run_fields(record), obj, list(seeds), ("inputs", *self.modes))
        except TaskFailed as exc:
            return "crashed", exc.reason
        except Exception as exc:  # Warp's own error launching the stored kernel
            return "error", f"{type(exc).__name__}: {exc}"

    @property
    def runs(self) -> bool:
        """Whether predictions are launched (not so for CUDA without a GPU: compiled, not run)."""
        return self.opts.device == "cpu" or self.opts.gpu

    def score(self, record: dict, pieces: dict, seeds: tuple = SEEDS) -> dict:
        """The result of one prediction (``pieces``: target piece -> code) on ``seeds``."""
        if not self.runs:
            return self._score(record, pieces, seeds, {})
        status, ref = self.reference(record, seeds)
        if status != "ran" or not isinstance(ref, dict):
            return result(False, False, False, "no-reference", f"{status}: {ref}")
        return self._score(record, pieces, seeds, ref)

    def _score(self, record: dict, pieces: dict, seeds: tuple, ref: dict) -> dict:
        device = self.opts.device
        for name, code in pieces.items():
            why = screen(code, device)
            if why:
                return result(False, False, False, "rejected", f"{name}: {why}")
        unit = {**record["pieces"], **pieces}
        try:
            ok, diag, obj = self.pred.call(worker.compile_unit, device, unit)
        except TaskFailed as exc:
            return result(False, False, False, "compiler-crashed", exc.reason)
        if not ok:
            return result(False, False, False, "compile-error", diag)
        if not self.runs:
            return result(True, False, False, "compiled-not-run", "compiled with NVRTC, not run (no GPU)")
        try:
            status, got = self.pred.call(worker.launch, _run_fields(record), obj, list(seeds), self.modes)
        except TaskFailed as exc:
            return result(True, False, False, _death_kind(exc.reason), exc.reason)
        except Exception as exc:  # Warp refused the launch (a missing entry point, a bad argument)
            return result(True, False, False, "launch-error", f"{type(exc).__name__}: {exc}")
        if status != "ran":
            return result(True, False, False, "launch-error", str(got))
        for mode in self.modes:
            why = first_difference(ref[mode], got[mode])
            if why:
                return result(True, True, False, "wrong", f"{mode}: {why}")
        return result(True, True, True, "correct")

    def informative(self, record: dict, train: list[dict]) -> tuple[bool, str, tuple]:
        """(informative, why not, the seeds that make it so): on SEEDS, then on more seeds."""
        self.checked = {}
        if not self.runs:
            return True, "not judged: CUDA without a GPU (compiled, not run)", SEEDS
        reasons = ""
        for seeds in (SEEDS, SEEDS + MORE_SEEDS):
            status, ref = self.reference(record, seeds)
            if status != "ran" or not isinstance(ref, dict):
                return False, f"reference {status}: {str(ref)[:200]}", seeds
            passing = self._vacuous_by(record, train, seeds, ref)
            if not passing:
                return True, "", seeds
            reasons = ", ".join(passing)
        return False, f"vacuous: {reasons} pass(es) on {len(SEEDS + MORE_SEEDS)} seeds", SEEDS + MORE_SEEDS

    def _vacuous_by(self, record: dict, train: list[dict], seeds: tuple, ref: dict) -> list[str]:
        """What passes the reference on ``seeds``; ``self.checked`` keeps each candidate's result by
        its code (the shuffled candidate is the shuffled baseline's prediction: scored once)."""
        wanted = target_pieces(self.opts.target)
        found, self.checked = [], {}
        if all(not first_difference(ref[m], _zero(ref, m)) for m in self.modes):
            found.append("all-zero output")
        empty = {p: noop(record["pieces"][p]) for p in wanted}
        other = baseline_pieces("shuffled", record, self.opts.target, train, None)
        for why, pieces in (("no-op body", empty), ("another kernel's code", other)):
            if not all(pieces.values()):
                continue
            res = self.checked[code_key(pieces)] = self._score(record, pieces, seeds, ref)
            if res["correct"]:
                found.append(why)
        return found


_DEATHS = {
    "time limit": "timeout",
    "CPU time limit": "timeout",
    "memory limit": "memory-limit",
    "file size limit": "output-limit",
}


def code_key(pieces: dict) -> str:
    """A prediction's identity in a results file: the hash of its pieces."""
    return hashlib.sha256(json.dumps(pieces, sort_keys=True).encode()).hexdigest()[:16]


def _death_kind(reason: str) -> str:
    return next((kind for prefix, kind in _DEATHS.items() if reason.startswith(prefix)), "crashed")


def _run_fields(record: dict) -> dict:
    """What the prediction's process is told of a record: how to launch it, not its code."""
    return {k: record[k] for k in RUN_FIELDS}


def _zero(ref: dict, mode: str) -> list[dict]:
    """What an all-zero output leaves: forward, every element the launch changed set to 0 (the
    rest as seeded); backward, every gradient 0."""
    import numpy as np

    out = []
    for before, after in zip(ref["inputs"], ref[mode], strict=True):
        seed = {}
        for name, a in after.items():
            if mode == "backward" or a.dtype.names:
                seed[name] = np.zeros_like(a)
            else:
                b = before[name]
                seed[name] = np.where(
                    np.not_equal(a, b) & ~(np.isnan(a) & np.isnan(b)) if a.dtype.kind == "f" else a != b,
                    np.zeros_like(a),
                    b,
                )
        out.append(seed)
    return out
