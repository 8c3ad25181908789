"""The adjoint check: Warp's backward (``wp.Tape`` on the CPU) against finite differences, as a
dot-product test along random directions: <v, J u> by finite differences against <J^T v, u>
from the tape.  docs/verification.md (section "Adjoint check") gives the method and thresholds.

Inputs are the elements of float32/float64 arrays the launch leaves unchanged, outputs the
elements it changes (float16, integer, struct and view data take no part).  The kernel runs in
its own precision.  Per direction, central differences at three steps h, h/2, h/4 must agree
(within the tolerance plus the rounding noise of the outputs): else the direction crosses a kink
or a jump (abs, floor, min/max, a branch, an integer-valued path) or is lost in rounding, and is
not judged.  A judged direction compares the Richardson extrapolation of the differences with
the tape, relative to the gradient's scale (the largest of the two and the norm of J^T v, the
typical size of <J^T v, u> for a random u: no false alarm from cancellation in the sum).  A
tape that matches a one-sided difference (a kink exactly at the inputs, where the tape takes one
side) agrees.  A disagreement in a kernel that writes an array it also reads is not a finding:
Warp's tape does not support overwriting what a kernel reads (its documented limitation, the
flags of ``wp.config.verify_autograd_array_access``); the result is "not-differentiable"."""

from __future__ import annotations

from dataclasses import dataclass

from curator.warp import init_warp

DIRECTIONS = 4
STEP = {4: 1e-2, 8: 1e-4}  # by the bytes of the inputs' float type (values are drawn from [-1, 1])
TOLERANCE = {4: 2e-2, 8: 1e-4}  # relative to the gradient's scale
EPS = {4: 2.0**-23, 8: 2.0**-52}
NOISE = 16.0  # rounding noise of a difference quotient: NOISE * eps * sum|v * f| / step


@dataclass
class _Probe:
    """One direction's evidence: central differences at h, h/2, h/4, one-sided at h/4, the tape."""

    central: tuple[float, float, float]
    forward: float
    backward: float
    tape: float
    grad_norm: float  # ||J^T v|| over the input elements
    noise: float  # rounding noise of the smallest step's quotient

    def verdict(self, tol: float) -> tuple[str, float]:
        """(smooth | kink, relative error) of this direction."""
        c1, c2, c4 = self.central
        scale = max(abs(c4), abs(self.tape), self.grad_norm, 1e-12)
        slack = tol * scale + self.noise
        if abs(c1 - c2) > slack or abs(c2 - c4) > slack:
            return "kink", 0.0  # a kink or jump within h, or rounding noise: not judged
        estimate = (4.0 * c4 - c2) / 3.0  # Richardson: the O(h^2) terms cancel
        miss = min(abs(estimate - self.tape), abs(self.forward - self.tape), abs(self.backward - self.tape))
        return "smooth", max(0.0, miss - self.noise) / scale


def _float_bytes(array) -> int | None:
    """4 or 8 for arrays of float32/float64 scalars, vectors or matrices; else None."""
    data = array.numpy()
    if data.dtype.names or data.dtype.kind != "f" or data.dtype.itemsize not in (4, 8):
        return None
    return data.dtype.itemsize


def _outputs(kernel, inputs, dim: int, shift: dict | None = None) -> dict:
    from curator.warp.launch import launch

    values = inputs.scratch(shift=shift)  # the outputs are copied out before the next launch
    launch(kernel, values, dim)
    return {n: _numpy(v) for n, v in zip(inputs.names, values, strict=True) if n in inputs.arrays}


def _numpy(array):
    """An array's contents, floats as float64 (struct and integer data as they are)."""
    data = array.numpy()
    return data.astype("float64") if data.dtype.kind == "f" else data.copy()


def adjoint_check(kernel, inputs, dim: int, source: str = "") -> tuple[str, float | None, str]:
    """(pass | fail | not-differentiable, worst relative error, note)."""
    import numpy as np

    before = {n: _numpy(a) for n, a in inputs.arrays.items()}
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
    tol, rng = TOLERANCE[width], np.random.default_rng(12345)
    errors = []
    for _ in range(DIRECTIONS):
        u = {n: rng.standard_normal(before[n].shape) * ~changed[n] for n in ins}
        v = {n: rng.standard_normal(after[n].shape) * changed[n] for n in outs}
        probe = _probe(kernel, inputs, dim, u, v, after, width, frozenset(floats))
        kind, err = probe.verdict(tol)
        if kind == "smooth":
            errors.append(err)
    if not errors:
        return "not-differentiable", None, "non-smooth at these inputs (every direction crosses a kink)"
    worst = max(errors)
    judged = f"{len(errors)}/{DIRECTIONS} directions smooth, float{8 * width}"
    if worst <= tol:
        return "pass", worst, judged
    overwritten = _reads_overwritten(kernel, inputs, dim, outs, changed, after, STEP[width])
    if overwritten:
        note = (
            f"tape not applicable: the kernel writes array(s) it reads ({', '.join(overwritten)}), which Warp's"
            f" tape does not support; finite differences disagree by {worst:.3g} ({judged})"
        )
        return "not-differentiable", worst, note
    return "fail", worst, f"tape gradient differs from finite differences ({judged}; outputs {', '.join(outs)})"


def _reads_overwritten(kernel, inputs, dim, outs: list[str], changed: dict, after: dict, h: float) -> list[str]:
    """The output arrays whose old values the kernel reads: shifting the old values of the
    elements it overwrites changes what it writes (an in-place update, Warp's tape cannot replay)."""
    import numpy as np

    found = []
    for n in outs:
        shifted = _outputs(kernel, inputs, dim, {n: h * changed[n] * np.sign(after[n] + 0.5)})
        if any(not np.array_equal(shifted[m][changed[m]], after[m][changed[m]]) for m in outs):
            found.append(n)
    return found


def _probe(kernel, inputs, dim, u: dict, v: dict, f0: dict, width: int, differentiable: frozenset) -> _Probe:
    import numpy as np

    h = STEP[width]
    central, plus, minus = [], {}, {}
    for step in (h, h / 2, h / 4):
        plus = _outputs(kernel, inputs, dim, {n: step * d for n, d in u.items()})
        minus = _outputs(kernel, inputs, dim, {n: -step * d for n, d in u.items()})
        central.append(_dot(v, plus, minus) / (2 * step))
    step = h / 4
    size = sum(float(np.abs(v[n] * f0[n]).sum()) for n in v)
    tape, norm = _tape(kernel, inputs, dim, u, v, differentiable)
    return _Probe(
        (central[0], central[1], central[2]),
        _dot(v, plus, f0) / step,
        _dot(v, f0, minus) / step,
        tape,
        norm,
        NOISE * EPS[width] * max(size, 1e-30) / step,
    )


def _dot(v: dict, a: dict, b: dict) -> float:
    return sum(float((v[n] * (a[n] - b[n])).sum()) for n in v)


def _tape(kernel, inputs, dim: int, u: dict, v: dict, differentiable: frozenset) -> tuple[float, float]:
    """(<J^T v, u>, ||J^T v|| over the input elements) from one backward pass of ``wp.Tape``."""
    from curator.warp.launch import launch

    wp = init_warp()
    values = inputs.values(requires_grad=differentiable)
    by_name = dict(zip(inputs.names, values, strict=True))
    tape = wp.Tape()
    with tape:
        launch(kernel, values, dim)
    for n, arr in by_name.items():  # the backward pass replays the forward: give it the inputs again
        if n in inputs.arrays:
            arr.assign(inputs.arrays[n])
    grads = {}
    for n in v:  # made where the array lives (Warp's default device is the GPU, where there is one)
        a = by_name[n]
        grads[a] = wp.array(v[n].astype(a.numpy().dtype), dtype=a.dtype, device=a.device)
    tape.backward(grads=grads)
    g = {n: by_name[n].grad.numpy().astype("float64") * (d != 0) for n, d in u.items()}
    tape.zero()
    total = sum(float((g[n] * d).sum()) for n, d in u.items())
    return total, sum(float((g[n] ** 2).sum()) for n in g) ** 0.5
