"""MinHash signatures as datasketch makes them (``MinHash`` with the default ``affine32`` scheme,
then ``LeanMinHash.serialize``), computed with numpy alone.

Importing datasketch imports its LSH module and with it scipy.integrate: about half a second of
every process that signs kernels (each generate worker), for a few lines of arithmetic.  The LSH
itself (curator.neardup) still uses datasketch; ``tests/unit/test_minhash.py`` holds the two to
the same bytes."""

from __future__ import annotations

import functools
import struct
from collections.abc import Iterable

_AFFINE32 = 1  # datasketch's code of the affine32 scheme in serialised sketches
_EMPTY = 0xFFFFFFFF  # the value of a slot no input has reached (also the largest hash)
# MurmurHash3's 32-bit finaliser, which datasketch applies to each input hash first
_FMIX32 = (16, 0x85EBCA6B, 13, 0xC2B2AE35, 16)


@functools.cache
def permutations(seed: int, num_perm: int):
    """The (a, b) uint32 vectors of the permutations h -> a*h + b (mod 2**32) that
    ``datasketch.MinHash(num_perm, seed)`` draws: odd a, then b, from numpy's RandomState(seed)."""
    import numpy as np

    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def hashvalues(shingles: Iterable[bytes], seed: int, num_perm: int):
    """The uint32 MinHash values of the shingles (xxh32 of each, finalised, permuted, minimum)."""
    import numpy as np
    from xxhash import xxh32_intdigest

    hv = np.array([xxh32_intdigest(s) for s in shingles], dtype=np.uint32).reshape(-1, 1)
    s1, m1, s2, m2, s3 = (np.uint32(c) for c in _FMIX32)
    hv = hv ^ (hv >> s1)
    hv = hv * m1
    hv = hv ^ (hv >> s2)
    hv = hv * m2
    hv = hv ^ (hv >> s3)
    a, b = permutations(seed, num_perm)
    values = np.full(num_perm, _EMPTY, dtype=np.uint32)
    if len(hv):
        values = np.minimum(values, (hv * a + b).min(axis=0))
    return values


def serialized(values, seed: int) -> bytes:
    """``LeanMinHash.serialize`` of an affine32 sketch: seed, the negated number of values, the
    scheme code, then the values as native uint32 (native alignment, as its "@qiB...I" format)."""
    n = len(values)
    return struct.pack(f"@qiB{n}I", seed, -n, _AFFINE32, *values.tolist())
