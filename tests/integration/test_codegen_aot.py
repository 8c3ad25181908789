"""curator.warp.build (Warp internals) against Warp's public AOT compiler output."""

import importlib
import sys
import textwrap

import pytest

from curator import records
from curator.warp import CodegenError, build, init_warp

KERNELS = {
    "struct_func": """
        import warp as wp

        @wp.struct
        class Params:
            scale: float
            offset: wp.vec3

        @wp.func
        def helper(a: float, b: float) -> float:
            return wp.sin(a) * b

        @wp.kernel
        def k_main(x: wp.array(dtype=float), y: wp.array(dtype=wp.vec3), p: Params):
            i = wp.tid()
            v = helper(x[i], p.scale)
            y[i] = y[i] * v + p.offset
    """,
    "loops_2d": """
        import warp as wp

        @wp.kernel
        def k_main(a: wp.array2d(dtype=wp.float64), n: int):
            i, j = wp.tid()
            acc = wp.float64(0.0)
            for k in range(n):
                if k % 2 == 0:
                    acc += a[i, j] * wp.float64(k)
                else:
                    continue
            wp.atomic_add(a, i, j, acc)
    """,
    "quat_mat": """
        import warp as wp

        @wp.kernel
        def k_main(q: wp.array(dtype=wp.quat), m: wp.array(dtype=wp.mat33), out: wp.array(dtype=wp.vec3)):
            tid = wp.tid()
            r = wp.quat_rotate(q[tid], wp.vec3(1.0, 2.0, 3.0))
            out[tid] = wp.transpose(m[tid]) * r
    """,
    # Tile types are sized by block_dim: the CPU code must come from a build with block_dim=1
    # (as at CPU launch), the CUDA code from one with 256; one build for both is wrong here.
    "tile_block_min": """
        import warp as wp

        @wp.kernel
        def k_main(x: wp.array(dtype=float), out: wp.array(dtype=float)):
            block, lane = wp.tid()
            i = block * wp.block_dim() + lane
            v = float(1.0e30)
            if i < x.shape[0]:
                v = x[i]
            m = wp.tile_min(wp.tile(v))[0]
            if lane == 0:
                wp.atomic_min(out, 0, m)
    """,
}


@pytest.fixture(scope="module")
def wp():
    return init_warp()


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_pieces_match_public_aot_output(name, wp, tmp_path, monkeypatch):
    """Our pieces, in order after Warp's header, are exactly the source compile_aot_module
    writes: CPU as compiled at CPU launch (block_dim=1), CUDA as for a GPU."""
    source = textwrap.dedent(KERNELS[name]).lstrip()
    # ours first: Warp numbers @wp.func names process-wide, build.generate leaves no trace
    arts = build.generate(source, "k_main", f"curator_test_{name}")
    modname = f"aot_{name}"
    (tmp_path / f"{modname}.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module(modname)
    try:
        wp.set_module_options({"block_dim": 1}, module)
        wp.compile_aot_module(module, device="cpu", module_dir=tmp_path / "cpu")
        wp.set_module_options({"block_dim": 256}, module)
        wp.compile_aot_module(module, arch=86, module_dir=tmp_path / "cuda", use_ptx=True)
    finally:
        sys.modules.pop(modname, None)
    for device, ext in (("cpu", "cpp"), ("cuda", "cu")):
        (aot_file,) = (tmp_path / device).glob(f"*.{ext}")
        aot = build.normalize_line_comments(aot_file.read_text())
        assert build.module_source(device, arts[device].pieces) == aot
        assert arts[device].pieces["forward"].strip()
        assert arts[device].pieces["backward"].strip()
    assert arts["cpu"].pieces["args"].startswith("struct wp_args_")
    if name.startswith("tile"):
        assert arts["cpu"].pieces["forward"] != arts["cuda"].pieces["forward"]
    assert arts["cpu"].pieces["entry"].strip() and not arts["cuda"].pieces["entry"]


NO_BACKWARD = """
    import warp as wp

    @wp.kernel(enable_backward=False)
    def k_main(x: wp.array(dtype=float)):
        i = wp.tid()
        x[i] = wp.sqrt(x[i]) + 1.0
"""


@pytest.mark.parametrize("name", [*sorted(KERNELS), "no_backward"])
def test_one_codegen_splits_where_warps_forward_only_code_ends(name, wp):
    """build cuts forward from backward in one codegen_kernel call; Warp's own forward-only
    code of the kernel (what a second call gave) ends exactly at that cut."""
    from warp._src import codegen

    source = textwrap.dedent(KERNELS.get(name, NO_BACKWARD)).lstrip()
    module_name = f"curator_split_{name}"
    try:
        kernel = build.load_module(source, module_name).k_main
        for device in records.DEVICES:
            build._builder(kernel, device)
            options = build.build_options(kernel.module, device)
            full = codegen.codegen_kernel(kernel, device=device, options=options)
            args, forward, backward = build._split_kernel(kernel, device, options, full)
            forward_only = codegen.codegen_kernel(kernel, device=device, options=options | {"enable_backward": False})
            assert args + forward == forward_only
            assert args + forward + backward == full
            assert bool(backward) == (name != "no_backward")
    finally:
        build.release_module(module_name)


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_identical_kernels_give_identical_code(name, wp):
    source = textwrap.dedent(KERNELS[name]).lstrip()
    a = build.generate(source, "k_main", "curator_same_a")
    b = build.generate(source, "k_main", "curator_same_b")
    for device in records.DEVICES:
        assert a[device].pieces == b[device].pieces
        assert "<L " not in a[device].full


def test_generated_modules_are_released(wp):
    from warp._src import context

    source = textwrap.dedent(KERNELS["quat_mat"]).lstrip()
    build.generate(source, "k_main", "curator_release_me")
    assert "curator_release_me" not in sys.modules
    assert "curator_release_me" not in context.user_modules
    import linecache

    assert not [k for k in linecache.cache if "curator_release_me" in str(k)]


def test_broken_kernel_raises_codegen_error(wp):
    source = (
        "import warp as wp\n\n@wp.kernel\ndef k_main(x: wp.array(dtype=float)):\n"
        "    i = wp.tid()\n    x[i] = wp.nosuchfn(1.0)\n"
    )
    with pytest.raises(CodegenError) as info:
        build.generate(source, "k_main", "curator_broken")
    assert info.value.stage in ("build", "import")
    assert "curator_broken" not in sys.modules
