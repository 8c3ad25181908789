"""verify --mode fast on CUDA runs NVRTC's front end from the nvidia-cuda-nvrtc library
(curator/warp/nvrtc.py).  These tests prove that this library with the options curator mirrors
is the compiler Warp runs (byte-identical PTX), and that the front end alone catches the
template-level defects a whole compile catches (two real Warp 1.19 defects)."""

from __future__ import annotations

import textwrap

import pytest

from curator.warp import build, nvrtc
from curator.warp import compile as warp_compile

pytestmark = pytest.mark.slow

PLAIN = textwrap.dedent("""
    import warp as wp

    @wp.func
    def damp(v: wp.vec3, k: float):
        return v * wp.exp(-k)

    @wp.kernel
    def integrate(x: wp.array(dtype=wp.vec3), v: wp.array(dtype=wp.vec3), dt: float):
        i = wp.tid()
        x[i] = x[i] + damp(v[i], 0.1) * dt
""")

TILED = textwrap.dedent("""
    import warp as wp

    @wp.kernel
    def row_sums(a: wp.array2d(dtype=float), out: wp.array(dtype=float)):
        i = wp.tid()
        t = wp.tile_load(a[i], shape=8)
        s = wp.tile_sum(wp.tile_map(wp.abs, t))
        wp.tile_store(out, s, offset=i)
""")

# Warp 1.19 generates code for these, but it does not compile (found by `curator verify`).
ATOMIC_MIN_INDEXED = textwrap.dedent("""
    import warp as wp

    @wp.kernel
    def lowest(a: wp.indexedarray(dtype=float), x: wp.array(dtype=float)):
        i = wp.tid()
        wp.atomic_min(a, i, x[i])
""")
TILE_MAP_CLAMP = textwrap.dedent("""
    import warp as wp

    @wp.kernel
    def clamped(x: wp.array2d(dtype=float), y: wp.array2d(dtype=float)):
        a = wp.tile_load(x, shape=(2, 8))
        b = wp.tile_load(y, shape=(2, 8))
        wp.tile_store(x, wp.tile_map(wp.clamp, a, b, b))
""")


def _cuda_source(source: str, name: str) -> str:
    return build.module_source("cuda", build.generate(source, name, f"nvrtc_test_{name}")["cuda"].pieces)


def test_library_is_the_version_warp_bundles():
    assert nvrtc.version() == "{}.{}".format(*nvrtc.warp_nvrtc_version())


@pytest.mark.parametrize(("source", "name"), [(PLAIN, "integrate"), (TILED, "row_sums")], ids=["plain", "tile"])
def test_whole_compile_through_the_library_gives_warps_ptx(tmp_path, source, name):
    cu = _cuda_source(source, name)
    compiler = warp_compile.Compiler("cuda", mode="full", workdir=str(tmp_path))
    try:
        out = tmp_path / "warp.ptx"
        assert compiler.compile(cu, output=str(out)).ok
        warp_ptx = out.read_bytes().rstrip(b"\0")
    finally:
        compiler.close()
    mine = nvrtc.compile_program(cu, nvrtc.warp_options(warp_compile.DEFAULT_ARCH, 3))
    assert mine.ok, mine.log
    assert b".entry" in warp_ptx
    assert mine.ptx == warp_ptx


@pytest.mark.parametrize(
    ("source", "name", "message"),
    [
        (ATOMIC_MIN_INDEXED, "lowest", 'has no member "grad"'),
        (TILE_MAP_CLAMP, "clamped", 'no instance of overloaded function "wp::tile_map"'),
    ],
    ids=["atomic_min_indexedarray", "tile_map_clamp"],
)
def test_front_end_alone_catches_what_the_whole_compile_catches(tmp_path, source, name, message):
    cu = _cuda_source(source, name)
    results = {}
    for mode in ("full", "fast"):
        compiler = warp_compile.Compiler("cuda", mode=mode, workdir=str(tmp_path))
        try:
            results[mode] = compiler.compile(cu)
        finally:
            compiler.close()
    assert not results["full"].ok and not results["fast"].ok
    assert message in results["full"].diagnostics
    assert message in results["fast"].diagnostics
    assert "fdevice-syntax-only" in warp_compile.compiler_identity("cuda", mode="fast")[1]


def test_front_end_passes_good_code_and_names_the_line_of_a_planted_error(tmp_path):
    cu = _cuda_source(PLAIN, "integrate")
    options = [*nvrtc.warp_options(warp_compile.DEFAULT_ARCH, 3), nvrtc.SYNTAX_ONLY]
    good = nvrtc.compile_program(cu, options)
    assert good.ok and good.ptx == b""
    lines = cu.splitlines()
    n = next(i for i, ln in enumerate(lines) if "wp::mul(" in ln)
    lines[n] = lines[n].replace("wp::mul(", "wp::mull(", 1)
    bad = nvrtc.compile_program("\n".join(lines), options)
    assert not bad.ok
    assert f"kernel.cu({n + 1}): error" in bad.log
