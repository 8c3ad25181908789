"""MinHash signatures of token shingles: the BLOB stored with each kernel, and stored BLOBs read
back in bulk as numpy hash values."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from curator.neardup.tokens import normalize_tokens, skeleton_hash_of_tokens
from curator.records import KernelRecord

if TYPE_CHECKING:  # numpy is imported where it is used: `curator --help` stays fast
    import numpy as np

# -- MinHash signatures ------------------------------------------------------------------
NUM_PERM = 128
MINHASH_SEED = 1
SHINGLE = 5  # token n-gram length

_template = None


def _template_minhash():
    """An empty MinHash whose permutations are made once per process (the constructor is the
    cost); each signature is a copy of it, as ``MinHash.generator`` does."""
    global _template
    if _template is None:
        import xxhash
        from datasketch import MinHash

        _template = MinHash(num_perm=NUM_PERM, seed=MINHASH_SEED, hashfunc=xxhash.xxh32_intdigest)
    return _template


def shingles(tokens: list[str], n: int = SHINGLE) -> set[bytes]:
    """The distinct token n-grams (one shingle for inputs shorter than n), as bytes."""
    if len(tokens) < n:
        return {" ".join(tokens).encode()}
    return {" ".join(tokens[i : i + n]).encode() for i in range(len(tokens) - n + 1)}


def minhash_of_tokens(tokens: list[str]):
    """A LeanMinHash of the token shingles (xxhash, fixed seed, NUM_PERM permutations)."""
    from datasketch import LeanMinHash

    m = _template_minhash().copy()
    m.update_batch(list(shingles(tokens)))
    return LeanMinHash(m)


def signature(source: str) -> bytes:
    """The MinHash signature BLOB stored with each kernel (LeanMinHash.serialize)."""
    return signature_of_tokens(normalize_tokens(source))


def sign_record(record: KernelRecord) -> KernelRecord:
    """Fill in the normalised-skeleton hash and MinHash signature of a record's source."""
    tokens = normalize_tokens(record.source)
    record.skeleton_hash = skeleton_hash_of_tokens(tokens)
    record.minhash = signature_of_tokens(tokens)
    return record


def signature_of_tokens(tokens: list[str]) -> bytes:
    """The bytes of ``minhash_of_tokens(tokens)`` serialised, made without importing datasketch."""
    from curator.neardup import minhash

    return minhash.serialized(minhash.hashvalues(shingles(tokens), MINHASH_SEED, NUM_PERM), MINHASH_SEED)


# -- signatures in bulk ------------------------------------------------------------------
MINHASH_SCHEME = "affine32"  # what MinHash(seed=MINHASH_SEED) makes in datasketch 2.x
DEFAULT_THRESHOLD = 0.8


def _blob_layout() -> tuple[bytes, int]:
    """The header every stored signature starts with (seed, -num_perm, scheme code) and the
    offset of its uint32 hash values, read off a real signature so they follow datasketch."""
    blob = signature_of_tokens(["x"])
    offset = len(blob) - 4 * NUM_PERM
    return blob[:offset], offset


def hashvalues_of_blobs(blobs: Sequence[bytes | None]) -> tuple[np.ndarray, list[int]]:
    """The (n, NUM_PERM) uint32 hash values of stored signature BLOBs, parsed with numpy.

    Returns the matrix and the indexes of BLOBs that are missing or not in this curator's
    format (other seed, permutation count or scheme); their rows are zero and the caller
    recomputes them from the source.
    """
    import numpy as np

    header, offset = _blob_layout()
    size = offset + 4 * NUM_PERM
    out = np.zeros((len(blobs), NUM_PERM), dtype=np.uint32)
    valid = {i: b for i, b in enumerate(blobs) if b is not None and len(b) == size and b[:offset] == header}
    good = list(valid)
    bad = sorted(set(range(len(blobs))) - set(good)) if len(good) != len(blobs) else []
    if good:
        raw = np.frombuffer(b"".join(valid.values()), dtype=np.uint8).reshape(len(good), size)
        out[good] = raw[:, offset:].copy().view(np.dtype("=u4"))
    return out, bad


def estimated_jaccard(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Estimated Jaccard similarity of signature rows: the share of equal hash values."""
    return (a == b).mean(axis=-1)
