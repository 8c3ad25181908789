"""The adjoint check: Warp's backward (``wp.Tape`` on the CPU) against central finite differences,
as a dot-product test along random directions: <v, J u> by finite differences against
<J^T v, u> from the tape.

Inputs are the elements of float32/float64 arrays the launch leaves unchanged, outputs the
elements it changes (float16, integer and struct arrays take no part).  The kernel runs in its own precision,
so for float32 kernels the differences are float32 too: the step is 1e-2 for float32 and 1e-4
for float64 inputs (values are drawn from [-1, 1]), the tolerance 2e-2 and 1e-4 relative.  A
direction whose difference quotient changes by more than the tolerance when the step is halved
crosses a kink (abs, floor, min/max, a branch) and is skipped; a kernel whose every direction
is skipped is "not-differentiable" (non-smooth at these inputs)."""

from __future__ import annotations

import re

from curator.warp import init_warp

DIRECTIONS = 3
STEP = {4: 1e-2, 8: 1e-4}  # by the bytes of the inputs' float type
TOLERANCE = {4: 2e-2, 8: 1e-4}


def _float_bytes(array) -> int | None:
    """4 or 8 for arrays of float32/float64 scalars, vectors or matrices; else None."""
    data = array.numpy()
    if data.dtype.names or data.dtype.kind != "f" or data.dtype.itemsize not in (4, 8):
        return None
    return data.dtype.itemsize


def _outputs(kernel, inputs, dim: int) -> dict:
    from curator.warp.execute import launch

    values = inputs.values()
    launch(kernel, values, dim)
    return {n: v.numpy() for n, v in zip(inputs.names, values, strict=True) if n in inputs.arrays}


def adjoint_check(kernel, inputs, dim: int, source: str) -> tuple[str, float | None, str]:
    """(pass | fail | not-differentiable, worst relative error, note)."""
    import numpy as np

    before = {n: a.numpy() for n, a in inputs.arrays.items()}
    after = _outputs(kernel, inputs, dim)
    floats = {n: b for n, a in inputs.arrays.items() if (b := _float_bytes(a))}
    # Per element: one the launch changed is an output, one it left alone an input.  Perturbing
    # a changed element would test Warp's (unsupported) overwrite of a value it then reads.
    changed = {n: before[n] != after[n] for n in floats}
    ins = [n for n in floats if (~changed[n]).any()]
    outs = [n for n in floats if changed[n].any()]
    if not ins or not outs:
        return "not-differentiable", None, "no float input element" if not ins else "no float output element"
    if not all(np.isfinite(after[n]).all() for n in outs):
        return "not-differentiable", None, "outputs hold NaN/Inf"
    width = min(floats[n] for n in ins)
    tol = TOLERANCE[width]
    rng = np.random.default_rng(12345)
    worst, used = 0.0, 0
    for _ in range(DIRECTIONS):
        u = {n: rng.standard_normal(before[n].shape) * ~changed[n] for n in ins}
        v = {n: rng.standard_normal(after[n].shape) * changed[n] for n in outs}
        fd = _fd(kernel, inputs, dim, u, v, STEP[width])
        fd_half = _fd(kernel, inputs, dim, u, v, STEP[width] / 2)
        if abs(fd - fd_half) > tol * max(abs(fd), abs(fd_half), 1.0):
            continue  # a kink between x - h u and x + h u
        tape = _tape(kernel, inputs, dim, u, v, frozenset(floats))
        scale = max(abs(fd_half), abs(tape))
        err = abs(fd_half - tape) / scale if scale > 1e-6 else 0.0
        worst, used = max(worst, err), used + 1
    if not used:
        return "not-differentiable", None, "non-smooth at these inputs (every direction crosses a kink)"
    if worst <= tol:
        return "pass", worst, f"{used} direction(s), float{8 * width} steps"
    return "fail", worst, _suspect(source, outs)


def _fd(kernel, inputs, dim: int, u: dict, v: dict, h: float) -> float:
    plus = _shifted(kernel, inputs, dim, {n: h * d for n, d in u.items()}, v)
    minus = _shifted(kernel, inputs, dim, {n: -h * d for n, d in u.items()}, v)
    return sum(float((v[n] * (plus[n] - minus[n])).sum()) for n in v) / (2 * h)


def _shifted(kernel, inputs, dim: int, shift: dict, names) -> dict:
    from curator.warp.execute import launch

    values = inputs.values(shift=shift)
    launch(kernel, values, dim)
    return {n: v.numpy().astype("float64") for n, v in zip(inputs.names, values, strict=True) if n in names}


def _tape(kernel, inputs, dim: int, u: dict, v: dict, differentiable: frozenset) -> float:
    from curator.warp.execute import launch

    wp = init_warp()
    values = inputs.values(requires_grad=differentiable)
    by_name = dict(zip(inputs.names, values, strict=True))
    tape = wp.Tape()
    with tape:
        launch(kernel, values, dim)
    for n, arr in by_name.items():  # the backward pass replays the forward: give it the inputs again
        if n in inputs.arrays:
            arr.assign(inputs.arrays[n])
    grads = {by_name[n]: wp.array(v[n].astype(by_name[n].numpy().dtype), dtype=by_name[n].dtype) for n in v}
    tape.backward(grads=grads)
    total = sum(float((by_name[n].grad.numpy().astype("float64") * d).sum()) for n, d in u.items())
    tape.zero()
    return total


def _suspect(source: str, outs: list[str]) -> str:
    """What a failure most likely is: Warp's tape cannot differentiate a kernel that reads an
    array it also overwrites (the replay in the backward pass reads the new values)."""
    read_back = [n for n in outs if re.search(rf"=[^=\n]*\b{re.escape(n)}\[", source)]
    if read_back:
        return f"reads the array(s) it overwrites ({', '.join(read_back)}): Warp's tape replays with the new values"
    return "tape gradient differs from finite differences"
