"""The adjoint check (``curator.warp.adjoint``) on planted kernels: a wrong custom gradient is a
failure; kinks, jumps and in-place updates are not (real Warp, in process, no GPU)."""

from __future__ import annotations

import itertools
import textwrap

import numpy as np
import pytest

from curator.warp import init_warp

SOURCES = {
    "smooth": """
        @wp.kernel
        def smooth(x: wp.array(dtype=float), w: wp.array(dtype=wp.vec3), y: wp.array(dtype=wp.vec3)):
            i = wp.tid()
            y[i] = wp.vec3(wp.sin(x[i]), x[i] * x[i], wp.exp(x[i])) + w[i] * wp.tanh(x[i])
    """,
    # a custom adjoint that returns the wrong derivative (3v instead of 2v)
    "wrong_grad": """
        @wp.func
        def square(v: float):
            return v * v

        @wp.func_grad(square)
        def adj_square(v: float, adj_ret: float):
            wp.adjoint[v] += 3.0 * v * adj_ret

        @wp.kernel
        def wrong_grad(x: wp.array(dtype=float), y: wp.array(dtype=float)):
            i = wp.tid()
            y[i] = square(x[i]) + x[i]
    """,
    # kinks: abs at exactly 0, clamp bounds and a floor step within the finite-difference step
    "kinks": """
        @wp.kernel
        def kinks(x: wp.array(dtype=float), y: wp.array(dtype=float)):
            i = wp.tid()
            y[i] = wp.abs(x[i]) + wp.clamp(x[i], -0.3, 0.3) + wp.floor(x[i] * 4.0 + 0.5) * 0.25 + x[i] * x[i]
    """,
    # an in-place update that another thread reads: Warp's tape does not support it
    "inplace": """
        @wp.kernel
        def inplace(x: wp.array(dtype=float), w: wp.array(dtype=float), y: wp.array(dtype=float)):
            i = wp.tid()
            j = (i + 1) % x.shape[0]
            x[i] = x[i] * 0.5 + x[j] * x[j] + w[i]
            y[i] = x[i] * 2.0
    """,
    # wp.frac: Warp 1.19 leaves its adjoint out (MISSINGADJOINT in builtin.h), its derivative is 1
    "frac_missing": """
        @wp.kernel
        def frac_missing(x: wp.array(dtype=float), y: wp.array(dtype=float)):
            i = wp.tid()
            y[i] = wp.frac(x[i] * 0.37 + 3.0) + x[i] * x[i]
    """,
    # the same kernel with frac written out: the tape is right
    "frac_written_out": """
        @wp.kernel
        def frac_written_out(x: wp.array(dtype=float), y: wp.array(dtype=float)):
            i = wp.tid()
            v = x[i] * 0.37 + 3.0
            y[i] = v - wp.trunc(v) + x[i] * x[i]
    """,
}
# "kinks" has kinks at 0 (abs), +-0.3 (clamp) and jumps at odd multiples of 0.125 (floor).  AT_KINK: one
# element exactly at the kink of abs, the others a step-size or more away (central differences
# average the two sides there, the tape takes one); NEAR_KINKS: elements within a step of them.
AT_KINK = np.array([0.0, 0.7, -0.7, 0.45, -0.2, 0.8, 0.55, -0.95], dtype=np.float32)
NEAR_KINKS = np.array([0.0, 0.304, -0.301, 0.126, 0.0, -0.7, 0.5, 0.374], dtype=np.float32)

_LOADS = itertools.count()


def _check(name: str, plant: dict | None = None, seed: int = 1):
    from curator.warp import adjoint
    from curator.warp.build import load_module, release_module
    from curator.warp.execute import launch
    from curator.warp.inputs import Inputs

    init_warp()
    source = "import warp as wp\n\n" + textwrap.dedent(SOURCES[name]).lstrip()
    module_name = f"curator_adjoint_{name}_{next(_LOADS)}"  # a module name is never loaded twice
    module = load_module(source, module_name)
    try:
        kernel = getattr(module, name)
        inputs = Inputs(kernel, source, seed)
        for array, values in (plant or {}).items():
            inputs.arrays[array].assign(values)
        launch(kernel, inputs.values(), 1)  # builds the module: the tape check reads its read/write flags
        return adjoint.adjoint_check(kernel, inputs, 1, source)
    finally:
        release_module(module_name)


def test_smooth_kernel_passes():
    status, err, note = _check("smooth")
    assert status == "pass", note
    assert err < 1e-2 and "4/4 directions" in note


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_planted_wrong_custom_gradient_fails(seed):
    status, err, note = _check("wrong_grad", seed=seed)
    assert status == "fail", note
    assert err > 0.05


def test_a_kink_exactly_at_the_inputs_is_not_a_failure():
    """The tape's one-sided derivative of abs at 0 is right: the check passes."""
    status, err, note = _check("kinks", {"x": AT_KINK})
    assert status == "pass", (status, err, note)


def test_kinks_and_jumps_within_a_step_are_not_failures():
    for seed in (1, 2, 3):
        status, err, note = _check("kinks", {"x": NEAR_KINKS}, seed=seed)
        assert status in ("pass", "not-differentiable"), (seed, status, err, note)


def test_in_place_update_read_by_another_thread_is_not_a_failure():
    """The last thread reads x[0] after thread 0 wrote it; the tape replays with the old value."""
    status, err, note = _check("inplace")
    assert status == "not-differentiable", note
    assert "writes array(s) it reads (x)" in note and err > 0.02


def test_a_builtin_warp_leaves_without_adjoint_fails_and_is_attributed():
    """What `curator report` says of such failures, checked: the kernel with ``wp.frac`` fails the
    adjoint check, the same arithmetic written out passes, and gradfindings counts the first
    under "builtin without an adjoint" because Warp's own header says so."""
    from curator import gradfindings

    missing, err, note = _check("frac_missing")
    written, _, wnote = _check("frac_written_out")
    assert missing == "fail" and err > 0.05, note
    assert written == "pass", wnote
    source = "import warp as wp\n\n" + textwrap.dedent(SOURCES["frac_missing"]).lstrip()
    assert "frac" in gradfindings.missing_adjoints()
    assert gradfindings.classify(source, "frac_missing") == gradfindings.MISSING_ADJOINT
