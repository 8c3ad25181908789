"""Which kernels a verification takes: a deterministic share of them, chosen by a hash of the
seed and the kernel id."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable


def in_sample(kernel_id: str, fraction: float, seed: int = 0) -> bool:
    """Whether a kernel belongs to the ``fraction`` sample of ``seed``: a hash of seed and id,
    so the choice is the same on every run and does not depend on what else is stored."""
    if fraction >= 1:
        return True
    digest = hashlib.blake2b(f"{seed}:{kernel_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") < fraction * 2**64


def sample(ids: Iterable[str], fraction: float | None, seed: int = 0) -> list[str]:
    """The ids in the sample (all of them when ``fraction`` is None), in the given order."""
    return [k for k in ids if fraction is None or in_sample(k, fraction, seed)]
