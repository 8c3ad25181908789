"""Generator 2, realistic style: kernels assembled from motifs of real Warp code with randomised slots."""

from __future__ import annotations

import random
from dataclasses import dataclass

from .categories import ALWAYS_COMPOSED, COMPANIONS, RECIPES
from .kernel import Kernel

# Share of kernels that continue with one or two companion motifs on the same thread index,
# as longer production kernels do (fused passes): it gives the statement counts a long tail.
COMPOSE_P = 0.55


@dataclass(frozen=True)
class Realistic:
    name: str
    source: str
    launch_dim: int
    args: tuple[tuple[str, str], ...]
    block_dim: int


def generate(rng: random.Random, category: str, suffix: str) -> Realistic:
    """One kernel of ``category``, named after its main motif plus ``suffix``."""
    motifs, weights = RECIPES[category]
    motif = rng.choices(motifs, weights)[0]
    name = f"{motif.__name__}_{suffix}"
    k = Kernel(rng, name)
    motif(k)
    companions = COMPANIONS.get(k.kind)
    if companions and (category in ALWAYS_COMPOSED or rng.random() < COMPOSE_P):
        for extra in rng.sample(companions, min(len(companions), rng.choice((1, 1, 2, 3, 4)))):
            if extra is not motif:
                extra(k)
    k.order_params()
    source = k.source()
    return Realistic(name, source, k.launch_dim, k.args, k.block_dim)
