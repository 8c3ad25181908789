"""Stored CPU code equals the .cpp Warp itself writes to its kernel cache when it compiles and launches
the kernel on the CPU (generated kernels of every category, fixture kernels, tile kernels)."""

import re
import shutil
from pathlib import Path

import pytest

from curator.kernels import CATEGORIES, generate_kernel
from curator.warp import build, init_warp
from curator.warp import launch as warp_launch

FIXTURES = {
    "struct_helper": (
        """
import warp as wp

@wp.struct
class Particle:
    x: wp.vec3
    m: float

@wp.func
def kinetic(p: Particle, v: wp.vec3):
    return 0.5 * p.m * wp.dot(v, v)

@wp.kernel
def struct_helper(ps: wp.array(dtype=Particle), vs: wp.array(dtype=wp.vec3), e: wp.array(dtype=float)):
    i = wp.tid()
    e[i] = kinetic(ps[i], vs[i])
""",
        False,
    ),
    "block_min": (
        """
import warp as wp

@wp.kernel
def block_min(x: wp.array(dtype=float), out: wp.array(dtype=float)):
    block, lane = wp.tid()
    i = block * wp.block_dim() + lane
    v = float(1.0e30)
    if i < x.shape[0]:
        v = x[i]
    m = wp.tile_min(wp.tile(v))[0]
    if lane == 0:
        wp.atomic_min(out, 0, m)
""",
        True,
    ),
    "tile_gemm": (
        """
import warp as wp

TILE = wp.constant(4)

@wp.kernel
def tile_gemm(a: wp.array2d(dtype=float), b: wp.array2d(dtype=float), c: wp.array2d(dtype=float)):
    i, j = wp.tid()
    acc = wp.tile_zeros(shape=(TILE, TILE), dtype=float)
    for k in range(a.shape[1] // TILE):
        ta = wp.tile_load(a, shape=(TILE, TILE), offset=(i * TILE, k * TILE))
        tb = wp.tile_load(b, shape=(TILE, TILE), offset=(k * TILE, j * TILE))
        wp.tile_matmul(ta, tb, acc)
    wp.tile_store(c, acc, offset=(i * TILE, j * TILE))
""",
        True,
    ),
    "tile_map_reduce": (
        """
import warp as wp

@wp.func
def square(x: float):
    return x * x

@wp.kernel
def tile_map_reduce(x: wp.array(dtype=float), out: wp.array(dtype=float)):
    i = wp.tid()
    t = wp.tile_load(x, shape=8, offset=i * 8)
    s = wp.tile_reduce(wp.add, wp.tile_map(square, t))
    wp.tile_atomic_add(out, s)
""",
        True,
    ),
    "block_scale": (
        """
import warp as wp

@wp.kernel
def block_scale(x: wp.array(dtype=float), y: wp.array(dtype=float)):
    block, lane = wp.tid()
    i = block * wp.block_dim() + lane
    v = x[i]
    t = wp.tile(v)
    total = wp.tile_sum(t)
    y[i] = wp.untile(t) * total[0]
""",
        True,
    ),
    # Warp's test_nested_custom_grad_kernel (warp/tests/test_grad_customs.py): Warp emits custom
    # adjoints (@wp.func_grad) before the adjoints that call them; stored in builder order instead,
    # adj_nested_norm called adj_custom_norm before its definition and the CPU code did not compile
    "nested_custom_grad": (
        """
import warp as wp

@wp.func
def custom_norm(v: wp.vec3):
    return wp.length(v)

@wp.func_grad(custom_norm)
def adj_custom_norm(v: wp.vec3, adj_ret: float):
    wp.adjoint[v] += wp.normalize(v) * adj_ret

@wp.func
def nested_norm(v: wp.vec3):
    return custom_norm(v)

@wp.kernel
def nested_custom_grad(vectors: wp.array(dtype=wp.vec3), norms: wp.array(dtype=float)):
    i = wp.tid()
    norms[i] = nested_norm(vectors[i])
""",
        False,
    ),
}
# launch dims (tiles: grid of blocks) and array shapes of each fixture's arguments
FIXTURE_LAUNCH = {
    "struct_helper": (4, [(4,), (4,), (4,)]),
    "block_min": (4, [(16,), (1,)]),
    "tile_gemm": ((2, 2), [(8, 8), (8, 8), (8, 8)]),
    "tile_map_reduce": (2, [(16,), (1,)]),
    "block_scale": (4, [(16,), (16,)]),
    "nested_custom_grad": (3, [(3,), (3,)]),
}
_LINE_MARK = re.compile(r"[ \t]*<L \d+>")
_FILE_COMMENT = re.compile(r"(?m)^([ \t]*)// \S.*:(\d+)$")
_HASH_SUFFIX = re.compile(r"_[0-9a-f]{7,8}_(cpu|cuda)_")


def normalized(code: str) -> str:
    """Only what the issue allows: <L n> markers, source file comments and kernel hash suffixes."""
    code = _LINE_MARK.sub("", code)
    code = _FILE_COMMENT.sub(r"\1// FILE:\2", code)
    return _HASH_SUFFIX.sub(r"_HASH_\1_", code)


@pytest.fixture(scope="module")
def kernel_cache(tmp_path_factory):
    """Warp's kernel cache in a fresh folder for this module (restored afterwards)."""
    wp = init_warp()
    from warp._src import build

    saved = wp.config.kernel_cache_dir
    cache = tmp_path_factory.mktemp("kernel_cache")
    build.init_kernel_cache(str(cache))
    yield cache
    build.init_kernel_cache(saved)


def _cache_cpp(cache: Path, module_name: str) -> str:
    found = list(cache.rglob(f"wp_{module_name}_*.cpp"))
    assert len(found) == 1, f"Warp wrote {len(found)} .cpp files for {module_name}"
    return found[0].read_text()


def _assert_pair(cache: Path, pieces: dict, module_name: str) -> None:
    warp_cpp = normalized(_cache_cpp(cache, module_name))
    for piece, code in pieces.items():
        assert normalized(code) in warp_cpp, f"stored {piece} is not in the code Warp compiled"
    assert normalized(build.module_source("cpu", pieces)) == warp_cpp


def _by_size(category: str, seeds=range(48)) -> list:
    """A few generated kernels of the category, shortest first (the compile is the slow part)."""
    return sorted((generate_kernel(seed, category) for seed in seeds), key=lambda spec: len(spec.source))


def _launched_and_stored(source: str, name: str, module_name: str, launch) -> dict:
    """Launch the kernel on the CPU (Warp compiles it into the cache), then generate its stored pieces.
    Warp numbers @wp.func native names with a process-global counter: the launch runs with the
    counters of a fresh process, as `curator generate` builds the stored pieces."""
    from curator.warp import fresh_function_numbering

    with fresh_function_numbering():
        module, kernel = warp_launch.load_kernel(source, name, module_name)
        try:
            launch(module, kernel)
        finally:
            build.release_module(module_name)
    return build.generate(source, name, f"{module_name}_stored", ("cpu",))["cpu"].pieces


@pytest.mark.slow
@pytest.mark.parametrize("category", CATEGORIES)
def test_generated_kernel_pair_is_what_warp_compiles(kernel_cache, category):
    """The shortest kernel of the category that curator's run inputs can launch (handles of real
    meshes and volumes, textures, structs and indexed arrays included; tile kernels launch tiled
    with block_dim 1 as Warp does on the CPU); every category has one."""
    from curator.warp.inputs import Inputs, NotRunnable, release_objects
    from curator.warp.launch import launch

    module_name = f"curator_launch_{category}"
    for spec in _by_size(category):

        def run(module, kernel, spec=spec):
            launch(kernel, Inputs(kernel, spec.source, spec.seed).values(), spec.launch_dim)

        try:
            stored = _launched_and_stored(spec.source, spec.name, module_name, run)
        except NotRunnable:
            for stale in kernel_cache.rglob(f"wp_{module_name}_*"):
                shutil.rmtree(stale, ignore_errors=True)
            continue
        finally:
            release_objects()
        _assert_pair(kernel_cache, stored, module_name)
        return
    pytest.fail(f"no {category} kernel among 48 that curator's run inputs can launch")


def _launch_fixture(name: str, kernel, tiled: bool) -> None:
    wp = init_warp()
    dim, shapes = FIXTURE_LAUNCH[name]
    args = [
        wp.zeros(shape, dtype=arg.type.dtype, device="cpu") for arg, shape in zip(kernel.adj.args, shapes, strict=True)
    ]
    if tiled:
        # on the CPU Warp resolves block_dim to 1 unless wp.config.enable_cpu_blocks is set
        wp.launch_tiled(kernel, dim=dim, inputs=args, block_dim=4, device="cpu")
    else:
        wp.launch(kernel, dim=dim, inputs=args, device="cpu")
    wp.synchronize_device("cpu")


def _fixture_pair(cache: Path, name: str, module_name: str) -> dict:
    source, tiled = FIXTURES[name]
    stored = _launched_and_stored(source, name, module_name, lambda _m, kernel: _launch_fixture(name, kernel, tiled))
    _assert_pair(cache, stored, module_name)
    return stored


@pytest.mark.slow
@pytest.mark.parametrize("name", list(FIXTURES))
def test_fixture_kernel_pair_is_what_warp_compiles(kernel_cache, name):
    _fixture_pair(kernel_cache, name, f"curator_launch_{name}")


def test_the_comparison_can_fail(kernel_cache):
    """A stored piece that differs from Warp's code in anything but the allowed noise is caught."""
    module_name = "curator_launch_struct_helper"  # the fixture test's module: one compile for both
    stored = _fixture_pair(kernel_cache, "struct_helper", module_name)  # as stored: equal
    edited = stored | {"forward": stored["forward"].replace("wp::load(", "wp::load (", 1)}
    assert edited["forward"] != stored["forward"]
    with pytest.raises(AssertionError, match="forward"):
        _assert_pair(kernel_cache, edited, module_name)
