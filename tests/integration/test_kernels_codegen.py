"""Generated kernels go through Warp's real CPU and CUDA codegen (a quick sample per category)."""

from __future__ import annotations

import pytest

pytest.importorskip("warp")

from curator import codegen
from curator.codegen import generate
from curator.kernels import CATEGORIES, categories_for, generate_kernel

PER_CATEGORY = 3


@pytest.mark.parametrize("category", CATEGORIES)
def test_generated_kernels_pass_codegen(category):
    for seed in range(PER_CATEGORY):
        spec = generate_kernel(seed, category)
        artifacts = generate(spec.source, spec.name, f"cur_test_{seed}_{category}")
        assert set(artifacts) == {"cpu", "cuda"}
        for artifact in artifacts.values():
            assert (
                "_cpu_kernel_forward" in artifact.pieces["forward"]
                or "_cuda_kernel_forward" in (artifact.pieces["forward"])
            )
            assert artifact.pieces["backward"].strip()


def test_stress_style_still_passes_codegen():
    for n, category in enumerate(categories_for("stress")):
        spec = generate_kernel(n, category, "stress")
        assert set(generate(spec.source, spec.name, f"cur_test_stress_{n}")) == {"cpu", "cuda"}


def _build_per_device(source: str, name: str, module_name: str) -> dict[str, dict[str, str]]:
    """Build once per device with that device's options (CPU: block_dim=1), as Warp does at launch."""
    from warp._src import context

    codegen.init_warp()
    saved = dict(context.function_key_counts)
    try:
        kernel = getattr(codegen._load_module(source, module_name), name)
        out = {}
        for device in codegen.DEVICES:
            options = codegen._options(kernel.module, device)
            builder = context.ModuleBuilder(kernel.module, options, hasher=codegen._single_kernel_hasher(kernel))
            out[device] = codegen._pieces(builder, kernel, device, options)
        return out
    finally:
        codegen.release_module(module_name)
        context.function_key_counts.clear()
        context.function_key_counts.update(saved)


def test_tile_kernels_build_with_block_dim_1_on_cpu():
    # Tile shapes must not assume a block size: the CPU build uses block_dim=1, CUDA 256.
    built = 0
    for seed in range(12):
        spec = generate_kernel(seed, "tile")
        assert spec.block_dim > 0
        pieces = _build_per_device(spec.source, spec.name, f"cur_test_tile_{seed}")
        assert set(pieces) == {"cpu", "cuda"}
        assert pieces["cpu"]["forward"].strip() and pieces["cuda"]["forward"].strip()
        built += 1
    assert built == 12
