"""Random generator of Warp kernels (source text only; Warp is never imported).

Two styles: ``realistic`` (generator 2, the default) assembles kernels from motifs of real Warp
code; ``stress`` is the dense type-directed fuzzer of generator 1.1, kept byte for byte.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from .program import ProgramGen
from .realistic import generate as generate_realistic
from .realistic.categories import RECIPES
from .themes import CATEGORIES as STRESS_CATEGORIES

GENERATOR_VERSION = "3.1.0"
STRESS_VERSION = "1.1.0"  # the stress style's seeds and output are generator 1.1.0's
STYLES = ("realistic", "stress")
NEW_CATEGORIES = ("tile", "geometry", "volume", "generic", "custom_grad")
CATEGORIES: tuple[str, ...] = STRESS_CATEGORIES + NEW_CATEGORIES

__all__ = [
    "CATEGORIES",
    "GENERATOR_VERSION",
    "STYLES",
    "KernelSpec",
    "categories_for",
    "generate_kernel",
    "parse_version_label",
    "version_label",
]


@dataclass(frozen=True)
class KernelSpec:
    name: str  # a module-level name of ``source`` that is the kernel to build (a wp.Kernel)
    category: str
    seed: int
    source: str
    launch_dim: int  # launch dimensions (for tiled kernels: the grid, not counting the lane)
    args: tuple[tuple[str, str], ...]  # launch parameters; a generic kernel's concrete overload's
    block_dim: int = 0  # > 0: launch with wp.launch_tiled(..., block_dim=block_dim)
    style: str = "realistic"


def version_label(style: str) -> str:
    """What a stored kernel records as its generator version: ``3.1.0``, or ``3.1.0+stress``."""
    return GENERATOR_VERSION if style == "realistic" else f"{GENERATOR_VERSION}+{style}"


def parse_version_label(label: str) -> tuple[str, str]:
    """(version, style) of a :func:`version_label`."""
    version, _, style = label.partition("+")
    return version, style or "realistic"


def categories_for(style: str) -> tuple[str, ...]:
    """The categories a style can generate."""
    return STRESS_CATEGORIES if style == "stress" else CATEGORIES


def _rng_seed(seed: int, category: str, version: str) -> int:
    # sha256 rather than hash(): stable across processes and PYTHONHASHSEED values.
    digest = hashlib.sha256(f"curator-kernels:{version}:{seed}:{category}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def generate_kernel(seed: int, category: str, style: str = "realistic") -> KernelSpec:
    """Generate one kernel of ``category``; the same (seed, category, style) always gives the same spec."""
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; expected one of {', '.join(STYLES)}")
    allowed = categories_for(style)
    if category not in allowed:
        raise ValueError(f"unknown category {category!r} for style {style}; expected one of {', '.join(allowed)}")
    if style == "stress":
        rng_seed = _rng_seed(seed, category, STRESS_VERSION)
        name = f"{category}_{rng_seed & 0xFFFFFF:06x}"
        gen = ProgramGen(random.Random(rng_seed), category)
        source, dim = gen.kernel(name)
        return KernelSpec(name, category, seed, source, dim, tuple(gen.args), 0, style)
    rng_seed = _rng_seed(seed, category, GENERATOR_VERSION)
    made = generate_realistic(random.Random(rng_seed), category, f"{rng_seed & 0xFFFFFF:06x}")
    return KernelSpec(made.name, category, seed, made.source, made.launch_dim, made.args, made.block_dim, style)


assert set(RECIPES) <= set(CATEGORIES)
