"""curator.verify.gradfindings: each construct is found in a planted kernel, only there, and a kernel with
two is counted under the first of ORDER."""

from __future__ import annotations

import pytest

from curator.verify import gradfindings as g

HEAD = "import warp as wp\n\n\n@wp.kernel\ndef k(a: wp.array(dtype=float), out: wp.array(dtype=float), n: int):\n"
BODIES = {
    "while": (
        "    i = wp.tid()\n    x = a[i]\n    while x > 0.1:\n        x = x * 0.5\n    out[i] = x\n",
        g.DYNAMIC_LOOP,
    ),
    "for_runtime": (
        "    i = wp.tid()\n    x = a[i]\n    for j in range(n):\n        x = x * 0.5\n    out[i] = x\n",
        g.DYNAMIC_LOOP,
    ),
    "for_constant": (
        "    i = wp.tid()\n    x = a[i]\n    for j in range(4):\n        x = x * 0.5\n    out[i] = x\n",
        g.OTHER,
    ),
    "for_static": (
        "    i = wp.tid()\n    x = a[i]\n    for j in range(wp.static(3)):\n        x = x * 0.5\n    out[i] = x\n",
        g.OTHER,
    ),
    "atomic_min": ("    i = wp.tid()\n    wp.atomic_min(out, 0, a[i])\n", g.ATOMIC_MINMAX),
    "component": (
        "    i = wp.tid()\n    v = wp.vec3(a[i])\n    v[1] = 2.0 * a[i]\n    out[i] = wp.length(v)\n",
        g.COMPONENT_WRITE,
    ),
    "transform_set": (
        "    i = wp.tid()\n    t = wp.transform_identity()\n"
        "    wp.transform_set_translation(t, wp.vec3(a[i]))\n"
        "    out[i] = wp.transform_get_translation(t)[0]\n",
        g.COMPONENT_WRITE,
    ),
    "read_back": ("    i = wp.tid()\n    out[i] = a[i] * a[i]\n    out[i] = wp.sin(out[i])\n", g.READ_BACK),
    "tile_scan": (
        "    i = wp.tid()\n    t = wp.tile_load(a, shape=8)\n    wp.tile_store(out, wp.tile_scan_inclusive(t))\n",
        g.MISSING_ADJOINT,
    ),
    "frac": ("    i = wp.tid()\n    out[i] = wp.frac(a[i] * 3.0)\n", g.MISSING_ADJOINT),
    "tile_max": (
        "    i = wp.tid()\n    t = wp.tile_load(a, shape=8)\n    wp.tile_store(out, wp.tile_max(t))\n",
        g.MISSING_ADJOINT,
    ),
    "floor": ("    i = wp.tid()\n    out[i] = wp.floor(a[i] * 3.0) + a[i]\n", g.OTHER),
    "furthest": (
        "    i = wp.tid()\n    q = wp.mesh_query_furthest_point_no_sign(wp.uint64(n), wp.vec3(a[i]), 1.0)\n"
        "    out[i] = q.u\n",
        g.FURTHEST_POINT,
    ),
    "indexed_store": (
        "    i = wp.tid()\n    ids = wp.tile_load(wp.array(ptr=0, shape=8, dtype=int), shape=2)\n"
        "    wp.tile_store_indexed(out, ids, wp.tile_load(a, shape=2), axis=0)\n",
        g.INDEXED_STORE,
    ),
    "inverse": (
        "    i = wp.tid()\n    m = wp.mat22(a[i], 1.0, 2.0, a[i])\n    out[i] = wp.inverse(m)[0, 0]\n",
        g.MATRIX_SOLVE,
    ),
    "plain": ("    i = wp.tid()\n    out[i] = wp.sin(a[i]) * 2.0\n", g.OTHER),
    "loop_and_atomic": (
        "    i = wp.tid()\n    x = a[i]\n    while x > 0.1:\n        x = x * 0.5\n    wp.atomic_max(out, 0, x)\n",
        g.DYNAMIC_LOOP,
    ),
}


@pytest.mark.parametrize("case", sorted(BODIES))
def test_each_planted_construct_is_found_and_counted_first_in_order(case):
    body, want = BODIES[case]
    source = HEAD + body
    compile(source, "k.py", "exec")  # the planted kernels are Python
    assert g.classify(source, "k") == want
    found = g.constructs(source, "k")
    assert found == set() if want == g.OTHER else want in found


def test_array_element_writes_are_not_component_writes():
    assert g.COMPONENT_WRITE not in g.constructs(HEAD + "    i = wp.tid()\n    out[i] = a[i]\n", "k")


def test_summary_counts_per_construct_and_category():
    rows = [
        ("while_loop", "k", HEAD + BODIES["while"][0]),
        ("atomic", "k", HEAD + BODIES["atomic_min"][0]),
        ("while_loop", "k", HEAD + BODIES["for_runtime"][0]),
        ("math", "k", HEAD + BODIES["plain"][0]),
        ("math", "k", "not python ("),
    ]
    findings = {f.construct: f for f in g.summarize(rows)}
    assert list(findings) == [g.DYNAMIC_LOOP, g.ATOMIC_MINMAX, g.OTHER]
    assert findings[g.DYNAMIC_LOOP].kernels == 2 and findings[g.DYNAMIC_LOOP].categories == [("while_loop", 2)]
    assert findings[g.OTHER].kernels == 2 and all(f.why for f in findings.values())


HEADER = """
inline CUDA_CALLABLE void adj_frac(T x, T& adj_x, T adj_ret) \\
{ \\
    /* MISSINGADJOINT: gradient is 1 between integers (subgradient at integer points) */ \\
}\\
inline CUDA_CALLABLE void adj_floor(T x, T& adj_x, T adj_ret) \\
{ \\
    /* MISSINGADJOINT: gradient is zero almost everywhere (subgradient at integer points) */ \\
}\\
template <typename Tile, typename AdjTile> void adj_tile_max(Tile& t, Tile& adj_t, AdjTile& adj_ret)
{
    // MISSINGADJOINT: subgradient: route adj_ret to the index of the maximum element
}
template <typename A, typename B>
inline CUDA_CALLABLE void
adj_tile_reduce_axis(A& a, B& adj_a, B& adj_ret)
{
    int unused = 0;
    // MISSINGADJOINT: distribute adj_ret along the reduction axis
}
inline CUDA_CALLABLE void adj_sin(T x, T& adj_x, T adj_ret) { adj_x += cos(x) * adj_ret; }
"""


def test_missing_adjoints_are_read_from_warps_headers(tmp_path, monkeypatch):
    """The parser on a planted header: an adjoint marked MISSINGADJOINT counts unless its derivative is
    zero almost everywhere (floor); templates, split signatures and the ``_axis`` variant included."""
    import importlib.util
    from types import SimpleNamespace

    (tmp_path / "warp" / "native").mkdir(parents=True)
    (tmp_path / "warp" / "native" / "planted.h").write_text(HEADER)
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: SimpleNamespace(submodule_search_locations=[str(tmp_path / "warp")])
    )
    g.missing_adjoints.cache_clear()
    try:
        assert g.missing_adjoints() == {"frac", "tile_max", "tile_reduce"}
    finally:
        g.missing_adjoints.cache_clear()


def test_the_installed_warp_leaves_frac_without_adjoint_but_not_sin():
    names = g.missing_adjoints()
    assert {"frac", "tile_reduce", "tile_scan_inclusive"} <= names and not {"sin", "floor", "mod"} & names
