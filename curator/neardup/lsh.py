"""Candidate near-duplicate pairs through datasketch's MinHashLSH, confirmed by the estimated
Jaccard similarity of their signatures."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from curator.neardup.signatures import MINHASH_SCHEME, MINHASH_SEED, NUM_PERM, estimated_jaccard

if TYPE_CHECKING:
    import numpy as np


def near_duplicate_pairs(hashvalues: np.ndarray, threshold: float) -> Iterator[tuple[int, int, float]]:
    """(i, j, estimated Jaccard) for i < j whose signatures are at least ``threshold`` similar.

    Candidates come from ``MinHashLSH`` (bands tuned for the threshold) and are confirmed by
    the estimated Jaccard; rows must be distinct (collapse exact duplicates first).
    """
    import numpy as np
    from datasketch import LeanMinHash, MinHashLSH

    n = len(hashvalues)
    if n < 2:
        return
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    sketches = [LeanMinHash(seed=MINHASH_SEED, hashvalues=row, scheme=MINHASH_SCHEME) for row in hashvalues]
    with lsh.insertion_session(buffer_size=max(n, 1)) as session:
        for i, m in enumerate(sketches):
            session.insert(i, m, check_duplication=False)
    for i, m in enumerate(sketches):
        cands = [j for j in lsh.query(m) if j > i]
        if not cands:
            continue
        idx = np.fromiter(cands, dtype=np.int64, count=len(cands))
        sims = estimated_jaccard(hashvalues[idx], hashvalues[i])
        keep = sims >= threshold
        for j, s in zip(idx[keep].tolist(), sims[keep].tolist(), strict=True):
            yield i, j, s


def near_reference(reference: np.ndarray, queries: np.ndarray, threshold: float) -> list[int]:
    """Indexes of the ``queries`` rows at least ``threshold`` similar (estimated Jaccard) to
    some ``reference`` row: the reference goes into a ``MinHashLSH``, each query is looked up
    and its candidates confirmed, as ``near_duplicate_pairs`` does."""
    import numpy as np
    from datasketch import LeanMinHash, MinHashLSH

    if not len(reference) or not len(queries):
        return []
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    with lsh.insertion_session(buffer_size=len(reference)) as session:
        for i, row in enumerate(reference):
            session.insert(
                i, LeanMinHash(seed=MINHASH_SEED, hashvalues=row, scheme=MINHASH_SCHEME), check_duplication=False
            )
    hits = []
    for i, row in enumerate(queries):
        cands = lsh.query(LeanMinHash(seed=MINHASH_SEED, hashvalues=row, scheme=MINHASH_SCHEME))
        if cands:
            idx = np.fromiter(cands, dtype=np.int64, count=len(cands))
            if (estimated_jaccard(reference[idx], row) >= threshold).any():
                hits.append(i)
    return hits
