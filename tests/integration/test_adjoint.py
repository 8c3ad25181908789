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
    from curator.warp.inputs import Inputs
    from curator.warp.launch import launch

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
    from curator.verify import gradfindings

    missing, err, note = _check("frac_missing")
    written, _, wnote = _check("frac_written_out")
    assert missing == "fail" and err > 0.05, note
    assert written == "pass", wnote
    source = "import warp as wp\n\n" + textwrap.dedent(SOURCES["frac_missing"]).lstrip()
    assert "frac" in gradfindings.missing_adjoints()
    assert gradfindings.classify(source, "frac_missing") == gradfindings.MISSING_ADJOINT


FURTHEST = """
import warp as wp

@wp.kernel
def furthest(mesh: wp.uint64, x: wp.array(dtype=wp.vec3), out: wp.array(dtype=float)):
    i = wp.tid()
    q = wp.mesh_query_furthest_point_no_sign(mesh, x[i], 0.0)
    out[i] = wp.length(x[i] - wp.mesh_eval_position(mesh, q.face, q.u, q.v))
"""


def test_warps_furthest_point_adjoint_is_the_closest_points():
    """The reproducer behind "furthest-point query" in curator report: the distance from a point to
    the corner (1, 0, 0) of the triangle (0,0,0) (1,0,0) (0,1,0), the corner furthest from it.  Its
    gradient is the unit vector from that corner, which finite differences find; Warp's tape loses
    the in-plane part (it differentiates the closest point instead)."""
    from curator.warp.build import load_module, release_module

    wp = init_warp()
    module = load_module(FURTHEST, "curator_furthest_reproducer")
    try:
        kernel = module.furthest
        corners = wp.array(np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], np.float32), dtype=wp.vec3, device="cpu")
        mesh = wp.Mesh(corners, wp.array(np.array([0, 1, 2], np.int32), dtype=int, device="cpu"))
        x0 = np.array([[0.2, 0.3, 0.4]], np.float32)

        def distance(x):
            out = wp.zeros(1, dtype=float, device="cpu", requires_grad=True)
            wp.launch(kernel, dim=1, inputs=[mesh.id, x, out], device="cpu")
            return out

        x = wp.array(x0, dtype=wp.vec3, device="cpu", requires_grad=True)
        tape = wp.Tape()
        with tape:
            out = distance(x)
        tape.backward(grads={out: wp.array([1.0], dtype=float, device="cpu")})
        h = 1e-3
        fd = [
            (
                distance(wp.array(x0 + h * e, dtype=wp.vec3, device="cpu")).numpy()[0]
                - distance(wp.array(x0 - h * e, dtype=wp.vec3, device="cpu")).numpy()[0]
            )
            / (2 * h)
            for e in np.eye(3, dtype=np.float32)
        ]
        exact = (x0[0] - [1.0, 0.0, 0.0]) / np.linalg.norm(x0[0] - [1.0, 0.0, 0.0])
        assert np.allclose(fd, exact, atol=1e-2)  # finite differences find the true gradient
        tape_grad = x.grad.numpy()[0]
        assert abs(tape_grad[2] - exact[2]) < 1e-2  # the part off the triangle's plane is right
        assert abs(tape_grad[0] - exact[0]) > 0.5  # the in-plane part is lost
    finally:
        release_module("curator_furthest_reproducer")


COMPONENT = """
import warp as wp

@wp.kernel
def overwrite(x: wp.array(dtype=float), out: wp.array(dtype=float)):
    i = wp.tid()
    v = wp.vec3(x[i], x[i] * x[i], 1.0)
    v[1] = 2.0 * x[i]
    out[i] = wp.length(v)

@wp.kernel
def accumulate(x: wp.array(dtype=float), out: wp.array(dtype=float)):
    i = wp.tid()
    v = wp.vec3(x[i], x[i] * x[i], 1.0)
    v[1] += 2.0 * x[i]
    out[i] = wp.length(v)
"""


def test_warps_adjoint_of_a_component_overwrite_still_feeds_the_value_overwritten():
    """The reproducer behind "in-place component write" in curator report: after ``v[1] = 2x`` the
    vector is (x, 2x, 1), yet Warp's tape also sends v[1]'s adjoint to the x*x it overwrote, so its
    gradient is the true one plus 4x^2/|v|.  ``+=`` is differentiated right."""
    from curator.warp.build import load_module, release_module

    wp = init_warp()
    module = load_module(COMPONENT, "curator_component_reproducer")
    try:
        x0 = 0.7
        for kernel, true_v in ((module.overwrite, (x0, 2 * x0, 1.0)), (module.accumulate, (x0, x0 * x0 + 2 * x0, 1.0))):
            x = wp.array([x0], dtype=float, device="cpu", requires_grad=True)
            out = wp.zeros(1, dtype=float, device="cpu", requires_grad=True)
            tape = wp.Tape()
            with tape:
                wp.launch(kernel, dim=1, inputs=[x, out], device="cpu")
            tape.backward(grads={out: wp.array([1.0], dtype=float, device="cpu")})
            norm = float(np.linalg.norm(true_v))
            assert abs(out.numpy()[0] - norm) < 1e-5  # the forward is right
            if kernel is module.overwrite:  # d|(x, 2x, 1)|/dx = 5x/|v|; the tape adds 4x^2/|v|
                exact = 5 * x0 / norm
                assert abs(x.grad.numpy()[0] - (exact + 4 * x0 * x0 / norm)) < 1e-4
            else:  # v = (x, x^2 + 2x, 1): (x + (x^2 + 2x)(2x + 2)) / |v|
                exact = (x0 + (x0 * x0 + 2 * x0) * (2 * x0 + 2)) / norm
                assert abs(x.grad.numpy()[0] - exact) < 1e-4
    finally:
        release_module("curator_component_reproducer")


SCATTER_MAX = """
import warp as wp

@wp.kernel
def scatter_max(x: wp.array(dtype=float), idx: wp.array(dtype=int), out: wp.array(dtype=float)):
    i = wp.tid()
    wp.atomic_max(out, idx[i], x[i] * 2.0)
"""


def test_warps_atomic_max_adjoint_keeps_the_gradient_of_a_replaced_initial_value():
    """The reproducer behind "atomic min/max" in curator report: a scatter-max into ``out``.  The
    gradient to the winning x is right; but Warp's tape passes each output element's gradient to
    its initial value even where a thread's value replaced it, where finite differences give 0."""
    from curator.warp.build import load_module, release_module

    wp = init_warp()
    module = load_module(SCATTER_MAX, "curator_atomic_max_reproducer")
    rng = np.random.default_rng(0)
    x0, out0 = rng.uniform(-1, 1, 8).astype(np.float32), rng.uniform(-1, 1, 4).astype(np.float32)
    idx = wp.array(np.array([0, 1, 0, 2, 1, 3, 3, 0], np.int32), dtype=int, device="cpu")

    def run(xv, ov):
        x = wp.array(xv, dtype=float, device="cpu", requires_grad=True)
        out = wp.array(ov, dtype=float, device="cpu", requires_grad=True)
        wp.launch(module.scatter_max, dim=8, inputs=[x, idx, out], device="cpu")
        return x, out

    try:
        tape = wp.Tape()
        with tape:
            x, out = run(x0, out0)
        tape.backward(grads={out: wp.array(np.ones(4, np.float32), dtype=float, device="cpu")})
        h = 1e-3

        def fd(which: int, n: int) -> np.ndarray:
            step = [np.zeros(8, np.float32), np.zeros(4, np.float32)]
            grads = []
            for k in range(n):
                step[which][k] = h
                a, b = run(x0 + step[0], out0 + step[1])[1], run(x0 - step[0], out0 - step[1])[1]
                grads.append((a.numpy() - b.numpy()).sum() / (2 * h))
                step[which][k] = 0.0
            return np.array(grads)

        replaced = out.numpy() != out0  # from the data: the elements some thread's value replaced
        assert replaced.any() and not replaced.all()
        assert np.allclose(x.grad.numpy(), fd(0, 8), atol=1e-2)  # the winners' gradient is right
        assert np.allclose(fd(1, 4), np.where(replaced, 0.0, 1.0), atol=1e-2)
        assert np.allclose(out.grad.numpy(), 1.0)  # the tape: 1 for every initial value, replaced or not
    finally:
        release_module("curator_atomic_max_reproducer")
