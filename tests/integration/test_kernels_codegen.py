"""Generated kernels go through Warp's real CPU and CUDA codegen (a quick sample per category)."""

from __future__ import annotations

import pytest

from curator.kernels import CATEGORIES, categories_for, generate_kernel
from curator.warp.build import generate

PER_CATEGORY = 3


@pytest.mark.parametrize("category", CATEGORIES)
def test_generated_kernels_pass_codegen(category):
    for seed in range(PER_CATEGORY):
        spec = generate_kernel(seed, category)
        artifacts = generate(spec.source, spec.name, f"cur_test_{seed}_{category}")
        assert set(artifacts) == {"cpu", "cuda"}
        for device, artifact in artifacts.items():
            # overloads and factory products carry Warp's own kernel key, not spec.name
            assert f"_{device}_kernel_forward" in artifact.pieces["forward"]
            assert artifact.pieces["backward"].strip()


def test_stress_style_still_passes_codegen():
    for n, category in enumerate(categories_for("stress")):
        spec = generate_kernel(n, category, "stress")
        artifacts = generate(spec.source, spec.name, f"cur_test_stress_{n}")
        assert set(artifacts) == {"cpu", "cuda"}
        assert all(spec.name in a.pieces["forward"] for a in artifacts.values())


def test_tile_kernels_build_for_both_devices():
    # Tile shapes must not assume a block size: the CPU code is built with block_dim=1, CUDA with 256.
    for seed in range(12):
        spec = generate_kernel(seed, "tile")
        assert spec.block_dim > 0
        artifacts = generate(spec.source, spec.name, f"cur_test_tile_{seed}")
        assert set(artifacts) == {"cpu", "cuda"}
        assert all(a.pieces["forward"].strip() for a in artifacts.values())
