"""The AST categoriser of real kernels, launch dimension and argument annotations."""

import pytest

from curator.ingest import categorize


def kernel(body: str, params: str = "a: wp.array(dtype=float)") -> str:
    lines = "\n".join("    " + line for line in body.strip().splitlines())
    return f"@wp.kernel\ndef k({params}):\n    i = wp.tid()\n{lines}\n"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("t = wp.tile_load(a, shape=8)", "tile"),
        ("v = wp.volume_sample_f(vol, wp.vec3(0.0), wp.Volume.LINEAR)", "volume"),
        ("q = wp.mesh_query_point(m, wp.vec3(0.0), 1.0)\nif q.result:\n    a[i] = 1.0", "geometry"),
        ("h = wp.hash_grid_query(g, wp.vec3(0.0), 1.0)", "geometry"),
        ("s = wp.rand_init(1, i)\na[i] = wp.randf(s)", "random"),
        ("x = wp.spatial_top(wp.spatial_vector())", "spatial"),
        ("t = wp.transform_point(wp.transform_identity(), wp.vec3())", "transform"),
        ("q = wp.quat_rotate(wp.quat_identity(), wp.vec3())", "quaternion"),
        ("wp.atomic_add(a, 0, 1.0)", "atomic"),
        ("a[0] += 1.0", "atomic"),
        ("m = wp.mat33()\na[i] = wp.determinant(m)", "matrix"),
        ("a[i] = float(i & 3)", "bitwise"),
        ("for j in range(3):\n    for k in range(3):\n        a[i] = a[i]", "nested_loop"),
        ("while a[i] > 1.0:\n    a[i] = a[i] * 0.5", "while_loop"),
        ("v = wp.vec3(1.0)\na[i] = wp.length(v)", "vector"),
        ("if i > 2:\n    a[i] = 0.0", "control_flow"),
        ("a[i] = wp.sin(a[i])", "math"),
        ("a[i] = helper(a[i])", "func_call"),
        ("a[i] = a[i] * 2.0", "arithmetic"),
        ("a[i] = 1.0", "other"),
    ],
)
def test_category_follows_what_the_kernel_uses(body, expected):
    assert categorize.categorize(kernel(body)) == expected


def test_the_more_specific_feature_wins():
    # a mesh query inside a loop with vector maths is a geometry kernel
    body = "for j in range(4):\n    p = wp.vec3(1.0)\n    q = wp.mesh_query_point(m, p, 1.0)"
    assert categorize.categorize(kernel(body)) == "geometry"


def test_variable_names_do_not_count_only_warp_names():
    body = "transform = a[i]\nquat = transform\na[i] = quat"
    assert categorize.categorize(kernel(body)) == "other"


def test_struct_shown_with_the_kernel_makes_it_a_struct_kernel():
    src = "@wp.struct\nclass P:\n    x: float\n\n\n" + kernel("a[i] = 1.0", "a: wp.array(dtype=float), p: P")
    assert categorize.categorize(src) == "struct"


def test_categorize_survives_text_that_does_not_parse():
    assert categorize.categorize("def broken(:\n") == "other"


@pytest.mark.parametrize(
    ("tid", "dim"), [("i = wp.tid()", 1), ("i, j = wp.tid()", 2), ("i, j, k = wp.tid()", 3), ("pass", 1)]
)
def test_launch_dim_from_tid_unpacking(tid, dim):
    src = f"@wp.kernel\ndef k(a: wp.array(dtype=float)):\n    {tid}\n"
    assert categorize.launch_dim(src, "k") == dim


def test_launch_dim_reads_the_named_kernel_not_a_helper():
    src = "@wp.func\ndef h():\n    i, j = wp.tid()\n\n\n@wp.kernel\ndef k():\n    i, j, k = wp.tid()\n"
    assert categorize.launch_dim(src, "k") == 3
    assert categorize.launch_dim(src, "h") == 2


def test_kernel_args_are_the_annotations_as_written():
    src = "    @wp.kernel\n    def k(a: wp.array2d(dtype=wp.vec3), n: int, s):\n        pass\n"
    assert categorize.kernel_args(src, "k") == [["a", "wp.array2d(dtype=wp.vec3)"], ["n", "int"], ["s", ""]]
