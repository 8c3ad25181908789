"""Generator 2, realistic style: kernels assembled from motifs of real Warp code with randomised slots."""

from __future__ import annotations

import random
from dataclasses import dataclass

from .categories import RECIPES
from .kernel import Kernel


@dataclass(frozen=True)
class Realistic:
    source: str
    launch_dim: int
    args: tuple[tuple[str, str], ...]
    block_dim: int


def generate(rng: random.Random, category: str, name: str) -> Realistic:
    """One kernel of ``category`` named ``name`` (a module-level name of the source)."""
    k = Kernel(rng, name)
    motifs, weights = RECIPES[category]
    motif = rng.choices(motifs, weights)[0]
    motif(k)
    source = k.source()
    return Realistic(source, k.launch_dim, k.args, k.block_dim)
