"""Run one stored kernel on the CPU through Warp's own JIT: seeded random inputs of valid shapes,
a checksum of the outputs, the pair check (stored code vs the .cpp Warp compiled) and the
adjoint check (``wp.Tape`` against central finite differences).  Runs inside a worker process
(``curator.verify.executions``); a crash or hang here kills only that worker."""

from __future__ import annotations

import glob
import hashlib
import os
import re
import shutil
import time
from dataclasses import dataclass

from curator.records import PIECES
from curator.warp import fresh_function_numbering, init_warp
from curator.warp.build import load_module, module_source, normalize_line_comments, release_module
from curator.warp.inputs import SIZE, Inputs, NotRunnable, release_objects
from curator.warp.launch import launch

__all__ = ["SIZE", "Execution", "Inputs", "NotRunnable", "execute"]
_HASH_SUFFIX = re.compile(r"_[0-9a-f]{7,}(?=_(?:cpu|cuda)_)")
_ARGS_HASH = re.compile(r"\b(wp_args_\w*?)_[0-9a-f]{8}\b")  # a launch-argument struct's hash suffix
_SOURCE_LINE = re.compile(r"(// kernel\.py):\d+$", re.M)


@dataclass
class Execution:
    status: str  # ran | failed | not-runnable
    message: str = ""
    checksum: str | None = None
    repeatable: bool | None = None
    nonfinite: bool | None = None
    pair_ok: bool | None = None
    grad: str | None = None  # pass | fail | not-differentiable
    grad_error: float | None = None
    grad_note: str = ""
    ms: float = 0.0


def checksum(arrays: list) -> tuple[str, bool]:
    """(blake2b of the arrays' bytes, whether a float holds NaN/Inf)."""
    import numpy as np

    h, nonfinite = hashlib.blake2b(digest_size=16), False
    for a in arrays:
        data = np.ascontiguousarray(a.numpy())
        h.update(data.tobytes())
        fields = [data[f] for f in data.dtype.names] if data.dtype.names else [data]
        nonfinite |= any(f.dtype.kind == "f" and not np.isfinite(f).all() for f in fields)
    return h.hexdigest(), bool(nonfinite)


def pair_check(cache_dir: str, stored: dict[str, str], module_name: str = "", device: str = "cpu") -> str:
    """'' if the source Warp wrote to its kernel cache for ``module_name`` on ``device`` (the
    .cpp of a CPU launch, the .cu of a GPU launch) equals the stored pieces' translation unit
    (``<L n>`` comments, source file comments and kernel hash suffixes normalised), else why not.
    (Building a volume's index grid compiles a Warp module too.)"""
    ext = "cpp" if device == "cpu" else "cu"
    found = glob.glob(os.path.join(cache_dir, f"wp_{module_name}*", f"*.{ext}"))
    if len(found) != 1:
        return f"pair check: {len(found)} .{ext} files in Warp's kernel cache, expected 1"
    with open(found[0], encoding="utf-8") as fh:
        compiled = _normalise(fh.read())
    stored_tu = _normalise(module_source(device, stored))
    if compiled == stored_tu or _one_of_its_overloads(compiled, stored, device):
        return ""
    a, b = compiled.splitlines(), stored_tu.splitlines()
    line = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    got = a[line] if line < len(a) else "<end>"
    want = b[line] if line < len(b) else "<end>"
    return (
        f"pair check: stored code differs from Warp's at line {line + 1}: Warp {got.strip()!r}, stored {want.strip()!r}"
    )


def _one_of_its_overloads(compiled: str, stored: dict[str, str], device: str = "cpu") -> bool:
    """A generic kernel's module holds every overload registered for it (``wp.overload``), and
    Warp compiles them all at launch; a stored pair is one overload.  It is right when the module
    Warp compiled holds more than one kernel and every block of the stored pieces (a struct, a
    function, the kernel's forward, backward and entry points: blank-line separated) appears in
    it verbatim."""
    if compiled.count(f"_{device}_kernel_forward(\n") < 2:
        return False
    code = _normalise("".join(stored.get(k, "") for k in PIECES))
    blocks = [b for b in code.split("\n\n") if b.strip()]
    return bool(blocks) and all(b in compiled for b in blocks)


def _normalise(code: str) -> str:
    # Source line numbers in comments are dropped: the stored code of a @wp.func_grad names line 0
    # where Warp's JIT names the line of its definition (a comment; the compiled code is the same).
    code = _SOURCE_LINE.sub(r"\1", normalize_line_comments(code))
    return _ARGS_HASH.sub(r"\1", _HASH_SUFFIX.sub("", code.replace("#define WP_NO_BFLOAT16\n", "")))


def clear_cache(cache_dir: str) -> None:
    """Remove the modules Warp built before (the next .cpp found there is this kernel's)."""
    for entry in os.listdir(cache_dir):
        shutil.rmtree(os.path.join(cache_dir, entry), ignore_errors=True)


def execute(kernel_row: dict, stored_cpu: dict[str, str], seed: int, grad: bool = True) -> Execution:
    """Launch a stored kernel on the CPU (see the module docstring).  Raises NotRunnable; any
    other exception is the kernel's failure, reported by the caller.  Warp's kernel cache
    (``wp.config.kernel_cache_dir``) must be this worker's own: it is emptied first.  The kernel's
    functions get the names a fresh process gives them (as `curator generate` stored them)."""
    with fresh_function_numbering():
        return _execute(kernel_row, stored_cpu, seed, grad)


def _execute(kernel_row: dict, stored_cpu: dict[str, str], seed: int, grad: bool) -> Execution:
    from curator.warp.adjoint import adjoint_check

    t0 = time.perf_counter()
    module_name = f"curator_exec_{kernel_row['id']}"
    cache_dir = init_warp().config.kernel_cache_dir
    clear_cache(cache_dir)
    release_objects()
    try:
        module = load_module(kernel_row["source"], module_name)
        kernel = getattr(module, kernel_row["name"])
        dim = kernel_row["launch_dim"]
        inputs = Inputs(kernel, kernel_row["source"], seed)
        values, arrays = inputs.materialize()
        launch(kernel, values, dim)
        digest, nonfinite = checksum(arrays)
        again, arrays = Inputs(kernel, kernel_row["source"], seed).materialize()
        launch(kernel, again, dim)
        repeat, _ = checksum(arrays)
        pair = pair_check(cache_dir, stored_cpu, module_name)
        result = Execution("ran" if not pair else "failed", pair, digest, repeat == digest, nonfinite, not pair)
        if grad:
            result.grad, result.grad_error, result.grad_note = adjoint_check(kernel, inputs, dim, kernel_row["source"])
        result.ms = (time.perf_counter() - t0) * 1000
        return result
    finally:
        release_module(module_name)
