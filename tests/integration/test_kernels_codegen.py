"""Generated kernels go through Warp's real CPU and CUDA codegen (a quick sample per category)."""

from __future__ import annotations

import pytest

from curator.kernels import CATEGORIES, generate_kernel
from curator.warp.build import generate

PER_CATEGORY = 3


@pytest.mark.parametrize("category", CATEGORIES)
def test_generated_kernels_pass_codegen(category):
    for seed in range(PER_CATEGORY):
        spec = generate_kernel(seed, category)
        artifacts = generate(spec.source, spec.name, f"cur_test_{seed}_{category}")
        assert set(artifacts) == {"cpu", "cuda"}
        for artifact in artifacts.values():
            assert spec.name in artifact.pieces["forward"]
            assert artifact.pieces["backward"].strip()
