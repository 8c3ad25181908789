"""curator.neardup.minhash makes the very bytes datasketch makes (MinHash affine32 + LeanMinHash.serialize)."""

from __future__ import annotations

import random

import pytest

from curator import neardup
from curator.neardup import minhash


def _datasketch_blob(tokens: list[str]) -> bytes:
    sketch = neardup.minhash_of_tokens(tokens)  # datasketch's own MinHash and LeanMinHash
    buf = bytearray(sketch.bytesize())
    sketch.serialize(buf)
    return bytes(buf)


def _token_lists() -> list[list[str]]:
    rng = random.Random(12)
    vocab = ["ID", "NUM", "STR", "wp", ".", "(", ")", "\n", "<IN>", "<DE>", "for", "range", "+", "=", "é", ""]
    lists = [[], ["x"], ["a", "b"], ["a"] * 10]
    lists += [[rng.choice(vocab) for _ in range(rng.randint(0, 300))] for _ in range(60)]
    return lists


@pytest.mark.parametrize("tokens", _token_lists())
def test_signature_is_datasketch_bytes(tokens):
    assert neardup.signature_of_tokens(tokens) == _datasketch_blob(tokens)


def test_signature_of_real_kernel_sources():
    from curator.kernels import CATEGORIES, generate_kernel

    for i, category in enumerate(CATEGORIES):
        tokens = neardup.normalize_tokens(generate_kernel(1000 + i, category).source)
        assert neardup.signature_of_tokens(tokens) == _datasketch_blob(tokens)


def test_permutations_are_datasketch_permutations():
    from datasketch import MinHash

    a, b = minhash.permutations(neardup.MINHASH_SEED, neardup.NUM_PERM)
    expected = MinHash(num_perm=neardup.NUM_PERM, seed=neardup.MINHASH_SEED).permutations
    assert (a == expected[0]).all() and (b == expected[1]).all()
    assert (a % 2 == 1).all()


def test_other_seed_and_size():
    from datasketch import LeanMinHash, MinHash
    from xxhash import xxh32_intdigest

    shingles = [b"a b c", b"d e f", b"g"]
    m = MinHash(num_perm=16, seed=7, hashfunc=xxh32_intdigest)
    m.update_batch(shingles)
    lean = LeanMinHash(m)
    buf = bytearray(lean.bytesize())
    lean.serialize(buf)
    assert minhash.serialized(minhash.hashvalues(shingles, 7, 16), 7) == bytes(buf)
