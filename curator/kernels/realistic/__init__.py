"""Generator 3, realistic style: kernels of one computation, assembled from motifs of real Warp code."""

from __future__ import annotations

import random
from dataclasses import dataclass

from ..dataflow import source_groups
from .categories import ALWAYS_COMPOSED, COMPANIONS, RECIPES
from .kernel import Kernel

# Share of kernels that continue with one or more companion motifs on the same thread index, as
# longer production kernels do (fused passes): it gives the statement counts a long tail.
COMPOSE_P = 0.45
# Tries at a composed kernel whose parts share their data (one data-flow group, curator.kernels.dataflow)
# before the kernel is its main motif alone.
COMPOSE_TRIES = 4


@dataclass(frozen=True)
class Realistic:
    name: str
    source: str
    launch_dim: int
    args: tuple[tuple[str, str], ...]
    block_dim: int


def generate(rng: random.Random, category: str, suffix: str) -> Realistic:
    """One kernel of ``category``, named after its main motif plus ``suffix``: one computation, whose
    composed parts read what the earlier parts computed or update the same state."""
    motifs, weights = RECIPES[category]
    motif = rng.choices(motifs, weights)[0]
    name = f"{motif.__name__}_{suffix}"
    composed = category in ALWAYS_COMPOSED or rng.random() < COMPOSE_P
    for attempt in range(COMPOSE_TRIES + 1):
        k = Kernel(rng, name)
        motif(k)
        companions = COMPANIONS.get(k.kind)
        if composed and companions and attempt < COMPOSE_TRIES:
            for extra in rng.sample(companions, min(len(companions), rng.choice((2, 3, 3, 4, 5, 6)))):
                if extra is not motif:
                    k.composing()
                    extra(k)
        k.order_params()
        source = k.source()
        if (source_groups(source) or 0) <= 1:
            break
    return Realistic(name, source, k.launch_dim, k.args, k.block_dim)
