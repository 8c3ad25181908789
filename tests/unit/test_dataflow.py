"""The data-flow groups measure on hand-written kernels, and on generated kernels across categories and seeds."""

from __future__ import annotations

import ast

from curator.kernels import CATEGORIES, generate_kernel
from curator.kernels.dataflow import groups, kernel_functions, source_groups, unrelated_parts

_ONE = '''import warp as wp


@wp.kernel
def integrate(x: wp.array(dtype=wp.vec3), v: wp.array(dtype=wp.vec3), n: int, dt: float):
    """A docstring is not a statement."""
    tid = wp.tid()
    if tid >= n:
        return
    vel = v[tid] + wp.vec3(0.0, -9.8, 0.0) * dt
    x[tid] = x[tid] + vel * dt
    v[tid] = vel
'''

# Two computations sharing nothing but the thread index (and a guard): an axpy, then a polynomial.
_GLUED = """import warp as wp


@wp.kernel
def glued(a: float, xs: wp.array(dtype=float), ys: wp.array(dtype=float), src: wp.array(dtype=float),
          out: wp.array(dtype=float), n: int):
    i = wp.tid()
    if i >= n:
        return
    ys[i] = a * xs[i] + ys[i]
    t = src[i]
    out[i] = 1.0 + t * (0.5 + t * 0.25)
    wp.printf("done\\n")
"""


def _kernel(source: str) -> ast.FunctionDef:
    return kernel_functions(ast.parse(source))[0]


def test_one_computation_is_one_group_and_the_guard_and_tid_are_not_counted():
    # body indexes: 0 docstring, 1 tid, 2 guard, 3-5 the integrator
    assert groups(_kernel(_ONE)) == [[3, 4, 5]]


def test_glued_parts_are_separate_groups():
    # 0 tid, 1 guard (n joins nothing), 2 axpy, 3-4 polynomial, 5 printf of a literal (names nothing)
    assert groups(_kernel(_GLUED)) == [[2], [3, 4]]
    assert source_groups(_GLUED) == 2


def test_a_counted_guard_would_have_joined_the_parts():
    # the same kernel with its guard turned into a statement that reads n beside both parts links them
    linked = _GLUED.replace("    ys[i] = a", "    ys[i] = float(n)\n    out[i] = float(n)\n    ys[i] = a")
    assert linked != _GLUED
    assert len(groups(_kernel(linked))) == 1


def test_a_local_named_like_a_builtin_is_a_local():
    src = _ONE.replace("vel", "sum")
    assert groups(_kernel(src)) == [[3, 4, 5]]


def test_a_later_statement_that_reads_two_groups_merges_them():
    src = _GLUED.replace('    wp.printf("done\\n")', "    out[i] = out[i] + ys[i]")
    assert src != _GLUED
    assert len(groups(_kernel(src))) == 1


def test_unrelated_parts_rule():
    assert not unrelated_parts([5])
    assert not unrelated_parts([5, 1])  # a lone side statement (zeroing a second output)
    assert unrelated_parts([5, 2])
    assert unrelated_parts([5, 1, 1])


def test_generated_kernels_are_one_group():
    # the target is 85 % of kernels; the generator keeps a composed kernel only when it is one group
    counts = [source_groups(generate_kernel(seed, cat).source) for cat in CATEGORIES for seed in range(12)]
    one = sum(c == 1 for c in counts) / len(counts)
    assert one >= 0.85, one
    assert sum(c >= 3 for c in counts) / len(counts) <= 0.05


# Launched over a subset: both parts share only ``idx``, the thread index read through ``ids``.
_INDIRECT = (
    _GLUED.replace("[i]", "[idx]")
    .replace("    if i >= n:\n        return\n", "    idx = ids[i]\n    if idx < 0:\n        return\n")
    .replace("n: int):", "n: int, ids: wp.array(dtype=int)):")
)


def test_an_index_read_through_the_thread_index_is_the_thread_index():
    assert "idx = ids[i]" in _INDIRECT and "ys[idx] = a * xs[idx]" in _INDIRECT
    # 0 tid, 1 idx = ids[i] (not counted), 2 guard, 3 axpy, 4-5 polynomial, 6 printf
    assert groups(_kernel(_INDIRECT)) == [[3], [4, 5]]
    # an index also used as a value is a local like any other: it then joins the parts
    as_value = _INDIRECT.replace("1.0 + t *", "float(idx) + t *")
    assert len(groups(_kernel(as_value))) == 1
    # as is one bound twice
    rebound = _INDIRECT.replace("    t = src[idx]", "    idx = idx + 0\n    t = src[idx]")
    assert len(groups(_kernel(rebound))) == 1
