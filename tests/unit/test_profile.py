"""Kernel shape figures: depth, literals, statements and long lines follow their written definitions."""

import ast

import numpy as np
import pytest

from curator.measure.profile import KernelShape, _percentile, expression_depth, kernel_shape, summarize

KERNEL = '''import warp as wp


@wp.func
def helper(a: float):
    return wp.static(2.0) * a


@wp.kernel
def k(x: wp.array(dtype=float)):
    """A docstring is not a statement."""
    i = wp.tid()
    y = x[i] * 2.0 + 1.0
    if y > 0.5:
        x[i] = wp.sin(y)
    else:
        pass
'''


@pytest.mark.parametrize(
    ("expr", "depth"),
    [
        ("a", 1),
        ("wp.pi", 1),
        ("a + b", 2),
        ("wp.sin(a + b)", 3),
        ("x[i]", 1),
        ("x[i + 1]", 2),
        ("x[i].y", 1),
        ("f(a).y", 2),
        ("wp.tid()", 1),
        ("(a, b + c)", 2),
        ("f(a, k=-b)", 3),
        ("a if c else b * 2", 3),
    ],
)
def test_expression_depth_follows_the_definition(expr, depth):
    assert expression_depth(ast.parse(expr, mode="eval").body) == depth


def test_kernel_shape_counts_by_hand():
    shape = kernel_shape(KERNEL, "k", frozenset({"mesh_query_point"}))
    # statements: i =, y =, if, x[i] =, pass (docstring excluded)
    assert shape.statements == 5
    # depths: wp.tid() 1; x[i] * 2.0 + 1.0 3; y > 0.5 2; x[i] = wp.sin(y) 2; pass has none
    assert (shape.depth_sum, shape.depth_statements) == (1 + 3 + 2 + 2, 4)
    assert shape.literals == 3  # 2.0, 1.0, 0.5 (the helper's literal is not in the kernel)
    assert shape.lines == 9 and shape.long_lines == 0  # decorator to `pass`, docstring and `else:` included
    assert shape.helpers == 1
    assert shape.uses_static and not shape.uses_tiles and not shape.uses_geometry


def test_long_lines_tiles_and_geometry():
    long_call = "    v = wp.mesh_query_point(m, p, 1.0e3)" + " " * 70 + "# long"
    src = KERNEL.replace("        pass", "        t = wp.tile_load(x, shape=8)\n" + long_call)
    shape = kernel_shape(src, "k", frozenset({"mesh_query_point"}))
    assert shape.long_lines == 1 and len(long_call) > 100
    assert shape.uses_tiles and shape.uses_geometry
    assert shape.literals == 3 + 2  # shape=8 and 1.0e3


def test_unparsable_or_kernelless_source_is_not_measured():
    assert kernel_shape("def broken(:", "k") is None
    assert kernel_shape("x = 1\n", "k") is None
    summary = summarize([None, kernel_shape(KERNEL, "k")])
    assert (summary["kernels"], summary["measured"]) == (2, 1)


def test_summarize_pools_sums_and_takes_quantiles():
    shapes = [
        KernelShape(
            statements=n,
            depth_sum=2 * n,
            depth_statements=n,
            literals=n // 2,
            lines=n + 2,
            long_lines=n % 3,
            helpers=n % 2,
            uses_static=n > 20,
            uses_tiles=False,
            uses_geometry=n == 7,
        )
        for n in (3, 7, 10, 12, 25, 40)
    ]
    s = summarize(shapes)
    stmts = [x.statements for x in shapes]
    assert s["mean_expression_depth"] == pytest.approx(2.0)
    assert s["literals_per_statement"] == pytest.approx(sum(x.literals for x in shapes) / sum(stmts))
    assert s["long_line_share"] == pytest.approx(sum(x.long_lines for x in shapes) / sum(x.lines for x in shapes))
    assert s["statements_median"] == pytest.approx(np.median(stmts))
    assert s["statements_p90"] == pytest.approx(np.percentile(stmts, 90))
    assert s["static_share"] == pytest.approx(2 / 6) and s["geometry_share"] == pytest.approx(1 / 6)


def test_percentile_matches_numpy():
    values = [5, 1, 9, 3, 3, 8, 20, 2]
    for q in (0.0, 0.5, 0.9, 1.0):
        assert _percentile(values, q) == pytest.approx(np.percentile(values, 100 * q))


def test_a_factory_kernel_stored_without_decorator_is_found_by_name():
    src = "import warp as wp\n\n\ndef made(x: wp.array(dtype=float)):\n    x[wp.tid()] = 1.0\n"
    shape = kernel_shape(src, "made")
    assert shape is not None and shape.statements == 1 and shape.literals == 1
