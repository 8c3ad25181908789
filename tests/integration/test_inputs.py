"""The CPU-run input builder (``curator.warp.inputs``): every parameter kind the generator writes
gets a real value, and the kernel runs (real Warp, in process, no GPU)."""

from __future__ import annotations

import textwrap

import pytest

from curator.records import kernel_id
from curator.warp import build, init_warp

SOURCES = {
    # a struct holding arrays and a nested struct; the kernel writes through the struct's array
    "struct_arrays": """
        @wp.struct
        class Material:
            ke: float
            table: wp.array(dtype=float)

        @wp.struct
        class State:
            x: wp.array(dtype=wp.vec3)
            v: wp.array(dtype=wp.vec3)
            gravity: wp.vec3
            material: Material

        @wp.kernel
        def struct_arrays(s: State, dt: float):
            i = wp.tid()
            v = s.v[i] + s.gravity * dt * s.material.table[i]
            s.x[i] = s.x[i] + v * dt * s.material.ke
    """,
    "textures": """
        @wp.kernel
        def textures(t1: wp.Texture1D, t2: wp.Texture2D, t3: wp.Texture3D, uv: wp.array(dtype=wp.vec2),
                     out: wp.array(dtype=wp.vec4), out2: wp.array(dtype=float)):
            i = wp.tid()
            out[i] = wp.texture_sample(t2, uv[i], dtype=wp.vec4)
            out2[i] = wp.texture_sample(t1, uv[i][0], dtype=float) + wp.texture_sample(t3, wp.vec3(0.5), dtype=float)
    """,
    "volumes": """
        @wp.kernel
        def volumes(vol: wp.uint64, labels: wp.uint64, flow: wp.uint64, index_grid: wp.uint64,
                    data: wp.array(dtype=float), pts: wp.array(dtype=wp.vec3), out: wp.array(dtype=float)):
            i = wp.tid()
            q = wp.volume_world_to_index(vol, pts[i])
            s = wp.volume_sample_f(vol, q, wp.Volume.LINEAR) + float(wp.volume_sample_i(labels, q))
            s += wp.volume_sample_v(flow, q, wp.Volume.LINEAR)[0]
            s += wp.volume_sample_index(index_grid, q, wp.Volume.CLOSEST, data, 0.0)
            wp.volume_store_f(vol, i, 0, 0, s)
            out[i] = s + wp.volume_lookup_f(vol, i, 0, 0)
    """,
    "views": """
        @wp.kernel
        def views(a: wp.indexedarray(dtype=float), f: wp.fabricarray(dtype=wp.vec3),
                  g: wp.indexedfabricarray(dtype=float), q: wp.fabricarray(dtype=wp.quat)):
            i = wp.tid()
            a[i] = a[i] * 2.0 + g[i]
            f[i] = wp.quat_rotate(q[i], f[i])
    """,
}


def _source(name: str) -> str:
    return "import warp as wp\n\n" + textwrap.dedent(SOURCES[name]).lstrip()


def _execute(name: str, seed: int = 1, grad: bool = False):
    from curator.warp.execute import execute

    init_warp()
    source = _source(name)
    pieces = build.generate(source, name, f"curator_inputs_{name}")["cpu"].pieces
    row = {"id": kernel_id(source), "name": name, "source": source, "launch_dim": 1}
    return execute(row, pieces, seed=seed, grad=grad)


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_every_parameter_kind_gets_a_value_and_the_kernel_runs(name):
    """Launched twice, the pair check passes, and the adjoint check gives a verdict (wp.Tape
    accepts the views, structs, textures and volumes too)."""
    result = _execute(name, grad=True)
    assert result.status == "ran", result.message
    assert result.pair_ok and result.repeatable and not result.nonfinite
    assert result.grad in ("pass", "not-differentiable"), (result.grad, result.grad_note)


def test_arrays_inside_structs_and_views_are_checksummed():
    """The checksum covers arrays held by structs and behind views: another seed, another sum."""
    for name in ("struct_arrays", "views"):
        assert _execute(name, seed=1).checksum != _execute(name, seed=2).checksum


def test_inputs_build_each_kind():
    from curator.warp.build import load_module, release_module
    from curator.warp.inputs import Inputs

    init_warp()
    module = load_module(_source("volumes"), "curator_inputs_kinds")
    try:
        inputs = Inputs(module.volumes, _source("volumes"), seed=3)
        values, held = inputs.materialize()
        handles = dict(zip(inputs.names, values, strict=True))
        assert all(isinstance(handles[n], int) and handles[n] > 0 for n in ("vol", "labels", "flow", "index_grid"))
        assert set(inputs.arrays) == {"data", "pts", "out"} and len(held) == 3
    finally:
        release_module("curator_inputs_kinds")


def test_a_2d_fabric_array_is_not_runnable_with_the_reason():
    from curator.warp.build import load_module, release_module
    from curator.warp.inputs import Inputs, NotRunnable

    init_warp()
    source = (
        "import warp as wp\n\n"
        + textwrap.dedent("""
        @wp.kernel
        def nested(a: wp.fabricarrayarray(dtype=float), y: wp.array(dtype=float)):
            i = wp.tid()
            y[i] = a[i][0]
    """).lstrip()
    )
    module = load_module(source, "curator_inputs_nested")
    try:
        with pytest.raises(NotRunnable, match="fabric"):
            Inputs(module.nested, source, seed=1)
    finally:
        release_module("curator_inputs_nested")


def test_integer_scalars_are_positive_and_arrays_have_room_for_strided_layouts():
    """A spring kernel reads indices[2 * tid + 1] and divides by an integer parameter."""
    from curator.warp.build import load_module, release_module
    from curator.warp.inputs import ROOM, SIZE, Inputs

    init_warp()
    source = (
        "import warp as wp\n\n"
        + textwrap.dedent("""
        @wp.kernel
        def springs(idx: wp.array(dtype=int), x: wp.array(dtype=float), f: wp.array(dtype=float), width: int):
            t = wp.tid()
            a = idx[t * 2 + 0]
            b = idx[t * 2 + 1]
            f[a] += (x[a] - x[b]) / float(t // width + 1)
    """).lstrip()
    )
    module = load_module(source, "curator_inputs_springs")
    try:
        for seed in range(20):
            inputs = Inputs(module.springs, source, seed=seed)
            values = dict(zip(inputs.names, inputs.values(), strict=True))
            assert 1 <= values["width"] <= SIZE
            assert values["idx"].shape == (ROOM * SIZE,) and values["idx"].numpy().max() < SIZE
    finally:
        release_module("curator_inputs_springs")
