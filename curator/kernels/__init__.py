"""Type-directed random generator of Warp kernels (source text only; Warp is never imported)."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from .program import ProgramGen
from .themes import CATEGORIES

GENERATOR_VERSION = "1.1.0"

__all__ = ["CATEGORIES", "GENERATOR_VERSION", "KernelSpec", "generate_kernel"]


@dataclass(frozen=True)
class KernelSpec:
    name: str
    category: str
    seed: int
    source: str
    launch_dim: int
    args: tuple[tuple[str, str], ...]


def _rng_seed(seed: int, category: str) -> int:
    # sha256 rather than hash(): stable across processes and PYTHONHASHSEED values.
    digest = hashlib.sha256(f"curator-kernels:{GENERATOR_VERSION}:{seed}:{category}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def generate_kernel(seed: int, category: str) -> KernelSpec:
    """Generate one kernel of ``category``; the same (seed, category) always gives the same spec."""
    if category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r}; expected one of {', '.join(CATEGORIES)}")
    rng_seed = _rng_seed(seed, category)
    name = f"{category}_{rng_seed & 0xFFFFFF:06x}"
    gen = ProgramGen(random.Random(rng_seed), category)
    source, dim = gen.kernel(name)
    return KernelSpec(name, category, seed, source, dim, tuple(gen.args))
